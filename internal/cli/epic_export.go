package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/epicsync/epic/internal/hrcsv"
	"github.com/epicsync/epic/internal/ldap"
	"github.com/epicsync/epic/internal/mapping"
	"github.com/epicsync/epic/internal/source"
)

const exportExitHelp = `Exit codes:
  0    the archive folder was written
  4    refused by the source-health check ([health]: no people, fewer than
       min_people, or fewer than min_previous_percent of the previous
       successful export of the same source); nothing was written
  255  anything else: a bad configuration, a refused bind, a size or time
       limit, a lost connection, an unreadable file, a duplicate person;
       nothing was written`

const exportHealthHelp = `Source health: an export that comes back empty or cut short must never
become an archive (under mirror=Y it would remove everyone). Any error of
the source stops the export; then the [health] floor is checked:

  [health]
  min_people = 100            # fewer: refused
  min_previous_percent = 50   # fewer than 50 % of the last successful
                              # export of this source: refused (-1: off)
  state_file = "epic-state.json"  # default: beside the configuration file

The archive folder is written beside -o, validated, and only then moved
into place; an existing -o holding an earlier export is replaced.`

// epicExportCommand is `epic export`, the parent of one subcommand per
// source. Other sources' subcommands are added to it with AddCommand.
func epicExportCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "export",
		Short: "export people from a source (LDAP, HR CSV) into an archive folder",
		Long: `Export reads a source named by a section of epic.toml, maps it into the
DS files of an archive with the [mapping] section, checks the source's
health and writes an archive folder. Pack it with epic pack and upload it
with epic file.`,
		Args: cobra.NoArgs,
	}
	c.AddCommand(exportLDAPCommand(), exportCSVCommand(), exportSQLCommand())
	return c
}

// exportFlags are the flags every export subcommand takes.
type exportFlags struct {
	config, out string
	quiet       bool
}

func (f *exportFlags) add(c *cobra.Command) {
	c.Flags().StringVar(&f.config, "config", "epic.toml", "configuration file (TOML) with the source's section and [mapping]")
	c.Flags().StringVarP(&f.out, "output", "o", "", "archive folder to write (required)")
	c.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "print no progress and no summary")
}

func exportLDAPCommand() *cobra.Command {
	var f exportFlags
	c := &cobra.Command{
		Use:   "ldap --config epic.toml -o DIR",
		Short: "export people and groups of an LDAP directory or Active Directory",
		Long: `Export people (and groups) from an LDAP directory: [ldap] says where and
how to bind, [ldap.groups] which groups to export, [mapping] how an entry
becomes a person. Paged searches read directories larger than the
server's size limit; a size limit, a failed bind or a lost connection is
an error, never a smaller archive. Group members that are not exported
people or groups are listed.

  [ldap]
  url = "ldaps://dc1.example.com"   # or ldap:// with start_tls = true
  ca_file = "corp-ca.pem"
  bind_dn = "CN=epic,OU=Service,DC=example,DC=com"
  bind_password_file = "ldap-password.txt"
  base_dn = "OU=Staff,DC=example,DC=com"
  filter = "(&(objectClass=user)(objectCategory=person))"

See docs/sources/ldap.md and examples/ldap/epic.toml.

` + exportHealthHelp + "\n\n" + exportExitHelp + "\n",
		Args: wrapArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			cfgPath, err := f.check()
			if err != nil {
				return err
			}
			lc, err := ldapConfig(cfgPath)
			if err != nil {
				return err
			}
			return runExport(c, f, cfgPath, "ldap", ldapReader(lc))
		},
	}
	f.add(c)
	return c
}

func exportCSVCommand() *cobra.Command {
	var f exportFlags
	c := &cobra.Command{
		Use:   "csv --config epic.toml -o DIR",
		Short: "export people from an HR system's CSV file",
		Long: `Export people from an HR system's CSV file with its own headers: [csv]
names the file and its dialect, [mapping] maps its columns to DS columns
(rename, join, split, default, phone numbers to E.164).

  [csv]
  file = "hr-export.csv"    # relative to the configuration file
  delimiter = ","           # or ";" or "tab"
  encoding = "utf-8"        # or "windows-1252"

See docs/sources/csv.md and examples/csv/.

` + exportHealthHelp + "\n\n" + exportExitHelp + "\n",
		Args: wrapArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			cfgPath, err := f.check()
			if err != nil {
				return err
			}
			cc, err := csvConfig(cfgPath)
			if err != nil {
				return err
			}
			return runExport(c, f, cfgPath, "csv", csvReader(cc))
		},
	}
	f.add(c)
	return c
}

