package engine

import (
	"slices"

	"github.com/google/uuid"
)

// Names that objects of one archive trade among themselves (K1 "alice" to
// "bob" and K2 "bob" to "alice", or K1 taking the name that K2, later in
// the file, gives up) collide only on the way. processing.md §4 fails a row
// for a name that collides with another object: in the end state. So a row
// whose name is held by an object with an external key that the file's
// own rows may still move waits (nameWait) until the file is read; then
// settleNames applies the waiting rows in an order in which every name is
// free when it is taken, and a cycle (a swap) by letting one row take its
// name while the holder is about to move. In the store, a renamed object
// whose old name another object takes is first written under a placeholder
// name (vacate), so that no statement of the transaction meets the unique
// name index in a state between the two.

// Modes of a row's name check.
const (
	namePass  = iota // the file is being read: a name a movable object holds waits
	nameRetry        // the file is read: a name another object holds fails the row
	nameForce        // a cycle: the holder moves, so the row takes the name
)

// nameWait is a row waiting for its name.
type nameWait struct {
	self   any                  // the row's object in the index; nil for a new one
	holder func() any           // the object that holds the row's name now, or nil
	run    func(mode int) error // checks the name again and applies the row
}

// some returns p as an any that is nil when p is.
func some[T any](p *T) any {
	if p == nil {
		return nil
	}
	return p
}

// settleNames applies the waiting rows: each once the holder of its name
// moved or stays (then the row fails); rows that wait for each other in a
// cycle by forcing one of them.
func settleNames(ws []nameWait) error {
	for len(ws) > 0 {
		waiting := map[any]bool{}
		for _, w := range ws {
			if w.self != nil {
				waiting[w.self] = true
			}
		}
		var rest []nameWait
		for _, w := range ws {
			if h := w.holder(); h != nil && h != w.self && waiting[h] {
				rest = append(rest, w)
				continue
			}
			if err := w.run(nameRetry); err != nil {
				return err
			}
		}
		if len(rest) < len(ws) {
			ws = rest
			continue
		}
		// Every row waits for another's object: follow the holders to a
		// cycle and let its row take the name.
		bySelf := map[any]int{}
		for i, w := range ws {
			if w.self != nil {
				bySelf[w.self] = i
			}
		}
		seen := map[int]bool{}
		i := 0
		for !seen[i] {
			seen[i] = true
			i = bySelf[ws[i].holder()]
		}
		if err := ws[i].run(nameForce); err != nil {
			return err
		}
		ws = slices.Delete(ws, i, i+1)
	}
	return nil
}

// placeholder is the name a renamed object has in the store for a moment
// while another object takes its old name.
func placeholder(id uuid.UUID) string { return "~epic-rename~" + id.String() }

// rename is an object of an update that changes its name, and its old
// name (folded).
type rename[P any] struct {
	obj P
	old string
}

// vacate writes, under a placeholder name, the renamed objects whose old
// name another object of the job has taken (taken), before the file's
// updates are written; moved returns a copy of an object under its
// placeholder.
func vacate[P any](put func(bool, []P) error, renamed []rename[P], taken func(old string, obj P) bool, moved func(P) P) error {
	var out []P
	for _, rn := range renamed {
		if taken(rn.old, rn.obj) {
			out = append(out, moved(rn.obj))
		}
	}
	if len(out) == 0 {
		return nil
	}
	return put(false, out)
}
