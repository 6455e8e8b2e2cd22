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
	steps := []func() error{r.scanDeviceMembers, r.sites, r.people,
		func() error { return r.x.loadDevices(r.tx, r.sizes.devices) }}
	for _, l := range archive.Layouts(r.man.Version) {
		if l.DeviceType != "" {
			l := l
			steps = append(steps, func() error { return r.devices(l) })
		}
	}
	steps = append(steps, r.keepDevices, func() error { return r.x.loadCustoms(r.tx, r.sizes.customs) },
		r.customValues, r.keepCustoms, r.groups, r.shifts, r.memberships, r.remove)
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

// keepDevices drops, once the device files are read, the devices no later
// step asks for. Memberships look devices up by the keys their rows name,
// and the members of shifts by ID; removals and the mirror sweep by key:
// R rows' keys, or under mirror every key no row named.
func (r *run) keepDevices() error {
	members := map[uuid.UUID]bool{}
	for _, ms := range r.x.members {
		for _, m := range ms {
			if m.Type == directory.MemberDevice {
				members[m.MemberID] = true
			}
		}
	}
	files := map[directory.DeviceType]string{}
	for _, l := range archive.Layouts(r.man.Version) {
		if l.DeviceType != "" {
			files[directory.DeviceType(l.DeviceType)] = l.Name
		}
	}
	removals := r.removalKeys()
	r.x.keepDevices(func(e *deviceEntry) bool {
		switch {
		case e.key.n == 0:
			return false // nothing can name it
		case members[e.id]:
			return true
		}
		t, key := e.deviceType(), r.x.deviceKey(e)
		switch {
		case r.deviceMembers[t][key]:
			return true
		case r.man.Mirror:
			_, ok := files[t]
			return ok && !e.named
		}
		return removals[files[t]][key]
	})
	return nil
}

// keepCustoms drops, once the custom values are read, the values that
// neither an R row nor the mirror sweep asks for.
func (r *run) keepCustoms() error {
	removals := r.removalKeys()[archive.FileCustomValues]
	r.x.keepCustoms(func(e *customEntry) bool {
		if e.key.n == 0 {
			return false
		}
		key := r.x.customKey(e)
		if r.man.Mirror {
			return !e.named
		}
		return removals[key]
	})
	return nil
}

// removalKeys returns the keys of the R rows read so far, by file.
func (r *run) removalKeys() map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, rm := range r.removals {
		if out[rm.layout.Name] == nil {
			out[rm.layout.Name] = map[string]bool{}
		}
		out[rm.layout.Name][rm.key] = true
	}
	return out
}

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
	var waits []nameWait
	var renamed []rename[*directory.Site]
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
		line := row.Line
		var finish func(mode int) error
		finish = func(mode int) error {
			cur := r.x.siteByKey[key]
			outcome := Updated
			if byName := r.x.siteByName[fold(s.Name)]; byName != nil && byName != cur {
				switch {
				case byName.ExternalKey != "" && mode == namePass && !r.applied[l.Name][byName.ExternalKey]:
					waits = append(waits, nameWait{self: some(cur), run: finish,
						holder: func() any { return some(r.x.siteByName[fold(s.Name)]) }})
					return nil
				case byName.ExternalKey != "" && mode == nameForce: // the holder moves
				case cur != nil || byName.ExternalKey != "":
					r.fail(l, line, key, "NAME_COLLISION", "SITENAME", s.Name, fmt.Sprintf("another site (external key %q) already has this name", byName.ExternalKey))
					return nil
				default:
					cur, outcome = byName, Adopted
				}
			}
			if cur != nil && fold(cur.Name) != fold(s.Name) {
				renamed = append(renamed, rename[*directory.Site]{s, fold(cur.Name)})
			}
			outcome = settle(cur, s, outcome, func(a, b *directory.Site) bool { return *a == *b }, &ins, &upd)
			r.x.putSite(s)
			r.outcome(l, line, key, outcome)
			return nil
		}
		return finish(namePass)
	})
	if err != nil {
		return err
	}
	if err := settleNames(waits); err != nil {
		return err
	}
	if err := r.nameFailedSites(l); err != nil {
		return err
	}
	err = vacate(r.tx.PutSites, renamed, func(old string, s *directory.Site) bool {
		h := r.x.siteByName[old]
		return h != nil && h.ID != s.ID
	}, func(s *directory.Site) *directory.Site {
		v := *s
		v.Name = placeholder(v.ID)
		return &v
	})
	if err != nil {
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
		return settleAs(false, uuid.Nil, obj, outcome, nil, ins, upd)
	}
	return settleAs(true, cur.Base().ID, obj, outcome, func() bool { return same(obj, cur) }, ins, upd)
}