// check validates the flags and returns the configuration's path.
func (f *exportFlags) check() (string, error) {
	if f.out == "" {
		return "", exitWith(ExitFailure, "-o DIR is required: the archive folder to write")
	}
	if _, err := os.Stat(f.config); err != nil {
		return "", exitWith(ExitFailure, "configuration: %v", err)
	}
	return f.config, nil
}

// exportReport is what any source reports.
type exportReport struct {
	read, groups               int
	skipped, warnings, outside []string
}

// reader reads a source into the builder, reporting progress in
// records read.
type reader func(m *mapping.Mapper, b *mapping.Builder, progress func(int)) (exportReport, error)

// ldapConfig reads and checks [ldap].
func ldapConfig(cfgPath string) (ldap.Config, error) {
	var lc ldap.Config
	if err := source.DecodeSection(cfgPath, "ldap", &lc); err != nil {
		return lc, exitWith(ExitFailure, "configuration: %v", err)
	}
	if lc.URL == "" {
		return lc, exitWith(ExitFailure, "configuration: %s has no [ldap] section with url", cfgPath)
	}
	lc.Resolve(cfgPath)
	if err := lc.Validate(); err != nil {
		return lc, exitWith(ExitFailure, "configuration: %v", err)
	}
	return lc, nil
}

func ldapReader(lc ldap.Config) reader {
	return func(m *mapping.Mapper, b *mapping.Builder, p func(int)) (exportReport, error) {
		rep, err := ldap.Export(lc, m, b, p)
		if err != nil {
			return exportReport{}, err
		}
		return exportReport{read: rep.Entries, groups: rep.Groups, skipped: rep.Skipped, warnings: rep.Warnings, outside: rep.Outside}, nil
	}
}

func ldapSourceName(cfgPath string) (string, error) {
	lc, err := ldapConfig(cfgPath)
	return lc.SourceName(), err
}

// csvConfig reads and checks [csv].
func csvConfig(cfgPath string) (hrcsv.Config, error) {
	var cc hrcsv.Config
	if err := source.DecodeSection(cfgPath, "csv", &cc); err != nil {
		return cc, exitWith(ExitFailure, "configuration: %v", err)
	}
	cc.Resolve(cfgPath)
	if err := cc.Validate(); err != nil {
		return cc, exitWith(ExitFailure, "configuration: %v", err)
	}
	return cc, nil
}

func csvReader(cc hrcsv.Config) reader {
	return func(m *mapping.Mapper, b *mapping.Builder, p func(int)) (exportReport, error) {
		rep, err := hrcsv.Export(cc, m, b, p)
		if err != nil {
			return exportReport{}, err
		}
		return exportReport{read: rep.Rows, skipped: rep.Skipped, warnings: rep.Warnings}, nil
	}
}

func csvSourceName(cfgPath string) (string, error) {
	cc, err := csvConfig(cfgPath)
	return cc.SourceName(), err
}

// exportLDAP and exportCSV are epic sync's exporters of [source] type
// ldap and csv: the same as epic export, but the source-health state is
// recorded by sync once the job COMPLETED.
func exportLDAP(ctx context.Context, cfgPath, outDir string, progress io.Writer) (int, error) {
	lc, err := ldapConfig(cfgPath)
	if err != nil {
		return 0, err
	}
	x, err := exportMapped(cfgPath, "ldap", outDir, progress, false, ldapReader(lc))
	if err != nil {
		return 0, err
	}
	return x.b.People(), nil
}

func exportCSV(ctx context.Context, cfgPath, outDir string, progress io.Writer) (int, error) {
	cc, err := csvConfig(cfgPath)
	if err != nil {
		return 0, err
	}
	x, err := exportMapped(cfgPath, "csv", outDir, progress, false, csvReader(cc))
	if err != nil {
		return 0, err
	}
	return x.b.People(), nil
}

