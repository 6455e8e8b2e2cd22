package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/epicsync/epic/internal/ldap"
	"github.com/epicsync/epic/internal/mapping"
	"github.com/epicsync/epic/internal/source"
)

// TestExportExamples: the example configurations decode without unknown
// keys and validate; the CSV one exports.
func TestExportExamples(t *testing.T) {
	cfg := "../../examples/ldap/epic.toml"
	var lc ldap.Config
	if err := source.DecodeSection(cfg, "ldap", &lc); err != nil {
		t.Fatal(err)
	}
	if err := lc.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{cfg, "../../examples/csv/epic.toml"} {
		mc, err := mapping.Load(c)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := mapping.New(mc); err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		if _, err := loadHealth(c); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	for _, f := range []string{"epic.toml", "hr-export.csv"} {
		b, err := os.ReadFile(filepath.Join("../../examples/csv", f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, f), b, 0o600)
	}
	var out, errb bytes.Buffer
	if code := Epic([]string{"export", "csv", "--config", filepath.Join(dir, "epic.toml"), "-o", filepath.Join(dir, "out")}, &out, &errb); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "4 people") {
		t.Errorf("output: %s", out.String())
	}
}
