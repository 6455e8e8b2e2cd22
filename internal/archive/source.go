package archive

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Limits bound what reading an archive may cost. They are enforced on the
// bytes actually read, never by trusting sizes written in the zip.
type Limits struct {
	MaxArchiveBytes int64 // size of the zip file
	MaxEntryBytes   int64 // uncompressed size of one entry
	// MaxRatio bounds uncompressed/compressed bytes of an entry (zip bombs).
	// Entries under ratioFloor uncompressed bytes are exempt: tiny files
	// compress far better than real data.
	MaxRatio int64
}

// DefaultLimits are the limits of the spec: a 150 MiB archive, 1 GiB per
// entry, a compression ratio of 100.
func DefaultLimits() Limits {
	return Limits{MaxArchiveBytes: 150 << 20, MaxEntryBytes: 1 << 30, MaxRatio: 100}
}

const ratioFloor = 1 << 20

// Sentinel errors of entry reading, reported as findings.
var (
	ErrEntryTooLarge = errors.New("entry too large")
	ErrRatio         = errors.New("compression ratio too high")
)

// entry is one file of an archive, zip entry or file in a folder.
type entry struct {
	name string // path inside the archive, relative to its root
	open func() (io.ReadCloser, error)
	// sizeHint estimates the uncompressed size, to presize key sets. It is
	// never trusted as a limit: a zip's claim is capped by its compressed
	// size times a typical CSV ratio.
	sizeHint int64
}

// typicalRatio is about how well CSV compresses; a zip entry claiming more
// than this many times its compressed size is sized by the latter.
const typicalRatio = 20

// source is an archive's entries, found and checked at the zip level.
type source struct {
	entries  []entry
	findings []Finding
	close    func() error
}

// openZip opens the zip at path. Problems with the zip itself become
// findings; the returned error is only for failures to read the file at all.
func openZip(name string, lim Limits) (*source, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if fi.IsDir() {
		f.Close()
		return nil, fmt.Errorf("%s is a folder, not a zip file (use epic pack to zip a folder)", name)
	}
	src := readZip(f, fi.Size(), lim)
	src.close = f.Close
	return src, nil
}

// readZip lists the entries of the zip in r. Problems with the zip itself
// become findings.
func readZip(r io.ReaderAt, size int64, lim Limits) *source {
	src := &source{close: func() error { return nil }}
	fail := func(code Code, msg string) *source {
		src.findings = append(src.findings, Finding{Severity: Error, Code: code, Message: msg})
		return src
	}
	if lim.MaxArchiveBytes > 0 && size > lim.MaxArchiveBytes {
		return fail(CodeArchiveTooLarge, fmt.Sprintf("the archive is %d bytes; the limit is %d bytes", size, lim.MaxArchiveBytes))
	}
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		head := make([]byte, 4)
		n, _ := r.ReadAt(head, 0)
		if n == 4 && bytes.Equal(head, []byte("PK\x03\x04")) {
			return fail(CodeZipCorrupt, fmt.Sprintf("the zip is truncated or damaged (%v); upload it again or re-create it", err))
		}
		return fail(CodeNotZip, fmt.Sprintf("the file is not a zip archive (%v)", err))
	}
	for _, zf := range zr.File {
		if zf.FileInfo().IsDir() {
			continue
		}
		zf := zf
		hint := min(int64(zf.UncompressedSize64), int64(zf.CompressedSize64)*typicalRatio)
		src.entries = append(src.entries, entry{name: zf.Name, sizeHint: hint, open: func() (io.ReadCloser, error) {
			rc, err := zf.Open()
			if err != nil {
				return nil, err
			}
			return &limitedEntry{rc: rc, maxBytes: lim.MaxEntryBytes, maxRatio: lim.MaxRatio, compressed: int64(zf.CompressedSize64)}, nil
		}})
	}
	return src
}

// limitedEntry enforces the entry size and ratio limits while reading.
type limitedEntry struct {
	rc         io.ReadCloser
	read       int64
	maxBytes   int64
	maxRatio   int64
	compressed int64
}

func (l *limitedEntry) Read(p []byte) (int, error) {
	n, err := l.rc.Read(p)
	l.read += int64(n)
	if l.maxBytes > 0 && l.read > l.maxBytes {
		return n, fmt.Errorf("%w: more than %d bytes uncompressed", ErrEntryTooLarge, l.maxBytes)
	}
	if l.maxRatio > 0 && l.read > ratioFloor && l.read > l.maxRatio*l.compressed {
		return n, fmt.Errorf("%w: more than %d times its %d compressed bytes", ErrRatio, l.maxRatio, l.compressed)
	}
	return n, err
}

