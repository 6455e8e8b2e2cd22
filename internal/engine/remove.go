package engine

import (
	"cmp"
	"slices"

	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/archive"
	"github.com/epicsync/epic/internal/directory"
)

// deletes collects what the removal phase and the mirror sweep remove;
// write sends it to the store, dependents first.
type deletes struct {
	shifts, groups, customs, devices, people, sites []uuid.UUID
}

func (d *deletes) write(tx directory.Tx) error {
	for _, step := range []struct {
		ids []uuid.UUID
		del func([]uuid.UUID) error
	}{
		{d.shifts, tx.DeleteShifts}, {d.groups, tx.DeleteGroups}, {d.customs, tx.DeleteCustomValues},
		{d.devices, tx.DeleteDevices}, {d.people, tx.DeletePeople}, {d.sites, tx.DeleteSites},
	} {
		if len(step.ids) > 0 {
			if err := step.del(step.ids); err != nil {
				return err
			}
		}
	}
	return nil
}

// layoutOrder is the position of a layout in dependency order.
func layoutOrder(l *archive.Layout) int {
	for i, x := range archive.Layouts(archive.Latest) {
		if x == l {
			return i
		}
	}
	return -1
}

// remove applies the R rows (non-mirror mode), in reverse dependency order.
func (r *run) remove() error {
	slices.SortStableFunc(r.removals, func(a, b removal) int { return cmp.Compare(layoutOrder(b.layout), layoutOrder(a.layout)) })
	for _, rm := range r.removals {
		l, line, key := rm.layout, rm.line, rm.key
		found := r.removeByKey(l, key, func(outcome string) { r.outcome(l, line, key, outcome) },
			func(event, msg string) { r.fail(l, line, key, event, "", "", msg) })
		if !found {
			r.detail(l, line, key, "WARNING", "ROW", "NOT_FOUND", "EXTERNAL_KEY", key, "no object has this external key; nothing to remove")
			r.outcome(l, line, key, Ignored)
		}
	}
	if !r.man.Mirror {
		return r.dels.write(r.tx)
	}
	return nil
}

// removeByKey removes the object of l with the external key, reporting
// through done (an outcome) or fail. It returns false when there is none.
func (r *run) removeByKey(l *archive.Layout, key string, done func(string), fail func(event, msg string)) bool {
	switch {
	case l.Name == archive.FileSites:
		s := r.x.siteByKey[key]
		if s == nil {
			return false
		}
		if r.x.siteInUse(s.ID) {
			fail("SITE_IN_USE", "people or groups still use this site; move them first")
			return true
		}
		r.x.dropSite(s)
		r.dels.sites = append(r.dels.sites, s.ID)
	case l.Name == archive.FileUsers:
		p := r.x.personByKey(key)
		if p == nil {
			return false
		}
		r.x.dropPerson(p)
		r.dels.people = append(r.dels.people, p.id)
	case l.DeviceType != "":
		d := r.x.deviceByKey(directory.DeviceType(l.DeviceType), key)
		if d == nil {
			return false
		}
		if r.ignore[r.x.deviceName(d)] {
			done(Ignored)
			return true
		}
		r.x.dropDevice(d)
		r.dels.devices = append(r.dels.devices, d.id)
	case l.Name == archive.FileCustomValues:
		c := r.x.customByKey(key)
		if c == nil {
			return false
		}
		r.x.dropCustom(c)
		r.dels.customs = append(r.dels.customs, c.id)
	case l.Name == archive.FileGroups:
		g := r.x.groupByKey[key]
		if g == nil {
			return false
		}
		r.x.dropGroup(g)
		r.dels.groups = append(r.dels.groups, g.ID)
	case l.Name == archive.FileTeams:
		s := r.x.shiftByKey[key]
		if s == nil {
			return false
		}
		r.x.dropShift(s)
		r.dels.shifts = append(r.dels.shifts, s.ID)
	default:
		return false
	}
	done(Removed)
	return true
}

// mirror removes every object of the company with an external key that no
// row of its file named (processing.md §4), for the files of the archive's
// version; objects without an external key are never touched.
func (r *run) mirror() error {
	layouts := archive.Layouts(r.man.Version)
	for i := len(layouts) - 1; i >= 0; i-- {
		l := layouts[i]
		var keys []string
		switch {
		case l.Name == archive.FileSites:
			keys = unnamed(r.x.siteByKey, r.named, l.Name)
		case l.Name == archive.FileUsers:
			r.x.eachPerson(func(p *personEntry) {
				if p.key != "" && p.existed && !p.named { // new people are spared
					keys = append(keys, p.key)
				}
			})
		case l.DeviceType != "":
			r.x.eachDevice(directory.DeviceType(l.DeviceType), func(d *deviceEntry, k string) {
				if !d.named && !r.ignore[r.x.deviceName(d)] {
					keys = append(keys, k)
				}
			})
		case l.Name == archive.FileCustomValues:
			r.x.eachCustom(func(c *customEntry, k string) {
				if !c.named {
					keys = append(keys, k)
				}
			})
		case l.Name == archive.FileGroups:
			keys = unnamed(r.x.groupByKey, r.named, l.Name)
		case l.Name == archive.FileTeams:
			keys = unnamed(r.x.shiftByKey, r.named, l.Name)
		}
		slices.Sort(keys) // a stable report
		for _, k := range keys {
			r.removeByKey(l, k, func(string) { r.line(l).RemovedByMirror++ }, func(event, msg string) {
				r.detail(l, 0, k, "WARNING", "ROW", event, "EXTERNAL_KEY", k, "mirror keeps this site: "+msg)
			})
		}
	}
	return r.dels.write(r.tx)
}

func unnamed[T any](byKey map[string]T, named namedKeys, file string) []string {
	var keys []string
	for k := range byKey {
		if !named.has(file, k) {
			keys = append(keys, k)
		}
	}
	return keys
}
