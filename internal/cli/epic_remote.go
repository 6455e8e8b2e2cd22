package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/epicsync/epic/internal/archive"
	"github.com/epicsync/epic/internal/client"
	"github.com/epicsync/epic/internal/version"
)

// serverFlags are the flags of every command that talks to the service.
type serverFlags struct {
	config, url, user, passwordFile, caFile string
}

const configHelp = `The service and the login come from a TOML file (--config, default
./epic.toml if present):

  [server]
  url = "https://epic.example.com"
  ca_file = ""            # PEM of an extra CA or the service's certificate
  [auth]
  username = "epic-uploader"
  password_file = "/etc/epic/password"   # or password = "..."

then the environment (EPIC_URL, EPIC_USER, EPIC_PASSWORD, EPIC_CA_FILE),
then the flags; a flag wins over the environment, which wins over the file.`

func (f *serverFlags) add(c *cobra.Command) {
	fl := c.Flags()
	fl.StringVar(&f.config, "config", client.DefaultConfigFile, "configuration file (TOML); the default is read only if it exists")
	fl.StringVar(&f.url, "url", "", "service base URL (overrides server.url and EPIC_URL)")
	fl.StringVar(&f.user, "user", "", "API user name (overrides auth.username and EPIC_USER)")
	fl.StringVar(&f.passwordFile, "password-file", "", "file holding the API user's password (overrides auth.password and EPIC_PASSWORD)")
	fl.StringVar(&f.caFile, "ca-file", "", "PEM file of a CA or of the service's self-signed certificate to trust (overrides server.ca_file and EPIC_CA_FILE)")
}

// load reads the configuration: file, environment, flags.
func (f *serverFlags) load(c *cobra.Command) (client.Config, error) {
	cfg, err := client.Load(f.config, c.Flags().Changed("config"), os.Getenv,
		client.Overrides{URL: f.url, CAFile: f.caFile, Username: f.user, PasswordFile: f.passwordFile})
	if err != nil {
		return cfg, exitWith(ExitFailure, "configuration: %v", err)
	}
	return cfg, nil
}

// newAPIClient makes the client of a configured service; needAuth asks for a
// username and password too.
func newAPIClient(c *cobra.Command, cfg client.Config, needAuth bool) (*client.Client, error) {
	if needAuth {
		if err := cfg.RequireCredentials(); err != nil {
			return nil, exitWith(ExitFailure, "configuration: %v", err)
		}
	}
	stderr := c.ErrOrStderr()
	cl, err := client.New(cfg, client.WithLogf(func(format string, args ...any) {
		fmt.Fprintf(stderr, "epic: "+format+"\n", args...)
	}))
	if err != nil {
		return nil, exitWith(ExitFailure, "configuration: %v", err)
	}
	return cl, nil
}

// connect loads the configuration and makes the client; it is an error
// if no service is configured.
func (f *serverFlags) connect(c *cobra.Command) (*client.Client, error) {
	cfg, err := f.load(c)
	if err != nil {
		return nil, err
	}
	if !cfg.HasServer() {
		return nil, exitWith(ExitFailure, "no server is configured: set url in the [server] section of epic.toml, EPIC_URL or --url")
	}
	return newAPIClient(c, cfg, true)
}

// interruptContext is the command's context, cancelled by Ctrl-C.
func interruptContext(c *cobra.Command) (context.Context, context.CancelFunc) {
	ctx := c.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	return signal.NotifyContext(ctx, os.Interrupt)
}

// clientFailure turns a client error into exit code 255 with its message.
func clientFailure(err error) error {
	if e := (*exitError)(nil); errors.As(err, &e) {
		return err
	}
	return exitWith(ExitFailure, "%v", err)
}

