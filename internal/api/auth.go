package api

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/epicsync/epic/internal/directory"
)

// authCacheSize bounds the verified credentials kept; when full, the
// cache starts again empty.
const authCacheSize = 10000

// authCache remembers verified credentials for a short while, so that a
// client making many requests pays bcrypt (tens of milliseconds) once a
// TTL rather than once a request. It is keyed by the SHA-256 of login
// and password together: it never holds a password, and a changed
// password misses it.
type authCache struct {
	store directory.Users
	ttl   time.Duration
	now   func() time.Time
	mu    sync.Mutex
	m     map[[32]byte]authEntry
	// dummy is compared against when the login is unknown, so that
	// unknown logins take as long as wrong passwords.
	dummy []byte
}

type authEntry struct {
	user    *directory.User
	company *directory.Company
	expires time.Time
}

func newAuthCache(st directory.Users, ttl time.Duration, now func() time.Time) *authCache {
	dummy, _ := bcrypt.GenerateFromPassword([]byte("no such user"), bcrypt.DefaultCost)
	return &authCache{store: st, ttl: ttl, now: now, m: map[[32]byte]authEntry{}, dummy: dummy}
}

func cacheKey(login, password string) [32]byte {
	h := sha256.New()
	h.Write([]byte(strings.ToLower(login)))
	h.Write([]byte{0})
	h.Write([]byte(password))
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// errUnauthorized is a 401 with the challenge.
func errUnauthorized(msg string) *Error {
	e := errorf(http.StatusUnauthorized, "%s", msg)
	e.header = http.Header{"Www-Authenticate": {`Basic realm="epicd", charset="UTF-8"`}}
	return e
}

// verify returns the user and company of the credentials.
func (a *authCache) verify(r *http.Request, login, password string) (*directory.User, *directory.Company, error) {
	k := cacheKey(login, password)
	now := a.now()
	a.mu.Lock()
	e, ok := a.m[k]
	a.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.user, e.company, nil
	}
	u, c, err := a.store.UserByLogin(r.Context(), login)
	if errors.Is(err, directory.ErrNotFound) {
		bcrypt.CompareHashAndPassword(a.dummy, []byte(password))
		return nil, nil, errUnauthorized("wrong login or password")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("authenticate %q: %w", login, err)
	}
	if bcrypt.CompareHashAndPassword(u.PasswordHash, []byte(password)) != nil {
		return nil, nil, errUnauthorized("wrong login or password")
	}
	a.mu.Lock()
	if len(a.m) >= authCacheSize {
		clear(a.m)
	}
	a.m[k] = authEntry{user: u, company: c, expires: now.Add(a.ttl)}
	a.mu.Unlock()
	return u, c, nil
}

// roles says which roles may use routes of each access.
var roles = map[access][]directory.Role{
	readImport: {directory.RoleUploader, directory.RoleReader, directory.RoleAdmin},
	readDir:    {directory.RoleReader, directory.RoleAdmin},
	upload:     {directory.RoleUploader, directory.RoleAdmin},
	admin:      {directory.RoleAdmin},
}

// authenticate checks the request's Basic credentials and the user's
// roles.
func (s *server) authenticate(r *http.Request, a access) (*directory.User, *directory.Company, error) {
	login, password, ok := r.BasicAuth()
	if !ok {
		return nil, nil, errUnauthorized("authentication required: send the login and password of an API user with HTTP Basic authentication")
	}
	u, c, err := s.auth.verify(r, login, password)
	if err != nil {
		return nil, nil, err
	}
	need := roles[a]
	if !slices.ContainsFunc(u.Roles, func(r directory.Role) bool { return slices.Contains(need, r) }) {
		names := make([]string, len(need))
		for i, r := range need {
			names[i] = string(r)
		}
		have := make([]string, len(u.Roles))
		for i, r := range u.Roles {
			have[i] = string(r)
		}
		return nil, nil, errorf(http.StatusForbidden, "user %q (roles: %s) may not %s %s: that needs one of the roles %s",
			u.Login, strings.Join(have, ", "), r.Method, r.URL.Path, strings.Join(names, ", "))
	}
	return u, c, nil
}
