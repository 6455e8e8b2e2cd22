package engine

import "unsafe"

// mapped is memory for the big pointer-free tables (device and custom
// value entries, key arenas, slot tables) taken from the operating system
// outside the Go heap where it can (mapped_unix.go) and given back when
// the table is dropped (free). The garbage collector sizes the heap at
// about twice what is live in it; tables of hundreds of MB outside it do
// not count, so the heap of a million-person job stays small.
//
// Nothing may keep a pointer into a table once it is freed: the tables
// are dropped whole (keepDevices, keepCustoms, the end of the run) and
// entries are only handed out for the step that uses them.
type mapped struct {
	regions [][]byte
}

// smallRegion: below this, plain Go memory (a mapping is whole pages).
const smallRegion = 1 << 16

// bytes returns size zeroed bytes.
func (m *mapped) bytes(size int) []byte {
	if size < smallRegion || m == nil {
		return make([]byte, size)
	}
	b, ok := mapRegion(size)
	if !ok {
		return make([]byte, size)
	}
	m.regions = append(m.regions, b)
	return b
}

// release gives one region back early (a slot table that grew).
func (m *mapped) release(b []byte) {
	if len(b) == 0 || m == nil {
		return
	}
	for i, r := range m.regions {
		if unsafe.SliceData(r) == unsafe.SliceData(b) {
			unmapRegion(r)
			m.regions = append(m.regions[:i], m.regions[i+1:]...)
			return
		}
	}
}

// free gives every region back.
func (m *mapped) free() {
	for _, r := range m.regions {
		unmapRegion(r)
	}
	m.regions = nil
}

// slice returns a zeroed []T of length n in m; T must hold no pointers.
func slice[T any](m *mapped, n int) []T {
	if n == 0 {
		return nil
	}
	var zero T
	b := m.bytes(n * int(unsafe.Sizeof(zero)))
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), n)
}

// asBytes returns the memory of s, for release.
func asBytes[T any](s []T) []byte {
	if cap(s) == 0 {
		return nil
	}
	var zero T
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), cap(s)*int(unsafe.Sizeof(zero)))
}
