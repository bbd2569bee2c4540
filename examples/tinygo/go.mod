module l8.dev/examples

// See abi/go/go.mod for why this says 1.21 although building needs Go >= 1.24.
go 1.21

require l8.dev/l8 v0.0.0

// The SDK is the folder in this repository; nothing is downloaded.
replace l8.dev/l8 => ../../abi/go
