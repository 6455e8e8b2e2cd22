package archive

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Options configure a validation.
type Options struct {
	Limits Limits
	// Sink receives every finding as it is made; nil drops them (the
	// Result still counts them). The validator keeps no finding itself, so
	// an archive with millions of problems is checked in bounded memory.
	Sink Sink
}

// Result is what a validation learned about an archive.
type Result struct {
	// Manifest as read; its Version is empty when the manifest is missing
	// or names no supported version.
	Manifest Manifest
	Files    []FileResult // the files read, in dependency order
	Errors   int
	Warnings int
}

// FileResult counts the rows of one file.
type FileResult struct {
	Name    string // as written in the archive
	Layout  *Layout
	Rows    int // records after the header
	Upserts int // ACTION=Y
	Removes int // ACTION=R
	Ignored int // any other ACTION, and R rows under mirror
}

// Rows is the number of rows in all files.
func (r *Result) Rows() int {
	n := 0
	for _, f := range r.Files {
		n += f.Rows
	}
	return n
}

// ValidateZip checks the zip archive at path (format.md §5). The error is
// only for failing to read the file at all; everything wrong with its
// content is a finding.
func ValidateZip(path string, opt Options) (*Result, error) {
	src, err := openZip(path, opt.Limits)
	if err != nil {
		return nil, err
	}
	defer src.close()
	return validate(src, opt)
}

// ValidateZipReader checks a zip archive held in r (size bytes), as
// ValidateZip does; the service uses it on uploads.
func ValidateZipReader(r io.ReaderAt, size int64, opt Options) (*Result, error) {
	return validate(readZip(r, size, opt.Limits), opt)
}

// ValidateDir checks an archive folder: manifest.xml and DS_*.csv files.
func ValidateDir(dir string, opt Options) (*Result, error) {
	src, err := openDir(dir)
	if err != nil {
		return nil, err
	}
	defer src.close()
	return validate(src, opt)
}

type validator struct {
	opt     Options
	res     *Result
	seed    maphash.Seed
	version Version // empty: unknown, check files by name only
	mirror  bool
	sets    map[string]*keySet
	hasher  fieldHasher // for the checking goroutine's own hashing (list items)
	empty   uint64      // hash of an empty value
}

func validate(src *source, opt Options) (*Result, error) {
	v := &validator{opt: opt, res: &Result{}, seed: maphash.MakeSeed(), sets: map[string]*keySet{}}
	v.hasher.seed = v.seed
	v.empty = maphash.Bytes(v.seed, nil)
	for _, f := range src.findings {
		v.emit(f)
	}
	src.findings = nil
	fs := src.resolve()
	for _, f := range src.findings {
		v.emit(f)
	}
	if len(src.entries) == 0 && v.res.Errors > 0 {
		return v.res, nil // not a zip at all
	}
	if fs.manifest == nil {
		v.emit(Finding{File: ManifestName, Severity: Error, Code: CodeMissingManifest,
			Message: "the archive has no manifest.xml; add one (epic template writes one) naming autoDataSyncVersion"})
	} else {
		m, findings := v.readManifest(fs.manifest)
		for _, f := range findings {
			f.File = fs.manifest.name
			v.emit(f)
		}
		v.res.Manifest = m
		if _, err := ParseVersion(string(m.Version)); err == nil {
			v.version = m.Version
		} else {
			v.res.Manifest.Version = ""
		}
		v.mirror = m.Mirror
	}
	if v.version != "" {
		for _, l := range Layouts(v.version) {
			if fs.byLayout[l] == nil {
				v.emit(Finding{File: l.Name, Severity: Error, Code: CodeMissingFile,
					Message: fmt.Sprintf("version %s needs %s; add it (a header line and no rows is a valid blank file)", v.version, l.Name)})
			}
		}
	}
	for _, l := range fs.order {
		name := fs.names[l]
		if v.version != "" && !v.version.atLeast(l.Since) {
			v.emit(Finding{File: name, Severity: Error, Code: CodeFileNotInVersion,
				Message: fmt.Sprintf("%s exists from version %s on, but the manifest says %s; raise autoDataSyncVersion or remove the file", l.Name, l.Since, v.version)})
			continue
		}
		v.readFile(l, name, fs.byLayout[l])
		// Free the key sets no later file needs.
		for name := range v.sets {
			if lastUse[name] <= layoutIndex(l) {
				delete(v.sets, name)
			}
		}
	}
	return v.res, nil
}

