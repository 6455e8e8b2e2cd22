package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/epicsync/epic/internal/archive"
	"github.com/epicsync/epic/internal/client"
	"github.com/epicsync/epic/internal/sqlsource"
)

// exportSQL is the "sql" exporter.
func exportSQL(ctx context.Context, configPath, outDir string, progress io.Writer) (int, error) {
	cfg, err := sqlsource.LoadConfig(configPath)
	if err != nil {
		return 0, exitWith(ExitFailure, "configuration: %v", err)
	}
	return writeExport(configPath, "sql", outDir, cfg.ArchiveVersion(), progress, func(w *archive.Writer) (int, error) {
		st, err := sqlsource.Export(ctx, cfg, w, func(file string, rows int) {
			fmt.Fprintf(progress, "%s: %d rows\n", file, rows)
		})
		return st.People(), err
	})
}

// exportSQLCommand is `epic export sql`: attach it to the export command.
func exportSQLCommand() *cobra.Command {
	var config, out string
	c := &cobra.Command{
		Use:   "sql --config F -o DIR",
		Short: "export an archive folder from an SQL database",
		Long: `Run one query per DS file against the database of [sql] and write the
rows as the archive folder DIR. The result columns of each query are named
after the file's columns (case-insensitively); a column the file does not
have is an error. NULL is written empty, booleans Y/N. ACTION and
IS_EXTERNALLY_OWNED are Y when the query has no such column. A file with
no query is written blank (header only): under mirror (the default) that
removes every EPIC object of its type.

  [sql]
  driver = "postgres"      # postgres, mysql, sqlserver or sqlite
  dsn = "postgres://epic@hr.example.com/hr"   # or dsn_file; ENC(...) allowed
  mirror = true
  [sql.queries]
  DS_SITES = "SELECT code AS EXTERNAL_KEY, name AS SITENAME, ..."
  DS_USERS = "SELECT emp_id AS EXTERNAL_KEY, login AS USER_ID, ..."

The folder is written only when the export finished, has no ERROR finding
(findings in DIR.findings.csv) and passes the source-health check of
[health]; a folder already at DIR is replaced. See docs/sources/sql.md.

Exit codes: 0 written; 2 validation errors; 4 refused by the health check;
255 anything else.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			ctx, stop := interruptContext(c)
			defer stop()
			people, err := exportSQL(ctx, config, out, c.ErrOrStderr())
			if err != nil {
				return err
			}
			if err := recordExport(config, "sql", people); err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "wrote %s: %d people\n", out, people)
			return nil
		},
	}
	c.Flags().StringVar(&config, "config", client.DefaultConfigFile, "configuration file (TOML)")
	c.Flags().StringVarP(&out, "output", "o", "", "archive folder to write")
	return c
}

// recordExport remembers a successful export for the next health check.
func recordExport(config, typ string, people int) error {
	name, err := sourceName(config, typ)
	if err != nil {
		return exitWith(ExitFailure, "configuration: %v", err)
	}
	h, err := loadHealth(config)
	if err != nil {
		return exitWith(ExitFailure, "configuration: %v", err)
	}
	if err := h.Record(name, people, timeNow()); err != nil {
		return exitWith(ExitFailure, "%v", err)
	}
	return nil
}
