// Package l8 is the Go guest SDK for L8 functions (ABI l8:faas@0.2.0).
//
// A function is a `package main` built as a WebAssembly reactor: it registers
// its handlers from an init function, and the host calls them once per
// request or message.
//
//	package main
//
//	import "l8.dev/l8"
//
//	func init() {
//		l8.HandleHTTP(func(req *l8.Request) *l8.Response {
//			return l8.Text(200, "Hello, "+req.Param("name")+"!")
//		})
//	}
//
//	func main() {} // required by Go, never run in a reactor
//
// Build it with Go >= 1.24:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o fn.wasm .
//
// or with TinyGo >= 0.34:
//
//	tinygo build -target=wasip1 -buildmode=c-shared -scheduler=none -o fn.wasm .
//
// Register handlers in init, not in main: a -buildmode=c-shared module runs
// package initialisation in its `_initialize` export and never calls main.
//
// Host capabilities are plain functions: [StateGet], [StateSet],
// [StateDelete], [Publish], [ConfigGet], [Invoke], [Log], and since ABI
// 0.2.0 the locks [TryLock], [Unlock] and [KeepAlive] and the sequencer
// [NextID]. They return an [*Error] carrying an [ErrorCode]; test for a code
// with errors.Is(err, l8.CodeNotFound) or get the message with errors.As, and
// answer it with [ErrorResponse] (denied 403, not-found 404, unavailable 503,
// ...). What a function may use is decided by its manifest, everything else
// fails with [CodeDenied].
//
// Capabilities and the module's exports exist only in GOOS=wasip1 builds; the
// request, response, header and query types compile everywhere, so handler
// logic that only uses them can be unit-tested with a native `go test`.
package l8
