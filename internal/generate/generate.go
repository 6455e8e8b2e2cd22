package generate

import (
	"fmt"
	"os"
	"strconv"

	"github.com/epicsync/epic/internal/archive"
)

// Options say what to generate.
type Options struct {
	Users int   // number of people, >= 0
	Seed  int64 // same seed + same Users = byte-identical output
	// Manifest is written as is, with the version of the Writer.
	Manifest archive.Manifest

	// Variant, when non-zero, derives "the next night's" archive from the
	// same Users and Seed: ChangePercent of people get a changed LAST_NAME
	// (and their first device's address/number), AddPercent more people
	// are appended (with new keys, devices and custom values, not in any
	// group), DropPercent of people are left out together with every row
	// that names them (devices, custom values, memberships of them or their
	// devices, and their USER_ID in other people's and groups'
	// SUPERVISOR_LIST). Counts are the percent of Users, rounded; which
	// people is decided by index arithmetic (a permutation of the indexes
	// by multiplication modulo Users), so the same options give the same
	// people, spread over the whole range, and the three sets do not
	// overlap. Sites, groups and shifts stay those of the base archive;
	// a shift whose members are all left out keeps its other members, or
	// none. USER_IDs stay the same, changed people's too.
	ChangePercent, AddPercent, DropPercent float64
}

// Stats describe what Write wrote.
type Stats struct {
	Rows map[string]int // rows written per file name, header not counted
	// People of a variant: changed, appended and left out; all 0 without
	// one. Rows[archive.FileUsers] is Users - Dropped + Added.
	Changed, Added, Dropped int
}

// Write writes the manifest and every file of w's version. It does not
// close w.
func Write(w *archive.Writer, opt Options) (Stats, error) {
	st := Stats{Rows: map[string]int{}}
	if err := opt.Check(); err != nil {
		return st, err
	}
	g := newGen(w.Version(), opt)
	st.Changed, st.Added, st.Dropped = g.v.change, g.v.add, g.v.drop
	if err := w.WriteManifest(opt.Manifest); err != nil {
		return st, fmt.Errorf("write %s: %w", archive.ManifestName, err)
	}
	for _, l := range archive.Layouts(w.Version()) {
		fill := g.filler(l.Name)
		if fill == nil {
			return st, fmt.Errorf("no generator for %s", l.Name)
		}
		fw, err := w.Create(l)
		if err != nil {
			return st, fmt.Errorf("create %s: %w", l.Name, err)
		}
		rw := &rowWriter{fw: fw, row: fw.Row()}
		err = fill(rw)
		if cerr := fw.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return st, fmt.Errorf("write %s: %w", l.Name, err)
		}
		st.Rows[l.Name] = rw.n
	}
	return st, nil
}

// gen holds what every file needs: the options, a few reusable random
// streams and nothing whose size depends on the number of people.
type gen struct {
	seed    int64
	users   int
	nSites  int
	nGroups int
	has     [numKinds]bool // device kinds of the archive version
	v       variant        // which people change, are appended, are left out
	// Streams: person (the row's subject), aux (people a row refers to),
	// group, variant (changed names).
	sp, sx, sg, sv *stream
}

func newGen(v archive.Version, opt Options) *gen {
	g := &gen{
		seed:    opt.Seed,
		users:   opt.Users,
		nSites:  siteCount(opt.Users),
		nGroups: groupCount(opt.Users),
		sp:      newStream(),
		sx:      newStream(),
		sg:      newStream(),
		sv:      newStream(),
		v:       newVariant(opt),
	}
	for _, l := range archive.Layouts(v) {
		for k := range kinds {
			if kinds[k].file == l.Name {
				g.has[k] = true
			}
		}
	}
	return g
}

