package ldap

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/epicsync/epic/internal/mapping"
	"github.com/epicsync/epic/internal/secret"
)

// Config is the [ldap] table of epic.toml.
type Config struct {
	// URL of the server: ldap://host[:port] or ldaps://host[:port].
	URL string `toml:"url"`
	// StartTLS upgrades an ldap:// connection to TLS before the bind.
	StartTLS bool `toml:"start_tls"`
	// CAFile: PEM certificates to trust for the server's certificate
	// (default: the system's).
	CAFile string `toml:"ca_file"`
	// ServerName the certificate must carry (default: the URL's host).
	ServerName string `toml:"server_name"`
	// BindDN and its password (bind_password, or the first line of
	// bind_password_file). Without bind_dn the search is anonymous.
	BindDN           string `toml:"bind_dn"`
	BindPassword     string `toml:"bind_password"`
	BindPasswordFile string `toml:"bind_password_file"`
	// BaseDN and Filter select the people.
	BaseDN string `toml:"base_dn"`
	Filter string `toml:"filter"` // default (objectClass=inetOrgPerson)
	// Scope: "sub" (default) or "one".
	Scope string `toml:"scope"`
	// PageSize of the paged search (default 500); 0 < page_size. Set
	// paging = false to search without paging (then the server's size
	// limit applies and a search that reaches it fails).
	PageSize int   `toml:"page_size"`
	Paging   *bool `toml:"paging"`
	// Timeout of the connection and of each request (default "2m").
	Timeout string `toml:"timeout"`
	// Groups: [ldap.groups]; without a filter no groups are exported.
	Groups GroupsConfig `toml:"groups"`
}

// GroupsConfig is [ldap.groups].
type GroupsConfig struct {
	BaseDN string `toml:"base_dn"` // default: [ldap] base_dn
	// Filter, e.g. "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))"
	// or "(objectClass=group)" for Active Directory.
	Filter string `toml:"filter"`
	// Templates over the group's attributes ({dn} is its DN).
	Key         string `toml:"key"`         // default "{dn}"
	Name        string `toml:"name"`        // default "{cn}"
	Description string `toml:"description"` // default "{description}"
	// TimeZone of every group (required with a filter), Site its
	// holiday site (optional).
	TimeZone string `toml:"timezone"`
	Site     string `toml:"site"`
	// Shift is the name of the one shift each group gets (default
	// "Default Shift").
	Shift string `toml:"shift"`
	// Nested: "flatten" (default: a nested group's people become members
	// themselves) or "keep" (the nested group is a member).
	Nested string `toml:"nested"`
	// MemberAttributes hold member DNs (default member, uniqueMember).
	MemberAttributes []string `toml:"member_attributes"`
	// OutsideMembers: what to do with a member that is neither an
	// exported person nor an exported group: "report" (default: leave it
	// out and list it) or "fail".
	OutsideMembers string `toml:"outside_members"`
}

// Resolve makes relative file paths relative to the folder of the
// configuration file at configPath.
func (c *Config) Resolve(configPath string) {
	for _, p := range []*string{&c.CAFile, &c.BindPasswordFile} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(filepath.Dir(configPath), *p)
		}
	}
}

// withDefaults fills what the configuration leaves out.
func (c Config) withDefaults() Config {
	if c.Filter == "" {
		c.Filter = "(objectClass=inetOrgPerson)"
	}
	if c.Scope == "" {
		c.Scope = "sub"
	}
	if c.PageSize == 0 {
		c.PageSize = 500
	}
	if c.Timeout == "" {
		c.Timeout = "2m"
	}
	g := &c.Groups
	if g.BaseDN == "" {
		g.BaseDN = c.BaseDN
	}
	if g.Key == "" {
		g.Key = "{dn}"
	}
	if g.Name == "" {
		g.Name = "{cn}"
	}
	if g.Description == "" {
		g.Description = "{description}"
	}
	if g.Shift == "" {
		g.Shift = "Default Shift"
	}
	if g.Nested == "" {
		g.Nested = "flatten"
	}
	if len(g.MemberAttributes) == 0 {
		g.MemberAttributes = []string{"member", "uniqueMember"}
	}
	if g.OutsideMembers == "" {
		g.OutsideMembers = "report"
	}
	return c
}

