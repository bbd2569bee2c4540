package l8

// Host capabilities (GOOS=wasip1 only): the imports of abi/README.md and the
// functions that lower their arguments and lift their results.

import (
	"runtime"
	"unsafe"
)

//go:wasmimport l8:faas/state@0.2.0 get
func wasmStateGet(storePtr unsafe.Pointer, storeLen uint32, keyPtr unsafe.Pointer, keyLen uint32, ret unsafe.Pointer)

//go:wasmimport l8:faas/state@0.2.0 set
func wasmStateSet(storePtr unsafe.Pointer, storeLen uint32, keyPtr unsafe.Pointer, keyLen uint32, valuePtr unsafe.Pointer, valueLen uint32, ret unsafe.Pointer)

//go:wasmimport l8:faas/state@0.2.0 delete
func wasmStateDelete(storePtr unsafe.Pointer, storeLen uint32, keyPtr unsafe.Pointer, keyLen uint32, ret unsafe.Pointer)

//go:wasmimport l8:faas/pubsub@0.2.0 publish
func wasmPublish(brokerPtr unsafe.Pointer, brokerLen uint32, topicPtr unsafe.Pointer, topicLen uint32, dataPtr unsafe.Pointer, dataLen uint32, metadataPtr unsafe.Pointer, metadataLen uint32, ret unsafe.Pointer)

//go:wasmimport l8:faas/config@0.2.0 get
func wasmConfigGet(keyPtr unsafe.Pointer, keyLen uint32, ret unsafe.Pointer)

//go:wasmimport l8:faas/invoke@0.2.0 call
func wasmInvoke(targetPtr unsafe.Pointer, targetLen uint32, methodPtr unsafe.Pointer, methodLen uint32, pathPtr unsafe.Pointer, pathLen uint32, queryPtr unsafe.Pointer, queryLen uint32, headersPtr unsafe.Pointer, headersLen uint32, bodyPtr unsafe.Pointer, bodyLen uint32, ret unsafe.Pointer)

//go:wasmimport l8:faas/log@0.2.0 write
func wasmLogWrite(level uint32, messagePtr unsafe.Pointer, messageLen uint32)

//go:wasmimport l8:faas/lock@0.2.0 try-lock
func wasmTryLock(storePtr unsafe.Pointer, storeLen uint32, resourcePtr unsafe.Pointer, resourceLen uint32, ownerPtr unsafe.Pointer, ownerLen uint32, expireSeconds uint32, ret unsafe.Pointer)

//go:wasmimport l8:faas/lock@0.2.0 unlock
func wasmUnlock(storePtr unsafe.Pointer, storeLen uint32, resourcePtr unsafe.Pointer, resourceLen uint32, ownerPtr unsafe.Pointer, ownerLen uint32, ret unsafe.Pointer)

//go:wasmimport l8:faas/lock@0.2.0 keep-alive
func wasmKeepAlive(storePtr unsafe.Pointer, storeLen uint32, resourcePtr unsafe.Pointer, resourceLen uint32, ownerPtr unsafe.Pointer, ownerLen uint32, expireSeconds uint32, ret unsafe.Pointer)

//go:wasmimport l8:faas/sequencer@0.2.0 next-id
func wasmNextID(storePtr unsafe.Pointer, storeLen uint32, keyPtr unsafe.Pointer, keyLen uint32, ret unsafe.Pointer)

// ret is the result area the host writes import results to: 24 bytes, align
// 4, the size of the largest one (result<response, error>). A package
// variable, not a local: a goroutine stack can move while the host (which
// may call back into cabi_realloc) still holds the address.
var ret [6]uint32

// ret64 is the result area of result<u64, error> (next-id): 24 bytes like
// ret, but 8-byte aligned, because the canonical ABI aligns that result's
// payload to the u64.
var ret64 [3]uint64

// result copies the result area as soon as the import returned, and ends the call.
func result() [6]uint32 {
	endCall()
	return ret
}

