package mapping

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// Record is one source record: an LDAP entry, a CSV row, a SQL row. Get
// returns the (first) value of the named field, "" when the record has
// none. Field names are matched as the source matches them (LDAP and CSV
// headers: without regard to case).
type Record interface {
	Get(field string) string
}

// MapRecord is a Record over a map, for tests and simple sources; keys
// are matched exactly.
type MapRecord map[string]string

// Get returns r[field].
func (r MapRecord) Get(field string) string { return r[field] }

// Options are what templates need beyond the record.
type Options struct {
	// DefaultCountry is the ISO 3166-1 alpha-2 region that phone numbers
	// without a leading + belong to (phone filter without an argument).
	DefaultCountry string
}

// Template is a compiled template: literal text with {expression}
// placeholders. An expression is one or more alternatives separated by
// |; the first that is not empty is used. An alternative is a field name
// or a 'quoted literal', followed by filters, each after a colon:
//
//	{givenName} {sn}                     join
//	{sAMAccountName|uid}                 the first that is set
//	{l|'Headquarters'}                   a default
//	{mobile:phone}                       E.164, with the default country
//	{Phone:phone('GB')}                  E.164, British when no + is given
//	{userAccountControl:uac}             AD's disabled bit: ACTIVE or INACTIVE
//	{Status:map('Active=ACTIVE','*=INACTIVE')}
//	{Full Name:word(0)} {Full Name:word(-1)}
//	{mail:split('@',0):lower}
//
// {{ and }} stand for literal braces.
type Template struct {
	src    string
	parts  []part
	fields []string
}

type part struct {
	text string // literal, when alts is nil
	alts []alt
}

type alt struct {
	field   string // "" when literal
	literal string
	filters []filter
}

type filter struct {
	name string
	fn   func(string) (string, error)
}

// Compile parses src. Errors name the position and what was expected.
func Compile(src string, opt Options) (*Template, error) {
	p := &parser{src: src, opt: opt}
	t, err := p.template()
	if err != nil {
		return nil, fmt.Errorf("template %q: %w", src, err)
	}
	return t, nil
}

// MustCompile is Compile for templates known to be good; it panics.
func MustCompile(src string) *Template {
	t, err := Compile(src, Options{})
	if err != nil {
		panic(err)
	}
	return t
}

// String returns the template as written.
func (t *Template) String() string { return t.src }

// Fields returns the field names the template reads, in order of first use.
func (t *Template) Fields() []string { return t.fields }

// Constant reports whether the template reads no field.
func (t *Template) Constant() bool { return len(t.fields) == 0 }

// Eval fills the template from r. The result is trimmed of surrounding
// spaces. An error (a phone number that cannot be a number, a value a map
// does not list) names the field and the value.
func (t *Template) Eval(r Record) (string, error) {
	if len(t.parts) == 1 && t.parts[0].alts == nil {
		return t.parts[0].text, nil
	}
	var b strings.Builder
	for _, p := range t.parts {
		if p.alts == nil {
			b.WriteString(p.text)
			continue
		}
		for _, a := range p.alts {
			v := a.literal
			if a.field != "" {
				v = strings.TrimSpace(r.Get(a.field))
			}
			var err error
			for _, f := range a.filters {
				if v == "" {
					break
				}
				v, err = f.fn(v)
				if err != nil {
					what := a.field
					if what == "" {
						what = "'" + a.literal + "'"
					}
					return "", fmt.Errorf("%s:%s: %w", what, f.name, err)
				}
			}
			if v != "" {
				b.WriteString(v)
				break
			}
		}
	}
	return strings.TrimSpace(b.String()), nil
}

type parser struct {
	src string
	pos int
	opt Options
	t   *Template
}

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("at character %d: %s", p.pos+1, fmt.Sprintf(format, args...))
}

func (p *parser) template() (*Template, error) {
	p.t = &Template{src: p.src}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			p.t.parts = append(p.t.parts, part{text: lit.String()})
			lit.Reset()
		}
	}
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == '{' && strings.HasPrefix(p.src[p.pos:], "{{"):
			lit.WriteByte('{')
			p.pos += 2
		case c == '}' && strings.HasPrefix(p.src[p.pos:], "}}"):
			lit.WriteByte('}')
			p.pos += 2
		case c == '}':
			return nil, p.errorf("a } without its { (write }} for a literal brace)")
		case c == '{':
			flush()
			p.pos++
			alts, err := p.expr()
			if err != nil {
				return nil, err
			}
			p.t.parts = append(p.t.parts, part{alts: alts})
		default:
			lit.WriteByte(c)
			p.pos++
		}
	}
	flush()
	if len(p.t.parts) == 0 {
		p.t.parts = []part{{text: ""}}
	}
	return p.t, nil
}

func (p *parser) skipSpace() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t') {
		p.pos++
	}
}

