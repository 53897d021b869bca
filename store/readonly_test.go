package store

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-med/vigil/internal/filestate"
	"time"
)

// makeSQLite creates a migrated database file with one product and closes it: afterwards it has
// no -wal or -shm file, as a database shipped or copied after `vigil vulndb import` has not.
// Its mtime is set in the past, so that a write would show.
func makeSQLite(t testing.TB, path string) {
	t.Helper()
	s, err := Open(ctx, Config{SQLiteFile: path})
	noErr(t, err)
	noErr(t, s.Migrate(ctx))
	_, err = s.CreateProduct(ctx, ActorSystem, Product{Name: "Pump"})
	noErr(t, err)
	noErr(t, s.Close())
	filestate.Age(t, path)
	for _, sfx := range []string{"-wal", "-shm"} {
		if _, err := os.Stat(path + sfx); err == nil {
			t.Fatalf("%s%s left after close", path, sfx)
		}
	}
}

func openRO(t testing.TB, path string) *Store {
	t.Helper()
	return open(t, Config{SQLiteFile: path, ReadOnly: true})
}

// TestReadOnlyRefusesWrites: a read-only store reads, refuses every write with ErrReadOnly
// (never calling the transaction function), and leaves the file and its directory untouched.
func TestReadOnlyRefusesWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vulns.db")
	makeSQLite(t, path)
	before := filestate.Of(t, path)

	s := openRO(t, path)
	if !s.ReadOnly() || !s.immutable {
		t.Errorf("ReadOnly() %v immutable %v; want a read-only store reading the file as immutable", s.ReadOnly(), s.immutable)
	}
	noErr(t, s.CheckSchema(ctx))
	ps := must[[]Product](t)(s.ListProducts(ctx))
	if len(ps) != 1 || ps[0].Name != "Pump" {
		t.Errorf("products %+v", ps)
	}
	called := false
	err := s.Transact(ctx, func(tx *Tx) error { called = true; return nil })
	wantErr(t, err, ErrReadOnly, "Transact")
	if called {
		t.Error("Transact ran its function on a read-only store")
	}
	if err != nil && !strings.Contains(err.Error(), "read-only") {
		t.Errorf("message: %v", err)
	}
	_, err = s.CreateProduct(ctx, ActorSystem, Product{Name: "Other"})
	wantErr(t, err, ErrReadOnly, "CreateProduct")
	wantErr(t, s.RecordLoginFailure(ctx, "ip:1.2.3.4", time.Now()), ErrReadOnly, "RecordLoginFailure (exec)")
	// Below the store's checks, SQLite refuses too, and mapErr says so.
	_, err = s.rdb.ExecContext(ctx, "DELETE FROM products")
	wantErr(t, mapErr(err), ErrReadOnly, "raw DELETE")
	noErr(t, s.Close())
	filestate.Of(t, path).Check(t, before, "after reading")
	if n := len(must[[]Product](t)(must[*Store](t)(Open(ctx, Config{SQLiteFile: path})).ListProducts(ctx))); n != 1 {
		t.Errorf("%d products after the refused writes", n)
	}
}

// TestReadOnlyMissingFile: nothing is created, neither the file nor its directory.
func TestReadOnlyMissingFile(t *testing.T) {
	dir := t.TempDir()
	for _, cfg := range []Config{
		{SQLiteFile: filepath.Join(dir, "missing.db"), ReadOnly: true},
		{SQLiteFile: filepath.Join(dir, "sub", "missing.db"), ReadOnly: true},
		{DataDir: filepath.Join(dir, "data"), ReadOnly: true},
	} {
		_, err := Open(ctx, cfg)
		want := cfg.SQLiteFile
		if want == "" {
			want = filepath.Join(cfg.DataDir, "vigil.db")
		}
		if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), want) {
			t.Errorf("%+v: error %v; want one naming %s and matching fs.ErrNotExist", cfg, err, want)
		}
	}
	if ents := must[[]os.DirEntry](t)(os.ReadDir(dir)); len(ents) != 0 {
		t.Errorf("read-only opens created %v", ents)
	}
	// A directory or a file that is not a database is bad input.
	_, err := Open(ctx, Config{SQLiteFile: dir, ReadOnly: true})
	wantErr(t, err, ErrInvalid, "directory")
	junk := filepath.Join(dir, "junk.db")
	noErr(t, os.WriteFile(junk, bytes.Repeat([]byte("not a database "), 512), 0o600))
	_, err = Open(ctx, Config{SQLiteFile: junk, ReadOnly: true})
	wantErr(t, err, ErrInvalid, "not a database")
}

