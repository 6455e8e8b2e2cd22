package archive

import (
	"fmt"
	"strings"
)

// Version is an archive version, as written in the manifest's
// autoDataSyncVersion element.
type Version string

// The archive versions this package reads and writes, oldest first.
const (
	V1_0 Version = "1.0"
	V1_1 Version = "1.1"
	V1_2 Version = "1.2"
	V1_3 Version = "1.3"
)

// Latest is the newest version and the one writers default to.
const Latest = V1_3

// Versions lists every supported version, oldest first.
var Versions = []Version{V1_0, V1_1, V1_2, V1_3}

// ParseVersion returns the version named by s, or an error naming the
// supported versions.
func ParseVersion(s string) (Version, error) {
	for _, v := range Versions {
		if string(v) == s {
			return v, nil
		}
	}
	return "", fmt.Errorf("unsupported archive version %q (supported: %s)", s, versionList())
}

func versionList() string {
	var b strings.Builder
	for i, v := range Versions {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(string(v))
	}
	return b.String()
}

// atLeast reports whether v is o or newer.
func (v Version) atLeast(o Version) bool { return v.index() >= o.index() }

func (v Version) index() int {
	for i, x := range Versions {
		if x == v {
			return i
		}
	}
	return -1
}

// Kind is what a column's values must look like.
type Kind uint8

// Column kinds.
const (
	Text          Kind = iota // any text
	Flag                      // Y or N
	Status                    // ACTIVE or INACTIVE
	Action                    // Y (upsert), R (remove), anything else: row ignored
	Integer                   // non-negative decimal integer
	TimeZone                  // tz database name
	Language                  // ISO 639-1 code
	CountryName               // ISO 3166-1 country name
	CountryCode               // ISO 3166-1 alpha-2 code
	Email                     // email address
	IMAddress                 // email-like instant-messaging address
	Phone                     // phone number characters
	AreaCode                  // digits
	Extension                 // phone extension characters
	Digits                    // digits only (numeric pager PIN)
	Latitude                  // decimal degrees, -90..90
	Longitude                 // decimal degrees, -180..180
	List                      // comma-separated names
	ClearableList             // a List, or <<<NONE>>> to clear it
	IntegerList               // comma-separated non-negative integers
	MemberType                // PERSON, GROUP, TEAM or DEVICE
	DeviceType                // a device type valid for the archive's version
)

// Ref names a column of another file whose values a column refers to.
type Ref struct {
	File   string // e.g. "DS_USERS.csv"
	Column string // e.g. "EXTERNAL_KEY"
}

// Column is one column of a file's layout.
type Column struct {
	Name     string
	Kind     Kind
	Max      int  // maximum length in characters (runes)
	Required bool // the value may not be empty
	// Fold: values are names compared without regard to case (target names,
	// site and device names); otherwise values compare exactly.
	Fold  bool
	Ref   *Ref // the value (each item, for lists) names a row of another file
	NotIn *Ref // the value must not equal any value of that column
}

// Layout is one file of the archive: its name, the version that introduced
// it, its columns in the order writers put them, and its key constraints.
type Layout struct {
	Name   string  // file name, e.g. "DS_USERS.csv"
	Object string  // what a row describes, for messages
	Since  Version // first version that has the file
	// Columns in writing order. Readers bind columns by header name.
	Columns []Column
	// Unique lists column sets whose combined value may appear only once.
	// A set named by Scope is shared by every layout that uses that scope
	// (a person has one device per name across all device files).
	Unique []Unique
	// DeviceType is the MEMBER_SUB_TYPE that names this device file, if any.
	DeviceType string
}

// Unique is a uniqueness constraint over one or more columns.
type Unique struct {
	Columns []string
	Scope   string // empty: this file only
	Code    Code
}

// Column returns the named column of the layout, or nil.
func (l *Layout) Column(name string) *Column {
	for i := range l.Columns {
		if l.Columns[i].Name == name {
			return &l.Columns[i]
		}
	}
	return nil
}

