package archive

import (
	"fmt"
	"unicode/utf8"
)

// Severity tells whether a finding stops the archive (ERROR) or not (WARNING).
type Severity string

// Severities.
const (
	Error   Severity = "ERROR"
	Warning Severity = "WARNING"
)

// Code is a stable identifier of a kind of finding. Scripts match on it;
// never rename one.
type Code string

// Finding codes. docs/format.md lists each with an example.
const (
	// The zip.
	CodeNotZip             Code = "NOT_A_ZIP"
	CodeZipCorrupt         Code = "ZIP_CORRUPT"
	CodeArchiveTooLarge    Code = "ARCHIVE_TOO_LARGE"
	CodeEntryTooLarge      Code = "ENTRY_TOO_LARGE"
	CodeCompressionRatio   Code = "COMPRESSION_RATIO"
	CodeUnsafeEntryName    Code = "UNSAFE_ENTRY_NAME"
	CodeUnknownEntry       Code = "UNKNOWN_ENTRY"
	CodeDuplicateEntry     Code = "DUPLICATE_ENTRY"
	CodeMissingManifest    Code = "MISSING_MANIFEST"
	CodeMissingFile        Code = "MISSING_FILE"
	CodeFileNotInVersion   Code = "FILE_NOT_IN_VERSION"
	CodeManifestXML        Code = "MANIFEST_XML"
	CodeManifestElement    Code = "MANIFEST_UNKNOWN_ELEMENT"
	CodeManifestValue      Code = "MANIFEST_BAD_VALUE"
	CodeMissingVersion     Code = "MISSING_VERSION"
	CodeUnsupportedVersion Code = "UNSUPPORTED_VERSION"
	// The CSV text and header.
	CodeEmptyFile         Code = "EMPTY_FILE"
	CodeBOM               Code = "BOM"
	CodeMissingColumn     Code = "MISSING_COLUMN"
	CodeUnknownColumn     Code = "UNKNOWN_COLUMN"
	CodeDuplicateColumn   Code = "DUPLICATE_COLUMN"
	CodeFieldCount        Code = "FIELD_COUNT"
	CodeUnterminatedQuote Code = "UNTERMINATED_QUOTE"
	CodeBadQuote          Code = "BAD_QUOTE"
	CodeInvalidUTF8       Code = "INVALID_UTF8"
	// Values.
	CodeRequired       Code = "REQUIRED"
	CodeTooLong        Code = "TOO_LONG"
	CodeNotInteger     Code = "NOT_INTEGER"
	CodeBadFlag        Code = "BAD_FLAG"
	CodeBadStatus      Code = "BAD_STATUS"
	CodeIgnoredRow     Code = "IGNORED_ROW"
	CodeBadEmail       Code = "BAD_EMAIL"
	CodeBadPhone       Code = "BAD_PHONE"
	CodeBadDigits      Code = "BAD_DIGITS"
	CodeBadCoordinate  Code = "BAD_COORDINATE"
	CodeBadList        Code = "BAD_LIST"
	CodeBadTimeZone    Code = "BAD_TIMEZONE"
	CodeBadLanguage    Code = "BAD_LANGUAGE"
	CodeBadCountry     Code = "BAD_COUNTRY"
	CodeBadCountryCode Code = "BAD_COUNTRY_CODE"
	CodeBadMemberType  Code = "BAD_MEMBER_TYPE"
	CodeBadDeviceType  Code = "BAD_DEVICE_TYPE"
	// Keys and references.
	CodeDuplicateKey        Code = "DUPLICATE_KEY"
	CodeDuplicateName       Code = "DUPLICATE_NAME"
	CodeDuplicateMembership Code = "DUPLICATE_MEMBERSHIP"
	CodeUnknownReference    Code = "UNKNOWN_REFERENCE"
	CodeRemovedReference    Code = "REMOVED_REFERENCE"
	CodeNameCollision       Code = "NAME_COLLISION"
)

// Finding is one problem found in an archive.
type Finding struct {
	File     string // file inside the archive ("" for the archive itself)
	Line     int    // line of the CSV record's first line; 0 when not about a line
	Column   string // column name, or "" when not about one column
	Value    string // the offending value, cut to maxShownValue characters
	Severity Severity
	Code     Code
	Message  string
}

func (f Finding) String() string {
	s := f.File
	if s == "" {
		s = "archive"
	}
	if f.Line > 0 {
		s += fmt.Sprintf(":%d", f.Line)
	}
	if f.Column != "" {
		s += " " + f.Column
	}
	return fmt.Sprintf("%s: %s %s: %s", s, f.Severity, f.Code, f.Message)
}

// maxShownValue bounds the value a finding carries, so a finding about a
// runaway field does not carry the whole field.
const maxShownValue = 200

// shownValue turns raw bytes into a value fit for a report: invalid UTF-8
// becomes U+FFFD and long values are cut with an ellipsis.
func shownValue(b []byte) string {
	if len(b) <= maxShownValue && utf8.Valid(b) {
		return string(b)
	}
	out := make([]rune, 0, maxShownValue+1)
	for len(b) > 0 && len(out) < maxShownValue {
		r, n := utf8.DecodeRune(b)
		out = append(out, r)
		b = b[n:]
	}
	if len(b) > 0 {
		out = append(out, '…')
	}
	return string(out)
}

// Sink receives findings as they are made. The validator streams every
// finding through it and keeps none itself, so what a sink keeps is all
// the memory findings take.
type Sink func(Finding)

// Summary counts findings and keeps the first few, for a short table.
type Summary struct {
	Keep     int       // how many findings to keep in First
	First    []Finding // the first Keep findings, in the order they were made
	Errors   int
	Warnings int
	ByCode   map[Code]int
}

// Add records f.
func (s *Summary) Add(f Finding) {
	if f.Severity == Error {
		s.Errors++
	} else {
		s.Warnings++
	}
	if s.ByCode == nil {
		s.ByCode = make(map[Code]int)
	}
	s.ByCode[f.Code]++
	if len(s.First) < s.Keep {
		s.First = append(s.First, f)
	}
}

// Total is the number of findings.
func (s *Summary) Total() int { return s.Errors + s.Warnings }
