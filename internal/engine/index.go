package engine

import (
	"encoding/binary"
	"hash/maphash"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/directory"
)

// index is the company's directory in memory during a job, kept current as
// the job changes it, with the look-ups the row rules need.
//
// The few objects (sites, groups, shifts, members) are kept whole. The
// many (people, devices, custom values: millions in a large company) are
// kept as compact entries: their identity, the keys and names rows look
// them up by, and a fingerprint of every field, so that a row that changes
// nothing is told apart by comparing two numbers, without keeping or
// rebuilding the stored object.
type index struct {
	sites       map[uuid.UUID]*directory.Site
	siteByKey   map[string]*directory.Site
	siteByName  map[string]*directory.Site // lower-cased name
	people      *peopleTable
	devs        *devTable
	customs     *customTable
	names       interned // folded device names, custom field keys
	groups      map[uuid.UUID]*directory.Group
	groupByKey  map[string]*directory.Group
	groupByName map[string]*directory.Group
	shifts      map[uuid.UUID]*directory.Shift
	shiftByKey  map[string]*directory.Shift
	shiftByName map[groupName]*directory.Shift
	members     map[uuid.UUID][]*directory.Member // by shift
	had         [gateTypes]int                    // objects the company had, by gate type (gate.go)
}

// personEntry is what a job keeps of a person.
type personEntry struct {
	id, site    uuid.UUID
	key, name   string      // external key; target name as stored
	supervisors []uuid.UUID // nil when none
	fp          uint64      // personPrint of every other field
	slot        int32       // the person's number in this job, for devices and values
	passwordSet bool
	existed     bool // the person was in the company before the job
	written     bool // a person new in this job, already sent to the store
	applied     bool // a row of this job for the person succeeded
	named       bool // a row of this archive named the person's key (mirror spares them)
}

type groupName struct {
	group uuid.UUID
	name  string // lower-cased
}

func fold(s string) string { return strings.ToLower(s) }

// sizes are how many objects of each kind to make room for, from the
// archive's row counts: a company usually has about what its archive
// lists, and maps grown row by row spend much of a load rehashing.
type sizes struct{ people, devices, customs int }

// loadIndex indexes the company's directory but its devices and custom
// values (loadDevices, loadCustoms).
func loadIndex(v directory.View, n sizes) (*index, error) {
	x := &index{
		sites: map[uuid.UUID]*directory.Site{}, siteByKey: map[string]*directory.Site{}, siteByName: map[string]*directory.Site{},
		people: newPeopleTable(n.people),
		devs:   newDevTable(0), customs: newCustomTable(0),
		groups: map[uuid.UUID]*directory.Group{}, groupByKey: map[string]*directory.Group{}, groupByName: map[string]*directory.Group{},
		shifts: map[uuid.UUID]*directory.Shift{}, shiftByKey: map[string]*directory.Shift{}, shiftByName: map[groupName]*directory.Shift{},
		members: map[uuid.UUID][]*directory.Member{},
	}
	// The store's rows are read on this goroutine and indexed on
	// another, in batches: reading (the store's driver) and indexing
	// (hashing, maps) take about as long as each other.
	work := make(chan func(), 4)
	done := make(chan struct{})
	go func() {
		for f := range work {
			f()
		}
		close(done)
	}()
	err := each(v.Sites, work, x.putSite)
	if err == nil {
		err = each(v.People, work, func(p *directory.Person) {
			x.putPerson(nil, p, personPrint(p)).existed = true
			x.had[gatePeople]++
		})
	}
	if err == nil {
		err = each(v.Groups, work, x.putGroup)
	}
	if err == nil {
		err = each(v.Shifts, work, x.putShift)
	}
	if err == nil {
		err = each(v.Members, work, func(m *directory.Member) { x.members[m.ShiftID] = append(x.members[m.ShiftID], m) })
	}
	close(work)
	<-done
	x.had[gateSites], x.had[gateGroups], x.had[gateShifts] = len(x.sites), len(x.groups), len(x.shifts)
	return x, err
}

// loadDevices indexes the company's devices; n is how many to make room
// for when it has any. The job reads them only when it comes to its device
// files, and keeps after them only the few that later steps ask for
// (keepDevices): a million people have millions of devices, and as many
// custom values, which need not be in memory at the same time.
func (x *index) loadDevices(v directory.View, n int) error {
	first := true
	return inBackground(v.Devices, func(d *directory.Device) {
		if first {
			x.devs.mem.free()
			x.devs, first = newDevTable(n), false
		}
		x.putDevice(nil, d)
		x.had[gateDevices]++
	})
}

