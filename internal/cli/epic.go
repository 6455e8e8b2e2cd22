package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/epicsync/epic/internal/archive"
	"github.com/epicsync/epic/internal/generate"
)

// Epic runs the epic command line and returns its exit code.
func Epic(args []string, stdout, stderr io.Writer) int {
	root := epicCommand(stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return ExitOK
	}
	if msg := err.Error(); msg != "" {
		fmt.Fprintf(stderr, "epic: %s\n", msg)
	}
	if e := (*exitError)(nil); !errors.As(err, &e) {
		// cobra's own errors (unknown command) lost their hint to SilenceErrors.
		fmt.Fprintln(stderr, "Run 'epic --help' for usage.")
	}
	return exitCode(err)
}

func epicCommand(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "epic",
		Short: "epic validates, packs and uploads ZipSync archives of a company's people",
		Long: `epic is the client of EPIC (Export Plus Import Controller). It writes and
checks ZipSync archives (manifest.xml and DS_*.csv files in one zip) and
uploads them to epicd, which applies them to the company's directory.

` + exitCodesHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return exitWith(ExitFailure, "%v (see %s --help)", err, c.CommandPath())
	})
	root.AddCommand(fileCommand(), packCommand(), templateCommand(), generateCommand(), versionCommand())
	root.AddCommand(jobsCommand(), statusCommand(), reportCommand(), decideCommand("approve"), decideCommand("reject"), demoCommand())
	root.AddCommand(encryptCommand(), syncCommand(), cloudsyncCommand())
	root.AddCommand(epicExportCommand())
	for _, c := range root.Commands() {
		c.Long = strings.TrimSpace(c.Long+"\n\n"+exitCodesHelp) + "\n"
		c.Args = wrapArgs(c.Args)
	}
	return root
}

// wrapArgs turns cobra's argument errors into exit code 255.
func wrapArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if check == nil {
			return nil
		}
		if err := check(c, args); err != nil {
			return exitWith(ExitFailure, "%v; usage: %s", err, c.UseLine())
		}
		return nil
	}
}

// limitFlags adds the archive limit flags to c.
func limitFlags(c *cobra.Command, lim *archive.Limits) {
	def := archive.DefaultLimits()
	*lim = def
	c.Flags().Var((*sizeValue)(&lim.MaxArchiveBytes), "max-archive-size", "largest archive accepted (e.g. 150MiB)")
	c.Flags().Var((*sizeValue)(&lim.MaxEntryBytes), "max-entry-size", "largest uncompressed size of one file of the archive (e.g. 1GiB)")
	c.Flags().Int64Var(&lim.MaxRatio, "max-ratio", def.MaxRatio, "largest ratio of uncompressed to compressed size of a file (zip bombs)")
}

// validation runs a validator into a findings file and prints the table.
func validation(out io.Writer, findingsPath string, run func(archive.Options) (*archive.Result, error), lim archive.Limits) (*archive.Result, error) {
	ff, err := createFindingsFile(findingsPath)
	if err != nil {
		return nil, err
	}
	res, err := run(archive.Options{Limits: lim, Sink: ff.add})
	if cerr := ff.close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(findingsPath) // validation did not finish: leave no findings file behind
		return nil, err
	}
	printFindings(out, &ff.summary, res.Rows(), findingsPath)
	return res, nil
}

func fileCommand() *cobra.Command {
	var (
		validateOnly, force, wait bool
		findings                  string
		lim                       archive.Limits
		sf                        serverFlags
		poll                      time.Duration
	)
	c := &cobra.Command{
		Use:   "file ARCHIVE.zip",
		Short: "validate an archive and upload it",
		Long: `Validate ARCHIVE.zip (every check of the format, all findings in one pass)
and, if it has no ERROR finding, upload it to the configured service.

Findings are printed as a short table (the first 20 and a count) and written
in full to a CSV file, by default ARCHIVE.findings.csv beside the archive,
with the columns FILE,LINE,COLUMN,VALUE,SEVERITY,CODE,MESSAGE.

Before uploading, epic asks the service which archive versions it accepts
and refuses to upload one it does not. With --wait it follows the job until
it ends and prints its summary: exit code 0 if it COMPLETED, 3 if it ended
in any other status (also after --force), 2 if it COMPLETED but --force
uploaded an archive with errors.

` + configHelp,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			path := args[0]
			if findings == "" {
				findings = findingsPathFor(path)
			}
			res, err := validation(c.OutOrStdout(), findings, func(o archive.Options) (*archive.Result, error) {
				return archive.ValidateZip(path, o)
			}, lim)
			if err != nil {
				return exitWith(ExitFailure, "%v", err)
			}
			if validateOnly {
				if res.Errors > 0 {
					return exitWith(ExitValidation, "")
				}
				return nil
			}
			if res.Errors > 0 && !force {
				return exitWith(ExitValidation, "%s has errors and was not uploaded (use -f to upload anyway)", path)
			}
			return uploadArchive(c, path, res, wait, poll, &sf)
		},
	}
	c.Flags().BoolVarP(&validateOnly, "validate", "v", false, "validate only; never upload")
	c.Flags().BoolVarP(&force, "force", "f", false, "upload even when the archive has errors")
	c.Flags().BoolVar(&wait, "wait", false, "after the upload, follow the job until it ends")
	c.Flags().StringVar(&findings, "findings", "", "where to write the findings CSV (default ARCHIVE.findings.csv beside the archive)")
	limitFlags(c, &lim)
	sf.add(c)
	c.Flags().DurationVar(&poll, "poll", 500*time.Millisecond, "with --wait, the first wait between two looks at the job (growing to 1s)")
	return c
}

