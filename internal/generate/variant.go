package generate

import (
	"fmt"
	"math"
	"math/bits"
)

// maxAddPercent bounds Options.AddPercent: ten times the people is plenty
// for a "next night" and keeps every count far from overflow.
const maxAddPercent = 1000

// variant says which people "the next night's" archive changes, appends
// and leaves out. It holds a few numbers, never a set of people: person i
// of the base archive has the position (i*mul + off) mod base, a
// permutation of 0..base-1 because mul is coprime with base, and
//
//	position < drop                  the person is left out
//	drop <= position < drop+change   the person gets another LAST_NAME
//
// so the two sets never overlap, hold exactly drop and change people and
// are spread over the whole index range. Appended people have the indexes
// base..base+add-1, past every base person, so they overlap neither.
type variant struct {
	base, drop, change, add int
	mul, off                uint64
}

// Check reports whether Write accepts o: Users 0 or more, each percent
// finite and in range (ChangePercent and DropPercent 0 to 100 and at most
// 100 together, AddPercent 0 to 1000).
func (o Options) Check() error {
	if o.Users < 0 {
		return fmt.Errorf("the number of people must be 0 or more, not %d", o.Users)
	}
	for _, p := range []struct {
		name string
		v    float64
		max  float64
	}{{"ChangePercent", o.ChangePercent, 100}, {"AddPercent", o.AddPercent, maxAddPercent}, {"DropPercent", o.DropPercent, 100}} {
		if math.IsNaN(p.v) || p.v < 0 || p.v > p.max {
			return fmt.Errorf("%s must be between 0 and %g, not %g", p.name, p.max, p.v)
		}
	}
	if o.ChangePercent+o.DropPercent > 100 {
		return fmt.Errorf("ChangePercent and DropPercent together must be 100 or less, not %g", o.ChangePercent+o.DropPercent)
	}
	return nil
}

// newVariant derives the variant of opt; opt has passed Check.
func newVariant(opt Options) variant {
	n := opt.Users
	count := func(p float64) int { return int(math.Round(float64(n) * p / 100)) }
	v := variant{base: n, drop: min(count(opt.DropPercent), n), add: count(opt.AddPercent)}
	v.change = min(count(opt.ChangePercent), n-v.drop)
	if n == 0 {
		return v
	}
	// A multiplier near n/φ spreads the positions best (consecutive
	// people land far apart, Fibonacci hashing); the seed picks the offset.
	un := uint64(n)
	v.mul = uint64(float64(n)*0.6180339887498949) % un
	for gcd(v.mul, un) != 1 { // gcd(0, 1) is 1: with one person any mul will do
		v.mul = (v.mul + 1) % un
	}
	v.off = mix(uint64(opt.Seed), streamVariant) % un
	return v
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// position returns the place of base person i in the variant's order.
func (v *variant) position(i int) int {
	hi, lo := bits.Mul64(uint64(i), v.mul)
	r := bits.Rem64(hi, lo, uint64(v.base))
	return int((r + v.off) % uint64(v.base))
}

// dropped reports whether person i is left out of the archive.
func (v *variant) dropped(i int) bool {
	return v.drop > 0 && i < v.base && v.position(i) < v.drop
}

// changed reports whether person i gets another LAST_NAME and first
// device address.
func (v *variant) changed(i int) bool {
	if v.change == 0 || i >= v.base {
		return false
	}
	p := v.position(i)
	return p >= v.drop && p < v.drop+v.change
}

// people is the number of indexes to walk: the base people and the
// appended ones.
func (v *variant) people() int { return v.base + v.add }

// newLast returns the LAST_NAME a changed person i takes: another name of
// the same culture, with another login stem too, so that the addresses
// built from it change as well.
func (g *gen) newLast(i int, id identity) *name {
	t := nameTables[id.cult][1]
	s := g.sv
	s.reset(g.seed, streamChange, i)
	j := s.intn(len(t))
	for t[j].stem == id.last.stem {
		j = (j + 1) % len(t)
	}
	return &t[j]
}

// changedFirst returns what the first device of changed person i shows:
// the identity with the new LAST_NAME and the number (or PIN) moved by one,
// whose lowest digit, the first one a template takes, thus differs.
func (g *gen) changedFirst(i int, id identity, d *devices, dv *device) (identity, devices, device) {
	id.last = g.newLast(i, id)
	dd, ddv := *d, *dv
	dd.mobile++
	ddv.num++
	return id, dd, ddv
}
