package archive

import (
	"bytes"
	"io"
)

// Limits of the CSV reader. No column is longer than 2,000 characters, so a
// record far larger than these is a quote that was never closed.
const (
	readBufferSize = 256 << 10
	maxRecordBytes = 256 << 10
)

// IssueKind says what went wrong with the quoting of a record.
type IssueKind uint8

const (
	// IssueBareQuote: a quote inside an unquoted value, or text right after
	// a closing quote on the same line. The record is still usable.
	IssueBareQuote IssueKind = iota + 1
	// IssueUnterminated: a quoted value that is never closed (or runs past
	// the record size limit). The record is unusable; the reader resumes at
	// the line after the record's first line so no later row is swallowed.
	IssueUnterminated
)

// QuoteIssue describes a quoting problem of the current record.
type QuoteIssue struct {
	Kind   IssueKind
	Line   int // line where the offending quote stands
	Column int // byte column (1-based) of the quote in that line
	Field  int // index of the field in the record
}

// Reader reads RFC 4180 records one at a time from a stream, never holding
// more than one record and a fixed buffer. Lines may end in LF, CR LF or CR;
// quoted values may hold separators and line breaks. A leading UTF-8
// byte-order mark is stripped and reported by BOM. Fields are returned as
// raw bytes; checking UTF-8 is the caller's business.
type Reader struct {
	src      io.Reader
	buf      []byte
	pos, end int
	srcErr   error
	line     int  // line of the next unread byte, from 1
	col      int  // byte offset in buf where the current line began (may be negative after refill)
	skipLF   bool // the last line break was a CR: an LF right after it belongs to it
	started  bool
	bom      bool
	utf16    bool

	rec     []byte
	ends    []int
	fields  [][]byte
	recLine int
	issue   *QuoteIssue

	// Recovery from an unterminated quote: the bytes consumed since the
	// record's first line break, so they can be read again.
	capturing bool
	captured  []byte
	captureAt int
	captureCR bool // capture began right after a CR
}

// NewReader returns a reader of src.
func NewReader(src io.Reader) *Reader {
	return &Reader{src: src, buf: make([]byte, readBufferSize), line: 1}
}

// BOM reports whether the stream began with a UTF-8 byte-order mark (which
// the reader stripped). Valid after the first call to Next.
func (r *Reader) BOM() bool { return r.bom }

// UTF16 reports whether the stream began with a UTF-16 byte-order mark.
// Such a stream yields no records.
func (r *Reader) UTF16() bool { return r.utf16 }

// Line returns the line on which the current record starts.
func (r *Reader) Line() int { return r.recLine }

// Fields returns the fields of the current record. They are valid until
// the next call to Next.
func (r *Reader) Fields() [][]byte { return r.fields }

// record returns the current record's field bytes, back to back, and the
// end offset of each field in them.
func (r *Reader) record() ([]byte, []int) { return r.rec, r.ends }

// Issue returns the quoting problem of the current record, or nil.
func (r *Reader) Issue() *QuoteIssue { return r.issue }

// Err returns the error that stopped reading, other than io.EOF.
func (r *Reader) Err() error {
	if r.srcErr == io.EOF {
		return nil
	}
	return r.srcErr
}

// fill makes sure at least one unread byte is buffered; it reports false
// at the end of the stream or on a read error.
func (r *Reader) fill() bool {
	if r.pos < r.end {
		return true
	}
	if r.srcErr != nil {
		return false
	}
	if r.capturing {
		r.captured = append(r.captured, r.buf[r.captureAt:r.end]...)
		r.captureAt = 0
	}
	r.col -= r.end
	r.pos, r.end = 0, 0
	// At the start, read at least the three bytes that a byte-order mark takes.
	want := 1
	if !r.started {
		want = 3
	}
	for r.end < want && r.srcErr == nil {
		n, err := r.src.Read(r.buf[r.end:])
		r.end += n
		if err != nil {
			r.srcErr = err
		} else if n == 0 {
			r.srcErr = io.ErrNoProgress
		}
	}
	if !r.started && r.end > 0 {
		r.started = true
		r.sniff()
		return r.fill() // the mark may have been all there was
	}
	return r.pos < r.end
}

// sniff strips a UTF-8 byte-order mark and recognises UTF-16 ones.
func (r *Reader) sniff() {
	b := r.buf[:r.end]
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		r.bom = true
		r.pos = 3
		r.col = 3
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}), bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		r.utf16 = true
		r.pos = r.end
		r.srcErr = io.EOF
	}
}

// newLine records a line break that ends just before r.pos.
func (r *Reader) newLine() {
	r.line++
	r.col = r.pos
}

var (
	unquotedStop [256]bool
	quotedStop   [256]bool
)

func init() {
	for _, c := range []byte{',', '"', '\r', '\n'} {
		unquotedStop[c] = true
	}
	for _, c := range []byte{'"', '\r', '\n'} {
		quotedStop[c] = true
	}
}

