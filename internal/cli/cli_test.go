package cli_test

import (
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/epicsync/epic/internal/cli"
)

var update = flag.Bool("update", false, "rewrite the expected output in testdata/script/*.txtar")

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"epic":  func() { os.Exit(cli.Epic(os.Args[1:], os.Stdout, os.Stderr)) },
		"epicd": func() { os.Exit(cli.Epicd(os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs testdata/script/*.txtar: what a user types and what
// they see. Every script finds a copy of examples/archive in
// $WORK/example, and has the command
//
//	exitcode N PROGRAM [ARGS...]
//
// which runs PROGRAM (usually epic) and fails unless it exits with code
// N; its stdout and stderr are then checked with stdout and stderr as
// after exec.
func TestScripts(t *testing.T) {
	examples, err := filepath.Abs("../../examples/archive")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		UpdateScripts: *update,
		Setup: func(env *testscript.Env) error {
			if err := startFake(env); err != nil {
				return err
			}
			return copyDir(filepath.Join(env.WorkDir, "example"), examples)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode": exitcode,
			"fake":     fakeCmd,
		},
	})
}

// exitcode runs the program as a subprocess in the script's current
// folder: cli.Epic opens the paths it is given relative to the process's
// working directory, and scripts run in parallel, so running it in this
// process would need a shared os.Chdir.
func exitcode(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("usage: exitcode N program [args...] (no !: N says what to expect)")
	}
	if len(args) < 2 {
		ts.Fatalf("usage: exitcode N program [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: %q is not a number", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exitcode: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with %d, want %d", args[1], got, want)
	}
}

// copyDir copies the regular files of the folder src into a new folder dst.
func copyDir(dst, src string) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dst, 0o777); err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o666); err != nil {
			return err
		}
	}
	return nil
}