// TestReadOnlyThroughWAL: while a writer has the database open (its -wal and -shm exist), a
// read-only store reads through the WAL and sees what the writer commits later.
func TestReadOnlyThroughWAL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil.db")
	w := open(t, Config{SQLiteFile: path})
	noErr(t, w.Migrate(ctx))
	r := openRO(t, path)
	if r.immutable {
		t.Fatal("a database with a live writer was opened as immutable")
	}
	_, err := w.CreateProduct(ctx, ActorSystem, Product{Name: "Late"})
	noErr(t, err)
	if ps := must[[]Product](t)(r.ListProducts(ctx)); len(ps) != 1 || ps[0].Name != "Late" {
		t.Errorf("the reader does not see the writer's commit: %+v", ps)
	}
	wantErr(t, r.Transact(ctx, func(*Tx) error { return nil }), ErrReadOnly, "Transact")
	noErr(t, r.Close())
	_, err = w.CreateProduct(ctx, ActorSystem, Product{Name: "After"})
	noErr(t, err)
}

// TestReadOnlyOldSchema: an older schema is reported, not migrated; Migrate fails and changes
// nothing.
func TestReadOnlyOldSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	s, err := Open(ctx, Config{SQLiteFile: path})
	noErr(t, err)
	prov, err := s.provider()
	noErr(t, err)
	_, err = prov.UpTo(ctx, 3)
	noErr(t, err)
	noErr(t, s.Close())
	filestate.Age(t, path)
	before := filestate.Of(t, path)

	r := openRO(t, path)
	err = r.CheckSchema(ctx)
	var se *SchemaError
	_, latest, _ := r.SchemaVersion(ctx)
	if !errors.As(err, &se) || se.Current != 3 || se.Latest != latest || latest <= 3 {
		t.Fatalf("CheckSchema: %v (latest %d)", err, latest)
	}
	if err := r.Migrate(ctx); err == nil {
		t.Error("Migrate succeeded on a read-only store")
	}
	noErr(t, r.Close())
	filestate.Of(t, path).Check(t, before, "after CheckSchema and Migrate")
}

// TestReadOnlyPostgresErrorsRedacted: the read-only path parses the URL itself; its errors must
// not show the password either.
func TestReadOnlyPostgresErrorsRedacted(t *testing.T) {
	for _, u := range []string{"postgres://u:s3cret@127.0.0.1:notaport/db", "postgresql://u:s3cret@127.0.0.1:1/db?sslmode=disable&connect_timeout=2"} {
		_, err := Open(ctx, Config{DatabaseURL: u, ReadOnly: true})
		if err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%v", err)
		}
	}
}

// TestReadOnlyPostgres: every session of a read-only PostgreSQL store is read-only.
func TestReadOnlyPostgres(t *testing.T) {
	if pgRunDSN == "" {
		t.Skip("VIGIL_TEST_POSTGRES_DSN not set")
	}
	cfg := freshPostgres(t)
	w := open(t, cfg)
	noErr(t, w.Migrate(ctx))
	_, err := w.CreateProduct(ctx, ActorSystem, Product{Name: "Pump"})
	noErr(t, err)
	cfg.ReadOnly = true
	r := open(t, cfg)
	noErr(t, r.CheckSchema(ctx))
	if ps := must[[]Product](t)(r.ListProducts(ctx)); len(ps) != 1 {
		t.Errorf("products %+v", ps)
	}
	wantErr(t, r.Transact(ctx, func(*Tx) error { return nil }), ErrReadOnly, "Transact")
	_, err = r.rdb.ExecContext(ctx, "DELETE FROM products")
	wantErr(t, mapErr(err), ErrReadOnly, "raw DELETE")
	if n := rawInt(t, w, "SELECT count(*) FROM products"); n != 1 {
		t.Errorf("%d products", n)
	}
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	in := must[*os.File](t)(os.Open(from))
	defer in.Close()
	out := must[*os.File](t)(os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644))
	_, err := io.Copy(out, in)
	noErr(t, err)
	noErr(t, out.Close())
}