// lastUse maps each key set to the last layout that reads it: the
// validator drops a set once that file is done, so the keys of custom
// values, say, do not outlive their file.
var lastUse = func() map[string]int {
	m := map[string]int{}
	for i := range layouts {
		l := &layouts[i]
		for _, u := range l.Unique {
			name := u.Scope
			if name == "" {
				name = setName(l.Name, u.Columns)
			}
			m[name] = i
		}
		for _, c := range l.Columns {
			for _, r := range []*Ref{c.Ref, c.NotIn} {
				if r != nil {
					m[setName(r.File, []string{r.Column})] = i
				}
			}
		}
		if l.Name == FileMemberships {
			for _, t := range layouts {
				if t.DeviceType != "" {
					m[setName(t.Name, []string{"EXTERNAL_KEY"})] = i
				}
			}
			for _, f := range memberFiles {
				m[setName(f, []string{"EXTERNAL_KEY"})] = i
			}
		}
	}
	return m
}()

func layoutIndex(l *Layout) int {
	for i := range layouts {
		if &layouts[i] == l {
			return i
		}
	}
	return -1
}

func (v *validator) readManifest(e *entry) (Manifest, []Finding) {
	rc, err := e.open()
	if err != nil {
		return Manifest{}, []Finding{{Severity: Error, Code: CodeZipCorrupt, Message: fmt.Sprintf("cannot read the manifest: %v", err)}}
	}
	defer rc.Close()
	return ParseManifest(rc)
}

func (v *validator) emit(f Finding) {
	if f.Severity == Error {
		v.res.Errors++
	} else {
		v.res.Warnings++
	}
	if v.opt.Sink != nil {
		v.opt.Sink(f)
	}
}

// set returns the key set named name, creating it.
func (v *validator) set(name string) *keySet {
	s := v.sets[name]
	if s == nil {
		s = newKeySet()
		v.sets[name] = s
	}
	return s
}

func setName(file string, cols []string) string { return file + ":" + strings.Join(cols, ",") }

// fieldHasher hashes values for the key sets. It runs on the reading
// goroutine, so checking only looks hashes up: the hash of a value is
// that of its trimmed bytes, lower-cased first in columns that Fold.
type fieldHasher struct {
	seed    maphash.Seed
	want    []bool // by field index: the field takes part in a key or reference
	fold    []bool // by field index
	scratch []byte
}

func (h *fieldHasher) hash(b []byte, fold bool) uint64 {
	b = trim(b)
	if fold {
		b, h.scratch = lower(b, h.scratch)
	}
	return maphash.Bytes(h.seed, b)
}

// combine makes one hash of the hashes of a key's parts.
func combine(parts []uint64) uint64 {
	h := uint64(len(parts))
	for _, p := range parts {
		h = (h ^ p) * 0x9E3779B97F4A7C15
		h ^= h >> 31
	}
	return h
}

// lower returns b in lower case, using scratch for ASCII (the common case).
func lower(b, scratch []byte) ([]byte, []byte) {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return bytes.ToLower(b), scratch
		}
	}
	scratch = scratch[:0]
	for _, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		scratch = append(scratch, c)
	}
	return scratch, scratch
}

// fileCheck is the state of reading one file.
type fileCheck struct {
	v      *validator
	l      *Layout
	name   string
	res    *FileResult
	fields []int // layout column index -> field index, -1 when missing
	nf     int   // fields in the header
	action int   // layout index of ACTION, -1 if none
	// identity: layout indexes of the columns an R row must carry.
	identity []int
	uniques  []boundUnique
	refs     []boundRef
	pending  []pendingRef
	vals     [][]byte
	ok       []bool
	parts    [][]byte // scratch for key parts
	partHash []uint64 // scratch for the hashes of key parts
	hashes   []uint64 // by field index: the hashes of the current row's fields
	fieldBuf [][]byte // the fields of the current row
	utf8OK   bool     // every field of the current row is valid UTF-8
	// memberships only
	memberType, memberSub, memberKey int
}

