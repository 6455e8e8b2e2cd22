// Package ldaptest gives tests an OpenLDAP slapd: the shared one named by
// EPIC_TEST_LDAP_URL (scripts/test starts it), or one of the test's own
// (Start) that it may stop mid-export, with the test data loaded offline
// by slapadd. Without EPIC_TEST_LDAP_URL, or without slapd, a test skips,
// or fails when EPIC_TEST_DISALLOW_SKIP=1. For tests only.
package ldaptest

import (
	"bufio"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
)

// Suffix is the naming context of every test server.
const Suffix = "dc=example,dc=org"

// Reader is the service account the test data holds (ou=Service): not the
// root DN, so the server's size limit applies to it.
const (
	ReaderDN = "cn=reader,ou=Service," + Suffix
	ReaderPW = "reader-pw"
)

func skip(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("EPIC_TEST_DISALLOW_SKIP") == "1" {
		t.Fatalf(format+" (EPIC_TEST_DISALLOW_SKIP=1 forbids skipping)", args...)
	}
	t.Skipf(format, args...)
}

// Shared returns the URL, root DN and password of the shared server, or
// skips when EPIC_TEST_LDAP_URL is not set.
func Shared(t testing.TB) (url, bindDN, password string) {
	t.Helper()
	url = os.Getenv("EPIC_TEST_LDAP_URL")
	if url == "" {
		skip(t, "EPIC_TEST_LDAP_URL is not set")
	}
	return url, os.Getenv("EPIC_TEST_LDAP_BIND_DN"), os.Getenv("EPIC_TEST_LDAP_PASSWORD")
}

// Testdata returns the path of a file of internal/ldap/testdata.
func Testdata(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata", name)
}

// Options of a private server.
type Options struct {
	SizeLimit int      // olcSizeLimit; default 1000
	TLS       bool     // also listen on ldaps:// with a certificate of a fresh CA
	LDIF      []string // files slapadd loads before the start (the suffix entry first)
	// PagedTotal: "unlimited" (default) lets paged searches read past
	// the size limit, as Active Directory does.
	PagedTotal string
}

// Server is a private slapd.
type Server struct {
	URL      string // ldap://127.0.0.1:port/
	LDAPSURL string // with Options.TLS
	CAFile   string // PEM of the CA that signed the server's certificate
	RootDN   string
	RootPW   string
	dir      string
	args     []string
	cmd      *exec.Cmd
	done     chan struct{}
	t        testing.TB
}

func freePort(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Start starts a slapd of the test's own, stopped when the test ends.
func Start(t testing.TB, opt Options) *Server {
	t.Helper()
	Shared(t) // the same gate as the shared server
	slapd := "/usr/sbin/slapd"
	if _, err := os.Stat(slapd); err != nil {
		skip(t, "no %s (apt-get install slapd ldap-utils)", slapd)
	}
	if opt.SizeLimit == 0 {
		opt.SizeLimit = 1000
	}
	if opt.PagedTotal == "" {
		opt.PagedTotal = "unlimited"
	}
	dir, err := os.MkdirTemp("", "epic-slapd")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{dir: dir, RootDN: "cn=admin," + Suffix, RootPW: "admin", t: t}
	t.Cleanup(func() { s.Stop(); os.RemoveAll(dir) })
	for _, d := range []string{"slapd.d", "db"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	tlsConf := ""
	if opt.TLS {
		s.CAFile, tlsConf = s.certificates(t)
	}
	cfg := fmt.Sprintf(`dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: %[1]s/slapd.pid
%[5]s
dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif
include: file:///etc/ldap/schema/cosine.ldif
include: file:///etc/ldap/schema/inetorgperson.ldif
include: file:///etc/ldap/schema/nis.ldif
include: file://%[2]s

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcDbDirectory: %[1]s/db
olcDbMaxSize: 4294967296
olcSuffix: %[6]s
olcRootDN: %[7]s
olcRootPW: %[8]s
olcSizeLimit: %[3]d
olcLimits: * size.soft=%[3]d size.hard=%[3]d size.prtotal=%[4]s
olcDbIndex: objectClass eq
olcDbIndex: uid eq
`, dir, Testdata("adschema.ldif"), opt.SizeLimit, opt.PagedTotal, tlsConf, Suffix, s.RootDN, s.RootPW)
	cfgPath := filepath.Join(dir, "config.ldif")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(name string, args ...string) {
		t.Helper()
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}
	run("/usr/sbin/slapadd", "-n", "0", "-F", filepath.Join(dir, "slapd.d"), "-l", cfgPath)
	for _, f := range opt.LDIF {
		run("/usr/sbin/slapadd", "-q", "-n", "1", "-F", filepath.Join(dir, "slapd.d"), "-l", f)
	}
	addr := freePort(t)
	s.URL = "ldap://" + addr + "/"
	urls := s.URL
	if opt.TLS {
		// The certificate names localhost and 127.0.0.1.
		s.LDAPSURL = "ldaps://" + freePort(t) + "/"
		urls += " " + s.LDAPSURL
	}
	s.args = []string{"-F", filepath.Join(dir, "slapd.d"), "-h", urls, "-d", "0"}
	s.start()
	return s
}

func (s *Server) start() {
	t := s.t
	t.Helper()
	s.cmd = exec.Command("/usr/sbin/slapd", s.args...)
	log, _ := os.Create(filepath.Join(s.dir, "slapd.log"))
	s.cmd.Stdout, s.cmd.Stderr = log, log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { cmd.Wait(); log.Close(); close(done) }(s.cmd, s.done)
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := goldap.DialURL(s.URL)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-s.done:
			b, _ := os.ReadFile(filepath.Join(s.dir, "slapd.log"))
			t.Fatalf("slapd exited at start:\n%s", b)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("slapd did not answer within 20 s")
		}
	}
}

