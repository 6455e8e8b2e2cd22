package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

// EnvKeyFile names the key file instead of the default.
const EnvKeyFile = "EPIC_KEY_FILE"

const (
	prefix = "ENC("
	suffix = ")"
	keyLen = 32
)

// ErrDecrypt is wrapped by every error of Decrypt about the value itself:
// not base64, cut short, sealed with another key or altered.
var ErrDecrypt = errors.New("cannot decrypt")

// Key is an AES-256 key.
type Key struct {
	aead cipher.AEAD
	path string
}

// IsEncrypted tells whether v is an ENC(...) value.
func IsEncrypted(v string) bool {
	v = strings.TrimSpace(v)
	return strings.HasPrefix(v, prefix) && strings.HasSuffix(v, suffix)
}

// DefaultKeyFile is EPIC_KEY_FILE when set, else epic/key in the user's
// configuration folder (~/.config/epic/key on Linux).
func DefaultKeyFile() (string, error) {
	if p := os.Getenv(EnvKeyFile); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the key file: %w (set %s)", err, EnvKeyFile)
	}
	return filepath.Join(dir, "epic", "key"), nil
}

func newKey(b []byte, path string) (*Key, error) {
	block, err := aes.NewCipher(b)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Key{aead: aead, path: path}, nil
}

// Path is the file the key was read from.
func (k *Key) Path() string { return k.path }

// checkMode refuses a key file that anyone but its owner may read or write.
func checkMode(path string, fi fs.FileInfo) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("key file %s is not a regular file", path)
	}
	if m := fi.Mode().Perm(); m&0o077 != 0 {
		return fmt.Errorf("key file %s has mode %04o: it must be readable only by its owner (chmod 600 %s)", path, m, path)
	}
	return nil
}

// LoadKey reads the key file at path. It refuses a file that its group or
// others may read, and one that does not hold a key.
func LoadKey(path string) (*Key, error) {
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("key file %s does not exist: the configuration's ENC(...) values were encrypted with a key kept elsewhere (set %s to its file, or encrypt them again with epic encrypt)", path, EnvKeyFile)
		}
		return nil, fmt.Errorf("key file: %w", err)
	}
	if err := checkMode(path, fi); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	raw := b
	if len(b) != keyLen {
		raw, err = base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(raw) != keyLen {
			return nil, fmt.Errorf("key file %s does not hold a key (want %d bytes, base64-encoded on one line)", path, keyLen)
		}
	}
	return newKey(raw, path)
}

// LoadOrCreateKey reads the key file at path, or makes it (mode 0600, its
// folder 0700) with 32 random bytes if it does not exist. created tells
// which.
func LoadOrCreateKey(path string) (k *Key, created bool, err error) {
	if _, err := os.Stat(path); err == nil || !errors.Is(err, fs.ErrNotExist) {
		k, err := LoadKey(path)
		return k, false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("make the key file: %w", err)
	}
	raw := make([]byte, keyLen)
	if _, err := rand.Read(raw); err != nil {
		return nil, false, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("make the key file: %w", err)
	}
	_, err = f.WriteString(base64.StdEncoding.EncodeToString(raw) + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return nil, false, fmt.Errorf("make the key file: %w", err)
	}
	k, err = newKey(raw, path)
	return k, true, err
}

// Encrypt seals plain and returns ENC(base64(nonce|ciphertext)).
func (k *Key) Encrypt(plain string) (string, error) {
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	sealed := k.aead.Seal(nonce, nonce, []byte(plain), nil)
	return prefix + base64.StdEncoding.EncodeToString(sealed) + suffix, nil
}

// Decrypt opens an ENC(...) value. Its errors wrap ErrDecrypt and never
// hold the value.
func (k *Key) Decrypt(v string) (string, error) {
	v = strings.TrimSpace(v)
	if !IsEncrypted(v) {
		return "", fmt.Errorf("%w: not an ENC(...) value", ErrDecrypt)
	}
	b, err := base64.StdEncoding.DecodeString(v[len(prefix) : len(v)-len(suffix)])
	if err != nil {
		return "", fmt.Errorf("%w: the value inside ENC(...) is not base64 (was it cut or edited?)", ErrDecrypt)
	}
	n := k.aead.NonceSize()
	if len(b) < n+k.aead.Overhead() {
		return "", fmt.Errorf("%w: the value inside ENC(...) is too short (was it cut?)", ErrDecrypt)
	}
	plain, err := k.aead.Open(nil, b[:n], b[n:], nil)
	if err != nil {
		return "", fmt.Errorf("%w: it was encrypted with another key than %s, or altered", ErrDecrypt, k.path)
	}
	return string(plain), nil
}

// A Reader decrypts configuration values with the default key file, read
// once, when the first ENC(...) value needs it.
type Reader struct {
	mu   sync.Mutex
	path string
	key  *Key
}

// NewReader returns a Reader of the key at path ("" for DefaultKeyFile).
func NewReader(path string) *Reader { return &Reader{path: path} }

// Reveal returns v unchanged unless it is an ENC(...) value, which it
// decrypts. field (e.g. "sql.dsn") names the value in errors; the value
// itself never appears in one.
func (r *Reader) Reveal(field, v string) (string, error) {
	if !IsEncrypted(v) {
		return v, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.key == nil {
		path := r.path
		if path == "" {
			var err error
			if path, err = DefaultKeyFile(); err != nil {
				return "", fmt.Errorf("%s: %w", field, err)
			}
		}
		k, err := LoadKey(path)
		if err != nil {
			return "", fmt.Errorf("%s: %w", field, err)
		}
		r.key = k
	}
	p, err := r.key.Decrypt(v)
	if err != nil {
		return "", fmt.Errorf("%s: %w", field, err)
	}
	return p, nil
}

// Reveal decrypts v with the default key file when it is an ENC(...)
// value, and returns it unchanged otherwise (see Reader.Reveal).
func Reveal(field, v string) (string, error) { return NewReader("").Reveal(field, v) }