// uploadArchive is epic file's upload, after validation found no error
// (or --force). res is the validation's result.
func uploadArchive(c *cobra.Command, path string, res *archive.Result, wait bool, poll time.Duration, sf *serverFlags) error {
	cfg, err := sf.load(c)
	if err != nil {
		return err
	}
	if !cfg.HasServer() {
		return exitWith(ExitFailure, "no server is configured, so %s was validated but not uploaded: set url in the [server] section of epic.toml, EPIC_URL or --url (use -v to validate only)", path)
	}
	cl, err := newAPIClient(c, cfg, true)
	if err != nil {
		return err
	}
	ctx, stop := interruptContext(c)
	defer stop()
	if _, err := cl.CheckUpload(ctx, string(res.Manifest.Version)); err != nil {
		return exitWith(ExitFailure, "%v; %s was not uploaded", err, path)
	}
	out := c.OutOrStdout()
	job, err := cl.Upload(ctx, path)
	var rej *client.RejectedError
	if errors.As(err, &rej) {
		printServiceFindings(out, rej.Job)
		return exitWith(ExitValidation, "the service refused %s: job %s is %s", path, rej.Job.ID, rej.Job.Status)
	}
	if err != nil {
		return clientFailure(err)
	}
	fmt.Fprintf(out, "uploaded %s: job %s (%s)\n", path, job.ID, job.Status)
	code := ExitOK
	if res.Errors > 0 {
		code = ExitValidation
	}
	if wait {
		job, err = followJob(ctx, c, cl, job, poll)
		if err != nil {
			return err
		}
		printJobSummary(out, job)
		if job.Status != client.StatusCompleted {
			return exitWith(ExitJob, "%s", jobEnded(job))
		}
	}
	if code == ExitValidation {
		return exitWith(ExitValidation, "%s was uploaded with errors (--force)", path)
	}
	return nil
}

// jobEnded says why a job that ended in another status than COMPLETED did.
func jobEnded(j *client.Job) string {
	switch j.Status {
	case client.StatusHeld:
		return fmt.Sprintf("job %s is HELD by the safety gate: it would remove more than the company's limits allow. "+
			"See what with epic report %s; an administrator applies it with epic approve %s or drops it with epic reject %s", j.ID, j.ID, j.ID, j.ID)
	case client.StatusSuperseded:
		by := "a newer upload"
		if j.SupersededBy != nil {
			by = "job " + *j.SupersededBy
		}
		return fmt.Sprintf("job %s was SUPERSEDED by %s and not applied", j.ID, by)
	}
	return fmt.Sprintf("job %s ended %s; see epic report %s", j.ID, j.Status, j.ID)
}

// followJob polls a job until it ends, showing progress on stderr: a line
// that rewrites itself on a terminal, a line per change of status
// otherwise.
func followJob(ctx context.Context, c *cobra.Command, cl *client.Client, job *client.Job, poll time.Duration) (*client.Job, error) {
	stderr := c.ErrOrStderr()
	tty := false
	if f, ok := stderr.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	start := time.Now()
	last := ""
	progress := func(j *client.Job) {
		if tty {
			fmt.Fprintf(stderr, "\r\033[K%s", progressLine(j, time.Since(start)))
			return
		}
		if j.Status != last {
			fmt.Fprintf(stderr, "job %s: %s%s\n", j.ID, j.Status, rowsDone(j))
			last = j.Status
		}
	}
	progress(job)
	j, err := cl.Wait(ctx, job.ID, client.WaitOptions{Min: poll, Progress: progress})
	if tty {
		fmt.Fprint(stderr, "\r\033[K")
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, exitWith(ExitFailure, "stopped following job %s; it goes on in the service: epic status %s", job.ID, job.ID)
		}
		return nil, exitWith(ExitFailure, "following job %s: %v", job.ID, err)
	}
	return j, nil
}

func rowsDone(j *client.Job) string {
	if j.TotalCount == 0 {
		return ""
	}
	return fmt.Sprintf(", %d of %d rows", j.ProcessedCount, j.TotalCount)
}

// progressLine is the terminal's progress: a bar, the rows, the status
// and the time since the upload.
func progressLine(j *client.Job, took time.Duration) string {
	const width = 30
	frac := 0.0
	if j.TotalCount > 0 {
		frac = min(float64(j.ProcessedCount)/float64(j.TotalCount), 1)
	}
	n := int(frac * width)
	bar := strings.Repeat("=", n) + strings.Repeat(" ", width-n)
	if n > 0 && n < width {
		bar = strings.Repeat("=", n-1) + ">" + strings.Repeat(" ", width-n)
	}
	return fmt.Sprintf("[%s] %3.0f%%  %d/%d rows  %-10s %s", bar, frac*100, j.ProcessedCount, j.TotalCount, j.Status, took.Round(time.Second))
}

