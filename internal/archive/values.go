package archive

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/epicsync/epic/internal/archive/refdata"
)

// value checks one trimmed value against its column and reports whether
// it is usable (present and valid).
func (fc *fileCheck) value(line int, c *Column, b []byte) bool {
	bad := func(code Code, msg string) bool {
		fc.find(line, c.Name, shownValue(b), Error, code, msg)
		return false
	}
	if !fc.utf8OK && !utf8.Valid(b) {
		return bad(CodeInvalidUTF8, "the value is not valid UTF-8 (the file may be in Latin-1 or Windows-1252); save the file as UTF-8")
	}
	if len(b) == 0 {
		if c.Required && c.Kind != Action {
			return bad(CodeRequired, fmt.Sprintf("%s is required", c.Name))
		}
		return false
	}
	if len(b) > c.Max && c.Kind != Flag && c.Kind != Status { // those say what is right themselves
		if n := utf8.RuneCount(b); n > c.Max {
			return bad(CodeTooLong, fmt.Sprintf("%d characters; %s takes at most %d", n, c.Name, c.Max))
		}
	}
	switch c.Kind {
	case Flag:
		if len(b) != 1 || (b[0] != 'Y' && b[0] != 'N') {
			return bad(CodeBadFlag, "write Y or N (upper case); T/F, yes/no and 1/0 are not accepted")
		}
	case Status:
		if s := string(b); s != "ACTIVE" && s != "INACTIVE" {
			msg := "write ACTIVE or INACTIVE"
			if strings.EqualFold(s, "ACTIVE") || strings.EqualFold(s, "INACTIVE") {
				msg += " in upper case"
			}
			return bad(CodeBadStatus, msg)
		}
	case Integer:
		if !allIn(b, isDigit) {
			return bad(CodeNotInteger, "write a whole number of 0 or more, digits only")
		}
	case IntegerList:
		return fc.list(line, c, b, func(item []byte) (Code, string) {
			if !allIn(item, isDigit) {
				return CodeNotInteger, fmt.Sprintf("item %q is not a whole number; write minutes as digits separated by commas, e.g. 0,5,10", shownValue(item))
			}
			return "", ""
		})
	case List, ClearableList:
		if c.Kind == ClearableList && string(b) == clearList {
			return true
		}
		return fc.list(line, c, b, nil)
	case Email, IMAddress:
		if !validEmail(b) {
			return bad(CodeBadEmail, "write an address like name@example.com: one @, a dot in the domain, no spaces")
		}
	case Phone:
		if !allIn(b, isPhone) || !bytes.ContainsFunc(b, func(r rune) bool { return r >= '0' && r <= '9' }) {
			return bad(CodeBadPhone, "a phone number holds digits and ( ) + - . and spaces only, e.g. +1 (555) 010-0199")
		}
	case AreaCode:
		if !allIn(b, isDigit) {
			return bad(CodeBadPhone, "an area code holds digits only")
		}
	case Extension:
		if !allIn(b, isExtension) {
			return bad(CodeBadPhone, "an extension holds digits and ( ) + - . , * # and spaces only")
		}
	case Digits:
		if !allIn(b, isDigit) {
			return bad(CodeBadDigits, "a numeric pager PIN holds digits only")
		}
	case Latitude, Longitude:
		limit := 90.0
		if c.Kind == Longitude {
			limit = 180
		}
		f, err := strconv.ParseFloat(string(b), 64)
		if err != nil || !allIn(b, isDecimal) || f < -limit || f > limit {
			return bad(CodeBadCoordinate, fmt.Sprintf("write decimal degrees from %g to %g, e.g. 52.52", -limit, limit))
		}
	case TimeZone:
		if canon, ok := refdata.TimeZone(string(b)); !ok {
			msg := "not a time-zone name of the tz database; write a name like Europe/Berlin or US/Pacific (offsets such as UTC-8:00 are not accepted)"
			if canon != "" {
				msg = fmt.Sprintf("time-zone names are case-sensitive: write %s", canon)
			}
			return bad(CodeBadTimeZone, msg)
		}
	case Language:
		if canon, ok := refdata.Language(string(b)); !ok {
			msg := "not an ISO 639-1 language code; write a two-letter code like en or fr"
			if canon != "" {
				msg = fmt.Sprintf("language codes are lower case: write %s", canon)
			}
			return bad(CodeBadLanguage, msg)
		}
	case CountryName:
		if !refdata.CountryName(string(b)) {
			return bad(CodeBadCountry, "not an ISO 3166-1 country name; write a name like Germany or United States")
		}
	case CountryCode:
		if !refdata.CountryCode(string(b)) {
			return bad(CodeBadCountryCode, "not an ISO 3166-1 two-letter country code; write a code like US or DE")
		}
	case MemberType:
		if _, ok := memberFiles[string(b)]; !ok && string(b) != "DEVICE" {
			return bad(CodeBadMemberType, "write PERSON, GROUP, TEAM or DEVICE (upper case)")
		}
	case DeviceType:
		if l := deviceLayout(string(b)); l == nil || !fc.version().atLeast(l.Since) {
			return bad(CodeBadDeviceType, fmt.Sprintf("write one of %s (device types of version %s)", strings.Join(fc.deviceTypes(), ", "), fc.version()))
		}
	}
	return true
}

// list checks a comma-separated list: no empty items, and each item
// passes item (when given).
func (fc *fileCheck) list(line int, c *Column, b []byte, item func([]byte) (Code, string)) bool {
	ok := true
	n := 0
	for it := range bytes.SplitSeq(b, []byte(",")) {
		n++
		it = trim(it)
		if len(it) == 0 {
			fc.find(line, c.Name, shownValue(b), Error, CodeBadList,
				fmt.Sprintf("item %d of the list is empty; separate items with single commas and no trailing comma", n))
			ok = false
			continue
		}
		if item != nil {
			if code, msg := item(it); code != "" {
				fc.find(line, c.Name, shownValue(b), Error, code, msg)
				ok = false
			}
		}
	}
	return ok
}

func allIn(b []byte, f func(byte) bool) bool {
	for _, c := range b {
		if !f(c) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool   { return '0' <= c && c <= '9' }
func isDecimal(c byte) bool { return isDigit(c) || c == '.' || c == '-' || c == '+' }
func isPhone(c byte) bool {
	return isDigit(c) || c == '(' || c == ')' || c == '+' || c == '-' || c == '.' || c == ' '
}
func isExtension(c byte) bool { return isPhone(c) || c == ',' || c == '*' || c == '#' }

// validEmail: one @, something before it, a domain with a dot that neither
// starts nor ends it, no spaces or control characters.
func validEmail(b []byte) bool {
	at := bytes.IndexByte(b, '@')
	if at <= 0 || bytes.IndexByte(b[at+1:], '@') >= 0 {
		return false
	}
	for _, c := range b {
		if c <= ' ' || c == 0x7f {
			return false
		}
	}
	d := b[at+1:]
	dot := bytes.IndexByte(d, '.')
	return dot > 0 && d[len(d)-1] != '.' && !bytes.Contains(d, []byte(".."))
}
