package source

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestHealth(t *testing.T) {
	h := DefaultHealth()
	h.MinPeople = 10
	h.StateFile = filepath.Join(t.TempDir(), "state.json")
	now := time.Date(2026, 12, 4, 1, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		people int
		ok     bool
		record bool
		why    string
	}{
		{0, false, false, "no people"},
		{9, false, false, "min_people"},
		{1000, true, true, ""},
		{499, false, false, "50 %"},
		{500, true, true, ""},
		{260, true, false, ""},
	} {
		err := h.Check("ldap test", c.people)
		if c.ok != (err == nil) || (err != nil && !errors.Is(err, ErrUnhealthy)) {
			t.Fatalf("Check(%d) = %v, want ok=%v", c.people, err, c.ok)
		}
		if err != nil && !strings.Contains(err.Error(), c.why) && !strings.Contains(err.Error(), "fewer than") {
			t.Errorf("Check(%d) = %v, want it to say %q", c.people, err, c.why)
		}
		if c.record {
			if err := h.Record("ldap test", c.people, now); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Another source has its own history.
	if err := h.Check("csv other", 11); err != nil {
		t.Errorf("another source: %v", err)
	}
	// Switched off.
	h.MinPreviousPercent = -1
	if err := h.Check("ldap test", 11); err != nil {
		t.Errorf("switched off: %v", err)
	}
	// A damaged state file is an error that says what to do.
	os.WriteFile(h.StateFile, []byte("{"), 0o600)
	h.MinPreviousPercent = 50
	if err := h.Check("ldap test", 11); err == nil || !strings.Contains(err.Error(), "delete the file") {
		t.Errorf("damaged state: %v", err)
	}
}

func TestDecodeSection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "epic.toml")
	os.WriteFile(path, []byte(`
[server]
url = "https://x"
[health]
min_people = 5
[ldap]
url = "ldap://x"
bogus = 1
`), 0o600)
	h := DefaultHealth()
	if err := DecodeSection(path, "health", &h); err != nil {
		t.Fatal(err)
	}
	if h.MinPeople != 5 || h.MinPreviousPercent != 50 {
		t.Errorf("health = %+v", h)
	}
	var l struct {
		URL string `toml:"url"`
	}
	err := DecodeSection(path, "ldap", &l)
	if err == nil || !strings.Contains(err.Error(), "ldap.bogus") {
		t.Errorf("unknown key: %v", err)
	}
	var none struct{}
	if err := DecodeSection(path, "csv", &none); err != nil {
		t.Errorf("absent section: %v", err)
	}
	os.WriteFile(path, []byte("[ldap]\npassword = \"secret\" x\n"), 0o600)
	if err := DecodeSection(path, "ldap", &l); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("parse error must not quote the line: %v", err)
	}
}
