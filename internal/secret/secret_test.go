package secret

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const plain = "s3cr3t-p@ss\"word"

func newTestKey(t *testing.T) *Key {
	t.Helper()
	k, created, err := LoadOrCreateKey(filepath.Join(t.TempDir(), "epic", "key"))
	if err != nil || !created {
		t.Fatalf("LoadOrCreateKey: %v, created %v", err, created)
	}
	return k
}

func TestRoundTrip(t *testing.T) {
	k := newTestKey(t)
	fi, err := os.Stat(k.Path())
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v; want 0600", fi.Mode(), err)
	}
	enc, err := k.Encrypt(plain)
	if err != nil {
		t.Fatal(err)
	}
	if !IsEncrypted(enc) || strings.Contains(enc, "s3cr3t") {
		t.Fatalf("Encrypt = %q", enc)
	}
	if again, _ := k.Encrypt(plain); again == enc {
		t.Error("two encryptions of one value are equal: the nonce is not random")
	}
	// The key file is read again the same.
	k2, created, err := LoadOrCreateKey(k.Path())
	if err != nil || created {
		t.Fatalf("reload: %v, created %v", err, created)
	}
	got, err := k2.Decrypt(enc)
	if err != nil || got != plain {
		t.Fatalf("Decrypt = %q, %v", got, err)
	}
	r := NewReader(k.Path())
	if got, err := r.Reveal("auth.password", enc); err != nil || got != plain {
		t.Errorf("Reveal = %q, %v", got, err)
	}
	if got, err := r.Reveal("auth.password", "plain text"); err != nil || got != "plain text" {
		t.Errorf("Reveal of a plain value = %q, %v", got, err)
	}
}

func TestTamperedAndWrongKey(t *testing.T) {
	k := newTestKey(t)
	other := newTestKey(t)
	enc, _ := k.Encrypt(plain)
	inner := enc[4 : len(enc)-1]
	flip := []byte(inner)
	flip[len(flip)/2] ^= 1
	if flip[len(flip)/2] == '=' || flip[len(flip)/2] > 'z' {
		flip[len(flip)/2] = 'A'
	}
	for name, c := range map[string]struct {
		key *Key
		v   string
	}{
		"tampered":  {k, "ENC(" + string(flip) + ")"},
		"cut":       {k, "ENC(" + inner[:8] + ")"},
		"not b64":   {k, "ENC(%%%)"},
		"wrong key": {other, enc},
	} {
		got, err := c.key.Decrypt(c.v)
		if err == nil || !errors.Is(err, ErrDecrypt) || got != "" {
			t.Errorf("%s: Decrypt = %q, %v; want ErrDecrypt", name, got, err)
			continue
		}
		for _, leak := range []string{plain, "s3cr3t", inner[:12]} {
			if strings.Contains(err.Error(), leak) {
				t.Errorf("%s: error %q shows the secret or its ciphertext", name, err)
			}
		}
		_, err = NewReader(c.key.Path()).Reveal("sql.dsn", c.v)
		if err == nil || !strings.HasPrefix(err.Error(), "sql.dsn: ") {
			t.Errorf("%s: Reveal error %v does not name the field", name, err)
		}
	}
	if strings.Contains(func() string { _, err := other.Decrypt(enc); return err.Error() }(), other.Path()) == false {
		t.Error("wrong key: the error does not name the key file")
	}
}

func TestKeyFilePermissions(t *testing.T) {
	k := newTestKey(t)
	if err := os.Chmod(k.Path(), 0o640); err != nil {
		t.Fatal(err)
	}
	_, err := LoadKey(k.Path())
	if err == nil || !strings.Contains(err.Error(), k.Path()) || !strings.Contains(err.Error(), "0640") {
		t.Errorf("group-readable key file: %v; want an error naming the file and its mode", err)
	}
	if _, _, err := LoadOrCreateKey(k.Path()); err == nil {
		t.Error("LoadOrCreateKey accepted a group-readable key file")
	}
	os.Chmod(k.Path(), 0o600)
	os.WriteFile(k.Path(), []byte("short\n"), 0o600)
	if _, err := LoadKey(k.Path()); err == nil || !strings.Contains(err.Error(), "does not hold a key") {
		t.Errorf("damaged key file: %v", err)
	}
	missing := filepath.Join(t.TempDir(), "none")
	if _, err := LoadKey(missing); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing key file: %v", err)
	}
	// A raw 32-byte key file is read too.
	raw := filepath.Join(t.TempDir(), "raw")
	os.WriteFile(raw, []byte(strings.Repeat("k", 32)), 0o600)
	if _, err := LoadKey(raw); err != nil {
		t.Errorf("raw key file: %v", err)
	}
}

func TestSealTOML(t *testing.T) {
	k := newTestKey(t)
	in := `# epic.toml
[server]
url = "https://epic.example.com" # the service

[auth]
username = "up"
password = "pa\"ss" # keep this comment
[sql]
driver = "postgres"
dsn = 'postgres://u:pw@db/hr'
[cloudsync]
database = "ENC(already)"
`
	out, sealed, err := SealTOML(in, []string{"auth.password", "sql.dsn", "cloudsync.database", "ldap.bind_password"}, k)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(sealed, ",") != "auth.password,sql.dsn" {
		t.Errorf("sealed %v", sealed)
	}
	for _, want := range []string{"# keep this comment", `url = "https://epic.example.com" # the service`, `database = "ENC(already)"`, "# epic.toml\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lost %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "pw@db") || strings.Contains(out, `pa\"ss`) {
		t.Errorf("output still holds a secret:\n%s", out)
	}
	// Sealing again changes nothing.
	again, sealed2, err := SealTOML(out, []string{"auth.password", "sql.dsn"}, k)
	if err != nil || again != out || len(sealed2) != 0 {
		t.Errorf("second seal: %v, %v", sealed2, err)
	}
	if _, _, err := SealTOML("[auth]\npassword = \"\"\"x\"\"\"\n", []string{"auth.password"}, k); err == nil || !strings.Contains(err.Error(), "one-line") {
		t.Errorf("multi-line string: %v", err)
	}
	if _, _, err := SealTOML("[auth]\npassword = \"secret\" x\n", []string{"auth.password"}, k); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("syntax error: %v", err)
	}
}
