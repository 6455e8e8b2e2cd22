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
	"reflect"
	"runtime"
	"slices"
	"strconv"
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

// TestApplyIsAtomicUnderSIGKILL kills `epicd apply` (SIGKILL) at random
// moments and checks that the company's directory is then exactly as
// before the apply or exactly as after it, never anything in between; and
// that the database then opens, passes SQLite's integrity and foreign key
// checks, and takes the apply again to end exactly in the after-state.
//
// The before-state is a generated archive of 20,000 people (seed 1,
// mirror=Y) applied to company Acme. The apply killed is of another
// generated archive (seed 2, the same person keys, mirror=Y): it updates
// every person and inserts and removes (by mirror) thousands of devices,
// custom values and shifts. One uninterrupted apply of it, on a copy,
// gives the after-state, how long an apply takes and when its commit
// starts (the database's write-ahead log, empty until then, grows). Each
// killed run starts from a fresh copy of the before-state. Half the runs
// are killed at a random moment of the whole apply (one in each third);
// the other half at a random moment after their own commit started (one
// in each third of the time the measured apply took from there to its
// exit: writing the log, syncing, checkpointing, closing), since a kill
// anywhere before the commit trivially leaves the before-state.
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
	// Archive 2 removes far more than the safety limits allow.
	skEpicd(t, bin, base, "company", "limits", "Acme", "--off")
	start := time.Now()
	skEpicd(t, bin, base, "apply", "--company", "Acme", arc1)
	t.Logf("apply of archive 1 (%d people, all new): %v", skPeople, time.Since(start).Round(time.Millisecond))
	before := skFingerprint(t, base)

	// The after-state, how long an apply of archive 2 takes and when its
	// commit starts.
	full := skCopyDir(t, base, filepath.Join(work, "full"))
	m := skApply(t, bin, full, arc2, -1, false)
	if m.err != nil {
		t.Fatalf("apply of archive 2: %v\nstdout: %s\nstderr: %s", m.err, m.stdout, m.stderr)
	}
	took, commit := m.took, m.walAt
	if commit <= 0 { // no log seen: aim at the last 15%
		commit = took * 85 / 100
	}
	t.Logf("apply of archive 2: %v, its commit started at %v (%s)", took.Round(time.Millisecond), m.walAt.Round(time.Millisecond),
		skFirstLine(m.stdout))
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
	const runs, thirds = 6, 3
	var nBefore, nAfter, nKilled int
	// A killed run's data folder to apply again: preferably one killed in
	// its commit that still ended in the before-state (a log with frames
	// but no commit record), else the latest killed run.
	var retry string
	var retryState skPrint
	retryTorn := false
	for i := range runs {
		k := i % thirds
		frac := (float64(k) + rng.Float64()) / thirds // in the k-th third of [0, 1)
		inCommit := i >= thirds
		delay, what := time.Duration(frac*float64(took)), "the apply"
		if inCommit {
			delay, what = time.Duration(frac*float64(took-commit)), "the commit"
		}
		data := skCopyDir(t, base, filepath.Join(work, fmt.Sprintf("run%d", i)))
		r := skApply(t, bin, data, arc2, delay, inCommit)
		how := "killed"
		switch {
		case r.err == nil:
			how = "finished before the kill"
		case r.killed:
			nKilled++
		default:
			t.Fatalf("run %d: epicd apply failed on its own: %v\nstdout: %s\nstderr: %s", i, r.err, r.stdout, r.stderr)
		}

		got := skFingerprint(t, data)
		skIntegrity(t, data)
		state := "NEITHER"
		switch got {
		case before:
			state = "before"
			nBefore++
		case after:
			state = "after"
			nAfter++
		}
		at := fmt.Sprintf("%v", r.aim.Round(time.Millisecond))
		if inCommit {
			at = fmt.Sprintf("%v (its commit started at %v)", r.aim.Round(time.Millisecond), r.walAt.Round(time.Millisecond))
		}
		if how != "killed" {
			how = fmt.Sprintf("%s (at %v)", how, r.took.Round(time.Millisecond))
		}
		t.Logf("run %d: kill in third %d of %s, at %s: %s; %s-state", i, k+1, what, at, how, state)
		if state == "NEITHER" {
			t.Errorf("run %d: the directory after the kill is neither the before- nor the after-state:\ngot:    %s\nbefore: %s\nafter:  %s",
				i, got, before, after)
			continue
		}
		if torn := inCommit && state == "before"; how == "killed" && (torn || !retryTorn) {
			retry, retryState, retryTorn = data, got, torn
		}
	}
	t.Logf("%d runs: %d ended in the before-state, %d in the after-state; %d were killed, %d finished before the kill",
		runs, nBefore, nAfter, nKilled, runs-nKilled)

	// After a kill the database takes the apply again, and ends exactly as
	// an uninterrupted apply left it.
	if retry == "" {
		t.Logf("no run was killed (every apply finished first): nothing to apply again")
		return
	}
	start = time.Now()
	skEpicd(t, bin, retry, "apply", "--company", "Acme", arc2)
	t.Logf("apply of archive 2 again after a kill (%s) in the %s-state: %v", filepath.Base(retry),
		map[bool]string{true: "before", false: "after"}[retryState == before], time.Since(start).Round(time.Millisecond))
	got := skFingerprint(t, retry)
	if got.dir != after.dir {
		t.Errorf("after a kill and a new apply, the directory is not the after-state:\ngot:   %s\nafter: %s", got, after)
	}
	if got.jobs != retryState.jobs+1 {
		t.Errorf("after a kill and a new apply: %d jobs, want %d", got.jobs, retryState.jobs+1)
	}
	skIntegrity(t, retry)
}