// filler returns the function that writes the rows of the named file.
func (g *gen) filler(file string) func(*rowWriter) error {
	switch file {
	case archive.FileSites:
		return g.writeSites
	case archive.FileUsers:
		return g.writeUsers
	case archive.FileCustomValues:
		return g.writeCustom
	case archive.FileGroups:
		return g.writeGroups
	case archive.FileTeams:
		return g.writeTeams
	case archive.FileMemberships:
		return g.writeMemberships
	}
	for k := range kinds {
		if kinds[k].file == file {
			return func(rw *rowWriter) error { return g.writeDevices(rw, file) }
		}
	}
	return nil
}

// rowWriter fills one reused row. Values built from bytes are appended to
// b and become strings in one allocation per row, when the row is written.
type rowWriter struct {
	fw    *archive.FileWriter
	row   []string
	b     []byte
	spans []span
	n     int // rows written
}

type span struct{ col, lo, hi int }

// col returns the index of the named column.
func (rw *rowWriter) col(name string) int { return rw.fw.Index(name) }

// mark starts a built value.
func (rw *rowWriter) mark() int { return len(rw.b) }

// done ends the value started at lo and assigns it to column col.
func (rw *rowWriter) done(col, lo int) { rw.spans = append(rw.spans, span{col, lo, len(rw.b)}) }

// write writes the row and clears it for the next one.
func (rw *rowWriter) write() error {
	if len(rw.spans) > 0 {
		s := string(rw.b)
		for _, sp := range rw.spans {
			rw.row[sp.col] = s[sp.lo:sp.hi]
		}
	}
	err := rw.fw.Write(rw.row)
	clear(rw.row)
	rw.b, rw.spans = rw.b[:0], rw.spans[:0]
	rw.n++
	return err
}

func yn(b bool) string {
	if b {
		return "Y"
	}
	return "N"
}

func active(inactive bool) string {
	if inactive {
		return "INACTIVE"
	}
	return "ACTIVE"
}

// small holds "0".."99" so that small integers need no allocation.
var small = func() []string {
	s := make([]string, 100)
	for i := range s {
		s[i] = strconv.Itoa(i)
	}
	return s
}()

// appendPad appends v in decimal, zero-padded to width digits.
func appendPad(b []byte, v int, width int) []byte {
	var tmp [20]byte
	d := strconv.AppendInt(tmp[:0], int64(v), 10)
	for n := len(d); n < width; n++ {
		b = append(b, '0')
	}
	return append(b, d...)
}

// appendTemplate appends t with each N replaced by the next decimal digit
// of n, lowest first.
func appendTemplate(b []byte, t string, n uint64) []byte {
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c == 'N' {
			c = byte('0' + n%10)
			n /= 10
		}
		b = append(b, c)
	}
	return b
}

// appendUserKey appends the EXTERNAL_KEY of person i: U0000001 for i = 0.
func appendUserKey(b []byte, i int) []byte {
	return appendPad(append(b, 'U'), i+1, 7)
}

// appendUserID appends the USER_ID of person i: first initial, last name
// and i+1 ("jsmith42"). The letters-then-digits shape makes it unique by
// construction, and it never holds a space, as every group name does.
func appendUserID(b []byte, id identity, i int) []byte {
	b = append(b, id.first.stem[0])
	b = append(b, id.last.stem...)
	return strconv.AppendInt(b, int64(i+1), 10)
}

