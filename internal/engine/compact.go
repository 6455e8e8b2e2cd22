package engine

import (
	"hash/maphash"
	"slices"

	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/directory"
)

// Compact tables for the company's devices and custom values: a large
// company has millions of each. An entry is a flat struct without
// pointers in one slice (the garbage collector does not scan it), its
// external key is kept in a byte arena, its owner as the person's slot in
// the index, its name or field as a number from an intern table, and the
// look-ups are maps of 64-bit keys to slots. About 100 bytes an object
// instead of about 500 with strings and maps of pointers.

// keyArena keeps strings back to back in chunks, without a pointer each.
type keyArena struct {
	chunks [][]byte
	long   []string // keys too long for a chunk's tail (never, in practice)
}

const (
	arenaChunk = 1 << 20
	arenaLong  = ^uint32(0) // the length of a ref into long
)

// keyRef locates a string in a keyArena.
type keyRef struct{ off, n uint32 }

func (a *keyArena) put(s string) keyRef {
	if s == "" {
		return keyRef{}
	}
	if len(s) > arenaChunk/64 || len(a.chunks) >= 1<<12 {
		a.long = append(a.long, s)
		return keyRef{uint32(len(a.long) - 1), arenaLong}
	}
	if len(a.chunks) == 0 || len(a.chunks[len(a.chunks)-1])+len(s) > arenaChunk {
		a.chunks = append(a.chunks, make([]byte, 0, arenaChunk))
	}
	c := len(a.chunks) - 1
	off := len(a.chunks[c])
	a.chunks[c] = append(a.chunks[c], s...)
	return keyRef{uint32(c)<<20 | uint32(off), uint32(len(s))}
}

// is reports whether the string at ref is s, without allocating.
func (a *keyArena) is(ref keyRef, s string) bool {
	switch ref.n {
	case 0:
		return s == ""
	case arenaLong:
		return a.long[ref.off] == s
	}
	if int(ref.n) != len(s) {
		return false
	}
	c, off := ref.off>>20, ref.off&(arenaChunk-1)
	return string(a.chunks[c][off:off+ref.n]) == s
}

func (a *keyArena) get(ref keyRef) string {
	switch ref.n {
	case 0:
		return ""
	case arenaLong:
		return a.long[ref.off]
	}
	c, off := ref.off>>20, ref.off&(arenaChunk-1)
	return string(a.chunks[c][off : off+ref.n])
}

// keyIndex finds slots by (kind, external key) through 64-bit hashes of
// the key. The hash is only a shortcut: a hit is checked against the key
// itself (is), and the rare object whose hash another object already held
// when it came is kept by its full key in side.
type keyIndex struct {
	seed maphash.Seed
	main map[uint64]int32
	side map[kindKey]int32
	is   func(slot int32, kind uint8, key string) bool
	// hashOf, when set, replaces the hash (tests force collisions).
	hashOf func(kind uint8, key string) uint64
}

type kindKey struct {
	kind uint8
	key  string
}

func newKeyIndex(n int, is func(int32, uint8, string) bool) keyIndex {
	return keyIndex{seed: maphash.MakeSeed(), main: make(map[uint64]int32, n), is: is}
}

func (k *keyIndex) hash(kind uint8, key string) uint64 {
	if k.hashOf != nil {
		return k.hashOf(kind, key)
	}
	return maphash.String(k.seed, key) + uint64(kind)*0x9e3779b97f4a7c15
}

// find returns the slot of the key, or -1.
func (k *keyIndex) find(kind uint8, key string) int32 {
	if i, ok := k.main[k.hash(kind, key)]; ok && k.is(i, kind, key) {
		return i
	}
	if i, ok := k.side[kindKey{kind, key}]; ok {
		return i
	}
	return -1
}

func (k *keyIndex) add(slot int32, kind uint8, key string) {
	h := k.hash(kind, key)
	if i, ok := k.main[h]; ok && i != slot {
		if k.side == nil {
			k.side = map[kindKey]int32{}
		}
		k.side[kindKey{kind, key}] = slot
		return
	}
	k.main[h] = slot
}

func (k *keyIndex) remove(slot int32, kind uint8, key string) {
	h := k.hash(kind, key)
	if i, ok := k.main[h]; ok && i == slot {
		delete(k.main, h)
		return
	}
	if i, ok := k.side[kindKey{kind, key}]; ok && i == slot {
		delete(k.side, kindKey{kind, key})
	}
}

// interned numbers the few distinct device names (folded) and custom
// field keys.
type interned struct {
	ids  map[string]uint32
	strs []string
}

func (t *interned) id(s string) uint32 {
	if t.ids == nil {
		t.ids = map[string]uint32{}
	}
	if i, ok := t.ids[s]; ok {
		return i
	}
	t.strs = append(t.strs, s)
	t.ids[s] = uint32(len(t.strs) - 1)
	return uint32(len(t.strs) - 1)
}

// lookup returns the number of s, or false when s was never interned.
func (t *interned) lookup(s string) (uint32, bool) {
	i, ok := t.ids[s]
	return i, ok
}

func typeIndex(t directory.DeviceType) uint8 {
	return uint8(slices.Index(directory.DeviceTypes, t))
}

// deviceEntry is what a job keeps of a device the company had.
type deviceEntry struct {
	id           uuid.UUID
	fp           uint64 // devicePrint of the whole device
	key          keyRef
	owner        int32  // the owner's slot in the index
	name         uint32 // folded name, interned
	order, delay int32
	slot         int32 // the entry's index in its table
	typ          uint8 // index in directory.DeviceTypes
	dead         bool
	named        bool // a row of this archive named its key (mirror spares it)
}

func (e *deviceEntry) deviceType() directory.DeviceType { return directory.DeviceTypes[e.typ] }

// devTable holds the company's devices.
type devTable struct {
	e     []deviceEntry
	keys  keyArena
	byKey keyIndex
	byOwn map[uint64]int32 // owner slot << 32 | folded name
	byID  map[uuid.UUID]int32
}

func newDevTable(n int) *devTable {
	t := &devTable{e: make([]deviceEntry, 0, n), byOwn: make(map[uint64]int32, n)}
	t.byKey = newKeyIndex(n, func(i int32, kind uint8, key string) bool {
		return t.e[i].typ == kind && t.keys.is(t.e[i].key, key)
	})
	return t
}

func ownKey(owner int32, name uint32) uint64 { return uint64(uint32(owner))<<32 | uint64(name) }

// customEntry is what a job keeps of a custom value the company had.
type customEntry struct {
	id     uuid.UUID
	fp     uint64 // customPrint of the whole value
	key    keyRef
	person int32  // the person's slot in the index
	field  uint32 // interned
	slot   int32  // the entry's index in its table
	dead   bool
	named  bool // a row of this archive named its key (mirror spares it)
}

type customTable struct {
	e     []customEntry
	keys  keyArena
	byKey keyIndex
	byPF  map[uint64]int32 // person slot << 32 | field
}

func newCustomTable(n int) *customTable {
	t := &customTable{e: make([]customEntry, 0, n), byPF: make(map[uint64]int32, n)}
	t.byKey = newKeyIndex(n, func(i int32, _ uint8, key string) bool { return t.keys.is(t.e[i].key, key) })
	return t
}