// expr parses alternatives up to and including the closing }.
func (p *parser) expr() ([]alt, error) {
	var alts []alt
	for {
		p.skipSpace()
		if p.pos >= len(p.src) {
			return nil, p.errorf("the { is never closed with }")
		}
		var a alt
		if p.src[p.pos] == '\'' {
			s, err := p.quoted()
			if err != nil {
				return nil, err
			}
			a.literal = s
		} else {
			start := p.pos
			for p.pos < len(p.src) && !strings.ContainsRune("|:}{", rune(p.src[p.pos])) {
				p.pos++
			}
			a.field = strings.TrimSpace(p.src[start:p.pos])
			if a.field == "" {
				return nil, p.errorf("expected a field name or a 'quoted text'")
			}
			p.addField(a.field)
		}
		p.skipSpace()
		for p.pos < len(p.src) && p.src[p.pos] == ':' {
			p.pos++
			f, err := p.filter()
			if err != nil {
				return nil, err
			}
			a.filters = append(a.filters, f)
			p.skipSpace()
		}
		alts = append(alts, a)
		if p.pos >= len(p.src) {
			return nil, p.errorf("the { is never closed with }")
		}
		switch p.src[p.pos] {
		case '|':
			p.pos++
		case '}':
			p.pos++
			return alts, nil
		default:
			return nil, p.errorf("expected |, : or } but found %q", p.src[p.pos])
		}
	}
}

func (p *parser) addField(name string) {
	for _, f := range p.t.fields {
		if f == name {
			return
		}
	}
	p.t.fields = append(p.t.fields, name)
}

// quoted parses 'text' with ” for a quote.
func (p *parser) quoted() (string, error) {
	p.pos++ // opening quote
	var b strings.Builder
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if c == '\'' {
			if strings.HasPrefix(p.src[p.pos:], "''") {
				b.WriteByte('\'')
				p.pos += 2
				continue
			}
			p.pos++
			return b.String(), nil
		}
		b.WriteByte(c)
		p.pos++
	}
	return "", p.errorf("a quoted text is never closed with '")
}

// filter parses name or name(arg, ...).
func (p *parser) filter() (filter, error) {
	p.skipSpace()
	start := p.pos
	for p.pos < len(p.src) && (isIdent(p.src[p.pos])) {
		p.pos++
	}
	name := p.src[start:p.pos]
	if name == "" {
		return filter{}, p.errorf("expected a filter name after : (one of %s)", strings.Join(filterNames, ", "))
	}
	var args []string
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == '(' {
		p.pos++
		for {
			p.skipSpace()
			if p.pos >= len(p.src) {
				return filter{}, p.errorf("the ( of %s is never closed", name)
			}
			if p.src[p.pos] == ')' && len(args) == 0 {
				p.pos++
				break
			}
			var arg string
			if p.src[p.pos] == '\'' {
				s, err := p.quoted()
				if err != nil {
					return filter{}, err
				}
				arg = s
			} else {
				s := p.pos
				for p.pos < len(p.src) && !strings.ContainsRune(",)}|", rune(p.src[p.pos])) {
					p.pos++
				}
				arg = strings.TrimSpace(p.src[s:p.pos])
			}
			args = append(args, arg)
			p.skipSpace()
			if p.pos >= len(p.src) {
				return filter{}, p.errorf("the ( of %s is never closed", name)
			}
			if p.src[p.pos] == ',' {
				p.pos++
				continue
			}
			if p.src[p.pos] == ')' {
				p.pos++
				break
			}
			return filter{}, p.errorf("expected , or ) in the arguments of %s", name)
		}
	}
	fn, err := makeFilter(name, args, p.opt)
	if err != nil {
		return filter{}, p.errorf("%v", err)
	}
	return filter{name: name, fn: fn}, nil
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

var filterNames = []string{"lower", "upper", "trim", "title", "word(n)", "split('sep',n)", "left(n)",
	"replace('old','new')", "digits", "phone", "phone('CC')", "uac", "map('from=to',...,'*=other')"}

func wantArgs(name string, args []string, n int) error {
	if len(args) != n {
		return fmt.Errorf("filter %s takes %d argument(s), not %d", name, n, len(args))
	}
	return nil
}

func intArg(name, s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("filter %s: %q is not a whole number", name, s)
	}
	return n, nil
}

// pick returns parts[i], counting from the end when i < 0, or "".
func pick(parts []string, i int) string {
	if i < 0 {
		i += len(parts)
	}
	if i < 0 || i >= len(parts) {
		return ""
	}
	return strings.TrimSpace(parts[i])
}

// ErrNoMatch is wrapped by a map filter's error for a value it does not list.
var ErrNoMatch = errors.New("not listed")

