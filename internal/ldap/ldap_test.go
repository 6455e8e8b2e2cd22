package ldap

import (
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/epicsync/epic/internal/archive"
	"github.com/epicsync/epic/internal/ldap/ldaptest"
	"github.com/epicsync/epic/internal/mapping"
	"github.com/epicsync/epic/internal/secret"
	"github.com/epicsync/epic/internal/source"
)

func server(t *testing.T) *ldaptest.Server {
	t.Helper()
	// A server per test that needs one: tests stop theirs, and slapadd of
	// 3,200 entries takes about a second.
	return ldaptest.Start(t, ldaptest.Options{LDIF: []string{ldaptest.Testdata("openldap.ldif"), ldaptest.Testdata("ad.ldif")}})
}

func openLDAPMapping() mapping.Config {
	return mapping.Config{
		DefaultCountry: "US",
		Person: map[string]string{
			"EXTERNAL_KEY": "{employeeNumber}",
			"USER_ID":      "{uid}",
			"FIRST_NAME":   "{givenName|cn:word(0)}",
			"LAST_NAME":    "{sn}",
			"STATUS":       "{employeeType:map('disabled=INACTIVE','*=ACTIVE')|'ACTIVE'}",
			"SITE_NAME":    "{l|'Headquarters'}",
		},
		Devices: []mapping.DeviceConfig{
			{Type: "EMAIL", Name: "Work Email", Value: "{mail}"},
			{Type: "VOICE", Name: "Work Phone", Value: "{telephoneNumber:phone}"},
			{Type: "TEXT_PHONE", Name: "SMS Phone", Value: "{mobile:phone}"},
		},
	}
}

func adMapping() mapping.Config {
	c := openLDAPMapping()
	c.Person = map[string]string{
		"EXTERNAL_KEY": "{employeeNumber}",
		"USER_ID":      "{sAMAccountName}",
		"FIRST_NAME":   "{givenName}",
		"LAST_NAME":    "{sn}",
		"STATUS":       "{userAccountControl:uac|'ACTIVE'}",
		"SITE_NAME":    "{physicalDeliveryOfficeName|'Headquarters'}",
	}
	return c
}

func export(t *testing.T, c Config, mc mapping.Config) (*Report, *mapping.Builder, error) {
	t.Helper()
	m, err := mapping.New(mc)
	if err != nil {
		t.Fatal(err)
	}
	b := mapping.NewBuilder(m)
	rep, err := Export(c, m, b, nil)
	return rep, b, err
}

func readerConfig(s *ldaptest.Server, base string) Config {
	return Config{URL: s.URL, BindDN: ldaptest.ReaderDN, BindPassword: ldaptest.ReaderPW, BaseDN: base}
}

// rows reads a file of an archive folder as maps by column.
func rows(t *testing.T, dir, file string) []map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = r[i]
		}
		out = append(out, m)
	}
	return out
}

