package l8

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// Expected strings come from Node.js's TextDecoder (the WHATWG decoder) for the
// same bytes, so Go functions decode exactly like JavaScript hosts and guests.
func TestToValidUTF8MatchesWHATWG(t *testing.T) {
	cases := map[string]string{
		"61ff62":     "a\uFFFDb",
		"61e28262":   "a\uFFFDb", // truncated 3-byte sequence: one U+FFFD
		"e282":       "\uFFFD",
		"f09f9880":   "😀",
		"f09f98":     "\uFFFD",
		"eda080":     "\uFFFD\uFFFD\uFFFD", // surrogate: ED may only be followed by 80-9F
		"c0af":       "\uFFFD\uFFFD",       // overlong
		"f4908080":   "\uFFFD\uFFFD\uFFFD\uFFFD",
		"e0a0":       "\uFFFD",
		"e080":       "\uFFFD\uFFFD",
		"f0908080ff": "\U00010000\uFFFD",
		"80bf":       "\uFFFD\uFFFD",
		"efbfbd":     "\uFFFD", // a real U+FFFD stays one
		"f8888080":   "\uFFFD\uFFFD\uFFFD\uFFFD",
		"c2":         "\uFFFD",
		"":           "",
		"68c3a9":     "hé",
	}
	for in, want := range cases {
		b, _ := hex.DecodeString(in)
		if got := toValidUTF8(string(b)); got != want {
			t.Errorf("toValidUTF8(%s) = %q, want %q", in, got, want)
		}
	}
}

