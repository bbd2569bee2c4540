package main

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"l8.dev/examples/pluggable/gen/components"
)

// Dapr's feature names: what this store supports beyond get/set/delete.
var stateFeatures = []string{"ETAG", "TRANSACTIONAL", "TTL"}

type entry struct {
	value   []byte
	etag    string
	expires time.Time // zero: never
}

type stateStore struct {
	components.UnimplementedStateStoreServer

	mu          sync.Mutex
	data        map[string]*entry
	version     uint64 // ETags are never reused, even after a delete
	initialized bool
}

func newStateStore() *stateStore {
	return &stateStore{data: map[string]*entry{}}
}

// etagError is how Dapr's protocol reports an ETag problem: FailedPrecondition for a
// mismatch, with a BadRequest detail naming the "etag" field.
func etagError(key, why string) error {
	st := status.New(codes.FailedPrecondition, "etag mismatch for key "+strconv.Quote(key))
	detailed, err := st.WithDetails(&errdetails.BadRequest{
		FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "etag", Description: fmt.Sprintf("etag mismatch for key %q: %s", key, why)}},
	})
	if err != nil {
		return st.Err()
	}
	return detailed.Err()
}

func (s *stateStore) checkInitialized() error {
	if !s.initialized {
		return status.Error(codes.FailedPrecondition, "memstore state store is not initialized; call Init first")
	}
	return nil
}

// current returns the live entry of key, dropping it if its TTL passed. Caller holds mu.
func (s *stateStore) current(key string) *entry {
	e, ok := s.data[key]
	if !ok {
		return nil
	}
	if !e.expires.IsZero() && time.Now().After(e.expires) {
		delete(s.data, key)
		return nil
	}
	return e
}

// etagToCheck returns the ETag a write must match, or "" when the write is unconditional:
// no ETag given, or last-write-wins asked for explicitly.
func etagToCheck(etag *components.Etag, options *components.StateOptions) string {
	if etag == nil || etag.GetValue() == "" {
		return ""
	}
	if options.GetConcurrency() == components.StateOptions_CONCURRENCY_LAST_WRITE {
		return ""
	}
	return etag.GetValue()
}

func ttlOf(metadata map[string]string) (time.Time, error) {
	raw, ok := metadata["ttlInSeconds"]
	if !ok || raw == "" {
		return time.Time{}, nil
	}
	seconds, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return time.Time{}, status.Errorf(codes.InvalidArgument, "metadata ttlInSeconds must be a whole number of seconds, got %q", raw)
	}
	if seconds <= 0 { // Dapr: -1 means "never expire"
		return time.Time{}, nil
	}
	return time.Now().Add(time.Duration(seconds) * time.Second), nil
}

// checkSet validates one set against the current data. Caller holds mu.
func (s *stateStore) checkSet(req *components.SetRequest) (time.Time, error) {
	if req.GetKey() == "" {
		return time.Time{}, status.Error(codes.InvalidArgument, "key must not be empty")
	}
	expires, err := ttlOf(req.GetMetadata())
	if err != nil {
		return time.Time{}, err
	}
	if want := etagToCheck(req.GetEtag(), req.GetOptions()); want != "" {
		cur := s.current(req.GetKey())
		if cur == nil {
			return time.Time{}, etagError(req.GetKey(), "the key does not exist")
		}
		if cur.etag != want {
			return time.Time{}, etagError(req.GetKey(), "it was changed since that ETag was read")
		}
	}
	return expires, nil
}

func (s *stateStore) applySet(req *components.SetRequest, expires time.Time) {
	s.version++
	value := append([]byte(nil), req.GetValue()...)
	s.data[req.GetKey()] = &entry{value: value, etag: strconv.FormatUint(s.version, 10), expires: expires}
}

func (s *stateStore) checkDelete(req *components.DeleteRequest) error {
	if req.GetKey() == "" {
		return status.Error(codes.InvalidArgument, "key must not be empty")
	}
	if want := etagToCheck(req.GetEtag(), req.GetOptions()); want != "" {
		cur := s.current(req.GetKey())
		if cur == nil {
			return etagError(req.GetKey(), "the key does not exist")
		}
		if cur.etag != want {
			return etagError(req.GetKey(), "it was changed since that ETag was read")
		}
	}
	return nil
}

