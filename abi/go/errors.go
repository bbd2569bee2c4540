package l8

// ErrorCode says why a host call failed. The values are the WIT enum
// `error-code` of l8:faas and travel as one byte.
//
// An ErrorCode is itself an error, and every [*Error] unwraps to its code, so
// errors.Is(err, l8.CodeNotFound) tests the code of any error returned by this
// package (the same way syscall.Errno works).
type ErrorCode uint8

const (
	// CodeDenied: the manifest does not grant this store, topic, config key
	// or target function.
	CodeDenied ErrorCode = 0
	// CodeNotFound: no such component (store, broker) or function.
	CodeNotFound ErrorCode = 1
	// CodeUnavailable: the backend is down or timed out; retrying later may work.
	CodeUnavailable ErrorCode = 2
	// CodeInvalid: an argument was rejected (too large, empty name, bad UTF-8).
	CodeInvalid ErrorCode = 3
	// CodeConflict: a concurrent write won (optimistic concurrency).
	CodeConflict ErrorCode = 4
	// CodeInternal: anything else; the message says what.
	CodeInternal ErrorCode = 5
)

var codeNames = [...]string{"denied", "not-found", "unavailable", "invalid", "conflict", "internal"}

// String returns the code's WIT name, e.g. "not-found".
func (c ErrorCode) String() string {
	if int(c) < len(codeNames) {
		return codeNames[c]
	}
	// A newer host may add codes; keep them distinguishable.
	return "error-code(" + itoa(int(c)) + ")"
}

// Error makes a code usable as a target of errors.Is.
func (c ErrorCode) Error() string { return c.String() }

// HTTPStatus is the HTTP status L8 functions answer for this code:
// denied 403, not-found 404, unavailable 503, invalid 400, conflict 409,
// internal (and unknown codes) 500.
func (c ErrorCode) HTTPStatus() int {
	switch c {
	case CodeDenied:
		return 403
	case CodeNotFound:
		return 404
	case CodeUnavailable:
		return 503
	case CodeInvalid:
		return 400
	case CodeConflict:
		return 409
	}
	return 500
}

// Error is a failed host call: a code and the host's message, which says what
// was wrong and how to fix it.
type Error struct {
	Code    ErrorCode
	Message string
}

// Error formats as "<code>: <message>", e.g.
// `denied: state store "secret" is not granted to function "stock"; ...`.
func (e *Error) Error() string { return e.Code.String() + ": " + e.Message }

// Unwrap returns the code, so errors.Is(err, l8.CodeDenied) works.
func (e *Error) Unwrap() error { return e.Code }

// ErrorResponse turns an error into the response L8 functions conventionally
// answer: the status of its [ErrorCode] (see [ErrorCode.HTTPStatus]) and the
// body "<code>: <message>" as text/plain. Errors that are not from the host
// become 500 with their text.
func ErrorResponse(err error) *Response {
	status := 500
	var code ErrorCode
	if asCode(err, &code) {
		status = code.HTTPStatus()
	}
	return &Response{
		Status: status,
		// Exactly what every SDK answers host errors with
		// (test/conformance/README.md), so functions agree across languages.
		Headers: Fields{{Name: "content-type", Value: "text/plain"}},
		Body:    []byte(toValidUTF8(err.Error())),
	}
}

// asCode finds the ErrorCode in err's chain. A type switch is enough here;
// errors.As would bring reflection into every module.
func asCode(err error, code *ErrorCode) bool {
	for err != nil {
		switch e := err.(type) {
		case *Error:
			*code = e.Code
			return true
		case ErrorCode:
			*code = e
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}
