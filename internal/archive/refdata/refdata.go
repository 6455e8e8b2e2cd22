package refdata

import (
	_ "embed"
	"fmt"
	"slices"
	"strings"
	"sync"
)

var (
	//go:embed timezones.txt
	timezonesTxt string
	//go:embed languages.txt
	languagesTxt string
	//go:embed countries.txt
	countriesTxt string
)

// Country is an ISO 3166-1 country.
type Country struct {
	Code string // alpha-2 code, upper case, e.g. "DE"
	Name string // ISO short name, e.g. "Germany"
}

// set is a list of canonical values with exact and case-insensitive lookup.
// The generated files are sorted, so sorted keeps file order.
type set struct {
	exact  map[string]struct{}
	folded map[string]string // strings.ToLower(v) -> v
	sorted []string
}

func newSet(n int) *set {
	return &set{exact: make(map[string]struct{}, n), folded: make(map[string]string, n)}
}

func (t *set) add(v string) {
	if _, dup := t.exact[v]; dup {
		return
	}
	t.exact[v] = struct{}{}
	t.sorted = append(t.sorted, v)
	if k := strings.ToLower(v); t.folded[k] == "" { // first spelling wins
		t.folded[k] = v
	}
}

// lookup implements the TimeZone/Language contract.
func (t *set) lookup(s string) (string, bool) {
	if _, ok := t.exact[s]; ok {
		return s, true
	}
	if c, ok := t.folded[strings.ToLower(s)]; ok {
		return c, false
	}
	return "", false
}

// has reports whether s matches a value case-insensitively.
func (t *set) has(s string) bool {
	if _, ok := t.exact[s]; ok {
		return true
	}
	_, ok := t.folded[strings.ToLower(s)]
	return ok
}

type countryData struct {
	names, codes *set
	list         []Country
}

var (
	zones = sync.OnceValue(func() *set {
		lines := records(timezonesTxt, "timezones.txt", 1)
		t := newSet(len(lines))
		for _, f := range lines {
			t.add(f[0])
		}
		return t
	})
	langs = sync.OnceValue(func() *set {
		lines := records(languagesTxt, "languages.txt", 2)
		t := newSet(len(lines))
		for _, f := range lines {
			t.add(f[0])
		}
		return t
	})
	countries = sync.OnceValue(func() *countryData {
		lines := records(countriesTxt, "countries.txt", 4)
		d := &countryData{names: newSet(3 * len(lines)), codes: newSet(len(lines))}
		for _, f := range lines {
			d.codes.add(f[0])
			for _, name := range f[1:] {
				if name != "" {
					d.names.add(name)
				}
			}
			d.list = append(d.list, Country{Code: f[0], Name: f[1]})
		}
		return d
	})
)

// records splits an embedded file into tab-separated records of n fields,
// skipping blank lines and # comments. A malformed file is a generator bug,
// so it panics.
func records(data, name string, n int) [][]string {
	var out [][]string
	for i, line := range strings.Split(data, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != n || f[0] == "" {
			panic(fmt.Sprintf("refdata: %s:%d: want %d tab-separated fields, got %q", name, i+1, n, line))
		}
		out = append(out, f)
	}
	return out
}

// TimeZone looks s up among the IANA time-zone names known to Go, including
// backward-compatible aliases such as "US/Pacific". On an exact match it
// returns s, true. Otherwise, if s matches a zone case-insensitively, it
// returns that zone's canonical spelling and false, so callers can suggest
// it; if nothing matches it returns "", false.
func TimeZone(s string) (canonical string, ok bool) { return zones().lookup(s) }

// Language looks s up among the ISO 639-1 two-letter language codes, with
// the same contract as TimeZone. Canonical codes are lower case ("en").
func Language(s string) (canonical string, ok bool) { return langs().lookup(s) }

// CountryName reports whether s equals, ignoring case, the ISO 3166-1 name,
// common name or official name of a country ("Germany", "Bolivia",
// "Federal Republic of Germany").
func CountryName(s string) bool { return countries().names.has(s) }

// CountryCode reports whether s is an ISO 3166-1 alpha-2 code, ignoring case.
func CountryCode(s string) bool { return countries().codes.has(s) }

// TimeZones returns all time-zone names, sorted. The slice is a fresh copy.
func TimeZones() []string { return slices.Clone(zones().sorted) }

// Languages returns all ISO 639-1 codes, sorted. The slice is a fresh copy.
func Languages() []string { return slices.Clone(langs().sorted) }

// Countries returns all countries sorted by code. The slice is a fresh copy.
func Countries() []Country { return slices.Clone(countries().list) }
