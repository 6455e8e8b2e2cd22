package source

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// Sections are the top-level tables of epic.toml that configure sources.
// The client's own loader ([server], [auth]) leaves them to the exporters,
// and each exporter decodes only its own with DecodeSection.
var Sections = []string{"source", "health", "ldap", "csv", "sql", "cloudsync", "mapping"}

// IsSection reports whether name is one of Sections.
func IsSection(name string) bool {
	for _, s := range Sections {
		if s == name {
			return true
		}
	}
	return false
}

// DecodeSection decodes the table [section] of the TOML file at path into
// v. Keys under that table which v does not know are errors naming
// section.key; other tables are ignored. A file without the table leaves v
// as it was.
func DecodeSection(path, section string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read configuration: %w", err)
	}
	var whole map[string]toml.Primitive
	md, err := toml.Decode(string(b), &whole)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			// The library's message quotes the line, which may hold a
			// secret: give the position and the reason only.
			return fmt.Errorf("%s line %d: %s", path, pe.Position.Line, pe.Message)
		}
		return fmt.Errorf("%s: %v", path, err)
	}
	prim, ok := whole[section]
	if !ok {
		return nil
	}
	if err := md.PrimitiveDecode(prim, v); err != nil {
		return fmt.Errorf("%s [%s]: %v", path, section, err)
	}
	var unknown []string
	for _, k := range md.Undecoded() {
		if len(k) > 1 && k[0] == section {
			unknown = append(unknown, k.String())
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("%s: unknown key %s", path, strings.Join(unknown, ", "))
	}
	return nil
}