func (s *stateStore) Init(_ context.Context, _ *components.InitRequest) (*components.InitResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.initialized = true
	return &components.InitResponse{}, nil
}

func (s *stateStore) Features(context.Context, *components.FeaturesRequest) (*components.FeaturesResponse, error) {
	return &components.FeaturesResponse{Features: stateFeatures}, nil
}

func (s *stateStore) Ping(context.Context, *components.PingRequest) (*components.PingResponse, error) {
	return &components.PingResponse{}, nil
}

func (s *stateStore) Get(_ context.Context, req *components.GetRequest) (*components.GetResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkInitialized(); err != nil {
		return nil, err
	}
	e := s.current(req.GetKey())
	if e == nil {
		return &components.GetResponse{}, nil // no ETag: the key does not exist
	}
	return &components.GetResponse{Data: e.value, Etag: &components.Etag{Value: e.etag}}, nil
}

func (s *stateStore) Set(_ context.Context, req *components.SetRequest) (*components.SetResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkInitialized(); err != nil {
		return nil, err
	}
	expires, err := s.checkSet(req)
	if err != nil {
		return nil, err
	}
	s.applySet(req, expires)
	return &components.SetResponse{}, nil
}

func (s *stateStore) Delete(_ context.Context, req *components.DeleteRequest) (*components.DeleteResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkInitialized(); err != nil {
		return nil, err
	}
	if err := s.checkDelete(req); err != nil {
		return nil, err
	}
	delete(s.data, req.GetKey())
	return &components.DeleteResponse{}, nil
}

func (s *stateStore) BulkGet(_ context.Context, req *components.BulkGetRequest) (*components.BulkGetResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkInitialized(); err != nil {
		return nil, err
	}
	items := make([]*components.BulkStateItem, 0, len(req.GetItems()))
	for _, get := range req.GetItems() {
		item := &components.BulkStateItem{Key: get.GetKey()}
		if e := s.current(get.GetKey()); e != nil {
			item.Data = e.value
			item.Etag = &components.Etag{Value: e.etag}
		}
		items = append(items, item)
	}
	return &components.BulkGetResponse{Items: items}, nil
}

// BulkSet writes items in order and stops at the first refused one (Dapr's bulk
// operations are not transactional; Transact is).
func (s *stateStore) BulkSet(_ context.Context, req *components.BulkSetRequest) (*components.BulkSetResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkInitialized(); err != nil {
		return nil, err
	}
	for _, set := range req.GetItems() {
		expires, err := s.checkSet(set)
		if err != nil {
			return nil, err
		}
		s.applySet(set, expires)
	}
	return &components.BulkSetResponse{}, nil
}

func (s *stateStore) BulkDelete(_ context.Context, req *components.BulkDeleteRequest) (*components.BulkDeleteResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkInitialized(); err != nil {
		return nil, err
	}
	for _, del := range req.GetItems() {
		if err := s.checkDelete(del); err != nil {
			return nil, err
		}
		delete(s.data, del.GetKey())
	}
	return &components.BulkDeleteResponse{}, nil
}

// transactional serves TransactionalStateStore on the same data: every ETag is checked
// before anything is written, so a transaction applies completely or not at all.
type transactional struct {
	components.UnimplementedTransactionalStateStoreServer
	store *stateStore
}

func (t *transactional) Transact(_ context.Context, req *components.TransactionalStateRequest) (*components.TransactionalStateResponse, error) {
	s := t.store
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkInitialized(); err != nil {
		return nil, err
	}
	expiries := make([]time.Time, len(req.GetOperations()))
	for i, op := range req.GetOperations() {
		switch {
		case op.GetSet() != nil:
			expires, err := s.checkSet(op.GetSet())
			if err != nil {
				return nil, err
			}
			expiries[i] = expires
		case op.GetDelete() != nil:
			if err := s.checkDelete(op.GetDelete()); err != nil {
				return nil, err
			}
		default:
			return nil, status.Errorf(codes.InvalidArgument, "operation %d is neither a set nor a delete", i)
		}
	}
	for i, op := range req.GetOperations() {
		if set := op.GetSet(); set != nil {
			s.applySet(set, expiries[i])
		} else {
			delete(s.data, op.GetDelete().GetKey())
		}
	}
	return &components.TransactionalStateResponse{}, nil
}
