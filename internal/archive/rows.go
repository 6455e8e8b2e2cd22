package archive

import (
	"fmt"
	"strings"
)

// Archive gives the service the rows of an archive, file by file, after
// it has been validated. It never holds a whole file.
type Archive struct {
	src *source
	fs  files
}

// OpenZip opens the zip at path for reading rows.
func OpenZip(path string, lim Limits) (*Archive, error) {
	src, err := openZip(path, lim)
	if err != nil {
		return nil, err
	}
	if len(src.findings) > 0 {
		src.close()
		return nil, fmt.Errorf("%s: %s", path, src.findings[0].Message)
	}
	return &Archive{src: src, fs: src.resolve()}, nil
}

// Close releases the archive.
func (a *Archive) Close() error { return a.src.close() }

// Row is one record of a file.
type Row struct {
	Line    int
	fields  [][]byte
	index   []int // layout column -> field, -1 when the header lacks it
	columns map[string]int
	layout  *Layout
}

// Value returns the trimmed value of the named column, "" when absent.
func (r *Row) Value(col string) string {
	ci, ok := r.columns[col]
	if !ok {
		panic(fmt.Sprintf("%s has no column %s", r.layout.Name, col))
	}
	fi := r.index[ci]
	if fi < 0 || fi >= len(r.fields) {
		return ""
	}
	return string(trim(r.fields[fi]))
}

// Rows calls fn with every record of the file of layout l, in order; the
// Row is valid only during the call. A file the archive lacks has no rows.
func (a *Archive) Rows(l *Layout, fn func(*Row) error) error {
	e := a.fs.byLayout[l]
	if e == nil {
		return nil
	}
	rc, err := e.open()
	if err != nil {
		return fmt.Errorf("read %s: %w", e.name, err)
	}
	defer rc.Close()
	r := NewReader(rc)
	if !r.Next() {
		return r.Err()
	}
	row := &Row{layout: l, index: make([]int, len(l.Columns)), columns: make(map[string]int, len(l.Columns))}
	for i, c := range l.Columns {
		row.columns[c.Name] = i
	}
	for i := range row.index {
		row.index[i] = -1
	}
	for fi, h := range r.Fields() {
		name := string(trim(h))
		for ci, c := range l.Columns {
			if strings.EqualFold(c.Name, name) && row.index[ci] < 0 {
				row.index[ci] = fi
			}
		}
	}
	for r.Next() {
		row.Line, row.fields = r.Line(), r.Fields()
		if err := fn(row); err != nil {
			return err
		}
	}
	if err := r.Err(); err != nil {
		return fmt.Errorf("read %s: %w", e.name, err)
	}
	return nil
}

// ArchiveLevel reports whether a finding makes the whole archive unusable
// (the service refuses it before touching the directory) rather than one
// row of it.
func (f Finding) ArchiveLevel() bool {
	if f.Severity != Error {
		return false
	}
	switch f.Code {
	case CodeNotZip, CodeZipCorrupt, CodeArchiveTooLarge, CodeEntryTooLarge, CodeCompressionRatio,
		CodeUnsafeEntryName, CodeDuplicateEntry, CodeMissingManifest, CodeMissingFile, CodeFileNotInVersion,
		CodeManifestXML, CodeManifestValue, CodeMissingVersion, CodeUnsupportedVersion, CodeEmptyFile,
		CodeMissingColumn, CodeUnknownColumn, CodeDuplicateColumn:
		return true
	case CodeInvalidUTF8:
		return f.Line == 0 // a UTF-16 file
	}
	return false
}