// Validate checks the configuration; errors name the key.
func (c Config) Validate() error {
	c = c.withDefaults()
	u, err := url.Parse(c.URL)
	if c.URL == "" || err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Host == "" {
		return fmt.Errorf("[ldap] url = %q: use ldap://host[:port] or ldaps://host[:port]", c.URL)
	}
	if c.StartTLS && u.Scheme == "ldaps" {
		return errors.New("[ldap] start_tls = true with an ldaps:// url: the connection is TLS already; drop one")
	}
	if c.BaseDN == "" {
		return errors.New("[ldap] base_dn is missing: where the people are, e.g. \"ou=People,dc=example,dc=com\"")
	}
	if _, err := goldap.ParseDN(c.BaseDN); err != nil {
		return fmt.Errorf("[ldap] base_dn = %q is not a DN: %v", c.BaseDN, err)
	}
	if _, err := goldap.CompileFilter(c.Filter); err != nil {
		return fmt.Errorf("[ldap] filter = %q: %v", c.Filter, err)
	}
	if c.Scope != "sub" && c.Scope != "one" {
		return fmt.Errorf("[ldap] scope = %q: use \"sub\" or \"one\"", c.Scope)
	}
	if c.PageSize < 0 {
		return fmt.Errorf("[ldap] page_size = %d: use a positive number (e.g. 500)", c.PageSize)
	}
	if d, err := time.ParseDuration(c.Timeout); err != nil || d <= 0 {
		return fmt.Errorf("[ldap] timeout = %q: use a duration such as \"2m\"", c.Timeout)
	}
	if c.BindPassword != "" && c.BindPasswordFile != "" {
		return errors.New("[ldap] has both bind_password and bind_password_file: keep one")
	}
	if c.BindDN == "" && (c.BindPassword != "" || c.BindPasswordFile != "") {
		return errors.New("[ldap] has a bind password but no bind_dn")
	}
	g := c.Groups
	if g.Filter != "" {
		if _, err := goldap.CompileFilter(g.Filter); err != nil {
			return fmt.Errorf("[ldap.groups] filter = %q: %v", g.Filter, err)
		}
		if g.TimeZone == "" {
			return errors.New("[ldap.groups] timezone is missing: the time zone of the exported groups, e.g. \"America/New_York\"")
		}
		if g.Nested != "flatten" && g.Nested != "keep" {
			return fmt.Errorf("[ldap.groups] nested = %q: use \"flatten\" or \"keep\"", g.Nested)
		}
		if g.OutsideMembers != "report" && g.OutsideMembers != "fail" {
			return fmt.Errorf("[ldap.groups] outside_members = %q: use \"report\" or \"fail\"", g.OutsideMembers)
		}
	}
	return nil
}

// SourceName names the source for the health check's history.
func (c Config) SourceName() string {
	c = c.withDefaults()
	return "ldap " + strings.TrimSuffix(c.URL, "/") + "/" + c.BaseDN + "?" + c.Filter
}

// password is the bind password, decrypted when it is an ENC(...) value
// written by epic encrypt (inline or in the file).
func (c Config) password() (string, error) {
	if c.BindPasswordFile == "" {
		return secret.Reveal("ldap.bind_password", c.BindPassword)
	}
	b, err := os.ReadFile(c.BindPasswordFile)
	if err != nil {
		return "", fmt.Errorf("[ldap] bind_password_file: %w", err)
	}
	pw, _, _ := strings.Cut(string(b), "\n")
	return secret.Reveal("ldap.bind_password_file", strings.TrimSuffix(pw, "\r"))
}

// ErrBind is wrapped by the error of a refused bind.
var ErrBind = errors.New("the LDAP server refused the bind")

// ErrIncomplete is wrapped by every error that means the directory was
// not read whole: a size or time limit, a dropped connection, a ranged
// member list.
var ErrIncomplete = errors.New("the LDAP search did not return every entry")

// ErrOutsideMembers is wrapped when outside_members = "fail" and a group
// has a member that is not exported.
var ErrOutsideMembers = errors.New("a group has members that are not exported")