// TestOpenLDAPTree reads the 2,000 people of the OpenLDAP-style tree past
// the size limit of 1,000 as a non-root account, and its groups, and
// checks each against what the LDIF says.
func TestOpenLDAPTree(t *testing.T) {
	s := server(t)
	c := readerConfig(s, "ou=People,"+ldaptest.Suffix)
	c.PageSize = 300
	c.Groups = GroupsConfig{BaseDN: "ou=Groups," + ldaptest.Suffix, Filter: "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))",
		TimeZone: "America/New_York", Key: "{cn}"}
	rep, b, err := export(t, c, openLDAPMapping())
	if err != nil {
		t.Fatal(err)
	}
	entries, err := ldaptest.ReadLDIF(ldaptest.Testdata("openldap.ldif"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]ldaptest.Entry{} // employeeNumber -> entry
	byDN := map[string]ldaptest.Entry{}
	for _, e := range entries {
		byDN[normDN(e.DN)] = e
		if strings.HasSuffix(e.DN, ",ou=People,dc=example,dc=org") {
			want[e.Get("employeeNumber")[0]] = e
		}
	}
	if rep.People != 2000 || len(want) != 2000 || rep.Entries != 2000 || len(rep.Skipped) != 0 {
		t.Fatalf("people %d of %d entries (LDIF %d), skipped %v", rep.People, rep.Entries, len(want), rep.Skipped)
	}
	if rep.Pages < 7 {
		t.Errorf("%d pages; 2,000 people in pages of 300 need 7 and more", rep.Pages)
	}
	dir := filepath.Join(t.TempDir(), "out")
	if _, err := b.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	inactive := 0
	for _, u := range rows(t, dir, archive.FileUsers) {
		e, ok := want[u["EXTERNAL_KEY"]]
		if !ok {
			t.Fatalf("exported person %v is not in the LDIF", u)
		}
		site := "Headquarters"
		if l := e.Get("l"); len(l) > 0 {
			site = l[0]
		}
		status := "ACTIVE"
		if len(e.Get("employeeType")) > 0 {
			status = "INACTIVE"
			inactive++
		}
		if u["USER_ID"] != e.Get("uid")[0] || u["FIRST_NAME"] != e.Get("givenName")[0] || u["LAST_NAME"] != e.Get("sn")[0] ||
			u["SITE_NAME"] != site || u["STATUS"] != status {
			t.Fatalf("person %v, LDIF %+v", u, e)
		}
	}
	if inactive != 40 {
		t.Errorf("%d inactive people, want 40 (every 50th)", inactive)
	}
	phones := map[string]string{}
	for _, d := range rows(t, dir, archive.FileVoice) {
		phones[d["USER_KEY"]] = d["PHONE_NUMBER"]
	}
	for k, e := range want {
		tel := e.Get("telephoneNumber")
		if (len(tel) > 0) != (phones[k] != "") || (phones[k] != "" && !strings.HasPrefix(phones[k], "+")) {
			t.Fatalf("%s: telephoneNumber %v, Work Phone %q", k, tel, phones[k])
		}
	}

	// Groups: every group, members resolved through differently spelled
	// DNs, nested ones flattened, the cycle ended, the outsider reported.
	if rep.Groups != 34 {
		t.Errorf("%d groups, want 34", rep.Groups)
	}
	if len(rep.Outside) != 1 || !strings.Contains(rep.Outside[0], "uid=former,ou=Former") || !strings.Contains(rep.Outside[0], "team-03") {
		t.Errorf("outside members %v, want the former employee of team-03", rep.Outside)
	}
	members := map[string][]string{}
	for _, m := range rows(t, dir, archive.FileMemberships) {
		if m["MEMBER_TYPE"] != "PERSON" {
			t.Errorf("flattened membership %v", m)
		}
		members[m["TEAM_KEY"]] = append(members[m["TEAM_KEY"]], m["MEMBER_KEY"])
	}
	// What the LDIF says, followed by hand.
	var expand func(dn string, seen map[string]bool) []string
	expand = func(dn string, seen map[string]bool) []string {
		if seen[dn] {
			return nil
		}
		seen[dn] = true
		var out []string
		e := byDN[dn]
		for _, m := range append(e.Get("member"), e.Get("uniqueMember")...) {
			me, ok := byDN[normDN(m)]
			switch {
			case !ok:
				t.Fatalf("LDIF member %s of %s does not exist", m, dn)
			case len(me.Get("employeeNumber")) > 0 && strings.Contains(normDN(m), "ou=people"):
				out = append(out, me.Get("employeeNumber")[0])
			case len(me.Get("member")) > 0:
				out = append(out, expand(normDN(m), seen)...)
			}
		}
		return out
	}
	for _, g := range []string{"team-01", "team-03", "oncall-all", "ring-a", "ring-b", "escalation"} {
		wantM := expand(normDN("cn="+g+",ou=Groups,dc=example,dc=org"), map[string]bool{})
		slices.Sort(wantM)
		wantM = slices.Compact(wantM)
		got := append([]string{}, members[g+"_Default Shift"]...)
		sort.Strings(got)
		if !slices.Equal(got, wantM) {
			t.Errorf("group %s: members %v, want %v", g, got, wantM)
		}
	}
	if n := len(members["oncall-all_Default Shift"]); n < 30 {
		t.Errorf("oncall-all has %d members; team-01 and team-02 flattened give about 40", n)
	}
}

// TestADTree reads the AD-style tree: userAccountControl's disabled bit,
// groups of class group, nested groups kept as group members, a computer
// member reported.
func TestADTree(t *testing.T) {
	s := server(t)
	c := readerConfig(s, "ou=Users,ou=corp,"+ldaptest.Suffix)
	c.Filter = "(objectClass=user)"
	c.Groups = GroupsConfig{BaseDN: "ou=Groups,ou=corp," + ldaptest.Suffix, Filter: "(objectClass=group)",
		TimeZone: "Europe/Berlin", Key: "{sAMAccountName}", Nested: "keep"}
	rep, b, err := export(t, c, adMapping())
	if err != nil {
		t.Fatal(err)
	}
	if rep.People != 1200 || rep.Groups != 23 {
		t.Fatalf("%d people, %d groups; want 1200 and 23", rep.People, rep.Groups)
	}
	dir := filepath.Join(t.TempDir(), "out")
	if _, err := b.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	inactive := 0
	for _, u := range rows(t, dir, archive.FileUsers) {
		if u["STATUS"] == "INACTIVE" {
			inactive++
		}
	}
	// every 25th (514) and every 60th that is not a 25th (66050)
	if want := 1200/25 + 1200/60 - 1200/300; inactive != want {
		t.Errorf("%d inactive, want %d", inactive, want)
	}
	var all []string
	for _, m := range rows(t, dir, archive.FileMemberships) {
		if m["TEAM_KEY"] == "All Engineers_Default Shift" {
			all = append(all, m["MEMBER_TYPE"]+" "+m["MEMBER_KEY"])
		}
	}
	if want := []string{"GROUP Eng Berlin", "GROUP Eng London", "PERSON AD00015"}; !slices.Equal(all, want) {
		t.Errorf("All Engineers: %v, want %v", all, want)
	}
	if len(rep.Outside) != 1 || !strings.Contains(rep.Outside[0], "PRINTER01") {
		t.Errorf("outside %v, want PRINTER01", rep.Outside)
	}
	c.Groups.OutsideMembers = "fail"
	if _, _, err := export(t, c, adMapping()); !errors.Is(err, ErrOutsideMembers) {
		t.Errorf("outside_members = fail: %v", err)
	}
}

// TestFailures: every way a read can come back short is an error, never
// a smaller export.
func TestFailures(t *testing.T) {
	s := server(t)
	base := "ou=People," + ldaptest.Suffix

	c := readerConfig(s, base)
	c.BindPassword = "wrong"
	if _, _, err := export(t, c, openLDAPMapping()); !errors.Is(err, ErrBind) || !strings.Contains(err.Error(), "wrong password") {
		t.Errorf("wrong password: %v", err)
	}
	c.BindPassword = ""
	if _, _, err := export(t, c, openLDAPMapping()); !errors.Is(err, ErrBind) {
		t.Errorf("empty password: %v", err)
	}

	c = readerConfig(s, base)
	off := false
	c.Paging = &off
	_, _, err := export(t, c, openLDAPMapping())
	if !errors.Is(err, ErrIncomplete) || !strings.Contains(err.Error(), "size limit after 1000 entries") {
		t.Errorf("size limit without paging: %v", err)
	}

	c = readerConfig(s, base)
	c.Filter = "(uid=nobody-at-all)"
	rep, b, err := export(t, c, openLDAPMapping())
	if err != nil || rep.People != 0 {
		t.Fatalf("filter matching nobody: %v, %+v", err, rep)
	}
	h := source.DefaultHealth()
	if err := h.Check(c.SourceName(), b.People()); !errors.Is(err, source.ErrUnhealthy) {
		t.Errorf("health of an empty export: %v", err)
	}

	c = readerConfig(s, "ou=Nowhere,"+ldaptest.Suffix)
	if _, _, err := export(t, c, openLDAPMapping()); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing base: %v", err)
	}

	// The server goes away after the first page.
	c = readerConfig(s, base)
	c.PageSize = 200
	m, _ := mapping.New(openLDAPMapping())
	b = mapping.NewBuilder(m)
	_, err = Export(c, m, b, func(n int) {
		if n >= 200 {
			s.Stop()
		}
	})
	if !errors.Is(err, ErrIncomplete) {
		t.Errorf("server stopped mid-export: %v", err)
	}
}

