package archive

import (
	"archive/zip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// defaults holds a valid value for every column of every file; the rows
// of the test archive are these with a few values changed.
var defaults = map[string]map[string]string{
	FileSites: {"EXTERNAL_KEY": "S1", "SITENAME": "Berlin", "STATUS": "ACTIVE", "SITE_TIMEZONE": "Europe/Berlin",
		"SITE_LANGUAGE": "de", "COUNTRY": "Germany", "CITY": "Berlin", "POSTAL_CODE": "10115", "LATITUDE": "52.52", "LONGITUDE": "13.40"},
	FileUsers: {"EXTERNAL_KEY": "U1", "USER_ID": "ada", "FIRST_NAME": "Ada", "LAST_NAME": "Lovelace", "STATUS": "ACTIVE",
		"ROLE_LIST": "Standard User", "SITE_NAME": "Berlin"},
	FileEmail:        {"EXTERNAL_KEY": "E1", "ADDRESS": "ada@example.com", "DEVICE_NAME": "Work Email"},
	FileVoice:        {"EXTERNAL_KEY": "V1", "COUNTRY": "Germany", "AREA_CODE": "30", "PHONE_NUMBER": "1234 567", "DEVICE_NAME": "Work Phone"},
	FileTextPhone:    {"EXTERNAL_KEY": "T1", "TARGET_NUMBER": "+49 170 1234567", "DEVICE_NAME": "SMS Phone", "COUNTRY_CODE": "DE"},
	FileTextPager:    {"EXTERNAL_KEY": "P1", "PIN": "A12", "SERVICE_PROVIDER": "Generic Paging", "DEVICE_NAME": "Pager"},
	FileNumericPager: {"EXTERNAL_KEY": "N1", "PIN": "12345", "SERVICE_PROVIDER": "Generic Paging", "DEVICE_NAME": "Numeric Pager"},
	FileIM:           {"EXTERNAL_KEY": "I1", "ADDRESS": "ada@chat.example.com", "DEVICE_NAME": "IM"},
	FileVoiceIVR:     {"EXTERNAL_KEY": "IV1", "PHONE_NUMBER": "+49 30 1234567", "DEVICE_NAME": "Voice IVR"},
	FileFax:          {"EXTERNAL_KEY": "F1", "FAX_NUMBER": "+49 30 7654321", "DEVICE_NAME": "Fax"},
	FileCustomValues: {"EXTERNAL_KEY": "C1", "CUSTOM_USER_KEY": "U1", "FIELD_KEY": "DEPARTMENT", "CUSTOM_VALUE": "Engineering"},
	FileGroups: {"EXTERNAL_KEY": "G1", "GROUP_NAME": "Ops", "STATUS": "ACTIVE", "USE_DEFAULT_DEVICES": "Y",
		"TIMEZONE": "Europe/Berlin", "GROUP_SITE_NAME": "Berlin", "SUPERVISOR_LIST": "ada"},
	FileTeams: {"EXTERNAL_KEY": "G1_day", "GROUP_KEY": "G1", "SUB_TARGET_NAME": "Day", "USE_DEFAULT_DEVICES": "Y",
		"ESCALATION_SCHEDULE": "0,5", "IS_ROUND_ROBIN": "N"},
	FileMemberships: {"TEAM_KEY": "G1_day", "MEMBER_KEY": "U1", "MEMBER_TYPE": "PERSON", "MEMBER_SEQUENCE_NUMBER": "1"},
}

// commonDefaults fill the columns every file shares.
var commonDefaults = map[string]string{
	"IS_EXTERNALLY_OWNED": "Y", "ACTION": "Y", "USER_KEY": "U1", "STATUS": "ACTIVE",
	"DEFAULT_DEVICE": "N", "DEVICE_ORDER": "0", "DELAY": "0", "LOCK_24x7": "N",
}

// row renders one CSV line of file: its defaults with kv (column, value,
// column, value...) changed.
func row(file string, kv ...string) string {
	l := LayoutOf(file)
	vals := map[string]string{}
	for k, v := range commonDefaults {
		vals[k] = v
	}
	for k, v := range defaults[l.Name] {
		vals[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		vals[kv[i]] = kv[i+1]
	}
	out := make([]string, len(l.Columns))
	for i, c := range l.Columns {
		v := vals[c.Name]
		if strings.ContainsAny(v, ",\"\n\r") {
			v = `"` + strings.ReplaceAll(v, `"`, `""`) + `"`
		}
		out[i] = v
	}
	return strings.Join(out, ",")
}

func header(file string) string { return strings.Join(LayoutOf(file).ColumnNames(), ",") }

// validArchive returns the files of a clean archive of version v, each
// with one row (memberships: a person and a device).
func validArchive(v Version) map[string]string {
	files := map[string]string{ManifestName: manifestXML(string(v), "N")}
	for _, l := range Layouts(v) {
		files[l.Name] = header(l.Name) + "\n" + row(l.Name) + "\n"
	}
	files[FileMemberships] += row(FileMemberships, "MEMBER_KEY", "E1", "MEMBER_TYPE", "DEVICE", "MEMBER_SUB_TYPE", "EMAIL", "MEMBER_SEQUENCE_NUMBER", "2") + "\n"
	return files
}

func manifestXML(version, mirror string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<manifest>
  <autoDataSyncVersion>` + version + `</autoDataSyncVersion>
  <mirror>` + mirror + `</mirror>
  <deviceNamesToIgnore>Home Phone|Home Email</deviceNamesToIgnore>
  <ignoreDeviceOrderAndDelay>N</ignoreDeviceOrderAndDelay>
  <forceNewPasswordReset>Y</forceNewPasswordReset>
</manifest>
`
}

// writeZipFile zips files (name -> content) to a temporary file.
func writeZipFile(t testing.TB, files map[string]string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "a.zip")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for _, name := range sortedNames(files) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(files[name]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return path
}

func sortedNames(files map[string]string) []string {
	var names []string
	for n := range files {
		names = append(names, n)
	}
	for i := range names {
		for j := i + 1; j < len(names); j++ {
			if names[j] < names[i] {
				names[i], names[j] = names[j], names[i]
			}
		}
	}
	return names
}

// validateFiles zips files, validates them and returns every finding.
func validateFiles(t testing.TB, files map[string]string) ([]Finding, *Result) {
	t.Helper()
	return validatePath(t, writeZipFile(t, files), DefaultLimits())
}

func validatePath(t testing.TB, path string, lim Limits) ([]Finding, *Result) {
	t.Helper()
	var got []Finding
	res, err := ValidateZip(path, Options{Limits: lim, Sink: func(f Finding) { got = append(got, f) }})
	if err != nil {
		t.Fatalf("ValidateZip: %v", err)
	}
	return got, res
}
