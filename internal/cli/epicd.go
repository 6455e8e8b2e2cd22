package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/epicsync/epic/internal/archive"
	"github.com/epicsync/epic/internal/directory"
	"github.com/epicsync/epic/internal/engine"
	"github.com/epicsync/epic/internal/postgres"
	"github.com/epicsync/epic/internal/sqlite"
)

const epicdExitHelp = `Exit codes:
  0    success (apply: every row succeeded)
  2    apply: the archive is invalid; nothing was changed
  3    apply: some rows failed (the others were applied)
  255  anything else (bad arguments, database unreachable)`

// Epicd runs the epicd command line and returns its exit code.
func Epicd(args []string, stdout, stderr io.Writer) int {
	root := epicdCommand(stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return ExitOK
	}
	if msg := err.Error(); msg != "" {
		fmt.Fprintf(stderr, "epicd: %s\n", msg)
	}
	if e := (*exitError)(nil); !errors.As(err, &e) {
		fmt.Fprintln(stderr, "Run 'epicd --help' for usage.")
	}
	return exitCode(err)
}

// storeFlags are the flags that say where the database is.
type storeFlags struct {
	data string // folder of the embedded database
	db   string // sqlite:PATH or postgres://...
}

func (f *storeFlags) register(c *cobra.Command) {
	c.PersistentFlags().StringVar(&f.data, "data", envOr("EPICD_DATA", "./epicd-data"), "data folder: the embedded SQLite database and queued archives (EPICD_DATA)")
	c.PersistentFlags().StringVar(&f.db, "db", os.Getenv("EPICD_DB"), "database: sqlite:PATH (default DATA/epicd.db) or postgres://... (EPICD_DB)")
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// open opens (and migrates) the store the flags name.
func (f *storeFlags) open(ctx context.Context) (directory.Store, error) {
	db := f.db
	switch {
	case db == "":
		if err := os.MkdirAll(f.data, 0o750); err != nil {
			return nil, exitWith(ExitFailure, "create the data folder: %v", err)
		}
		db = "sqlite:" + filepath.Join(f.data, "epicd.db")
	case strings.HasPrefix(db, "postgres://"), strings.HasPrefix(db, "postgresql://"):
		st, err := postgres.Open(ctx, db)
		if err != nil {
			return nil, exitWith(ExitFailure, "open the PostgreSQL database: %v", err)
		}
		return st, nil
	}
	path, ok := strings.CutPrefix(db, "sqlite:")
	if !ok {
		return nil, exitWith(ExitFailure, "--db %q: write sqlite:PATH or postgres://USER@HOST/DB", db)
	}
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, exitWith(ExitFailure, "open the SQLite database %s: %v", path, err)
	}
	return st, nil
}

func epicdCommand(stdout, stderr io.Writer) *cobra.Command {
	var sf storeFlags
	root := &cobra.Command{
		Use:   "epicd",
		Short: "epicd keeps companies' directories and applies ZipSync archives to them",
		Long: `epicd is the service of EPIC (Export Plus Import Controller). It keeps each
company's directory of people, devices, groups and shifts, and applies the
archives that epic uploads.

` + epicdExitHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return exitWith(ExitFailure, "%v (see %s --help)", err, c.CommandPath())
	})
	sf.register(root)
	// company is runnable only so that an unknown subcommand is refused
	// (exit 255) rather than answered with the help and exit 0.
	company := &cobra.Command{Use: "company", Short: "create, list and show companies", Args: cobra.NoArgs,
		Long: "Create, list and show companies. A company is one tenant: its directory, its configuration and its jobs.",
		RunE: func(c *cobra.Command, args []string) error { return c.Help() }}
	company.AddCommand(companyCreateCommand(&sf), companyListCommand(&sf), companyShowCommand(&sf), companyLimitsCommand(&sf))
	root.AddCommand(company, applyCommand(&sf), exportCommand(&sf), migrateCommand(&sf), serveCommand(&sf, stderr), userCommand(&sf))
	for _, c := range append(root.Commands(), company.Commands()...) {
		c.Long = strings.TrimSpace(c.Long+"\n\n"+epicdExitHelp) + "\n"
		c.Args = wrapArgs(c.Args)
	}
	root.AddCommand(batchCommand(&sf)) // after the loop: batch has its own exit codes
	return root
}

