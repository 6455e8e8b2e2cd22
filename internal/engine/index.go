package engine

import (
	"strings"

	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/directory"
)

// index is the company's directory in memory during a job, kept current as
// the job changes it, with the look-ups the row rules need.
type index struct {
	sites       map[uuid.UUID]*directory.Site
	siteByKey   map[string]*directory.Site
	siteByName  map[string]*directory.Site // lower-cased name
	people      map[uuid.UUID]*directory.Person
	personByKey map[string]*directory.Person
	personByID  map[string]*directory.Person // lower-cased target name
	existed     map[uuid.UUID]bool           // people who existed before the job
	devices     map[uuid.UUID]*directory.Device
	ownedBy     map[uuid.UUID]map[uuid.UUID]*directory.Device // devices by owner
	deviceByKey map[directory.DeviceType]map[string]*directory.Device
	deviceByOwn map[ownerName]*directory.Device
	customs     map[uuid.UUID]*directory.CustomValue
	customsOf   map[uuid.UUID]map[uuid.UUID]*directory.CustomValue // by person
	customByKey map[string]*directory.CustomValue
	customByPF  map[personField]*directory.CustomValue
	groups      map[uuid.UUID]*directory.Group
	groupByKey  map[string]*directory.Group
	groupByName map[string]*directory.Group
	shifts      map[uuid.UUID]*directory.Shift
	shiftByKey  map[string]*directory.Shift
	shiftByName map[groupName]*directory.Shift
	members     map[uuid.UUID][]*directory.Member // by shift
}

type ownerName struct {
	owner uuid.UUID
	name  string // lower-cased
}

type personField struct {
	person uuid.UUID
	field  string
}

type groupName struct {
	group uuid.UUID
	name  string // lower-cased
}

func fold(s string) string { return strings.ToLower(s) }

func loadIndex(v directory.View) (*index, error) {
	x := &index{
		sites: map[uuid.UUID]*directory.Site{}, siteByKey: map[string]*directory.Site{}, siteByName: map[string]*directory.Site{},
		people: map[uuid.UUID]*directory.Person{}, personByKey: map[string]*directory.Person{}, personByID: map[string]*directory.Person{},
		existed: map[uuid.UUID]bool{},
		devices: map[uuid.UUID]*directory.Device{}, ownedBy: map[uuid.UUID]map[uuid.UUID]*directory.Device{}, deviceByKey: map[directory.DeviceType]map[string]*directory.Device{},
		deviceByOwn: map[ownerName]*directory.Device{},
		customs:     map[uuid.UUID]*directory.CustomValue{}, customsOf: map[uuid.UUID]map[uuid.UUID]*directory.CustomValue{}, customByKey: map[string]*directory.CustomValue{}, customByPF: map[personField]*directory.CustomValue{},
		groups: map[uuid.UUID]*directory.Group{}, groupByKey: map[string]*directory.Group{}, groupByName: map[string]*directory.Group{},
		shifts: map[uuid.UUID]*directory.Shift{}, shiftByKey: map[string]*directory.Shift{}, shiftByName: map[groupName]*directory.Shift{},
		members: map[uuid.UUID][]*directory.Member{},
	}
	for _, t := range directory.DeviceTypes {
		x.deviceByKey[t] = map[string]*directory.Device{}
	}
	err := v.Sites(func(s *directory.Site) error { x.putSite(s); return nil })
	if err == nil {
		err = v.People(func(p *directory.Person) error { x.putPerson(p); x.existed[p.ID] = true; return nil })
	}
	if err == nil {
		err = v.Devices(func(d *directory.Device) error { x.putDevice(d); return nil })
	}
	if err == nil {
		err = v.CustomValues(func(c *directory.CustomValue) error { x.putCustom(c); return nil })
	}
	if err == nil {
		err = v.Groups(func(g *directory.Group) error { x.putGroup(g); return nil })
	}
	if err == nil {
		err = v.Shifts(func(s *directory.Shift) error { x.putShift(s); return nil })
	}
	if err == nil {
		err = v.Members(func(m *directory.Member) error { x.members[m.ShiftID] = append(x.members[m.ShiftID], m); return nil })
	}
	return x, err
}