func (l *limitedEntry) Close() error { return l.rc.Close() }

// openDir lists the files of a folder as an archive's entries.
func openDir(dir string) (*source, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	src := &source{close: func() error { return nil }}
	for _, de := range des {
		if de.IsDir() {
			src.findings = append(src.findings, Finding{File: de.Name() + "/", Severity: Warning, Code: CodeUnknownEntry,
				Message: "folder is not part of an archive and is ignored"})
			continue
		}
		p := filepath.Join(dir, de.Name())
		var hint int64
		if fi, err := de.Info(); err == nil {
			hint = fi.Size()
		}
		src.entries = append(src.entries, entry{name: de.Name(), sizeHint: hint, open: func() (io.ReadCloser, error) { return os.Open(p) }})
	}
	return src, nil
}

// unsafeName reports whether an entry name could escape a folder if it were
// ever extracted: absolute, with .. segments, backslashes or a drive letter.
func unsafeName(name string) bool {
	if name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, `\`) ||
		(len(name) >= 2 && name[1] == ':') {
		return true
	}
	for _, seg := range strings.Split(name, "/") {
		if seg == ".." {
			return true
		}
	}
	return false
}

// junk reports entries that zip tools add on their own (macOS resource
// forks, Finder and Explorer metadata). They are ignored with a warning.
func junk(name string) bool {
	base := path.Base(name)
	return strings.HasPrefix(name, "__MACOSX/") || base == ".DS_Store" || base == "Thumbs.db" || base == "desktop.ini"
}

// files maps the archive's entries to layouts and the manifest, reporting
// unsafe, unknown and duplicate entries.
type files struct {
	manifest *entry
	byLayout map[*Layout]*entry
	names    map[*Layout]string // the entry name as written, for findings
	order    []*Layout
}

func (s *source) resolve() files {
	fs := files{byLayout: map[*Layout]*entry{}, names: map[*Layout]string{}}
	root := archiveRoot(s.entries)
	for i := range s.entries {
		e := &s.entries[i]
		warn := func(code Code, sev Severity, msg string) {
			s.findings = append(s.findings, Finding{File: e.name, Severity: sev, Code: code, Message: msg})
		}
		switch {
		case unsafeName(e.name):
			warn(CodeUnsafeEntryName, Error, "entry name is absolute or climbs out of the archive (.., \\ or a drive letter); it is not read")
			continue
		case junk(e.name):
			warn(CodeUnknownEntry, Warning, "entry added by a zip tool is ignored")
			continue
		case !strings.HasPrefix(e.name, root):
			warn(CodeUnknownEntry, Warning, fmt.Sprintf("entry is outside the archive's root folder %q and is ignored", root))
			continue
		}
		rel := strings.TrimPrefix(e.name, root)
		if strings.Contains(rel, "/") {
			warn(CodeUnknownEntry, Warning, "entry is in a sub-folder and is ignored; archive files stand at the root")
			continue
		}
		if strings.EqualFold(rel, ManifestName) {
			if fs.manifest != nil {
				warn(CodeDuplicateEntry, Error, fmt.Sprintf("second manifest (the first is %s); remove one", fs.manifest.name))
				continue
			}
			fs.manifest = e
			continue
		}
		l := LayoutOf(rel)
		if l == nil {
			warn(CodeUnknownEntry, Warning, "not a file of any archive version; it is ignored")
			continue
		}
		if first, dup := fs.byLayout[l]; dup {
			warn(CodeDuplicateEntry, Error, fmt.Sprintf("%s appears twice (also as %s; names match without regard to case); remove one", l.Name, first.name))
			continue
		}
		fs.byLayout[l] = e
		fs.names[l] = e.name
	}
	for i := range layouts {
		if _, ok := fs.byLayout[&layouts[i]]; ok {
			fs.order = append(fs.order, &layouts[i])
		}
	}
	return fs
}

// archiveRoot returns "" when the archive's files stand at its root, or
// "DIR/" when every entry (but zip-tool junk) is inside one top-level folder.
func archiveRoot(entries []entry) string {
	tops := map[string]bool{}
	for _, e := range entries {
		if junk(e.name) || unsafeName(e.name) {
			continue
		}
		i := strings.Index(e.name, "/")
		if i < 0 {
			return ""
		}
		tops[e.name[:i+1]] = true
	}
	if len(tops) != 1 {
		return ""
	}
	for t := range tops {
		return t
	}
	return ""
}
