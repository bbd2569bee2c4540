package l8

// Memory shared with the host (this file only builds for GOOS=wasip1).
//
// The host writes strings and lists into memory it gets from cabi_realloc, and
// reads strings and lists the guest points it at. Both directions meet Go's
// garbage collector, which frees what no Go value references and which cannot
// see addresses stored in linear memory or held by the host:
//
//   - Host -> guest: every block cabi_realloc returns is kept in the map
//     `allocations` until the SDK takes it (turns it into the []byte or string
//     of a Request, Message or host-call result, which from then on keep it
//     alive), so a collection triggered by the next allocation cannot free it
//     while the host is still filling it in. Blocks nobody took are dropped
//     once the call that produced them is over, so nothing leaks in functions
//     with `reuse: true`.
//   - Guest -> host, import arguments: the Go values are live on the caller's
//     stack for the whole call (runtime.KeepAlive after each call makes that
//     explicit, also for TinyGo, whose collector only sees pointers spilled to
//     its shadow stack).
//   - Guest -> host, export results: the response or error text and the
//     header array are kept in package variables until the host calls
//     cabi_post_* (or the next export starts).
//
// Neither Go's nor TinyGo's collector moves objects, so an address handed to
// the host stays valid as long as the object is reachable. Goroutine stacks
// do move (they grow by copying), which is why result areas are package
// variables and never locals.

import "unsafe"

type hostAllocation struct {
	buf []byte
	// call is the import call during which the host allocated the block, 0
	// for the arguments of an export call.
	call uint32
}

var (
	allocations = map[uint32]hostAllocation{}
	// activeCall is the id of the import call in progress, 0 outside one.
	activeCall uint32
	lastCall   uint32
)

// cabi_realloc is the canonical ABI allocator: the host calls
// cabi_realloc(0, 0, align, size) to get memory the guest will own.
//
//go:wasmexport cabi_realloc
func cabiRealloc(oldPtr, oldSize, align, newSize uint32) uint32 {
	if align == 0 || align&(align-1) != 0 {
		panic("l8: cabi_realloc called with alignment " + itoa(int(align)) + "; the canonical ABI only uses powers of two")
	}
	var old []byte
	if oldPtr != 0 && oldSize != 0 {
		a, ok := allocations[oldPtr]
		if !ok {
			panic(hostFault("cabi_realloc was asked to resize", oldPtr, oldSize))
		}
		delete(allocations, oldPtr)
		old = a.buf
		if uint32(len(old)) > oldSize {
			old = old[:oldSize]
		}
	}
	if newSize == 0 {
		// Any aligned non-null address will do: nobody dereferences it.
		return align
	}
	buf := allocAligned(int(newSize), int(align))
	copy(buf, old)
	ptr := sliceAddr(buf)
	allocations[ptr] = hostAllocation{buf: buf, call: activeCall}
	return ptr
}

// allocAligned returns size zeroed bytes at an address that is a multiple of align.
func allocAligned(size, align int) []byte {
	// Both Go allocators place a block whose size is a multiple of a small
	// power of two at a multiple of it; checked, not assumed.
	buf := make([]byte, (size+align-1)&^(align-1))
	if int(sliceAddr(buf))&(align-1) == 0 {
		return buf[:size]
	}
	buf = make([]byte, size+align-1)
	offset := (align - int(sliceAddr(buf))&(align-1)) & (align - 1)
	return buf[offset : offset+size]
}

// take hands a block the host allocated and filled over to Go code.
func take(ptr, length uint32) []byte {
	if length == 0 {
		return nil // the pointer of an empty list may be anything
	}
	a, ok := allocations[ptr]
	if !ok || uint32(len(a.buf)) < length {
		panic(hostFault("the host passed", ptr, length))
	}
	delete(allocations, ptr)
	return a.buf[:length:length]
}

// takeString is take for strings, without copying: nothing writes to the
// block afterwards.
func takeString(ptr, length uint32) string {
	b := take(ptr, length)
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// takeFields lifts a `fields` list: length entries of 16 bytes
// (name_ptr, name_len, value_ptr, value_len).
func takeFields(ptr, length uint32) Fields {
	if length == 0 {
		return nil
	}
	if length > 0xffffffff/16 {
		panic(hostFault("the host passed a list of fields", ptr, length))
	}
	raw := take(ptr, length*16)
	fields := make(Fields, length)
	for i := range fields {
		o := 16 * i
		fields[i] = Field{
			Name:  takeString(le32(raw, o), le32(raw, o+4)),
			Value: takeString(le32(raw, o+8), le32(raw, o+12)),
		}
	}
	return fields
}

// release drops the blocks of one call that were not taken. A host that
// follows the ABI leaves none; this keeps a faulty one from leaking memory.
func release(call uint32) {
	for ptr, a := range allocations {
		if a.call == call {
			delete(allocations, ptr)
		}
	}
}

// beginCall marks the start of an import call whose results the host
// allocates with cabi_realloc.
func beginCall() uint32 {
	lastCall++
	if lastCall == 0 {
		lastCall = 1 // 0 means export arguments
	}
	activeCall = lastCall
	return lastCall
}

func endCall() { activeCall = 0 }

// fieldWords lowers a `fields` list for the host: 4 words per entry pointing
// into the strings of f, which the caller keeps alive.
func fieldWords(f Fields) []uint32 {
	if len(f) == 0 {
		return nil
	}
	words := make([]uint32, 4*len(f))
	for i, field := range f {
		words[4*i] = stringAddr(field.Name)
		words[4*i+1] = uint32(len(field.Name))
		words[4*i+2] = stringAddr(field.Value)
		words[4*i+3] = uint32(len(field.Value))
	}
	return words
}

func le32(b []byte, o int) uint32 {
	return uint32(b[o]) | uint32(b[o+1])<<8 | uint32(b[o+2])<<16 | uint32(b[o+3])<<24
}

func sliceAddr[T any](s []T) uint32 { return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(s)))) }

func stringAddr(s string) uint32 { return uint32(uintptr(unsafe.Pointer(unsafe.StringData(s)))) }

func stringPtr(s string) unsafe.Pointer { return unsafe.Pointer(unsafe.StringData(s)) }

func slicePtr[T any](s []T) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(s)) }

func hostFault(what string, ptr, length uint32) string {
	return "l8: " + what + " " + itoa(int(length)) + " bytes at address " + itoa(int(ptr)) +
		" that cabi_realloc did not allocate (or a larger size than it allocated); the host does not follow the L8 ABI (abi/README.md, \"Memory ownership\")"
}
