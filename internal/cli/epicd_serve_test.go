package cli_test

import (
	"bufio"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeBinary builds the real epicd, runs `epicd serve` over HTTPS on
// loopback with the self-signed certificate it makes, calls the API
// trusting only that certificate, and stops it with SIGTERM.
func TestServeBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds epicd")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "epicd")
	build := exec.Command("go", "build", "-o", bin, "github.com/epicsync/epic/cmd/epicd")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data := filepath.Join(dir, "data")
	run := func(stdin string, args ...string) {
		t.Helper()
		c := exec.Command(bin, append([]string{"--data", data}, args...)...)
		c.Stdin = strings.NewReader(stdin)
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("epicd %v: %v\n%s", args, err, out)
		}
	}
	run("", "company", "create", "Acme")
	run("long enough password\n", "user", "add", "--company", "Acme", "--user", "reader", "--role", "reader")

	srv := exec.Command(bin, "serve", "--data", data, "--listen", "127.0.0.1:0", "--log-format", "json")
	srv.Dir = dir
	stderr, err := srv.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Process.Kill()
	logs := make(chan map[string]any, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) != nil {
				m = map[string]any{"msg": "NOT JSON: " + sc.Text()}
			}
			logs <- m
		}
		close(logs)
	}()
	var addr, fp string
	deadline := time.After(60 * time.Second)
	for addr == "" {
		select {
		case m, ok := <-logs:
			if !ok {
				t.Fatal("epicd serve ended before listening")
			}
			t.Logf("log: %v", m)
			if m["msg"] == "TLS certificate" {
				fp, _ = m["sha256"].(string)
			}
			if m["msg"] == "epicd listening" {
				addr, _ = m["addr"].(string)
			}
		case <-deadline:
			t.Fatal("epicd serve did not listen within a minute")
		}
	}

	// The certificate in the data folder, its key private, its
	// fingerprint the one logged.
	pemBytes, err := os.ReadFile(filepath.Join(data, "cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(data, "key.pem")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key.pem: %v, mode %v; want 0600", err, fi.Mode())
	}
	blk, _ := pem.Decode(pemBytes)
	sum := sha256.Sum256(blk.Bytes)
	if want := strings.ToUpper(fmt.Sprintf("%x", sum[:2])); !strings.HasPrefix(strings.ReplaceAll(fp, ":", ""), want) {
		t.Errorf("logged fingerprint %q does not match cert.pem (%x...)", fp, sum[:4])
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatal("cert.pem has no certificate")
	}
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	get := func(url, user string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", url, nil)
		if user != "" {
			req.SetBasicAuth(user, "long enough password")
		}
		res, err := hc.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	base := "https://" + addr
	if code, body := get(base+"/api/epic/1/version", ""); code != 200 || !regexp.MustCompile(`"archiveVersions":\["1.0","1.1","1.2","1.3"\]`).MatchString(body) {
		t.Errorf("version: %d %s", code, body)
	}
	if code, body := get(base+"/healthz", ""); code != 200 {
		t.Errorf("healthz: %d %s", code, body)
	}
	if code, body := get(base+"/api/xm/1/people", "reader"); code != 200 || !strings.Contains(body, `"total":0`) {
		t.Errorf("people: %d %s", code, body)
	}
	// Also by name: the certificate names localhost.
	port := addr[strings.LastIndex(addr, ":"):]
	if code, _ := get("https://localhost"+port+"/healthz", ""); code != 200 {
		t.Errorf("healthz via localhost: %d", code)
	}

	if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() {
		for m := range logs {
			t.Logf("log: %v", m)
		}
		exited <- srv.Wait()
	}()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("epicd serve after SIGTERM: %v, want exit 0", err)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("epicd serve did not stop within 40 s of SIGTERM")
	}
}
