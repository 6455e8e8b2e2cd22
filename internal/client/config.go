package client

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/epicsync/epic/internal/secret"
	"github.com/epicsync/epic/internal/source"
)

// DefaultConfigFile is read when no --config is given and it exists in the
// current folder.
const DefaultConfigFile = "epic.toml"

// Environment variables that set configuration values (interfaces.md §1).
const (
	EnvURL      = "EPIC_URL"
	EnvUser     = "EPIC_USER"
	EnvPassword = "EPIC_PASSWORD"
	EnvCAFile   = "EPIC_CA_FILE"
)

// Config is the configuration of the epic client. Values come from a TOML
// file, then environment variables, then flags; a later source overrides
// an earlier one.
type Config struct {
	Server ServerConfig `toml:"server"`
	Auth   AuthConfig   `toml:"auth"`
	// File is the configuration file the values were read from, "" if none.
	// It is not a TOML key; messages name it.
	File string `toml:"-"`
}

// ServerConfig is the [server] section.
type ServerConfig struct {
	URL    string `toml:"url"`     // service base URL, e.g. https://epic.example.com
	CAFile string `toml:"ca_file"` // PEM of an extra CA or the service's self-signed certificate
}

// AuthConfig is the [auth] section. At most one of Password and
// PasswordFile is set.
type AuthConfig struct {
	Username     string `toml:"username"`
	Password     string `toml:"password"`
	PasswordFile string `toml:"password_file"`
}

// String never shows the password.
func (a AuthConfig) String() string {
	p := "unset"
	switch {
	case a.Password != "":
		p = "set"
	case a.PasswordFile != "":
		p = "from " + a.PasswordFile
	}
	return fmt.Sprintf("{username: %q, password: %s}", a.Username, p)
}

// GoString never shows the password either (%#v).
func (a AuthConfig) GoString() string { return a.String() }

// DefaultConfig returns a configuration with nothing set: no server.
func DefaultConfig() Config { return Config{} }

// knownKeys are the keys a configuration file may hold.
var knownKeys = []string{"server.url", "server.ca_file", "auth.username", "auth.password", "auth.password_file"}

// otherKeys are keys people write in an epic.toml that this version does
// not read, with what to write instead: names from older or other
// versions of the client, and settings of epicd.toml.
var otherKeys = map[string]string{
	"url":                   `write it in the [server] section: [server] url = "https://..."`,
	"ca_file":               "write it in the [server] section",
	"username":              "write it in the [auth] section",
	"password":              "write it in the [auth] section",
	"password_file":         "write it in the [auth] section",
	"server.host":           `this looks like a setting of an older epic: write the whole address as url = "https://HOST:PORT"`,
	"server.port":           `this looks like a setting of an older epic: write the whole address as url = "https://HOST:PORT"`,
	"server.address":        "this looks like a setting of an older epic: the key is now url",
	"server.endpoint":       "this looks like a setting of an older epic: the key is now url",
	"server.base_url":       "the key is url",
	"server.ca":             "the key is ca_file",
	"server.cafile":         "the key is ca_file",
	"server.ca_cert":        "the key is ca_file",
	"server.insecure":       "this looks like a setting of an older epic: certificate checks cannot be switched off; set ca_file to the service's certificate instead",
	"server.verify_ssl":     "this looks like a setting of an older epic: certificate checks cannot be switched off; set ca_file to the service's certificate instead",
	"server.proxy":          "this version reads the proxy from the HTTPS_PROXY environment variable",
	"auth.user":             "this looks like a setting of an older epic: the key is now username",
	"auth.login":            "the key is username",
	"auth.passwordfile":     "the key is password_file",
	"auth.password_env":     "set the EPIC_PASSWORD environment variable instead",
	"auth.token":            "this version authenticates with username and password only",
	"listen":                "this looks like a setting of epicd.toml (the service), not of epic.toml",
	"data":                  "this looks like a setting of epicd.toml (the service), not of epic.toml",
	"db":                    "this looks like a setting of epicd.toml (the service), not of epic.toml",
	"tls_cert":              "this looks like a setting of epicd.toml (the service), not of epic.toml",
	"tls_key":               "this looks like a setting of epicd.toml (the service), not of epic.toml",
	"batch_interval":        "this looks like a setting of epicd.toml (the service), not of epic.toml",
	"server.listen":         "this looks like a setting of epicd.toml (the service), not of epic.toml",
	"server.tls_cert":       "this looks like a setting of epicd.toml (the service), not of epic.toml",
	"server.tls_key":        "this looks like a setting of epicd.toml (the service), not of epic.toml",
	"server.batch_interval": "this looks like a setting of epicd.toml (the service), not of epic.toml",
}