// printJobSummary prints a job's state and its summary table.
func printJobSummary(w io.Writer, j *client.Job) {
	took := ""
	if !j.FinishedAt.IsZero() && !j.Started.IsZero() {
		took = " in " + j.FinishedAt.Sub(j.Started.Time).Round(time.Second).String()
	}
	fmt.Fprintf(w, "job %s (%s): %s%s\n", j.ID, j.Name, j.Status, took)
	if len(j.Summary) == 0 {
		return
	}
	rows := [][]string{{"SYNCHRONIZER", "READ", "INSERTED", "UPDATED", "ADOPTED", "UNCHANGED", "REMOVED", "REMOVED_BY_MIRROR", "IGNORED", "FAILED"}}
	var t client.SummaryLine
	row := func(l client.SummaryLine) {
		r := []string{l.Synchronizer}
		for _, n := range []int{l.Read, l.Inserted, l.Updated, l.Adopted, l.Unchanged, l.Removed, l.RemovedByMirror, l.Ignored, l.Failed} {
			r = append(r, strconv.Itoa(n))
		}
		rows = append(rows, r)
	}
	for _, l := range j.Summary {
		row(l)
		t.Read += l.Read
		t.Inserted += l.Inserted
		t.Updated += l.Updated
		t.Adopted += l.Adopted
		t.Unchanged += l.Unchanged
		t.Removed += l.Removed
		t.RemovedByMirror += l.RemovedByMirror
		t.Ignored += l.Ignored
		t.Failed += l.Failed
	}
	t.Synchronizer = "TOTAL"
	row(t)
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], len(c))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		for i, c := range r {
			if i == 0 {
				fmt.Fprintf(&b, "%-*s", widths[i], c) // names left, numbers right
			} else {
				fmt.Fprintf(&b, "  %*s", widths[i], c)
			}
		}
		fmt.Fprintln(w, b.String())
	}
}

