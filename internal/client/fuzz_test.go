package client

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzConfigFile: any file gives a configuration or an error, never a
// panic, and an error never quotes a password value.
func FuzzConfigFile(f *testing.F) {
	f.Add("[server]\nurl = \"https://x\"\n[auth]\nusername = \"u\"\npassword = \"pw-SECRET\"\n")
	f.Add("[server]\nhost = 1\n")
	f.Add("[auth]\npassword = \"pw-SECRET\n")
	f.Add("[auth]\npassword = 'ENC(pw-SECRET)'\n")
	f.Add("a = [1, {b = 2}]\n[[server]]\n")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, text string) {
		p := filepath.Join(dir, "epic.toml")
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := LoadConfigFile(p)
		if err != nil {
			if strings.Contains(err.Error(), "pw-SECRET") {
				t.Errorf("error shows the password: %v", err)
			}
			return
		}
		_ = cfg.Validate()
	})
}

// FuzzDecodeJob: any body gives a job or an error.
func FuzzDecodeJob(f *testing.F) {
	f.Add(`{"id":"1","status":"COMPLETED","started":"2026-12-04T19:00:00Z","finishedAt":"","supersededBy":null,"summary":[{"synchronizer":"DS_USERS","read":1}]}`)
	f.Add(`{"id":1}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, body string) {
		j, err := decodeJob([]byte(body))
		if err == nil && string(j.Raw) != body {
			t.Errorf("raw JSON not kept")
		}
	})
}
