package secret

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/BurntSushi/toml"
)

var (
	tableLine = regexp.MustCompile(`^\s*\[\s*([A-Za-z0-9_.-]+)\s*\]\s*(#.*)?$`)
	keyLine   = regexp.MustCompile(`^(\s*)([A-Za-z0-9_.-]+)(\s*=\s*)(.*)$`)
)

// SealTOML returns the TOML text with the string values of the given keys
// (section.key, e.g. "auth.password") replaced by their ENC(...) form; the
// rest of the text (comments, order, other values) is kept as it was.
// Values already encrypted and empty values are left alone. sealed lists
// the keys it encrypted. Its errors name keys and lines, never values.
func SealTOML(text string, keys []string, k *Key) (out string, sealed []string, err error) {
	var before map[string]any
	if _, err := toml.Decode(text, &before); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return "", nil, fmt.Errorf("line %d: %s", pe.Position.Line, pe.Message)
		}
		return "", nil, err
	}
	want := map[string]bool{}
	for _, key := range keys {
		want[key] = true
	}
	lines := strings.SplitAfter(text, "\n")
	section := ""
	for i, line := range lines {
		body := strings.TrimRight(line, "\r\n")
		if m := tableLine.FindStringSubmatch(body); m != nil {
			section = m[1]
			continue
		}
		if strings.HasPrefix(strings.TrimSpace(body), "[") {
			section = "" // an array of tables: none of ours
			continue
		}
		m := keyLine.FindStringSubmatch(body)
		if m == nil {
			continue
		}
		full := m[2]
		if section != "" {
			full = section + "." + m[2]
		}
		if !want[full] {
			continue
		}
		plain, ok := lookup(before, full).(string)
		if !ok {
			return "", nil, fmt.Errorf("line %d: %s is not a string", i+1, full)
		}
		if plain == "" || IsEncrypted(plain) {
			continue
		}
		rest := m[4]
		end := stringEnd(rest)
		if end < 0 {
			return "", nil, fmt.Errorf("line %d: write %s as a one-line string (key = \"...\") to encrypt it", i+1, full)
		}
		enc, err := k.Encrypt(plain)
		if err != nil {
			return "", nil, err
		}
		lines[i] = m[1] + m[2] + m[3] + `"` + enc + `"` + rest[end:] + line[len(body):]
		sealed = append(sealed, full)
	}
	out = strings.Join(lines, "")
	// Check the edit: every sealed key decrypts to what it was, and
	// nothing else changed.
	var after map[string]any
	if _, err := toml.Decode(out, &after); err != nil {
		return "", nil, fmt.Errorf("the encrypted file would not parse; nothing was changed")
	}
	for _, key := range sealed {
		v, _ := lookup(after, key).(string)
		p, err := k.Decrypt(v)
		if err != nil || p != lookup(before, key) {
			return "", nil, fmt.Errorf("%s: the encrypted file would not hold the same value; nothing was changed", key)
		}
		setPath(after, key, p)
	}
	if fmt.Sprint(after) != fmt.Sprint(before) {
		return "", nil, fmt.Errorf("the encrypted file would differ in more than the secrets; nothing was changed")
	}
	return out, sealed, nil
}

// stringEnd returns the index just past the one-line TOML string that s
// starts with, or -1.
func stringEnd(s string) int {
	switch {
	case strings.HasPrefix(s, `"""`), strings.HasPrefix(s, `'''`):
		return -1
	case strings.HasPrefix(s, `"`):
		for i := 1; i < len(s); i++ {
			switch s[i] {
			case '\\':
				i++
			case '"':
				return i + 1
			}
		}
	case strings.HasPrefix(s, `'`):
		if j := strings.IndexByte(s[1:], '\''); j >= 0 {
			return j + 2
		}
	}
	return -1
}

func lookup(m map[string]any, key string) any {
	parts := strings.Split(key, ".")
	var v any = m
	for _, p := range parts {
		t, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = t[p]
	}
	return v
}

func setPath(m map[string]any, key string, val any) {
	parts := strings.Split(key, ".")
	for _, p := range parts[:len(parts)-1] {
		t, ok := m[p].(map[string]any)
		if !ok {
			return
		}
		m = t
	}
	m[parts[len(parts)-1]] = val
}
