package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/epicsync/epic/internal/archive"
	"github.com/epicsync/epic/internal/source"
)

// An exporter writes the archive folder outDir from the source that the
// configuration file configPath sets up: validated (no ERROR finding)
// and past the source-health check (source.Health.Check), or it returns
// an error and leaves no folder. It returns the number of people.
// progress gets lines for a person. writeExport does the common part.
type exporter func(ctx context.Context, configPath, outDir string, progress io.Writer) (people int, err error)

// exporters are the sources [source] type may name. Each adds itself
// with one line.
var exporters = map[string]exporter{
	"ldap":      exportLDAP,
	"csv":       exportCSV,
	"sql":       exportSQL,
	"cloudsync": exportCloudSync,
}

func exporterNames() string {
	var n []string
	for k := range exporters {
		n = append(n, k)
	}
	sort.Strings(n)
	return strings.Join(n, ", ")
}

// sourceSection is [source] of epic.toml.
type sourceSection struct {
	// Type is the exporter epic sync runs.
	Type string `toml:"type"`
	// Name names the source in the source-health state (default: the
	// type and the configuration file's absolute path).
	Name string `toml:"name"`
}

// sourceNamers give the default source name of exporters that can say
// more than their configuration file (the LDAP server and base, the CSV
// file).
var sourceNamers = map[string]func(configPath string) (string, error){
	"ldap": ldapSourceName,
	"csv":  csvSourceName,
}

// sourceName is the stable name of a configuration's source in the
// source-health state: [source] name, else the exporter's own, else the
// type and the configuration file's absolute path. `epic export TYPE` and
// `epic sync` use the same, so they share their history.
func sourceName(configPath, typ string) (string, error) {
	var s sourceSection
	if err := source.DecodeSection(configPath, "source", &s); err != nil {
		return "", err
	}
	if s.Name != "" {
		return s.Name, nil
	}
	if namer := sourceNamers[typ]; namer != nil {
		return namer(configPath)
	}
	abs, err := filepath.Abs(configPath)
	if err != nil {
		abs = configPath
	}
	return typ + " " + abs, nil
}

// loadHealth reads [health]. The state file defaults to epic-state.json
// beside the configuration file, and a relative state_file is taken from
// there: one configuration, one history, wherever epic runs from.
func loadHealth(configPath string) (source.Health, error) {
	h := source.DefaultHealth()
	if err := source.DecodeSection(configPath, "health", &h); err != nil {
		return h, err
	}
	if h.StateFile == "" {
		h.StateFile = "epic-state.json"
	}
	if !filepath.IsAbs(h.StateFile) {
		h.StateFile = filepath.Join(filepath.Dir(configPath), h.StateFile)
	}
	return h, nil
}

// isArchiveFolder tells whether dir holds only what an archive folder
// holds (manifest.xml and DS_*.csv files), so it may be replaced.
func isArchiveFolder(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		n := strings.ToUpper(e.Name())
		if e.IsDir() || !(n == "MANIFEST.XML" || strings.HasPrefix(n, "DS_") && strings.HasSuffix(n, ".CSV")) {
			return false
		}
	}
	return true
}

// writeExport is the part every exporter shares: fill writes the archive
// into a folder beside outDir; it is validated (findings in
// OUTDIR.findings.csv), checked against the source-health floor, and only
// then renamed to outDir (replacing an archive folder there).
func writeExport(configPath, typ, outDir string, v archive.Version, progress io.Writer, fill func(w *archive.Writer) (people int, err error)) (int, error) {
	if outDir == "" {
		return 0, exitWith(ExitFailure, "no output folder: pass -o DIR")
	}
	outDir = filepath.Clean(outDir)
	if fi, err := os.Stat(outDir); err == nil {
		if !fi.IsDir() || !isArchiveFolder(outDir) {
			return 0, exitWith(ExitFailure, "%s exists and is not an archive folder (only manifest.xml and DS_*.csv files); name a new or an archive folder", outDir)
		}
	}
	name, err := sourceName(configPath, typ)
	if err != nil {
		return 0, exitWith(ExitFailure, "configuration: %v", err)
	}
	health, err := loadHealth(configPath)
	if err != nil {
		return 0, exitWith(ExitFailure, "configuration: %v", err)
	}
	if err := os.MkdirAll(filepath.Dir(outDir), 0o755); err != nil {
		return 0, exitWith(ExitFailure, "%v", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(outDir), "."+filepath.Base(outDir)+".partial-")
	if err != nil {
		return 0, exitWith(ExitFailure, "%v", err)
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	w, err := archive.NewDirWriter(tmp, v)
	if err != nil {
		return 0, exitWith(ExitFailure, "%v", err)
	}
	people, err := fill(w)
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			return 0, err
		}
		return 0, exitWith(ExitFailure, "export from %s: %v; no archive was written", typ, err)
	}
	findings := findingsPathFor(outDir)
	res, err := validation(progress, findings, func(o archive.Options) (*archive.Result, error) {
		return archive.ValidateDir(tmp, o)
	}, archive.DefaultLimits())
	if err != nil {
		return 0, exitWith(ExitFailure, "validate the export: %v; no archive was written", err)
	}
	if res.Errors > 0 {
		return 0, exitWith(ExitValidation, "the export from %s has %d errors (see %s); no archive was written", typ, res.Errors, findings)
	}
	if err := health.Check(name, people); err != nil {
		return 0, exitWith(ExitUnhealthy, "%v; no archive was written", err)
	}
	if _, err := os.Stat(outDir); err == nil {
		if err := os.RemoveAll(outDir); err != nil {
			return 0, exitWith(ExitFailure, "replace %s: %v", outDir, err)
		}
	}
	if err := os.Rename(tmp, outDir); err != nil {
		return 0, exitWith(ExitFailure, "%v", err)
	}
	done = true
	return people, nil
}

