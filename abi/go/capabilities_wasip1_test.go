package l8

import (
	"errors"
	"testing"
	"unsafe"
)

// The result areas are filled byte by byte at the offsets abi/README.md gives
// ("Result areas"), the way the host writes them, so these tests check the
// layout and not just that lifting agrees with itself.

func putU8(area []byte, at int, v uint8) { area[at] = v }

func putU32(area []byte, at int, v uint32) {
	area[at], area[at+1], area[at+2], area[at+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

func bytesOf32(r *[6]uint32) []byte { return unsafe.Slice((*byte)(unsafe.Pointer(r)), 24) }

func bytesOf64(r *[3]uint64) []byte { return unsafe.Slice((*byte)(unsafe.Pointer(r)), 24) }

// hostError writes err(error) with the record at payload: code, then the
// message allocated with cabi_realloc.
func hostError(t *testing.T, area []byte, payload int, code ErrorCode, message string) {
	t.Helper()
	putU8(area, 0, 1)
	putU8(area, payload, uint8(code))
	putU32(area, payload+4, hostWrite(t, []byte(message), 1))
	putU32(area, payload+8, uint32(len(message)))
}

func TestLiftResultBool(t *testing.T) {
	defer release(0)
	for _, c := range []struct {
		byte uint8
		want bool
	}{{0, false}, {1, true}, {2, true}} {
		var r [6]uint32
		putU8(bytesOf32(&r), 4, c.byte)
		// The bytes after the bool are padding; a host may leave anything there.
		putU8(bytesOf32(&r), 5, 0xaa)
		if got, err := liftBool(&r); got != c.want || err != nil {
			t.Errorf("ok(%d) lifted as %v, %v", c.byte, got, err)
		}
	}
	var r [6]uint32
	hostError(t, bytesOf32(&r), 4, CodeDenied, `lock store "x" is not granted ✓`)
	got, err := liftBool(&r)
	var hostErr *Error
	if got || !errors.As(err, &hostErr) || hostErr.Code != CodeDenied || hostErr.Message != `lock store "x" is not granted ✓` {
		t.Errorf("err lifted as %v, %v", got, err)
	}
	if len(allocations) != 0 {
		t.Errorf("the error message was not taken (%d blocks kept)", len(allocations))
	}
}

func TestLiftResultUnlockStatus(t *testing.T) {
	defer release(0)
	for b, want := range []UnlockStatus{UnlockSuccess, LockDoesNotExist, LockBelongsToOthers} {
		var r [6]uint32
		putU8(bytesOf32(&r), 4, uint8(b))
		if got, err := liftUnlockStatus(&r); got != want || err != nil {
			t.Errorf("ok(%d) lifted as %v, %v", b, got, err)
		}
	}
	var unknown [6]uint32
	putU8(bytesOf32(&unknown), 4, 9)
	if _, err := liftUnlockStatus(&unknown); !errors.Is(err, CodeInternal) {
		t.Errorf("unknown status lifted with error %v, want an internal error", err)
	}
	var r [6]uint32
	hostError(t, bytesOf32(&r), 4, CodeUnavailable, "redis is down")
	if _, err := liftUnlockStatus(&r); err == nil || err.Error() != "unavailable: redis is down" {
		t.Errorf("err lifted as %v", err)
	}
}

func TestLiftResultU64FromOffset8(t *testing.T) {
	defer release(0)
	if addr := uintptr(unsafe.Pointer(&ret64)); addr%8 != 0 {
		t.Fatalf("the next-id result area is at %d, not 8-byte aligned", addr)
	}
	for _, id := range []uint64{1, 0xffffffff, 1 << 32, 1<<32 + 5, 0xffffffffffffffff} {
		var r [3]uint64
		area := bytesOf64(&r)
		// Offset 4 is padding: a value there must not leak into the id.
		putU32(area, 4, 0xdeadbeef)
		putU32(area, 8, uint32(id))
		putU32(area, 12, uint32(id>>32))
		if got, err := liftU64(&r); got != id || err != nil {
			t.Errorf("ok(%d) lifted as %d, %v", id, got, err)
		}
	}
	var r [3]uint64
	hostError(t, bytesOf64(&r), 8, CodeNotFound, `no sequencer named "x"`)
	got, err := liftU64(&r)
	if got != 0 || !errors.Is(err, CodeNotFound) || err.Error() != `not-found: no sequencer named "x"` {
		t.Errorf("err lifted as %d, %v", got, err)
	}
	if len(allocations) != 0 {
		t.Errorf("the error message was not taken (%d blocks kept)", len(allocations))
	}
}