func (g *gen) writeSites(rw *rowWriter) error {
	var (
		cKey, cName, cStatus, cTZ = rw.col("EXTERNAL_KEY"), rw.col("SITENAME"), rw.col("STATUS"), rw.col("SITE_TIMEZONE")
		cLang, cCountry, cA1, cA2 = rw.col("SITE_LANGUAGE"), rw.col("COUNTRY"), rw.col("ADDRESS1"), rw.col("ADDRESS2")
		cCity, cState, cPostal    = rw.col("CITY"), rw.col("STATE_PROVINCE"), rw.col("POSTAL_CODE")
		cLat, cLon, cOwned, cAct  = rw.col("LATITUDE"), rw.col("LONGITUDE"), rw.col("IS_EXTERNALLY_OWNED"), rw.col("ACTION")
	)
	s := g.sx
	for k := 0; k < g.nSites; k++ {
		st := &sites[k]
		s.reset(g.seed, streamSite, k)
		lo := rw.mark()
		rw.b = appendPad(append(rw.b, 'S'), k+1, 4)
		rw.done(cKey, lo)
		rw.row[cName] = st.name
		rw.row[cStatus] = "ACTIVE"
		rw.row[cTZ] = st.tz
		rw.row[cLang] = st.lang
		rw.row[cCountry] = st.country
		rw.row[cA1] = st.address1
		switch x := s.intn(10); {
		case x < 5:
			lo := rw.mark()
			rw.b = append(rw.b, "Suite "...)
			rw.b = strconv.AppendInt(rw.b, int64(100+s.intn(900)), 10)
			rw.b = append(rw.b, ", Floor "...)
			rw.b = strconv.AppendInt(rw.b, int64(1+s.intn(40)), 10)
			rw.done(cA2, lo)
		case x < 7:
			lo := rw.mark()
			rw.b = append(rw.b, "Floor "...)
			rw.b = strconv.AppendInt(rw.b, int64(1+s.intn(20)), 10)
			rw.done(cA2, lo)
		}
		rw.row[cCity] = st.city
		rw.row[cState] = st.state
		rw.row[cPostal] = st.postal
		rw.row[cLat] = st.lat
		rw.row[cLon] = st.lon
		rw.row[cOwned] = "Y"
		rw.row[cAct] = "Y"
		if err := rw.write(); err != nil {
			return err
		}
	}
	return nil
}

func (g *gen) writeUsers(rw *rowWriter) error {
	var (
		cKey, cID, cFirst, cLast = rw.col("EXTERNAL_KEY"), rw.col("USER_ID"), rw.col("FIRST_NAME"), rw.col("LAST_NAME")
		cStatus, cRoles, cSite   = rw.col("STATUS"), rw.col("ROLE_LIST"), rw.col("SITE_NAME")
		cLang, cTZ, cSup         = rw.col("LANGUAGE_OVERRIDE"), rw.col("TIMEZONE_OVERRIDE"), rw.col("SUPERVISOR_LIST")
		cOwned, cAct             = rw.col("IS_EXTERNALLY_OWNED"), rw.col("ACTION")
	)
	for i := 0; i < g.v.people(); i++ {
		if g.v.dropped(i) {
			continue
		}
		id := g.identity(g.sp, i)
		p := g.profile(g.sp, i, id)
		last := id.last
		if g.v.changed(i) {
			last = g.newLast(i, id)
		}
		lo := rw.mark()
		rw.b = appendUserKey(rw.b, i)
		rw.done(cKey, lo)
		lo = rw.mark()
		rw.b = appendUserID(rw.b, id, i)
		rw.done(cID, lo)
		rw.row[cFirst] = id.first.text
		rw.row[cLast] = last.text
		rw.row[cStatus] = active(p.inactive)
		rw.row[cRoles] = p.roles
		rw.row[cSite] = sites[id.site].name
		rw.row[cLang] = p.lang
		rw.row[cTZ] = p.tz
		if p.nsup > 0 {
			lo = rw.mark()
			for k := 0; k < p.nsup; k++ {
				if g.v.dropped(p.sup[k]) {
					continue
				}
				if len(rw.b) > lo {
					rw.b = append(rw.b, ',')
				}
				rw.b = appendUserID(rw.b, g.identity(g.sx, p.sup[k]), p.sup[k])
			}
			if len(rw.b) > lo {
				rw.done(cSup, lo)
			}
		}
		rw.row[cOwned] = yn(!p.notOwned)
		rw.row[cAct] = "Y"
		if err := rw.write(); err != nil {
			return err
		}
	}
	return nil
}

