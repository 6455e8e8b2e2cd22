// Package pgtest gives tests a PostgreSQL database of their own on the
// server named by EPIC_TEST_PG_DSN. Without that variable a test skips, or
// fails when EPIC_TEST_DISALLOW_SKIP=1 (as CI sets). For tests only.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// DSN returns EPIC_TEST_PG_DSN, or skips (fails under
// EPIC_TEST_DISALLOW_SKIP=1) when it is not set.
func DSN(t testing.TB) string {
	t.Helper()
	d := os.Getenv("EPIC_TEST_PG_DSN")
	if d == "" {
		if os.Getenv("EPIC_TEST_DISALLOW_SKIP") == "1" {
			t.Fatal("EPIC_TEST_PG_DSN is not set (EPIC_TEST_DISALLOW_SKIP=1 forbids skipping)")
		}
		t.Skip("EPIC_TEST_PG_DSN is not set")
	}
	return d
}

// FreshDSN creates an empty database, dropped when the test ends, and
// returns its DSN, so tests and test binaries run in parallel without
// seeing each other.
func FreshDSN(t testing.TB) string {
	t.Helper()
	admin := DSN(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect %s: %v", admin, err)
	}
	defer conn.Close(ctx)
	var b [8]byte
	_, _ = rand.Read(b[:])
	name := "epic_test_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("connect to drop %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	return WithDatabase(t, admin, name)
}

// WithDatabase returns dsn naming database name instead.
func WithDatabase(t testing.TB, dsn, name string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatalf("parse EPIC_TEST_PG_DSN: %v", err)
		}
		u.Path = "/" + name
		return u.String()
	}
	return dsn + " dbname=" + name
}
