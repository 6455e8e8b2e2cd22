package refdata

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestTimeZone(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"Europe/Berlin", "Europe/Berlin", true},
		{"US/Pacific", "US/Pacific", true},
		{"UTC", "UTC", true},
		{"europe/berlin", "Europe/Berlin", false},
		{"UTC-8:00", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := TimeZone(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("TimeZone(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestLanguage(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"en", "en", true},
		{"fr", "fr", true},
		{"EN", "en", false},
		{"xx", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := Language(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Language(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestCountryName(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"Germany", true},
		{"germany", true},
		{"United States", true},
		{"United Kingdom", true},
		{"Bolivia", true},                     // common_name
		{"federal republic of germany", true}, // official_name
		{"Narnia", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := CountryName(tt.in); got != tt.want {
			t.Errorf("CountryName(%q) = %v; want %v", tt.in, got, tt.want)
		}
	}
}

func TestCountryCode(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"DE", true},
		{"us", true},
		{"XX", false},
		{"USA", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := CountryCode(tt.in); got != tt.want {
			t.Errorf("CountryCode(%q) = %v; want %v", tt.in, got, tt.want)
		}
	}
}

func TestLists(t *testing.T) {
	zones, langs, countries := TimeZones(), Languages(), Countries()
	if n := len(zones); n <= 400 {
		t.Errorf("len(TimeZones()) = %d; want > 400", n)
	}
	if n := len(langs); n <= 150 {
		t.Errorf("len(Languages()) = %d; want > 150", n)
	}
	if n := len(countries); n <= 240 {
		t.Errorf("len(Countries()) = %d; want > 240", n)
	}
	if !slices.IsSorted(zones) || !slices.IsSorted(langs) ||
		!slices.IsSortedFunc(countries, func(a, b Country) int { return strings.Compare(a.Code, b.Code) }) {
		t.Error("lists are not sorted")
	}
	if !slices.Contains(countries, Country{"DE", "Germany"}) {
		t.Error(`Countries() lacks {"DE", "Germany"}`)
	}
	zones[0] = "mutated"
	if TimeZones()[0] == "mutated" {
		t.Error("TimeZones() does not return a copy")
	}
}

func TestExactMatchDoesNotAllocate(t *testing.T) {
	n := testing.AllocsPerRun(100, func() {
		TimeZone("Europe/Berlin")
		Language("en")
		CountryName("Germany")
		CountryCode("DE")
	})
	if n != 0 {
		t.Errorf("exact-match lookups allocate %v times; want 0", n)
	}
}

// TestGeneratedFilesUpToDate re-runs scripts/genrefdata into a temp dir and
// checks that the committed files are byte-identical to its output.
func TestGeneratedFilesUpToDate(t *testing.T) {
	if _, err := os.Stat("/usr/share/iso-codes/json"); err != nil && os.Getenv("EPIC_TEST_DISALLOW_SKIP") != "1" {
		t.Skip("iso-codes not installed (apt-get install iso-codes)")
	}
	dir := t.TempDir()
	cmd := exec.Command("go", "run", "./scripts/genrefdata", "-out", dir)
	cmd.Dir = filepath.Join("..", "..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run ./scripts/genrefdata: %v\n%s", err, out)
	}
	for _, name := range []string{"timezones.txt", "languages.txt", "countries.txt"} {
		want, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale; run scripts/gen-refdata", name)
		}
	}
}
