package storetest

import (
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/directory"
)

// world is a small directory with every kind of object and every field
// set, named so that the same world can be made in several companies (new
// IDs, same external keys and names).
type world struct {
	*Snapshot
	site      [2]*directory.Site
	person    [4]*directory.Person
	device    map[string]*directory.Device // by external key
	group     [2]*directory.Group
	day       *directory.Shift // of group 0
	night     *directory.Shift // of group 0
	always    *directory.Shift // of group 1
	customP0  *directory.CustomValue
	customP0b *directory.CustomValue
	customP1  *directory.CustomValue
}

func common(key string, owned bool) directory.Common {
	return directory.Common{ID: uuid.New(), ExternalKey: key, Owned: owned}
}

func newSite(key, name string) *directory.Site {
	return &directory.Site{
		Common:     common(key, true),
		Name:       name,
		Status:     "ACTIVE",
		TimeZone:   "Europe/Zurich",
		Language:   "de",
		Country:    "CH",
		Address1:   "Bahnhofstrasse 1",
		Address2:   "3. Stock",
		City:       "Zürich",
		State:      "ZH",
		PostalCode: "8001",
		Latitude:   "47.3769",
		Longitude:  "8.5417",
	}
}

func newPerson(key, target string, site uuid.UUID) *directory.Person {
	return &directory.Person{
		Common:      common(key, true),
		TargetName:  target,
		FirstName:   "First " + target,
		LastName:    "Lást " + target,
		Status:      "ACTIVE",
		SiteID:      site,
		Language:    "fr",
		TimeZone:    "Europe/Paris",
		WebLogin:    target + "@example.com",
		Roles:       []string{"Standard User", "Person Supervisor"},
		PasswordSet: true,
	}
}

func newDevice(key string, owner uuid.UUID, typ directory.DeviceType, name string, order int) *directory.Device {
	return &directory.Device{
		Common:      common(key, true),
		OwnerID:     owner,
		Type:        typ,
		Name:        name,
		Status:      "ACTIVE",
		Default:     order == 1,
		Order:       order,
		Delay:       order * 5,
		Lock24x7:    order%2 == 0,
		Address:     fmt.Sprintf("dev%d@example.com", order),
		Country:     "CH",
		AreaCode:    "44",
		Phone:       fmt.Sprintf("555 01%02d", order),
		Extension:   "12",
		PIN:         "9876",
		Provider:    "Generic Paging",
		CountryCode: "41",
	}
}

func newGroup(key, target string, site uuid.UUID) *directory.Group {
	return &directory.Group{
		Common:            common(key, true),
		TargetName:        target,
		Description:       "Group " + target,
		Status:            "ACTIVE",
		UseDefaultDevices: true,
		TimeZone:          "America/New_York",
		SiteID:            site,
		ObservedByAll:     false,
		Observers:         []string{"Group Supervisor", "Standard User"},
		AllowDuplicates:   true,
	}
}

func newShift(key string, group uuid.UUID, name string) *directory.Shift {
	return &directory.Shift{
		Common:            common(key, true),
		GroupID:           group,
		Name:              name,
		Description:       "Shift " + name,
		UseDefaultDevices: true,
		Escalation:        []int{0, 5, 15},
		RoundRobin:        true,
	}
}

func member(shift *directory.Shift, typ directory.MemberType, id uuid.UUID, seq int, owned bool) *directory.Member {
	return &directory.Member{ShiftID: shift.ID, Type: typ, MemberID: id, Sequence: seq, Owned: owned}
}

