package engine

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/archive"
	"github.com/epicsync/epic/internal/directory"
)

// ExportStats counts what Export wrote and left out.
type ExportStats struct {
	Rows    map[string]int
	Skipped int // objects without an external key, or memberships naming one
}

// Export writes the company's directory to w as a mirror archive of w's
// version: applied again, it changes nothing. Only objects with an external
// key are written: the others are not EPIC's (mirror never touches them),
// and a row needs a key to name its object.
func Export(ctx context.Context, st directory.Store, company *directory.Company, w *archive.Writer) (ExportStats, error) {
	stats := ExportStats{Rows: map[string]int{}}
	m := archive.DefaultManifest()
	m.Mirror = true
	if err := w.WriteManifest(m); err != nil {
		return stats, err
	}
	err := st.View(ctx, company.ID, func(v directory.View) error {
		x, err := loadWhole(v)
		if err != nil {
			return err
		}
		e := &exporter{w: w, x: x, stats: &stats}
		for _, l := range archive.Layouts(w.Version()) {
			if err := e.file(l); err != nil {
				return err
			}
		}
		return nil
	})
	return stats, err
}

type exporter struct {
	w     *archive.Writer
	x     *whole
	stats *ExportStats
}

func yn(b bool) string {
	if b {
		return "Y"
	}
	return "N"
}

// sorted returns the map's values with an external key, by key, counting
// the others as skipped.
func sorted[K comparable, T any](e *exporter, m map[K]T, key func(T) string) []T {
	var out []T
	for _, v := range m {
		if key(v) != "" {
			out = append(out, v)
		} else {
			e.stats.Skipped++
		}
	}
	slices.SortFunc(out, func(a, b T) int { return strings.Compare(key(a), key(b)) })
	return out
}

