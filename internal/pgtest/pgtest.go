// Package pgtest gives tests a PostgreSQL database of their own when VIGIL_TEST_POSTGRES_DSN names
// a server (an admin DSN such as postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable), and
// skips them otherwise. CI sets the variable, so these tests run there.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// EnvVar names the admin DSN.
const EnvVar = "VIGIL_TEST_POSTGRES_DSN"

// Fresh creates an empty database and returns its DSN; the database is dropped when the test ends.
func Fresh(t testing.TB) string {
	t.Helper()
	adminDSN := os.Getenv(EnvVar)
	if adminDSN == "" {
		t.Skip(EnvVar + " not set; PostgreSQL tests skipped (CI sets it)")
	}
	admin, err := sql.Open("pgx", adminDSN)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "vigil_t_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(context.Background(), "CREATE DATABASE "+name); err != nil {
		admin.Close()
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop test database %s: %v", name, err)
		}
		admin.Close()
	})
	u, err := url.Parse(adminDSN)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
