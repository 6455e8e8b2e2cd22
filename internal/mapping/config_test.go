package mapping

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func base() Config {
	return Config{Person: map[string]string{
		"EXTERNAL_KEY": "{id}", "USER_ID": "{login}", "first_name": "{first}", "LAST_NAME": "{last}", "SITE_NAME": "HQ",
	}}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []struct {
		mod  func(*Config)
		want string
	}{
		{func(c *Config) { c.Person["EMAIL"] = "{mail}" }, `"EMAIL", which is not a column of DS_USERS`},
		{func(c *Config) { delete(c.Person, "USER_ID") }, "needs a template for USER_ID"},
		{func(c *Config) { c.Person["LAST_NAME"] = "{last" }, "[mapping.person] LAST_NAME"},
		{func(c *Config) { c.Devices = []DeviceConfig{{Type: "PIGEON", Name: "x", Value: "{a}"}} }, `type "PIGEON" is not a device type`},
		{func(c *Config) { c.Devices = []DeviceConfig{{Type: "EMAIL", Value: "{a}"}} }, "name is missing"},
		{func(c *Config) {
			c.Devices = []DeviceConfig{{Type: "EMAIL", Name: "W", Value: "{a}"}, {Type: "VOICE", Name: "w", Value: "{b}"}}
		}, "used twice"},
		{func(c *Config) {
			c.Devices = []DeviceConfig{{Type: "EMAIL", Name: "W", Value: "{a}", Extension: "{x}"}}
		}, "has no extension"},
		{func(c *Config) { c.Devices = []DeviceConfig{{Type: "TEXT_PAGER", Name: "P", Value: "{a}"}} }, "needs provider"},
		{func(c *Config) { c.Sites = []SiteConfig{{Name: "HQ"}} }, "needs name and timezone"},
	} {
		cfg := base()
		c.mod(&cfg)
		_, err := New(cfg)
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New = %v, want %q", err, c.want)
		}
	}
}

func TestPersonAndBuilder(t *testing.T) {
	cfg := base()
	cfg.DefaultCountry = "US"
	cfg.Devices = []DeviceConfig{
		{Type: "EMAIL", Name: "Work Email", Value: "{mail}"},
		{Type: "VOICE", Name: "Work Phone", Value: "{tel:phone}"},
	}
	cfg.Custom = map[string]string{"DEPARTMENT": "{dept}"}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(m.Fields(), ","); got != "id,login,first,last,mail,tel,dept" {
		t.Errorf("Fields = %s", got)
	}
	p, err := m.Person(MapRecord{"id": "1", "login": "ada", "first": "Ada", "last": "Lovelace", "tel": "nonsense", "dept": "R&D"})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Devices) != 0 || len(p.Warnings) != 1 || len(p.Custom) != 1 {
		t.Errorf("person %+v", p)
	}
	_, err = m.Person(MapRecord{"id": "2", "first": "No", "last": "Login"})
	var se *SkipError
	if !errors.As(err, &se) || !strings.Contains(se.Reason, "USER_ID is empty") {
		t.Errorf("no login: %v", err)
	}
	b := NewBuilder(m)
	if err := b.Add(p, "row 1"); err != nil {
		t.Fatal(err)
	}
	p2 := p
	p2.UserID = "ADA"
	p2.Key = "2"
	if err := b.Add(p2, "row 2"); !errors.Is(err, ErrDuplicate) {
		t.Errorf("duplicate USER_ID in another case: %v", err)
	}
	// An invalid archive (a USER_ID that is a group name) is not published.
	b.AddGroup(Group{Key: "g", Name: "ada", TimeZone: "UTC", Shift: "S"})
	dir := filepath.Join(t.TempDir(), "out")
	if _, err := b.WriteDir(dir); !errors.Is(err, ErrInvalid) {
		t.Fatalf("WriteDir = %v, want ErrInvalid", err)
	}
	if ents, _ := os.ReadDir(filepath.Dir(dir)); len(ents) != 0 {
		t.Errorf("left behind: %v", ents)
	}
	// A folder holding other files is refused.
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "notes.txt"), nil, 0o600)
	b = NewBuilder(m)
	b.Add(p, "row 1")
	if _, err := b.WriteDir(dir); err == nil || !strings.Contains(err.Error(), "notes.txt") {
		t.Errorf("foreign folder: %v", err)
	}
	os.Remove(filepath.Join(dir, "notes.txt"))
	if _, err := b.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := b.WriteDir(dir); err != nil {
		t.Errorf("replacing an earlier export: %v", err)
	}
}