// TestPagedTotalLimit: a server that limits paged searches too is an
// error that says so.
func TestPagedTotalLimit(t *testing.T) {
	s := ldaptest.Start(t, ldaptest.Options{LDIF: []string{ldaptest.Testdata("openldap.ldif")}, PagedTotal: "1000"})
	_, _, err := export(t, readerConfig(s, "ou=People,"+ldaptest.Suffix), openLDAPMapping())
	if !errors.Is(err, ErrIncomplete) || !strings.Contains(err.Error(), "limits paged searches") {
		t.Errorf("paged total limit: %v", err)
	}
}

// TestTLS: LDAPS and StartTLS with the CA in ca_file; without it the
// certificate is refused.
func TestTLS(t *testing.T) {
	s := ldaptest.Start(t, ldaptest.Options{LDIF: []string{ldaptest.Testdata("openldap.ldif")}, TLS: true})
	base := "ou=People," + ldaptest.Suffix
	c := readerConfig(s, base)
	c.URL, c.CAFile = s.LDAPSURL, s.CAFile
	if rep, _, err := export(t, c, openLDAPMapping()); err != nil || rep.People != 2000 {
		t.Errorf("ldaps: %v", err)
	}
	c = readerConfig(s, base)
	c.StartTLS, c.CAFile = true, s.CAFile
	if rep, _, err := export(t, c, openLDAPMapping()); err != nil || rep.People != 2000 {
		t.Errorf("StartTLS: %v", err)
	}
	c.CAFile = ""
	if _, _, err := export(t, c, openLDAPMapping()); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("StartTLS without the CA: %v", err)
	}
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte(ldaptest.ReaderPW+"\n"), 0o600)
	c = readerConfig(s, base)
	c.URL, c.CAFile, c.BindPassword, c.BindPasswordFile = s.LDAPSURL, s.CAFile, "", pw
	if _, _, err := export(t, c, openLDAPMapping()); err != nil {
		t.Errorf("bind_password_file: %v", err)
	}
}