// dial connects, upgrades to TLS when asked, and binds.
func dial(c Config) (*goldap.Conn, error) {
	timeout, _ := time.ParseDuration(c.Timeout)
	u, _ := url.Parse(c.URL)
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.ServerName}
	if tc.ServerName == "" {
		tc.ServerName = u.Hostname()
	}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("[ldap] ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("[ldap] ca_file %s holds no PEM certificate", c.CAFile)
		}
		tc.RootCAs = pool
	}
	conn, err := goldap.DialURL(c.URL, goldap.DialWithDialer(&net.Dialer{Timeout: timeout}), goldap.DialWithTLSConfig(tc))
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", c.URL, err)
	}
	conn.SetTimeout(timeout)
	if c.StartTLS {
		if err := conn.StartTLS(tc); err != nil {
			conn.Close()
			return nil, fmt.Errorf("StartTLS with %s: %w", c.URL, err)
		}
	}
	if c.BindDN != "" {
		pw, err := c.password()
		if err != nil {
			conn.Close()
			return nil, err
		}
		if pw == "" {
			conn.Close()
			// An empty password is an anonymous bind that "succeeds".
			return nil, fmt.Errorf("%w: bind_dn %q has an empty password (set bind_password or bind_password_file)", ErrBind, c.BindDN)
		}
		if err := conn.Bind(c.BindDN, pw); err != nil {
			conn.Close()
			if goldap.IsErrorWithCode(err, goldap.LDAPResultInvalidCredentials) {
				return nil, fmt.Errorf("%w: wrong password or unknown bind_dn %q", ErrBind, c.BindDN)
			}
			return nil, fmt.Errorf("%w: %v", ErrBind, err)
		}
	}
	return conn, nil
}

// Report says what an export read, left out and could not resolve.
type Report struct {
	Entries int // people entries read
	People  int // people exported
	Groups  int // groups exported
	Pages   int // result pages of the searches
	// Skipped: entries that could not be people ("DN: reason").
	Skipped []string
	// Warnings: values left out of people who were exported.
	Warnings []string
	// Outside: group members that are neither an exported person nor an
	// exported group ("group NAME: member DN").
	Outside []string
}

// Progress is told the number of entries read so far, after each page.
type Progress func(entries int)