// result64 is result for ret64.
func result64() [3]uint64 {
	endCall()
	return ret64
}

// failed reads the result<_, error> tag at offset 0 and, for err, the error
// at offsets 4 (code), 8 and 12 (message).
func failed(r *[6]uint32) error {
	if r[0]&0xff == 0 {
		return nil
	}
	return &Error{Code: ErrorCode(r[1] & 0xff), Message: takeString(r[2], r[3])}
}

// liftBool reads result<bool, error>: ok is the byte at offset 4 (non-zero is
// true, as in the canonical ABI).
func liftBool(r *[6]uint32) (bool, error) {
	if err := failed(r); err != nil {
		return false, err
	}
	return r[1]&0xff != 0, nil
}

// liftUnlockStatus reads result<unlock-status, error>: ok is the enum byte at
// offset 4.
func liftUnlockStatus(r *[6]uint32) (UnlockStatus, error) {
	if err := failed(r); err != nil {
		return 0, err
	}
	return unlockStatus(r[1] & 0xff)
}

// liftU64 reads result<u64, error>, whose payload starts at offset 8: ok is
// the little-endian u64 there (the second word of r); err is the code at 8,
// the message pointer at 12 (the high half of the second word) and its length
// at 16 (the low half of the third).
func liftU64(r *[3]uint64) (uint64, error) {
	if r[0]&0xff == 0 {
		return r[1], nil
	}
	return 0, &Error{Code: ErrorCode(r[1] & 0xff), Message: takeString(uint32(r[1]>>32), uint32(r[2]))}
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

// TryLock takes the lock on resource in the lock store for owner, for
// expireSeconds (at least 1), unless someone holds it: true if taken, false
// if it is held by anyone, owner included (locks are not reentrant).
func TryLock(store, resource, owner string, expireSeconds uint32) (bool, error) {
	call := beginCall()
	wasmTryLock(stringPtr(store), uint32(len(store)), stringPtr(resource), uint32(len(resource)),
		stringPtr(owner), uint32(len(owner)), expireSeconds, unsafe.Pointer(&ret))
	r := result()
	runtime.KeepAlive(store)
	runtime.KeepAlive(resource)
	runtime.KeepAlive(owner)
	defer release(call)
	return liftBool(&r)
}

// Unlock releases the lock on resource if owner holds it; the status says
// what was found ([UnlockSuccess], [LockDoesNotExist], [LockBelongsToOthers]).
func Unlock(store, resource, owner string) (UnlockStatus, error) {
	call := beginCall()
	wasmUnlock(stringPtr(store), uint32(len(store)), stringPtr(resource), uint32(len(resource)),
		stringPtr(owner), uint32(len(owner)), unsafe.Pointer(&ret))
	r := result()
	runtime.KeepAlive(store)
	runtime.KeepAlive(resource)
	runtime.KeepAlive(owner)
	defer release(call)
	return liftUnlockStatus(&r)
}

// KeepAlive extends the lease owner holds on resource to expireSeconds from
// now: false if owner does not hold the lock any more.
func KeepAlive(store, resource, owner string, expireSeconds uint32) (bool, error) {
	call := beginCall()
	wasmKeepAlive(stringPtr(store), uint32(len(store)), stringPtr(resource), uint32(len(resource)),
		stringPtr(owner), uint32(len(owner)), expireSeconds, unsafe.Pointer(&ret))
	r := result()
	runtime.KeepAlive(store)
	runtime.KeepAlive(resource)
	runtime.KeepAlive(owner)
	defer release(call)
	return liftBool(&r)
}

// NextID returns the next id of key from the sequencer store: greater than
// every id that sequencer returned before for key.
func NextID(store, key string) (uint64, error) {
	call := beginCall()
	wasmNextID(stringPtr(store), uint32(len(store)), stringPtr(key), uint32(len(key)), unsafe.Pointer(&ret64))
	r := result64()
	runtime.KeepAlive(store)
	runtime.KeepAlive(key)
	defer release(call)
	return liftU64(&r)
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