// settleAs is settle for an object the index keeps as an entry: found
// says whether the company has it, under id; same, called once obj has
// the ID, whether obj equals it.
func settleAs[T any, P interface {
	*T
	Base() *directory.Common
}](found bool, id uuid.UUID, obj P, outcome string, same func() bool, ins, upd *[]P) string {
	if !found {
		obj.Base().ID = newID()
		*ins = append(*ins, obj)
		return Inserted
	}
	obj.Base().ID = id
	if outcome == Updated && same() {
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

// pendingPerson is a person row that passed its checks, waiting for every
// person of the archive to be known so that its supervisors resolve. It
// holds no object: the second pass over the file builds it again.
type pendingPerson struct {
	e    *personEntry
	line int32
	// outcome: Inserted, Updated or Adopted, as an index of outcomes.
	outcome uint8
	// same: the company had the person by this key and the row changes no
	// field but maybe the supervisors.
	same   bool
	hadCur bool
}

// outcomes are the outcomes a pendingPerson can have.
var outcomes = []string{Inserted, Updated, Adopted}

// personOf builds the person of a row, without ID, site or password
// state; warn (nil: say nothing) hears of roles the company lacks.
func (r *run) personOf(row *archive.Row, key string, warn func(role string)) *directory.Person {
	p := &directory.Person{TargetName: row.Value("USER_ID"), FirstName: row.Value("FIRST_NAME"), LastName: row.Value("LAST_NAME"),
		Status: row.Value("STATUS"), Language: row.Value("LANGUAGE_OVERRIDE"), TimeZone: row.Value("TIMEZONE_OVERRIDE"),
		WebLogin: row.Value("WEB_LOGIN")}
	p.ExternalKey, p.Owned = key, yes(row.Value("IS_EXTERNALLY_OWNED"))
	if p.WebLogin == "" {
		p.WebLogin = p.TargetName
	}
	roles, _ := list(row.Value("ROLE_LIST"))
	for _, role := range roles {
		if slices.Contains(r.cfg.Roles, role) {
			p.Roles = append(p.Roles, role)
		} else if warn != nil {
			warn(role)
		}
	}
	return p
}

// people reads DS_USERS twice: the first pass checks every row and
// records the people in the index (so that supervisors named by later
// rows resolve); the second resolves supervisors and writes the people
// that change, in chunks, never holding them all.
func (r *run) people() error {
	l := layout(archive.FileUsers)
	pending := make([]pendingPerson, 0, r.rowsOf[l.Name])
	var waits []nameWait
	var renamed []rename[*directory.Person]
	err := r.each(l, externalKey, func(row *archive.Row, key string) error {
		p := r.personOf(row, key, func(role string) {
			r.warn(l, row.Line, key, "UNKNOWN_ROLE", "ROLE_LIST", role, fmt.Sprintf("the company has no role %q (role names are case-sensitive); the person gets the other roles", role))
		})
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
		if len(p.Roles) == 0 {
			r.fail(l, row.Line, key, "NO_ROLE", "ROLE_LIST", row.Value("ROLE_LIST"), "none of the roles exists in the company; a person needs at least one")
			return nil
		}
		if g := r.x.groupByName[fold(p.TargetName)]; g != nil {
			r.fail(l, row.Line, key, "NAME_COLLISION", "USER_ID", p.TargetName, "a group has this name; people and groups share one name space")
			return nil
		}
		line := row.Line
		var finish func(mode int) error
		finish = func(mode int) error {
			cur := r.x.personByKey(key)
			outcome := Updated
			if byName := r.x.personNamed(p.TargetName); byName != nil && byName != cur {
				switch {
				case byName.key != "" && mode == namePass && !byName.applied:
					waits = append(waits, nameWait{self: some(cur), run: finish,
						holder: func() any { return some(r.x.personNamed(p.TargetName)) }})
					return nil
				case byName.key != "" && mode == nameForce: // the holder moves
				case cur != nil || byName.key != "":
					r.fail(l, line, key, "NAME_COLLISION", "USER_ID", p.TargetName, fmt.Sprintf("another person (external key %q) already has this USER_ID", byName.key))
					return nil
				default:
					cur, outcome = byName, Adopted
					cur.named = true // mirror spares it
				}
			}
			pp := pendingPerson{line: int32(line)}
			if cur == nil {
				p.ID, outcome = newID(), Inserted
				p.PasswordSet = !r.man.ForceNewPasswordReset
			} else {
				p.ID, p.PasswordSet, p.Supervisors = cur.id, cur.passwordSet, cur.supervisors
				pp.hadCur = true
				if old := fold(cur.name); old != fold(p.TargetName) {
					renamed = append(renamed, rename[*directory.Person]{p, old})
				}
			}
			fp := personPrint(p)
			pp.same = cur != nil && outcome == Updated && fp == cur.fp
			// The entry keeps the supervisors the person had until the
			// second pass sets them.
			pp.e, pp.outcome = r.x.putPerson(cur, p, fp), uint8(slices.Index(outcomes, outcome))
			pp.e.applied = true
			pending = append(pending, pp)
			return nil
		}
		return finish(namePass)
	})
	if err != nil {
		return err
	}
	if len(waits) > 0 {
		if err := settleNames(waits); err != nil {
			return err
		}
		slices.SortFunc(pending, func(a, b pendingPerson) int { return int(a.line - b.line) })
	}
	err = vacate(r.tx.PutPeople, renamed, func(old string, p *directory.Person) bool {
		h := r.x.people.findName(old)
		return h != nil && h.id != p.ID
	}, func(p *directory.Person) *directory.Person {
		v := *p
		v.TargetName = placeholder(v.ID)
		return &v
	})
	if err != nil {
		return err
	}
	renamed = nil
	// Second pass: supervisor links, now that every person of the archive
	// is known; write what changes.
	var ins, upd, again []*directory.Person
	next := 0
	err = r.a.Rows(l, func(row *archive.Row) error {
		if next == len(pending) || int(pending[next].line) != row.Line {
			return nil // failed or ignored in the first pass
		}
		pp := pending[next]
		next++
		key := externalKey(row)
		had := pp.e.supervisors
		var supervisors []uuid.UUID
		names, clear := list(row.Value("SUPERVISOR_LIST"))
		switch {
		case clear:
		case len(names) == 0 && pp.hadCur:
			supervisors = had
		default:
			for _, n := range names {
				if s := r.x.personNamed(n); s != nil {
					supervisors = append(supervisors, s.id)
				} else {
					r.warn(l, row.Line, key, "UNKNOWN_SUPERVISOR", "SUPERVISOR_LIST", n, fmt.Sprintf("no person has USER_ID %q; the supervisor is left out", n))
				}
			}
		}
		outcome := outcomes[pp.outcome]
		if pp.same && slices.Equal(supervisors, had) {
			outcome = Unchanged
		} else {
			p := r.personOf(row, key, nil)
			e := pp.e
			p.ID, p.SiteID, p.PasswordSet, p.Supervisors = e.id, e.site, e.passwordSet, supervisors
			if len(supervisors) > 0 {
				e.supervisors = supervisors
			} else {
				e.supervisors = nil
			}
			if pp.hadCur {
				upd = append(upd, p)
			} else {
				ins = append(ins, p)
			}
		}
		r.outcome(l, row.Line, key, outcome)
		if len(ins)+len(upd) >= flushEvery {
			if err := r.flushPeople(ins, upd, &again); err != nil {
				return err
			}
			ins, upd = nil, nil
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := r.flushPeople(ins, upd, &again); err != nil {
		return err
	}
	if len(again) > 0 {
		return r.tx.PutPeople(false, again)
	}
	return nil
}

// flushPeople writes a chunk of people: updates before inserts, like
// flush. A supervisor link can only be written once the supervisor is in
// the store: a person naming one this job inserts later is written
// without that link first, and whole again (in again) after the last
// chunk.
func (r *run) flushPeople(ins, upd []*directory.Person, again *[]*directory.Person) error {
	ready := func(id uuid.UUID) bool {
		e := r.x.person(id)
		return e == nil || e.existed || e.written
	}
	hold := func(ps []*directory.Person) []*directory.Person {
		out, cloned := ps, false
		for i, p := range ps {
			if !slices.ContainsFunc(p.Supervisors, func(id uuid.UUID) bool { return !ready(id) }) {
				continue
			}
			if !cloned {
				out, cloned = slices.Clone(ps), true
			}
			q := *p
			q.Supervisors = slices.DeleteFunc(slices.Clone(p.Supervisors), func(id uuid.UUID) bool { return !ready(id) })
			out[i] = &q
			*again = append(*again, p)
		}
		return out
	}
	if len(upd) > 0 {
		if err := r.tx.PutPeople(false, hold(upd)); err != nil {
			return err
		}
	}
	if len(ins) == 0 {
		return nil
	}
	// The store writes a batch's people before their links.
	for _, p := range ins {
		r.x.person(p.ID).written = true
	}
	return r.tx.PutPeople(true, hold(ins))
}

func (r *run) devices(l *archive.Layout) error {
	t := directory.DeviceType(l.DeviceType)
	var ins, upd []*directory.Device
	var waits []nameWait
	var renamed []rename[*directory.Device]
	err := r.each(l, externalKey, func(row *archive.Row, key string) error {
		d := &directory.Device{Type: t, Name: row.Value("DEVICE_NAME"), Status: row.Value("STATUS"),
			Default: yes(row.Value("DEFAULT_DEVICE")), Order: atoi(row.Value("DEVICE_ORDER")), Delay: atoi(row.Value("DELAY")),
			Lock24x7: yes(row.Value("LOCK_24x7"))}
		d.ExternalKey, d.Owned = key, yes(row.Value("IS_EXTERNALLY_OWNED"))
		// Devices with ignored names are never changed: neither by a row
		// with such a name nor by one that would rename such a device.
		if cur := r.x.deviceByKey(t, key); r.ignore[fold(d.Name)] || cur != nil && r.ignore[r.x.deviceName(cur)] {
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
		owner := r.x.personByKey(userKey)
		if owner == nil || r.cascades(archive.FileUsers, userKey) {
			event, msg := r.dependency(archive.FileUsers, userKey, "owner USER_KEY")
			r.fail(l, row.Line, key, event, "USER_KEY", userKey, msg)
			return nil
		}
		d.OwnerID = owner.id
		line := row.Line
		var finish func(mode int) error
		finish = func(mode int) error {
			cur := r.x.deviceByKey(t, key)
			outcome := Updated
			if byName := r.x.deviceByOwn(owner, d.Name); byName != nil && byName != cur {
				movable := byName.key.n != 0 && byName.deviceType() == t && (cur == nil || cur.owner == owner.slot)
				switch {
				case movable && mode == namePass:
					waits = append(waits, nameWait{self: some(cur), run: finish,
						holder: func() any { return some(r.x.deviceByOwn(owner, d.Name)) }})
					return nil
				case movable && mode == nameForce: // the holder moves
				case cur != nil || byName.key.n != 0 || byName.deviceType() != t:
					r.fail(l, line, key, "NAME_COLLISION", "DEVICE_NAME", d.Name, "the person already has another device with this name")
					return nil
				default:
					cur, outcome = byName, Adopted
					cur.named = true // mirror spares it
				}
			}
			if cur != nil && cur.owner != owner.slot {
				r.fail(l, line, key, "OWNER_CHANGED", "USER_KEY", userKey, "this external key belongs to a device of another person; devices do not move between people")
				return nil
			}
			if cur != nil && r.man.IgnoreDeviceOrderAndDelay && owner.existed {
				d.Order, d.Delay = int(cur.order), int(cur.delay)
			}
			var id uuid.UUID
			if cur != nil {
				id = cur.id
			}
			outcome = settleAs(cur != nil, id, d, outcome, func() bool { return devicePrint(d) == cur.fp }, &ins, &upd)
			if cur == nil {
				// A new device is looked up again only by memberships, by key:
				// keep the ID of those that memberships name, not the object (a
				// million people have millions of devices).
				if r.deviceMembers[t][key] {
					r.newDevices[t][key] = d.ID
				}
			} else if outcome != Unchanged {
				if old := r.x.deviceName(cur); mode != namePass && old != fold(d.Name) {
					renamed = append(renamed, rename[*directory.Device]{d, old})
				}
				r.x.putDevice(cur, d)
			}
			if mode == namePass { // waiting rows are written after the vacated names
				if err := flushFull(r.tx.PutDevices, &ins, &upd); err != nil {
					return err
				}
			}
			r.outcome(l, line, key, outcome)
			return nil
		}
		return finish(namePass)
	})
	if err != nil {
		return err
	}
	if err := settleNames(waits); err != nil {
		return err
	}
	err = vacate(r.tx.PutDevices, renamed, func(old string, d *directory.Device) bool {
		h := r.x.deviceByOwn(r.x.person(d.OwnerID), old)
		return h != nil && h.id != d.ID
	}, func(d *directory.Device) *directory.Device {
		v := *d
		v.Name = placeholder(v.ID)
		return &v
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
		person := r.x.personByKey(userKey)
		if person == nil || r.cascades(archive.FileUsers, userKey) {
			event, msg := r.dependency(archive.FileUsers, userKey, "CUSTOM_USER_KEY")
			r.fail(l, row.Line, key, event, "CUSTOM_USER_KEY", userKey, msg)
			return nil
		}
		c.PersonID = person.id
		cur := r.x.customByKey(key)
		if other := r.x.customByPF(person, c.FieldKey); other != nil && other != cur {
			r.fail(l, row.Line, key, "NAME_COLLISION", "FIELD_KEY", c.FieldKey, fmt.Sprintf("the person already has a value of this field (external key %q)", r.x.customKey(other)))
			return nil
		}
		if cur != nil && cur.person != person.slot {
			r.fail(l, row.Line, key, "OWNER_CHANGED", "CUSTOM_USER_KEY", userKey, "this external key belongs to a value of another person")
			return nil
		}
		var id uuid.UUID
		if cur != nil {
			id = cur.id
		}
		outcome := settleAs(cur != nil, id, c, Updated, func() bool { return customPrint(c) == cur.fp }, &ins, &upd)
		if cur != nil && outcome != Unchanged {
			// Nothing looks a new custom value up again: the validator
			// already refused a second row for its key or field.
			r.x.putCustom(cur, c)
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
	var waits []nameWait
	var renamed []rename[*directory.Group]
	err := r.each(l, externalKey, func(row *archive.Row, key string) error {
		g := &directory.Group{TargetName: row.Value("GROUP_NAME"), Description: row.Value("DESCRIPTION"), Status: row.Value("STATUS"),
			UseDefaultDevices: yes(row.Value("USE_DEFAULT_DEVICES")), TimeZone: row.Value("TIMEZONE"),
			ObservedByAll: yes(row.Value("OBSERVED_BY_ALL")), AllowDuplicates: row.Value("ALLOW_DUPLICATES") != "N"}
		g.ExternalKey, g.Owned = key, yes(row.Value("IS_EXTERNALLY_OWNED"))
		if !enabled(r.cfg.TimeZones, g.TimeZone) {
			r.fail(l, row.Line, key, "TIMEZONE_NOT_ENABLED", "TIMEZONE", g.TimeZone, "the time zone is not enabled for the company")
			return nil
		}
		if p := r.x.personNamed(g.TargetName); p != nil {
			r.fail(l, row.Line, key, "NAME_COLLISION", "GROUP_NAME", g.TargetName, "a person has this USER_ID; people and groups share one name space")
			return nil
		}
		cur := r.x.groupByKey[key]
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
			if p := r.x.personNamed(n); p != nil {
				g.Supervisors = append(g.Supervisors, p.id)
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
		line := row.Line
		var finish func(mode int) error
		finish = func(mode int) error {
			if byName := r.x.groupByName[fold(g.TargetName)]; byName != nil && byName != cur {
				switch {
				case byName.ExternalKey != "" && mode == namePass && !r.applied[l.Name][byName.ExternalKey]:
					waits = append(waits, nameWait{self: some(cur), run: finish,
						holder: func() any { return some(r.x.groupByName[fold(g.TargetName)]) }})
					return nil
				case byName.ExternalKey != "" && mode == nameForce: // the holder moves
				default:
					r.fail(l, line, key, "NAME_COLLISION", "GROUP_NAME", g.TargetName,
						fmt.Sprintf("another group (external key %q) has this name; groups are never adopted", byName.ExternalKey))
					return nil
				}
			}
			if cur != nil && fold(cur.TargetName) != fold(g.TargetName) {
				renamed = append(renamed, rename[*directory.Group]{g, fold(cur.TargetName)})
			}
			outcome := settle(cur, g, Updated, sameGroup, &ins, &upd)
			r.x.putGroup(g)
			r.outcome(l, line, key, outcome)
			return nil
		}
		return finish(namePass)
	})
	if err != nil {
		return err
	}
	if err := settleNames(waits); err != nil {
		return err
	}
	err = vacate(r.tx.PutGroups, renamed, func(old string, g *directory.Group) bool {
		h := r.x.groupByName[old]
		return h != nil && h.ID != g.ID
	}, func(g *directory.Group) *directory.Group {
		v := *g
		v.TargetName = placeholder(v.ID)
		return &v
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