// printServiceFindings prints the findings of an upload the service refused.
func printServiceFindings(w io.Writer, j *client.Job) {
	if len(j.Findings) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FILE\tLINE\tCOLUMN\tSEVERITY\tCODE\tMESSAGE")
	for i, f := range j.Findings {
		if i == shownFindings {
			break
		}
		line := "-"
		if f.Line > 0 {
			line = strconv.Itoa(f.Line)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", orDash(f.File), line, orDash(f.Column), f.Severity, f.Code, f.Message)
	}
	tw.Flush()
	if more := len(j.Findings) - shownFindings; more > 0 {
		fmt.Fprintf(w, "... and %d more (epic status %s --json has them all)\n", more, j.ID)
	}
}

func jobsCommand() *cobra.Command {
	var (
		sf     serverFlags
		limit  int
		asJSON bool
	)
	c := &cobra.Command{
		Use:   "jobs",
		Short: "list the company's import jobs, newest first",
		Long:  "List the import jobs of the company of the configured user, newest first.\n\n" + configHelp,
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := sf.connect(c)
			if err != nil {
				return err
			}
			ctx, stop := interruptContext(c)
			defer stop()
			jobs, total, err := cl.Jobs(ctx, limit)
			if err != nil {
				return clientFailure(err)
			}
			out := c.OutOrStdout()
			if asJSON {
				return writeRawList(out, jobs)
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tSTATUS\tSTARTED\tBY\tROWS")
			for _, j := range jobs {
				by := "-"
				if j.By != nil {
					by = j.By.TargetName
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d/%d\n", j.ID, j.Name, j.Status, jobTime(j.Started), by, j.ProcessedCount, j.TotalCount)
			}
			tw.Flush()
			if total > len(jobs) {
				fmt.Fprintf(out, "%d of %d jobs (--limit 0 lists all)\n", len(jobs), total)
			} else {
				fmt.Fprintf(out, "%s\n", plural(len(jobs), "job"))
			}
			return nil
		},
	}
	sf.add(c)
	c.Flags().IntVar(&limit, "limit", 20, "list at most this many jobs (0: all)")
	c.Flags().BoolVar(&asJSON, "json", false, "print the jobs as the service's JSON, one array")
	return c
}

func writeRawList(w io.Writer, jobs []*client.Job) error {
	fmt.Fprint(w, "[")
	for i, j := range jobs {
		if i > 0 {
			fmt.Fprint(w, ",")
		}
		fmt.Fprintf(w, "\n%s", strings.TrimSpace(string(j.Raw)))
	}
	fmt.Fprint(w, "\n]\n")
	return nil
}

func jobTime(t client.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func statusCommand() *cobra.Command {
	var (
		sf     serverFlags
		asJSON bool
	)
	c := &cobra.Command{
		Use:   "status JOB",
		Short: "show one import job",
		Long: `Show one import job: its status, who uploaded it and when, and its summary
(one line per file). JOB is the id that epic file printed or epic jobs lists.

` + configHelp,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := sf.connect(c)
			if err != nil {
				return err
			}
			ctx, stop := interruptContext(c)
			defer stop()
			j, err := cl.Job(ctx, args[0])
			if err != nil {
				return clientFailure(err)
			}
			out := c.OutOrStdout()
			if asJSON {
				fmt.Fprintf(out, "%s\n", strings.TrimSpace(string(j.Raw)))
				return nil
			}
			printJobDetails(out, j)
			return nil
		},
	}
	sf.add(c)
	c.Flags().BoolVar(&asJSON, "json", false, "print the job as the service's JSON")
	return c
}

// printJobDetails prints the fields of a job a person asks about, then its summary.
func printJobDetails(w io.Writer, j *client.Job) {
	tw := tabwriter.NewWriter(w, 0, 4, 1, ' ', 0)
	fmt.Fprintf(tw, "id:\t%s\n", j.ID)
	fmt.Fprintf(tw, "name:\t%s\n", j.Name)
	fmt.Fprintf(tw, "status:\t%s\n", j.Status)
	by := "-"
	if j.By != nil {
		by = j.By.TargetName
	}
	fmt.Fprintf(tw, "uploaded:\t%s by %s (%s)\n", jobTime(j.Started), by, orDash(j.ClientVersion))
	fmt.Fprintf(tw, "updated:\t%s\n", jobTime(j.LastUpdatedAt))
	fmt.Fprintf(tw, "finished:\t%s\n", jobTime(j.FinishedAt))
	fmt.Fprintf(tw, "rows:\t%d of %d processed\n", j.ProcessedCount, j.TotalCount)
	if m := j.Manifest; m != nil {
		fmt.Fprintf(tw, "manifest:\tversion %s, mirror %s, ignore device order and delay %s, device names to ignore: %s\n",
			m.Version, yn(m.Mirror), yn(m.IgnoreDeviceOrderAndDelay), orDash(strings.Join(m.DeviceNamesToIgnore, ", ")))
	}
	if j.SupersededBy != nil {
		fmt.Fprintf(tw, "superseded by:\t%s\n", *j.SupersededBy)
	}
	tw.Flush()
	if len(j.Summary) > 0 {
		fmt.Fprintln(w)
		printJobSummary(w, j)
	}
	printServiceFindings(w, j)
}

func yn(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// shownMessages is how many report details epic report prints.
const shownMessages = 50

func reportCommand() *cobra.Command {
	var (
		sf     serverFlags
		asCSV  bool
		output string
	)
	c := &cobra.Command{
		Use:   "report JOB [--csv] [-o FILE]",
		Short: "print or download the report of an import job",
		Long: `Print the report of an import job: its summary and its details (every
warning and failure, the first 50 on the terminal). With --csv, write the
whole report as CSV to standard output or, with -o, to FILE.

` + configHelp,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			id := args[0]
			cl, err := sf.connect(c)
			if err != nil {
				return err
			}
			ctx, stop := interruptContext(c)
			defer stop()
			out := c.OutOrStdout()
			if asCSV || output != "" {
				if output == "" {
					if _, err := cl.ReportCSV(ctx, id, out); err != nil {
						return clientFailure(err)
					}
					return nil
				}
				n, err := downloadTo(ctx, cl, id, output)
				if err != nil {
					return clientFailure(err)
				}
				fmt.Fprintf(out, "wrote the report of job %s to %s (%d bytes)\n", id, output, n)
				return nil
			}
			j, err := cl.Job(ctx, id)
			if err != nil {
				return clientFailure(err)
			}
			msgs, err := cl.ImportMessages(ctx, id)
			if err != nil {
				return clientFailure(err)
			}
			printJobSummary(out, j)
			printServiceFindings(out, j)
			if len(msgs) == 0 {
				fmt.Fprintln(out, "no warnings or failures")
				return nil
			}
			fmt.Fprintln(out)
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "FILE\tLINE\tROW_KEY\tSTATUS\tEVENT\tFIELD\tMESSAGE")
			for i, m := range msgs {
				if i == shownMessages {
					break
				}
				msg := m.Message
				if m.Value != "" {
					msg = fmt.Sprintf("%s (value: %s)", msg, clip(m.Value, 40))
				}
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\n", orDash(m.File), m.Line, orDash(m.RowKey), m.Status, m.EventType, orDash(m.Field), msg)
			}
			tw.Flush()
			if more := len(msgs) - shownMessages; more > 0 {
				fmt.Fprintf(out, "... and %d more (epic report %s --csv -o FILE has them all)\n", more, id)
			}
			fmt.Fprintf(out, "%s\n", plural(len(msgs), "message"))
			return nil
		},
	}
	sf.add(c)
	c.Flags().BoolVar(&asCSV, "csv", false, "write the report as CSV")
	c.Flags().StringVarP(&output, "output", "o", "", "write the CSV report to this file (implies --csv)")
	return c
}

// downloadTo writes the CSV report to path through a temporary file, so a
// failed download leaves no half report under the name.
func downloadTo(ctx context.Context, cl *client.Client, id, path string) (int64, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".epic-report-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name())
	n, err := cl.ReportCSV(ctx, id, tmp)
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, err
	}
	return n, os.Rename(tmp.Name(), path)
}