// put* record a new or changed object; old is the object's previous state
// (nil for a new one), whose index entries are dropped first.

func (x *index) putSite(s *directory.Site) {
	if old := x.sites[s.ID]; old != nil {
		delete(x.siteByKey, old.ExternalKey)
		delete(x.siteByName, fold(old.Name))
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

func (x *index) putPerson(p *directory.Person) {
	if old := x.people[p.ID]; old != nil {
		delete(x.personByKey, old.ExternalKey)
		delete(x.personByID, fold(old.TargetName))
	}
	x.people[p.ID] = p
	if p.ExternalKey != "" {
		x.personByKey[p.ExternalKey] = p
	}
	x.personByID[fold(p.TargetName)] = p
}

// dropPerson removes a person with their devices and custom values, as
// the store cascades them. Memberships and supervisor links are not
// tracked here: removals come after every upsert of the job.
func (x *index) dropPerson(p *directory.Person) {
	delete(x.people, p.ID)
	delete(x.personByKey, p.ExternalKey)
	delete(x.personByID, fold(p.TargetName))
	for _, d := range x.ownedBy[p.ID] {
		x.dropDevice(d)
	}
	for _, c := range x.customsOf[p.ID] {
		x.dropCustom(c)
	}
}

func (x *index) putDevice(d *directory.Device) {
	if old := x.devices[d.ID]; old != nil {
		delete(x.deviceByKey[old.Type], old.ExternalKey)
		delete(x.deviceByOwn, ownerName{old.OwnerID, fold(old.Name)})
	}
	x.devices[d.ID] = d
	if x.ownedBy[d.OwnerID] == nil {
		x.ownedBy[d.OwnerID] = map[uuid.UUID]*directory.Device{}
	}
	x.ownedBy[d.OwnerID][d.ID] = d
	if d.ExternalKey != "" {
		x.deviceByKey[d.Type][d.ExternalKey] = d
	}
	x.deviceByOwn[ownerName{d.OwnerID, fold(d.Name)}] = d
}

func (x *index) dropDevice(d *directory.Device) {
	delete(x.devices, d.ID)
	if x.deviceByKey[d.Type][d.ExternalKey] == d {
		delete(x.deviceByKey[d.Type], d.ExternalKey)
	}
	delete(x.deviceByOwn, ownerName{d.OwnerID, fold(d.Name)})
	delete(x.ownedBy[d.OwnerID], d.ID)
}

func (x *index) putCustom(c *directory.CustomValue) {
	if old := x.customs[c.ID]; old != nil {
		delete(x.customByKey, old.ExternalKey)
		delete(x.customByPF, personField{old.PersonID, old.FieldKey})
	}
	x.customs[c.ID] = c
	if x.customsOf[c.PersonID] == nil {
		x.customsOf[c.PersonID] = map[uuid.UUID]*directory.CustomValue{}
	}
	x.customsOf[c.PersonID][c.ID] = c
	if c.ExternalKey != "" {
		x.customByKey[c.ExternalKey] = c
	}
	x.customByPF[personField{c.PersonID, c.FieldKey}] = c
}

func (x *index) dropCustom(c *directory.CustomValue) {
	delete(x.customs, c.ID)
	if x.customByKey[c.ExternalKey] == c {
		delete(x.customByKey, c.ExternalKey)
	}
	delete(x.customByPF, personField{c.PersonID, c.FieldKey})
	delete(x.customsOf[c.PersonID], c.ID)
}

func (x *index) putGroup(g *directory.Group) {
	if old := x.groups[g.ID]; old != nil {
		delete(x.groupByKey, old.ExternalKey)
		delete(x.groupByName, fold(old.TargetName))
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
		delete(x.shiftByKey, old.ExternalKey)
		delete(x.shiftByName, groupName{old.GroupID, fold(old.Name)})
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
	for _, p := range x.people {
		if p.SiteID == id {
			return true
		}
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
		if p := x.people[m.MemberID]; p != nil {
			return p.ExternalKey
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
		if d := x.devices[m.MemberID]; d != nil {
			return d.ExternalKey
		}
	}
	return ""
}