// ColumnNames returns the layout's column names in writing order.
func (l *Layout) ColumnNames() []string {
	names := make([]string, len(l.Columns))
	for i, c := range l.Columns {
		names[i] = c.Name
	}
	return names
}

// HasExternalKey reports whether rows of the file carry an EXTERNAL_KEY.
func (l *Layout) HasExternalKey() bool { return l.Column("EXTERNAL_KEY") != nil }

// File names.
const (
	FileSites         = "DS_SITES.csv"
	FileUsers         = "DS_USERS.csv"
	FileEmail         = "DS_EMAIL_DEVICES.csv"
	FileVoice         = "DS_VOICE_DEVICES.csv"
	FileTextPhone     = "DS_TEXT_PHONE_DEVICES.csv"
	FileTextPager     = "DS_TEXT_PAGER_DEVICES.csv"
	FileNumericPager  = "DS_NUMERIC_PAGER_DEVICES.csv"
	FileIM            = "DS_IM_DEVICES.csv"
	FileVoiceIVR      = "DS_VOICE_IVR_DEVICES.csv"
	FileFax           = "DS_FAX_DEVICES.csv"
	FileCustomValues  = "DS_USER_CUSTOM_VALUES.csv"
	FileGroups        = "DS_GROUPS.csv"
	FileTeams         = "DS_TEAMS.csv"
	FileMemberships   = "DS_TEAM_MEMBERSHIPS.csv"
	ManifestName      = "manifest.xml"
	maxListLength     = 2000
	maxKeyLength      = 250
	maxNameLength     = 100
	maxIntegerLength  = 38
	maxStatusLength   = 30
	maxDescriptLength = 200
)

// Column helpers keep the table below readable.
func req(name string, k Kind, max int) Column {
	return Column{Name: name, Kind: k, Max: max, Required: true}
}
func opt(name string, k Kind, max int) Column { return Column{Name: name, Kind: k, Max: max} }
func ref(c Column, file, col string) Column   { c.Ref = &Ref{File: file, Column: col}; return c }
func fold(c Column) Column                    { c.Fold = true; return c }

var (
	colKey   = req("EXTERNAL_KEY", Text, maxKeyLength)
	colOwned = req("IS_EXTERNALLY_OWNED", Flag, 1)
	colAct   = req("ACTION", Action, 1)
	userKey  = ref(req("USER_KEY", Text, maxKeyLength), FileUsers, "EXTERNAL_KEY")
)

// deviceTail is the common tail of every device file.
func deviceTail() []Column {
	return []Column{
		userKey,
		fold(req("DEVICE_NAME", Text, maxNameLength)),
		req("STATUS", Status, maxStatusLength),
		req("DEFAULT_DEVICE", Flag, 1),
		req("DEVICE_ORDER", Integer, maxIntegerLength),
		req("DELAY", Integer, maxIntegerLength),
		req("LOCK_24x7", Flag, 1),
		colOwned,
		colAct,
	}
}

func device(name, object, deviceType string, since Version, address []Column, after ...Column) Layout {
	cols := append([]Column{colKey}, address...)
	cols = append(cols, deviceTail()...)
	cols = append(cols, after...)
	return Layout{
		Name: name, Object: object, Since: since, Columns: cols, DeviceType: deviceType,
		Unique: []Unique{
			{Columns: []string{"EXTERNAL_KEY"}, Code: CodeDuplicateKey},
			{Columns: []string{"USER_KEY", "DEVICE_NAME"}, Scope: "device names", Code: CodeDuplicateName},
		},
	}
}

func phoneColumns(number string) []Column {
	return []Column{
		opt("COUNTRY", CountryName, maxNameLength),
		opt("AREA_CODE", AreaCode, 10),
		req(number, Phone, 30),
		opt("EXTENSION", Extension, 10),
	}
}

var keyUnique = Unique{Columns: []string{"EXTERNAL_KEY"}, Code: CodeDuplicateKey}

