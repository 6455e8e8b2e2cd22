package mapping

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/epicsync/epic/internal/archive"
	"github.com/epicsync/epic/internal/source"
)

// Config is the [mapping] table of epic.toml: how one source record
// becomes a person with devices and custom values, and the archive's
// manifest options.
type Config struct {
	// DefaultCountry: the region of phone numbers written without a
	// country code (default_country, e.g. "US").
	DefaultCountry string `toml:"default_country"`
	// Mirror writes mirror=Y into the manifest (mirror; default true: an
	// export is the whole truth of its source).
	Mirror *bool `toml:"mirror"`
	// DeviceNamesToIgnore goes to the manifest's deviceNamesToIgnore.
	DeviceNamesToIgnore []string `toml:"device_names_to_ignore"`
	// ExternallyOwned sets IS_EXTERNALLY_OWNED of every row
	// (externally_owned; default true).
	ExternallyOwned *bool `toml:"externally_owned"`
	// Person maps DS_USERS columns (EXTERNAL_KEY, USER_ID, FIRST_NAME,
	// LAST_NAME, STATUS, ROLE_LIST, SITE_NAME, LANGUAGE_OVERRIDE,
	// TIMEZONE_OVERRIDE, SUPERVISOR_LIST, WEB_LOGIN) to templates.
	Person map[string]string `toml:"person"`
	// Devices are written for a person when their value is not empty.
	Devices []DeviceConfig `toml:"device"`
	// Custom maps a custom field's FIELD_KEY to a template.
	Custom map[string]string `toml:"custom"`
	// Sites are written to DS_SITES as they are.
	Sites []SiteConfig `toml:"site"`
}

// DeviceConfig is one [[mapping.device]].
type DeviceConfig struct {
	// Type: EMAIL, VOICE, TEXT_PHONE, TEXT_PAGER, NUMERIC_PAGER, IM,
	// VOICE_IVR, FAX.
	Type string `toml:"type"`
	// Name: the device name, e.g. "Work Email".
	Name string `toml:"name"`
	// Value: the address, number or PIN.
	Value string `toml:"value"`
	// Provider: SERVICE_PROVIDER of pagers.
	Provider string `toml:"provider"`
	// Extension: EXTENSION of voice devices.
	Extension string `toml:"extension"`
	// Country: COUNTRY_CODE of SMS and fax devices (two letters).
	Country string `toml:"country"`
	// Default: DEFAULT_DEVICE (failsafe).
	Default bool `toml:"default"`
	// Delay: DELAY in minutes.
	Delay int `toml:"delay"`
}

// SiteConfig is one [[mapping.site]].
type SiteConfig struct {
	Key      string `toml:"key"` // default "site:" + name
	Name     string `toml:"name"`
	TimeZone string `toml:"timezone"`
	Language string `toml:"language"`
	Country  string `toml:"country"`
	City     string `toml:"city"`
}

// personDefaults are the DS_USERS templates used when Person leaves a
// column out.
var personDefaults = map[string]string{
	"STATUS":    "ACTIVE",
	"ROLE_LIST": "Standard User",
}

// ErrConfig is wrapped by every error about the [mapping] table.
var ErrConfig = errors.New("mapping")

// deviceFiles maps a device type to its file.
func deviceLayout(t string) *archive.Layout {
	for _, l := range archive.Layouts(archive.Latest) {
		if l.DeviceType == t {
			return l
		}
	}
	return nil
}

func deviceTypes() string {
	var ts []string
	for _, l := range archive.Layouts(archive.Latest) {
		if l.DeviceType != "" {
			ts = append(ts, l.DeviceType)
		}
	}
	return strings.Join(ts, ", ")
}

// Mapper applies a Config to records.
type Mapper struct {
	cfg     Config
	users   *archive.Layout
	person  []colTemplate // DS_USERS columns with a template
	key     *Template
	userID  *Template
	devices []deviceTemplate
	custom  []customTemplate
	fields  []string
}

type colTemplate struct {
	col  string
	idx  int
	t    *Template
	req  bool
	kind archive.Kind
}

type deviceTemplate struct {
	cfg    DeviceConfig
	layout *archive.Layout
	value  *Template
	ext    *Template
}

type customTemplate struct {
	key string
	t   *Template
}

