package main

import (
	"context"
	"strconv"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"l8.dev/examples/pluggable/gen/components"
)

// A nacked message waits this long before it is offered again, so a subscriber that
// keeps failing does not spin.
const redeliveryDelay = 100 * time.Millisecond

type message struct {
	data        []byte
	metadata    map[string]string
	contentType string
	// deliveryID changes on every delivery, so a late ack of an earlier delivery is ignored.
	deliveryID string
}

// group is one consumer group of one topic. It exists from its first subscriber on and
// keeps collecting messages while no subscriber is connected. One message is in flight
// at a time, which keeps every message in publish order, redeliveries included.
type group struct {
	queue    []*message
	inflight *message
	owner    *struct{} // the stream that holds inflight; nil while a nacked message waits
}

// broker is an in-memory pub/sub with consumer groups and at-least-once delivery: a
// message leaves its group only when a subscriber acknowledges it without an error.
type broker struct {
	components.UnimplementedPubSubServer

	mu     sync.Mutex
	cond   *sync.Cond
	topics map[string]map[string]*group
	seq    uint64
}

func newBroker() *broker {
	b := &broker{topics: map[string]map[string]*group{}}
	b.cond = sync.NewCond(&b.mu)
	return b
}

func (b *broker) Init(context.Context, *components.PubSubInitRequest) (*components.PubSubInitResponse, error) {
	return &components.PubSubInitResponse{}, nil
}

func (b *broker) Features(context.Context, *components.FeaturesRequest) (*components.FeaturesResponse, error) {
	return &components.FeaturesResponse{}, nil
}

func (b *broker) Ping(context.Context, *components.PingRequest) (*components.PingResponse, error) {
	return &components.PingResponse{}, nil
}

func (b *broker) publish(topic string, data []byte, meta map[string]string, contentType string) error {
	if topic == "" {
		return status.Error(codes.InvalidArgument, "topic must not be empty")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, g := range b.topics[topic] {
		copied := make(map[string]string, len(meta))
		for k, v := range meta {
			copied[k] = v
		}
		g.queue = append(g.queue, &message{data: append([]byte(nil), data...), metadata: copied, contentType: contentType})
	}
	b.cond.Broadcast()
	return nil
}

func (b *broker) Publish(_ context.Context, req *components.PublishRequest) (*components.PublishResponse, error) {
	if err := b.publish(req.GetTopic(), req.GetData(), req.GetMetadata(), req.GetContentType()); err != nil {
		return nil, err
	}
	return &components.PublishResponse{}, nil
}

func (b *broker) BulkPublish(_ context.Context, req *components.BulkPublishRequest) (*components.BulkPublishResponse, error) {
	response := &components.BulkPublishResponse{}
	for _, entry := range req.GetEntries() {
		meta := map[string]string{}
		for k, v := range req.GetMetadata() {
			meta[k] = v
		}
		for k, v := range entry.GetMetadata() {
			meta[k] = v
		}
		if err := b.publish(req.GetTopic(), entry.GetEvent(), meta, entry.GetContentType()); err != nil {
			response.FailedEntries = append(response.FailedEntries, &components.BulkPublishResponseFailedEntry{EntryId: entry.GetEntryId(), Error: err.Error()})
		}
	}
	return response, nil
}

// PullMessages serves one subscriber: the first request names the topic (and the
// consumer group in its metadata, "consumerID"); later requests acknowledge deliveries.
func (b *broker) PullMessages(stream grpc.BidiStreamingServer[components.PullMessagesRequest, components.PullMessagesResponse]) error {
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	topic := first.GetTopic().GetName()
	if topic == "" {
		return status.Error(codes.InvalidArgument, "the first PullMessages request must name the topic")
	}
	groupName := first.GetTopic().GetMetadata()["consumerID"]
	if groupName == "" {
		groupName = "default"
	}

	b.mu.Lock()
	groups := b.topics[topic]
	if groups == nil {
		groups = map[string]*group{}
		b.topics[topic] = groups
	}
	g := groups[groupName]
	if g == nil {
		g = &group{}
		groups[groupName] = g
	}
	b.mu.Unlock()
	// Headers tell the runtime the group exists: messages published from now on reach it.
	if err := stream.SendHeader(metadata.Pairs("memstore-subscribed", topic)); err != nil {
		return err
	}

	me := &struct{}{}
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	go func() { // wakes the sender when the stream ends
		<-ctx.Done()
		b.mu.Lock()
		b.cond.Broadcast()
		b.mu.Unlock()
	}()
	go func() { // acknowledgements
		defer cancel()
		for {
			ack, err := stream.Recv()
			if err != nil {
				return
			}
			b.mu.Lock()
			if g.owner == me && g.inflight != nil && g.inflight.deliveryID == ack.GetAckMessageId() {
				if ack.GetAckError() == nil {
					g.inflight, g.owner = nil, nil
				} else {
					b.redeliverLater(g)
				}
				b.cond.Broadcast()
			}
			b.mu.Unlock()
		}
	}()

	b.mu.Lock()
	defer func() {
		// A message in flight when the subscriber left goes to the next one.
		if g.owner == me {
			g.queue = append([]*message{g.inflight}, g.queue...)
			g.inflight, g.owner = nil, nil
			b.cond.Broadcast()
		}
		b.mu.Unlock()
	}()
	for ctx.Err() == nil {
		if g.inflight != nil || len(g.queue) == 0 {
			b.cond.Wait()
			continue
		}
		m := g.queue[0]
		g.queue = g.queue[1:]
		b.seq++
		m.deliveryID = strconv.FormatUint(b.seq, 10)
		g.inflight, g.owner = m, me
		b.mu.Unlock()
		err := stream.Send(&components.PullMessagesResponse{Data: m.data, TopicName: topic, Metadata: m.metadata, ContentType: m.contentType, Id: m.deliveryID})
		b.mu.Lock()
		if err != nil {
			return err
		}
	}
	return nil
}

// redeliverLater puts the nacked in-flight message back at the head of its group after
// redeliveryDelay, keeping the slot taken meanwhile so nothing overtakes it. Caller holds mu.
func (b *broker) redeliverLater(g *group) {
	m := g.inflight
	g.owner = nil
	time.AfterFunc(redeliveryDelay, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if g.inflight == m && g.owner == nil {
			g.queue = append([]*message{m}, g.queue...)
			g.inflight = nil
			b.cond.Broadcast()
		}
	})
}
