package cli

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/epicsync/epic/internal/archive"
)

// shownFindings is how many findings the terminal table shows.
const shownFindings = 20

// findingsFile streams every finding to a CSV file and keeps a summary
// for the terminal, so memory does not grow with the number of findings.
type findingsFile struct {
	path    string
	f       *os.File
	bw      *bufio.Writer
	cw      *csv.Writer
	summary archive.Summary
}

// findingsPathFor names the findings file beside an archive:
// hr.zip -> hr.findings.csv.
func findingsPathFor(archivePath string) string {
	base := strings.TrimSuffix(archivePath, "/")
	if ext := strings.ToLower(base[strings.LastIndex(base, ".")+1:]); ext == "zip" {
		base = base[:len(base)-4]
	}
	return base + ".findings.csv"
}

func createFindingsFile(path string) (*findingsFile, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create findings file: %w", err)
	}
	bw := bufio.NewWriterSize(f, 256<<10)
	ff := &findingsFile{path: path, f: f, bw: bw, cw: csv.NewWriter(bw), summary: archive.Summary{Keep: shownFindings}}
	ff.cw.Write([]string{"FILE", "LINE", "COLUMN", "VALUE", "SEVERITY", "CODE", "MESSAGE"})
	return ff, nil
}

// add is the validator's sink.
func (ff *findingsFile) add(f archive.Finding) {
	ff.summary.Add(f)
	line := ""
	if f.Line > 0 {
		line = strconv.Itoa(f.Line)
	}
	ff.cw.Write([]string{f.File, line, f.Column, f.Value, string(f.Severity), string(f.Code), f.Message})
}

func (ff *findingsFile) close() error {
	ff.cw.Flush()
	err := ff.cw.Error()
	if ferr := ff.bw.Flush(); err == nil {
		err = ferr
	}
	if cerr := ff.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write findings file %s: %w", ff.path, err)
	}
	return nil
}

// printFindings prints the short table and the count line.
func printFindings(w io.Writer, s *archive.Summary, rows int, path string) {
	if s.Total() > 0 {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "FILE\tLINE\tCOLUMN\tSEVERITY\tCODE\tMESSAGE")
		for _, f := range s.First {
			line := "-"
			if f.Line > 0 {
				line = strconv.Itoa(f.Line)
			}
			msg := f.Message
			if f.Value != "" {
				msg = fmt.Sprintf("%s (value: %s)", msg, clip(f.Value, 40))
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", orDash(f.File), line, orDash(f.Column), f.Severity, f.Code, msg)
		}
		tw.Flush()
		if more := s.Total() - len(s.First); more > 0 {
			fmt.Fprintf(w, "... and %d more\n", more)
		}
	}
	fmt.Fprintf(w, "%s, %s in %s; findings: %s\n",
		plural(s.Errors, "error"), plural(s.Warnings, "warning"), plural(rows, "row"), path)
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return strconv.Quote(s)
	}
	r := []rune(s)
	return strconv.Quote(string(r[:n])) + "…"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
