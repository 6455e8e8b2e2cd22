package archive

import (
	"archive/zip"
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Writer writes an archive, as a folder or as a zip. Files are written one
// at a time: close each FileWriter before creating the next.
type Writer struct {
	version Version
	create  func(name string) (io.WriteCloser, error)
	close   func() error
	open    bool
}

// NewDirWriter writes an archive folder at dir, creating it if needed.
func NewDirWriter(dir string, v Version) (*Writer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return &Writer{
		version: v,
		create: func(name string) (io.WriteCloser, error) {
			return os.Create(filepath.Join(dir, name))
		},
		close: func() error { return nil },
	}, nil
}

// NewZipWriter writes a zip archive to w. Close finishes the zip but does
// not close w.
func NewZipWriter(w io.Writer, v Version) *Writer {
	zw := zip.NewWriter(w)
	return &Writer{
		version: v,
		create: func(name string) (io.WriteCloser, error) {
			fw, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate})
			if err != nil {
				return nil, err
			}
			return nopCloser{fw}, nil
		},
		close: zw.Close,
	}
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// Version is the version of the archive being written.
func (w *Writer) Version() Version { return w.version }

// WriteManifest writes manifest.xml with m's options and the writer's version.
func (w *Writer) WriteManifest(m Manifest) error {
	m.Version = w.version
	f, err := w.createFile(ManifestName)
	if err != nil {
		return err
	}
	if _, err := f.Write(m.Marshal()); err != nil {
		f.Close()
		return err
	}
	return w.closeFile(f)
}

// Create starts the file of layout l and writes its header.
func (w *Writer) Create(l *Layout) (*FileWriter, error) {
	if !w.version.atLeast(l.Since) {
		return nil, fmt.Errorf("%s is not part of version %s", l.Name, w.version)
	}
	f, err := w.createFile(l.Name)
	if err != nil {
		return nil, err
	}
	fw := &FileWriter{w: w, f: f, bw: bufio.NewWriterSize(f, 64<<10), Layout: l}
	if err := fw.Write(l.ColumnNames()); err != nil {
		f.Close()
		return nil, err
	}
	return fw, nil
}

// Copy writes the file name of the archive from r, unchanged.
func (w *Writer) Copy(name string, r io.Reader) error {
	f, err := w.createFile(name)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return w.closeFile(f)
}

func (w *Writer) createFile(name string) (io.WriteCloser, error) {
	if w.open {
		return nil, errors.New("archive writer: the previous file is still open")
	}
	f, err := w.create(name)
	if err != nil {
		return nil, err
	}
	w.open = true
	return f, nil
}

func (w *Writer) closeFile(f io.Closer) error {
	w.open = false
	return f.Close()
}

// Close finishes the archive.
func (w *Writer) Close() error { return w.close() }

// FileWriter writes the rows of one file.
type FileWriter struct {
	Layout *Layout
	w      *Writer
	f      io.WriteCloser
	bw     *bufio.Writer
}

// Index returns the position of column name in a row, or panics: a writer
// naming a column its layout lacks is a programming error.
func (fw *FileWriter) Index(name string) int {
	for i, c := range fw.Layout.Columns {
		if c.Name == name {
			return i
		}
	}
	panic(fmt.Sprintf("%s has no column %s", fw.Layout.Name, name))
}

// Row returns an empty row to fill by Index and pass to Write.
func (fw *FileWriter) Row() []string { return make([]string, len(fw.Layout.Columns)) }

// Write writes one record, quoting values as RFC 4180 needs, ending it
// with CR LF.
func (fw *FileWriter) Write(values []string) error {
	for i, v := range values {
		if i > 0 {
			fw.bw.WriteByte(',')
		}
		if strings.ContainsAny(v, ",\"\r\n") {
			fw.bw.WriteByte('"')
			fw.bw.WriteString(strings.ReplaceAll(v, `"`, `""`))
			fw.bw.WriteByte('"')
		} else {
			fw.bw.WriteString(v)
		}
	}
	_, err := fw.bw.WriteString("\r\n")
	return err
}

// Close flushes and ends the file.
func (fw *FileWriter) Close() error {
	err := fw.bw.Flush()
	if cerr := fw.w.closeFile(fw.f); err == nil {
		err = cerr
	}
	return err
}

// WriteTemplate writes a blank archive of version v to w: the manifest
// and every file of the version with its header and no rows.
func WriteTemplate(w *Writer, m Manifest) error {
	if err := w.WriteManifest(m); err != nil {
		return err
	}
	for _, l := range Layouts(w.version) {
		fw, err := w.Create(l)
		if err != nil {
			return err
		}
		if err := fw.Close(); err != nil {
			return err
		}
	}
	return nil
}

// PackDir writes the archive folder dir into w: manifest.xml first, then
// every DS file of the writer's version that the folder holds, named as the
// spec names them. Other files are left out (validation warns of them).
func PackDir(dir string, w *Writer) error {
	src, err := openDir(dir)
	if err != nil {
		return err
	}
	fs := src.resolve()
	if fs.manifest == nil {
		return fmt.Errorf("%s has no %s", dir, ManifestName)
	}
	copyEntry := func(e *entry, name string) error {
		rc, err := e.open()
		if err != nil {
			return err
		}
		defer rc.Close()
		if err := w.Copy(name, rc); err != nil {
			return fmt.Errorf("pack %s: %w", e.name, err)
		}
		return nil
	}
	if err := copyEntry(fs.manifest, ManifestName); err != nil {
		return err
	}
	for _, l := range fs.order {
		if w.version.atLeast(l.Since) {
			if err := copyEntry(fs.byLayout[l], l.Name); err != nil {
				return err
			}
		}
	}
	return nil
}