// skRun is what skApply saw of one epicd apply.
type skRun struct {
	took   time.Duration // from the start to the exit
	walAt  time.Duration // when the write-ahead log started to grow; 0: not seen
	aim    time.Duration // when it was to be killed; 0: never
	killAt time.Duration // when it was killed; 0: not
	killed bool          // ended by the kill
	err    error         // of Wait: nil if it exited 0
	stdout string
	stderr string
}

// skApply runs epicd apply of arc on the data folder and kills it
// (SIGKILL) delay after it started, or, with afterWAL, delay after its
// database's write-ahead log started to grow (its commit). A negative
// delay never kills. The log is watched every millisecond.
func skApply(t *testing.T, bin, data, arc string, delay time.Duration, afterWAL bool) skRun {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, "--data", data, "apply", "--company", "Acme", arc)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var r skRun
	done := false
	wal := filepath.Join(data, "epicd.db-wal")
	if afterWAL || delay < 0 { // the measuring run notes when the commit starts too
		tick := time.NewTicker(time.Millisecond)
		for r.walAt == 0 && !done {
			select {
			case r.err = <-exited:
				done = true
			case <-tick.C:
				if fi, err := os.Stat(wal); err == nil && fi.Size() > 0 {
					r.walAt = time.Since(start)
				}
			}
		}
		tick.Stop()
	}
	if !done && delay >= 0 {
		r.aim = time.Since(start) + delay
		select {
		case r.err = <-exited:
			done = true
		case <-time.After(delay):
			r.killAt = time.Since(start)
			cmd.Process.Kill() // SIGKILL; an error means it has just exited
		}
	}
	if !done {
		r.err = <-exited
	}
	r.took = time.Since(start)
	r.killed = r.err != nil && r.killAt > 0 && !cmd.ProcessState.Exited()
	r.stdout, r.stderr = stdout.String(), stderr.String()
	return r
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
	skCheckFields(t)
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
	// Every field, in a line of fields; IDs as the labels of what they name.
	// (Hand-written rather than %#v, which takes seconds here.)
	for _, o := range sites {
		lines = append(lines, skLine(ref(o.ID), skB(o.Owned), o.Name, o.Status, o.TimeZone, o.Language, o.Country,
			o.Address1, o.Address2, o.City, o.State, o.PostalCode, o.Latitude, o.Longitude))
	}
	for _, o := range people {
		lines = append(lines, skLine(ref(o.ID), skB(o.Owned), o.TargetName, o.FirstName, o.LastName, o.Status, ref(o.SiteID),
			o.Language, o.TimeZone, o.WebLogin, strings.Join(o.Roles, ","), refs(o.Supervisors), skB(o.PasswordSet)))
	}
	for _, o := range devices {
		lines = append(lines, skLine(ref(o.ID), skB(o.Owned), ref(o.OwnerID), string(o.Type), o.Name, o.Status, skB(o.Default),
			strconv.Itoa(o.Order), strconv.Itoa(o.Delay), skB(o.Lock24x7), o.Address, o.Country, o.AreaCode, o.Phone,
			o.Extension, o.PIN, o.Provider, o.CountryCode))
	}
	for _, o := range customs {
		lines = append(lines, skLine(ref(o.ID), skB(o.Owned), ref(o.PersonID), o.FieldKey, o.Value))
	}
	for _, o := range groups {
		lines = append(lines, skLine(ref(o.ID), skB(o.Owned), o.TargetName, o.Description, o.Status, skB(o.UseDefaultDevices),
			o.TimeZone, ref(o.SiteID), skB(o.ObservedByAll), strings.Join(o.Observers, ","), refs(o.Supervisors),
			skB(o.AllowDuplicates)))
	}
	for _, o := range shifts {
		esc := make([]string, len(o.Escalation))
		for i, n := range o.Escalation {
			esc[i] = strconv.Itoa(n)
		}
		lines = append(lines, skLine(ref(o.ID), skB(o.Owned), ref(o.GroupID), o.Name, o.Description, skB(o.UseDefaultDevices),
			strings.Join(esc, ","), skB(o.RoundRobin)))
	}
	for _, o := range members {
		lines = append(lines, skLine("member", ref(o.ShiftID), string(o.Type), ref(o.MemberID), strconv.Itoa(o.Sequence), skB(o.Owned)))
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

// skFields are the numbers of fields of the directory's objects (Common
// counts as three) that skFingerprint writes.
var skFields = []struct {
	v any
	n int
}{
	{directory.Site{}, 15}, {directory.Person{}, 14}, {directory.Device{}, 19}, {directory.CustomValue{}, 6},
	{directory.Group{}, 13}, {directory.Shift{}, 9}, {directory.Member{}, 5},
}

// skCheckFields fails the test when an object of the directory has
// gained a field that skFingerprint does not write.
func skCheckFields(t *testing.T) {
	t.Helper()
	for _, o := range skFields {
		typ, want := reflect.TypeOf(o.v), o.n
		n := 0
		for f := range typ.Fields() {
			if f.Anonymous {
				n += f.Type.NumField()
			} else {
				n++
			}
		}
		if n != want {
			t.Fatalf("directory.%s has %d fields, skFingerprint knows %d: write the new ones in its lines", typ.Name(), n, want)
		}
	}
}

// skLine joins the fields of an object in a line, unambiguously.
func skLine(fields ...string) string {
	var b strings.Builder
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.Quote(f))
	}
	return b.String()
}

func skB(b bool) string {
	if b {
		return "Y"
	}
	return "N"
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