func (g *gen) writeCustom(rw *rowWriter) error {
	var (
		cKey, cUser, cField, cValue = rw.col("EXTERNAL_KEY"), rw.col("CUSTOM_USER_KEY"), rw.col("FIELD_KEY"), rw.col("CUSTOM_VALUE")
		cOwned, cAct                = rw.col("IS_EXTERNALLY_OWNED"), rw.col("ACTION")
	)
	one := func(i int, field, value string, cost int) error {
		lo := rw.mark()
		rw.b = appendUserKey(rw.b, i)
		rw.done(cUser, lo)
		rw.b = append(rw.b, '-')
		rw.b = append(rw.b, field...)
		rw.done(cKey, lo)
		rw.row[cField] = field
		if cost >= 0 {
			lo := rw.mark()
			rw.b = strconv.AppendInt(append(rw.b, "CC-"...), int64(cost), 10)
			rw.done(cValue, lo)
		} else {
			rw.row[cValue] = value
		}
		rw.row[cOwned] = "Y"
		rw.row[cAct] = "Y"
		return rw.write()
	}
	for i := 0; i < g.v.people(); i++ {
		if g.v.dropped(i) {
			continue
		}
		c := g.custom(g.sp, i)
		if c.dept >= 0 {
			if err := one(i, "DEPARTMENT", departments[c.dept], -1); err != nil {
				return err
			}
		}
		if c.costCenter >= 0 {
			if err := one(i, "COST_CENTER", "", c.costCenter); err != nil {
				return err
			}
		}
		if c.etype >= 0 {
			if err := one(i, "EMPLOYEE_TYPE", employeeTypes[c.etype], -1); err != nil {
				return err
			}
		}
	}
	return nil
}

// deviceColumns are the column indexes of a device file; -1 where the
// file lacks the column.
type deviceColumns struct {
	key, user, name, status, def, order, delay, lock, owned, act int
	address, country, area, number, ext, cc, pin, provider       int
}

func deviceCols(rw *rowWriter) deviceColumns {
	opt := func(name string) int {
		if rw.fw.Layout.Column(name) == nil {
			return -1
		}
		return rw.col(name)
	}
	c := deviceColumns{
		key: rw.col("EXTERNAL_KEY"), user: rw.col("USER_KEY"), name: rw.col("DEVICE_NAME"),
		status: rw.col("STATUS"), def: rw.col("DEFAULT_DEVICE"), order: rw.col("DEVICE_ORDER"),
		delay: rw.col("DELAY"), lock: rw.col("LOCK_24x7"), owned: rw.col("IS_EXTERNALLY_OWNED"),
		act: rw.col("ACTION"), address: opt("ADDRESS"), country: opt("COUNTRY"), area: opt("AREA_CODE"),
		ext: opt("EXTENSION"), cc: opt("COUNTRY_CODE"), pin: opt("PIN"), provider: opt("SERVICE_PROVIDER"),
	}
	for _, n := range []string{"PHONE_NUMBER", "TARGET_NUMBER", "FAX_NUMBER"} {
		if i := opt(n); i >= 0 {
			c.number = i
			return c
		}
	}
	c.number = -1
	return c
}

func (g *gen) writeDevices(rw *rowWriter, file string) error {
	c := deviceCols(rw)
	for i := 0; i < g.v.people(); i++ {
		if g.v.dropped(i) {
			continue
		}
		d := g.devices(g.sp, i)
		var id identity
		known := false
		for k := 0; k < d.n; k++ {
			dv := &d.dev[k]
			kind := &kinds[dv.kind]
			if kind.file != file {
				continue
			}
			if !known {
				id, known = g.identity(g.sx, i), true
			}
			lo := rw.mark()
			rw.b = appendUserKey(rw.b, i)
			rw.done(c.user, lo)
			rw.b = append(rw.b, '-')
			rw.b = append(rw.b, kind.name...)
			rw.done(c.key, lo)
			rw.row[c.name] = kind.name
			rw.row[c.status] = active(dv.inactive)
			rw.row[c.def] = yn(k == 0)
			rw.row[c.order] = small[k]
			rw.row[c.delay] = small[dv.delay]
			rw.row[c.lock] = yn(dv.lock)
			rw.row[c.owned] = yn(!dv.notOwned)
			rw.row[c.act] = "Y"
			if k == 0 && g.v.changed(i) {
				cid, cd, cdv := g.changedFirst(i, id, &d, dv)
				g.address(rw, &c, cid, i, &cd, &cdv)
			} else {
				g.address(rw, &c, id, i, &d, dv)
			}
			if err := rw.write(); err != nil {
				return err
			}
		}
	}
	return nil
}