func TestValidate(t *testing.T) {
	ok := Config{URL: "ldap://x", BaseDN: "dc=x"}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		mod  func(*Config)
		want string
	}{
		{func(c *Config) { c.URL = "http://x" }, "[ldap] url"},
		{func(c *Config) { c.BaseDN = "" }, "base_dn is missing"},
		{func(c *Config) { c.BaseDN = "not a dn" }, "is not a DN"},
		{func(c *Config) { c.Filter = "(uid=x" }, "[ldap] filter"},
		{func(c *Config) { c.URL = "ldaps://x"; c.StartTLS = true }, "start_tls"},
		{func(c *Config) { c.Timeout = "soon" }, "timeout"},
		{func(c *Config) { c.BindPassword = "x" }, "no bind_dn"},
		{func(c *Config) { c.Groups.Filter = "(cn=*)" }, "timezone is missing"},
		{func(c *Config) { c.Groups = GroupsConfig{Filter: "(cn=*)", TimeZone: "UTC", Nested: "deep"} }, "nested"},
	} {
		x := ok
		c.mod(&x)
		if err := x.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Validate = %v, want %q", err, c.want)
		}
	}
}

func TestNormDN(t *testing.T) {
	for _, c := range [][2]string{
		{"UID=a, ou=People,DC=Example,dc=org", "uid=a,ou=people,dc=example,dc=org"},
		{`cn=Smith\, John,ou=x`, "cn=smith, john,ou=x"},
		{"cn=a+uid=b,ou=x", "cn=a+uid=b,ou=x"},
		{"uid=b+cn=a,ou=x", "cn=a+uid=b,ou=x"},
	} {
		if got := normDN(c[0]); got != c[1] {
			t.Errorf("normDN(%q) = %q, want %q", c[0], got, c[1])
		}
	}
}

// TestEncryptedPassword: a bind password written by epic encrypt
// (ENC(...), inline or in bind_password_file) is decrypted with the key
// file; a wrong key is an error that names the field, never the value.
func TestEncryptedPassword(t *testing.T) {
	s := server(t)
	keyFile := filepath.Join(t.TempDir(), "key")
	t.Setenv(secret.EnvKeyFile, keyFile)
	k, _, err := secret.LoadOrCreateKey(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := k.Encrypt(ldaptest.ReaderPW)
	if err != nil {
		t.Fatal(err)
	}
	c := readerConfig(s, "ou=People,"+ldaptest.Suffix)
	c.BindPassword = enc
	if rep, _, err := export(t, c, openLDAPMapping()); err != nil || rep.People == 0 {
		t.Fatalf("inline ENC(...) password: %v", err)
	}
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte(enc+"\n"), 0o600)
	c.BindPassword, c.BindPasswordFile = "", pwFile
	if rep, _, err := export(t, c, openLDAPMapping()); err != nil || rep.People == 0 {
		t.Fatalf("ENC(...) in bind_password_file: %v", err)
	}
	// Another key cannot read it.
	other := filepath.Join(t.TempDir(), "other")
	if _, _, err := secret.LoadOrCreateKey(other); err != nil {
		t.Fatal(err)
	}
	t.Setenv(secret.EnvKeyFile, other)
	c.BindPassword, c.BindPasswordFile = enc, ""
	_, _, err = export(t, c, openLDAPMapping())
	if err == nil || !strings.Contains(err.Error(), "ldap.bind_password") || strings.Contains(err.Error(), ldaptest.ReaderPW) {
		t.Errorf("wrong key: %v", err)
	}
}