func (e *exporter) file(l *archive.Layout) error {
	fw, err := e.w.Create(l)
	if err != nil {
		return err
	}
	row := fw.Row()
	set := func(col, v string) { row[fw.Index(col)] = v }
	emit := func(key string, owned bool) error {
		if key != "" {
			set("EXTERNAL_KEY", key)
		}
		set("IS_EXTERNALLY_OWNED", yn(owned))
		set("ACTION", "Y")
		e.stats.Rows[l.Name]++
		err := fw.Write(row)
		clear(row)
		return err
	}
	x := e.x
	switch {
	case l.Name == archive.FileSites:
		for _, s := range sorted(e, x.sites, func(s *directory.Site) string { return s.ExternalKey }) {
			set("SITENAME", s.Name)
			set("STATUS", s.Status)
			set("SITE_TIMEZONE", s.TimeZone)
			set("SITE_LANGUAGE", s.Language)
			set("COUNTRY", s.Country)
			set("ADDRESS1", s.Address1)
			set("ADDRESS2", s.Address2)
			set("CITY", s.City)
			set("STATE_PROVINCE", s.State)
			set("POSTAL_CODE", s.PostalCode)
			set("LATITUDE", s.Latitude)
			set("LONGITUDE", s.Longitude)
			if err := emit(s.ExternalKey, s.Owned); err != nil {
				return err
			}
		}
	case l.Name == archive.FileUsers:
		for _, p := range sorted(e, x.people, func(p *directory.Person) string { return p.ExternalKey }) {
			set("USER_ID", p.TargetName)
			set("FIRST_NAME", p.FirstName)
			set("LAST_NAME", p.LastName)
			set("STATUS", p.Status)
			set("ROLE_LIST", strings.Join(p.Roles, ","))
			set("SITE_NAME", x.sites[p.SiteID].Name)
			set("LANGUAGE_OVERRIDE", p.Language)
			set("TIMEZONE_OVERRIDE", p.TimeZone)
			set("SUPERVISOR_LIST", e.names(p.Supervisors))
			set("WEB_LOGIN", p.WebLogin)
			if err := emit(p.ExternalKey, p.Owned); err != nil {
				return err
			}
		}
	case l.DeviceType != "":
		t := directory.DeviceType(l.DeviceType)
		for _, d := range sorted(e, x.devicesOf(t), func(d *directory.Device) string { return d.ExternalKey }) {
			owner := x.people[d.OwnerID]
			if owner.ExternalKey == "" {
				e.stats.Skipped++ // a row names its owner by key
				continue
			}
			switch t {
			case directory.Email, directory.IM:
				set("ADDRESS", d.Address)
			case directory.Voice, directory.VoiceIVR:
				set("COUNTRY", d.Country)
				set("AREA_CODE", d.AreaCode)
				set("PHONE_NUMBER", d.Phone)
				set("EXTENSION", d.Extension)
			case directory.TextPhone:
				set("TARGET_NUMBER", d.Phone)
				set("COUNTRY_CODE", d.CountryCode)
			case directory.Fax:
				set("FAX_NUMBER", d.Phone)
				set("COUNTRY_CODE", d.CountryCode)
			case directory.TextPager, directory.NumericPager:
				set("PIN", d.PIN)
				set("SERVICE_PROVIDER", d.Provider)
			}
			set("USER_KEY", owner.ExternalKey)
			set("DEVICE_NAME", d.Name)
			set("STATUS", d.Status)
			set("DEFAULT_DEVICE", yn(d.Default))
			set("DEVICE_ORDER", strconv.Itoa(d.Order))
			set("DELAY", strconv.Itoa(d.Delay))
			set("LOCK_24x7", yn(d.Lock24x7))
			if err := emit(d.ExternalKey, d.Owned); err != nil {
				return err
			}
		}
	case l.Name == archive.FileCustomValues:
		for _, c := range sorted(e, x.customs, func(c *directory.CustomValue) string { return c.ExternalKey }) {
			owner := x.people[c.PersonID]
			if owner.ExternalKey == "" {
				e.stats.Skipped++
				continue
			}
			set("CUSTOM_USER_KEY", owner.ExternalKey)
			set("FIELD_KEY", c.FieldKey)
			set("CUSTOM_VALUE", c.Value)
			if err := emit(c.ExternalKey, c.Owned); err != nil {
				return err
			}
		}
	case l.Name == archive.FileGroups:
		for _, g := range sorted(e, x.groups, func(g *directory.Group) string { return g.ExternalKey }) {
			set("GROUP_NAME", g.TargetName)
			set("DESCRIPTION", g.Description)
			set("STATUS", g.Status)
			set("USE_DEFAULT_DEVICES", yn(g.UseDefaultDevices))
			set("TIMEZONE", g.TimeZone)
			if s := x.sites[g.SiteID]; s != nil {
				set("GROUP_SITE_NAME", s.Name)
			}
			set("OBSERVED_BY_ALL", yn(g.ObservedByAll))
			set("OBSERVER_LIST", strings.Join(g.Observers, ","))
			set("SUPERVISOR_LIST", e.names(g.Supervisors))
			set("ALLOW_DUPLICATES", yn(g.AllowDuplicates))
			if err := emit(g.ExternalKey, g.Owned); err != nil {
				return err
			}
		}
	case l.Name == archive.FileTeams:
		for _, s := range sorted(e, x.shifts, func(s *directory.Shift) string { return s.ExternalKey }) {
			group := x.groups[s.GroupID]
			if group.ExternalKey == "" {
				e.stats.Skipped++
				continue
			}
			esc := make([]string, len(s.Escalation))
			for i, m := range s.Escalation {
				esc[i] = strconv.Itoa(m)
			}
			set("GROUP_KEY", group.ExternalKey)
			set("SUB_TARGET_NAME", s.Name)
			set("DESCRIPTION", s.Description)
			set("USE_DEFAULT_DEVICES", yn(s.UseDefaultDevices))
			set("ESCALATION_SCHEDULE", strings.Join(esc, ","))
			set("IS_ROUND_ROBIN", yn(s.RoundRobin))
			if err := emit(s.ExternalKey, s.Owned); err != nil {
				return err
			}
		}
	case l.Name == archive.FileMemberships:
		for _, s := range sorted(e, x.shifts, func(s *directory.Shift) string { return s.ExternalKey }) {
			if x.groups[s.GroupID].ExternalKey == "" {
				continue
			}
			for _, m := range x.members[s.ID] {
				key, sub := e.memberKey(m)
				if key == "" {
					e.stats.Skipped++
					continue
				}
				set("TEAM_KEY", s.ExternalKey)
				set("MEMBER_KEY", key)
				set("MEMBER_TYPE", string(m.Type))
				set("MEMBER_SUB_TYPE", sub)
				set("MEMBER_SEQUENCE_NUMBER", strconv.Itoa(m.Sequence))
				if err := emit("", m.Owned); err != nil {
					return err
				}
			}
		}
	}
	return fw.Close()
}

