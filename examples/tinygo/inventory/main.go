// inventory: GET /inventory?name=X asks the stock function (through invoke,
// not the network) how many X there are.
package main

import (
	"errors"
	"strconv"

	"l8.dev/l8"
)

func init() {
	l8.HandleHTTP(func(req *l8.Request) *l8.Response {
		name, _ := req.QueryParam("name")
		if name == "" {
			return l8.Text(400, "missing query parameter 'name'")
		}
		resp, err := l8.Invoke("stock", &l8.Request{Method: "GET", Path: "/stock/" + name})
		if err != nil {
			return l8.Text(502, "stock is unavailable: "+messageOf(err))
		}
		switch resp.Status {
		case 200:
			return l8.Text(200, "There are "+string(resp.Body)+" inventories for "+name+".")
		case 404:
			return l8.Text(404, "There is no inventory for "+name+".")
		}
		return l8.Text(502, "stock is unavailable: it answered "+strconv.Itoa(resp.Status)+": "+string(resp.Body))
	})
}

// messageOf returns the host's message without the "<code>: " prefix.
func messageOf(err error) string {
	var hostErr *l8.Error
	if errors.As(err, &hostErr) {
		return hostErr.Message
	}
	return err.Error()
}

func main() {}
