module l8.dev/l8

// 1.21, not 1.24: the package only needs Go 1.21 language features, and TinyGo
// 0.34/0.35 ship with Go <= 1.23 standard libraries, whose `go` command refuses
// modules that declare a newer version. Building a module still needs Go >= 1.24
// (//go:wasmexport); version_check.go turns an older Go into a readable error.
go 1.21