// names returns the target names of people, comma-separated.
func (e *exporter) names(ids []uuid.UUID) string {
	var out []string
	for _, id := range ids {
		if p := e.x.people[id]; p != nil {
			out = append(out, p.TargetName)
		}
	}
	return strings.Join(out, ",")
}

// memberKey returns the external key (and device sub-type) of a member.
func (e *exporter) memberKey(m *directory.Member) (string, string) {
	key := e.x.externalKeyOf(m)
	if m.Type == directory.MemberDevice && key != "" {
		return key, string(e.x.devices[m.MemberID].Type)
	}
	return key, ""
}

// whole is a company's directory as whole objects, for Export.
type whole struct {
	sites   map[uuid.UUID]*directory.Site
	people  map[uuid.UUID]*directory.Person
	devices map[uuid.UUID]*directory.Device
	customs map[uuid.UUID]*directory.CustomValue
	groups  map[uuid.UUID]*directory.Group
	shifts  map[uuid.UUID]*directory.Shift
	members map[uuid.UUID][]*directory.Member // by shift
}

func loadWhole(v directory.View) (*whole, error) {
	x := &whole{sites: map[uuid.UUID]*directory.Site{}, people: map[uuid.UUID]*directory.Person{},
		devices: map[uuid.UUID]*directory.Device{}, customs: map[uuid.UUID]*directory.CustomValue{},
		groups: map[uuid.UUID]*directory.Group{}, shifts: map[uuid.UUID]*directory.Shift{},
		members: map[uuid.UUID][]*directory.Member{}}
	err := v.Sites(func(o *directory.Site) error { x.sites[o.ID] = o; return nil })
	if err == nil {
		err = v.People(func(o *directory.Person) error { x.people[o.ID] = o; return nil })
	}
	if err == nil {
		err = v.Devices(func(o *directory.Device) error { x.devices[o.ID] = o; return nil })
	}
	if err == nil {
		err = v.CustomValues(func(o *directory.CustomValue) error { x.customs[o.ID] = o; return nil })
	}
	if err == nil {
		err = v.Groups(func(o *directory.Group) error { x.groups[o.ID] = o; return nil })
	}
	if err == nil {
		err = v.Shifts(func(o *directory.Shift) error { x.shifts[o.ID] = o; return nil })
	}
	if err == nil {
		err = v.Members(func(m *directory.Member) error { x.members[m.ShiftID] = append(x.members[m.ShiftID], m); return nil })
	}
	return x, err
}

// devicesOf returns the devices of a type.
func (x *whole) devicesOf(t directory.DeviceType) map[uuid.UUID]*directory.Device {
	out := map[uuid.UUID]*directory.Device{}
	for id, d := range x.devices {
		if d.Type == t {
			out[id] = d
		}
	}
	return out
}

// externalKeyOf returns the external key of a shift member's object.
func (x *whole) externalKeyOf(m *directory.Member) string {
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
