//go:build wasip1 && !go1.24 && !tinygo

package l8

// Go before 1.24 ignores //go:wasmexport and would build a module without
// exports; stop the build with a message that says why instead.
var _ = l8_needs_Go_1_24_or_newer_for_go_wasmexport__or_TinyGo_0_34