// Expected pairs come from new URLSearchParams(...) in Node.js.
func TestParseQueryMatchesURLSearchParams(t *testing.T) {
	got := ParseQuery("a=1&b=x+y&&c&=v&d=%zz&e=%C3%BC%2B&f=%E2%82&g=a=b&h=%")
	want := Fields{{"a", "1"}, {"b", "x y"}, {"c", ""}, {"", "v"}, {"d", "%zz"}, {"e", "ü+"}, {"f", "\uFFFD"}, {"g", "a=b"}, {"h", "%"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("ParseQuery = %q\nwant       %q", got, want)
	}
	if got := ParseQuery(""); len(got) != 0 {
		t.Errorf("ParseQuery(\"\") = %q, want none", got)
	}
}

func TestRequestHelpers(t *testing.T) {
	req := &Request{
		Method: "GET",
		Path:   "/stock/book1",
		Query:  "name=J%C3%BCrgen+M&name=second&flag",
		Headers: Fields{
			{"l8-param-name", "book1"},
			{"l8-route", "GET /stock/:name"},
			{"l8-request-id", "r-1"},
			{"x-multi", "1"},
			{"x-multi", "2"},
		},
		Body: []byte("a\xffb"),
	}
	if v := req.Param("name"); v != "book1" {
		t.Errorf("Param = %q", v)
	}
	if v := req.Route(); v != "GET /stock/:name" {
		t.Errorf("Route = %q", v)
	}
	if v := req.RequestID(); v != "r-1" {
		t.Errorf("RequestID = %q", v)
	}
	if v := req.Header("X-Multi"); v != "1" {
		t.Errorf("Header is case-insensitive and returns the first value, got %q", v)
	}
	if v := req.Headers.Values("x-multi"); fmt.Sprint(v) != "[1 2]" {
		t.Errorf("Values = %q", v)
	}
	if v, ok := req.QueryParam("name"); !ok || v != "Jürgen M" {
		t.Errorf("QueryParam(name) = %q, %v", v, ok)
	}
	if v, ok := req.QueryParam("flag"); !ok || v != "" {
		t.Errorf("QueryParam(flag) = %q, %v; a name without = is present and empty", v, ok)
	}
	if _, ok := req.QueryParam("missing"); ok {
		t.Error("QueryParam(missing) reported present")
	}
	if v := req.Text(); v != "a\uFFFDb" {
		t.Errorf("Text = %q", v)
	}
}

func TestFieldsSetAndDelDoNotChangeSharedLists(t *testing.T) {
	orig := Fields{{"a", "1"}, {"B", "2"}, {"c", "3"}, {"b", "4"}}
	f := orig
	f.Set("b", "x")
	if want := (Fields{{"a", "1"}, {"b", "x"}, {"c", "3"}}); fmt.Sprint(f) != fmt.Sprint(want) {
		t.Errorf("Set = %q, want %q", f, want)
	}
	f.Del("A")
	if want := (Fields{{"b", "x"}, {"c", "3"}}); fmt.Sprint(f) != fmt.Sprint(want) {
		t.Errorf("Del = %q, want %q", f, want)
	}
	f.Set("new", "n")
	if f[len(f)-1] != (Field{"new", "n"}) {
		t.Errorf("Set of a new name appends, got %q", f)
	}
	if want := (Fields{{"a", "1"}, {"B", "2"}, {"c", "3"}, {"b", "4"}}); fmt.Sprint(orig) != fmt.Sprint(want) {
		t.Errorf("the original list changed: %q", orig)
	}
}

func TestErrorsCarryTheirCode(t *testing.T) {
	var err error = fmt.Errorf("saving: %w", &Error{Code: CodeDenied, Message: `state store "x" is not granted`})
	if !errors.Is(err, CodeDenied) || errors.Is(err, CodeNotFound) {
		t.Error("errors.Is must match the code of a wrapped *Error, and only it")
	}
	var hostErr *Error
	if !errors.As(err, &hostErr) || hostErr.Message != `state store "x" is not granted` {
		t.Errorf("errors.As = %v", hostErr)
	}
	var code ErrorCode
	if !errors.As(err, &code) || code != CodeDenied {
		t.Errorf("errors.As(&code) = %v", code)
	}
	if s := hostErr.Error(); s != `denied: state store "x" is not granted` {
		t.Errorf("Error() = %q", s)
	}
	if s := ErrorCode(9).String(); s != "error-code(9)" {
		t.Errorf("unknown code = %q", s)
	}
}

func TestErrorResponse(t *testing.T) {
	statuses := map[ErrorCode]int{CodeDenied: 403, CodeNotFound: 404, CodeUnavailable: 503, CodeInvalid: 400, CodeConflict: 409, CodeInternal: 500, 77: 500}
	for code, status := range statuses {
		resp := ErrorResponse(fmt.Errorf("wrapped: %w", &Error{Code: code, Message: "m"}))
		if resp.Status != status || string(resp.Body) != "wrapped: "+code.String()+": m" || resp.Headers.Get("content-type") != "text/plain" {
			t.Errorf("ErrorResponse(%v) = %d %q %q", code, resp.Status, resp.Headers, resp.Body)
		}
	}
	if resp := ErrorResponse(errors.New("plain")); resp.Status != 500 || string(resp.Body) != "plain" {
		t.Errorf("ErrorResponse(plain) = %d %q", resp.Status, resp.Body)
	}
}

func TestUnlockStatuses(t *testing.T) {
	for b, want := range []UnlockStatus{UnlockSuccess, LockDoesNotExist, LockBelongsToOthers} {
		got, err := unlockStatus(uint32(b))
		if err != nil || got != want {
			t.Errorf("unlockStatus(%d) = %v, %v", b, got, err)
		}
	}
	if names := fmt.Sprint(UnlockSuccess, LockDoesNotExist, LockBelongsToOthers); names != "success lock-does-not-exist lock-belongs-to-others" {
		t.Errorf("names = %q, want the WIT names", names)
	}
	_, err := unlockStatus(3)
	if !errors.Is(err, CodeInternal) || !strings.Contains(err.Error(), "unlock status 3") {
		t.Errorf("unknown status: %v", err)
	}
}

func TestResponseStatus(t *testing.T) {
	if s := (&Response{}).status(); s != 200 {
		t.Errorf("zero status = %d, want 200", s)
	}
	if s := (&Response{Status: 700}).status(); s != 700 {
		t.Errorf("status 700 = %d; the host, not the SDK, rejects it", s)
	}
	defer func() {
		if r := recover(); r == nil || fmt.Sprint(r) != "l8: response status -1 is out of range; use 100-599" {
			t.Errorf("negative status: recovered %v", r)
		}
	}()
	(&Response{Status: -1}).status()
}

func TestItoa(t *testing.T) {
	for _, n := range []int{0, 7, 42, -1, -9876, 1 << 40} {
		if got, want := itoa(n), fmt.Sprint(n); got != want {
			t.Errorf("itoa(%d) = %q", n, got)
		}
	}
}

func TestHandlerRegistration(t *testing.T) {
	defer func() { httpHandler, messageHandler = nil, nil }()
	if resp := serveHTTP(&Request{}); resp.Status != 500 {
		t.Errorf("no handler: %d %q", resp.Status, resp.Body)
	}
	if failed, text := deliver(&Message{}); !failed || text == "" {
		t.Error("no message handler must fail the delivery with a reason")
	}
	HandleHTTP(func(*Request) *Response { return Text(201, "x") })
	if resp := serveHTTP(&Request{}); resp.Status != 201 || resp.Headers.Get("content-type") != "text/plain; charset=utf-8" {
		t.Errorf("registered handler: %d %q", resp.Status, resp.Headers)
	}
	HandleMessage(func(*Message) error { return errors.New("bad \xff") })
	if failed, text := deliver(&Message{}); !failed || text != "bad \uFFFD" {
		t.Errorf("deliver = %v %q; error text must be valid UTF-8", failed, text)
	}
	mustPanic(t, "HandleHTTP twice", func() { HandleHTTP(func(*Request) *Response { return nil }) })
	mustPanic(t, "HandleMessage twice", func() { HandleMessage(func(*Message) error { return nil }) })
	httpHandler = func(*Request) *Response { return nil }
	mustPanic(t, "nil response", func() { serveHTTP(&Request{}) })
}

func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s did not panic", what)
		}
	}()
	f()
}
