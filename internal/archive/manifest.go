package archive

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Manifest is the content of manifest.xml.
type Manifest struct {
	Version                   Version
	Mirror                    bool
	DeviceNamesToIgnore       []string
	IgnoreDeviceOrderAndDelay bool
	ForceNewPasswordReset     bool
}

// DefaultManifest is the manifest that writers use unless told otherwise:
// the latest version, no mirror, and the spec's defaults.
func DefaultManifest() Manifest {
	return Manifest{Version: Latest, ForceNewPasswordReset: true}
}

// maxManifestBytes bounds the manifest: a real one is a few hundred bytes.
const maxManifestBytes = 64 << 10

// manifest option names, lower case (names match case-insensitively).
const (
	optVersion      = "autodatasyncversion"
	optMirror       = "mirror"
	optIgnoreNames  = "devicenamestoignore"
	optIgnoreOrder  = "ignoredeviceorderanddelay"
	optForceRelease = "forcenewpasswordreset"
)

// ParseManifest reads a manifest. It returns the manifest (defaults where
// an option is absent or wrong) and every problem found; a manifest whose
// findings include an ERROR must not be used. The Version is empty when
// the version is missing and is set as written when it is unsupported.
func ParseManifest(r io.Reader) (Manifest, []Finding) {
	m := Manifest{ForceNewPasswordReset: true}
	var findings []Finding
	lr := &io.LimitedReader{R: r, N: maxManifestBytes + 1}
	data, err := io.ReadAll(lr)
	if err != nil {
		return m, []Finding{manifestFinding(0, "", "", Error, CodeManifestXML, fmt.Sprintf("cannot read the manifest: %v", err))}
	}
	if len(data) > maxManifestBytes {
		return m, []Finding{manifestFinding(0, "", "", Error, CodeManifestXML,
			fmt.Sprintf("manifest.xml is larger than %d bytes; a manifest holds five short options", maxManifestBytes))}
	}
	add := func(line int, elem, value string, sev Severity, code Code, msg string) {
		findings = append(findings, manifestFinding(line, elem, value, sev, code, msg))
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	line := func() int { l, _ := d.InputPos(); return l }

	var (
		depth    int
		rootSeen bool
		rootDone bool
		current  string // option being read
		optLine  int
		text     strings.Builder
		seen     = map[string]int{}
		version  string
	)
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			add(line(), "", "", Error, CodeManifestXML, "manifest.xml is not well-formed XML: "+xmlMessage(err))
			return m, findings
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := t.Name.Local
			switch {
			case rootDone:
				add(line(), name, "", Error, CodeManifestXML, fmt.Sprintf("element <%s> after the end of <manifest>: a manifest has one root element", name))
				return m, findings
			case depth == 0:
				if !strings.EqualFold(name, "manifest") {
					add(line(), name, "", Error, CodeManifestXML, fmt.Sprintf("root element is <%s>; it must be <manifest>", name))
					return m, findings
				}
				rootSeen = true
			case depth == 1:
				current, optLine = strings.ToLower(name), line()
				text.Reset()
			default:
				add(line(), name, "", Error, CodeManifestXML, fmt.Sprintf("element <%s> is nested inside <%s>; options hold text only", name, current))
				return m, findings
			}
			depth++
		case xml.EndElement:
			depth--
			if depth == 0 {
				rootDone = true
			}
			if depth != 1 {
				continue
			}
			name, value := t.Name.Local, strings.TrimSpace(text.String())
			if first, dup := seen[current]; dup {
				add(optLine, name, value, Error, CodeManifestValue, fmt.Sprintf("<%s> appears twice (first at line %d)", name, first))
				continue
			}
			seen[current] = optLine
			switch current {
			case optVersion:
				version = value
				if value == "" {
					add(optLine, name, value, Error, CodeMissingVersion, "<autoDataSyncVersion> is empty; write one of "+versionList())
				} else if v, err := ParseVersion(value); err != nil {
					m.Version = Version(value)
					add(optLine, name, value, Error, CodeUnsupportedVersion, err.Error())
				} else {
					m.Version = v
				}
			case optMirror:
				m.Mirror = manifestFlag(add, optLine, name, value, false)
			case optIgnoreOrder:
				m.IgnoreDeviceOrderAndDelay = manifestFlag(add, optLine, name, value, false)
			case optForceRelease:
				m.ForceNewPasswordReset = manifestFlag(add, optLine, name, value, true)
			case optIgnoreNames:
				m.DeviceNamesToIgnore = splitNames(value)
			default:
				add(optLine, name, value, Warning, CodeManifestElement,
					fmt.Sprintf("unknown option <%s> is ignored (known: autoDataSyncVersion, mirror, deviceNamesToIgnore, ignoreDeviceOrderAndDelay, forceNewPasswordReset)", name))
			}
		case xml.CharData:
			switch {
			case depth == 2:
				text.Write(t)
			case len(bytes.TrimSpace(t)) > 0:
				where := "inside <manifest>"
				if rootDone || !rootSeen {
					where = "outside the <manifest> element"
				}
				add(line(), "", shownValue(bytes.TrimSpace(t)), Error, CodeManifestXML, "text "+where+": only options and white space are allowed there")
				return m, findings
			}
		}
	}
	if !rootSeen {
		add(0, "", "", Error, CodeManifestXML, "manifest.xml has no <manifest> element")
		return m, findings
	}
	if _, ok := seen[optVersion]; !ok && version == "" {
		add(0, "autoDataSyncVersion", "", Error, CodeMissingVersion, "<autoDataSyncVersion> is missing; add it with one of "+versionList())
	}
	return m, findings
}

func manifestFinding(line int, elem, value string, sev Severity, code Code, msg string) Finding {
	return Finding{File: ManifestName, Line: line, Column: elem, Value: value, Severity: sev, Code: code, Message: msg}
}

func manifestFlag(add func(int, string, string, Severity, Code, string), line int, name, value string, def bool) bool {
	switch value {
	case "Y":
		return true
	case "N":
		return false
	}
	add(line, name, value, Error, CodeManifestValue, fmt.Sprintf("<%s> must be Y or N (upper case), not %q", name, value))
	return def
}

func xmlMessage(err error) string {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s (line %d)", se.Msg, se.Line)
	}
	return err.Error()
}

// splitNames splits a |-separated list, trimming items and dropping empty ones.
func splitNames(s string) []string {
	var out []string
	for _, n := range strings.Split(s, "|") {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// Marshal returns the manifest as XML, in the element order of the spec.
func (m Manifest) Marshal() []byte {
	yn := func(b bool) string {
		if b {
			return "Y"
		}
		return "N"
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString("<manifest>\n")
	el := func(name, value string) {
		b.WriteString("  <" + name + ">")
		xml.EscapeText(&b, []byte(value))
		b.WriteString("</" + name + ">\n")
	}
	el("autoDataSyncVersion", string(m.Version))
	el("mirror", yn(m.Mirror))
	el("deviceNamesToIgnore", strings.Join(m.DeviceNamesToIgnore, "|"))
	el("ignoreDeviceOrderAndDelay", yn(m.IgnoreDeviceOrderAndDelay))
	el("forceNewPasswordReset", yn(m.ForceNewPasswordReset))
	b.WriteString("</manifest>\n")
	return b.Bytes()
}