// withStore opens the store for one command and closes it after.
func withStore(c *cobra.Command, sf *storeFlags, fn func(context.Context, directory.Store) error) error {
	ctx := c.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	st, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(ctx, st)
}

func findCompany(ctx context.Context, st directory.Store, name string) (*directory.Company, error) {
	co, err := st.Company(ctx, name)
	if errors.Is(err, directory.ErrNotFound) {
		return nil, exitWith(ExitFailure, "no company named %q (epicd company list shows them)", name)
	}
	return co, err
}

func companyCreateCommand(sf *storeFlags) *cobra.Command {
	var noEpic bool
	c := &cobra.Command{
		Use:   "create NAME",
		Short: "create a company with the default configuration",
		Long:  "Create a company, enabled for EPIC unless --no-epic, with the default configuration (roles, device names, paging providers, custom fields).",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return withStore(c, sf, func(ctx context.Context, st directory.Store) error {
				co := &directory.Company{Name: strings.TrimSpace(args[0]), EpicEnabled: !noEpic, Config: directory.DefaultConfig()}
				if co.Name == "" {
					return exitWith(ExitFailure, "a company needs a name")
				}
				err := st.CreateCompany(ctx, co)
				if errors.Is(err, directory.ErrExists) {
					return exitWith(ExitFailure, "a company named %q exists already", co.Name)
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(c.OutOrStdout(), "created company %s (%s)\n", co.Name, co.ID)
				return nil
			})
		},
	}
	c.Flags().BoolVar(&noEpic, "no-epic", false, "create the company without EPIC (uploads are refused)")
	return c
}

func companyListCommand(sf *storeFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "list companies",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			return withStore(c, sf, func(ctx context.Context, st directory.Store) error {
				cos, err := st.Companies(ctx)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tEPIC\tID\tCREATED")
				for _, co := range cos {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", co.Name, yesNo(co.EpicEnabled), co.ID, co.Created.Format("2006-01-02 15:04"))
				}
				return tw.Flush()
			})
		},
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func companyShowCommand(sf *storeFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "show NAME",
		Short: "show a company and its configuration",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return withStore(c, sf, func(ctx context.Context, st directory.Store) error {
				co, err := findCompany(ctx, st, args[0])
				if err != nil {
					return err
				}
				w := c.OutOrStdout()
				cfg := co.Config
				fmt.Fprintf(w, "name: %s\nid: %s\nepic enabled: %s\ncreated: %s\nroles: %s\npaging providers: %s\n",
					co.Name, co.ID, yesNo(co.EpicEnabled), co.Created.Format("2006-01-02 15:04:05 MST"),
					strings.Join(cfg.Roles, ", "), strings.Join(cfg.PagingProviders, ", "))
				for _, t := range directory.DeviceTypes {
					fmt.Fprintf(w, "device names %s: %s\n", t, strings.Join(cfg.DeviceNames[t], ", "))
				}
				for _, f := range cfg.CustomFields {
					fmt.Fprintf(w, "custom field %s: %s\n", f.Key, f.Name)
				}
				printLimits(w, cfg.Limits)
				return nil
			})
		},
	}
}

func migrateCommand(sf *storeFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "bring the database schema up to date",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			return withStore(c, sf, func(ctx context.Context, st directory.Store) error {
				fmt.Fprintln(c.OutOrStdout(), "the database schema is up to date")
				return nil
			})
		},
	}
}