// Export reads the people (and groups, when configured) of the directory
// and adds them to b. Any error of the server or the connection stops it:
// nothing of a partial read is added to an archive by the caller.
func Export(c Config, m *mapping.Mapper, b *mapping.Builder, progress Progress) (*Report, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	c = c.withDefaults()
	conn, err := dial(c)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	rep := &Report{}
	read := 0
	tick := func(n int) {
		read += n
		if progress != nil {
			progress(read)
		}
	}
	people := map[string]string{} // normalised DN -> person key
	var attrs []string
	for _, f := range m.Fields() {
		if !strings.EqualFold(f, "dn") {
			attrs = append(attrs, f)
		}
	}
	err = search(conn, c, c.BaseDN, c.Filter, attrs, rep, tick, func(e *goldap.Entry) error {
		rep.Entries++
		if err := checkRanged(e); err != nil {
			return err
		}
		p, err := m.Person(entry{e})
		var se *mapping.SkipError
		if errors.As(err, &se) {
			rep.Skipped = append(rep.Skipped, fmt.Sprintf("%s: %s", e.DN, se.Reason))
			return nil
		}
		if err != nil {
			return err
		}
		for _, w := range p.Warnings {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("%s: %s", e.DN, w))
		}
		if err := b.Add(p, e.DN); err != nil {
			return err
		}
		people[normDN(e.DN)] = p.Key
		rep.People++
		return nil
	})
	if err != nil {
		return nil, err
	}
	if c.Groups.Filter != "" {
		if err := exportGroups(conn, c, m, b, people, rep, tick); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// search runs a (paged) search and hands each entry to fn.
func search(conn *goldap.Conn, c Config, base, filter string, attrs []string, rep *Report, tick func(int), fn func(*goldap.Entry) error) error {
	scope := goldap.ScopeWholeSubtree
	if c.Scope == "one" {
		scope = goldap.ScopeSingleLevel
	}
	if len(attrs) == 0 {
		attrs = []string{"1.1"} // no attributes, DNs only
	}
	req := goldap.NewSearchRequest(base, scope, goldap.NeverDerefAliases, 0, 0, false, filter, attrs, nil)
	var paging *goldap.ControlPaging
	if c.Paging == nil || *c.Paging {
		paging = goldap.NewControlPaging(uint32(c.PageSize))
		req.Controls = []goldap.Control{paging}
	}
	total := 0
	for {
		res, err := conn.Search(req)
		if err != nil {
			return searchError(err, base, filter, total+countEntries(res), paging != nil)
		}
		rep.Pages++
		for _, e := range res.Entries {
			if err := fn(e); err != nil {
				return err
			}
		}
		total += len(res.Entries)
		tick(len(res.Entries))
		if paging == nil {
			return nil
		}
		ctl, _ := goldap.FindControl(res.Controls, goldap.ControlTypePaging).(*goldap.ControlPaging)
		if ctl == nil || len(ctl.Cookie) == 0 {
			return nil
		}
		paging.SetCookie(ctl.Cookie)
	}
}

func countEntries(res *goldap.SearchResult) int {
	if res == nil {
		return 0
	}
	return len(res.Entries)
}

// searchError turns a failed search into a message that says the read is
// incomplete and why.
func searchError(err error, base, filter string, got int, paged bool) error {
	where := fmt.Sprintf("search of %s for %s", base, filter)
	switch {
	case goldap.IsErrorWithCode(err, goldap.LDAPResultSizeLimitExceeded):
		hint := "turn paging on (paging = true in [ldap]) so that every entry is read"
		if paged {
			hint = "the server limits paged searches too; raise its limit for this account (OpenLDAP: size.prtotal=unlimited; AD: MaxPageSize is per page and is fine)"
		}
		return fmt.Errorf("%w: the server stopped the %s at its size limit after %d entries; %s", ErrIncomplete, where, got, hint)
	case goldap.IsErrorWithCode(err, goldap.LDAPResultTimeLimitExceeded):
		return fmt.Errorf("%w: the server stopped the %s at its time limit after %d entries", ErrIncomplete, where, got)
	case goldap.IsErrorWithCode(err, goldap.LDAPResultNoSuchObject):
		return fmt.Errorf("the %s: the base %s does not exist (check base_dn)", where, base)
	case goldap.IsErrorWithCode(err, goldap.ErrorNetwork), goldap.IsErrorWithCode(err, goldap.LDAPResultServerDown),
		goldap.IsErrorWithCode(err, goldap.LDAPResultUnavailable), goldap.IsErrorWithCode(err, goldap.ErrorUnexpectedResponse):
		return fmt.Errorf("%w: the connection failed during the %s after %d entries: %v", ErrIncomplete, where, got, err)
	}
	return fmt.Errorf("%w: the %s failed after %d entries: %v", ErrIncomplete, where, got, err)
}

// checkRanged refuses an entry whose attribute came back ranged (Active
// Directory's member;range=0-1499): part of it is missing.
func checkRanged(e *goldap.Entry) error {
	for _, a := range e.Attributes {
		if i := strings.Index(strings.ToLower(a.Name), ";range="); i >= 0 {
			return fmt.Errorf("%w: %s came back as %s, only part of its values; ranged retrieval is not supported: narrow the groups or export memberships from a smaller group",
				ErrIncomplete, e.DN, a.Name)
		}
	}
	return nil
}

// entry is a mapping.Record over an LDAP entry: the first value of an
// attribute (names without regard to case); "dn" is the entry's DN;
// objectGUID is written as AD shows it.
type entry struct{ e *goldap.Entry }

func (r entry) Get(field string) string {
	if strings.EqualFold(field, "dn") {
		return r.e.DN
	}
	if strings.EqualFold(field, "objectGUID") {
		raw := r.e.GetEqualFoldRawAttributeValue(field)
		if len(raw) == 16 {
			return guid(raw)
		}
	}
	return r.e.GetEqualFoldAttributeValue(field)
}

// guid formats AD's objectGUID (little-endian first three fields).
func guid(b []byte) string {
	return fmt.Sprintf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15])
}

// normDN is a DN in a form two spellings of one DN share: attribute
// types and values lower case, no spaces around separators.
func normDN(s string) string {
	d, err := goldap.ParseDN(s)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(s))
	}
	var b strings.Builder
	for i, rdn := range d.RDNs {
		if i > 0 {
			b.WriteByte(',')
		}
		parts := make([]string, len(rdn.Attributes))
		for j, a := range rdn.Attributes {
			parts[j] = strings.ToLower(a.Type) + "=" + strings.ToLower(a.Value)
		}
		sort.Strings(parts)
		b.WriteString(strings.Join(parts, "+"))
	}
	return b.String()
}
