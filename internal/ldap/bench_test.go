package ldap

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/epicsync/epic/internal/ldap/ldaptest"
	"github.com/epicsync/epic/internal/mapping"
)

// BenchmarkExport100k exports 100,000 people from a real slapd (loaded
// offline by slapadd, timed apart) through paged searches as the non-root
// reader, maps them and writes and validates the archive folder. Target
// (docs/benchmarks.md, Export): under 60 s.
//
//	go test ./internal/ldap -run '^$' -bench Export100k -benchtime 1x
func BenchmarkExport100k(b *testing.B) {
	const n = 100_000
	dir := b.TempDir()
	ldif := filepath.Join(dir, "people.ldif")
	if err := os.WriteFile(ldif, genOpenLDAP(n), 0o644); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	s := ldaptest.Start(b, ldaptest.Options{LDIF: []string{ldif}})
	b.Logf("slapadd of %d people and start: %v", n, time.Since(start))
	c := Config{URL: s.URL, BindDN: ldaptest.ReaderDN, BindPassword: ldaptest.ReaderPW, BaseDN: "ou=People," + ldaptest.Suffix, PageSize: 1000}
	c.Groups = GroupsConfig{BaseDN: "ou=Groups," + ldaptest.Suffix, Filter: "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))",
		TimeZone: "America/New_York", Key: "{cn}"}
	m, err := mapping.New(openLDAPMapping())
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		bl := mapping.NewBuilder(m)
		rep, err := Export(c, m, bl, nil)
		if err != nil {
			b.Fatal(err)
		}
		read := time.Since(t0)
		if rep.People != n {
			b.Fatalf("%d people, want %d", rep.People, n)
		}
		if _, err := bl.WriteDir(filepath.Join(dir, "out")); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(read.Seconds(), "read-s")
		b.ReportMetric(float64(n)/read.Seconds(), "entries/s")
		b.Logf("read %d entries in %d pages: %v; with archive written and validated: %v", rep.Entries, rep.Pages, read, time.Since(t0))
	}
}
