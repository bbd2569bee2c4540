package l8

// Host capabilities (GOOS=wasip1 only): the imports of abi/README.md and the
// functions that lower their arguments and lift their results.

import (
	"runtime"
	"unsafe"
)

//go:wasmimport l8:faas/state@0.1.0 get
func wasmStateGet(storePtr unsafe.Pointer, storeLen uint32, keyPtr unsafe.Pointer, keyLen uint32, ret unsafe.Pointer)

//go:wasmimport l8:faas/state@0.1.0 set
func wasmStateSet(storePtr unsafe.Pointer, storeLen uint32, keyPtr unsafe.Pointer, keyLen uint32, valuePtr unsafe.Pointer, valueLen uint32, ret unsafe.Pointer)

//go:wasmimport l8:faas/state@0.1.0 delete
func wasmStateDelete(storePtr unsafe.Pointer, storeLen uint32, keyPtr unsafe.Pointer, keyLen uint32, ret unsafe.Pointer)

//go:wasmimport l8:faas/pubsub@0.1.0 publish
func wasmPublish(brokerPtr unsafe.Pointer, brokerLen uint32, topicPtr unsafe.Pointer, topicLen uint32, dataPtr unsafe.Pointer, dataLen uint32, metadataPtr unsafe.Pointer, metadataLen uint32, ret unsafe.Pointer)

//go:wasmimport l8:faas/config@0.1.0 get
func wasmConfigGet(keyPtr unsafe.Pointer, keyLen uint32, ret unsafe.Pointer)

//go:wasmimport l8:faas/invoke@0.1.0 call
func wasmInvoke(targetPtr unsafe.Pointer, targetLen uint32, methodPtr unsafe.Pointer, methodLen uint32, pathPtr unsafe.Pointer, pathLen uint32, queryPtr unsafe.Pointer, queryLen uint32, headersPtr unsafe.Pointer, headersLen uint32, bodyPtr unsafe.Pointer, bodyLen uint32, ret unsafe.Pointer)

//go:wasmimport l8:faas/log@0.1.0 write
func wasmLogWrite(level uint32, messagePtr unsafe.Pointer, messageLen uint32)

// ret is the result area the host writes import results to: 24 bytes, align
// 4, the size of the largest one (result<response, error>). A package
// variable, not a local: a goroutine stack can move while the host (which
// may call back into cabi_realloc) still holds the address.
var ret [6]uint32

// result copies the result area as soon as the import returned, and ends the call.
func result() [6]uint32 {
	endCall()
	return ret
}

// failed reads the result<_, error> tag at offset 0 and, for err, the error
// at offsets 4 (code), 8 and 12 (message).
func failed(r *[6]uint32) error {
	if r[0]&0xff == 0 {
		return nil
	}
	return &Error{Code: ErrorCode(r[1] & 0xff), Message: takeString(r[2], r[3])}
}

// StateGet reads key from the state store. found is false when the key does
// not exist; an existing empty value is found with a zero-length value.
func StateGet(store, key string) (value []byte, found bool, err error) {
	call := beginCall()
	wasmStateGet(stringPtr(store), uint32(len(store)), stringPtr(key), uint32(len(key)), unsafe.Pointer(&ret))
	r := result()
	runtime.KeepAlive(store)
	runtime.KeepAlive(key)
	defer release(call)
	if err := failed(&r); err != nil {
		return nil, false, err
	}
	if r[1]&0xff == 0 {
		return nil, false, nil
	}
	value = take(r[2], r[3])
	if value == nil {
		value = []byte{}
	}
	return value, true, nil
}

// StateSet writes value under key in the state store.
func StateSet(store, key string, value []byte) error {
	call := beginCall()
	wasmStateSet(stringPtr(store), uint32(len(store)), stringPtr(key), uint32(len(key)), slicePtr(value), uint32(len(value)), unsafe.Pointer(&ret))
	r := result()
	runtime.KeepAlive(store)
	runtime.KeepAlive(key)
	runtime.KeepAlive(value)
	defer release(call)
	return failed(&r)
}