// newWorld makes a world with fresh IDs.
func newWorld() *world {
	w := &world{Snapshot: &Snapshot{}, device: map[string]*directory.Device{}}
	w.site[0] = newSite("S0", "Zürich HQ")
	w.site[1] = newSite("", "Hand-made Site")
	w.site[1].Owned = false
	w.site[1].Latitude, w.site[1].Longitude = "", ""
	w.Sites = slices.Clone(w.site[:])

	for i := range w.person {
		w.person[i] = newPerson(fmt.Sprintf("P%d", i), fmt.Sprintf("user%d", i), w.site[i%2].ID)
	}
	p := w.person
	p[1].Supervisors = []uuid.UUID{p[0].ID}
	p[2].Supervisors = []uuid.UUID{p[0].ID}
	p[3].Supervisors = []uuid.UUID{p[1].ID, p[0].ID, p[2].ID} // order kept, not sorted
	p[3].Roles = []string{"Standard User", "Company Administrator", "Full Access User"}
	p[2].Roles = nil
	p[2].PasswordSet = false
	p[2].Language, p[2].TimeZone = "", ""
	p[3].ExternalKey, p[3].Owned = "", false
	w.People = slices.Clone(w.person[:])

	// Person 0 has one device of each type; the others an email and a voice.
	for i, typ := range directory.DeviceTypes {
		key := fmt.Sprintf("P0|%s", typ)
		d := newDevice(key, p[0].ID, typ, fmt.Sprintf("Device %s", typ), i+1)
		w.device[key] = d
		w.Devices = append(w.Devices, d)
	}
	for i := 1; i < len(p); i++ {
		for j, typ := range []directory.DeviceType{directory.Email, directory.Voice} {
			key := fmt.Sprintf("P%d|%s", i, typ)
			d := newDevice(key, p[i].ID, typ, fmt.Sprintf("Device %s", typ), j+1)
			w.device[key] = d
			w.Devices = append(w.Devices, d)
		}
	}

	w.customP0 = &directory.CustomValue{Common: common("P0|DEPARTMENT", true), PersonID: p[0].ID, FieldKey: "DEPARTMENT", Value: "Operations"}
	w.customP0b = &directory.CustomValue{Common: common("P0|COST_CENTER", true), PersonID: p[0].ID, FieldKey: "COST_CENTER", Value: "CC-42"}
	w.customP1 = &directory.CustomValue{Common: common("P1|DEPARTMENT", false), PersonID: p[1].ID, FieldKey: "DEPARTMENT", Value: "Network ✓"}
	w.CustomValues = []*directory.CustomValue{w.customP0, w.customP0b, w.customP1}

	w.group[0] = newGroup("G0", "oncall-db", w.site[0].ID)
	w.group[0].Supervisors = []uuid.UUID{p[1].ID, p[0].ID}
	w.group[1] = newGroup("G1", "oncall-net", uuid.Nil)
	w.group[1].Observers = nil
	w.group[1].ObservedByAll = true
	w.group[1].UseDefaultDevices = false
	w.group[1].AllowDuplicates = false
	w.Groups = slices.Clone(w.group[:])

	w.day = newShift("G0|Day", w.group[0].ID, "Day")
	w.night = newShift("G0|Night", w.group[0].ID, "Night")
	w.night.Escalation = nil
	w.night.RoundRobin = false
	w.always = newShift("G1|Always", w.group[1].ID, "Always")
	w.Shifts = []*directory.Shift{w.day, w.night, w.always}

	w.Members = []*directory.Member{
		member(w.day, directory.MemberPerson, p[1].ID, 1, true),
		member(w.day, directory.MemberDevice, w.device["P0|VOICE"].ID, 2, true),
		member(w.day, directory.MemberGroup, w.group[1].ID, 3, false),
		member(w.day, directory.MemberPerson, p[0].ID, 4, true),
		member(w.night, directory.MemberShift, w.always.ID, 1, true),
		member(w.night, directory.MemberPerson, p[0].ID, 2, true),
		member(w.night, directory.MemberDevice, w.device["P2|EMAIL"].ID, 3, true),
		member(w.always, directory.MemberPerson, p[2].ID, 1, true),
		member(w.always, directory.MemberPerson, p[3].ID, 2, true),
		member(w.always, directory.MemberPerson, p[2].ID, 3, true), // duplicates allowed
	}
	w.sort()
	return w
}

