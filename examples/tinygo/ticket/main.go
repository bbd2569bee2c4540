// ticket (ABI 0.2): hands out numbered tickets per queue, one request at a time.
//
//	POST /ticket/:queue  takes lock queue/<queue> in lock store "default" for
//	                     5 s (owner: this request's id); if someone else holds
//	                     it, 409 "queue <queue> is busy"; otherwise the next id
//	                     of key <queue> from sequencer "default", then unlock
//	                     and 200 "ticket <id>"
//
// Failed host calls answer their error's status (l8.ErrorResponse).
package main

import (
	"strconv"

	"l8.dev/l8"
)

const (
	lockStore = "default"
	sequencer = "default"
	// Long enough for one sequencer call; short enough that a crashed request
	// does not block the queue for long.
	leaseSeconds = 5
)

func init() {
	l8.HandleHTTP(func(req *l8.Request) *l8.Response {
		queue := req.Param("queue")
		// The host gives every request a unique id: a natural owner that no
		// other request can unlock by accident.
		owner := req.RequestID()
		resource := "queue/" + queue
		taken, err := l8.TryLock(lockStore, resource, owner, leaseSeconds)
		if err != nil {
			return l8.ErrorResponse(err)
		}
		if !taken {
			return l8.Text(409, "queue "+queue+" is busy")
		}
		id, err := l8.NextID(sequencer, queue)
		// Unlock whether or not the sequencer answered, so a failure does not
		// block the queue for the rest of the lease. A lease that ran out
		// meanwhile (any status but success) does not void the ticket: the
		// sequencer alone keeps ids unique.
		_, unlockErr := l8.Unlock(lockStore, resource, owner)
		if err != nil {
			return l8.ErrorResponse(err)
		}
		if unlockErr != nil {
			return l8.ErrorResponse(unlockErr)
		}
		return l8.Text(200, "ticket "+strconv.FormatUint(id, 10))
	})
}

func main() {}
