package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/epicsync/epic/internal/archive"
	"github.com/epicsync/epic/internal/client"
	"github.com/epicsync/epic/internal/generate"
)

// The demo's company and API user.
const (
	demoCompany = "Demo Corp"
	demoUser    = "demo-uploader"
)

func demoCommand() *cobra.Command {
	var (
		users  int
		dir    string
		listen string
		keep   bool
		serveF bool
	)
	c := &cobra.Command{
		Use:   "demo",
		Short: "run the whole EPIC path on this machine, with nothing to set up",
		Long: `Run the whole EPIC path on this machine, with nothing to set up: start an
embedded epicd (SQLite, HTTPS with a self-signed certificate, on loopback),
create a company and an API user, generate a realistic archive, upload it
with "epic file --wait", print the report, then change some people (some
changed, some new, some gone) and sync again under mirror, and print that
report too.

Everything lives in a temporary folder that is removed at the end, unless
--dir names one (kept) or --keep is given. With --serve the service stays
up afterwards, with the commands to reach it printed, until Ctrl-C.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if users < 1 {
				return exitWith(ExitFailure, "--users %d: the demo needs at least 1 person", users)
			}
			if dir == "" {
				d, err := os.MkdirTemp("", "epic-demo-")
				if err != nil {
					return exitWith(ExitFailure, "make a folder for the demo: %v", err)
				}
				dir = d
				if !keep {
					defer os.RemoveAll(d)
				}
			} else if err := os.MkdirAll(dir, 0o750); err != nil {
				return exitWith(ExitFailure, "make the demo folder: %v", err)
			}
			return runDemo(c, demoOptions{dir: dir, users: users, listen: listen, serve: serveF, keep: keep || c.Flags().Changed("dir")})
		},
	}
	c.Flags().IntVar(&users, "users", 1000, "people in the generated company")
	c.Flags().StringVar(&dir, "dir", "", "folder for the demo's service data and archives (kept; default: a temporary folder, removed)")
	c.Flags().StringVar(&listen, "listen", "127.0.0.1:0", "address of the embedded service (loopback; port 0 picks a free one)")
	c.Flags().BoolVar(&keep, "keep", false, "keep the temporary folder")
	c.Flags().BoolVar(&serveF, "serve", false, "keep the service running afterwards, until Ctrl-C")
	return c
}

type demoOptions struct {
	dir, listen string
	users       int
	serve, keep bool
}

func runDemo(c *cobra.Command, o demoOptions) error {
	out, errw := c.OutOrStdout(), c.ErrOrStderr()
	began := time.Now()
	data := filepath.Join(o.dir, "epicd-data")
	pwFile := filepath.Join(o.dir, "password")
	fmt.Fprintf(out, "epic demo: the whole EPIC path on this machine, in %s\n\n", o.dir)

	// 1. The company and its uploader, with the real epicd commands.
	pw := make([]byte, 12)
	if _, err := rand.Read(pw); err != nil {
		return exitWith(ExitFailure, "make a password: %v", err)
	}
	if err := os.WriteFile(pwFile, []byte(hex.EncodeToString(pw)+"\n"), 0o600); err != nil {
		return exitWith(ExitFailure, "write the password file: %v", err)
	}
	fmt.Fprintf(out, "1. epicd company create %q; epicd user add --user %s (password in %s)\n", demoCompany, demoUser, pwFile)
	var setup bytes.Buffer
	if code := Epicd([]string{"--data", data, "company", "create", demoCompany}, &setup, &setup); code != ExitOK && !bytes.Contains(setup.Bytes(), []byte("exists")) {
		return exitWith(ExitFailure, "create the company: %s", setup.String())
	}
	setup.Reset()
	if code := Epicd([]string{"--data", data, "user", "add", "--company", demoCompany, "--user", demoUser,
		"--password-file", pwFile, "--role", "epic-uploader", "--role", "reader"}, &setup, &setup); code != ExitOK {
		if !bytes.Contains(setup.Bytes(), []byte("taken")) {
			return exitWith(ExitFailure, "add the API user: %s", setup.String())
		}
		// A kept --dir from an earlier demo: the user is there with
		// another password; the demo cannot log in as it.
		return exitWith(ExitFailure, "%s was made by an earlier demo; give a new --dir, or remove that folder", o.dir)
	}

	// 2. The service, in this process: the same code as epicd serve.
	logFile, err := os.OpenFile(filepath.Join(o.dir, "epicd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return exitWith(ExitFailure, "open the service log: %v", err)
	}
	defer logFile.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithCancel(ctx)
	urls := make(chan string, 1)
	served := make(chan error, 1)
	go func() {
		sf := &storeFlags{data: data}
		served <- serve(ctx, sf, serveOptions{listen: o.listen, interval: time.Second,
			maxUpload: archive.DefaultLimits().MaxArchiveBytes, ready: func(u string) { urls <- u }},
			slog.New(slog.NewTextHandler(logFile, nil)))
	}()
	defer func() { cancel(); <-served }()
	var url string
	select {
	case url = <-urls:
	case err := <-served:
		return exitWith(ExitFailure, "start the embedded service: %v (its log: %s)", err, logFile.Name())
	}
	ca := filepath.Join(data, "cert.pem")
	fmt.Fprintf(out, "2. epicd serve: %s, SQLite in %s, batch run every second\n", url, data)
	if fp, err := certFingerprint(ca); err == nil {
		fmt.Fprintf(out, "   self-signed certificate %s, SHA-256 %s\n", ca, fp)
	}
	remote := []string{"--url", url, "--ca-file", ca, "--user", demoUser, "--password-file", pwFile}

	// 3 and 4: two nights. The second has two rows an HR system might
	// well send, which the service refuses row by row: the report names
	// their file, line and why, and the job ends COMPLETED_WITH_ERRORS.
	nights := []struct {
		title   string
		variant generate.Options
		mistake bool
		want    int
	}{
		{fmt.Sprintf("Night 1: %d people from the HR system, the first sync", o.users), generate.Options{}, false, ExitOK},
		{"Night 2: 2 % of the people changed, 2 % new, 2 % gone (mirror=Y removes them),\n" +
			"   and two rows with mistakes: a person at a site that does not exist, a phone of nobody",
			generate.Options{ChangePercent: 2, AddPercent: 2, DropPercent: 2}, true, ExitJob},
	}
	for i, n := range nights {
		zip := filepath.Join(o.dir, fmt.Sprintf("night-%d.zip", i+1))
		if err := demoArchive(zip, o.users, n.variant, n.mistake); err != nil {
			return exitWith(ExitFailure, "generate %s: %v", zip, err)
		}
		fmt.Fprintf(out, "\n%d. %s\n   $ epic file %s --wait\n", i+3, n.title, filepath.Base(zip))
		var got bytes.Buffer
		code := Epic(append([]string{"file", zip, "--wait"}, remote...), io.MultiWriter(indent(out), &got), indent(errw))
		if code != n.want {
			return exitWith(ExitFailure, "the upload of night %d ended with exit %d, not %d; the service log is %s", i+1, code, n.want, logFile.Name())
		}
		if code == ExitJob {
			fmt.Fprintf(out, "   (exit %d: the job completed, but some rows failed; the report says which and why)\n", code)
		}
		m := regexp.MustCompile(`job ([0-9a-f-]{36})`).FindStringSubmatch(got.String())
		if m == nil {
			return exitWith(ExitFailure, "epic file printed no job id")
		}
		if n.mistake {
			fmt.Fprintf(out, "   $ epic report %s\n", m[1])
			var rep bytes.Buffer
			if code := Epic(append([]string{"report", m[1]}, remote...), &rep, indent(errw)); code != ExitOK {
				return exitWith(code, "the report of night %d: exit %d", i+1, code)
			}
			// The summary is above already: show the details.
			if k := bytes.Index(rep.Bytes(), []byte("\nFILE")); k >= 0 {
				indent(out).Write(rep.Bytes()[k+1:])
			} else {
				indent(out).Write(rep.Bytes())
			}
		}
	}

	// 5. The directory as the API serves it.
	fmt.Fprintf(out, "\n5. The directory through the API: GET %s/api/xm/1/people?limit=3\n", url)
	if err := demoPeek(ctx, url, ca, pwFile, out); err != nil {
		fmt.Fprintf(out, "   (could not read it: %v)\n", err)
	}
	fmt.Fprintf(out, "\nDone in %.1f s.", time.Since(began).Seconds())
	if o.keep {
		fmt.Fprintf(out, " Everything is in %s.\n", o.dir)
	} else {
		fmt.Fprintln(out, " The temporary folder is removed; --dir DIR or --keep keeps it.")
	}
	if !o.serve {
		return nil
	}
	pwText, _ := os.ReadFile(pwFile)
	fmt.Fprintf(out, `
The service keeps running (Ctrl-C stops it). Try:
  export EPIC_URL=%s EPIC_USER=%s EPIC_PASSWORD=%s EPIC_CA_FILE=%s
  epic jobs
  curl --cacert "$EPIC_CA_FILE" -u "$EPIC_USER:$EPIC_PASSWORD" "$EPIC_URL/api/xm/1/groups?limit=5"
`, url, demoUser, bytes.TrimSpace(pwText), ca)
	select {
	case <-ctx.Done():
	case err := <-served:
		return exitWith(ExitFailure, "the service stopped: %v", err)
	}
	fmt.Fprintln(out, "stopped")
	return nil
}

// demoArchive writes a generated mirror archive of n people (a variant:
// the next night's) to the zip at path; with mistake, two rows the
// service must refuse are appended.
func demoArchive(path string, n int, variant generate.Options, mistake bool) error {
	dir := strings.TrimSuffix(path, ".zip")
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	w, err := archive.NewDirWriter(dir, archive.Latest)
	if err != nil {
		return err
	}
	m := archive.DefaultManifest()
	m.Mirror = true
	variant.Users, variant.Seed, variant.Manifest = n, 1, m
	if _, err := generate.Write(w, variant); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	if mistake {
		if err := appendRow(filepath.Join(dir, "DS_USERS.csv"), map[string]string{"EXTERNAL_KEY": "HR-90001",
			"USER_ID": "jnewhire", "FIRST_NAME": "Jo", "LAST_NAME": "Newhire", "STATUS": "ACTIVE",
			"ROLE_LIST": "Standard User", "SITE_NAME": "Atlantis Office", "IS_EXTERNALLY_OWNED": "Y", "ACTION": "Y"}); err != nil {
			return err
		}
		if err := appendRow(filepath.Join(dir, "DS_VOICE_DEVICES.csv"), map[string]string{"EXTERNAL_KEY": "HR-90002-Work Phone",
			"USER_KEY": "HR-90002", "DEVICE_NAME": "Work Phone", "COUNTRY": "United States", "AREA_CODE": "202", "PHONE_NUMBER": "(202) 555-0143",
			"STATUS": "ACTIVE", "DEFAULT_DEVICE": "N", "DEVICE_ORDER": "1", "DELAY": "0", "LOCK_24x7": "N",
			"IS_EXTERNALLY_OWNED": "Y", "ACTION": "Y"}); err != nil {
			return err
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	zw := archive.NewZipWriter(f, archive.Latest)
	if err := archive.PackDir(dir, zw); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return f.Close()
}

// appendRow appends one row to the CSV file, its values placed under the
// file's own header by column name.
func appendRow(path string, values map[string]string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	header, _, _ := bytes.Cut(b, []byte("\n"))
	cols, err := csv.NewReader(bytes.NewReader(header)).Read()
	if err != nil {
		return fmt.Errorf("%s header: %w", path, err)
	}
	row := make([]string, len(cols))
	for i, c := range cols {
		row[i] = values[strings.TrimSpace(c)]
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(f)
	cw.Write(row)
	cw.Flush()
	if err := cw.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// demoPeek prints the total and the first people the API serves.
func demoPeek(ctx context.Context, url, ca, pwFile string, out io.Writer) error {
	cfg := client.DefaultConfig()
	cfg.Server.URL, cfg.Server.CAFile = url, ca
	pw, err := os.ReadFile(pwFile)
	if err != nil {
		return err
	}
	cfg.Auth.Username, cfg.Auth.Password = demoUser, string(bytes.TrimSpace(pw))
	cl, err := client.New(cfg)
	if err != nil {
		return err
	}
	var page struct {
		Total int `json:"total"`
		Data  []struct {
			TargetName string `json:"targetName"`
			FirstName  string `json:"firstName"`
			LastName   string `json:"lastName"`
			Site       struct {
				Name string `json:"name"`
			} `json:"site"`
		} `json:"data"`
	}
	if err := cl.GetJSON(ctx, "/api/xm/1/people?limit=3", &page); err != nil {
		return err
	}
	fmt.Fprintf(out, "   %d people in %s; the first %d:\n", page.Total, demoCompany, len(page.Data))
	for _, p := range page.Data {
		fmt.Fprintf(out, "   - %s (%s %s, %s)\n", p.TargetName, p.FirstName, p.LastName, p.Site.Name)
	}
	return nil
}

// certFingerprint is the SHA-256 fingerprint of the PEM certificate file.
func certFingerprint(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return "", fmt.Errorf("%s: no PEM certificate", path)
	}
	sum := sha256.Sum256(blk.Bytes)
	return fingerprint(sum[:]), nil
}

// indent writes every line to w with three spaces before it.
func indent(w io.Writer) io.Writer { return &indenter{w: w, bol: true} }

type indenter struct {
	w   io.Writer
	bol bool
}

func (d *indenter) Write(p []byte) (int, error) {
	for _, line := range bytes.SplitAfter(p, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		// A terminal progress line redraws itself with \r: keep it as it is.
		if d.bol && line[0] != '\r' {
			if _, err := d.w.Write([]byte("   ")); err != nil {
				return 0, err
			}
		}
		if _, err := d.w.Write(line); err != nil {
			return 0, err
		}
		d.bol = line[len(line)-1] == '\n'
	}
	return len(p), nil
}