// change sets every field of every object of s to another value (IDs and
// references stay valid), as an update would.
func change(s *Snapshot) {
	for _, o := range s.Sites {
		o.ExternalKey += "x"
		o.Owned = !o.Owned
		o.Name += " (new)"
		o.Status = "INACTIVE"
		o.TimeZone = "Asia/Tokyo"
		o.Language = "ja"
		o.Country = "JP"
		o.Address1 = "1-1 Chiyoda"
		o.Address2 = ""
		o.City = "Tōkyō"
		o.State = "13"
		o.PostalCode = "100-0001"
		o.Latitude = "35.6895"
		o.Longitude = "139.6917"
	}
	for _, o := range s.People {
		o.ExternalKey += "x"
		o.Owned = !o.Owned
		o.TargetName += "-new"
		o.FirstName = "Nouveau"
		o.LastName = ""
		o.Status = "INACTIVE"
		o.Language = "it"
		o.TimeZone = "Europe/Rome"
		o.WebLogin = ""
		o.PasswordSet = !o.PasswordSet
		// Roles: reversed, or one where there were none.
		if len(o.Roles) == 0 {
			o.Roles = []string{"Group Supervisor"}
		} else {
			slices.Reverse(o.Roles)
		}
		if len(o.Supervisors) > 1 {
			slices.Reverse(o.Supervisors)
		} else {
			o.Supervisors = nil
		}
	}
	if len(s.Sites) > 1 {
		for _, o := range s.People {
			if o.SiteID == s.Sites[0].ID {
				o.SiteID = s.Sites[1].ID
			} else {
				o.SiteID = s.Sites[0].ID
			}
		}
	}
	for _, o := range s.Devices {
		o.ExternalKey += "x"
		o.Owned = !o.Owned
		o.Name += " 2"
		o.Status = "INACTIVE"
		o.Default = !o.Default
		o.Order += 10
		o.Delay += 3
		o.Lock24x7 = !o.Lock24x7
		o.Address = "new-" + o.Address
		o.Country = "DE"
		o.AreaCode = "30"
		o.Phone = "1234567"
		o.Extension = ""
		o.PIN = "0000"
		o.Provider = "Other Paging"
		o.CountryCode = "49"
	}
	for _, o := range s.CustomValues {
		o.ExternalKey += "x"
		o.Owned = !o.Owned
		o.FieldKey = "EMPLOYEE_TYPE|" + o.FieldKey
		o.Value = "changed " + o.Value
	}
	for _, o := range s.Groups {
		o.ExternalKey += "x"
		o.Owned = !o.Owned
		o.TargetName += "-new"
		o.Description = ""
		o.Status = "INACTIVE"
		o.UseDefaultDevices = !o.UseDefaultDevices
		o.TimeZone = "UTC"
		o.ObservedByAll = !o.ObservedByAll
		if len(o.Observers) == 0 {
			o.Observers = []string{"Company Administrator"}
		} else {
			o.Observers = nil
		}
		if len(o.Supervisors) > 1 {
			slices.Reverse(o.Supervisors)
		} else if len(s.People) > 0 {
			o.Supervisors = []uuid.UUID{s.People[0].ID}
		}
		o.AllowDuplicates = !o.AllowDuplicates
		if o.SiteID == uuid.Nil && len(s.Sites) > 0 {
			o.SiteID = s.Sites[0].ID
		} else {
			o.SiteID = uuid.Nil
		}
	}
	for _, o := range s.Shifts {
		o.ExternalKey += "x"
		o.Owned = !o.Owned
		o.Name += " shift"
		o.Description = "changed"
		o.UseDefaultDevices = !o.UseDefaultDevices
		if len(o.Escalation) == 0 {
			o.Escalation = []int{7}
		} else {
			o.Escalation = nil
		}
		o.RoundRobin = !o.RoundRobin
	}
}
