// Command apiload measures requests per second of one GET against a
// running epicd: C connections (keep-alive) ask as fast as they can for
// D, and it prints the rate and latency percentiles. For benchmarks
// only (docs/benchmarks.md, section API).
//
// "{i}" in the URL becomes a number that differs on every request (for
// example an extra query parameter, so that the server's page cache
// misses every time), and "{page}" a multiple of 100 below -pages*100
// (a walk over many pages).
//
//	go run ./scripts/apiload -url 'https://127.0.0.1:8443/api/xm/1/people?limit=100' \
//	    -user reader -password-file pw.txt -ca epicd-data/cert.pem -c 16 -d 20s
package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	url := flag.String("url", "", "URL to GET")
	user := flag.String("user", "", "login")
	pwFile := flag.String("password-file", "", "file whose first line is the password")
	ca := flag.String("ca", "", "certificate to trust (PEM)")
	conc := flag.Int("c", 16, "concurrent connections")
	dur := flag.Duration("d", 20*time.Second, "duration")
	pages := flag.Int("pages", 1000, "how many pages {page} goes over")
	flag.Parse()
	if *url == "" {
		fmt.Fprintln(os.Stderr, "apiload: -url is required")
		os.Exit(2)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: *conc, MaxConnsPerHost: *conc}
	if *ca != "" {
		b, err := os.ReadFile(*ca)
		if err != nil {
			fmt.Fprintln(os.Stderr, "apiload:", err)
			os.Exit(2)
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(b)
		tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	}
	var pw string
	if *pwFile != "" {
		b, err := os.ReadFile(*pwFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "apiload:", err)
			os.Exit(2)
		}
		pw = strings.TrimRight(strings.SplitN(string(b), "\n", 2)[0], "\r")
	}
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var (
		mu   sync.Mutex
		lats []time.Duration
		errs int
		wg   sync.WaitGroup
	)
	end := time.Now().Add(*dur)
	start := time.Now()
	var seq atomic.Int64
	for range *conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			bad := 0
			for time.Now().Before(end) {
				t0 := time.Now()
				n := seq.Add(1)
				u := strings.ReplaceAll(*url, "{i}", strconv.FormatInt(n, 10))
				u = strings.ReplaceAll(u, "{page}", strconv.FormatInt(n*7919%int64(max(*pages, 1))*100, 10))
				req, _ := http.NewRequest("GET", u, nil)
				if *user != "" {
					req.SetBasicAuth(*user, pw)
				}
				res, err := hc.Do(req)
				if err != nil {
					bad++
					continue
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					bad++
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lats = append(lats, mine...)
			errs += bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	el := time.Since(start)
	slices.Sort(lats)
	pct := func(p float64) time.Duration {
		if len(lats) == 0 {
			return 0
		}
		return lats[min(len(lats)-1, int(p*float64(len(lats))))]
	}
	fmt.Printf("%d requests in %.1f s: %.0f req/s; %d errors; latency p50 %v p90 %v p99 %v (c=%d)\n",
		len(lats), el.Seconds(), float64(len(lats))/el.Seconds(), errs, pct(0.5).Round(time.Microsecond),
		pct(0.9).Round(time.Microsecond), pct(0.99).Round(time.Microsecond), *conc)
}