// address fills the address columns of device dv of person i.
func (g *gen) address(rw *rowWriter, c *deviceColumns, id identity, i int, d *devices, dv *device) {
	st := &sites[id.site]
	switch dv.kind {
	case kWorkEmail:
		lo := rw.mark()
		rw.b = append(rw.b, id.first.stem...)
		rw.b = append(rw.b, '.')
		rw.b = append(rw.b, id.last.stem...)
		rw.b = strconv.AppendInt(rw.b, int64(i+1), 10)
		rw.b = append(rw.b, "@example.com"...)
		rw.done(c.address, lo)
	case kHomeEmail:
		lo := rw.mark()
		rw.b = append(rw.b, id.last.stem...)
		rw.b = append(rw.b, '.')
		rw.b = append(rw.b, id.first.stem...)
		rw.b = strconv.AppendUint(rw.b, dv.num%100, 10)
		rw.b = append(rw.b, homeDomains[(dv.num/100)%uint64(len(homeDomains))]...)
		rw.done(c.address, lo)
	case kIM:
		lo := rw.mark()
		rw.b = appendUserID(rw.b, id, i)
		rw.b = append(rw.b, "@im.example.com"...)
		rw.done(c.address, lo)
	case kPager:
		lo := rw.mark()
		rw.b = appendTemplate(rw.b, "NNNNNNNNNN", dv.num)
		rw.done(c.pin, lo)
		rw.row[c.provider] = "Generic Paging"
	case kNumericPager:
		lo := rw.mark()
		rw.b = appendTemplate(rw.b, "NNNNNNN", dv.num)
		rw.done(c.pin, lo)
		rw.row[c.provider] = "Generic Paging"
	default: // phone numbers
		t, num := st.land, dv.num
		if kinds[dv.kind].mobile {
			t, num = st.mobile, d.mobile
		}
		lo := rw.mark()
		rw.b = appendTemplate(rw.b, t, num)
		rw.done(c.number, lo)
		if c.country >= 0 { // voice and IVR
			if !dv.noCC {
				rw.row[c.country] = st.country
			}
			rw.row[c.area] = areaCode(t)
			if dv.ext != 0 {
				lo := rw.mark()
				rw.b = strconv.AppendInt(rw.b, int64(dv.ext), 10)
				rw.done(c.ext, lo)
			}
		}
		if c.cc >= 0 && !dv.noCC { // SMS and fax
			rw.row[c.cc] = st.cc
		}
	}
}

var homeDomains = []string{"@example.net", "@example.org", "@mail.example.net", "@post.example.org"}

// WriteZip writes a zip archive of the latest version to path: what tests,
// benchmarks and the demo want in one call.
func WriteZip(path string, opt Options) (Stats, error) {
	f, err := os.Create(path)
	if err != nil {
		return Stats{}, err
	}
	defer f.Close()
	w := archive.NewZipWriter(f, archive.Latest)
	st, err := Write(w, opt)
	if err != nil {
		return st, fmt.Errorf("%s: %w", path, err)
	}
	if err := w.Close(); err != nil {
		return st, fmt.Errorf("%s: %w", path, err)
	}
	return st, f.Close()
}
