package cli

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/spf13/cobra"

	"github.com/epicsync/epic/internal/api"
	"github.com/epicsync/epic/internal/archive"
	"github.com/epicsync/epic/internal/directory"
	"github.com/epicsync/epic/internal/engine"
	"github.com/epicsync/epic/internal/queue"
	"github.com/epicsync/epic/internal/version"
)

// scheduler runs batch runs every interval (0: only when triggered) until
// ctx ends, and one at once on Trigger. The queue's Service is one.
type scheduler interface {
	Run(ctx context.Context, interval time.Duration) error
	Trigger()
}

// queueDeps is what the queue needs from serve.
type queueDeps struct {
	Store     directory.Store
	Data      string // the data folder: queued archives live under it
	Metrics   *api.Metrics
	Log       *slog.Logger
	MaxUpload int64 // 0: the queue's default
}

// wireQueue makes the upload intake and the batch scheduler that serve
// runs: one queue.Service, which stages archives under the data folder
// while it applies them and reports to the metrics.
func wireQueue(d queueDeps) (api.Intaker, scheduler, error) {
	tmp := filepath.Join(d.Data, "tmp")
	if err := os.MkdirAll(tmp, 0o750); err != nil {
		return nil, nil, err
	}
	lim := archive.DefaultLimits()
	if d.MaxUpload > 0 {
		lim.MaxArchiveBytes = d.MaxUpload
	}
	svc := &queue.Service{Store: d.Store, Engine: &engine.Engine{Store: d.Store, Limits: lim}, Log: d.Log, MaxUpload: d.MaxUpload,
		TempDir: tmp, JobEnded: d.Metrics.JobEnded, BatchDone: d.Metrics.BatchDone}
	return svc, svc, nil
}

// serveConfig is epicd.toml: every key is also a flag and an EPICD_*
// variable (flags win over variables, variables over the file).
type serveConfig struct {
	Data          string `toml:"data"`
	DB            string `toml:"db"`
	Listen        string `toml:"listen"`
	TLSCert       string `toml:"tls_cert"`
	TLSKey        string `toml:"tls_key"`
	InsecureHTTP  bool   `toml:"insecure_http"`
	BatchInterval string `toml:"batch_interval"`
	MaxUpload     int64  `toml:"max_upload"`
	LogFormat     string `toml:"log_format"`
}

// loadServeConfig reads the file; a missing default file is no error.
func loadServeConfig(path string, explicit bool) (serveConfig, error) {
	var cfg serveConfig
	md, err := toml.DecodeFile(path, &cfg)
	if errors.Is(err, fs.ErrNotExist) && !explicit {
		return cfg, nil
	}
	if err != nil {
		return cfg, exitWith(ExitFailure, "read the configuration %s: %v", path, err)
	}
	if u := md.Undecoded(); len(u) > 0 {
		keys := make([]string, len(u))
		for i, k := range u {
			keys[i] = k.String()
		}
		return cfg, exitWith(ExitFailure, "%s: unknown key %s (known: data, db, listen, tls_cert, tls_key, insecure_http, batch_interval, max_upload, log_format)",
			path, strings.Join(keys, ", "))
	}
	return cfg, nil
}