// mappedExport is what exportMapped did: the people and groups built,
// the source's report, and the source's name and health floor, so that
// callers record the export without reading the configuration again.
type mappedExport struct {
	b      *mapping.Builder
	rep    exportReport
	name   string
	health source.Health
}

// exportMapped is what every mapped export does around its source:
// mapping, progress, the lists of what was left out, the health floor,
// and the archive folder, written only when all of that passed.
func exportMapped(cfgPath, typ, out string, stderr io.Writer, quiet bool, read reader) (*mappedExport, error) {
	name, err := sourceName(cfgPath, typ)
	if err != nil {
		return nil, err
	}
	mc, err := mapping.Load(cfgPath)
	if err != nil {
		return nil, exitWith(ExitFailure, "configuration: %v", err)
	}
	m, err := mapping.New(mc)
	if err != nil {
		return nil, exitWith(ExitFailure, "configuration: %v", err)
	}
	health, err := loadHealth(cfgPath)
	if err != nil {
		return nil, exitWith(ExitFailure, "configuration: %v", err)
	}
	b := mapping.NewBuilder(m)
	prog := newProgress(stderr, quiet)
	rep, err := read(m, b, prog.update)
	prog.done()
	if err != nil {
		return nil, exitWith(ExitFailure, "export of %s stopped, no archive was written: %v", name, err)
	}
	if !quiet {
		printList(stderr, "left out (not people)", rep.skipped)
		printList(stderr, "values left out", rep.warnings)
		printList(stderr, "group members that are not exported", rep.outside)
	}
	if err := health.Check(name, b.People()); err != nil {
		if errors.Is(err, source.ErrUnhealthy) {
			return nil, exitWith(ExitUnhealthy, "%v; no archive was written", err)
		}
		return nil, exitWith(ExitFailure, "%v", err)
	}
	if _, err := b.WriteDir(out); err != nil {
		return nil, exitWith(ExitFailure, "write %s: %v", out, err)
	}
	return &mappedExport{b: b, rep: rep, name: name, health: health}, nil
}

// runExport is epic export TYPE: the export, then the source-health
// state recorded and a summary printed.
func runExport(c *cobra.Command, f exportFlags, cfgPath, typ string, read reader) error {
	x, err := exportMapped(cfgPath, typ, f.out, c.ErrOrStderr(), f.quiet, read)
	if err != nil {
		return err
	}
	if err := x.health.Record(x.name, x.b.People(), time.Now()); err != nil {
		return exitWith(ExitFailure, "the archive %s was written, but %v", f.out, err)
	}
	if !f.quiet {
		fmt.Fprintf(c.OutOrStdout(), "wrote %s: %d people, %d groups from %d records of %s (%d left out)\n",
			f.out, x.b.People(), x.b.Groups(), x.rep.read, x.name, len(x.rep.skipped))
	}
	return nil
}

// printList prints up to 20 items of a list under a heading.
func printList(w io.Writer, what string, items []string) {
	if len(items) == 0 {
		return
	}
	fmt.Fprintf(w, "%s: %d\n", what, len(items))
	for i, s := range items {
		if i == 20 {
			fmt.Fprintf(w, "  ... and %d more\n", len(items)-20)
			break
		}
		fmt.Fprintf(w, "  %s\n", s)
	}
}

// progress shows records read and the rate on a terminal, at most every
// 200 ms; elsewhere it prints nothing.
type progress struct {
	w     io.Writer
	tty   bool
	start time.Time
	last  time.Time
	n     int
}

func newProgress(w io.Writer, quiet bool) *progress {
	p := &progress{w: w, start: time.Now()}
	if f, ok := w.(*os.File); ok && !quiet {
		p.tty = term.IsTerminal(int(f.Fd()))
	}
	return p
}

func (p *progress) update(n int) {
	p.n = n
	if !p.tty || time.Since(p.last) < 200*time.Millisecond {
		return
	}
	p.last = time.Now()
	fmt.Fprintf(p.w, "\r\033[K%s", p.line())
}

func (p *progress) line() string {
	el := time.Since(p.start)
	rate := 0.0
	if el > 0 {
		rate = float64(p.n) / el.Seconds()
	}
	return fmt.Sprintf("read %d records in %s (%.0f/s)", p.n, el.Round(100*time.Millisecond), rate)
}

func (p *progress) done() {
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s\n", p.line())
	}
}
