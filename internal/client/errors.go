package client

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
)

// Sentinels for errors.Is on an *APIError.
var (
	ErrUnauthorized = errors.New("authentication refused")           // 401
	ErrForbidden    = errors.New("permission denied")                // 403
	ErrNotFound     = errors.New("not found")                        // 404
	ErrTooLarge     = errors.New("archive too large")                // 413
	ErrServer       = errors.New("server error")                     // 5xx
	ErrRejected     = errors.New("the service rejected the archive") // 400 with a FAILED job
	ErrIncompatible = errors.New("client and service are not compatible")
)

// APIError is an error answer of the service: its JSON body
// {"code", "reason", "message"} and where it came from.
type APIError struct {
	Method  string
	URL     string // without credentials
	User    string // the login the request used, "" if none
	Code    int    `json:"code"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

func (e *APIError) Error() string {
	detail := e.Message
	if detail == "" {
		detail = e.Reason
	}
	status := fmt.Sprintf("%d %s", e.Code, http.StatusText(e.Code))
	switch {
	case e.Code == http.StatusUnauthorized:
		who := "no username"
		if e.User != "" {
			who = fmt.Sprintf("user %q", e.User)
		}
		return fmt.Sprintf("%s refused the login of %s (%s: %s): check auth.username and the password (EPIC_USER, EPIC_PASSWORD, --password-file)",
			hostOf(e.URL), who, status, detail)
	case e.Code == http.StatusForbidden:
		return fmt.Sprintf("%s %s: permission denied (%s): %s", e.Method, e.URL, status, detail)
	case e.Code == http.StatusNotFound:
		return fmt.Sprintf("%s %s: not found (%s): %s", e.Method, e.URL, status, detail)
	case e.Code == http.StatusRequestEntityTooLarge:
		return fmt.Sprintf("the service refused the archive as too large (%s): %s", status, detail)
	case e.Code >= 500:
		return fmt.Sprintf("server error at %s %s (%s): %s", e.Method, e.URL, status, detail)
	}
	return fmt.Sprintf("%s %s: %s: %s", e.Method, e.URL, status, detail)
}

// Is matches the sentinel of the status code.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.Code == http.StatusUnauthorized
	case ErrForbidden:
		return e.Code == http.StatusForbidden
	case ErrNotFound:
		return e.Code == http.StatusNotFound
	case ErrTooLarge:
		return e.Code == http.StatusRequestEntityTooLarge
	case ErrServer:
		return e.Code >= 500
	}
	return false
}

// ConnError is a request that got no answer: no connection, a connection
// lost, a timeout.
type ConnError struct {
	Method, URL string
	Err         error
}

func (e *ConnError) Error() string {
	var rh tls.RecordHeaderError
	if errors.As(e.Err, &rh) {
		return fmt.Sprintf("%s does not answer in HTTPS (is it a plain http service? then write http:// in server.url, loopback only)", hostOf(e.URL))
	}
	return e.short() + " (is epicd running there, and is server.url right?)"
}

func (e *ConnError) short() string {
	return fmt.Sprintf("no connection to %s: %s", hostOf(e.URL), netReason(e.Err))
}

func (e *ConnError) Unwrap() error { return e.Err }

// netReason is the short cause of a network error: "connection refused"
// instead of "dial tcp 127.0.0.1:1: connect: connection refused".
func netReason(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		if dns.IsNotFound {
			return fmt.Sprintf("no such host %q", dns.Name)
		}
		return dns.Error()
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timed out"
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	return err.Error()
}

// CertError is a server certificate the client does not trust.
type CertError struct {
	URL         string
	Subject     string
	Fingerprint string // SHA-256 of the presented certificate, colon-separated hex
	Err         error
}

func (e *CertError) Error() string {
	host := hostOf(e.URL)
	var hn x509.HostnameError
	var inv x509.CertificateInvalidError
	switch {
	case errors.As(e.Err, &hn):
		return fmt.Sprintf("the certificate of %s is not valid for that name (%v; SHA-256 fingerprint %s): write in server.url a name the certificate holds",
			host, hn.Error(), e.Fingerprint)
	case errors.As(e.Err, &inv) && inv.Reason == x509.Expired:
		return fmt.Sprintf("the certificate of %s has expired or is not yet valid (%s; subject %s; SHA-256 fingerprint %s)",
			host, inv.Detail, e.Subject, e.Fingerprint)
	}
	return fmt.Sprintf("the certificate of %s is not trusted (%s; subject %s; SHA-256 fingerprint %s). "+
		"If this is your service's certificate (epicd logs its fingerprint when it starts), save it or its CA as a PEM file "+
		"and set server.ca_file in epic.toml, EPIC_CA_FILE or --ca-file to that file",
		host, certReason(e.Err), e.Subject, e.Fingerprint)
}

func (e *CertError) Unwrap() error { return e.Err }

func certReason(err error) string {
	var ua x509.UnknownAuthorityError
	if errors.As(err, &ua) {
		return "signed by an authority this machine does not trust"
	}
	return err.Error()
}

// certError turns a TLS verification failure into a CertError; it returns
// nil for other errors.
func certError(url string, err error) *CertError {
	var cv *tls.CertificateVerificationError
	if !errors.As(err, &cv) {
		return nil
	}
	ce := &CertError{URL: url, Err: cv.Err}
	if len(cv.UnverifiedCertificates) > 0 {
		leaf := cv.UnverifiedCertificates[0]
		ce.Subject = leaf.Subject.String()
		if ce.Subject == "" {
			ce.Subject = "(empty)"
		}
		ce.Fingerprint = Fingerprint(leaf.Raw)
	}
	return ce
}

// Fingerprint is the SHA-256 of a DER certificate as colon-separated
// upper-case hex, the form openssl x509 -fingerprint -sha256 prints.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	var b strings.Builder
	for i, c := range sum {
		if i > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%02X", c)
	}
	return b.String()
}

// RejectedError is an upload the service answered with 400 and a FAILED
// job holding the archive's findings.
type RejectedError struct {
	Job *Job
}

func (e *RejectedError) Error() string {
	n := len(e.Job.Findings)
	return fmt.Sprintf("the service rejected %s: job %s is %s with %d finding(s)", e.Job.Name, e.Job.ID, e.Job.Status, n)
}

func (e *RejectedError) Is(target error) bool { return target == ErrRejected }

// IncompatibleError says why the client may not upload to a service.
type IncompatibleError struct{ Msg string }

func (e *IncompatibleError) Error() string        { return e.Msg }
func (e *IncompatibleError) Is(target error) bool { return target == ErrIncompatible }

func hostOf(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		rest := u[i+3:]
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			return u[:i+3+j]
		}
	}
	return u
}
