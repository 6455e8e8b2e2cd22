package client

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/epicsync/epic/internal/secret"
)

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfigPrecedence(t *testing.T) {
	file := writeFile(t, "epic.toml", `
[server]
url = "https://file.example.com"
ca_file = "file-ca.pem"
[auth]
username = "file-user"
password = "file-pass"
`)
	pwFile := writeFile(t, "pw", "flag-pass\n")
	tests := []struct {
		name  string
		env   map[string]string
		flags Overrides
		want  Config
	}{
		{"file only", nil, Overrides{},
			Config{Server: ServerConfig{"https://file.example.com", "file-ca.pem"}, Auth: AuthConfig{"file-user", "file-pass", ""}}},
		{"env over file", map[string]string{EnvURL: "https://env.example.com", EnvUser: "env-user", EnvPassword: "env-pass", EnvCAFile: "env-ca.pem"}, Overrides{},
			Config{Server: ServerConfig{"https://env.example.com", "env-ca.pem"}, Auth: AuthConfig{"env-user", "env-pass", ""}}},
		{"flag over env", map[string]string{EnvURL: "https://env.example.com", EnvUser: "env-user", EnvPassword: "env-pass"},
			Overrides{URL: "https://flag.example.com", Username: "flag-user", PasswordFile: pwFile, CAFile: "flag-ca.pem"},
			Config{Server: ServerConfig{"https://flag.example.com", "flag-ca.pem"}, Auth: AuthConfig{"flag-user", "", pwFile}}},
		{"empty env is unset", map[string]string{EnvURL: ""}, Overrides{},
			Config{Server: ServerConfig{"https://file.example.com", "file-ca.pem"}, Auth: AuthConfig{"file-user", "file-pass", ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Load(file, true, env(tt.env), tt.flags)
			if err != nil {
				t.Fatal(err)
			}
			tt.want.File = file
			if got != tt.want {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestConfigDefaultFileOptional(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "epic.toml")
	cfg, err := Load(missing, false, env(nil), Overrides{})
	if err != nil {
		t.Fatalf("a missing default file is no error: %v", err)
	}
	if cfg.HasServer() {
		t.Errorf("no server expected: %+v", cfg)
	}
	if _, err := Load(missing, true, env(nil), Overrides{}); err == nil || !strings.Contains(err.Error(), "epic.toml") {
		t.Errorf("a missing --config file: got %v, want an error naming it", err)
	}
}

func TestConfigUnknownKeys(t *testing.T) {
	tests := []struct{ text, want string }{
		{"[server]\nurl = \"https://x\"\nurll = \"y\"\n", `unknown key "server.urll" (this version knows server.url`},
		{"[server]\nhost = \"x\"\nport = 8443\n", `unknown key "server.host"; this looks like a setting of an older epic`},
		{"[auth]\nuser = \"bob\"\n", `unknown key "auth.user"; this looks like a setting of an older epic: the key is now username`},
		{"url = \"https://x\"\n", `unknown key "url"; write it in the [server] section`},
		{"listen = \"127.0.0.1:8443\"\n", `this looks like a setting of epicd.toml`},
		{"[proxy]\nurl = \"x\"\n", `unknown key "proxy"`},
	}
	for _, tt := range tests {
		p := writeFile(t, "epic.toml", tt.text)
		_, err := LoadConfigFile(p)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: got %v, want %q", tt.text, err, tt.want)
		}
	}
}

func TestConfigSyntaxErrorHidesLine(t *testing.T) {
	p := writeFile(t, "epic.toml", "[auth]\npassword = \"s3cret\n")
	_, err := LoadConfigFile(p)
	if err == nil {
		t.Fatal("want a syntax error")
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("the error shows the password: %v", err)
	}
	if !strings.Contains(err.Error(), "line 2") {
		t.Errorf("the error does not name the line: %v", err)
	}
}

func TestConfigEncryptedValue(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "key")
	t.Setenv(secret.EnvKeyFile, keyFile)
	k, _, err := secret.LoadOrCreateKey(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := k.Encrypt("pw-s3cret")
	p := writeFile(t, "epic.toml", "[auth]\nusername = \"u\"\npassword = \""+enc+"\"\n")
	cfg, err := LoadConfigFile(p)
	if err != nil || cfg.Auth.Password != "pw-s3cret" {
		t.Fatalf("LoadConfigFile = %v, %v; want the password decrypted", cfg.Auth, err)
	}
	pwFile := writeFile(t, "pw", enc+"\n")
	if got, err := (Config{Auth: AuthConfig{PasswordFile: pwFile}}).password(); err != nil || got != "pw-s3cret" {
		t.Errorf("encrypted password file: %q, %v", got, err)
	}

	// Altered, or sealed with another key: an error naming the key and
	// the key file, never the value.
	inner := []byte(enc[4 : len(enc)-1])
	inner[10] = map[bool]byte{true: 'B', false: 'A'}[inner[10] == 'A']
	p = writeFile(t, "epic.toml", "[auth]\nusername = \"u\"\npassword = \"ENC("+string(inner)+")\"\n")
	_, err = LoadConfigFile(p)
	if err == nil || !errors.Is(err, secret.ErrDecrypt) {
		t.Fatalf("altered value: %v, want secret.ErrDecrypt", err)
	}
	for _, want := range []string{"auth.password", keyFile} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), string(inner[:12])) || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("the error shows the value: %v", err)
	}
	t.Setenv(secret.EnvKeyFile, filepath.Join(t.TempDir(), "none"))
	if _, err := LoadConfigFile(p); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("no key file: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	pw := writeFile(t, "pw", "p\n")
	ok := Config{Server: ServerConfig{URL: "https://epic.example.com"}, Auth: AuthConfig{Username: "u", PasswordFile: pw}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	tests := []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"no url", func(c *Config) { c.Server.URL = "" }, "server.url: no service is configured"},
		{"not a url", func(c *Config) { c.Server.URL = "epic.example.com" }, `server.url: "epic.example.com" is not a service address`},
		{"plain http", func(c *Config) { c.Server.URL = "http://epic.example.com" }, "server.url: \"http://epic.example.com\" is plain http"},
		{"credentials in url", func(c *Config) { c.Server.URL = "https://u:p@epic.example.com" }, "server.url: do not put credentials in the URL"},
		{"missing ca", func(c *Config) { c.Server.CAFile = "/nonexistent/ca.pem" }, "server.ca_file: cannot read /nonexistent/ca.pem"},
		{"both passwords", func(c *Config) { c.Auth.Password = "x" }, "auth.password: both password and password_file are set"},
		{"no password", func(c *Config) { c.Auth.PasswordFile = "" }, `auth.password: username "u" has no password`},
		{"no username", func(c *Config) { c.Auth.Username = "" }, "auth.username: a password is set but no username"},
		{"missing password file", func(c *Config) { c.Auth.PasswordFile = "/nonexistent/pw" }, "auth.password_file: cannot read /nonexistent/pw"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.mod(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
	loop := Config{Server: ServerConfig{URL: "http://127.0.0.1:8443"}}
	if err := loop.Validate(); err != nil {
		t.Errorf("plain http on loopback is allowed: %v", err)
	}
	if err := (Config{Server: ServerConfig{URL: "https://x"}}).RequireCredentials(); err == nil || !strings.Contains(err.Error(), "auth.username") {
		t.Errorf("RequireCredentials without a user: %v", err)
	}
}

func TestConfigNeverShowsPassword(t *testing.T) {
	c := Config{Auth: AuthConfig{Username: "u", Password: "hunter2"}}
	for _, s := range []string{
		strings.Join([]string{fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprintf("%s", c.Auth)}, " "),
	} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("printed config shows the password: %s", s)
		}
	}
}

// TestConfigLeavesSourceSections: epic.toml also configures the exporters
// ([ldap], [health], ...); the client's loader leaves those tables to them
// but still refuses unknown tables of its own.
func TestConfigLeavesSourceSections(t *testing.T) {
	path := filepath.Join(t.TempDir(), "epic.toml")
	if err := os.WriteFile(path, []byte("[server]\nurl = \"https://x\"\n[ldap]\nurl = \"ldap://y\"\n[health]\nmin_people = 3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfigFile(path)
	if err != nil || cfg.Server.URL != "https://x" {
		t.Fatalf("LoadConfigFile = %+v, %v", cfg.Server, err)
	}
	if err := os.WriteFile(path, []byte("[servr]\nurl = \"https://x\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadConfigFile(path); err == nil || !strings.Contains(err.Error(), "servr") {
		t.Errorf("an unknown table: %v", err)
	}
}