func makeFilter(name string, args []string, opt Options) (func(string) (string, error), error) {
	switch name {
	case "lower", "upper", "trim", "title", "digits", "uac":
		if err := wantArgs(name, args, 0); err != nil {
			return nil, err
		}
	}
	switch name {
	case "lower":
		return func(s string) (string, error) { return strings.ToLower(s), nil }, nil
	case "upper":
		return func(s string) (string, error) { return strings.ToUpper(s), nil }, nil
	case "trim":
		return func(s string) (string, error) { return strings.TrimSpace(s), nil }, nil
	case "title":
		return func(s string) (string, error) { return title(s), nil }, nil
	case "digits":
		return func(s string) (string, error) {
			return strings.Map(func(r rune) rune {
				if r >= '0' && r <= '9' {
					return r
				}
				return -1
			}, s), nil
		}, nil
	case "word":
		if err := wantArgs(name, args, 1); err != nil {
			return nil, err
		}
		i, err := intArg(name, args[0])
		if err != nil {
			return nil, err
		}
		return func(s string) (string, error) { return pick(strings.Fields(s), i), nil }, nil
	case "split":
		if err := wantArgs(name, args, 2); err != nil {
			return nil, err
		}
		if args[0] == "" {
			return nil, errors.New("filter split: the separator is empty")
		}
		i, err := intArg(name, args[1])
		if err != nil {
			return nil, err
		}
		sep := args[0]
		return func(s string) (string, error) { return pick(strings.Split(s, sep), i), nil }, nil
	case "left":
		if err := wantArgs(name, args, 1); err != nil {
			return nil, err
		}
		n, err := intArg(name, args[0])
		if err != nil || n < 0 {
			return nil, fmt.Errorf("filter left: %q is not a length", args[0])
		}
		return func(s string) (string, error) {
			if utf8.RuneCountInString(s) <= n {
				return s, nil
			}
			return string([]rune(s)[:n]), nil
		}, nil
	case "replace":
		if err := wantArgs(name, args, 2); err != nil {
			return nil, err
		}
		if args[0] == "" {
			return nil, errors.New("filter replace: the text to replace is empty")
		}
		return func(s string) (string, error) { return strings.ReplaceAll(s, args[0], args[1]), nil }, nil
	case "phone":
		if len(args) > 1 {
			return nil, fmt.Errorf("filter phone takes no argument or a country code, not %d", len(args))
		}
		region := strings.ToUpper(opt.DefaultCountry)
		if len(args) == 1 {
			region = strings.ToUpper(args[0])
		}
		if region != "" && phonenumbers.GetCountryCodeForRegion(region) == 0 {
			return nil, fmt.Errorf("filter phone: %q is not a two-letter country code with phone numbers (e.g. US, GB, DE)", region)
		}
		return func(s string) (string, error) { return E164(s, region) }, nil
	case "uac":
		return func(s string) (string, error) {
			n, err := strconv.ParseUint(s, 10, 32)
			if err != nil {
				// AD writes it as a signed 32-bit number at times.
				m, err2 := strconv.ParseInt(s, 10, 32)
				if err2 != nil {
					return "", fmt.Errorf("%q is not a userAccountControl number", s)
				}
				n = uint64(uint32(m))
			}
			if n&0x2 != 0 { // ACCOUNTDISABLE
				return "INACTIVE", nil
			}
			return "ACTIVE", nil
		}, nil
	case "map":
		if len(args) == 0 {
			return nil, errors.New("filter map needs at least one 'from=to' argument")
		}
		m := map[string]string{}
		other, hasOther := "", false
		for _, a := range args {
			from, to, ok := strings.Cut(a, "=")
			if !ok {
				return nil, fmt.Errorf("filter map: %q is not from=to", a)
			}
			from = strings.TrimSpace(from)
			if from == "*" {
				other, hasOther = strings.TrimSpace(to), true
				continue
			}
			m[strings.ToLower(from)] = strings.TrimSpace(to)
		}
		return func(s string) (string, error) {
			if v, ok := m[strings.ToLower(s)]; ok {
				return v, nil
			}
			if hasOther {
				return other, nil
			}
			return "", fmt.Errorf("%q is %w in the map (add '*=...' for every other value)", s, ErrNoMatch)
		}, nil
	}
	return nil, fmt.Errorf("unknown filter %q (filters: %s)", name, strings.Join(filterNames, ", "))
}

func title(s string) string {
	prev := ' '
	return strings.Map(func(r rune) rune {
		defer func() { prev = r }()
		if unicode.IsSpace(prev) || prev == '-' || prev == '\'' {
			return unicode.ToUpper(r)
		}
		return unicode.ToLower(r)
	}, s)
}

// E164 normalises a phone number to E.164 (+ and digits). A number
// without a leading + (or 00) is taken as a number of region, an ISO
// 3166-1 alpha-2 code; without a region such a number is an error.
// Extensions ("x123", "ext. 123") are dropped.
func E164(s, region string) (string, error) {
	num, err := phonenumbers.Parse(s, region)
	if err != nil {
		if region == "" && !strings.HasPrefix(strings.TrimSpace(s), "+") {
			return "", fmt.Errorf("%q has no country code and no default country is set (default_country in [mapping], or phone('CC'))", s)
		}
		return "", fmt.Errorf("%q is not a phone number: %v", s, err)
	}
	if !phonenumbers.IsPossibleNumber(num) {
		return "", fmt.Errorf("%q is not a possible phone number of %s", s, phonenumbers.GetRegionCodeForNumber(num))
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}
