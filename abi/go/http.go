package l8

// Request is an HTTP request as a function sees it (WIT `request`).
type Request struct {
	// Method is upper case, e.g. "GET".
	Method string
	// Path is the path without the query string, e.g. "/stock/book1".
	Path string
	// Query is the raw query string without the leading "?", "" when absent.
	// Use QueryParam for decoded values.
	Query string
	// Headers arrive with lower-case names. Route parameters arrive as
	// `l8-param-<name>` headers, the matched route as `l8-route` and the
	// request id as `l8-request-id`.
	Headers Fields
	Body    []byte
}

// Header returns the first value of the named header, or "".
func (r *Request) Header(name string) string { return r.Headers.Get(name) }

// Param returns the route parameter name (":name" in the function's route),
// which the host passes as the header `l8-param-<name>`; "" if absent.
func (r *Request) Param(name string) string { return r.Headers.Get("l8-param-" + name) }

// Route returns the route pattern that matched, e.g. "GET /stock/:name".
func (r *Request) Route() string { return r.Headers.Get("l8-route") }

// RequestID returns the id the host gave this request (also in its logs).
func (r *Request) RequestID() string { return r.Headers.Get("l8-request-id") }

// QueryParam returns the first value of the query parameter name, decoded as
// application/x-www-form-urlencoded, and whether it was present.
func (r *Request) QueryParam(name string) (string, bool) {
	return ParseQuery(r.Query).Lookup(name)
}

// QueryParams returns every query parameter, decoded and in order.
func (r *Request) QueryParams() Fields { return ParseQuery(r.Query) }

// Text returns the body decoded as UTF-8; invalid bytes become U+FFFD the way
// the WHATWG Encoding standard (and so every browser and Node.js) decodes them.
func (r *Request) Text() string { return toValidUTF8(string(r.Body)) }

// Response is what a handler answers (WIT `response`).
type Response struct {
	// Status must be 100-599; 0 means 200, as in net/http.
	Status  int
	Headers Fields
	Body    []byte
}

// Text returns a response with the given status, the body text and
// content-type text/plain; charset=utf-8.
func Text(status int, text string) *Response {
	return &Response{
		Status:  status,
		Headers: Fields{{Name: "content-type", Value: "text/plain; charset=utf-8"}},
		Body:    []byte(text),
	}
}

// WithHeader adds a header and returns the response, for chaining:
// l8.Text(200, id).WithHeader("x-message-id", id).
func (r *Response) WithHeader(name, value string) *Response {
	r.Headers.Add(name, value)
	return r
}

var httpHandler func(req *Request) *Response

// HandleHTTP registers the function's HTTP handler. Call it once, from an
// init function: a reactor module never runs main. The handler sees every
// request routed to the function and routes by req.Method and req.Path (or
// req.Route()) itself. A panic in it traps the module, which the host answers
// with 500.
func HandleHTTP(handler func(req *Request) *Response) {
	if handler == nil {
		panic("l8: HandleHTTP called with a nil handler")
	}
	if httpHandler != nil {
		panic("l8: HandleHTTP called twice; a function has one HTTP handler, which routes by req.Method and req.Path")
	}
	httpHandler = handler
}

// serveHTTP runs the registered handler.
func serveHTTP(req *Request) *Response {
	if httpHandler == nil {
		return Text(500, "this function has no HTTP handler: call l8.HandleHTTP from an init function (main never runs in a -buildmode=c-shared module)")
	}
	resp := httpHandler(req)
	if resp == nil {
		panic("l8: the HTTP handler returned a nil *l8.Response; return one, e.g. l8.Text(204, \"\")")
	}
	return resp
}

// status returns the status to send: 0 becomes 200; values that do not fit the
// ABI's u16 panic here, values that fit but are not 100-599 are left for the
// host to reject with a message naming them.
func (r *Response) status() uint32 {
	s := r.Status
	if s == 0 {
		return 200
	}
	if s < 0 || s > 0xffff {
		panic("l8: response status " + itoa(s) + " is out of range; use 100-599")
	}
	return uint32(s)
}