func applyCommand(sf *storeFlags) *cobra.Command {
	var company string
	var lim archive.Limits
	var approve bool
	c := &cobra.Command{
		Use:   "apply --company NAME ARCHIVE.zip",
		Short: "validate an archive and apply it to a company now",
		Long: `Validate ARCHIVE.zip and apply it to the company's directory now, in one
transaction, and print the summary. The job and its report are stored.
A job over the company's safety limits ends HELD and changes nothing
(exit 3); --approve applies it anyway.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if company == "" {
				return exitWith(ExitFailure, "apply needs --company NAME; usage: %s", c.UseLine())
			}
			return withStore(c, sf, func(ctx context.Context, st directory.Store) error {
				co, err := findCompany(ctx, st, company)
				if err != nil {
					return err
				}
				e := &engine.Engine{Store: st, Limits: lim}
				job, err := e.Apply(ctx, co, args[0], engine.Job{By: "epicd apply", Approved: approve})
				w := c.OutOrStdout()
				if errors.Is(err, engine.ErrInvalidArchive) {
					printJob(w, job)
					return exitWith(ExitValidation, "%s is invalid; nothing was changed", args[0])
				}
				if err != nil {
					return exitWith(ExitFailure, "apply %s: %v", args[0], err)
				}
				printJob(w, job)
				if job.Status == directory.JobHeld {
					return exitWith(ExitJob, "the job is HELD by the company's safety limits and changed nothing; "+
						"run again with --approve to apply it anyway")
				}
				if job.Status != directory.JobCompleted {
					return exitWith(ExitJob, "")
				}
				return nil
			})
		},
	}
	c.Flags().StringVar(&company, "company", "", "the company to apply the archive to")
	c.Flags().BoolVar(&approve, "approve", false, "apply even when the job crosses the company's safety limits (processing.md §6)")
	limitFlags(c, &lim)
	return c
}

// printJob prints a job's summary table and its first details.
func printJob(w io.Writer, j *directory.Job) {
	fmt.Fprintf(w, "job %s: %s (%s, %d rows)\n", j.ID, j.Status, j.Name, j.Total)
	if len(j.Summary) > 0 {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SYNCHRONIZER\tREAD\tINSERTED\tUPDATED\tADOPTED\tUNCHANGED\tREMOVED\tREMOVED_BY_MIRROR\tIGNORED\tFAILED\t")
		for _, s := range j.Summary {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", s.Synchronizer, s.Read, s.Inserted, s.Updated, s.Adopted,
				s.Unchanged, s.Removed, s.RemovedByMirror, s.Ignored, s.Failed)
		}
		tw.Flush()
	}
	for i, d := range j.Details {
		if i == shownFindings {
			fmt.Fprintf(w, "... and %d more\n", len(j.Details)-i)
			break
		}
		loc := d.File
		if d.Line > 0 {
			loc = fmt.Sprintf("%s:%d", d.File, d.Line)
		}
		if loc == "" {
			loc = "archive"
		}
		fmt.Fprintf(w, "%s %s %s %s: %s\n", d.Status, d.Level, loc, d.Event, d.Message)
	}
}

func exportCommand(sf *storeFlags) *cobra.Command {
	var company, output string
	c := &cobra.Command{
		Use:   "export --company NAME -o DIR",
		Short: "write a company's directory as an archive folder",
		Long: `Write the company's directory as an archive folder (version 1.3, mirror=Y)
that validates clean and, applied again, changes nothing. Objects without an
external key are left out: they are not EPIC's, and mirror never removes them.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if company == "" || output == "" {
				return exitWith(ExitFailure, "export needs --company NAME and -o DIR; usage: %s", c.UseLine())
			}
			return withStore(c, sf, func(ctx context.Context, st directory.Store) error {
				co, err := findCompany(ctx, st, company)
				if err != nil {
					return err
				}
				w, err := archive.NewDirWriter(output, archive.Latest)
				if err != nil {
					return exitWith(ExitFailure, "%v", err)
				}
				stats, err := engine.Export(ctx, st, co, w)
				if err == nil {
					err = w.Close()
				}
				if err != nil {
					return exitWith(ExitFailure, "export: %v", err)
				}
				total := 0
				for _, n := range stats.Rows {
					total += n
				}
				fmt.Fprintf(c.OutOrStdout(), "wrote %d rows of %s to %s (%d objects without an external key left out)\n", total, co.Name, output, stats.Skipped)
				return nil
			})
		},
	}
	c.Flags().StringVar(&company, "company", "", "the company to export")
	c.Flags().StringVarP(&output, "output", "o", "", "the folder to write")
	return c
}