// StateDelete removes key from the state store; removing a missing key is not an error.
func StateDelete(store, key string) error {
	call := beginCall()
	wasmStateDelete(stringPtr(store), uint32(len(store)), stringPtr(key), uint32(len(key)), unsafe.Pointer(&ret))
	r := result()
	runtime.KeepAlive(store)
	runtime.KeepAlive(key)
	defer release(call)
	return failed(&r)
}

// Publish sends data to topic on the named broker (pub/sub component) and
// returns the message id. Metadata `partitionKey` selects the ordering key
// where the broker supports one; metadata may be nil.
func Publish(broker, topic string, data []byte, metadata Fields) (id string, err error) {
	words := fieldWords(metadata)
	call := beginCall()
	wasmPublish(stringPtr(broker), uint32(len(broker)), stringPtr(topic), uint32(len(topic)),
		slicePtr(data), uint32(len(data)), slicePtr(words), uint32(len(metadata)), unsafe.Pointer(&ret))
	r := result()
	runtime.KeepAlive(broker)
	runtime.KeepAlive(topic)
	runtime.KeepAlive(data)
	runtime.KeepAlive(metadata)
	runtime.KeepAlive(words)
	defer release(call)
	if err := failed(&r); err != nil {
		return "", err
	}
	return takeString(r[1], r[2]), nil
}

// ConfigGet reads a configuration value visible to this function; found is
// false when the key has no value.
func ConfigGet(key string) (value string, found bool, err error) {
	call := beginCall()
	wasmConfigGet(stringPtr(key), uint32(len(key)), unsafe.Pointer(&ret))
	r := result()
	runtime.KeepAlive(key)
	defer release(call)
	if err := failed(&r); err != nil {
		return "", false, err
	}
	if r[1]&0xff == 0 {
		return "", false, nil
	}
	return takeString(r[2], r[3]), true, nil
}

// Invoke calls the deployed function target with req, without going through
// the network; the target's routes are matched against req.Method (GET when
// empty) and req.Path. A non-2xx status is a normal response, not an error;
// err is set when the call could not be made (denied, not-found, ...).
func Invoke(target string, req *Request) (*Response, error) {
	if req == nil {
		panic("l8: Invoke called with a nil *l8.Request")
	}
	method := req.Method
	if method == "" {
		method = "GET"
	}
	words := fieldWords(req.Headers)
	call := beginCall()
	wasmInvoke(stringPtr(target), uint32(len(target)), stringPtr(method), uint32(len(method)),
		stringPtr(req.Path), uint32(len(req.Path)), stringPtr(req.Query), uint32(len(req.Query)),
		slicePtr(words), uint32(len(req.Headers)), slicePtr(req.Body), uint32(len(req.Body)), unsafe.Pointer(&ret))
	r := result()
	runtime.KeepAlive(target)
	runtime.KeepAlive(method)
	runtime.KeepAlive(req)
	runtime.KeepAlive(words)
	defer release(call)
	if err := failed(&r); err != nil {
		return nil, err
	}
	// ok: status (u16) at 4, headers at 8/12, body at 16/20.
	return &Response{Status: int(r[1] & 0xffff), Headers: takeFields(r[2], r[3]), Body: take(r[4], r[5])}, nil
}

// Log writes one log line, which the host tags with the function name and
// request id. Invalid UTF-8 in message is replaced with U+FFFD.
func Log(level Level, message string) {
	if level > LevelError {
		panic("l8: Log called with level " + itoa(int(level)) + "; use l8.LevelTrace ... l8.LevelError")
	}
	message = toValidUTF8(message)
	wasmLogWrite(uint32(level), stringPtr(message), uint32(len(message)))
	runtime.KeepAlive(message)
}