// keepDevices drops every device entry but those keep wants.
func (x *index) keepDevices(keep func(*deviceEntry) bool) {
	old := x.devs
	kept := make([]bool, len(old.e))
	n := 0
	for i := range old.e {
		if kept[i] = !old.e[i].dead && keep(&old.e[i]); kept[i] {
			n++
		}
	}
	x.devs = newDevTable(n)
	for i := range old.e {
		if e := &old.e[i]; kept[i] {
			x.addDevice(*e, old.keys.get(e.key))
		}
	}
	old.mem.free()
}

// loadCustoms and keepCustoms are loadDevices and keepDevices for custom
// values.
func (x *index) loadCustoms(v directory.View, n int) error {
	first := true
	return inBackground(v.CustomValues, func(c *directory.CustomValue) {
		if first {
			x.customs.mem.free()
			x.customs, first = newCustomTable(n), false
		}
		x.putCustom(nil, c)
		x.had[gateCustoms]++
	})
}

func (x *index) keepCustoms(keep func(*customEntry) bool) {
	old := x.customs
	kept := make([]bool, len(old.e))
	n := 0
	for i := range old.e {
		if kept[i] = !old.e[i].dead && keep(&old.e[i]); kept[i] {
			n++
		}
	}
	x.customs = newCustomTable(n)
	for i := range old.e {
		if e := &old.e[i]; kept[i] {
			x.addCustom(*e, old.keys.get(e.key))
		}
	}
	old.mem.free()
}

// free gives back the memory of the big tables (mapped); x is unusable
// after.
func (x *index) free() {
	x.devs.mem.free()
	x.customs.mem.free()
	x.people.mem.free()
	x.devs, x.customs, x.people = nil, nil, nil
}

// inBackground reads objects with read on this goroutine and indexes them
// with put on another.
func inBackground[T any](read func(func(*T) error) error, put func(*T)) error {
	work := make(chan func(), 4)
	done := make(chan struct{})
	go func() {
		for f := range work {
			f()
		}
		close(done)
	}()
	err := each(read, work, put)
	close(work)
	<-done
	return err
}

// loadBatch is how many objects go to the indexing goroutine at once.
const loadBatch = 2048

// each reads objects with read and sends them in batches to work, where
// put indexes them.
func each[T any](read func(func(*T) error) error, work chan<- func(), put func(*T)) error {
	batch := make([]*T, 0, loadBatch)
	send := func() {
		b := batch
		work <- func() {
			for _, o := range b {
				put(o)
			}
		}
		batch = make([]*T, 0, loadBatch)
	}
	err := read(func(o *T) error {
		batch = append(batch, o)
		if len(batch) == loadBatch {
			send()
		}
		return nil
	})
	if len(batch) > 0 {
		send()
	}
	return err
}

// Fingerprints: 64-bit hashes of an object's fields, each string behind
// its length. Two objects with equal prints are taken as equal; for two
// different ones to collide takes about 2^32 objects.

var printSeed = maphash.MakeSeed()

type printer struct{ h maphash.Hash }

func newPrinter() *printer {
	p := &printer{}
	p.h.SetSeed(printSeed)
	return p
}

func (p *printer) str(s string) {
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(len(s)))
	p.h.Write(n[:])
	p.h.WriteString(s)
}

func (p *printer) id(id uuid.UUID) { p.h.Write(id[:]) }

func (p *printer) flag(b bool) {
	if b {
		p.h.WriteByte(1)
	} else {
		p.h.WriteByte(0)
	}
}

func (p *printer) num(n int) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(n))
	p.h.Write(b[:])
}

func (p *printer) common(c *directory.Common) {
	p.id(c.ID)
	p.str(c.ExternalKey)
	p.flag(c.Owned)
}

// personPrint covers every field that samePerson compared except the
// supervisors (kept beside it) and PasswordSet (never compared).
func personPrint(o *directory.Person) uint64 {
	p := newPrinter()
	p.common(&o.Common)
	for _, s := range []string{o.TargetName, o.FirstName, o.LastName, o.Status, o.Language, o.TimeZone, o.WebLogin} {
		p.str(s)
	}
	p.id(o.SiteID)
	p.num(len(o.Roles))
	for _, r := range o.Roles {
		p.str(r)
	}
	return p.h.Sum64()
}

