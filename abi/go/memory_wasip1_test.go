package l8

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// hostWrite plays the host: it allocates with cabi_realloc and fills the block.
func hostWrite(t *testing.T, data []byte, align uint32) uint32 {
	t.Helper()
	ptr := cabiRealloc(0, 0, align, uint32(len(data)))
	if len(data) == 0 {
		return ptr
	}
	a, ok := allocations[ptr]
	if !ok {
		t.Fatalf("cabi_realloc returned %d but did not keep the block", ptr)
	}
	copy(a.buf, data)
	return ptr
}

func hostFields(t *testing.T, f Fields) (uint32, uint32) {
	t.Helper()
	raw := make([]byte, 16*len(f))
	put := func(o int, v uint32) {
		raw[o], raw[o+1], raw[o+2], raw[o+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
	}
	for i, field := range f {
		put(16*i, hostWrite(t, []byte(field.Name), 1))
		put(16*i+4, uint32(len(field.Name)))
		put(16*i+8, hostWrite(t, []byte(field.Value), 1))
		put(16*i+12, uint32(len(field.Value)))
	}
	return hostWrite(t, raw, 4), uint32(len(f))
}

func TestReallocAlignmentAndZeroSize(t *testing.T) {
	defer release(0)
	for _, align := range []uint32{1, 2, 4, 8, 16} {
		if p := cabiRealloc(0, 0, align, 0); p != align {
			t.Errorf("cabi_realloc(0,0,%d,0) = %d, want the alignment itself (non-null, aligned)", align, p)
		}
		for size := uint32(1); size <= 70; size++ {
			p := cabiRealloc(0, 0, align, size)
			if p == 0 || p%align != 0 || len(allocations[p].buf) != int(size) {
				t.Fatalf("cabi_realloc(0,0,%d,%d) = %d (block of %d bytes)", align, size, p, len(allocations[p].buf))
			}
		}
	}
}

func TestReallocKeepsContentsAndFreesTheOldBlock(t *testing.T) {
	defer release(0)
	p := hostWrite(t, []byte("abcd"), 1)
	q := cabiRealloc(p, 4, 1, 10)
	if _, still := allocations[p]; still && p != q {
		t.Error("the old block is still kept after a resize")
	}
	if got := string(take(q, 10)[:4]); got != "abcd" {
		t.Errorf("resized block starts with %q", got)
	}
	r := hostWrite(t, []byte("xyz"), 1)
	if cabiRealloc(r, 3, 1, 0) == 0 {
		t.Error("shrinking to 0 returned null")
	}
	if _, still := allocations[r]; still {
		t.Error("shrinking to 0 did not free the block")
	}
}

// Blocks handed to the host must survive collections until taken: the host
// keeps only their addresses, which the collector cannot see.
func TestBlocksSurviveGarbageCollection(t *testing.T) {
	defer release(0)
	var ptrs []uint32
	for i := 0; i < 200; i++ {
		ptrs = append(ptrs, hostWrite(t, []byte(strings.Repeat(string(rune('a'+i%26)), 100+i)), 1))
	}
	for i := 0; i < 5; i++ {
		runtime.GC()
		for j := 0; j < 1000; j++ {
			_ = make([]byte, 1000+j) // reuse any memory that was wrongly freed
		}
	}
	for i, p := range ptrs {
		want := strings.Repeat(string(rune('a'+i%26)), 100+i)
		if got := takeString(p, uint32(len(want))); got != want {
			t.Fatalf("block %d changed after GC: %q", i, got[:10])
		}
	}
	if len(allocations) != 0 {
		t.Errorf("%d blocks are still kept after being taken", len(allocations))
	}
}

func TestTakeRejectsMemoryCabiReallocDidNotHandOut(t *testing.T) {
	defer release(0)
	defer func() {
		if r := fmt.Sprint(recover()); !strings.Contains(r, "does not follow the L8 ABI") {
			t.Errorf("panic = %q", r)
		}
	}()
	p := hostWrite(t, []byte("abc"), 1)
	take(p, 4) // longer than allocated
}

func TestReleaseDropsOnlyTheBlocksOfOneCall(t *testing.T) {
	defer release(0)
	exportArg := hostWrite(t, []byte("arg"), 1)
	call := beginCall()
	hostWrite(t, []byte("result nobody took"), 1)
	endCall()
	release(call)
	if len(allocations) != 1 {
		t.Fatalf("%d blocks kept, want only the export argument", len(allocations))
	}
	if takeString(exportArg, 3) != "arg" {
		t.Error("the export argument was dropped")
	}
}

func TestExportHandleLiftsTheRequestAndKeepsTheResponse(t *testing.T) {
	defer func() { httpHandler = nil; releaseResult() }()
	var seen *Request
	httpHandler = func(req *Request) *Response {
		seen = req
		return Text(201, "made").WithHeader("x-id", "7")
	}
	hp, hn := hostFields(t, Fields{{"x-a", "1"}, {"l8-param-name", "book 1"}, {"x-empty", ""}})
	body := make([]byte, 1<<20)
	for i := range body {
		body[i] = byte(i % 251)
	}
	resultPtr := exportHandle(
		hostWrite(t, []byte("PUT"), 1), 3,
		hostWrite(t, []byte("/stock/x"), 1), 8,
		1, 0, // empty query: the L8 host passes ptr 1
		hp, hn,
		hostWrite(t, body, 1), uint32(len(body)),
	)
	if len(allocations) != 0 {
		t.Errorf("%d argument blocks still kept after the call", len(allocations))
	}
	if seen.Method != "PUT" || seen.Path != "/stock/x" || seen.Query != "" || seen.Param("name") != "book 1" ||
		seen.Header("x-empty") != "" || len(seen.Headers) != 3 || len(seen.Body) != len(body) || seen.Body[1000] != byte(1000%251) {
		t.Errorf("lifted request = %s %s %q %q (%d body bytes)", seen.Method, seen.Path, seen.Query, seen.Headers, len(seen.Body))
	}
	if resultPtr%4 != 0 || handleResult[0] != 201 || handleResult[2] != 2 || handleResult[4] != 4 {
		t.Errorf("response area at %d = %v", resultPtr, handleResult)
	}
	if keptResponse == nil || handleResult[1] != sliceAddr(keptHeaders) || handleResult[3] != sliceAddr(keptResponse.Body) {
		t.Error("the response is not kept reachable until cabi_post")
	}
	name := keptResponse.Headers[1].Name
	if keptHeaders[4] != stringAddr(name) || keptHeaders[5] != 4 {
		t.Errorf("second header entry = %v, want the address and length of %q", keptHeaders[4:8], name)
	}
	postHandle(resultPtr)
	if keptResponse != nil || keptHeaders != nil {
		t.Error("cabi_post did not release the response")
	}
}

func TestExportOnMessage(t *testing.T) {
	defer func() { messageHandler = nil; releaseResult() }()
	messageHandler = func(msg *Message) error {
		if msg.Metadata.Get("fail") == "always" {
			return fmt.Errorf("asked to fail: %s on %s/%s", msg.ID, msg.Broker, msg.Topic)
		}
		return nil
	}
	mp, mn := hostFields(t, Fields{{"fail", "always"}})
	p := exportOnMessage(hostWrite(t, []byte("id1"), 1), 3, hostWrite(t, []byte("default"), 1), 7,
		hostWrite(t, []byte("t"), 1), 1, 1, 0, mp, mn)
	want := "asked to fail: id1 on default/t"
	if p%4 != 0 || messageResult[0] != 1 || keptText != want || messageResult[1] != stringAddr(keptText) || messageResult[2] != uint32(len(want)) {
		t.Errorf("error result = %v %q", messageResult, keptText)
	}
	postOnMessage(p)
	exportOnMessage(1, 0, 1, 0, 1, 0, 1, 0, 4, 0)
	if messageResult[0] != 0 {
		t.Errorf("ok result = %v", messageResult)
	}
}