// New checks cfg and compiles its templates. Errors name the key of
// [mapping] that is wrong and what would be right.
func New(cfg Config) (*Mapper, error) {
	m := &Mapper{cfg: cfg, users: archive.LayoutOf(archive.FileUsers)}
	opt := Options{DefaultCountry: cfg.DefaultCountry}
	compile := func(where, src string) (*Template, error) {
		t, err := Compile(src, opt)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrConfig, where, err)
		}
		for _, f := range t.Fields() {
			m.addField(f)
		}
		return t, nil
	}
	person := map[string]string{}
	for k, v := range personDefaults {
		person[k] = v
	}
	for k, v := range cfg.Person {
		col := strings.ToUpper(strings.TrimSpace(k))
		c := m.users.Column(col)
		if c == nil || col == "IS_EXTERNALLY_OWNED" || col == "ACTION" {
			return nil, fmt.Errorf("%w: [mapping.person] has %q, which is not a column of DS_USERS (columns: %s)",
				ErrConfig, k, strings.Join(personColumns(m.users), ", "))
		}
		person[col] = v
	}
	var missing []string
	for _, c := range m.users.Columns {
		if c.Required && c.Name != "IS_EXTERNALLY_OWNED" && c.Name != "ACTION" && person[c.Name] == "" {
			missing = append(missing, c.Name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: [mapping.person] needs a template for %s (e.g. USER_ID = \"{uid}\")", ErrConfig, strings.Join(missing, ", "))
	}
	cols := make([]string, 0, len(person))
	for c := range person {
		cols = append(cols, c)
	}
	sort.Slice(cols, func(i, j int) bool { return colIndex(m.users, cols[i]) < colIndex(m.users, cols[j]) })
	for _, col := range cols {
		t, err := compile("[mapping.person] "+col, person[col])
		if err != nil {
			return nil, err
		}
		c := m.users.Column(col)
		m.person = append(m.person, colTemplate{col: col, idx: colIndex(m.users, col), t: t, req: c.Required, kind: c.Kind})
		switch col {
		case "EXTERNAL_KEY":
			m.key = t
		case "USER_ID":
			m.userID = t
		}
	}
	names := map[string]bool{}
	for i, d := range cfg.Devices {
		where := fmt.Sprintf("[[mapping.device]] #%d", i+1)
		d.Type = strings.ToUpper(strings.TrimSpace(d.Type))
		l := deviceLayout(d.Type)
		if l == nil {
			return nil, fmt.Errorf("%w: %s: type %q is not a device type (types: %s)", ErrConfig, where, d.Type, deviceTypes())
		}
		d.Name = strings.TrimSpace(d.Name)
		if d.Name == "" {
			return nil, fmt.Errorf("%w: %s: name is missing (the company's device name, e.g. \"Work Email\")", ErrConfig, where)
		}
		if names[strings.ToLower(d.Name)] {
			return nil, fmt.Errorf("%w: %s: a person has one device per name, and %q is used twice", ErrConfig, where, d.Name)
		}
		names[strings.ToLower(d.Name)] = true
		if d.Value == "" {
			return nil, fmt.Errorf("%w: %s (%s): value is missing (e.g. value = \"{mail}\")", ErrConfig, where, d.Name)
		}
		if (d.Type == "TEXT_PAGER" || d.Type == "NUMERIC_PAGER") && d.Provider == "" {
			return nil, fmt.Errorf("%w: %s (%s): a pager needs provider", ErrConfig, where, d.Name)
		}
		if d.Delay < 0 {
			return nil, fmt.Errorf("%w: %s (%s): delay is negative", ErrConfig, where, d.Name)
		}
		dt := deviceTemplate{cfg: d, layout: l}
		var err error
		if dt.value, err = compile(where+" value", d.Value); err != nil {
			return nil, err
		}
		if d.Extension != "" {
			if l.Column("EXTENSION") == nil {
				return nil, fmt.Errorf("%w: %s (%s): a %s device has no extension", ErrConfig, where, d.Name, d.Type)
			}
			if dt.ext, err = compile(where+" extension", d.Extension); err != nil {
				return nil, err
			}
		}
		if d.Country != "" && l.Column("COUNTRY_CODE") == nil {
			return nil, fmt.Errorf("%w: %s (%s): a %s device has no country code", ErrConfig, where, d.Name, d.Type)
		}
		m.devices = append(m.devices, dt)
	}
	keys := make([]string, 0, len(cfg.Custom))
	for k := range cfg.Custom {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t, err := compile("[mapping.custom] "+k, cfg.Custom[k])
		if err != nil {
			return nil, err
		}
		m.custom = append(m.custom, customTemplate{key: k, t: t})
	}
	seen := map[string]bool{}
	for i, s := range cfg.Sites {
		if strings.TrimSpace(s.Name) == "" || strings.TrimSpace(s.TimeZone) == "" {
			return nil, fmt.Errorf("%w: [[mapping.site]] #%d needs name and timezone", ErrConfig, i+1)
		}
		if seen[strings.ToLower(s.Name)] {
			return nil, fmt.Errorf("%w: [[mapping.site]] %q is listed twice", ErrConfig, s.Name)
		}
		seen[strings.ToLower(s.Name)] = true
	}
	return m, nil
}

func personColumns(l *archive.Layout) []string {
	var out []string
	for _, c := range l.Columns {
		if c.Name != "IS_EXTERNALLY_OWNED" && c.Name != "ACTION" {
			out = append(out, c.Name)
		}
	}
	return out
}

func (m *Mapper) addField(f string) {
	for _, x := range m.fields {
		if strings.EqualFold(x, f) {
			return
		}
	}
	m.fields = append(m.fields, f)
}

// Fields returns every field any template reads, in order of first use
// (case-insensitively distinct): the LDAP attributes to ask for, the CSV
// headers that must exist.
func (m *Mapper) Fields() []string { return m.fields }

// Config returns the configuration m was made from.
func (m *Mapper) Config() Config { return m.cfg }

func (m *Mapper) owned() string {
	if m.cfg.ExternallyOwned == nil || *m.cfg.ExternallyOwned {
		return "Y"
	}
	return "N"
}

// Manifest returns the manifest options of the configuration.
func (m *Mapper) Manifest() archive.Manifest {
	man := archive.DefaultManifest()
	man.Mirror = m.cfg.Mirror == nil || *m.cfg.Mirror
	man.DeviceNamesToIgnore = m.cfg.DeviceNamesToIgnore
	return man
}

// Person is one person made from a record: the DS_USERS row and the rows
// of their devices and custom values.
type Person struct {
	Key, UserID string
	// Row is the DS_USERS row in the layout's column order.
	Row     []string
	Devices []Device
	Custom  [][2]string // FIELD_KEY, CUSTOM_VALUE
	// Warnings: values left out (a phone number that is no number, ...).
	Warnings []string
}

// Device is one device of a person.
type Device struct {
	Layout *archive.Layout
	Row    []string // in the layout's column order, USER_KEY and order filled
}

// SkipError is the error of Person for a record that cannot be a person
// (a required value is empty or wrong): the record is left out and the
// exporter reports it.
type SkipError struct{ Reason string }

func (e *SkipError) Error() string { return e.Reason }

// Person maps one record. A *SkipError says the record cannot become a
// person and why; other errors do not happen.
func (m *Mapper) Person(r Record) (Person, error) {
	var p Person
	p.Row = make([]string, len(m.users.Columns))
	for _, c := range m.person {
		v, err := c.t.Eval(r)
		if err != nil {
			return p, &SkipError{Reason: fmt.Sprintf("%s: %v", c.col, err)}
		}
		if v == "" && c.req {
			return p, &SkipError{Reason: fmt.Sprintf("%s is empty (template %s)", c.col, c.t)}
		}
		p.Row[c.idx] = v
	}
	p.Row[colIndex(m.users, "IS_EXTERNALLY_OWNED")] = m.owned()
	p.Row[colIndex(m.users, "ACTION")] = "Y"
	p.Key, p.UserID = p.Row[colIndex(m.users, "EXTERNAL_KEY")], p.Row[colIndex(m.users, "USER_ID")]
	order := 0
	for _, d := range m.devices {
		v, err := d.value.Eval(r)
		if err != nil {
			p.Warnings = append(p.Warnings, fmt.Sprintf("device %s left out: %v", d.cfg.Name, err))
			continue
		}
		if v == "" {
			continue
		}
		l := d.layout
		row := make([]string, len(l.Columns))
		set := func(col, val string) { row[colIndex(l, col)] = val }
		set("EXTERNAL_KEY", p.Key+"|"+d.cfg.Name)
		switch {
		case l.Column("ADDRESS") != nil:
			set("ADDRESS", v)
		case l.Column("PHONE_NUMBER") != nil:
			set("PHONE_NUMBER", v)
		case l.Column("TARGET_NUMBER") != nil:
			set("TARGET_NUMBER", v)
		case l.Column("FAX_NUMBER") != nil:
			set("FAX_NUMBER", v)
		case l.Column("PIN") != nil:
			set("PIN", v)
			set("SERVICE_PROVIDER", d.cfg.Provider)
		}
		if d.ext != nil {
			x, err := d.ext.Eval(r)
			if err != nil {
				p.Warnings = append(p.Warnings, fmt.Sprintf("device %s: extension left out: %v", d.cfg.Name, err))
			}
			set("EXTENSION", x)
		}
		if d.cfg.Country != "" {
			set("COUNTRY_CODE", strings.ToUpper(d.cfg.Country))
		}
		set("USER_KEY", p.Key)
		set("DEVICE_NAME", d.cfg.Name)
		set("STATUS", "ACTIVE")
		set("DEFAULT_DEVICE", yn(d.cfg.Default))
		set("DEVICE_ORDER", fmt.Sprint(order))
		set("DELAY", fmt.Sprint(d.cfg.Delay))
		set("LOCK_24x7", "N")
		set("IS_EXTERNALLY_OWNED", m.owned())
		set("ACTION", "Y")
		order++
		p.Devices = append(p.Devices, Device{Layout: l, Row: row})
	}
	for _, c := range m.custom {
		v, err := c.t.Eval(r)
		if err != nil {
			p.Warnings = append(p.Warnings, fmt.Sprintf("custom value %s left out: %v", c.key, err))
			continue
		}
		if v != "" {
			p.Custom = append(p.Custom, [2]string{c.key, v})
		}
	}
	return p, nil
}

func yn(b bool) string {
	if b {
		return "Y"
	}
	return "N"
}

// colIndex returns the index of the named column of l, or -1.
func colIndex(l *archive.Layout, name string) int {
	for i := range l.Columns {
		if l.Columns[i].Name == name {
			return i
		}
	}
	return -1
}

// Load decodes the [mapping] table of the epic.toml at path; unknown keys
// are errors.
func Load(path string) (Config, error) {
	var c Config
	if err := source.DecodeSection(path, "mapping", &c); err != nil {
		return c, err
	}
	return c, nil
}