func devicePrint(o *directory.Device) uint64 {
	p := newPrinter()
	p.common(&o.Common)
	p.id(o.OwnerID)
	for _, s := range []string{string(o.Type), o.Name, o.Status, o.Address, o.Country, o.AreaCode, o.Phone, o.Extension,
		o.PIN, o.Provider, o.CountryCode} {
		p.str(s)
	}
	p.flag(o.Default)
	p.num(o.Order)
	p.num(o.Delay)
	p.flag(o.Lock24x7)
	return p.h.Sum64()
}

func customPrint(o *directory.CustomValue) uint64 {
	p := newPrinter()
	p.common(&o.Common)
	p.id(o.PersonID)
	p.str(o.FieldKey)
	p.str(o.Value)
	return p.h.Sum64()
}

// put* record a new or changed object. For the compact kinds, e is the
// object's entry (nil for an object not yet in the index), changed in
// place and returned.

func (x *index) putSite(s *directory.Site) {
	if old := x.sites[s.ID]; old != nil {
		if x.siteByKey[old.ExternalKey] == old {
			delete(x.siteByKey, old.ExternalKey)
		}
		if x.siteByName[fold(old.Name)] == old { // a swap may have given it to another
			delete(x.siteByName, fold(old.Name))
		}
	}
	x.sites[s.ID] = s
	if s.ExternalKey != "" {
		x.siteByKey[s.ExternalKey] = s
	}
	x.siteByName[fold(s.Name)] = s
}

func (x *index) dropSite(s *directory.Site) {
	delete(x.sites, s.ID)
	delete(x.siteByKey, s.ExternalKey)
	delete(x.siteByName, fold(s.Name))
}

func (x *index) putPerson(e *personEntry, p *directory.Person, fp uint64) *personEntry {
	t := x.people
	rekey, rename := true, true
	if e == nil {
		e = &personEntry{id: p.ID, slot: int32(len(t.all))}
		t.all = append(t.all, e)
		t.byID.set(idHash(e.id), e.slot, func(s int32) bool { return t.all[s] != nil && t.all[s].id == e.id })
	} else {
		// Out of the look-ups under the old key and name, into them under
		// the new: the look-ups read the entries. A swap may have given
		// the old name to another already (del then does nothing).
		rekey, rename = e.key != p.ExternalKey, !foldEq(p.TargetName, fold(e.name))
		if rekey && e.key != "" {
			t.byKey.remove(e.slot, 0, e.key)
		}
		if rename {
			t.byName.remove(e.slot, 0, fold(e.name))
		}
	}
	e.site, e.key, e.name, e.fp, e.passwordSet = p.SiteID, p.ExternalKey, p.TargetName, fp, p.PasswordSet
	if len(p.Supervisors) > 0 {
		e.supervisors = p.Supervisors
	} else {
		e.supervisors = nil
	}
	if rekey && e.key != "" {
		t.byKey.add(e.slot, 0, e.key)
	}
	if rename {
		t.byName.add(e.slot, 0, fold(e.name))
	}
	return e
}

// dropPerson removes a person. Their devices, custom values, memberships
// and supervisor links go with them in the store; the index does not
// follow: removals run in reverse dependency order, so nothing looks up a
// removed person's devices or values afterwards.
func (x *index) dropPerson(e *personEntry) {
	t := x.people
	t.byID.del(idHash(e.id), e.slot)
	if e.key != "" {
		t.byKey.remove(e.slot, 0, e.key)
	}
	t.byName.remove(e.slot, 0, fold(e.name))
	t.all[e.slot] = nil
}

// person returns the person with the ID, or nil.
func (x *index) person(id uuid.UUID) *personEntry { return x.people.find(id) }

// personByKey returns the person with the external key, or nil.
func (x *index) personByKey(key string) *personEntry { return x.people.findKey(key) }

// personNamed returns the person with the target name (any case), or nil.
func (x *index) personNamed(name string) *personEntry { return x.people.findName(fold(name)) }

// eachPerson calls fn for every person.
func (x *index) eachPerson(fn func(*personEntry)) {
	for _, e := range x.people.all {
		if e != nil {
			fn(e)
		}
	}
}

// slotOf returns the slot of the person with the ID, -1 for none.
func (x *index) slotOf(id uuid.UUID) int32 {
	if p := x.person(id); p != nil {
		return p.slot
	}
	return -1
}

// deviceByKey returns the company's device of the type with the key, or nil.
func (x *index) deviceByKey(t directory.DeviceType, key string) *deviceEntry {
	if key == "" {
		return nil
	}
	if i := x.devs.byKey.find(typeIndex(t), key); i >= 0 {
		return &x.devs.e[i]
	}
	return nil
}