// layouts is the declarative table of every file, in dependency order
// (the order the service applies them and the validator reads them).
var layouts = []Layout{
	{
		Name: FileSites, Object: "site", Since: V1_0,
		Columns: []Column{
			colKey,
			fold(req("SITENAME", Text, maxNameLength)),
			req("STATUS", Status, maxStatusLength),
			req("SITE_TIMEZONE", TimeZone, maxNameLength),
			opt("SITE_LANGUAGE", Language, maxNameLength),
			opt("COUNTRY", CountryName, maxNameLength),
			opt("ADDRESS1", Text, maxNameLength),
			opt("ADDRESS2", Text, maxNameLength),
			opt("CITY", Text, maxNameLength),
			opt("STATE_PROVINCE", Text, maxNameLength),
			opt("POSTAL_CODE", Text, 30),
			opt("LATITUDE", Latitude, 20),
			opt("LONGITUDE", Longitude, 20),
			colOwned,
			colAct,
		},
		Unique: []Unique{keyUnique, {Columns: []string{"SITENAME"}, Code: CodeDuplicateName}},
	},
	{
		Name: FileUsers, Object: "person", Since: V1_0,
		Columns: []Column{
			colKey,
			fold(req("USER_ID", Text, maxNameLength)),
			req("FIRST_NAME", Text, maxNameLength),
			req("LAST_NAME", Text, maxNameLength),
			req("STATUS", Status, maxStatusLength),
			req("ROLE_LIST", List, maxListLength),
			ref(fold(req("SITE_NAME", Text, maxNameLength)), FileSites, "SITENAME"),
			opt("LANGUAGE_OVERRIDE", Language, maxNameLength),
			opt("TIMEZONE_OVERRIDE", TimeZone, maxNameLength),
			ref(fold(opt("SUPERVISOR_LIST", ClearableList, maxListLength)), FileUsers, "USER_ID"),
			opt("WEB_LOGIN", Text, maxNameLength),
			colOwned,
			colAct,
		},
		Unique: []Unique{keyUnique, {Columns: []string{"USER_ID"}, Code: CodeDuplicateName}},
	},
	device(FileEmail, "email device", "EMAIL", V1_0, []Column{req("ADDRESS", Email, maxNameLength)}),
	device(FileVoice, "voice device", "VOICE", V1_0, phoneColumns("PHONE_NUMBER")),
	device(FileTextPhone, "SMS device", "TEXT_PHONE", V1_0,
		[]Column{req("TARGET_NUMBER", Phone, 30)}, opt("COUNTRY_CODE", CountryCode, 3)),
	device(FileTextPager, "text pager", "TEXT_PAGER", V1_0,
		[]Column{req("PIN", Text, maxNameLength), req("SERVICE_PROVIDER", Text, maxNameLength)}),
	device(FileNumericPager, "numeric pager", "NUMERIC_PAGER", V1_0,
		[]Column{req("PIN", Digits, maxNameLength), req("SERVICE_PROVIDER", Text, maxNameLength)}),
	device(FileIM, "IM device", "IM", V1_0, []Column{req("ADDRESS", IMAddress, maxNameLength)}),
	device(FileVoiceIVR, "voice IVR device", "VOICE_IVR", V1_1, phoneColumns("PHONE_NUMBER")),
	device(FileFax, "fax device", "FAX", V1_2,
		[]Column{req("FAX_NUMBER", Phone, 30)}, opt("COUNTRY_CODE", CountryCode, 3)),
	{
		Name: FileCustomValues, Object: "custom value", Since: V1_0,
		Columns: []Column{
			colKey,
			ref(req("CUSTOM_USER_KEY", Text, maxKeyLength), FileUsers, "EXTERNAL_KEY"),
			req("FIELD_KEY", Text, maxKeyLength),
			opt("CUSTOM_VALUE", Text, maxNameLength),
			colOwned,
			colAct,
		},
		Unique: []Unique{keyUnique, {Columns: []string{"CUSTOM_USER_KEY", "FIELD_KEY"}, Code: CodeDuplicateName}},
	},
	{
		Name: FileGroups, Object: "group", Since: V1_0,
		Columns: []Column{
			colKey,
			{Name: "GROUP_NAME", Kind: Text, Max: maxNameLength, Required: true, Fold: true, NotIn: &Ref{File: FileUsers, Column: "USER_ID"}},
			opt("DESCRIPTION", Text, maxDescriptLength),
			req("STATUS", Status, maxStatusLength),
			req("USE_DEFAULT_DEVICES", Flag, 1),
			req("TIMEZONE", TimeZone, maxNameLength),
			ref(fold(opt("GROUP_SITE_NAME", Text, maxNameLength)), FileSites, "SITENAME"),
			opt("OBSERVED_BY_ALL", Flag, 1),
			opt("OBSERVER_LIST", ClearableList, maxListLength),
			ref(fold(opt("SUPERVISOR_LIST", ClearableList, maxListLength)), FileUsers, "USER_ID"),
			opt("ALLOW_DUPLICATES", Flag, 1),
			colOwned,
			colAct,
		},
		Unique: []Unique{keyUnique, {Columns: []string{"GROUP_NAME"}, Code: CodeDuplicateName}},
	},
	{
		Name: FileTeams, Object: "shift", Since: V1_0,
		Columns: []Column{
			colKey,
			ref(req("GROUP_KEY", Text, maxKeyLength), FileGroups, "EXTERNAL_KEY"),
			fold(req("SUB_TARGET_NAME", Text, maxNameLength)),
			opt("DESCRIPTION", Text, maxDescriptLength),
			req("USE_DEFAULT_DEVICES", Flag, 1),
			req("ESCALATION_SCHEDULE", IntegerList, 255),
			req("IS_ROUND_ROBIN", Flag, 1),
			colOwned,
			colAct,
		},
		Unique: []Unique{keyUnique, {Columns: []string{"GROUP_KEY", "SUB_TARGET_NAME"}, Code: CodeDuplicateName}},
	},
	{
		Name: FileMemberships, Object: "shift membership", Since: V1_0,
		Columns: []Column{
			ref(req("TEAM_KEY", Text, maxKeyLength), FileTeams, "EXTERNAL_KEY"),
			req("MEMBER_KEY", Text, maxKeyLength), // resolved by MEMBER_TYPE, see memberFiles
			req("MEMBER_TYPE", MemberType, maxStatusLength),
			opt("MEMBER_SUB_TYPE", DeviceType, maxStatusLength),
			req("MEMBER_SEQUENCE_NUMBER", Integer, maxIntegerLength),
			colOwned,
			colAct,
		},
		Unique: []Unique{{Columns: []string{"TEAM_KEY", "MEMBER_TYPE", "MEMBER_KEY", "MEMBER_SUB_TYPE"}, Code: CodeDuplicateMembership}},
	},
}

// memberFiles maps a MEMBER_TYPE other than DEVICE to the file its
// MEMBER_KEY refers to; DEVICE members name their file by MEMBER_SUB_TYPE.
var memberFiles = map[string]string{
	"PERSON": FileUsers,
	"GROUP":  FileGroups,
	"TEAM":   FileTeams,
}

// Layouts returns the layouts of the files of version v, in dependency order.
func Layouts(v Version) []*Layout {
	var out []*Layout
	for i := range layouts {
		if v.atLeast(layouts[i].Since) {
			out = append(out, &layouts[i])
		}
	}
	return out
}

// LayoutOf returns the layout of the named file (matched case-insensitively)
// regardless of version, or nil when no version has such a file.
func LayoutOf(name string) *Layout {
	for i := range layouts {
		if strings.EqualFold(layouts[i].Name, name) {
			return &layouts[i]
		}
	}
	return nil
}

// deviceLayout returns the device file whose MEMBER_SUB_TYPE is t.
func deviceLayout(t string) *Layout {
	for i := range layouts {
		if layouts[i].DeviceType == t {
			return &layouts[i]
		}
	}
	return nil
}
