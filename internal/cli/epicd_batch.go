package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/epicsync/epic/internal/archive"
	"github.com/epicsync/epic/internal/directory"
	"github.com/epicsync/epic/internal/engine"
	"github.com/epicsync/epic/internal/queue"
	"github.com/epicsync/epic/internal/version"
)

const batchExitHelp = `Exit codes:
  0    the batch ran (each job's own status says how it ended)
  2    batch queue: the archive is invalid; a FAILED job records why
  255  anything else (bad arguments, database unreachable, a job that
       could not be processed, interrupted)`

// batchCommand is `epicd batch`: run a batch now (and, for operators and
// tests, queue an archive from a file as an upload would).
func batchCommand(sf *storeFlags) *cobra.Command {
	batch := &cobra.Command{Use: "batch", Short: "run a batch now", Args: cobra.NoArgs,
		Long: `A batch run applies, for each company with queued jobs, only its newest
queued job; older queued jobs of the company end SUPERSEDED (docs/queue.md).`,
		RunE: func(c *cobra.Command, args []string) error { return c.Help() }}
	batch.AddCommand(batchRunCommand(sf), batchQueueCommand(sf))
	for _, c := range batch.Commands() {
		c.Long = strings.TrimSpace(c.Long+"\n\n"+batchExitHelp) + "\n"
		c.Args = wrapArgs(c.Args)
	}
	return batch
}

// newQueue is the queue service of a command: logs at WARN and above go
// to stderr.
func newQueue(st directory.Store, c *cobra.Command) *queue.Service {
	log := slog.New(slog.NewTextHandler(c.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	return &queue.Service{Store: st, Engine: &engine.Engine{Store: st, Limits: archive.DefaultLimits()}, Log: log}
}

func batchRunCommand(sf *storeFlags) *cobra.Command {
	var company string
	c := &cobra.Command{
		Use:   "run [--company NAME]",
		Short: "run one batch now and exit",
		Long: `Run one batch now: for each company with queued jobs (or only --company
NAME), apply its newest queued job and supersede the older ones; print
what was done. A company that another run (another epicd on the same
database) is processing is left to that run. A job that a run which died
left PROCESSING is queued again and processed. Interrupted (Ctrl-C,
SIGTERM), the job in progress changes nothing and is queued again.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmdContext(c), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return withStore(c, sf, func(_ context.Context, st directory.Store) error {
				id := uuid.Nil
				if company != "" {
					co, err := findCompany(ctx, st, company)
					if err != nil {
						return err
					}
					id = co.ID
				}
				cos, err := st.Companies(ctx)
				if err != nil {
					return err
				}
				names := map[uuid.UUID]string{}
				for _, co := range cos {
					names[co.ID] = co.Name
				}
				res, err := newQueue(st, c).RunBatch(ctx, id)
				w := c.OutOrStdout()
				slices.SortFunc(res.Jobs, func(a, b *directory.Job) int { return strings.Compare(names[a.CompanyID], names[b.CompanyID]) })
				for _, j := range res.Jobs {
					fmt.Fprintf(w, "%s: job %s %s (%s, %d of %d rows processed)\n", names[j.CompanyID], j.ID, j.Status, j.Name, j.Processed, j.Total)
				}
				for _, b := range res.Busy {
					fmt.Fprintf(w, "%s: busy: another run is processing it\n", names[b])
				}
				fmt.Fprintf(w, "batch run: %d jobs processed, %d superseded, %d interrupted jobs queued again, %d companies busy\n",
					len(res.Jobs), res.Superseded, res.Requeued, len(res.Busy))
				if err != nil {
					return exitWith(ExitFailure, "batch run: %v", err)
				}
				return nil
			})
		},
	}
	c.Flags().StringVar(&company, "company", "", "process only this company")
	return c
}

func cmdContext(c *cobra.Command) context.Context {
	if ctx := c.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}

// batchQueueCommand queues an archive file as an upload would. It is
// hidden: uploads come through the API; operators and tests use it.
func batchQueueCommand(sf *storeFlags) *cobra.Command {
	var company, by string
	c := &cobra.Command{
		Use:    "queue --company NAME ARCHIVE.zip",
		Short:  "queue an archive file as an upload would",
		Hidden: true,
		Long: `Queue ARCHIVE.zip for the company as an upload would: check its
archive-level rules, store it with a QUEUED job, and print the job. The
next batch run applies it.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if company == "" {
				return exitWith(ExitFailure, "batch queue needs --company NAME; usage: %s", c.UseLine())
			}
			return withStore(c, sf, func(ctx context.Context, st directory.Store) error {
				co, err := findCompany(ctx, st, company)
				if err != nil {
					return err
				}
				f, err := os.Open(args[0])
				if err != nil {
					return exitWith(ExitFailure, "%v", err)
				}
				defer f.Close()
				j, err := newQueue(st, c).Intake(ctx, co, filepath.Base(args[0]), by, "epicd/"+version.Version, f)
				switch {
				case errors.Is(err, queue.ErrInvalidArchive):
					printJob(c.OutOrStdout(), j)
					return exitWith(ExitValidation, "%s is invalid; nothing was queued", args[0])
				case errors.Is(err, queue.ErrTooLarge), errors.Is(err, queue.ErrNotEnabled):
					return exitWith(ExitFailure, "%s: %v", args[0], err)
				case err != nil:
					return err
				}
				fmt.Fprintf(c.OutOrStdout(), "queued job %s (%s, %d rows)\n", j.ID, j.Name, j.Total)
				return nil
			})
		},
	}
	c.Flags().StringVar(&company, "company", "", "the company to queue the archive for")
	c.Flags().StringVar(&by, "by", "epicd batch queue", "who uploaded it, as the job records")
	return c
}
