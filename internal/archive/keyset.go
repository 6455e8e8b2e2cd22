package archive

// keySet holds the keys of one uniqueness constraint as 64-bit hashes,
// each with a 32-bit mark (the line that introduced it, and removedBit for
// ACTION=R rows). It is an open-addressing table with linear probing:
// 12 bytes a slot, about 20 a key, where a Go map takes about 30; at ten
// million keys that is the difference between fitting the memory target
// and not. Hashes, not strings: the seed is random per run, so a collision
// (about one in 10^6 runs at ten million keys) cannot repeat.
type keySet struct {
	hashes []uint64 // 0 marks an empty slot; a real hash of 0 is stored as 1
	marks  []uint32
	n      int
}

const (
	removedBit     = 1 << 31
	keySetMinSlots = 1 << 10
)

func newKeySet() *keySet {
	return &keySet{hashes: make([]uint64, keySetMinSlots), marks: make([]uint32, keySetMinSlots)}
}

// get returns the mark stored for h.
func (s *keySet) get(h uint64) (uint32, bool) {
	if h == 0 {
		h = 1
	}
	mask := uint64(len(s.hashes) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch s.hashes[i] {
		case h:
			return s.marks[i], true
		case 0:
			return 0, false
		}
	}
}

// add stores h with mark unless h is present; it returns the mark already
// stored and true in that case.
func (s *keySet) add(h uint64, mark uint32) (uint32, bool) {
	if h == 0 {
		h = 1
	}
	if (s.n+1)*10 > len(s.hashes)*7 { // keep the load under 0.7
		s.grow()
	}
	mask := uint64(len(s.hashes) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch s.hashes[i] {
		case h:
			return s.marks[i], true
		case 0:
			s.hashes[i], s.marks[i] = h, mark
			s.n++
			return 0, false
		}
	}
}

// reserve makes room for n more keys without growing.
func (s *keySet) reserve(n int) {
	slots := len(s.hashes)
	for (s.n+n)*10 > slots*7 {
		slots *= 2
	}
	if slots > len(s.hashes) {
		s.resize(slots)
	}
}

func (s *keySet) grow() { s.resize(2 * len(s.hashes)) }

func (s *keySet) resize(slots int) {
	old, oldMarks := s.hashes, s.marks
	s.hashes = make([]uint64, slots)
	s.marks = make([]uint32, slots)
	mask := uint64(len(s.hashes) - 1)
	for j, h := range old {
		if h == 0 {
			continue
		}
		i := h & mask
		for s.hashes[i] != 0 {
			i = (i + 1) & mask
		}
		s.hashes[i], s.marks[i] = h, oldMarks[j]
	}
}