func serveCommand(sf *storeFlags, stderr io.Writer) *cobra.Command {
	var (
		config, listen, certFile, keyFile, interval, logFormat string
		insecure                                               bool
		maxUpload                                              int64
	)
	c := &cobra.Command{
		Use:   "serve",
		Short: "run the HTTP API and the batch scheduler",
		Long: `Run the HTTP API and the batch scheduler until SIGINT or SIGTERM, then
finish the requests in flight and stop.

HTTPS by default: with no --tls-cert/--tls-key, a self-signed certificate
is made on first start in the data folder (cert.pem, key.pem) and its
SHA-256 fingerprint is logged. --insecure-http serves plain HTTP, only on
a loopback address (for tests).

Every flag can also be set in epicd.toml (--config; keys as the flags with
_ for -) and as an EPICD_* variable (EPICD_LISTEN, EPICD_TLS_CERT, ...):
flags win over variables, variables over the file.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			fl := c.Flags()
			path, explicit := config, fl.Changed("config") || os.Getenv("EPICD_CONFIG") != ""
			file, err := loadServeConfig(path, explicit)
			if err != nil {
				return err
			}
			// pick sets *v from the variable, else the file, unless the
			// flag was given.
			pick := func(flag string, v *string, fileVal string) {
				if fl.Changed(flag) || c.Root().PersistentFlags().Changed(flag) {
					return
				}
				if e := os.Getenv("EPICD_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))); e != "" {
					*v = e
				} else if fileVal != "" {
					*v = fileVal
				}
			}
			pick("data", &sf.data, file.Data)
			pick("db", &sf.db, file.DB)
			pick("listen", &listen, file.Listen)
			pick("tls-cert", &certFile, file.TLSCert)
			pick("tls-key", &keyFile, file.TLSKey)
			pick("batch-interval", &interval, file.BatchInterval)
			pick("log-format", &logFormat, file.LogFormat)
			ins, fileIns := strconv.FormatBool(insecure), ""
			if file.InsecureHTTP {
				fileIns = "true"
			}
			pick("insecure-http", &ins, fileIns)
			mu, fileMU := strconv.FormatInt(maxUpload, 10), ""
			if file.MaxUpload != 0 {
				fileMU = strconv.FormatInt(file.MaxUpload, 10)
			}
			pick("max-upload", &mu, fileMU)

			var opts serveOptions
			opts.listen, opts.certFile, opts.keyFile = listen, certFile, keyFile
			if opts.insecure, err = strconv.ParseBool(ins); err != nil {
				return exitWith(ExitFailure, "insecure-http %q: write true or false", ins)
			}
			if opts.maxUpload, err = strconv.ParseInt(mu, 10, 64); err != nil || opts.maxUpload <= 0 {
				return exitWith(ExitFailure, "max-upload %q: write a number of bytes above 0", mu)
			}
			if opts.interval, err = time.ParseDuration(interval); err != nil || opts.interval < 0 {
				return exitWith(ExitFailure, "batch-interval %q: write a duration such as 5m or 30s (0: only on demand)", interval)
			}
			var h slog.Handler
			switch logFormat {
			case "text":
				h = slog.NewTextHandler(stderr, nil)
			case "json":
				h = slog.NewJSONHandler(stderr, nil)
			default:
				return exitWith(ExitFailure, "log-format %q: write text or json", logFormat)
			}
			if (certFile == "") != (keyFile == "") {
				return exitWith(ExitFailure, "give both --tls-cert and --tls-key, or neither (a self-signed certificate is made)")
			}
			if opts.insecure && certFile != "" {
				return exitWith(ExitFailure, "--insecure-http serves plain HTTP: it takes no --tls-cert or --tls-key")
			}
			if opts.insecure && !loopback(listen) {
				return exitWith(ExitFailure, "--insecure-http is only for loopback addresses (127.0.0.1, ::1, localhost), not %q", listen)
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return serve(ctx, sf, opts, slog.New(h))
		},
	}
	c.Flags().StringVar(&config, "config", envOr("EPICD_CONFIG", "epicd.toml"), "configuration file (EPICD_CONFIG); a missing ./epicd.toml is no error")
	c.Flags().StringVar(&listen, "listen", "127.0.0.1:8443", "address to listen on (EPICD_LISTEN)")
	c.Flags().StringVar(&certFile, "tls-cert", "", "TLS certificate chain, PEM (EPICD_TLS_CERT; default: a self-signed one in the data folder)")
	c.Flags().StringVar(&keyFile, "tls-key", "", "TLS private key, PEM (EPICD_TLS_KEY)")
	c.Flags().BoolVar(&insecure, "insecure-http", false, "serve plain HTTP; only on a loopback address, for tests (EPICD_INSECURE_HTTP)")
	c.Flags().StringVar(&interval, "batch-interval", "5m", "time between batch runs; 0: only on demand (EPICD_BATCH_INTERVAL)")
	c.Flags().Int64Var(&maxUpload, "max-upload", archive.DefaultLimits().MaxArchiveBytes, "largest archive accepted, in bytes; larger uploads get 413 (EPICD_MAX_UPLOAD)")
	c.Flags().StringVar(&logFormat, "log-format", "text", "log format: text or json (EPICD_LOG_FORMAT)")
	return c
}

type serveOptions struct {
	listen, certFile, keyFile string
	insecure                  bool
	interval                  time.Duration
	maxUpload                 int64
	// ready, when set, is called with the service's base URL once it
	// listens (epic demo runs serve in its own process).
	ready func(url string)
}

// loopback reports whether addr's host is a loopback address.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func serve(ctx context.Context, sf *storeFlags, o serveOptions, log *slog.Logger) error {
	st, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	metrics := api.NewMetrics()
	intake, sched, err := wireQueue(queueDeps{Store: st, Data: sf.data, Metrics: metrics, Log: log, MaxUpload: o.maxUpload})
	if err != nil {
		return exitWith(ExitFailure, "start the queue: %v", err)
	}
	cfg := api.Config{Store: st, Log: log, Version: version.Version, MaxUpload: o.maxUpload, Metrics: metrics,
		ErrTooLarge: queue.ErrTooLarge, ErrInvalidArchive: queue.ErrInvalidArchive, ErrNotEnabled: queue.ErrNotEnabled}
	if intake != nil {
		cfg.Intake = intake
	} else {
		log.Warn("no queue in this build: uploads answer 503 and no batch runs")
	}
	if sched != nil {
		cfg.Trigger = sched.Trigger
	}
	srv := api.NewServer(api.New(cfg), log)

	var tlsCfg *tls.Config
	if !o.insecure {
		if o.certFile == "" {
			if err := os.MkdirAll(sf.data, 0o750); err != nil {
				return exitWith(ExitFailure, "create the data folder: %v", err)
			}
			o.certFile, o.keyFile = filepath.Join(sf.data, "cert.pem"), filepath.Join(sf.data, "key.pem")
			made, err := selfSigned(o.certFile, o.keyFile)
			if err != nil {
				return exitWith(ExitFailure, "make a self-signed certificate: %v", err)
			}
			if made {
				log.Info("made a self-signed certificate", "cert", o.certFile, "key", o.keyFile)
			}
		}
		cert, err := tls.LoadX509KeyPair(o.certFile, o.keyFile)
		if err != nil {
			return exitWith(ExitFailure, "load the TLS certificate %s and key %s: %v", o.certFile, o.keyFile, err)
		}
		sum := sha256.Sum256(cert.Certificate[0])
		log.Info("TLS certificate", "file", o.certFile, "sha256", fingerprint(sum[:]))
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}

	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return exitWith(ExitFailure, "listen on %s: %v", o.listen, err)
	}
	scheme := "https"
	if tlsCfg != nil {
		ln = tls.NewListener(ln, tlsCfg)
		srv.TLSConfig = tlsCfg
	} else {
		scheme = "http"
	}
	log.Info("epicd listening", "addr", ln.Addr().String(), "url", scheme+"://"+ln.Addr().String(),
		"version", version.Version, "batch_interval", o.interval.String())

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if o.ready != nil {
		o.ready(scheme + "://" + ln.Addr().String())
	}
	schedDone := make(chan error, 1)
	schedCtx, stopSched := context.WithCancel(ctx)
	defer stopSched()
	if sched != nil {
		go func() { schedDone <- sched.Run(schedCtx, o.interval) }()
	} else {
		schedDone <- nil
	}

	select {
	case err := <-served:
		return exitWith(ExitFailure, "serve: %v", err)
	case <-ctx.Done():
	}
	log.Info("stopping: finishing requests in flight")
	stopSched()
	shutCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		log.Warn("shutdown", "err", err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("serve", "err", err)
	}
	if err := <-schedDone; err != nil && !errors.Is(err, context.Canceled) {
		log.Warn("scheduler", "err", err)
	}
	log.Info("stopped")
	return nil
}

// fingerprint is sum as colon-separated hex.
func fingerprint(sum []byte) string {
	h := strings.ToUpper(hex.EncodeToString(sum))
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}

// selfSigned makes an ECDSA P-256 certificate for the loopback addresses,
// localhost and the host's name, unless certFile exists already. It
// reports whether it made one.
func selfSigned(certFile, keyFile string) (bool, error) {
	if _, err := os.Stat(certFile); err == nil {
		return false, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return false, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return false, err
	}
	names := []string{"localhost"}
	if h, err := os.Hostname(); err == nil && h != "" && h != "localhost" {
		names = append(names, h)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "epicd", Organization: []string{"epicd self-signed"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(5, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true, // so clients can trust it as its own root
		DNSNames:              names,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return false, err
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return false, err
	}
	if err := writeNew(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		return false, err
	}
	if err := writeNew(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return false, err
	}
	return true, nil
}

// writeNew writes b to a new file of that mode, synced, via a temporary
// file so a crash leaves no half file.
func writeNew(path string, b []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