func decideCommand(what string) *cobra.Command {
	var sf serverFlags
	verb := map[string]string{"approve": "apply it as it is", "reject": "end it REJECTED, unapplied"}[what]
	c := &cobra.Command{
		Use:   what + " JOB",
		Short: what + " a HELD import job",
		Long: fmt.Sprintf(`%s a job the safety gate HELD: %s. Needs the company-admin role.

%s`, strings.ToUpper(what[:1])+what[1:], verb, configHelp),
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := sf.connect(c)
			if err != nil {
				return err
			}
			ctx, stop := interruptContext(c)
			defer stop()
			var j *client.Job
			if what == "approve" {
				j, err = cl.Approve(ctx, args[0])
			} else {
				j, err = cl.Reject(ctx, args[0])
			}
			if err != nil {
				return clientFailure(err)
			}
			fmt.Fprintf(c.OutOrStdout(), "job %s is now %s\n", j.ID, j.Status)
			return nil
		},
	}
	sf.add(c)
	return c
}

// runVersion is epic version: the client's versions, and with a
// configured service its version and whether the two fit.
func runVersion(c *cobra.Command, sf *serverFlags) error {
	out := c.OutOrStdout()
	vs := make([]string, len(archive.Versions))
	for i, v := range archive.Versions {
		vs[i] = string(v)
	}
	fmt.Fprintf(out, "epic %s\narchive versions: %s (writes %s by default)\n", version.Version, strings.Join(vs, ", "), archive.Latest)
	cfg, err := sf.load(c)
	if err != nil {
		return err
	}
	if !cfg.HasServer() {
		fmt.Fprintln(out, "server: none configured")
		return nil
	}
	cl, err := newAPIClient(c, cfg, false)
	if err != nil {
		return err
	}
	ctx, stop := interruptContext(c)
	defer stop()
	sv, err := cl.Version(ctx)
	if err != nil {
		return clientFailure(err)
	}
	fmt.Fprintf(out, "server: %s epicd %s (archive versions %s; needs epic %s or newer)\n",
		cl.URL(), sv.Version, strings.Join(sv.ArchiveVersions, ", "), orDash(sv.MinClientVersion))
	if err := client.Compatible(sv, client.ClientVersion(), string(archive.Latest), cl.URL()); err != nil {
		fmt.Fprintln(out, "compatible: no")
		return exitWith(ExitFailure, "%v", err)
	}
	fmt.Fprintln(out, "compatible: yes")
	return nil
}