// deviceByOwn returns the owner's device with the name (any case), or nil.
func (x *index) deviceByOwn(owner *personEntry, name string) *deviceEntry {
	n, ok := x.names.lookup(fold(name))
	if !ok {
		return nil
	}
	if i := x.devs.byOwn.find(ownKey(owner.slot, n)); i >= 0 {
		return &x.devs.e[i]
	}
	return nil
}

func (x *index) deviceKey(e *deviceEntry) string  { return x.devs.keys.get(e.key) }
func (x *index) deviceName(e *deviceEntry) string { return x.names.strs[e.name] } // folded

// addDevice appends an entry (with key) to the device table.
func (x *index) addDevice(e deviceEntry, key string) {
	t := x.devs
	i := int32(len(t.e))
	e.key, e.slot = t.keys.put(key), i
	t.e = append(t.e, e)
	if key != "" {
		t.byKey.add(i, e.typ, key)
	}
	t.byOwn.set(ownKey(e.owner, e.name), i)
	if t.byID != nil {
		t.byID[e.id] = i
	}
}

// putDevice records a device the company has: e is its entry, nil for one
// not yet in the index (loading).
func (x *index) putDevice(e *deviceEntry, d *directory.Device) {
	n := deviceEntry{id: d.ID, fp: devicePrint(d), owner: x.slotOf(d.OwnerID), name: x.names.id(fold(d.Name)),
		order: int32(d.Order), delay: int32(d.Delay), typ: typeIndex(d.Type)}
	if e == nil {
		x.addDevice(n, d.ExternalKey)
		return
	}
	t := x.devs
	i := e.slot
	// Out of the look-ups under the old key and name, the entry changed,
	// into them under the new: the look-ups read the entries.
	old := x.deviceKey(e)
	rekey := old != d.ExternalKey || e.typ != n.typ
	if rekey && old != "" {
		t.byKey.remove(i, e.typ, old)
	}
	t.byOwn.del(ownKey(e.owner, e.name), i)
	if rekey {
		n.key = t.keys.put(d.ExternalKey)
	} else {
		n.key = e.key
	}
	n.slot, n.named = i, e.named
	*e = n
	if rekey && d.ExternalKey != "" {
		t.byKey.add(i, n.typ, d.ExternalKey)
	}
	t.byOwn.set(ownKey(n.owner, n.name), i)
}

func (x *index) dropDevice(e *deviceEntry) {
	t := x.devs
	i := e.slot
	if k := x.deviceKey(e); k != "" {
		t.byKey.remove(i, e.typ, k)
	}
	t.byOwn.del(ownKey(e.owner, e.name), i)
	if t.byID != nil {
		delete(t.byID, e.id)
	}
	e.dead = true
}

// device returns the device with the ID, or nil.
func (x *index) device(id uuid.UUID) *deviceEntry {
	t := x.devs
	if t.byID == nil {
		t.byID = make(map[uuid.UUID]int32, len(t.e))
		for i := range t.e {
			if !t.e[i].dead {
				t.byID[t.e[i].id] = int32(i)
			}
		}
	}
	if i, ok := t.byID[id]; ok {
		return &t.e[i]
	}
	return nil
}

// eachDevice calls fn for every device of the type with an external key.
func (x *index) eachDevice(typ directory.DeviceType, fn func(e *deviceEntry, key string)) {
	ti := typeIndex(typ)
	for i := range x.devs.e {
		if e := &x.devs.e[i]; !e.dead && e.typ == ti && e.key.n != 0 {
			fn(e, x.deviceKey(e))
		}
	}
}

// customByKey returns the company's custom value with the key, or nil.
func (x *index) customByKey(key string) *customEntry {
	if key == "" {
		return nil
	}
	if i := x.customs.byKey.find(0, key); i >= 0 {
		return &x.customs.e[i]
	}
	return nil
}

// customByPF returns the person's value of the field, or nil.
func (x *index) customByPF(person *personEntry, field string) *customEntry {
	f, ok := x.names.lookup(field)
	if !ok {
		return nil
	}
	if i := x.customs.byPF.find(ownKey(person.slot, f)); i >= 0 {
		return &x.customs.e[i]
	}
	return nil
}

func (x *index) customKey(e *customEntry) string { return x.customs.keys.get(e.key) }

func (x *index) addCustom(e customEntry, key string) {
	t := x.customs
	i := int32(len(t.e))
	e.key, e.slot = t.keys.put(key), i
	t.e = append(t.e, e)
	if key != "" {
		t.byKey.add(i, 0, key)
	}
	t.byPF.set(ownKey(e.person, e.field), i)
}