// ConfigError is a configuration problem, meant for a person. Field is the
// key as written in the file (server.url), Source where the value came
// from when known.
type ConfigError struct {
	Field  string
	Source string // a file name, an environment variable or a flag; "" if not set anywhere
	Msg    string
	Err    error // what Msg tells of, for errors.Is; may be nil
}

func (e *ConfigError) Unwrap() error { return e.Err }

func (e *ConfigError) Error() string {
	if e.Source != "" {
		return fmt.Sprintf("%s (%s): %s", e.Field, e.Source, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Field, e.Msg)
}

// LoadConfigFile reads a configuration file. Unknown keys are errors that
// name the key. ENC(...) values (epic encrypt) are decrypted with the key
// file (secret.DefaultKeyFile); an error names the key, never the value.
func LoadConfigFile(path string) (Config, error) {
	cfg := DefaultConfig()
	b, err := os.ReadFile(path)
	if err != nil {
		return cfg, fmt.Errorf("read configuration: %w", err)
	}
	md, err := toml.Decode(string(b), &cfg)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			// ErrorWithPosition quotes the line, which may hold a password:
			// give the position and the reason only.
			return cfg, fmt.Errorf("%s line %d: %s", path, pe.Position.Line, pe.Message)
		}
		// A type error (url = 5): the library names the key, never a value.
		return cfg, fmt.Errorf("%s: %v", path, err)
	}
	cfg.File = path
	var errs []error
	for _, k := range md.Undecoded() {
		if source.IsSection(k[0]) {
			continue // the exporters' tables: each decodes and checks its own
		}
		key := k.String()
		msg := fmt.Sprintf("%s: unknown key %q", path, key)
		if hint, ok := otherKeys[key]; ok {
			msg += "; " + hint
		} else {
			msg += fmt.Sprintf(" (this version knows %s; a file written for another version of epic may use other names)", strings.Join(knownKeys, ", "))
		}
		errs = append(errs, errors.New(msg))
	}
	keys := secret.NewReader("")
	for _, f := range cfg.fields() {
		if !secret.IsEncrypted(*f.value) {
			continue
		}
		v, err := keys.Reveal(f.key, *f.value)
		if err != nil {
			*f.value = ""
			errs = append(errs, &ConfigError{Field: f.key, Source: path, Msg: strings.TrimPrefix(err.Error(), f.key+": "), Err: err})
			continue
		}
		*f.value = v
	}
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
		return cfg, errors.Join(errs...)
	}
	return cfg, nil
}

type field struct {
	key   string
	value *string
}

func (c *Config) fields() []field {
	return []field{
		{"server.url", &c.Server.URL},
		{"server.ca_file", &c.Server.CAFile},
		{"auth.username", &c.Auth.Username},
		{"auth.password", &c.Auth.Password},
		{"auth.password_file", &c.Auth.PasswordFile},
	}
}

// ApplyEnv overrides values with the environment variables that are set
// (not empty). getenv is os.Getenv outside tests.
func (c *Config) ApplyEnv(getenv func(string) string) {
	if v := getenv(EnvURL); v != "" {
		c.Server.URL = v
	}
	if v := getenv(EnvCAFile); v != "" {
		c.Server.CAFile = v
	}
	if v := getenv(EnvUser); v != "" {
		c.Auth.Username = v
	}
	if v := getenv(EnvPassword); v != "" {
		c.Auth.Password, c.Auth.PasswordFile = v, ""
	}
}

// Overrides are values given as flags; empty ones are not set.
type Overrides struct {
	URL, CAFile, Username, PasswordFile string
}

// Apply overrides the configuration's values with the flags that are set.
func (o Overrides) Apply(c *Config) {
	if o.URL != "" {
		c.Server.URL = o.URL
	}
	if o.CAFile != "" {
		c.Server.CAFile = o.CAFile
	}
	if o.Username != "" {
		c.Auth.Username = o.Username
	}
	if o.PasswordFile != "" {
		c.Auth.PasswordFile, c.Auth.Password = o.PasswordFile, ""
	}
}

// Load reads the configuration the way epic does: the file at path (when
// explicit is false, path is read only if it exists), then the environment,
// then the flags. It does not validate; call Validate.
func Load(path string, explicit bool, getenv func(string) string, flags Overrides) (Config, error) {
	cfg := DefaultConfig()
	if path != "" {
		if _, err := os.Stat(path); err == nil || explicit {
			var err error
			if cfg, err = LoadConfigFile(path); err != nil {
				return cfg, err
			}
		}
	}
	cfg.ApplyEnv(getenv)
	flags.Apply(&cfg)
	return cfg, nil
}

