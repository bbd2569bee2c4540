package l8

// Message is a pub/sub message delivered to a subscriber (WIT `message`).
type Message struct {
	// ID is the broker-assigned id, the same one Publish returned.
	ID string
	// Broker is the name of the pub/sub component the message came from.
	Broker   string
	Topic    string
	Data     []byte
	Metadata Fields
}

var messageHandler func(msg *Message) error

// HandleMessage registers the function's message handler, for the
// subscriptions in its manifest. Call it once, from an init function.
// Returning an error makes the host retry the message with backoff and
// finally dead-letter it with the error text.
func HandleMessage(handler func(msg *Message) error) {
	if handler == nil {
		panic("l8: HandleMessage called with a nil handler")
	}
	if messageHandler != nil {
		panic("l8: HandleMessage called twice; a function has one message handler, which can switch on msg.Topic")
	}
	messageHandler = handler
}

// deliver runs the registered handler and says whether it failed, and why.
func deliver(msg *Message) (failed bool, text string) {
	if messageHandler == nil {
		return true, "this function has no message handler: call l8.HandleMessage from an init function (main never runs in a -buildmode=c-shared module)"
	}
	err := messageHandler(msg)
	if err == nil {
		return false, ""
	}
	// The host requires UTF-8; an error built from binary data must not turn
	// a clean failure into a trap.
	return true, toValidUTF8(err.Error())
}