func packCommand() *cobra.Command {
	var (
		output, findings string
		force            bool
		lim              archive.Limits
	)
	c := &cobra.Command{
		Use:   "pack DIR -o ARCHIVE.zip",
		Short: "validate an archive folder and zip it",
		Long: `Validate the folder's manifest.xml and DS_*.csv files and zip them into
ARCHIVE.zip. With ERROR findings no zip is written (unless --force); the
findings go to ARCHIVE.findings.csv beside the zip (--findings FILE).`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			dir := args[0]
			if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
				return exitWith(ExitFailure, "%s is not a folder; pack takes an archive folder (manifest.xml and DS_*.csv files)", dir)
			}
			if output == "" {
				return exitWith(ExitFailure, "pack needs -o ARCHIVE.zip; usage: %s", c.UseLine())
			}
			if findings == "" {
				findings = findingsPathFor(output)
			}
			res, err := validation(c.OutOrStdout(), findings, func(o archive.Options) (*archive.Result, error) {
				return archive.ValidateDir(dir, o)
			}, lim)
			if err != nil {
				return exitWith(ExitFailure, "%v", err)
			}
			if res.Errors > 0 && !force {
				return exitWith(ExitValidation, "%s has errors; no archive was written (use --force to pack anyway)", dir)
			}
			v := res.Manifest.Version
			if v == "" {
				return exitWith(ExitValidation, "%s has no usable manifest version; cannot pack", dir)
			}
			if err := writeZip(output, func(w *archive.Writer) error { return archive.PackDir(dir, w) }, v); err != nil {
				return exitWith(ExitFailure, "%v", err)
			}
			fi, _ := os.Stat(output)
			fmt.Fprintf(c.OutOrStdout(), "wrote %s (%d bytes, version %s)\n", output, fi.Size(), v)
			if res.Errors > 0 {
				return exitWith(ExitValidation, "")
			}
			return nil
		},
	}
	c.Flags().StringVarP(&output, "output", "o", "", "the zip file to write")
	c.Flags().StringVar(&findings, "findings", "", "where to write the findings CSV (default ARCHIVE.findings.csv beside the zip)")
	c.Flags().BoolVar(&force, "force", false, "write the zip even when the folder has errors")
	limitFlags(c, &lim)
	return c
}

// writeZip writes a zip through a temporary file renamed into place, so a
// failed pack never leaves half an archive under the final name.
func writeZip(path string, fill func(*archive.Writer) error, v archive.Version) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".epic-pack-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	w := archive.NewZipWriter(tmp, v)
	err = fill(w)
	if err == nil {
		err = w.Close()
	}
	if err == nil {
		err = tmp.Chmod(0o644) // CreateTemp makes 0600; an archive is no secret
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}

func versionFlag(c *cobra.Command, v *string) {
	c.Flags().StringVar(v, "version", string(archive.Latest), "archive version to write (1.0, 1.1, 1.2, 1.3)")
}

func templateCommand() *cobra.Command {
	var ver string
	var mirror bool
	c := &cobra.Command{
		Use:   "template DIR",
		Short: "write a blank archive folder",
		Long:  `Write a blank archive folder: a manifest and every DS_*.csv file of the version with its header line and no rows.`,
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			v, err := archive.ParseVersion(ver)
			if err != nil {
				return exitWith(ExitFailure, "--version: %v", err)
			}
			w, err := archive.NewDirWriter(args[0], v)
			if err != nil {
				return exitWith(ExitFailure, "%v", err)
			}
			m := archive.DefaultManifest()
			m.Mirror = mirror
			if err := archive.WriteTemplate(w, m); err != nil {
				return exitWith(ExitFailure, "%v", err)
			}
			fmt.Fprintf(c.OutOrStdout(), "wrote a blank version %s archive in %s (%d files and manifest.xml)\n", v, args[0], len(archive.Layouts(v)))
			return nil
		},
	}
	versionFlag(c, &ver)
	c.Flags().BoolVar(&mirror, "mirror", false, "write mirror=Y in the manifest")
	return c
}