// putCustom is putDevice for custom values.
func (x *index) putCustom(e *customEntry, c *directory.CustomValue) {
	n := customEntry{id: c.ID, fp: customPrint(c), person: x.slotOf(c.PersonID), field: x.names.id(c.FieldKey)}
	if e == nil {
		x.addCustom(n, c.ExternalKey)
		return
	}
	t := x.customs
	i := e.slot
	old := x.customKey(e)
	rekey := old != c.ExternalKey
	if rekey && old != "" {
		t.byKey.remove(i, 0, old)
	}
	t.byPF.del(ownKey(e.person, e.field), i)
	if rekey {
		n.key = t.keys.put(c.ExternalKey)
	} else {
		n.key = e.key
	}
	n.slot, n.named = i, e.named
	*e = n
	if rekey && c.ExternalKey != "" {
		t.byKey.add(i, 0, c.ExternalKey)
	}
	t.byPF.set(ownKey(n.person, n.field), i)
}

func (x *index) dropCustom(e *customEntry) {
	t := x.customs
	i := e.slot
	if k := x.customKey(e); k != "" {
		t.byKey.remove(i, 0, k)
	}
	t.byPF.del(ownKey(e.person, e.field), i)
	e.dead = true
}

// eachCustom calls fn for every custom value with an external key.
func (x *index) eachCustom(fn func(e *customEntry, key string)) {
	for i := range x.customs.e {
		if e := &x.customs.e[i]; !e.dead && e.key.n != 0 {
			fn(e, x.customKey(e))
		}
	}
}

func (x *index) putGroup(g *directory.Group) {
	if old := x.groups[g.ID]; old != nil {
		if x.groupByKey[old.ExternalKey] == old {
			delete(x.groupByKey, old.ExternalKey)
		}
		if x.groupByName[fold(old.TargetName)] == old { // a swap may have given it to another
			delete(x.groupByName, fold(old.TargetName))
		}
	}
	x.groups[g.ID] = g
	if g.ExternalKey != "" {
		x.groupByKey[g.ExternalKey] = g
	}
	x.groupByName[fold(g.TargetName)] = g
}

// dropGroup removes a group with its shifts, as the store cascades them.
func (x *index) dropGroup(g *directory.Group) {
	delete(x.groups, g.ID)
	delete(x.groupByKey, g.ExternalKey)
	delete(x.groupByName, fold(g.TargetName))
	for _, s := range x.shifts {
		if s.GroupID == g.ID {
			x.dropShift(s)
		}
	}
}

func (x *index) putShift(s *directory.Shift) {
	if old := x.shifts[s.ID]; old != nil {
		if x.shiftByKey[old.ExternalKey] == old {
			delete(x.shiftByKey, old.ExternalKey)
		}
		if k := (groupName{old.GroupID, fold(old.Name)}); x.shiftByName[k] == old {
			delete(x.shiftByName, k)
		}
	}
	x.shifts[s.ID] = s
	if s.ExternalKey != "" {
		x.shiftByKey[s.ExternalKey] = s
	}
	x.shiftByName[groupName{s.GroupID, fold(s.Name)}] = s
}

func (x *index) dropShift(s *directory.Shift) {
	delete(x.shifts, s.ID)
	if x.shiftByKey[s.ExternalKey] == s {
		delete(x.shiftByKey, s.ExternalKey)
	}
	delete(x.shiftByName, groupName{s.GroupID, fold(s.Name)})
	delete(x.members, s.ID)
}

// siteInUse reports whether a person or group uses the site.
func (x *index) siteInUse(id uuid.UUID) bool {
	inUse := false
	x.eachPerson(func(p *personEntry) { inUse = inUse || p.site == id })
	if inUse {
		return true
	}
	for _, g := range x.groups {
		if g.SiteID == id {
			return true
		}
	}
	return false
}

// externalKeyOf returns the external key of a shift member's object.
func (x *index) externalKeyOf(m *directory.Member) string {
	switch m.Type {
	case directory.MemberPerson:
		if p := x.person(m.MemberID); p != nil {
			return p.key
		}
	case directory.MemberGroup:
		if g := x.groups[m.MemberID]; g != nil {
			return g.ExternalKey
		}
	case directory.MemberShift:
		if s := x.shifts[m.MemberID]; s != nil {
			return s.ExternalKey
		}
	case directory.MemberDevice:
		if d := x.device(m.MemberID); d != nil {
			return x.deviceKey(d)
		}
	}
	return ""
}

// sameIDs reports whether two ID lists are equal, nil and empty alike.
func sameIDs(a, b []uuid.UUID) bool { return slices.Equal(a, b) }