// Next advances to the next record, skipping blank lines. It returns false
// at the end of the stream or on a read error (see Err).
func (r *Reader) Next() bool {
	r.rec, r.ends, r.fields, r.issue = r.rec[:0], r.ends[:0], r.fields[:0], nil
	for {
		if !r.fill() {
			return false
		}
		c := r.buf[r.pos]
		if r.skipLF {
			r.skipLF = false
			if c == '\n' {
				r.pos++
				r.col = r.pos
				continue
			}
		}
		if c == '\n' || c == '\r' {
			r.pos++
			r.newLine()
			r.skipLF = c == '\r'
			continue
		}
		break
	}
	r.recLine = r.line
	r.capturing, r.captured = false, r.captured[:0]
	for {
		last, ok := r.field()
		if !ok {
			r.recover()
			break
		}
		r.ends = append(r.ends, len(r.rec))
		if last {
			break
		}
	}
	if r.Err() != nil {
		return false // a record cut short by a read error is not a record
	}
	start := 0
	for _, e := range r.ends {
		r.fields = append(r.fields, r.rec[start:e])
		start = e
	}
	r.capturing = false
	return true
}

func (r *Reader) setIssue(kind IssueKind, line, col int) {
	if r.issue == nil || kind > r.issue.Kind {
		r.issue = &QuoteIssue{Kind: kind, Line: line, Column: col, Field: len(r.ends)}
	}
}

// field reads one field. last reports the end of the record; ok is false
// when the record cannot be read (an unterminated quote).
func (r *Reader) field() (last, ok bool) {
	if !r.fill() {
		return true, true
	}
	if r.buf[r.pos] == '"' {
		return r.quoted()
	}
	return r.unquoted()
}

func (r *Reader) unquoted() (last, ok bool) {
	for {
		if !r.fill() {
			return true, true
		}
		i := r.pos
		for i < r.end && !unquotedStop[r.buf[i]] {
			i++
		}
		r.rec = append(r.rec, r.buf[r.pos:i]...)
		r.pos = i
		if i == r.end {
			continue
		}
		c := r.buf[i]
		r.pos++
		switch c {
		case ',':
			return false, true
		case '\n', '\r':
			r.newLine()
			r.skipLF = c == '\r'
			return true, true
		default: // a bare quote: keep it as text
			r.setIssue(IssueBareQuote, r.line, i-r.col+1)
			r.rec = append(r.rec, '"')
		}
		if len(r.rec) > maxRecordBytes {
			return true, false
		}
	}
}

func (r *Reader) quoted() (last, ok bool) {
	openLine, openCol := r.line, r.pos-r.col+1
	r.pos++
	afterCR := false
	for {
		if !r.fill() {
			r.issue = &QuoteIssue{Kind: IssueUnterminated, Line: openLine, Column: openCol, Field: len(r.ends)}
			return true, false
		}
		i := r.pos
		for i < r.end && !quotedStop[r.buf[i]] {
			i++
		}
		if i > r.pos {
			afterCR = false
		}
		r.rec = append(r.rec, r.buf[r.pos:i]...)
		r.pos = i
		if len(r.rec) > maxRecordBytes {
			r.issue = &QuoteIssue{Kind: IssueUnterminated, Line: openLine, Column: openCol, Field: len(r.ends)}
			return true, false
		}
		if i == r.end {
			continue
		}
		c := r.buf[i]
		r.pos++
		if c == '\r' || c == '\n' {
			r.rec = append(r.rec, c)
			if !(c == '\n' && afterCR) {
				r.newLine()
				if !r.capturing {
					r.capturing, r.captureAt, r.captureCR = true, r.pos, c == '\r'
				}
			} else {
				r.col = r.pos
				if r.capturing && r.captureCR && r.captureAt == r.pos-1 && len(r.captured) == 0 {
					r.captureAt = r.pos // the LF of the first CR LF is not part of the next line
					r.captureCR = false
				}
			}
			afterCR = c == '\r'
			continue
		}
		afterCR = false
		// A quote: doubled, or the closing one.
		if !r.fill() {
			return true, true
		}
		if r.buf[r.pos] == '"' {
			r.rec = append(r.rec, '"')
			r.pos++
			continue
		}
		return r.afterClose(openLine, openCol)
	}
}

// afterClose handles what follows a closing quote.
func (r *Reader) afterClose(openLine, openCol int) (last, ok bool) {
	c := r.buf[r.pos]
	switch c {
	case ',':
		r.pos++
		return false, true
	case '\r', '\n':
		r.pos++
		r.newLine()
		r.skipLF = c == '\r'
		return true, true
	}
	if r.line > openLine {
		// The "closing" quote was most likely the opening quote of a later
		// value: the real opening quote was never closed.
		r.issue = &QuoteIssue{Kind: IssueUnterminated, Line: openLine, Column: openCol, Field: len(r.ends)}
		return true, false
	}
	r.setIssue(IssueBareQuote, r.line, r.pos-r.col+1)
	return r.unquoted()
}

// recover makes the reader read again from the line after the current
// record's first line, so that an unclosed quote costs one row, not the
// rest of the file.
func (r *Reader) recover() {
	if !r.capturing {
		// The record never spanned a line: skip to the end of its line.
		for r.fill() {
			c := r.buf[r.pos]
			r.pos++
			if c == '\n' || c == '\r' {
				r.newLine()
				r.skipLF = c == '\r'
				return
			}
		}
		return
	}
	rest := append(r.captured, r.buf[r.captureAt:r.end]...)
	if r.captureCR && len(rest) > 0 && rest[0] == '\n' {
		rest = rest[1:]
	}
	size := max(readBufferSize, len(rest))
	buf := make([]byte, size)
	n := copy(buf, rest)
	r.buf, r.pos, r.end = buf, 0, n
	r.captured = nil
	r.line = r.recLine + 1
	r.col = 0
	r.skipLF = false
	if r.srcErr == io.EOF {
		// The stream is at its end, but the bytes pushed back are still to be read.
		r.srcErr = nil
		r.src = eofReader{}
	}
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }
