package engine

import (
	"encoding/binary"
	"hash/maphash"
	"slices"
	"unicode/utf8"

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
	mem    *mapped // nil: Go memory
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
		var c []byte
		if a.mem != nil {
			c = a.mem.bytes(arenaChunk)[:0]
		} else {
			c = make([]byte, 0, arenaChunk)
		}
		a.chunks = append(a.chunks, c)
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

// slotTable is an open-addressing hash table of slots (int32 indexes into
// an entries slice), 8 bytes a cell: the high half of the hash as a tag
// and the slot. It keeps no keys: hashOf and the match functions look at
// the entries, so a hit is exact however hashes collide. A Go map of the
// same costs 3–4 times as much.
type slotTable struct {
	cells  []uint64 // tag<<32 | slot+1; 0 empty; tomb deleted
	mask   uint64
	used   int // cells not empty (live or deleted)
	hashOf func(slot int32) uint64
	mem    *mapped
}

const tomb = uint64(1)<<32 - 1

func newSlotTable(n int, hashOf func(int32) uint64, mem *mapped) slotTable {
	size := 16
	for size*3 < n*4 { // load at most 3/4
		size *= 2
	}
	return slotTable{cells: slice[uint64](mem, size), mask: uint64(size - 1), hashOf: hashOf, mem: mem}
}

func cell(h uint64, slot int32) uint64 { return h&^(1<<32-1) | uint64(slot) + 1 }

// find returns the slot whose entry match accepts among those stored
// under h, or -1.
func (t *slotTable) find(h uint64, match func(int32) bool) int32 {
	tag := h &^ (1<<32 - 1)
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		c := t.cells[i]
		switch {
		case c == 0:
			return -1
		case c != tomb && c&^(1<<32-1) == tag:
			if s := int32(c&(1<<32-1)) - 1; match(s) {
				return s
			}
		}
	}
}

// set stores slot under h, in place of a slot whose entry match accepts
// (an equal key) if there is one.
func (t *slotTable) set(h uint64, slot int32, match func(int32) bool) {
	tag := h &^ (1<<32 - 1)
	free := int64(-1)
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		c := t.cells[i]
		switch {
		case c == 0:
			if free < 0 {
				free = int64(i)
				t.used++
			}
			t.cells[free] = cell(h, slot)
			if t.used*4 > len(t.cells)*3 {
				t.grow()
			}
			return
		case c == tomb:
			if free < 0 {
				free = int64(i)
			}
		case c&^(1<<32-1) == tag && match(int32(c&(1<<32-1))-1):
			t.cells[i] = cell(h, slot)
			return
		}
	}
}

// del removes slot from under h, if it is there.
func (t *slotTable) del(h uint64, slot int32) {
	want := cell(h, slot)
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		switch c := t.cells[i]; c {
		case 0:
			return
		case want:
			t.cells[i] = tomb
			return
		}
	}
}

func (t *slotTable) grow() {
	old := t.cells
	live := 0
	for _, c := range old {
		if c != 0 && c != tomb {
			live++
		}
	}
	*t = newSlotTable(live*2, t.hashOf, t.mem)
	defer t.mem.release(asBytes(old))
	for _, c := range old {
		if c == 0 || c == tomb {
			continue
		}
		s := int32(c&(1<<32-1)) - 1
		h := t.hashOf(s)
		for i := h & t.mask; ; i = (i + 1) & t.mask {
			if t.cells[i] == 0 {
				t.cells[i] = cell(h, s)
				t.used++
				break
			}
		}
	}
}

// mix spreads a 64-bit key over a hash (splitmix64's finalizer).
func mix(k uint64) uint64 {
	k ^= k >> 30
	k *= 0xbf58476d1ce4e5b9
	k ^= k >> 27
	k *= 0x94d049bb133111eb
	return k ^ k>>31
}

// keyIndex finds slots by (kind, external key); the keys themselves stay
// in the entries' arena (is and keyOf look at them).
type keyIndex struct {
	seed  maphash.Seed
	t     slotTable
	is    func(slot int32, kind uint8, key string) bool
	keyOf func(slot int32) (uint8, string)
	// hashOf, when set, replaces the hash (tests force collisions).
	hashOf func(kind uint8, key string) uint64
}

func newKeyIndex(n int, is func(int32, uint8, string) bool, keyOf func(int32) (uint8, string), mem *mapped) *keyIndex {
	k := &keyIndex{seed: maphash.MakeSeed(), is: is, keyOf: keyOf}
	k.t = newSlotTable(n, func(s int32) uint64 { return k.hash(k.keyOf(s)) }, mem)
	return k
}

func (k *keyIndex) hash(kind uint8, key string) uint64 {
	if k.hashOf != nil {
		return k.hashOf(kind, key)
	}
	return maphash.String(k.seed, key) + uint64(kind)*0x9e3779b97f4a7c15
}

// find returns the slot of the key, or -1.
func (k *keyIndex) find(kind uint8, key string) int32 {
	return k.t.find(k.hash(kind, key), func(s int32) bool { return k.is(s, kind, key) })
}

func (k *keyIndex) add(slot int32, kind uint8, key string) {
	k.t.set(k.hash(kind, key), slot, func(s int32) bool { return k.is(s, kind, key) })
}

func (k *keyIndex) remove(slot int32, kind uint8, key string) { k.t.del(k.hash(kind, key), slot) }

// ownIndex finds slots by an exact 64-bit key (owner and name, person and
// field).
type ownIndex struct {
	t     slotTable
	keyOf func(slot int32) uint64
}

func newOwnIndex(n int, keyOf func(int32) uint64, mem *mapped) *ownIndex {
	return &ownIndex{t: newSlotTable(n, func(s int32) uint64 { return mix(keyOf(s)) }, mem), keyOf: keyOf}
}

func (o *ownIndex) find(k uint64) int32 {
	return o.t.find(mix(k), func(s int32) bool { return o.keyOf(s) == k })
}

func (o *ownIndex) set(k uint64, slot int32) {
	o.t.set(mix(k), slot, func(s int32) bool { return o.keyOf(s) == k })
}

// del removes slot from under k if it is there (a swap may have given k
// to another slot).
func (o *ownIndex) del(k uint64, slot int32) { o.t.del(mix(k), slot) }

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
	mem   mapped
	e     []deviceEntry
	keys  keyArena
	byKey *keyIndex
	byOwn *ownIndex // owner slot << 32 | folded name
	byID  map[uuid.UUID]int32
}

func newDevTable(n int) *devTable {
	t := &devTable{}
	t.e, t.keys.mem = slice[deviceEntry](&t.mem, n)[:0], &t.mem
	t.byKey = newKeyIndex(n, func(i int32, kind uint8, key string) bool {
		return t.e[i].typ == kind && t.keys.is(t.e[i].key, key)
	}, func(i int32) (uint8, string) { return t.e[i].typ, t.keys.get(t.e[i].key) }, &t.mem)
	t.byOwn = newOwnIndex(n, func(i int32) uint64 { return ownKey(t.e[i].owner, t.e[i].name) }, &t.mem)
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
	mem   mapped
	e     []customEntry
	keys  keyArena
	byKey *keyIndex
	byPF  *ownIndex // person slot << 32 | field
}

func newCustomTable(n int) *customTable {
	t := &customTable{}
	t.e, t.keys.mem = slice[customEntry](&t.mem, n)[:0], &t.mem
	t.byKey = newKeyIndex(n, func(i int32, _ uint8, key string) bool { return t.keys.is(t.e[i].key, key) },
		func(i int32) (uint8, string) { return 0, t.keys.get(t.e[i].key) }, &t.mem)
	t.byPF = newOwnIndex(n, func(i int32) uint64 { return ownKey(t.e[i].person, t.e[i].field) }, &t.mem)
	return t
}

// peopleTable holds the people's entries by slot, with look-ups by ID,
// external key and folded name in slot tables: three Go maps of a million
// people cost about 160 MB, these about 50.
type peopleTable struct {
	mem    mapped
	all    []*personEntry // by slot; nil once dropped
	byID   slotTable
	byKey  *keyIndex
	byName *keyIndex // folded target name
}

func newPeopleTable(n int) *peopleTable {
	t := &peopleTable{all: make([]*personEntry, 0, n)}
	t.byID = newSlotTable(n, func(s int32) uint64 { return idHash(t.all[s].id) }, &t.mem)
	t.byKey = newKeyIndex(n, func(s int32, _ uint8, key string) bool { return t.all[s] != nil && t.all[s].key == key },
		func(s int32) (uint8, string) { return 0, t.all[s].key }, &t.mem)
	t.byName = newKeyIndex(n, func(s int32, _ uint8, name string) bool { return t.all[s] != nil && foldEq(t.all[s].name, name) },
		func(s int32) (uint8, string) { return 0, fold(t.all[s].name) }, &t.mem)
	return t
}

func idHash(id uuid.UUID) uint64 {
	return mix(binary.LittleEndian.Uint64(id[:8]) ^ mix(binary.LittleEndian.Uint64(id[8:])))
}

func (t *peopleTable) find(id uuid.UUID) *personEntry {
	if s := t.byID.find(idHash(id), func(s int32) bool { return t.all[s] != nil && t.all[s].id == id }); s >= 0 {
		return t.all[s]
	}
	return nil
}

func (t *peopleTable) findKey(key string) *personEntry {
	if key == "" {
		return nil
	}
	if s := t.byKey.find(0, key); s >= 0 {
		return t.all[s]
	}
	return nil
}

func (t *peopleTable) findName(folded string) *personEntry {
	if s := t.byName.find(0, folded); s >= 0 {
		return t.all[s]
	}
	return nil
}

// foldEq reports whether fold(s) == folded, without allocating for ASCII.
func foldEq(s, folded string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return fold(s) == folded
		}
	}
	if len(s) != len(folded) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != folded[i] {
			return false
		}
	}
	return true
}
