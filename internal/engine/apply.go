package engine

import (
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/archive"
	"github.com/epicsync/epic/internal/directory"
)

// apply runs the upserts in dependency order, then removals and the
// mirror sweep (processing.md §3).
func (r *run) apply() error {
	steps := []func() error{r.scanDeviceMembers, r.sites, r.people}
	for _, l := range archive.Layouts(r.man.Version) {
		if l.DeviceType != "" {
			l := l
			steps = append(steps, func() error { return r.devices(l) })
		}
	}
	steps = append(steps, r.customValues, r.groups, r.shifts, r.memberships, r.remove)
	if r.man.Mirror {
		steps = append(steps, r.mirror)
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

func layout(name string) *archive.Layout { return archive.LayoutOf(name) }

// scanDeviceMembers notes which device keys the memberships file names,
// before the devices are read: only those new devices need their IDs kept.
func (r *run) scanDeviceMembers() error {
	r.deviceMembers = map[directory.DeviceType]map[string]bool{}
	for _, t := range directory.DeviceTypes {
		r.deviceMembers[t] = map[string]bool{}
	}
	return r.a.Rows(layout(archive.FileMemberships), func(row *archive.Row) error {
		if row.Value("MEMBER_TYPE") == string(directory.MemberDevice) {
			if m := r.deviceMembers[directory.DeviceType(row.Value("MEMBER_SUB_TYPE"))]; m != nil {
				m[row.Value("MEMBER_KEY")] = true
			}
		}
		return nil
	})
}

// enabled reports whether v is in the company's list (an empty list
// enables every bundled name).
func enabled(list []string, v string) bool { return len(list) == 0 || slices.Contains(list, v) }

// list splits a list column: nil for empty, clear=true for <<<NONE>>>.
func list(v string) (items []string, clear bool) {
	if v == "<<<NONE>>>" {
		return nil, true
	}
	for _, it := range strings.Split(v, ",") {
		if it = strings.TrimSpace(it); it != "" {
			items = append(items, it)
		}
	}
	return items, false
}

func (r *run) sites() error {
	l := layout(archive.FileSites)
	var ins, upd []*directory.Site
	err := r.each(l, externalKey, func(row *archive.Row, key string) error {
		s := &directory.Site{Name: row.Value("SITENAME"), Status: row.Value("STATUS"), TimeZone: row.Value("SITE_TIMEZONE"),
			Language: row.Value("SITE_LANGUAGE"), Country: row.Value("COUNTRY"), Address1: row.Value("ADDRESS1"),
			Address2: row.Value("ADDRESS2"), City: row.Value("CITY"), State: row.Value("STATE_PROVINCE"),
			PostalCode: row.Value("POSTAL_CODE"), Latitude: row.Value("LATITUDE"), Longitude: row.Value("LONGITUDE")}
		s.ExternalKey, s.Owned = key, yes(row.Value("IS_EXTERNALLY_OWNED"))
		if !enabled(r.cfg.TimeZones, s.TimeZone) {
			r.fail(l, row.Line, key, "TIMEZONE_NOT_ENABLED", "SITE_TIMEZONE", s.TimeZone, "the time zone is not enabled for the company")
			return nil
		}
		if s.Language != "" && !enabled(r.cfg.Languages, s.Language) {
			r.fail(l, row.Line, key, "LANGUAGE_NOT_ENABLED", "SITE_LANGUAGE", s.Language, "the language is not enabled for the company")
			return nil
		}
		cur := r.x.siteByKey[key]
		outcome := Updated
		if byName := r.x.siteByName[fold(s.Name)]; byName != nil && byName != cur {
			if cur != nil || byName.ExternalKey != "" {
				r.fail(l, row.Line, key, "NAME_COLLISION", "SITENAME", s.Name, fmt.Sprintf("another site (external key %q) already has this name", byName.ExternalKey))
				return nil
			}
			cur, outcome = byName, Adopted
		}
		outcome = settle(cur, s, outcome, func(a, b *directory.Site) bool { return *a == *b }, &ins, &upd)
		r.x.putSite(s)
		r.outcome(l, row.Line, key, outcome)
		return nil
	})
	if err != nil {
		return err
	}
	if err := r.nameFailedSites(l); err != nil {
		return err
	}
	return flush(r.tx.PutSites, ins, upd)
}

// nameFailedSites records the SITENAME of every failed site row: people
// name their site, so a person of a failed site cascades by name. The
// sites file is small; reading it again costs nothing.
func (r *run) nameFailedSites(l *archive.Layout) error {
	if len(r.failedSiteLines) == 0 {
		return nil
	}
	return r.a.Rows(l, func(row *archive.Row) error {
		if r.failedSiteLines[row.Line] {
			r.failedSites[fold(row.Value("SITENAME"))] = row.Line
		}
		return nil
	})
}

// settle gives obj the ID it takes (cur's, or a new one when cur is nil),
// queues it for insert or update, and returns the row's outcome: Inserted,
// outcome (Updated or Adopted), or Unchanged when an update changes
// nothing, in which case nothing is written.
func settle[T any, P interface {
	*T
	Base() *directory.Common
}](cur, obj P, outcome string, same func(a, b P) bool, ins, upd *[]P) string {
	if cur == nil {
		obj.Base().ID = newID()
		*ins = append(*ins, obj)
		return Inserted
	}
	obj.Base().ID = cur.Base().ID
	if outcome == Updated && same(obj, cur) {
		return Unchanged
	}
	*upd = append(*upd, obj)
	return outcome
}

// flushEvery bounds how many objects of the big files (devices, custom
// values) wait in memory to be written. Writing them in chunks is safe for
// renames: a new object can only take a name that an earlier row freed,
// and that row's update is written before or with it.
var flushEvery = 20_000

// flushFull flushes and empties ins and upd once they hold flushEvery objects.
func flushFull[T any](put func(bool, []T) error, ins, upd *[]T) error {
	if len(*ins)+len(*upd) < flushEvery {
		return nil
	}
	err := flush(put, *ins, *upd)
	*ins, *upd = nil, nil
	return err
}

// flush writes a file's updates, then its inserts: an update may free a
// name (a rename) that an insert of the same archive takes.
func flush[T any](put func(bool, []T) error, ins, upd []T) error {
	if len(upd) > 0 {
		if err := put(false, upd); err != nil {
			return err
		}
	}
	if len(ins) > 0 {
		return put(true, ins)
	}
	return nil
}

// pendingPerson is a person row waiting for its supervisors to resolve.
type pendingPerson struct {
	p, cur      *directory.Person
	line        int
	key         string
	outcome     string
	supervisors string
}

func (r *run) people() error {
	l := layout(archive.FileUsers)
	var pending []pendingPerson
	err := r.each(l, externalKey, func(row *archive.Row, key string) error {
		p := &directory.Person{TargetName: row.Value("USER_ID"), FirstName: row.Value("FIRST_NAME"), LastName: row.Value("LAST_NAME"),
			Status: row.Value("STATUS"), Language: row.Value("LANGUAGE_OVERRIDE"), TimeZone: row.Value("TIMEZONE_OVERRIDE"),
			WebLogin: row.Value("WEB_LOGIN")}
		p.ExternalKey, p.Owned = key, yes(row.Value("IS_EXTERNALLY_OWNED"))
		if p.WebLogin == "" {
			p.WebLogin = p.TargetName
		}
		siteName := row.Value("SITE_NAME")
		site := r.x.siteByName[fold(siteName)]
		if line, failed := r.failedSites[fold(siteName)]; failed && (site == nil || !r.applied[archive.FileSites][site.ExternalKey]) {
			r.fail(l, row.Line, key, "DEPENDENCY_FAILED", "SITE_NAME", siteName, fmt.Sprintf("site %q failed at %s line %d, so this row fails too", siteName, archive.FileSites, line))
			return nil
		}
		if site == nil {
			r.fail(l, row.Line, key, "UNKNOWN_REFERENCE", "SITE_NAME", siteName, fmt.Sprintf("site %q is neither in this archive nor in the company", siteName))
			return nil
		}
		p.SiteID = site.ID
		if p.TimeZone != "" && !enabled(r.cfg.TimeZones, p.TimeZone) {
			r.fail(l, row.Line, key, "TIMEZONE_NOT_ENABLED", "TIMEZONE_OVERRIDE", p.TimeZone, "the time zone is not enabled for the company")
			return nil
		}
		if p.Language != "" && !enabled(r.cfg.Languages, p.Language) {
			r.fail(l, row.Line, key, "LANGUAGE_NOT_ENABLED", "LANGUAGE_OVERRIDE", p.Language, "the language is not enabled for the company")
			return nil
		}
		roles, _ := list(row.Value("ROLE_LIST"))
		for _, role := range roles {
			if slices.Contains(r.cfg.Roles, role) {
				p.Roles = append(p.Roles, role)
			} else {
				r.warn(l, row.Line, key, "UNKNOWN_ROLE", "ROLE_LIST", role, fmt.Sprintf("the company has no role %q (role names are case-sensitive); the person gets the other roles", role))
			}
		}
		if len(p.Roles) == 0 {
			r.fail(l, row.Line, key, "NO_ROLE", "ROLE_LIST", row.Value("ROLE_LIST"), "none of the roles exists in the company; a person needs at least one")
			return nil
		}
		cur := r.x.personByKey[key]
		outcome := Updated
		if g := r.x.groupByName[fold(p.TargetName)]; g != nil {
			r.fail(l, row.Line, key, "NAME_COLLISION", "USER_ID", p.TargetName, "a group has this name; people and groups share one name space")
			return nil
		}
		if byName := r.x.personByID[fold(p.TargetName)]; byName != nil && byName != cur {
			if cur != nil || byName.ExternalKey != "" {
				r.fail(l, row.Line, key, "NAME_COLLISION", "USER_ID", p.TargetName, fmt.Sprintf("another person (external key %q) already has this USER_ID", byName.ExternalKey))
				return nil
			}
			cur, outcome = byName, Adopted
		}
		if cur == nil {
			p.ID, outcome = newID(), Inserted
			p.PasswordSet = !r.man.ForceNewPasswordReset
		} else {
			p.ID, p.PasswordSet = cur.ID, cur.PasswordSet
		}
		r.x.putPerson(p)
		pending = append(pending, pendingPerson{p: p, cur: cur, line: row.Line, key: key, outcome: outcome, supervisors: row.Value("SUPERVISOR_LIST")})
		return nil
	})
	if err != nil {
		return err
	}
	// Supervisor links, now that every person of the archive is known.
	var ins, upd []*directory.Person
	for _, pp := range pending {
		p := pp.p
		names, clear := list(pp.supervisors)
		switch {
		case clear:
			p.Supervisors = nil
		case len(names) == 0 && pp.cur != nil:
			p.Supervisors = pp.cur.Supervisors
		default:
			for _, n := range names {
				if s := r.x.personByID[fold(n)]; s != nil {
					p.Supervisors = append(p.Supervisors, s.ID)
				} else {
					r.warn(l, pp.line, pp.key, "UNKNOWN_SUPERVISOR", "SUPERVISOR_LIST", n, fmt.Sprintf("no person has USER_ID %q; the supervisor is left out", n))
				}
			}
		}
		outcome := pp.outcome
		switch {
		case pp.cur == nil:
			ins = append(ins, p)
		case outcome == Updated && samePerson(p, pp.cur):
			outcome = Unchanged
		default:
			upd = append(upd, p)
		}
		r.outcome(l, pp.line, pp.key, outcome)
	}
	return r.flushPeople(ins, upd)
}

// flushPeople writes updates before inserts, like flush; an updated
// person whose supervisors include a person this job inserts gets those
// links in a second update, once the supervisor exists.
func (r *run) flushPeople(ins, upd []*directory.Person) error {
	inserted := make(map[uuid.UUID]bool, len(ins))
	for _, p := range ins {
		inserted[p.ID] = true
	}
	var first, again []*directory.Person
	for _, p := range upd {
		if !slices.ContainsFunc(p.Supervisors, func(id uuid.UUID) bool { return inserted[id] }) {
			first = append(first, p)
			continue
		}
		q := *p
		q.Supervisors = slices.DeleteFunc(slices.Clone(p.Supervisors), func(id uuid.UUID) bool { return inserted[id] })
		first = append(first, &q)
		again = append(again, p)
	}
	if err := flush(r.tx.PutPeople, ins, first); err != nil {
		return err
	}
	if len(again) > 0 {
		return r.tx.PutPeople(false, again)
	}
	return nil
}

func samePerson(a, b *directory.Person) bool {
	return a.Common == b.Common && a.TargetName == b.TargetName && a.FirstName == b.FirstName && a.LastName == b.LastName &&
		a.Status == b.Status && a.SiteID == b.SiteID && a.Language == b.Language && a.TimeZone == b.TimeZone &&
		a.WebLogin == b.WebLogin && slices.Equal(a.Roles, b.Roles) && slices.Equal(a.Supervisors, b.Supervisors)
}

func (r *run) devices(l *archive.Layout) error {
	t := directory.DeviceType(l.DeviceType)
	var ins, upd []*directory.Device
	err := r.each(l, externalKey, func(row *archive.Row, key string) error {
		d := &directory.Device{Type: t, Name: row.Value("DEVICE_NAME"), Status: row.Value("STATUS"),
			Default: yes(row.Value("DEFAULT_DEVICE")), Order: atoi(row.Value("DEVICE_ORDER")), Delay: atoi(row.Value("DELAY")),
			Lock24x7: yes(row.Value("LOCK_24x7"))}
		d.ExternalKey, d.Owned = key, yes(row.Value("IS_EXTERNALLY_OWNED"))
		// Devices with ignored names are never changed: neither by a row
		// with such a name nor by one that would rename such a device.
		if cur := r.x.deviceByKey[t][key]; r.ignore[fold(d.Name)] || cur != nil && r.ignore[fold(cur.Name)] {
			r.outcome(l, row.Line, key, Ignored)
			return nil
		}
		switch t {
		case directory.Email, directory.IM:
			d.Address = row.Value("ADDRESS")
		case directory.Voice, directory.VoiceIVR:
			d.Country, d.AreaCode, d.Phone, d.Extension = row.Value("COUNTRY"), row.Value("AREA_CODE"), row.Value("PHONE_NUMBER"), row.Value("EXTENSION")
		case directory.TextPhone:
			d.Phone, d.CountryCode = row.Value("TARGET_NUMBER"), row.Value("COUNTRY_CODE")
		case directory.Fax:
			d.Phone, d.CountryCode = row.Value("FAX_NUMBER"), row.Value("COUNTRY_CODE")
		case directory.TextPager, directory.NumericPager:
			d.PIN, d.Provider = row.Value("PIN"), row.Value("SERVICE_PROVIDER")
			if !slices.Contains(r.cfg.PagingProviders, d.Provider) {
				r.fail(l, row.Line, key, "UNKNOWN_PROVIDER", "SERVICE_PROVIDER", d.Provider, "the company defines no such paging provider: "+strings.Join(r.cfg.PagingProviders, ", "))
				return nil
			}
		}
		if !slices.Contains(r.cfg.DeviceNames[t], d.Name) {
			r.fail(l, row.Line, key, "UNKNOWN_DEVICE_NAME", "DEVICE_NAME", d.Name,
				fmt.Sprintf("the company defines no %s device named %q; it defines %s", t, d.Name, strings.Join(r.cfg.DeviceNames[t], ", ")))
			return nil
		}
		userKey := row.Value("USER_KEY")
		owner := r.x.personByKey[userKey]
		if owner == nil || r.cascades(archive.FileUsers, userKey) {
			event, msg := r.dependency(archive.FileUsers, userKey, "owner USER_KEY")
			r.fail(l, row.Line, key, event, "USER_KEY", userKey, msg)
			return nil
		}
		d.OwnerID = owner.ID
		cur := r.x.deviceByKey[t][key]
		outcome := Updated
		if byName := r.x.deviceByOwn[ownerName{owner.ID, fold(d.Name)}]; byName != nil && byName != cur {
			if cur != nil || byName.ExternalKey != "" || byName.Type != t {
				r.fail(l, row.Line, key, "NAME_COLLISION", "DEVICE_NAME", d.Name, "the person already has another device with this name")
				return nil
			}
			cur, outcome = byName, Adopted
		}
		if cur != nil && cur.OwnerID != owner.ID {
			r.fail(l, row.Line, key, "OWNER_CHANGED", "USER_KEY", userKey, "this external key belongs to a device of another person; devices do not move between people")
			return nil
		}
		if cur != nil && r.man.IgnoreDeviceOrderAndDelay && r.x.existed[owner.ID] {
			d.Order, d.Delay = cur.Order, cur.Delay
		}
		outcome = settle(cur, d, outcome, func(a, b *directory.Device) bool { return *a == *b }, &ins, &upd)
		if cur == nil {
			// A new device is looked up again only by memberships, by key:
			// keep the ID of those that memberships name, not the object (a
			// million people have millions of devices).
			if r.deviceMembers[t][key] {
				r.newDevices[t][key] = d.ID
			}
		} else {
			r.x.putDevice(d)
		}
		if err := flushFull(r.tx.PutDevices, &ins, &upd); err != nil {
			return err
		}
		r.outcome(l, row.Line, key, outcome)
		return nil
	})
	if err != nil {
		return err
	}
	return flush(r.tx.PutDevices, ins, upd)
}

func (r *run) customValues() error {
	l := layout(archive.FileCustomValues)
	var ins, upd []*directory.CustomValue
	err := r.each(l, externalKey, func(row *archive.Row, key string) error {
		c := &directory.CustomValue{FieldKey: row.Value("FIELD_KEY"), Value: row.Value("CUSTOM_VALUE")}
		c.ExternalKey, c.Owned = key, yes(row.Value("IS_EXTERNALLY_OWNED"))
		if !slices.ContainsFunc(r.cfg.CustomFields, func(f directory.CustomField) bool { return f.Key == c.FieldKey }) {
			r.fail(l, row.Line, key, "UNKNOWN_FIELD", "FIELD_KEY", c.FieldKey, "the company defines no custom field with this key")
			return nil
		}
		userKey := row.Value("CUSTOM_USER_KEY")
		person := r.x.personByKey[userKey]
		if person == nil || r.cascades(archive.FileUsers, userKey) {
			event, msg := r.dependency(archive.FileUsers, userKey, "CUSTOM_USER_KEY")
			r.fail(l, row.Line, key, event, "CUSTOM_USER_KEY", userKey, msg)
			return nil
		}
		c.PersonID = person.ID
		cur := r.x.customByKey[key]
		if other := r.x.customByPF[personField{person.ID, c.FieldKey}]; other != nil && other != cur {
			r.fail(l, row.Line, key, "NAME_COLLISION", "FIELD_KEY", c.FieldKey, fmt.Sprintf("the person already has a value of this field (external key %q)", other.ExternalKey))
			return nil
		}
		if cur != nil && cur.PersonID != person.ID {
			r.fail(l, row.Line, key, "OWNER_CHANGED", "CUSTOM_USER_KEY", userKey, "this external key belongs to a value of another person")
			return nil
		}
		outcome := settle(cur, c, Updated, func(a, b *directory.CustomValue) bool { return *a == *b }, &ins, &upd)
		if cur != nil {
			// Nothing looks a new custom value up again: the validator
			// already refused a second row for its key or field.
			r.x.putCustom(c)
		}
		if err := flushFull(r.tx.PutCustomValues, &ins, &upd); err != nil {
			return err
		}
		r.outcome(l, row.Line, key, outcome)
		return nil
	})
	if err != nil {
		return err
	}
	return flush(r.tx.PutCustomValues, ins, upd)
}

func (r *run) groups() error {
	l := layout(archive.FileGroups)
	var ins, upd []*directory.Group
	err := r.each(l, externalKey, func(row *archive.Row, key string) error {
		g := &directory.Group{TargetName: row.Value("GROUP_NAME"), Description: row.Value("DESCRIPTION"), Status: row.Value("STATUS"),
			UseDefaultDevices: yes(row.Value("USE_DEFAULT_DEVICES")), TimeZone: row.Value("TIMEZONE"),
			ObservedByAll: yes(row.Value("OBSERVED_BY_ALL")), AllowDuplicates: row.Value("ALLOW_DUPLICATES") != "N"}
		g.ExternalKey, g.Owned = key, yes(row.Value("IS_EXTERNALLY_OWNED"))
		if !enabled(r.cfg.TimeZones, g.TimeZone) {
			r.fail(l, row.Line, key, "TIMEZONE_NOT_ENABLED", "TIMEZONE", g.TimeZone, "the time zone is not enabled for the company")
			return nil
		}
		if p := r.x.personByID[fold(g.TargetName)]; p != nil {
			r.fail(l, row.Line, key, "NAME_COLLISION", "GROUP_NAME", g.TargetName, "a person has this USER_ID; people and groups share one name space")
			return nil
		}
		cur := r.x.groupByKey[key]
		if byName := r.x.groupByName[fold(g.TargetName)]; byName != nil && byName != cur {
			r.fail(l, row.Line, key, "NAME_COLLISION", "GROUP_NAME", g.TargetName,
				fmt.Sprintf("another group (external key %q) has this name; groups are never adopted", byName.ExternalKey))
			return nil
		}
		if n := row.Value("GROUP_SITE_NAME"); n != "" {
			if s := r.x.siteByName[fold(n)]; s != nil {
				g.SiteID = s.ID
			} else {
				r.warn(l, row.Line, key, "UNKNOWN_SITE", "GROUP_SITE_NAME", n, "no such site; the group observes no site's holidays")
			}
		}
		observers, clearObs := list(row.Value("OBSERVER_LIST"))
		supervisors, clearSup := list(row.Value("SUPERVISOR_LIST"))
		for _, o := range observers {
			if slices.Contains(r.cfg.Roles, o) {
				g.Observers = append(g.Observers, o)
			} else {
				r.warn(l, row.Line, key, "UNKNOWN_ROLE", "OBSERVER_LIST", o, fmt.Sprintf("the company has no role %q; it is left out of the observers", o))
			}
		}
		for _, n := range supervisors {
			if p := r.x.personByID[fold(n)]; p != nil {
				g.Supervisors = append(g.Supervisors, p.ID)
			} else {
				r.warn(l, row.Line, key, "UNKNOWN_SUPERVISOR", "SUPERVISOR_LIST", n, fmt.Sprintf("no person has USER_ID %q; the supervisor is left out", n))
			}
		}
		if cur != nil {
			if len(observers) == 0 && !clearObs {
				g.Observers = cur.Observers
			}
			if len(supervisors) == 0 && !clearSup {
				g.Supervisors = cur.Supervisors
			}
		}
		outcome := settle(cur, g, Updated, sameGroup, &ins, &upd)
		r.x.putGroup(g)
		r.outcome(l, row.Line, key, outcome)
		return nil
	})
	if err != nil {
		return err
	}
	return flush(r.tx.PutGroups, ins, upd)
}

func sameGroup(a, b *directory.Group) bool {
	return a.Common == b.Common && a.TargetName == b.TargetName && a.Description == b.Description && a.Status == b.Status &&
		a.UseDefaultDevices == b.UseDefaultDevices && a.TimeZone == b.TimeZone && a.SiteID == b.SiteID &&
		a.ObservedByAll == b.ObservedByAll && a.AllowDuplicates == b.AllowDuplicates &&
		slices.Equal(a.Observers, b.Observers) && slices.Equal(a.Supervisors, b.Supervisors)
}