type boundUnique struct {
	u    *Unique
	name string // of the set in validator.sets
	cols []int
	set  *keySet
	req  bool // every column of the key is required
}

type boundRef struct {
	col  int
	set  *keySet // nil: the target file is not in the archive
	self bool    // refers to its own file: may be a forward reference
	not  bool    // NotIn: the value must be absent from set
	ref  *Ref
}

type pendingRef struct {
	hash  uint64
	line  int
	col   int
	value string
}

func (v *validator) readFile(l *Layout, name string, e *entry) {
	v.res.Files = append(v.res.Files, FileResult{Name: name, Layout: l})
	fc := &fileCheck{v: v, l: l, name: name, res: &v.res.Files[len(v.res.Files)-1]}
	rc, err := e.open()
	if err != nil {
		msg := fmt.Sprintf("cannot read the entry: %v", err)
		if errors.Is(err, zip.ErrAlgorithm) {
			msg = "the entry is compressed with a method epic cannot read; zip it with deflate (the default of zip tools)"
		}
		v.emit(Finding{File: name, Severity: Error, Code: CodeZipCorrupt, Message: msg})
		return
	}
	defer rc.Close()
	r := NewReader(rc)
	if !r.Next() {
		switch {
		case r.UTF16():
			fc.fileError(CodeInvalidUTF8, "the file is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8")
		case r.Err() != nil:
			fc.readError(r.Err())
		default:
			fc.fileError(CodeEmptyFile, "the file is empty; even a blank file needs its header line: "+strings.Join(l.ColumnNames(), ","))
		}
		return
	}
	if r.BOM() {
		v.emit(Finding{File: name, Line: 1, Severity: Warning, Code: CodeBOM, Message: "the file starts with a UTF-8 byte-order mark; it was stripped"})
	}
	fc.bind(r.Line(), r.Fields())
	// Reading (inflating and parsing) runs beside checking, one core each.
	batches, free := make(chan *recBatch, 4), make(chan *recBatch, 6)
	go readBatches(r, fc.fieldHasher(), batches, free)
	first := true
	for b := range batches {
		if first {
			fc.presize(b, e.sizeHint)
			first = false
		}
		for i := range b.recs {
			rec := &b.recs[i]
			fc.fieldBuf = fc.fieldBuf[:0]
			start := int32(0)
			if rec.first > 0 {
				start = b.ends[rec.first-1]
			}
			for _, end := range b.ends[rec.first : rec.first+rec.n] {
				fc.fieldBuf = append(fc.fieldBuf, b.data[start:end])
				start = end
			}
			var issue *QuoteIssue
			if rec.hasIssue {
				issue = &rec.issue
			}
			fc.hashes = b.hashes[rec.first : rec.first+rec.n]
			fc.res.Rows++
			fc.utf8OK = rec.utf8OK
			fc.row(rec.line, fc.fieldBuf, issue)
		}
		select {
		case free <- b:
		default:
		}
	}
	if err := r.Err(); err != nil {
		fc.readError(err)
		// The file was not read whole: its keys are incomplete, and
		// references to it would only repeat that.
		for _, bu := range fc.uniques {
			delete(v.sets, bu.name)
		}
		return
	}
	fc.finish()
}

func (fc *fileCheck) fileError(code Code, msg string) {
	fc.v.emit(Finding{File: fc.name, Severity: Error, Code: code, Message: msg})
}

func (fc *fileCheck) readError(err error) {
	switch {
	case errors.Is(err, ErrEntryTooLarge):
		fc.fileError(CodeEntryTooLarge, fmt.Sprintf("reading stopped: %v; split the export or raise the limit", err))
	case errors.Is(err, ErrRatio):
		fc.fileError(CodeCompressionRatio, fmt.Sprintf("reading stopped: %v; this looks like a zip bomb", err))
	default:
		fc.fileError(CodeZipCorrupt, fmt.Sprintf("reading stopped, the entry is damaged or truncated: %v", err))
	}
}

func (fc *fileCheck) find(line int, col, value string, sev Severity, code Code, msg string) {
	fc.v.emit(Finding{File: fc.name, Line: line, Column: col, Value: value, Severity: sev, Code: code, Message: msg})
}

