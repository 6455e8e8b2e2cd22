package hrcsv

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"

	"github.com/epicsync/epic/internal/mapping"
)

// Config is the [csv] table of epic.toml.
type Config struct {
	// File is the HR export; a relative path is taken from the folder of
	// the configuration file (see Resolve).
	File string `toml:"file"`
	// Delimiter is the field separator: one character, or "tab"
	// (default ",").
	Delimiter string `toml:"delimiter"`
	// Encoding of the file: "utf-8" (default; a byte-order mark is
	// dropped) or "windows-1252" (also "latin1").
	Encoding string `toml:"encoding"`
	// Skip is a template; a row for which it gives a non-empty value is
	// left out on purpose (e.g. "{Worker Type:map('Contractor=yes','*=')}").
	Skip string `toml:"skip"`
}

// Resolve makes a relative File relative to the folder of the
// configuration file at configPath.
func (c *Config) Resolve(configPath string) {
	if c.File != "" && !filepath.IsAbs(c.File) {
		c.File = filepath.Join(filepath.Dir(configPath), c.File)
	}
}

// Validate checks the configuration; errors name the key.
func (c *Config) Validate() error {
	if strings.TrimSpace(c.File) == "" {
		return errors.New("[csv] file is missing: the path of the HR export")
	}
	if _, err := c.delimiter(); err != nil {
		return err
	}
	switch strings.ToLower(c.Encoding) {
	case "", "utf-8", "utf8", "windows-1252", "cp1252", "latin1", "iso-8859-1":
	default:
		return fmt.Errorf("[csv] encoding = %q: use \"utf-8\" or \"windows-1252\"", c.Encoding)
	}
	return nil
}

func (c *Config) delimiter() (rune, error) {
	switch c.Delimiter {
	case "":
		return ',', nil
	case "tab", `\t`, "\t":
		return '\t', nil
	}
	r, n := utf8.DecodeRuneInString(c.Delimiter)
	if n != len(c.Delimiter) || r == '"' || r == '\r' || r == '\n' || r == utf8.RuneError {
		return 0, fmt.Errorf("[csv] delimiter = %q: use one character other than a quote or a line break, or \"tab\"", c.Delimiter)
	}
	return r, nil
}

// SourceName names the source for the health check's history.
func (c *Config) SourceName() string {
	abs, err := filepath.Abs(c.File)
	if err != nil {
		abs = c.File
	}
	return "csv " + abs
}

// Report says what an export read and left out.
type Report struct {
	Rows    int      // data rows read
	People  int      // people added
	Skipped []string // rows left out on purpose (skip) or because a required value is missing: "line N: reason"
	// Warnings: values left out of people who were exported.
	Warnings []string
}

// record is one CSV row; fields are looked up by header without regard
// to case or surrounding spaces.
type record struct {
	idx map[string]int
	row []string
}

func (r record) Get(field string) string {
	i, ok := r.idx[strings.ToLower(strings.TrimSpace(field))]
	if !ok || i >= len(r.row) {
		return ""
	}
	return r.row[i]
}

// Export reads the file and adds its people to b. progress, when not
// nil, is called with the number of rows read so far every 1,000 rows
// and at the end.
func Export(cfg Config, m *mapping.Mapper, b *mapping.Builder, progress func(int)) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var skip *mapping.Template
	if cfg.Skip != "" {
		t, err := mapping.Compile(cfg.Skip, mapping.Options{DefaultCountry: m.Config().DefaultCountry})
		if err != nil {
			return nil, fmt.Errorf("[csv] skip: %w", err)
		}
		skip = t
	}
	f, err := os.Open(cfg.File)
	if err != nil {
		return nil, fmt.Errorf("read the HR export: %w", err)
	}
	defer f.Close()
	var in io.Reader = bufio.NewReaderSize(f, 256<<10)
	name := filepath.Base(cfg.File)
	switch strings.ToLower(cfg.Encoding) {
	case "windows-1252", "cp1252", "latin1", "iso-8859-1":
		in = charmap.Windows1252.NewDecoder().Reader(in)
	default:
		br := in.(*bufio.Reader)
		if bom, _ := br.Peek(3); bytes.Equal(bom, []byte{0xEF, 0xBB, 0xBF}) {
			br.Discard(3)
		}
	}
	cr := csv.NewReader(in)
	cr.Comma, _ = cfg.delimiter()
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%s is empty: it has no header line", name)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	idx := map[string]int{}
	var names []string
	for i, h := range header {
		h = strings.TrimSpace(h)
		if !utf8.ValidString(h) {
			return nil, fmt.Errorf("%s line 1: the header is not UTF-8 text (set encoding = \"windows-1252\" in [csv] if the HR system writes that)", name)
		}
		k := strings.ToLower(h)
		if _, dup := idx[k]; dup && h != "" {
			return nil, fmt.Errorf("%s line 1: the header %q appears twice", name, h)
		}
		idx[k] = i
		names = append(names, h)
	}
	need := append([]string{}, m.Fields()...)
	if skip != nil {
		need = append(need, skip.Fields()...)
	}
	var missing []string
	for _, fl := range need {
		if _, ok := idx[strings.ToLower(strings.TrimSpace(fl))]; !ok {
			missing = append(missing, fmt.Sprintf("%q", fl))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s has no column %s, which [mapping] reads (its columns: %s)", name, strings.Join(missing, ", "), strings.Join(names, ", "))
	}
	rep := &Report{}
	for {
		row, err := cr.Read()
		if err == io.EOF {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		rep.Rows++
		if progress != nil && rep.Rows%1000 == 0 {
			progress(rep.Rows)
		}
		for _, v := range row {
			if !utf8.ValidString(v) {
				return nil, fmt.Errorf("%s line %d: the text is not UTF-8 (set encoding = \"windows-1252\" in [csv] if the HR system writes that)", name, line)
			}
		}
		rec := record{idx: idx, row: row}
		if skip != nil {
			v, err := skip.Eval(rec)
			if err != nil {
				return nil, fmt.Errorf("%s line %d: [csv] skip: %w", name, line, err)
			}
			if v != "" {
				rep.Skipped = append(rep.Skipped, fmt.Sprintf("line %d: skipped by [csv] skip (%s)", line, v))
				continue
			}
		}
		p, err := m.Person(rec)
		var se *mapping.SkipError
		if errors.As(err, &se) {
			rep.Skipped = append(rep.Skipped, fmt.Sprintf("line %d: %s", line, se.Reason))
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", name, line, err)
		}
		for _, w := range p.Warnings {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("line %d (%s): %s", line, p.UserID, w))
		}
		if err := b.Add(p, fmt.Sprintf("%s line %d", name, line)); err != nil {
			return nil, err
		}
		rep.People++
	}
	if progress != nil {
		progress(rep.Rows)
	}
	return rep, nil
}
