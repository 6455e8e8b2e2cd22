package e2e_test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/epicsync/epic/internal/ldap/ldaptest"
)

// TestLDAPExport is the LDAP proof through real binaries: both committed
// trees (3,200 people, each tree past the shared slapd's size limit of
// 1,000 for the non-root reader) are seeded into the shared slapd, read
// by `epic export ldap`, packed, uploaded to `epicd serve` with --wait,
// and the directory read back through the API is compared with what the
// LDIF says: people, names, status, sites, groups and their members.
func TestLDAPExport(t *testing.T) {
	ldapURL, rootDN, rootPW := ldaptest.Shared(t)
	var rb [4]byte
	_, _ = rand.Read(rb[:])
	tree := "e2e" + hex.EncodeToString(rb[:])
	ldaptest.Seed(t, ldapURL, rootDN, rootPW, tree, ldaptest.Testdata("openldap.ldif"), ldaptest.Testdata("ad.ldif"))
	base := ldaptest.Base(tree)

	s := newService(t, "", "--batch-interval", "1s")
	s.addUser("Acme", "acme-read", "reader")
	s.epicd("company", "create", "Globex")
	s.addUser("Globex", "globex-up", "epic-uploader")
	s.addUser("Globex", "globex-read", "reader")
	s.start()
	dir := t.TempDir()

	const sites = `
[[mapping.site]]
name = "Headquarters"
timezone = "America/New_York"
[[mapping.site]]
name = "New York"
timezone = "America/New_York"
[[mapping.site]]
name = "London"
timezone = "Europe/London"
[[mapping.site]]
name = "Berlin"
timezone = "Europe/Berlin"
`
	pw := filepath.Join(dir, "reader.pw")
	os.WriteFile(pw, []byte(ldaptest.ReaderPW+"\n"), 0o600)
	ldapSection := func(people, filter, groups, groupFilter, key, nested string) string {
		return fmt.Sprintf(`
[ldap]
url = %q
bind_dn = "cn=reader,ou=Service,%[2]s"
bind_password_file = "reader.pw"
base_dn = "%[3]s,%[2]s"
filter = %[4]q
page_size = 400

[ldap.groups]
base_dn = "%[5]s,%[2]s"
filter = %[6]q
key = %[7]q
timezone = "America/New_York"
nested = %[8]q
`, ldapURL, base, people, filter, groups, groupFilter, key, nested)
	}
	openldap := ldapSection("ou=People", "(objectClass=inetOrgPerson)", "ou=Groups",
		"(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))", "{cn}", "flatten") + `
[mapping]
default_country = "US"
[mapping.person]
EXTERNAL_KEY = "{employeeNumber}"
USER_ID = "{uid}"
FIRST_NAME = "{givenName}"
LAST_NAME = "{sn}"
STATUS = "{employeeType:map('disabled=INACTIVE','*=ACTIVE')|'ACTIVE'}"
SITE_NAME = "{l|'Headquarters'}"
[[mapping.device]]
type = "EMAIL"
name = "Work Email"
value = "{mail}"
[[mapping.device]]
type = "VOICE"
name = "Work Phone"
value = "{telephoneNumber:phone}"
[[mapping.device]]
type = "TEXT_PHONE"
name = "SMS Phone"
value = "{mobile:phone}"
` + sites
	ad := ldapSection("ou=Users,ou=corp", "(objectClass=user)", "ou=Groups,ou=corp", "(objectClass=group)",
		"{sAMAccountName}", "keep") + `
[mapping]
default_country = "US"
[mapping.person]
EXTERNAL_KEY = "{employeeNumber}"
USER_ID = "{sAMAccountName}"
FIRST_NAME = "{givenName}"
LAST_NAME = "{sn}"
STATUS = "{userAccountControl:uac|'ACTIVE'}"
SITE_NAME = "{physicalDeliveryOfficeName|'Headquarters'}"
[[mapping.device]]
type = "EMAIL"
name = "Work Email"
value = "{mail}"
` + sites

	entries := map[string]ldaptest.Entry{}
	for _, f := range []string{"openldap.ldif", "ad.ldif"} {
		es, err := ldaptest.ReadLDIF(ldaptest.Testdata(f))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if n := e.Get("employeeNumber"); len(n) > 0 {
				entries[n[0]] = e
			}
		}
	}

	for _, tc := range []struct {
		name, company, up, read, config string
		people                          int
		userID, status, site            func(ldaptest.Entry) string
		groups                          int
	}{
		{"openldap", "Acme", "acme-up", "acme-read", openldap, 2000,
			func(e ldaptest.Entry) string { return e.Get("uid")[0] },
			func(e ldaptest.Entry) string {
				if len(e.Get("employeeType")) > 0 {
					return "INACTIVE"
				}
				return "ACTIVE"
			},
			func(e ldaptest.Entry) string { return first(e.Get("l"), "Headquarters") }, 34},
		{"ad", "Globex", "globex-up", "globex-read", ad, 1200,
			func(e ldaptest.Entry) string { return e.Get("sAMAccountName")[0] },
			func(e ldaptest.Entry) string {
				if u := e.Get("userAccountControl")[0]; u == "514" || u == "66050" {
					return "INACTIVE"
				}
				return "ACTIVE"
			},
			func(e ldaptest.Entry) string { return first(e.Get("physicalDeliveryOfficeName"), "Headquarters") }, 23},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := filepath.Join(dir, tc.name+".toml")
			os.WriteFile(cfg, []byte(tc.config), 0o600)
			out := filepath.Join(dir, tc.name)
			start := time.Now()
			o, code := run(t, nil, bins.epic, "export", "ldap", "--config", cfg, "-o", out)
			if code != 0 {
				t.Fatalf("epic export ldap: exit %d\n%s", code, o)
			}
			t.Logf("export of %d people: %v", tc.people, time.Since(start))
			if !strings.Contains(o, fmt.Sprintf("wrote %s: %d people, %d groups", out, tc.people, tc.groups)) ||
				!strings.Contains(o, "group members that are not exported: 1\n") {
				t.Errorf("export output:\n%s", o)
			}
			zip := out + ".zip"
			if o, code := run(t, nil, bins.epic, "pack", out, "-o", zip); code != 0 {
				t.Fatalf("epic pack: exit %d\n%s", code, o)
			}
			if o, code := run(t, s.clientEnv(tc.up), bins.epic, "file", zip, "--wait"); code != 0 || !strings.Contains(o, "COMPLETED") {
				t.Fatalf("epic file --wait: exit %d\n%s\n%s", code, o, s.log)
			}

			// People through the API, against the LDIF.
			seen := 0
			next := "/api/xm/1/people?limit=1000"
			for next != "" {
				var page list[struct {
					TargetName, FirstName, LastName, ExternalKey, Status string
					Site                                                 struct{ Name string }
				}]
				if code := s.get(tc.read, next, &page); code != 200 {
					t.Fatalf("GET %s: %d", next, code)
				}
				for _, p := range page.Data {
					e, ok := entries[p.ExternalKey]
					if !ok {
						t.Fatalf("person %+v is not in the LDIF", p)
					}
					if p.TargetName != tc.userID(e) || p.FirstName != e.Get("givenName")[0] || p.LastName != e.Get("sn")[0] ||
						p.Status != tc.status(e) || p.Site.Name != tc.site(e) {
						t.Fatalf("person %+v; LDIF %s: %s %s %s %s %s", p, e.DN, tc.userID(e), e.Get("givenName")[0], e.Get("sn")[0], tc.status(e), tc.site(e))
					}
					seen++
				}
				next = page.Links.Next
			}
			if seen != tc.people {
				t.Errorf("the API lists %d people, the LDIF has %d", seen, tc.people)
			}

			// Groups and one group's members.
			var groups list[struct{ ID, TargetName string }]
			if code := s.get(tc.read, "/api/xm/1/groups?limit=1000", &groups); code != 200 || groups.Total != tc.groups {
				t.Fatalf("groups: %d, %d of %d", code, groups.Total, tc.groups)
			}
			want := map[string][]string{
				// team-01 and team-02 flattened into oncall-all with u00001
				"openldap": nil,
				"ad":       {"All Engineers: Eng Berlin", "All Engineers: Eng London", "All Engineers: " + entries["AD00015"].Get("sAMAccountName")[0]},
			}[tc.name]
			g := map[string]string{}
			for _, x := range groups.Data {
				g[x.TargetName] = x.ID
			}
			members := func(name string) []string {
				var ms list[struct {
					Member struct{ TargetName, Name string }
				}]
				if code := s.get(tc.read, "/api/xm/1/groups/"+url.PathEscape(g[name])+"/members?limit=1000", &ms); code != 200 {
					t.Fatalf("members of %s: %d", name, code)
				}
				var out []string
				for _, m := range ms.Data {
					out = append(out, name+": "+m.Member.TargetName+m.Member.Name)
				}
				slices.Sort(out)
				return out
			}
			if tc.name == "ad" {
				if got := members("All Engineers"); !slices.Equal(got, want) {
					t.Errorf("All Engineers: %v, want %v", got, want)
				}
			} else {
				oncall := members("oncall-all")
				t1, t2 := members("team-01"), members("team-02")
				union := map[string]bool{"oncall-all: u00001": true}
				for _, m := range append(t1, t2...) {
					union["oncall-all: "+strings.SplitN(m, ": ", 2)[1]] = true
				}
				if len(oncall) != len(union) || len(t1) != 20 {
					t.Errorf("oncall-all has %d members, team-01 %d; want %d (team-01 ∪ team-02 ∪ u00001) and 20", len(oncall), len(t1), len(union))
				}
				for _, m := range oncall {
					if !union[m] {
						t.Errorf("oncall-all member %s is in neither team", m)
					}
				}
			}
		})
	}
	// Failures through the binary: nothing is written, the exit code says why.
	t.Run("failures", func(t *testing.T) {
		for _, c := range []struct {
			name, from, to, want string
			code                 int
		}{
			{"wrong password", `bind_password_file = "reader.pw"`, `bind_password = "wrong"`, "wrong password", 255},
			{"no paging", `page_size = 400`, "paging = false", "size limit after 1000 entries", 255},
			{"filter matching nobody", `filter = "(objectClass=inetOrgPerson)"`, `filter = "(objectClass=inetOrgPersn)"`, "has no people", 4},
		} {
			cfg := filepath.Join(dir, "bad.toml")
			os.WriteFile(cfg, []byte(strings.Replace(openldap, c.from, c.to, 1)), 0o600)
			out := filepath.Join(dir, "bad")
			o, code := run(t, nil, bins.epic, "export", "ldap", "--config", cfg, "-o", out)
			if code != c.code || !strings.Contains(o, c.want) {
				t.Errorf("%s: exit %d, want %d and %q:\n%s", c.name, code, c.code, c.want, o)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s: %s was written", c.name, out)
			}
		}
	})
}

func first(v []string, def string) string {
	if len(v) == 0 {
		return def
	}
	return v[0]
}
