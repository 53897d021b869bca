package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
)

// The suite runs against SQLite always and against PostgreSQL when VIGIL_TEST_POSTGRES_DSN names
// a server (an admin DSN such as postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable).
// For PostgreSQL, TestMain creates a database vigil_test_<random> for the run and drops it at the
// end; every test gets a fresh schema in it, selected through search_path.

var (
	pgAdminDSN = os.Getenv("VIGIL_TEST_POSTGRES_DSN")
	pgRunDSN   string  // DSN of this run's database
	pgRunDB    *sql.DB // admin connection to it, for creating schemas
)

func TestMain(m *testing.M) {
	os.Exit(func() int {
		if pgAdminDSN != "" {
			cleanup, err := setupPostgres()
			if err != nil {
				fmt.Fprintln(os.Stderr, "postgres test setup:", err)
				return 1
			}
			defer cleanup()
		}
		return m.Run()
	}())
}

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func setupPostgres() (func(), error) {
	ctx := context.Background()
	admin, err := sql.Open("pgx", pgAdminDSN)
	if err != nil {
		return nil, err
	}
	name := "vigil_test_" + randHex(6)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return nil, err
	}
	u, err := url.Parse(pgAdminDSN)
	if err != nil {
		admin.Close()
		return nil, err
	}
	u.Path = "/" + name
	pgRunDSN = u.String()
	pgRunDB, err = sql.Open("pgx", pgRunDSN)
	if err != nil {
		admin.Close()
		return nil, err
	}
	return func() {
		pgRunDB.Close()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			fmt.Fprintln(os.Stderr, "drop test database:", err)
		}
		admin.Close()
	}, nil
}

type testDB struct {
	name  string
	fresh func(t testing.TB) Config // an empty database of its own
}

func testDBs() []testDB {
	dbs := []testDB{{name: "sqlite", fresh: func(t testing.TB) Config { return Config{DataDir: t.TempDir()} }}}
	if pgRunDSN != "" {
		dbs = append(dbs, testDB{name: "postgres", fresh: freshPostgres})
	}
	return dbs
}

func freshPostgres(t testing.TB) Config {
	t.Helper()
	schema := "t_" + randHex(6)
	if _, err := pgRunDB.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := pgRunDB.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	u, _ := url.Parse(pgRunDSN)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	// Upper-case scheme: Open must accept it too.
	return Config{DatabaseURL: strings.Replace(u.String(), "postgres://", "POSTGRES://", 1)}
}

// open opens cfg and closes it when the test ends.
func open(t testing.TB, cfg Config) *Store {
	t.Helper()
	s, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// eachDB runs fn against a freshly migrated store of every test database.
func eachDB(t *testing.T, fn func(t *testing.T, s *Store, cfg Config)) {
	t.Helper()
	for _, d := range testDBs() {
		t.Run(d.name, func(t *testing.T) {
			cfg := d.fresh(t)
			s := open(t, cfg)
			if err := s.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			fn(t, s, cfg)
		})
	}
}

// rawExec runs SQL outside the store's API (for tests that tamper).
func rawExec(t testing.TB, s *Store, q string, args ...any) sql.Result {
	t.Helper()
	res, err := s.wdb.Exec(s.rebind(q), s.args(args)...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return res
}

func rawInt(t testing.TB, s *Store, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := s.rdb.QueryRow(s.rebind(q), s.args(args)...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func tokenHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func must[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func noErr(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t testing.TB, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got error %v, want %v", what, err, target)
	}
}

func verifyOK(t testing.TB, s *Store) AuditReport {
	t.Helper()
	rep, err := s.VerifyAudit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK {
		t.Fatalf("audit chain broken at %d: %s", rep.BrokenSeq, rep.Problem)
	}
	return rep
}
