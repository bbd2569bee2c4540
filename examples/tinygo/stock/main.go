// stock: the demo's stock service.
//
//	PUT /stock/:name  body = a non-negative decimal integer; stores it in state
//	                  "default" under stock/<name>, publishes "<name>=<count>"
//	                  to stock-changed on broker "default", answers the count
//	                  with header x-message-id
//	GET /stock/:name  the stored count, or 404
package main

import (
	"strconv"

	"l8.dev/l8"
)

func init() {
	l8.HandleHTTP(func(req *l8.Request) *l8.Response {
		name := req.Param("name")
		switch req.Method {
		case "PUT":
			return put(name, req)
		case "GET":
			return get(name)
		}
		return l8.Text(405, "stock answers GET and PUT, not "+req.Method).WithHeader("allow", "GET, PUT")
	})
}

func put(name string, req *l8.Request) *l8.Response {
	count, ok := parseCount(req.Body)
	if !ok {
		return l8.Text(400, "stock count must be a non-negative integer, got '"+req.Text()+"'")
	}
	if err := l8.StateSet("default", "stock/"+name, []byte(count)); err != nil {
		return l8.ErrorResponse(err)
	}
	id, err := l8.Publish("default", "stock-changed", []byte(name+"="+count), nil)
	if err != nil {
		return l8.ErrorResponse(err)
	}
	return l8.Text(200, count).WithHeader("x-message-id", id)
}

func get(name string) *l8.Response {
	count, found, err := l8.StateGet("default", "stock/"+name)
	if err != nil {
		return l8.ErrorResponse(err)
	}
	if !found {
		return l8.Text(404, "no stock recorded for "+name)
	}
	return l8.Text(200, string(count))
}

// parseCount accepts ASCII digits only (no sign, no spaces) that fit in 64
// bits, and returns the count in canonical form ("007" is stored as "7").
func parseCount(body []byte) (string, bool) {
	if len(body) == 0 {
		return "", false
	}
	for _, c := range body {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	n, err := strconv.ParseUint(string(body), 10, 64)
	if err != nil {
		return "", false
	}
	return strconv.FormatUint(n, 10), true
}

func main() {}
