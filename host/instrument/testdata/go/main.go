// Go guest for the instrumentation tests (GOOS=wasip1, -buildmode=c-shared): the Go
// runtime (scheduler, GC, maps) makes this a multi-megabyte module that uses many
// instruction kinds; every export returns a checksum the test compares.
package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"strings"
)

var counter int32

//go:wasmexport bump
func bump() int32 {
	counter++
	return counter
}

//go:wasmexport fmt_checksum
func fmtChecksum(n int32) uint32 {
	var b strings.Builder
	for i := int32(0); i < n; i++ {
		fmt.Fprintf(&b, "%d %v %.3f %x %8s|", i, []int32{i, i * 2}, float64(i)/7, i*31, strconv.Itoa(int(i)))
	}
	h := fnv.New32a()
	h.Write([]byte(b.String()))
	return h.Sum32()
}

//go:wasmexport sort_checksum
func sortChecksum(n int32, seed uint32) uint32 {
	x := seed
	v := make([]uint32, n)
	for i := range v {
		x = x*1103515245 + 12345
		v[i] = x >> 8
	}
	sort.Slice(v, func(a, b int) bool { return v[a] < v[b] })
	h := fnv.New32a()
	for _, e := range v {
		var buf [4]byte
		binary.LittleEndian.PutUint32(buf[:], e)
		h.Write(buf[:])
	}
	return h.Sum32()
}

// stores is store-heavy: n pseudo-random 32-bit stores into a 256 KiB buffer, then its checksum.
//
//go:wasmexport stores
func stores(n int32, seed uint32) uint32 {
	a := make([]uint32, 65536)
	x := seed
	for i := int32(0); i < n; i++ {
		x = x*1103515245 + 12345
		a[(x>>8)&65535] = x
	}
	h := uint32(2166136261)
	for _, e := range a {
		h = (h ^ e) * 16777619
	}
	return h
}

type record struct {
	Name  string            `json:"name"`
	Tags  []string          `json:"tags"`
	Score float64           `json:"score"`
	Attrs map[string]string `json:"attrs"`
}

//go:wasmexport json_checksum
func jsonChecksum(n int32) uint32 {
	rs := make([]record, n)
	for i := range rs {
		rs[i] = record{Name: fmt.Sprint("r", i), Tags: []string{"a", strconv.Itoa(i)}, Score: float64(i) * 1.5, Attrs: map[string]string{"k": strings.Repeat("x", i%7)}}
	}
	data, err := json.Marshal(rs)
	if err != nil {
		return 0
	}
	var back []record
	if err := json.Unmarshal(data, &back); err != nil {
		return 1
	}
	sum := sha256.Sum256(data)
	return binary.LittleEndian.Uint32(sum[:4]) ^ uint32(len(back))
}

//go:wasmexport maps
func maps(n int32) uint32 {
	m := map[string]int32{}
	for i := int32(0); i < n; i++ {
		m[strconv.Itoa(int(i%101))] += i
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := fnv.New32a()
	for _, k := range keys {
		fmt.Fprint(h, k, m[k])
	}
	return h.Sum32()
}

//go:wasmexport sum
func sum(n int64) int64 {
	var s int64
	x := uint64(88172645463325252)
	for i := int64(0); i < n; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		s += int64(x & 0xff)
	}
	return s
}

//go:wasmexport spin
func spin(limit int32) int32 {
	i := int32(0)
	for i != limit {
		i++
	}
	return i
}

func main() {}