// bind matches the header to the layout by name.
func (fc *fileCheck) bind(line int, header [][]byte) {
	l := fc.l
	fc.nf = len(header)
	fc.fields = make([]int, len(l.Columns))
	for i := range fc.fields {
		fc.fields[i] = -1
	}
	for fi, h := range header {
		name := string(trim(h))
		ci := -1
		for i, c := range l.Columns {
			if strings.EqualFold(c.Name, name) {
				ci = i
				break
			}
		}
		switch {
		case ci < 0:
			fc.find(line, name, "", Error, CodeUnknownColumn,
				fmt.Sprintf("%s has no column %q; its columns are %s", l.Name, name, strings.Join(l.ColumnNames(), ",")))
		case fc.fields[ci] >= 0:
			fc.find(line, name, "", Error, CodeDuplicateColumn,
				fmt.Sprintf("column %s appears twice in the header (fields %d and %d); keep one", l.Columns[ci].Name, fc.fields[ci]+1, fi+1))
		default:
			fc.fields[ci] = fi
		}
	}
	for ci, fi := range fc.fields {
		if fi < 0 {
			fc.find(line, l.Columns[ci].Name, "", Error, CodeMissingColumn,
				fmt.Sprintf("the header lacks column %s; every column must be present, optional ones too (with empty values)", l.Columns[ci].Name))
		}
	}
	fc.vals = make([][]byte, len(l.Columns))
	fc.parts = make([][]byte, len(l.Columns))
	fc.partHash = make([]uint64, len(l.Columns))
	fc.ok = make([]bool, len(l.Columns))
	fc.action = fc.index("ACTION")
	fc.memberType, fc.memberSub, fc.memberKey = fc.index("MEMBER_TYPE"), fc.index("MEMBER_SUB_TYPE"), fc.index("MEMBER_KEY")
	v := fc.v
	for ui := range l.Unique {
		u := &l.Unique[ui]
		bu := boundUnique{u: u, req: true}
		for _, name := range u.Columns {
			ci := fc.index(name)
			bu.cols = append(bu.cols, ci)
			bu.req = bu.req && l.Columns[ci].Required
		}
		sn := u.Scope
		if sn == "" {
			sn = setName(l.Name, u.Columns)
		}
		bu.name, bu.set = sn, v.set(sn)
		fc.uniques = append(fc.uniques, bu)
	}
	if len(l.Unique) > 0 {
		fc.identity = fc.uniques[0].cols
	}
	for ci := range l.Columns {
		c := &l.Columns[ci]
		for _, r := range []*Ref{c.Ref, c.NotIn} {
			if r == nil {
				continue
			}
			br := boundRef{col: ci, self: r.File == l.Name, not: r == c.NotIn, ref: r}
			br.set = v.sets[setName(r.File, []string{r.Column})]
			fc.refs = append(fc.refs, br)
		}
	}
}

