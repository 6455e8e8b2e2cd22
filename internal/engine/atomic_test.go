package engine_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/archive"
	"github.com/epicsync/epic/internal/directory"
	"github.com/epicsync/epic/internal/generate"
	"github.com/epicsync/epic/internal/sqlite"
)

// skPeople is the size of the archives of TestApplyIsAtomicUnderSIGKILL.
const skPeople = 20000

// TestApplyIsAtomicUnderSIGKILL kills `epicd apply` at random moments and
// checks that the company's directory is then exactly as before the apply
// or exactly as after it, never anything in between; that the database
// then opens, passes SQLite's integrity check and takes the apply again.
//
// The directory starts as a generated archive of 20,000 people (seed 1,
// mirror=Y) applied to company Acme. The apply killed is of another
// generated archive (seed 2, same people keys, mirror=Y): it updates every
// person, inserts and removes (by mirror) thousands of devices, custom
// values and shifts. One uninterrupted apply of it, on a copy, gives the
// after-state and how long an apply takes; each killed run starts from a
// fresh copy of the before-state and is killed after a random delay in
// [0, that duration): half the runs spread over the whole apply, half in
// its last 15%, where the commit is.
func TestApplyIsAtomicUnderSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds epicd and applies 20,000 people several times")
	}
	bin := skBuildEpicd(t)
	work := t.TempDir()
	arc1 := skArchive(t, filepath.Join(work, "archive1.zip"), 1)
	arc2 := skArchive(t, filepath.Join(work, "archive2.zip"), 2)

	// The before-state: Acme with archive 1 applied.
	base := filepath.Join(work, "base")
	skEpicd(t, bin, base, "company", "create", "Acme")
	start := time.Now()
	skEpicd(t, bin, base, "apply", "--company", "Acme", arc1)
	t.Logf("apply of archive 1 (%d people, all new): %v", skPeople, time.Since(start).Round(time.Millisecond))
	before := skFingerprint(t, base)

	// The after-state, and how long an apply of archive 2 takes.
	full := skCopyDir(t, base, filepath.Join(work, "full"))
	start = time.Now()
	out := skEpicd(t, bin, full, "apply", "--company", "Acme", arc2)
	took := time.Since(start)
	t.Logf("apply of archive 2: %v; job %s", took.Round(time.Millisecond), skFirstLine(out))
	after := skFingerprint(t, full)
	if after.dir == before.dir {
		t.Fatalf("archive 2 changed nothing (%s); the test would prove nothing", before)
	}
	if after.jobs != before.jobs+1 {
		t.Fatalf("after the apply: %d jobs, want %d", after.jobs, before.jobs+1)
	}
	t.Logf("before: %s\nafter:  %s", before, after)

	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, seed>>32))
	t.Logf("random seed %d", seed)
	const runs = 6
	var nBefore, nAfter, nKilled int
	var retry string // a killed run's data folder, to apply again
	var retryState skPrint
	for i := range runs {
		// Runs 0-2 spread over [0, 85%) of the duration, runs 3-5 over
		// [85%, 100%): each in its own stratum, at a random point of it.
		var lo, hi float64
		if i < runs/2 {
			lo, hi = 0.85*float64(i)/(runs/2), 0.85*float64(i+1)/(runs/2)
		} else {
			k := i - runs/2
			lo, hi = 0.85+0.15*float64(k)/(runs/2), 0.85+0.15*float64(k+1)/(runs/2)
		}
		delay := time.Duration((lo + (hi-lo)*rng.Float64()) * float64(took))

		data := skCopyDir(t, base, filepath.Join(work, fmt.Sprintf("run%d", i)))
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(bin, "--data", data, "apply", "--company", "Acme", arc2)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		killErr := cmd.Process.Kill() // SIGKILL
		err := cmd.Wait()
		how := "killed"
		switch {
		case err == nil:
			how = "finished before the kill"
		case cmd.ProcessState != nil && !cmd.ProcessState.Exited():
			nKilled++ // ended by the signal
		default:
			t.Fatalf("run %d: epicd apply failed on its own: %v (kill: %v)\nstdout: %s\nstderr: %s", i, err, killErr, stdout.String(), stderr.String())
		}

		t0 := time.Now()
		got := skFingerprint(t, data)
		t1 := time.Now()
		skIntegrity(t, data)
		t.Logf("fingerprint %v, integrity %v", t1.Sub(t0), time.Since(t1))
		state := "NEITHER"
		switch got {
		case before:
			state = "before"
			nBefore++
		case after:
			state = "after"
			nAfter++
		}
		t.Logf("run %d: kill at %v (%.0f%% of the apply), %s: %s state", i, delay.Round(time.Millisecond),
			100*float64(delay)/float64(took), how, state)
		if state == "NEITHER" {
			t.Errorf("run %d: the directory after the kill is neither the before- nor the after-state:\ngot:    %s\nbefore: %s\nafter:  %s",
				i, got, before, after)
			continue
		}
		if how == "killed" {
			retry, retryState = data, got // the latest killed run: the nearest to the commit
		}
	}
	t.Logf("%d runs: %d in the before-state, %d in the after-state; %d killed, %d finished before the kill",
		runs, nBefore, nAfter, nKilled, runs-nKilled)

	// After a kill the database takes the apply again, and ends exactly as
	// an uninterrupted apply left it.
	if retry == "" {
		t.Logf("no run was killed (every apply finished first): nothing to apply again")
		return
	}
	skEpicd(t, bin, retry, "apply", "--company", "Acme", arc2)
	got := skFingerprint(t, retry)
	if got.dir != after.dir {
		t.Errorf("after a kill in the %s-state and a new apply, the directory is not the after-state:\ngot:   %s\nafter: %s",
			map[bool]string{true: "before", false: "after"}[retryState == before], got, after)
	}
	if got.jobs != retryState.jobs+1 {
		t.Errorf("after a kill and a new apply: %d jobs, want %d", got.jobs, retryState.jobs+1)
	}
	skIntegrity(t, retry)
}

func skFirstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// skBuildEpicd builds cmd/epicd into a temporary folder with the go
// command on PATH; the test is skipped only when there is none.
func skBuildEpicd(t *testing.T) string {
	t.Helper()
	gocmd, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("cannot build epicd: no go command on PATH (%v)", err)
	}
	bin := filepath.Join(t.TempDir(), "epicd")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	start := time.Now()
	out, err := exec.Command(gocmd, "build", "-o", bin, "github.com/epicsync/epic/cmd/epicd").CombinedOutput()
	if err != nil {
		t.Fatalf("go build epicd: %v\n%s", err, out)
	}
	t.Logf("built epicd in %v", time.Since(start).Round(time.Millisecond))
	return bin
}

// skArchive writes a generated archive of skPeople people, mirror=Y.
func skArchive(t *testing.T, path string, seed int64) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := archive.NewZipWriter(f, archive.Latest)
	m := archive.DefaultManifest()
	m.Mirror = true
	if _, err := generate.Write(w, generate.Options{Users: skPeople, Seed: seed, Manifest: m}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// skEpicd runs epicd on the data folder and fails the test unless it
// exits 0. It returns the standard output.
func skEpicd(t *testing.T, bin, data string, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, append([]string{"--data", data}, args...)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("epicd %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// skCopyDir copies the regular files of src (no process has them open)
// into the new folder dst and returns dst.
func skCopyDir(t *testing.T, src, dst string) string {
	t.Helper()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dst, 0o750); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		if err := skCopyFile(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func skCopyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// skPrint identifies a company's directory and jobs.
type skPrint struct {
	dir     string // hash of every object, IDs replaced by external keys
	jobs    int
	jobHash string // hash of the jobs' names, statuses, counts and summaries
	objects int
}

func (f skPrint) String() string {
	return fmt.Sprintf("%d objects, directory %s, %d jobs %s", f.objects, f.dir[:16], f.jobs, f.jobHash[:16])
}

// skFingerprint opens the store in the data folder (recovering it after a
// kill) and fingerprints company Acme: every object of the directory as a
// line of all its fields, the IDs it holds replaced by the external keys
// of the objects they name (new objects get new random IDs on every
// apply), sorted and hashed; and the jobs without their IDs and times.
func skFingerprint(t *testing.T, data string) skPrint {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(data, "epicd.db"))
	if err != nil {
		t.Fatalf("open the store after the run: %v", err)
	}
	defer st.Close()
	co, err := st.Company(ctx, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	var (
		lines  []string
		labels = map[uuid.UUID]string{}
		// objects by kind, kept until every label is known
		sites   []*directory.Site
		people  []*directory.Person
		devices []*directory.Device
		customs []*directory.CustomValue
		groups  []*directory.Group
		shifts  []*directory.Shift
		members []*directory.Member
	)
	label := func(kind string, c directory.Common, name string) {
		l := kind + ":" + c.ExternalKey
		if c.ExternalKey == "" {
			l = kind + ":=" + name // no key: by name (none in generated data)
		}
		labels[c.ID] = l
	}
	err = st.View(ctx, co.ID, func(v directory.View) error {
		return errors.Join(
			v.Sites(func(o *directory.Site) error { sites = append(sites, o); label("site", o.Common, o.Name); return nil }),
			v.People(func(o *directory.Person) error {
				people = append(people, o)
				label("person", o.Common, o.TargetName)
				return nil
			}),
			v.Devices(func(o *directory.Device) error {
				devices = append(devices, o)
				label("device", o.Common, o.OwnerID.String()+"|"+o.Name)
				return nil
			}),
			v.CustomValues(func(o *directory.CustomValue) error {
				customs = append(customs, o)
				label("custom", o.Common, o.PersonID.String()+"|"+o.FieldKey)
				return nil
			}),
			v.Groups(func(o *directory.Group) error {
				groups = append(groups, o)
				label("group", o.Common, o.TargetName)
				return nil
			}),
			v.Shifts(func(o *directory.Shift) error {
				shifts = append(shifts, o)
				label("shift", o.Common, o.GroupID.String()+"|"+o.Name)
				return nil
			}),
			v.Members(func(o *directory.Member) error { members = append(members, o); return nil }),
		)
	})
	if err != nil {
		t.Fatalf("read the directory after the run: %v", err)
	}
	ref := func(id uuid.UUID) string {
		if id == uuid.Nil {
			return "-"
		}
		if l, ok := labels[id]; ok {
			return l
		}
		return "dangling:" + id.String() // an ID naming nothing: always a difference
	}
	refs := func(ids []uuid.UUID) string {
		s := make([]string, len(ids))
		for i, id := range ids {
			s[i] = ref(id)
		}
		return strings.Join(s, ",")
	}
	for _, o := range sites {
		id := o.ID
		o.ID = uuid.Nil
		lines = append(lines, fmt.Sprintf("%s %#v", ref(id), *o))
	}
	for _, o := range people {
		id, site, sups := o.ID, o.SiteID, o.Supervisors
		o.ID, o.SiteID, o.Supervisors = uuid.Nil, uuid.Nil, nil
		lines = append(lines, fmt.Sprintf("%s site=%s sup=%s %#v", ref(id), ref(site), refs(sups), *o))
	}
	for _, o := range devices {
		id, owner := o.ID, o.OwnerID
		o.ID, o.OwnerID = uuid.Nil, uuid.Nil
		lines = append(lines, fmt.Sprintf("%s owner=%s %#v", ref(id), ref(owner), *o))
	}
	for _, o := range customs {
		id, p := o.ID, o.PersonID
		o.ID, o.PersonID = uuid.Nil, uuid.Nil
		lines = append(lines, fmt.Sprintf("%s person=%s %#v", ref(id), ref(p), *o))
	}
	for _, o := range groups {
		id, site, sups := o.ID, o.SiteID, o.Supervisors
		o.ID, o.SiteID, o.Supervisors = uuid.Nil, uuid.Nil, nil
		lines = append(lines, fmt.Sprintf("%s site=%s sup=%s %#v", ref(id), ref(site), refs(sups), *o))
	}
	for _, o := range shifts {
		id, g := o.ID, o.GroupID
		o.ID, o.GroupID = uuid.Nil, uuid.Nil
		lines = append(lines, fmt.Sprintf("%s group=%s %#v", ref(id), ref(g), *o))
	}
	for _, o := range members {
		s, m := o.ShiftID, o.MemberID
		o.ShiftID, o.MemberID = uuid.Nil, uuid.Nil
		lines = append(lines, fmt.Sprintf("member shift=%s member=%s %#v", ref(s), ref(m), *o))
	}
	slices.Sort(lines)
	fp := skPrint{objects: len(lines), dir: skHash(lines)}

	jobs, err := st.Jobs(ctx, co.ID)
	if err != nil {
		t.Fatalf("read the jobs after the run: %v", err)
	}
	var jl []string
	for _, j := range jobs {
		jl = append(jl, fmt.Sprintf("%s %s total=%d processed=%d %#v %#v", j.Name, j.Status, j.Total, j.Processed, j.Manifest, j.Summary))
	}
	slices.Sort(jl)
	fp.jobs, fp.jobHash = len(jobs), skHash(jl)
	return fp
}

func skHash(lines []string) string {
	h := sha256.New()
	for _, l := range lines {
		io.WriteString(h, l)
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// skIntegrity runs SQLite's integrity and foreign key checks on the
// database of the data folder.
func skIntegrity(t *testing.T, data string) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(data, "epicd.db")) // the driver of internal/sqlite
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&res); err != nil {
		t.Fatalf("integrity check: %v", err)
	}
	if res != "ok" {
		t.Errorf("integrity check of %s: %s", data, res)
	}
	rows, err := db.Query(`PRAGMA foreign_key_check`)
	if err != nil {
		t.Fatalf("foreign key check: %v", err)
	}
	defer rows.Close()
	if rows.Next() {
		t.Errorf("foreign key check of %s: violations", data)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("foreign key check: %v", err)
	}
}
