package archive

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// brief renders a finding as FILE:LINE:COLUMN:CODE for comparisons.
func brief(f Finding) string {
	return fmt.Sprintf("%s:%d:%s:%s", f.File, f.Line, f.Column, f.Code)
}

func briefs(fs []Finding) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, brief(f))
	}
	sort.Strings(out)
	return out
}

func TestValidArchivesAreClean(t *testing.T) {
	for _, v := range Versions {
		t.Run(string(v), func(t *testing.T) {
			got, res := validateFiles(t, validArchive(v))
			if len(got) > 0 {
				t.Fatalf("findings on a valid archive: %v", got)
			}
			if want := len(Layouts(v)) + 1; res.Rows() != want {
				t.Errorf("Rows() = %d, want %d", res.Rows(), want)
			}
			if res.Manifest.Version != v || res.Manifest.Mirror || len(res.Manifest.DeviceNamesToIgnore) != 2 {
				t.Errorf("manifest = %+v", res.Manifest)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	add := func(file string, rows ...string) func(map[string]string) {
		return func(f map[string]string) { f[file] += strings.Join(rows, "\n") + "\n" }
	}
	replace := func(file, content string) func(map[string]string) {
		return func(f map[string]string) { f[file] = content }
	}
	tests := []struct {
		name   string
		change func(map[string]string)
		want   []string
	}{
		{"missing file", func(f map[string]string) { delete(f, FileFax) },
			[]string{"DS_FAX_DEVICES.csv:0::MISSING_FILE"}},
		{"missing manifest", func(f map[string]string) { delete(f, ManifestName) },
			[]string{"manifest.xml:0::MISSING_MANIFEST"}},
		{"extra file is a warning", replace("notes.txt", "hello"),
			[]string{"notes.txt:0::UNKNOWN_ENTRY"}},
		{"file of a later version", func(f map[string]string) {
			f[ManifestName] = manifestXML("1.1", "N")
		}, []string{"DS_FAX_DEVICES.csv:0::FILE_NOT_IN_VERSION"}},
		{"unknown version", replace(ManifestName, manifestXML("2.0", "N")),
			[]string{"manifest.xml:3:autoDataSyncVersion:UNSUPPORTED_VERSION"}},
		{"malformed manifest", replace(ManifestName, "<manifest><mirror>Y</manifest>"),
			[]string{"manifest.xml:1::MANIFEST_XML"}},
		{"unknown manifest element is a warning", replace(ManifestName, strings.Replace(manifestXML("1.3", "N"), "<mirror>", "<mirorr>N</mirorr><mirror>", 1)),
			[]string{"manifest.xml:4:mirorr:MANIFEST_UNKNOWN_ELEMENT"}},
		{"manifest flag not Y/N", replace(ManifestName, manifestXML("1.3", "yes")),
			[]string{"manifest.xml:4:mirror:MANIFEST_BAD_VALUE"}},
		{"trailing garbage after manifest", replace(ManifestName, manifestXML("1.3", "N")+"junk"),
			[]string{"manifest.xml:9::MANIFEST_XML"}},
		{"missing header column", replace(FileSites, strings.Replace(header(FileSites), ",LONGITUDE", "", 1)+"\n"+strings.Replace(row(FileSites), ",13.40", "", 1)+"\n"),
			[]string{"DS_SITES.csv:1:LONGITUDE:MISSING_COLUMN"}},
		{"unknown header column", replace(FileSites, header(FileSites)+",COLOUR\n"+row(FileSites)+",red\n"),
			[]string{"DS_SITES.csv:1:COLOUR:UNKNOWN_COLUMN"}},
		{"duplicated header column", replace(FileSites, header(FileSites)+",sitename\n"+row(FileSites)+",Berlin\n"),
			[]string{"DS_SITES.csv:1:sitename:DUPLICATE_COLUMN"}},
		{"header bound by name in any order and case", replace(FileSites,
			" action , is_externally_owned,"+strings.Join(LayoutOf(FileSites).ColumnNames()[:13], ",")+"\n"+
				"Y,Y,S1,Berlin,ACTIVE,Europe/Berlin,de,Germany,,,,,,,\n"), nil},
		{"empty file", replace(FileGroups, ""), []string{"DS_GROUPS.csv:0::EMPTY_FILE"}},
		{"bom is a warning", replace(FileSites, "\xEF\xBB\xBF"+header(FileSites)+"\n"+row(FileSites)+"\n"),
			[]string{"DS_SITES.csv:1::BOM"}},
		{"cr-only line endings", replace(FileSites, header(FileSites)+"\r"+row(FileSites)+"\r"+row(FileSites, "EXTERNAL_KEY", "S2", "SITENAME", "Paris")+"\r"), nil},
		{"quoted value with newlines", add(FileSites, row(FileSites, "EXTERNAL_KEY", "S2", "SITENAME", "Paris", "ADDRESS1", "1 rue X\nbâtiment B")), nil},
		{"unterminated quote names its start line", add(FileUsers,
			strings.Replace(row(FileUsers, "EXTERNAL_KEY", "U2", "USER_ID", "bob"), ",Lovelace,", `,"Lovelace,`, 1),
			row(FileUsers, "EXTERNAL_KEY", "U3", "USER_ID", "cy")),
			[]string{"DS_USERS.csv:3:LAST_NAME:UNTERMINATED_QUOTE"}},
		{"invalid utf-8", add(FileUsers, row(FileUsers, "EXTERNAL_KEY", "U2", "USER_ID", "bob", "LAST_NAME", "M\xfcller")),
			[]string{"DS_USERS.csv:3:LAST_NAME:INVALID_UTF8"}},
		{"too long counts characters", add(FileUsers,
			row(FileUsers, "EXTERNAL_KEY", "U2", "USER_ID", "bob", "LAST_NAME", strings.Repeat("ü", 100)),
			row(FileUsers, "EXTERNAL_KEY", "U3", "USER_ID", "cy", "LAST_NAME", strings.Repeat("x", 101))),
			[]string{"DS_USERS.csv:4:LAST_NAME:TOO_LONG"}},
		{"T/F flags", add(FileSites, row(FileSites, "EXTERNAL_KEY", "S2", "SITENAME", "Paris", "IS_EXTERNALLY_OWNED", "T")),
			[]string{"DS_SITES.csv:3:IS_EXTERNALLY_OWNED:BAD_FLAG"}},
		{"lower-case active", add(FileSites, row(FileSites, "EXTERNAL_KEY", "S2", "SITENAME", "Paris", "STATUS", "active")),
			[]string{"DS_SITES.csv:3:STATUS:BAD_STATUS"}},
		{"required value missing", add(FileUsers, row(FileUsers, "EXTERNAL_KEY", "U2", "USER_ID", "bob", "FIRST_NAME", "  ")),
			[]string{"DS_USERS.csv:3:FIRST_NAME:REQUIRED"}},
		{"lower-case action ignores the row", add(FileUsers, row(FileUsers, "EXTERNAL_KEY", "U2", "USER_ID", "bob", "ACTION", "y", "STATUS", "bad")),
			[]string{"DS_USERS.csv:3:ACTION:IGNORED_ROW"}},
		{"bad email and phone", func(f map[string]string) {
			add(FileEmail, row(FileEmail, "EXTERNAL_KEY", "E2", "ADDRESS", "ada at example.com", "DEVICE_NAME", "Home Email"))(f)
			add(FileVoice, row(FileVoice, "EXTERNAL_KEY", "V2", "PHONE_NUMBER", "555-CALL-NOW", "DEVICE_NAME", "Home Phone"))(f)
		}, []string{"DS_EMAIL_DEVICES.csv:3:ADDRESS:BAD_EMAIL", "DS_VOICE_DEVICES.csv:3:PHONE_NUMBER:BAD_PHONE"}},
		{"integer, coordinate, list", func(f map[string]string) {
			add(FileSites, row(FileSites, "EXTERNAL_KEY", "S2", "SITENAME", "Paris", "LATITUDE", "91"))(f)
			add(FileTeams, row(FileTeams, "EXTERNAL_KEY", "G1_night", "SUB_TARGET_NAME", "Night", "ESCALATION_SCHEDULE", "0,,5"))(f)
			add(FileEmail, row(FileEmail, "EXTERNAL_KEY", "E2", "DEVICE_NAME", "Home Email", "DELAY", "-5"))(f)
		}, []string{"DS_EMAIL_DEVICES.csv:3:DELAY:NOT_INTEGER", "DS_SITES.csv:3:LATITUDE:BAD_COORDINATE", "DS_TEAMS.csv:3:ESCALATION_SCHEDULE:BAD_LIST"}},
		{"time zone, language, country", add(FileSites, row(FileSites, "EXTERNAL_KEY", "S2", "SITENAME", "Paris",
			"SITE_TIMEZONE", "UTC-8:00", "SITE_LANGUAGE", "xx", "COUNTRY", "Narnia")),
			[]string{"DS_SITES.csv:3:COUNTRY:BAD_COUNTRY", "DS_SITES.csv:3:SITE_LANGUAGE:BAD_LANGUAGE", "DS_SITES.csv:3:SITE_TIMEZONE:BAD_TIMEZONE"}},
		{"duplicate external key", add(FileUsers, row(FileUsers, "USER_ID", "bob")),
			[]string{"DS_USERS.csv:3:EXTERNAL_KEY:DUPLICATE_KEY"}},
		{"duplicate user id ignores case", add(FileUsers, row(FileUsers, "EXTERNAL_KEY", "U2", "USER_ID", "ADA")),
			[]string{"DS_USERS.csv:3:USER_ID:DUPLICATE_NAME"}},
		{"one device per name and person across files", add(FileVoice, row(FileVoice, "EXTERNAL_KEY", "V2", "DEVICE_NAME", "Work Email")),
			[]string{"DS_VOICE_DEVICES.csv:3:USER_KEY+DEVICE_NAME:DUPLICATE_NAME"}},
		{"duplicate membership", add(FileMemberships, row(FileMemberships, "MEMBER_SEQUENCE_NUMBER", "3")),
			[]string{"DS_TEAM_MEMBERSHIPS.csv:4:TEAM_KEY+MEMBER_TYPE+MEMBER_KEY+MEMBER_SUB_TYPE:DUPLICATE_MEMBERSHIP"}},
		{"dangling references are warnings", func(f map[string]string) {
			add(FileUsers, row(FileUsers, "EXTERNAL_KEY", "U2", "USER_ID", "bob", "SITE_NAME", "Atlantis", "SUPERVISOR_LIST", "ada,nobody"))(f)
			add(FileEmail, row(FileEmail, "EXTERNAL_KEY", "E2", "USER_KEY", "U9"))(f)
			add(FileMemberships, row(FileMemberships, "MEMBER_KEY", "X9", "MEMBER_TYPE", "DEVICE", "MEMBER_SUB_TYPE", "VOICE"))(f)
		}, []string{
			"DS_EMAIL_DEVICES.csv:3:USER_KEY:UNKNOWN_REFERENCE",
			"DS_TEAM_MEMBERSHIPS.csv:4:MEMBER_KEY:UNKNOWN_REFERENCE",
			"DS_USERS.csv:3:SITE_NAME:UNKNOWN_REFERENCE",
			"DS_USERS.csv:3:SUPERVISOR_LIST:UNKNOWN_REFERENCE",
		}},
		{"forward supervisor reference resolves", add(FileUsers,
			row(FileUsers, "EXTERNAL_KEY", "U2", "USER_ID", "bob", "SUPERVISOR_LIST", "cy"),
			row(FileUsers, "EXTERNAL_KEY", "U3", "USER_ID", "cy", "SUPERVISOR_LIST", "<<<NONE>>>")), nil},
		{"user id equal to a group name", add(FileGroups, row(FileGroups, "EXTERNAL_KEY", "G2", "GROUP_NAME", "Ada")),
			[]string{"DS_GROUPS.csv:3:GROUP_NAME:NAME_COLLISION"}},
		{"device member needs a sub type", add(FileMemberships, row(FileMemberships, "MEMBER_KEY", "V1", "MEMBER_TYPE", "DEVICE", "MEMBER_SEQUENCE_NUMBER", "3")),
			[]string{"DS_TEAM_MEMBERSHIPS.csv:4:MEMBER_SUB_TYPE:REQUIRED"}},
		{"same key as person and as device is no duplicate", add(FileMemberships,
			row(FileMemberships, "MEMBER_KEY", "U1", "MEMBER_TYPE", "DEVICE", "MEMBER_SUB_TYPE", "EMAIL")),
			[]string{"DS_TEAM_MEMBERSHIPS.csv:4:MEMBER_KEY:UNKNOWN_REFERENCE"}},
		{"sub type of a person member is ignored", add(FileMemberships,
			row(FileMemberships, "MEMBER_SUB_TYPE", "EMAIL")),
			[]string{"DS_TEAM_MEMBERSHIPS.csv:4:TEAM_KEY+MEMBER_TYPE+MEMBER_KEY+MEMBER_SUB_TYPE:DUPLICATE_MEMBERSHIP"}},
		{"bad member type", add(FileMemberships, row(FileMemberships, "MEMBER_TYPE", "USER")),
			[]string{"DS_TEAM_MEMBERSHIPS.csv:4:MEMBER_TYPE:BAD_MEMBER_TYPE"}},
		{"wrong field count", add(FileSites, "S2,Paris"),
			[]string{"DS_SITES.csv:3::FIELD_COUNT"}},
		{"stray quote", add(FileSites, strings.Replace(row(FileSites, "EXTERNAL_KEY", "S2", "SITENAME", "Paris"), "Paris", `Pa"ris`, 1)),
			[]string{"DS_SITES.csv:3:SITENAME:BAD_QUOTE"}},
		{"removal needs only its key", add(FileUsers, "U1,,,,,,,,,,,Y,R"),
			[]string{"DS_USERS.csv:3:EXTERNAL_KEY:DUPLICATE_KEY"}},
		{"reference to a removed row", func(f map[string]string) {
			add(FileUsers, "U2,,,,,,,,,,,Y,R")(f)
			add(FileEmail, row(FileEmail, "EXTERNAL_KEY", "E2", "USER_KEY", "U2"))(f)
		}, []string{"DS_EMAIL_DEVICES.csv:3:USER_KEY:REMOVED_REFERENCE"}},
		{"mirror ignores R rows", func(f map[string]string) {
			f[ManifestName] = manifestXML("1.3", "Y")
			add(FileUsers, "U2,,,,,,,,,,,Y,R")(f)
		}, []string{"DS_USERS.csv:3:ACTION:IGNORED_ROW"}},
		{"unsafe entry name", replace("../x", "boo"), []string{"../x:0::UNSAFE_ENTRY_NAME"}},
		{"duplicate entry by case", replace("ds_sites.CSV", header(FileSites)+"\n"),
			[]string{"ds_sites.CSV:0::DUPLICATE_ENTRY"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := validArchive(Latest)
			tt.change(files)
			got, _ := validateFiles(t, files)
			want := tt.want
			if want == nil {
				want = []string{}
			}
			if diff := cmp.Diff(want, briefs(got)); diff != "" {
				t.Errorf("findings (-want +got):\n%s\nall: %v", diff, got)
			}
		})
	}
}

func TestTopLevelFolderIsRoot(t *testing.T) {
	files := map[string]string{}
	for name, content := range validArchive(Latest) {
		files["export-2026/"+name] = content
	}
	files["__MACOSX/._manifest.xml"] = "junk"
	got, _ := validateFiles(t, files)
	if diff := cmp.Diff([]string{"__MACOSX/._manifest.xml:0::UNKNOWN_ENTRY"}, briefs(got)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

func TestFindingsCarryValueAndMessage(t *testing.T) {
	files := validArchive(Latest)
	files[FileSites] += row(FileSites, "EXTERNAL_KEY", "S2", "SITENAME", "Paris", "SITE_TIMEZONE", "europe/paris") + "\n"
	got, _ := validateFiles(t, files)
	if len(got) != 1 {
		t.Fatalf("got %v", got)
	}
	f := got[0]
	if f.Value != "europe/paris" || f.Severity != Error || !strings.Contains(f.Message, "Europe/Paris") {
		t.Errorf("finding = %+v; want the value, ERROR and a message suggesting Europe/Paris", f)
	}
}

// The example archive of the docs must stay clean.
func TestExampleArchiveIsClean(t *testing.T) {
	var got []Finding
	res, err := ValidateDir("../../examples/archive", Options{Limits: DefaultLimits(), Sink: func(f Finding) { got = append(got, f) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) > 0 {
		t.Fatalf("findings in examples/archive: %v", got)
	}
	if res.Rows() < 15 {
		t.Errorf("examples/archive has %d rows; it should show every kind of file", res.Rows())
	}
}
