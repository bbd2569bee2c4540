// audit: appends "<message id> <data>\n" to state key "audit" for every
// stock-changed message, and shows the log on GET /audit.
package main

import "l8.dev/l8"

func init() {
	l8.HandleMessage(func(msg *l8.Message) error {
		// Read, append, write: two deliveries at the same moment could lose a
		// line; the demo accepts that (a real audit log would use a list).
		log, _, err := l8.StateGet("default", "audit")
		if err != nil {
			return err
		}
		return l8.StateSet("default", "audit", []byte(string(log)+msg.ID+" "+string(msg.Data)+"\n"))
	})
	l8.HandleHTTP(func(req *l8.Request) *l8.Response {
		log, _, err := l8.StateGet("default", "audit")
		if err != nil {
			return l8.ErrorResponse(err)
		}
		return &l8.Response{Status: 200, Headers: l8.Fields{{Name: "content-type", Value: "text/plain; charset=utf-8"}}, Body: log}
	})
}

func main() {}