func generateCommand() *cobra.Command {
	var (
		users                int
		seed                 int64
		ver                  string
		mirror               bool
		change, add, dropPct float64
	)
	c := &cobra.Command{
		Use:   "generate DIR --users N [--seed S]",
		Short: "write a realistic synthetic archive folder",
		Long: `Write a realistic synthetic archive folder: sites in several countries and
time zones, N people with 1-4 devices each, custom values, groups with shifts
and memberships. The same seed and N give byte-identical files. The data fits
a company with the default configuration.

--change-percent, --add-percent and --drop-percent write "the next night's"
archive of the same seed and N instead: that percent of the N people get
another last name and first device address, are appended as new people (in
no group), or are left out with every row and supervisor list that names them.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			v, err := archive.ParseVersion(ver)
			if err != nil {
				return exitWith(ExitFailure, "--version: %v", err)
			}
			if users < 0 {
				return exitWith(ExitFailure, "--users must be 0 or more")
			}
			opt := generate.Options{Users: users, Seed: seed, ChangePercent: change, AddPercent: add, DropPercent: dropPct}
			if err := opt.Check(); err != nil {
				return exitWith(ExitFailure, "--change-percent, --add-percent, --drop-percent: %v", err)
			}
			start := time.Now()
			w, err := archive.NewDirWriter(args[0], v)
			if err != nil {
				return exitWith(ExitFailure, "%v", err)
			}
			opt.Manifest = archive.DefaultManifest()
			opt.Manifest.Mirror = mirror
			stats, err := generate.Write(w, opt)
			if err == nil {
				err = w.Close()
			}
			if err != nil {
				return exitWith(ExitFailure, "generate: %v", err)
			}
			total := 0
			for _, l := range archive.Layouts(v) {
				total += stats.Rows[l.Name]
			}
			fmt.Fprintf(c.OutOrStdout(), "wrote %d rows for %d people in %s (version %s, seed %d) in %s\n",
				total, stats.Rows[archive.FileUsers], args[0], v, seed, time.Since(start).Round(time.Millisecond))
			if change != 0 || add != 0 || dropPct != 0 {
				fmt.Fprintf(c.OutOrStdout(), "variant of %d people: %d changed, %d added, %d left out\n",
					users, stats.Changed, stats.Added, stats.Dropped)
			}
			return nil
		},
	}
	c.Flags().IntVar(&users, "users", 100, "number of people")
	c.Flags().Int64Var(&seed, "seed", 1, "random seed; the same seed gives the same data")
	versionFlag(c, &ver)
	c.Flags().BoolVar(&mirror, "mirror", false, "write mirror=Y in the manifest")
	c.Flags().Float64Var(&change, "change-percent", 0, "percent of the people to give another last name and first device address")
	c.Flags().Float64Var(&add, "add-percent", 0, "percent more people to append, in no group")
	c.Flags().Float64Var(&dropPct, "drop-percent", 0, "percent of the people to leave out, with every row that names them")
	return c
}

func versionCommand() *cobra.Command {
	var sf serverFlags
	c := &cobra.Command{
		Use:   "version",
		Short: "print the client version and the archive versions it writes",
		Long: `Print the client version and the archive versions it writes; with a
configured service, the service's version and whether the two are
compatible (exit code 255 if not).

` + configHelp,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error { return runVersion(c, &sf) },
	}
	sf.add(c)
	return c
}

// sizeValue is a byte count flag that takes suffixes: 150MiB, 2GiB, 64KiB.
type sizeValue int64

func (s *sizeValue) String() string { return strconv.FormatInt(int64(*s), 10) }
func (s *sizeValue) Type() string   { return "size" }
func (s *sizeValue) Set(v string) error {
	n, err := parseSize(v)
	if err != nil {
		return err
	}
	*s = sizeValue(n)
	return nil
}

func parseSize(v string) (int64, error) {
	units := []struct {
		suffix string
		mul    int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000}, {"B", 1}}
	mul := int64(1)
	for _, u := range units {
		if strings.HasSuffix(v, u.suffix) {
			v, mul = strings.TrimSuffix(v, u.suffix), u.mul
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 {
		return 0, errors.New("want a size like 150MiB, 2GiB or a number of bytes")
	}
	return n * mul, nil
}