// Stop kills the server at once (SIGKILL), as a crash or a pulled cable
// would, and waits for it to be gone. Stopping a stopped server does
// nothing.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

// certificates writes a CA and a server certificate for 127.0.0.1 and
// localhost; it returns the CA's PEM path and the cn=config lines.
func (s *Server) certificates(t testing.TB) (string, string) {
	t.Helper()
	caKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "epic test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, typ string, b []byte) string {
		p := filepath.Join(s.dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	caPath := write("ca.pem", "CERTIFICATE", caDER)
	cert := write("cert.pem", "CERTIFICATE", der)
	kp := write("key.pem", "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key))
	return caPath, fmt.Sprintf("olcTLSCACertificateFile: %s\nolcTLSCertificateFile: %s\nolcTLSCertificateKeyFile: %s\n", caPath, cert, kp)
}

// Entry is one entry of an LDIF file.
type Entry struct {
	DN    string
	Attrs [][2]string // in order, one pair per value
}

// Get returns the values of attr (case-insensitive).
func (e Entry) Get(attr string) []string {
	var out []string
	for _, a := range e.Attrs {
		if strings.EqualFold(a[0], attr) {
			out = append(out, a[1])
		}
	}
	return out
}

// ReadLDIF parses an LDIF file of entries (no change records): folded
// lines, "attr: value", "attr:: base64", comments.
func ReadLDIF(path string) ([]Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseLDIF(f)
}

func parseLDIF(r io.Reader) ([]Entry, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var lines []string
	var out []Entry
	flush := func() error {
		if len(lines) == 0 {
			return nil
		}
		var e Entry
		for _, l := range lines {
			k, v, ok := strings.Cut(l, ":")
			if !ok {
				return fmt.Errorf("ldif: line %q has no colon", l)
			}
			if strings.HasPrefix(v, ":") {
				b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v[1:]))
				if err != nil {
					return fmt.Errorf("ldif: %s: %v", k, err)
				}
				v = string(b)
			} else {
				v = strings.TrimPrefix(v, " ")
			}
			if strings.EqualFold(k, "dn") {
				e.DN = v
			} else {
				e.Attrs = append(e.Attrs, [2]string{k, v})
			}
		}
		out = append(out, e)
		lines = lines[:0]
		return nil
	}
	for sc.Scan() {
		l := strings.TrimRight(sc.Text(), "\r")
		switch {
		case strings.HasPrefix(l, "#"):
		case l == "":
			if err := flush(); err != nil {
				return nil, err
			}
		case strings.HasPrefix(l, " ") && len(lines) > 0:
			lines[len(lines)-1] += l[1:]
		default:
			lines = append(lines, l)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, flush()
}

// Seed adds the entries of the LDIF files to the server at url, bound as
// bindDN. With run not empty, the tree goes under dc=RUN,dc=example,dc=org
// instead of dc=example,dc=org (every DN and DN-valued attribute is
// rewritten), so that tests sharing one server use trees of their own;
// Base(run) is then the tree's base. Entries that exist already are left
// as they are.
func Seed(t testing.TB, url, bindDN, password, run string, files ...string) {
	t.Helper()
	c, err := goldap.DialURL(url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Bind(bindDN, password); err != nil {
		t.Fatalf("bind %s: %v", bindDN, err)
	}
	base := Base(run)
	add := func(dn string, attrs [][2]string) {
		t.Helper()
		req := goldap.NewAddRequest(dn, nil)
		byAttr := map[string][]string{}
		var order []string
		for _, a := range attrs {
			if _, ok := byAttr[a[0]]; !ok {
				order = append(order, a[0])
			}
			byAttr[a[0]] = append(byAttr[a[0]], a[1])
		}
		for _, k := range order {
			req.Attribute(k, byAttr[k])
		}
		if err := c.Add(req); err != nil && !goldap.IsErrorWithCode(err, goldap.LDAPResultEntryAlreadyExists) {
			t.Fatalf("add %s: %v", dn, err)
		}
	}
	for _, f := range files {
		entries, err := ReadLDIF(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if run != "" && e.DN == Suffix {
				add(Suffix, e.Attrs)
				add(base, [][2]string{{"objectClass", "dcObject"}, {"objectClass", "organization"}, {"dc", run}, {"o", run}})
				continue
			}
			attrs := make([][2]string, len(e.Attrs))
			for i, a := range e.Attrs {
				attrs[i] = [2]string{a[0], rebase(a[1], base)}
			}
			add(rebase(e.DN, base), attrs)
		}
	}
}

// Base is the base DN of a tree seeded with run ("": Suffix).
func Base(run string) string {
	if run == "" {
		return Suffix
	}
	return "dc=" + run + "," + Suffix
}

// rebase rewrites a DN (or a DN-valued attribute) under base; the
// suffix may be written in any case and with spaces after its comma.
func rebase(s, base string) string {
	if base == Suffix {
		return s
	}
	loc := suffixRE.FindStringIndex(s)
	if loc == nil {
		return s
	}
	return s[:loc[0]] + base
}

var suffixRE = regexp.MustCompile(`(?i)dc=example,\s*dc=org$`)
