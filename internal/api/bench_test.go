package api_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/epicsync/epic/internal/api"
	"github.com/epicsync/epic/internal/directory"
	"github.com/epicsync/epic/internal/postgres"
	"github.com/epicsync/epic/internal/sqlite"
)

// BenchmarkGet measures GET requests through the whole handler (no TLS)
// against a store someone filled: EPIC_BENCH_SQLITE names an epicd.db
// file, or EPIC_BENCH_PG a PostgreSQL DSN, with a user "reader" whose
// password is EPIC_BENCH_PASSWORD ("long enough password" when unset).
// EPIC_BENCH_PATH is the request (default the first page of people).
// "cached" lets the server keep answers (the same request again is
// answered from memory), "uncached" reads the store every time. Profile
// with -cpuprofile:
//
//	EPIC_BENCH_SQLITE=/tmp/bench/d/epicd.db go test ./internal/api -run '^$' -bench Get/uncached -cpuprofile cpu.out
func BenchmarkGet(b *testing.B) {
	ctx := context.Background()
	var (
		st  directory.Store
		err error
	)
	switch {
	case os.Getenv("EPIC_BENCH_SQLITE") != "":
		st, err = sqlite.Open(ctx, os.Getenv("EPIC_BENCH_SQLITE"))
	case os.Getenv("EPIC_BENCH_PG") != "":
		st, err = postgres.Open(ctx, os.Getenv("EPIC_BENCH_PG"))
	default:
		b.Skip("set EPIC_BENCH_SQLITE or EPIC_BENCH_PG to a filled store")
	}
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	pw := os.Getenv("EPIC_BENCH_PASSWORD")
	if pw == "" {
		pw = "long enough password"
	}
	path := os.Getenv("EPIC_BENCH_PATH")
	if path == "" {
		path = "/api/xm/1/people?limit=100"
	}
	for _, bc := range []struct {
		name  string
		bytes int
	}{{"cached", 0}, {"uncached", -1}} {
		b.Run(bc.name, func(b *testing.B) {
			srv := httptest.NewServer(api.New(api.Config{Store: st, PageCacheBytes: bc.bytes}))
			defer srv.Close()
			get := func() {
				req, _ := http.NewRequest("GET", srv.URL+path, nil)
				req.SetBasicAuth("reader", pw)
				res, err := srv.Client().Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					b.Fatalf("GET %s: %s", path, res.Status)
				}
			}
			get() // bcrypt once, outside the measurement
			b.SetParallelism(4)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					get()
				}
			})
		})
	}
}