const syncExitHelp = `Exit codes:
  0    the archive was uploaded and its job COMPLETED
  2    the export has validation errors: nothing was uploaded
  3    the job ended in any status but COMPLETED (HELD by the safety gate,
       COMPLETED_WITH_ERRORS, FAILED, SUPERSEDED)
  4    the source-health check refused the export (fewer people than
       min_people, or than min_previous_percent of the last successful
       export): nothing was uploaded
  255  anything else that stopped the run (configuration, the source, the
       connection, the service)`

func syncCommand() *cobra.Command {
	var o syncOptions
	c := &cobra.Command{
		Use:   "sync --config F",
		Short: "export from the configured source, validate, pack, upload and wait",
		Long: `The nightly command: export the directory from the source that [source]
type names (` + exporterNames() + `), validate it, check it against the
source-health floor ([health]), pack it, upload it to the service and wait
for its job to end.

  [source]
  type = "sql"           # which exporter runs; its own section configures it
  name = ""              # the source's name in the health state (default: type and config path)
  [health]
  min_people = 100       # refuse an export with fewer people
  min_previous_percent = 50   # and one with fewer than 50 % of the last successful upload's
  state_file = ""        # default ~/.config/epic/epic-state.json

A successful upload is remembered in the state file for the next night's
check. Nothing is uploaded unless every step before succeeded.

` + configHelp + "\n\n" + syncExitHelp,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			var s sourceSection
			if err := source.DecodeSection(o.sf.config, "source", &s); err != nil {
				return exitWith(ExitFailure, "configuration: %v", err)
			}
			if s.Type == "" {
				return exitWith(ExitFailure, "%s has no [source] type: write type = one of %s", o.sf.config, exporterNames())
			}
			return runSync(c, &o, s.Type)
		},
	}
	o.add(c)
	return c
}

type syncOptions struct {
	sf   serverFlags
	keep string
	poll time.Duration
}

func (o *syncOptions) add(c *cobra.Command) {
	o.sf.add(c)
	c.Flags().StringVar(&o.keep, "keep", "", "keep the archive folder and zip in this folder (default: a temporary folder, removed)")
	c.Flags().DurationVar(&o.poll, "poll", 500*time.Millisecond, "the first wait between two looks at the job (growing to 5s)")
}

// runSync exports with the exporter typ, packs, uploads and waits.
func runSync(c *cobra.Command, o *syncOptions, typ string) error {
	exp, ok := exporters[typ]
	if !ok {
		return exitWith(ExitFailure, "[source] type %q is not one this epic knows; write one of %s", typ, exporterNames())
	}
	if _, err := os.Stat(o.sf.config); err != nil {
		return exitWith(ExitFailure, "read configuration: %v", pathErr(err))
	}
	// The service and login first: no export is wasted on a bad login.
	cfg, err := o.sf.load(c)
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return exitWith(ExitFailure, "configuration: %v", err)
	}
	if err := cfg.RequireCredentials(); err != nil {
		return exitWith(ExitFailure, "configuration: %v", err)
	}
	work := o.keep
	if work == "" {
		if work, err = os.MkdirTemp("", "epic-sync-"); err != nil {
			return exitWith(ExitFailure, "%v", err)
		}
		defer os.RemoveAll(work)
	} else if err := os.MkdirAll(work, 0o755); err != nil {
		return exitWith(ExitFailure, "%v", err)
	}
	ctx, stop := interruptContext(c)
	defer stop()
	stderr := c.ErrOrStderr()
	folder, zipPath := filepath.Join(work, "archive"), filepath.Join(work, "archive.zip")
	start := time.Now()
	people, err := exp(ctx, o.sf.config, folder, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "exported %d people from %s in %s\n", people, typ, time.Since(start).Round(time.Millisecond))
	mf, err := os.Open(filepath.Join(folder, archive.ManifestName))
	if err != nil {
		return exitWith(ExitFailure, "%v", err)
	}
	m, _ := archive.ParseManifest(mf)
	mf.Close()
	if err := writeZip(zipPath, func(w *archive.Writer) error { return archive.PackDir(folder, w) }, m.Version); err != nil {
		return exitWith(ExitFailure, "%v", err)
	}
	lim := archive.DefaultLimits()
	if fi, err := os.Stat(zipPath); err != nil {
		return exitWith(ExitFailure, "%v", err)
	} else if fi.Size() > lim.MaxArchiveBytes {
		return exitWith(ExitFailure, "the archive is %d bytes, over the %d-byte limit; nothing was uploaded", fi.Size(), lim.MaxArchiveBytes)
	}
	if err := uploadArchive(c, zipPath, &archive.Result{Manifest: m}, true, o.poll, &o.sf); err != nil {
		return err
	}
	name, err := sourceName(o.sf.config, typ)
	if err == nil {
		var h source.Health
		if h, err = loadHealth(o.sf.config); err == nil {
			err = h.Record(name, people, time.Now())
		}
	}
	if err != nil {
		return exitWith(ExitFailure, "the upload COMPLETED, but remembering it for the next health check failed: %v", err)
	}
	return nil
}

// pathErr drops the "stat NAME:" part of a path error.
func pathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}