func (fc *fileCheck) index(name string) int {
	for i, c := range fc.l.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// row checks one record.
func (fc *fileCheck) row(line int, fields [][]byte, is *QuoteIssue) {
	if is != nil {
		col := fc.columnOfField(is.Field)
		if is.Kind == IssueUnterminated {
			fc.find(line, col, "", Error, CodeUnterminatedQuote,
				fmt.Sprintf("the quote opened at line %d column %d is never closed; the row is skipped and reading resumed at line %d. Close the quote, or double a quote that is part of the value (\"\")",
					is.Line, is.Column, line+1))
			fc.res.Ignored++
			return
		}
		fc.find(line, col, "", Error, CodeBadQuote,
			fmt.Sprintf("stray quote at line %d column %d; quote the whole value and double quotes inside it: \"say \"\"hi\"\"\"", is.Line, is.Column))
	}
	if len(fields) != fc.nf {
		fc.find(line, "", "", Error, CodeFieldCount,
			fmt.Sprintf("the row has %d fields but the header has %d; a value with a comma must be quoted", len(fields), fc.nf))
		fc.res.Ignored++
		return
	}
	l := fc.l
	for ci, fi := range fc.fields {
		if fi < 0 {
			fc.vals[ci] = nil
		} else {
			fc.vals[ci] = trim(fields[fi])
		}
		fc.ok[ci] = false
	}
	remove := false
	if fc.action >= 0 {
		a := fc.vals[fc.action]
		switch {
		case len(a) == 1 && a[0] == 'Y':
			fc.res.Upserts++
		case len(a) == 1 && a[0] == 'R' && fc.v.mirror:
			fc.res.Ignored++
			fc.find(line, "ACTION", "R", Warning, CodeIgnoredRow, "the manifest sets mirror=Y, which ignores ACTION=R rows (mirror removes what the archive leaves out)")
			return
		case len(a) == 1 && a[0] == 'R':
			fc.res.Removes++
			remove = true
		default:
			fc.res.Ignored++
			fc.find(line, "ACTION", shownValue(a), Warning, CodeIgnoredRow,
				fmt.Sprintf("ACTION is %q, so the row is ignored; write Y to add or update, R to remove (upper case)", shownValue(a)))
			return
		}
	}
	if remove {
		// A removal needs only the row's identity.
		for _, ci := range fc.identity {
			fc.ok[ci] = fc.value(line, &l.Columns[ci], fc.vals[ci])
		}
	} else {
		for ci := range l.Columns {
			if fc.fields[ci] >= 0 {
				fc.ok[ci] = fc.value(line, &l.Columns[ci], fc.vals[ci])
			}
		}
	}
	if fc.memberType >= 0 {
		fc.membership(line, remove)
	}
	fc.keys(line, remove)
	if !remove {
		fc.references(line)
	}
}

func (fc *fileCheck) columnOfField(fi int) string {
	for ci, f := range fc.fields {
		if f == fi {
			return fc.l.Columns[ci].Name
		}
	}
	return ""
}

// membership checks the MEMBER_TYPE/MEMBER_SUB_TYPE pair and resolves
// MEMBER_KEY in the file its type names.
func (fc *fileCheck) membership(line int, remove bool) {
	if !fc.ok[fc.memberType] {
		return
	}
	t := string(fc.vals[fc.memberType])
	if t != "DEVICE" {
		fc.vals[fc.memberSub], fc.ok[fc.memberSub] = nil, false // ignored for other types
		if !remove {
			fc.resolve(line, fc.memberKey, memberFiles[t])
		}
		return
	}
	if !fc.ok[fc.memberSub] {
		if len(fc.vals[fc.memberSub]) == 0 {
			fc.find(line, "MEMBER_SUB_TYPE", "", Error, CodeRequired,
				"MEMBER_TYPE is DEVICE, so MEMBER_SUB_TYPE must name the device file: "+strings.Join(fc.deviceTypes(), ", "))
		}
		return
	}
	if !remove {
		fc.resolve(line, fc.memberKey, deviceLayout(string(fc.vals[fc.memberSub])).Name)
	}
}

func (fc *fileCheck) deviceTypes() []string {
	var out []string
	for _, l := range Layouts(fc.version()) {
		if l.DeviceType != "" {
			out = append(out, l.DeviceType)
		}
	}
	return out
}

func (fc *fileCheck) version() Version {
	if fc.v.version == "" {
		return Latest
	}
	return fc.v.version
}

// resolve looks the value of column ci up among the EXTERNAL_KEYs of file.
func (fc *fileCheck) resolve(line, ci int, file string) {
	if !fc.ok[ci] {
		return
	}
	set := fc.v.sets[setName(file, []string{"EXTERNAL_KEY"})]
	fc.lookup(line, ci, fc.vals[ci], fc.hashOf(ci), boundRef{col: ci, set: set, ref: &Ref{File: file, Column: "EXTERNAL_KEY"}})
}

// hashOf returns the hash of column ci's value in the current row.
func (fc *fileCheck) hashOf(ci int) uint64 {
	if len(fc.vals[ci]) == 0 {
		return fc.v.empty
	}
	return fc.hashes[fc.fields[ci]]
}

// fieldHasher returns the hasher the reading goroutine uses for this
// file: it hashes the fields of key columns and of single-value references.
func (fc *fileCheck) fieldHasher() *fieldHasher {
	h := &fieldHasher{seed: fc.v.seed, want: make([]bool, fc.nf), fold: make([]bool, fc.nf)}
	use := func(ci int) {
		if fi := fc.fields[ci]; fi >= 0 {
			h.want[fi], h.fold[fi] = true, fc.l.Columns[ci].Fold
		}
	}
	for _, bu := range fc.uniques {
		for _, ci := range bu.cols {
			use(ci)
		}
	}
	for _, br := range fc.refs {
		use(br.col)
	}
	if fc.memberKey >= 0 {
		use(fc.memberKey)
	}
	return h
}

// keys checks and records the row's uniqueness constraints.
func (fc *fileCheck) keys(line int, remove bool) {
	for i := range fc.uniques {
		bu := &fc.uniques[i]
		if remove && i > 0 {
			break // a removal is identified by its first key only
		}
		parts, hashes := fc.parts[:len(bu.cols)], fc.partHash[:len(bu.cols)]
		complete := true
		for j, ci := range bu.cols {
			if !fc.ok[ci] && (fc.l.Columns[ci].Required || len(fc.vals[ci]) > 0) {
				complete = false
			}
			parts[j], hashes[j] = fc.vals[ci], fc.hashOf(ci)
		}
		if !complete {
			continue
		}
		h := hashes[0]
		if len(hashes) > 1 {
			h = combine(hashes)
		}
		mark := uint32(line)
		if remove {
			mark |= removedBit
		}
		if prev, dup := bu.set.add(h, mark); dup {
			fc.duplicate(line, bu, parts, prev)
		}
	}
}

func (fc *fileCheck) duplicate(line int, bu *boundUnique, parts [][]byte, prev uint32) {
	where := fmt.Sprintf("line %d", prev&^removedBit)
	if bu.u.Scope != "" {
		where = "an earlier row (line " + strconv.Itoa(int(prev&^removedBit)) + " of its file)"
	}
	var vals []string
	for _, p := range parts {
		vals = append(vals, shownValue(p))
	}
	value := strings.Join(vals, "|")
	col := strings.Join(bu.u.Columns, "+")
	switch bu.u.Code {
	case CodeDuplicateKey:
		fc.find(line, col, value, Error, bu.u.Code, fmt.Sprintf("EXTERNAL_KEY %q was already used at %s; every row of a file needs its own key", value, where))
	case CodeDuplicateMembership:
		fc.find(line, col, value, Error, bu.u.Code, fmt.Sprintf("the same member is listed for this shift at %s; list each member once", where))
	default:
		fc.find(line, col, value, Error, bu.u.Code, fmt.Sprintf("%s %q is already used at %s; it must be unique (names compare without regard to case)", col, value, where))
	}
}

// references checks every reference of an upsert row.
func (fc *fileCheck) references(line int) {
	for _, br := range fc.refs {
		if !fc.ok[br.col] {
			continue
		}
		val := fc.vals[br.col]
		c := &fc.l.Columns[br.col]
		if c.Kind == List || c.Kind == ClearableList {
			if string(val) == clearList {
				continue
			}
			for item := range bytes.SplitSeq(val, []byte(",")) {
				fc.lookup(line, br.col, trim(item), fc.v.hasher.hash(item, c.Fold), br)
			}
			continue
		}
		fc.lookup(line, br.col, val, fc.hashOf(br.col), br)
	}
}

const clearList = "<<<NONE>>>"

func (fc *fileCheck) lookup(line, ci int, val []byte, h uint64, br boundRef) {
	col := fc.l.Columns[ci].Name
	if br.set == nil {
		// The target file is missing (reported already): only the service
		// can resolve the reference.
		return
	}
	mark, found := br.set.get(h)
	switch {
	case br.not:
		if found {
			fc.find(line, col, shownValue(val), Error, CodeNameCollision,
				fmt.Sprintf("%s %q is also the %s of %s line %d; people and groups share one name space, rename one", col, shownValue(val), br.ref.Column, br.ref.File, mark&^removedBit))
		}
	case !found && br.self:
		fc.pending = append(fc.pending, pendingRef{hash: h, line: line, col: ci, value: string(val)})
	case !found:
		fc.unknownRef(line, col, string(val), br.ref)
	case mark&removedBit != 0:
		fc.find(line, col, shownValue(val), Warning, CodeRemovedReference,
			fmt.Sprintf("%s %q refers to the row that %s line %d removes (ACTION=R); this row will fail", col, shownValue(val), br.ref.File, mark&^removedBit))
	}
}

func (fc *fileCheck) unknownRef(line int, col, val string, ref *Ref) {
	fc.find(line, col, shownValue([]byte(val)), Warning, CodeUnknownReference,
		fmt.Sprintf("%s %q is not a %s value in %s; the service will look for it in the company and fail the row if it is not there", col, shownValue([]byte(val)), ref.Column, ref.File))
}

// finish resolves forward references within the file.
func (fc *fileCheck) finish() {
	for _, p := range fc.pending {
		c := &fc.l.Columns[p.col]
		set := fc.v.sets[setName(c.Ref.File, []string{c.Ref.Column})]
		if _, ok := set.get(p.hash); !ok {
			fc.unknownRef(p.line, c.Name, p.value, c.Ref)
		}
	}
	fc.pending = nil
}

// presize reserves room in the file's key sets for the rows the file
// probably has, judged from the first batch and the entry's size, so the
// sets do not rehash as they fill.
func (fc *fileCheck) presize(b *recBatch, size int64) {
	if len(b.recs) == 0 || size <= 0 {
		return
	}
	// Bytes per row: field bytes, one separator a field, a line break.
	perRow := (len(b.data) + len(b.ends) + 2*len(b.recs)) / len(b.recs)
	rows := int(size / int64(max(perRow, 1)))
	for _, bu := range fc.uniques {
		bu.set.reserve(rows)
	}
}

// recBatch carries records from the reading goroutine to the checker.
// Field bytes are copied into data, so the reader can move on.
type recBatch struct {
	data   []byte
	ends   []int32  // end offset in data of each field, all records in turn
	hashes []uint64 // hash of each field that takes part in a key, else 0
	recs   []batchRec
}

type batchRec struct {
	line     int
	first, n int32 // the record's fields are ends[first : first+n]
	issue    QuoteIssue
	hasIssue bool
	utf8OK   bool
}

const (
	batchRecords = 2048
	batchBytes   = 1 << 20
)

// readBatches reads every record of r into batches, taking empty ones
// from free when there are any, and closes out at the end.
func readBatches(r *Reader, h *fieldHasher, out chan<- *recBatch, free chan *recBatch) {
	defer close(out)
	get := func() *recBatch {
		select {
		case b := <-free:
			b.data, b.ends, b.hashes, b.recs = b.data[:0], b.ends[:0], b.hashes[:0], b.recs[:0]
			return b
		default:
			return &recBatch{}
		}
	}
	b := get()
	for r.Next() {
		rec := batchRec{line: r.Line(), first: int32(len(b.ends)), n: int32(len(r.Fields()))}
		if is := r.Issue(); is != nil {
			rec.issue, rec.hasIssue = *is, true
		}
		data, ends := r.record()
		base := len(b.data)
		b.data = append(b.data, data...)
		start := 0
		for fi, e := range ends {
			b.ends = append(b.ends, int32(base+e))
			var fh uint64
			if fi < len(h.want) && h.want[fi] {
				fh = h.hash(data[start:e], h.fold[fi])
			}
			b.hashes = append(b.hashes, fh)
			start = e
		}
		// The whole record is valid UTF-8 and no field starts inside a
		// character: then every field is valid.
		rec.utf8OK = utf8.Valid(data)
		for _, e := range ends[:max(len(ends)-1, 0)] {
			if rec.utf8OK && e < len(data) && data[e]&0xC0 == 0x80 {
				rec.utf8OK = false
			}
		}
		b.recs = append(b.recs, rec)
		if len(b.recs) >= batchRecords || len(b.data) >= batchBytes {
			out <- b
			b = get()
		}
	}
	if len(b.recs) > 0 {
		out <- b
	}
}

// trim removes surrounding spaces and tabs.
func trim(b []byte) []byte {
	i, j := 0, len(b)
	for i < j && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	for j > i && (b[j-1] == ' ' || b[j-1] == '\t') {
		j--
	}
	return b[i:j]
}
