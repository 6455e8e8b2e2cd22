package cli_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestEpicdScripts runs testdata/epicd/*.txtar: the service's command
// line (company, apply, export, migrate) as an administrator types it.
// The scripts have the commands of TestScripts (exitcode runs epic or
// epicd as a subprocess) and
//
//	summary CHECK...
//
// which reads the job summary table of the last command's stdout and
// fails unless every CHECK holds on every line of it. A CHECK is
// COLUMN=COLUMN or COLUMN=NUMBER, e.g. "summary UNCHANGED=READ FAILED=0".
// Every epicd call names its data folder ($WORK/data), so no script
// touches ./epicd-data.
func TestEpicdScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/epicd",
		UpdateScripts: *update,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode": exitcode,
			"summary":  summary,
		},
	})
}

// summary checks the columns of the job summary table epicd apply printed.
func summary(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("usage: summary COLUMN=COLUMN|NUMBER... (no !)")
	}
	if len(args) == 0 {
		ts.Fatalf("usage: summary COLUMN=COLUMN|NUMBER...")
	}
	var header []string
	var lines [][]string
	for _, l := range strings.Split(ts.ReadFile("stdout"), "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) > 0 && f[0] == "SYNCHRONIZER":
			if header != nil {
				ts.Fatalf("summary: two summary tables in stdout")
			}
			header = f
		case header != nil && len(f) == len(header) && strings.HasPrefix(f[0], "DS_"):
			lines = append(lines, f)
		}
	}
	if header == nil {
		ts.Fatalf("summary: no summary table (SYNCHRONIZER ...) in stdout")
	}
	if len(lines) == 0 {
		ts.Fatalf("summary: the summary table has no lines")
	}
	col := func(name string) int {
		for i, h := range header {
			if h == name {
				return i
			}
		}
		return -1
	}
	for _, a := range args {
		left, right, ok := strings.Cut(a, "=")
		l := col(left)
		if !ok || l < 0 {
			ts.Fatalf("summary: %q: want COLUMN=COLUMN or COLUMN=NUMBER with a column of %v", a, header[1:])
		}
		r := col(right)
		if r < 0 {
			if _, err := strconv.Atoi(right); err != nil {
				ts.Fatalf("summary: %q: %q is neither a column nor a number", a, right)
			}
		}
		for _, f := range lines {
			want := right
			if r >= 0 {
				want = f[r]
			}
			if f[l] != want {
				ts.Fatalf("summary: %s: %s is %s, want %s (%s)", f[0], left, f[l], want, right)
			}
		}
	}
	ts.Logf("summary: %d lines: %s", len(lines), strings.Join(args, " "))
}
