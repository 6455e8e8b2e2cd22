package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/epicsync/epic/internal/archive"
	"github.com/epicsync/epic/internal/premises"
)

// timeNow is the clock of the health state.
var timeNow = time.Now

// exportCloudSync is the "cloudsync" exporter: a premises epicd's
// company as a mirror archive.
func exportCloudSync(ctx context.Context, configPath, outDir string, progress io.Writer) (int, error) {
	cfg, err := premises.LoadConfig(configPath)
	if err != nil {
		return 0, exitWith(ExitFailure, "configuration: %v", err)
	}
	return writeExport(configPath, "cloudsync", outDir, archive.V1_3, progress, func(w *archive.Writer) (int, error) {
		start := time.Now()
		st, err := premises.Export(ctx, cfg, w, nil)
		if err != nil {
			return 0, err
		}
		fmt.Fprintf(progress, "read company %q from %s (schema version %d) in %s: %d people",
			cfg.Company, cfg.Where(), st.SchemaVersion, time.Since(start).Round(time.Millisecond), st.People())
		if st.MadeKeys > 0 {
			fmt.Fprintf(progress, ", %d objects without an external key named %s<UUID>", st.MadeKeys, premises.KeyPrefix)
		}
		fmt.Fprintln(progress)
		return st.People(), nil
	})
}

func cloudsyncCommand() *cobra.Command {
	var o syncOptions
	c := &cobra.Command{
		Use:   "cloudsync --config F",
		Short: "copy a premises epicd's company to the hosted service, and keep it in step",
		Long: `Read one company of a premises epicd straight from its database (SQLite
or PostgreSQL; read-only, in one consistent snapshot), write it as a
mirror archive, validate it, upload it to the service of [server] and
wait for its job. Run it again to keep the hosted company in step: each
run makes the hosted directory what the premises one is.

  [cloudsync]
  data = "/var/lib/epicd"    # the premises epicd's data folder (its --data: DATA/epicd.db)
  # database = "postgres://epic@db.example.com/epicd"   # or its --db (ENC(...) allowed)
  company = "Acme"

Objects that have no external key on premises are sent with the key
premises-<their premises UUID>. See docs/sources/cloudsync.md.

` + configHelp + "\n\n" + syncExitHelp,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			return runSync(c, &o, "cloudsync")
		},
	}
	o.add(c)
	return c
}
