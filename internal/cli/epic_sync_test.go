package cli

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	_ "modernc.org/sqlite"

	"github.com/epicsync/epic/internal/client/clienttest"
)

// runEpic runs the epic command line, with `epic export sql` attached to
// a stand-in export command, and returns the exit code and output.
func runEpic(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	root := epicCommand(&out, &out)
	export := &cobra.Command{Use: "export", Short: "export an archive folder from a source"}
	export.AddCommand(exportSQLCommand())
	root.AddCommand(export)
	root.SetArgs(args)
	err := root.Execute()
	if err != nil && err.Error() != "" {
		fmt.Fprintf(&out, "epic: %s\n", err)
	}
	if err == nil {
		return 0, out.String()
	}
	return exitCode(err), out.String()
}

// hrDB makes an SQLite HR database of n people.
func hrDB(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hr.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE emp (id TEXT, login TEXT, first TEXT, last TEXT)`); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		db.Exec(`INSERT INTO emp VALUES (?, ?, 'First', 'Last')`, fmt.Sprintf("E%04d", i), fmt.Sprintf("user%04d", i))
	}
	return path
}

func writeConfig(t *testing.T, dir, db, extra string) string {
	t.Helper()
	p := filepath.Join(dir, "epic.toml")
	text := fmt.Sprintf(`%s
[health]
state_file = %q
[sql]
driver = "sqlite"
dsn = %q
[sql.queries]
DS_SITES = "SELECT 'HQ' AS EXTERNAL_KEY, 'HQ' AS SITENAME, 'ACTIVE' AS STATUS, 'Europe/Berlin' AS SITE_TIMEZONE"
DS_USERS = "SELECT id AS EXTERNAL_KEY, login AS USER_ID, first AS FIRST_NAME, last AS LAST_NAME, 'ACTIVE' AS STATUS, 'Standard User' AS ROLE_LIST, 'HQ' AS SITE_NAME FROM emp ORDER BY id"
`, extra, filepath.Join(dir, "state.json"), db)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExportSQLCommand(t *testing.T) {
	dir := t.TempDir()
	db := hrDB(t, 10)
	cfg := writeConfig(t, dir, db, "")
	out := filepath.Join(dir, "out")
	code, text := runEpic(t, "export", "sql", "--config", cfg, "-o", out)
	if code != 0 || !strings.Contains(text, "wrote "+out+": 10 people") {
		t.Fatalf("exit %d\n%s", code, text)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "DS_USERS.csv")); strings.Count(string(b), "\n") != 11 {
		t.Errorf("DS_USERS.csv:\n%s", b)
	}
	var state map[string]struct{ People int }
	b, _ := os.ReadFile(filepath.Join(dir, "state.json"))
	if json.Unmarshal(b, &state) != nil || len(state) != 1 {
		t.Errorf("state file: %s", b)
	}

	// The source shrank to 4 of 10 people: refused, the folder kept as it was.
	sqlDB, _ := sql.Open("sqlite", db)
	sqlDB.Exec(`DELETE FROM emp WHERE id >= 'E0004'`)
	sqlDB.Close()
	before, _ := os.ReadFile(filepath.Join(out, "DS_USERS.csv"))
	code, text = runEpic(t, "export", "sql", "--config", cfg, "-o", out)
	if code != ExitUnhealthy || !strings.Contains(text, "has 4 people, fewer than 50 % of the 10 of the last successful export") || !strings.Contains(text, "no archive was written") {
		t.Errorf("shrunk source: exit %d\n%s", code, text)
	}
	if after, _ := os.ReadFile(filepath.Join(out, "DS_USERS.csv")); !bytes.Equal(before, after) {
		t.Error("a refused export changed the folder")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 4 { // epic.toml, state.json, out, out.findings.csv
		t.Errorf("left behind: %v", entries)
	}

	// An unknown column: an error naming it, no folder.
	os.WriteFile(cfg, bytes.Replace(mustRead(t, cfg), []byte("first AS FIRST_NAME"), []byte("first AS GIVEN_NAME"), 1), 0o600)
	out2 := filepath.Join(dir, "out2")
	code, text = runEpic(t, "export", "sql", "--config", cfg, "-o", out2)
	if code != ExitFailure || !strings.Contains(text, "column(s) GIVEN_NAME, which DS_USERS.csv does not have") {
		t.Errorf("unknown column: exit %d\n%s", code, text)
	}
	if _, err := os.Stat(out2); err == nil {
		t.Error("a failed export left a folder")
	}
}

// A validation error stops the export with exit 2 and no folder.
func TestExportSQLValidationError(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, hrDB(t, 3), "")
	os.WriteFile(cfg, bytes.Replace(mustRead(t, cfg), []byte("'ACTIVE' AS STATUS, 'Standard"), []byte("'active' AS STATUS, 'Standard"), 1), 0o600)
	out := filepath.Join(dir, "out")
	code, text := runEpic(t, "export", "sql", "--config", cfg, "-o", out)
	if code != ExitValidation || !strings.Contains(text, "has 3 errors") {
		t.Errorf("exit %d\n%s", code, text)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("an export with errors left a folder")
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSyncSQL(t *testing.T) {
	fake := clienttest.Start()
	defer fake.Close()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	fake.WriteCA(ca)
	server := fmt.Sprintf("[server]\nurl = %q\nca_file = %q\n[auth]\nusername = \"epic-uploader\"\npassword = \"secret\"\n[source]\ntype = \"sql\"\n", fake.URL, ca)
	cfg := writeConfig(t, dir, hrDB(t, 7), server)
	keep := filepath.Join(dir, "keep")
	code, text := runEpic(t, "sync", "--config", cfg, "--keep", keep, "--poll", "10ms")
	if code != 0 || !strings.Contains(text, "COMPLETED") {
		t.Fatalf("sync: exit %d\n%s", code, text)
	}
	if _, err := os.Stat(filepath.Join(keep, "archive.zip")); err != nil {
		t.Error(err)
	}
	uploads := 0
	for _, r := range fake.Requests() {
		if r.Method == "POST" {
			uploads++
		}
	}
	if uploads != 1 {
		t.Errorf("%d uploads", uploads)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "state.json")); !bytes.Contains(b, []byte(`"people": 7`)) {
		t.Errorf("state after a COMPLETED upload: %s", b)
	}

	// A job that does not complete: exit 3, nothing remembered.
	fake.Set("final", "FAILED")
	os.Remove(filepath.Join(dir, "state.json"))
	code, text = runEpic(t, "sync", "--config", cfg, "--poll", "10ms")
	if code != ExitJob {
		t.Errorf("failed job: exit %d\n%s", code, text)
	}
	if _, err := os.Stat(filepath.Join(dir, "state.json")); err == nil {
		t.Error("a failed job was remembered as a successful export")
	}

	// An unknown source type.
	os.WriteFile(cfg, bytes.Replace(mustRead(t, cfg), []byte(`type = "sql"`), []byte(`type = "oracle"`), 1), 0o600)
	code, text = runEpic(t, "sync", "--config", cfg)
	if code != ExitFailure || !strings.Contains(text, `[source] type "oracle" is not one this epic knows; write one of cloudsync, csv, ldap, sql`) {
		t.Errorf("unknown type: exit %d\n%s", code, text)
	}
}

// The example of examples/sql runs as documented.
func TestExampleSQL(t *testing.T) {
	dir := t.TempDir()
	db, err := sql.Open("sqlite", filepath.Join(dir, "hr.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(string(mustRead(t, "../../examples/sql/hr.sql"))); err != nil {
		t.Fatal(err)
	}
	db.Close()
	cfg := filepath.Join(dir, "epic.toml")
	text := strings.Replace(string(mustRead(t, "../../examples/sql/epic.toml")), `dsn = "hr.db"`, fmt.Sprintf("dsn = %q", filepath.Join(dir, "hr.db")), 1)
	text = strings.Replace(text, "[health]\n", fmt.Sprintf("[health]\nstate_file = %q\n", filepath.Join(dir, "state.json")), 1)
	os.WriteFile(cfg, []byte(text), 0o600)
	code, out := runEpic(t, "export", "sql", "--config", cfg, "-o", filepath.Join(dir, "out"))
	if code != 0 || !strings.Contains(out, "3 people") {
		t.Errorf("exit %d\n%s", code, out)
	}
}

// epic sync runs the HR CSV exporter of examples/csv the same way: the
// export, the upload, the job followed, the state remembered under the
// name epic export csv uses.
func TestSyncCSV(t *testing.T) {
	fake := clienttest.Start()
	defer fake.Close()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	fake.WriteCA(ca)
	hr := mustRead(t, "../../examples/csv/hr-export.csv")
	if err := os.WriteFile(filepath.Join(dir, "hr-export.csv"), hr, 0o600); err != nil {
		t.Fatal(err)
	}
	cfgText := bytes.Replace(mustRead(t, "../../examples/csv/epic.toml"), []byte(`url = "https://epic.example.com"`),
		fmt.Appendf(nil, "url = %q\nca_file = %q\n[auth]\nusername = \"epic-uploader\"\npassword = \"secret\"\n[source]\ntype = \"csv\"", fake.URL, ca), 1)
	cfg := filepath.Join(dir, "epic.toml")
	if err := os.WriteFile(cfg, cfgText, 0o600); err != nil {
		t.Fatal(err)
	}
	code, text := runEpic(t, "sync", "--config", cfg, "--poll", "10ms")
	if code != 0 || !strings.Contains(text, "COMPLETED") {
		t.Fatalf("sync: exit %d\n%s", code, text)
	}
	state := mustRead(t, filepath.Join(dir, "epic-state.json"))
	if !bytes.Contains(state, []byte("hr-export.csv")) {
		t.Errorf("the state does not name the CSV source: %s", state)
	}
	// epic export csv of the same configuration shares that history.
	code, text = runEpic(t, "export", "csv", "--config", cfg, "-o", filepath.Join(dir, "out"))
	if code != 0 {
		t.Fatalf("export csv: exit %d\n%s", code, text)
	}
	var st map[string]any
	if err := json.Unmarshal(mustRead(t, filepath.Join(dir, "epic-state.json")), &st); err != nil || len(st) != 1 {
		t.Errorf("sync and export keep %d histories (%v), want 1", len(st), err)
	}
}
