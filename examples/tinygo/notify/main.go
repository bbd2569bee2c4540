// notify: POST /notify/:topic publishes the body to <topic> on broker
// "default" and answers 202 with the message id.
package main

import "l8.dev/l8"

func init() {
	l8.HandleHTTP(func(req *l8.Request) *l8.Response {
		id, err := l8.Publish("default", req.Param("topic"), req.Body, nil)
		if err != nil {
			return l8.ErrorResponse(err)
		}
		return l8.Text(202, id)
	})
}

func main() {}