// HasServer tells whether a service URL is configured anywhere.
func (c Config) HasServer() bool { return strings.TrimSpace(c.Server.URL) != "" }

// Validate checks every value that is set and that a server URL is; the
// errors name the field. It does not require credentials (the version
// endpoint needs none): see RequireCredentials.
func (c Config) Validate() error {
	var errs []error
	if !c.HasServer() {
		errs = append(errs, &ConfigError{Field: "server.url", Msg: "no service is configured: write url in the [server] section of epic.toml, set EPIC_URL or pass --url"})
	} else if err := checkURL(c.Server.URL); err != nil {
		errs = append(errs, &ConfigError{Field: "server.url", Msg: err.Error()})
	}
	if c.Server.CAFile != "" {
		if fi, err := os.Stat(c.Server.CAFile); err != nil {
			errs = append(errs, &ConfigError{Field: "server.ca_file", Msg: fmt.Sprintf("cannot read %s: %v", c.Server.CAFile, pathErr(err))})
		} else if fi.IsDir() {
			errs = append(errs, &ConfigError{Field: "server.ca_file", Msg: fmt.Sprintf("%s is a folder; want a PEM file of a certificate", c.Server.CAFile)})
		}
	}
	if c.Auth.Password != "" && c.Auth.PasswordFile != "" {
		errs = append(errs, &ConfigError{Field: "auth.password", Msg: "both password and password_file are set; keep one"})
	}
	if c.Auth.PasswordFile != "" {
		if _, err := os.Stat(c.Auth.PasswordFile); err != nil {
			errs = append(errs, &ConfigError{Field: "auth.password_file", Msg: fmt.Sprintf("cannot read %s: %v", c.Auth.PasswordFile, pathErr(err))})
		}
	}
	if c.Auth.Username == "" && (c.Auth.Password != "" || c.Auth.PasswordFile != "") {
		errs = append(errs, &ConfigError{Field: "auth.username", Msg: "a password is set but no username: write username in the [auth] section, set EPIC_USER or pass --user"})
	}
	if c.Auth.Username != "" && c.Auth.Password == "" && c.Auth.PasswordFile == "" {
		errs = append(errs, &ConfigError{Field: "auth.password", Msg: fmt.Sprintf("username %q has no password: write password_file in the [auth] section, set EPIC_PASSWORD or pass --password-file", c.Auth.Username)})
	}
	return errors.Join(errs...)
}

// RequireCredentials returns an error naming the missing field unless a
// username and a password (or password file) are set.
func (c Config) RequireCredentials() error {
	if c.Auth.Username == "" {
		return &ConfigError{Field: "auth.username", Msg: "no username is configured: write username in the [auth] section of epic.toml, set EPIC_USER or pass --user"}
	}
	if c.Auth.Password == "" && c.Auth.PasswordFile == "" {
		return &ConfigError{Field: "auth.password", Msg: "no password is configured: write password_file in the [auth] section of epic.toml, set EPIC_PASSWORD or pass --password-file"}
	}
	return nil
}

// password returns the password, reading the password file if that is how
// it is given. Trailing line ends of the file are dropped.
func (c Config) password() (string, error) {
	if c.Auth.PasswordFile == "" {
		return c.Auth.Password, nil
	}
	b, err := os.ReadFile(c.Auth.PasswordFile)
	if err != nil {
		return "", &ConfigError{Field: "auth.password_file", Msg: fmt.Sprintf("cannot read %s: %v", c.Auth.PasswordFile, pathErr(err))}
	}
	p := strings.TrimRight(string(b), "\r\n")
	if p == "" {
		return "", &ConfigError{Field: "auth.password_file", Msg: fmt.Sprintf("%s is empty", c.Auth.PasswordFile)}
	}
	if secret.IsEncrypted(p) {
		if p, err = secret.Reveal(c.Auth.PasswordFile, p); err != nil {
			return "", &ConfigError{Field: "auth.password_file", Msg: err.Error(), Err: err}
		}
	}
	return p, nil
}

// checkURL accepts https URLs, and http ones only on a loopback address
// (epicd --insecure-http is for loopback tests).
func checkURL(s string) error {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("%q is not a service address; write it like https://epic.example.com or https://127.0.0.1:8443", s)
	}
	if u.User != nil {
		return fmt.Errorf("do not put credentials in the URL; use username and password_file in the [auth] section")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q has a query or fragment; write only the service's base address", u.Redacted())
	}
	if u.Scheme == "http" {
		host := u.Hostname()
		ip := net.ParseIP(host)
		if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Errorf("%q is plain http: passwords would cross the network unencrypted; use https (plain http is accepted only on a loopback address)", s)
		}
	}
	return nil
}

// pathErr drops the "open NAME:" part that the message already names.
func pathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
