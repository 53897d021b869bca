package cli

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/vigil-med/vigil/internal/filestate"
	"github.com/vigil-med/vigil/store"
)

// shippedDB imports the test feeds into a database, then copies it (checkpointed: the import
// closed it) into a directory of its own without -wal/-shm, read-only, with an old mtime: a
// vulnerability database as shipped on read-only media.
func shippedDB(t *testing.T) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), "import.db")
	if r := vigil(t, "vulndb", "import", testOSVDir, kevFile(t), testEPSS, "--db", src); r.code != 0 {
		t.Fatalf("import exit %d: %s", r.code, r.stderr)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "media")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "vulns.db")
	if err := os.WriteFile(path, data, 0o444); err != nil {
		t.Fatal(err)
	}
	for _, sfx := range []string{"-wal", "-shm"} {
		os.Remove(path + sfx)
	}
	filestate.Age(t, path)
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	return path
}

// TestScanReadOnlyLeavesDatabaseUnchanged: scan (every format) and vulndb stats read the
// database without writing a byte or creating -wal/-shm files.
func TestScanReadOnlyLeavesDatabaseUnchanged(t *testing.T) {
	db := shippedDB(t)
	before := filestate.Of(t, db)
	if len(before.Names()) != 1 {
		t.Fatalf("the shipped database's directory holds %v", before.Names())
	}
	out := scanJSON(t, testSBOM, "--db", db)
	if len(out.Findings) != 2 || !out.Findings[1].KnownExploited {
		t.Errorf("findings %+v", out.Findings)
	}
	filestate.Of(t, db).Check(t, before, "scan --format json")
	for _, args := range [][]string{
		{"scan", testSBOM, "--db", db, "--fail-on", "kev"},
		{"scan", testSBOM, "--db", db, "--format", "sarif"},
		{"scan", testSBOM, "--db", db, "--format", "cyclonedx"},
		{"vulndb", "stats", "--db", db},
		{"vulndb", "stats", "--db", db, "--format", "json"},
	} {
		r := vigil(t, args...)
		want := 0
		if slices.Contains(args, "--fail-on") {
			want = 1
		}
		if r.code != want || r.stdout == "" {
			t.Errorf("%v: exit %d, want %d: %s", args, r.code, want, r.stderr)
		}
		filestate.Of(t, db).Check(t, before, strings.Join(args[:2], " "))
	}
}

// TestScanMissingDatabaseExit2: a --db (or --data) that does not exist is bad usage, named in
// the message, and nothing is created.
func TestScanMissingDatabaseExit2(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.db")
	nodata := filepath.Join(dir, "nodata")
	for _, c := range []struct {
		args []string
		name string
	}{
		{[]string{"scan", testSBOM, "--db", missing}, missing},
		{[]string{"scan", testSBOM, "--db", filepath.Join(dir, "sub", "v.db")}, filepath.Join(dir, "sub", "v.db")},
		{[]string{"vulndb", "stats", "--db", missing}, missing},
		{[]string{"scan", testSBOM, "--data", nodata}, filepath.Join(nodata, "vigil.db")},
		{[]string{"impact", "CVE-2021-44228", "--data", nodata}, filepath.Join(nodata, "vigil.db")},
	} {
		r := vigil(t, c.args...)
		if r.code != ExitBadUse || r.stdout != "" || !strings.Contains(r.stderr, c.name) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 naming %s", c.args, r.code, r.stdout, r.stderr, c.name)
		}
	}
	if names, _ := os.ReadDir(dir); len(names) != 0 {
		t.Errorf("read-only commands created %v", names)
	}
}

// TestScanRefusesOtherSchema: a database at an older or newer schema (or none) is refused with
// exit 2 and a message saying what to do, and left as it was; vulndb import still migrates it.
func TestScanRefusesOtherSchema(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()

	// Version 3: the store's own migrations, applied by goose up to 3 on a WAL database.
	old := filepath.Join(dir, "old", "vulns.db")
	st, err := store.Open(ctx, store.Config{SQLiteFile: old})
	if err != nil {
		t.Fatal(err)
	}
	_, latest, err := st.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	withSQL(t, old, func(db *sql.DB) {
		p, err := goose.NewProvider(goose.DialectSQLite3, db, os.DirFS("../store/migrations/sqlite"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.UpTo(ctx, 3); err != nil {
			t.Fatal(err)
		}
	})
	if latest <= 3 {
		t.Fatalf("latest schema %d", latest)
	}
	filestate.Age(t, old)
	before := filestate.Of(t, old)
	for _, args := range [][]string{{"scan", testSBOM, "--db", old}, {"vulndb", "stats", "--db", old}} {
		r := vigil(t, args...)
		if r.code != ExitBadUse || r.stdout != "" {
			t.Errorf("%v: exit %d, stdout %q; want 2", args, r.code, r.stdout)
		}
		for _, want := range []string{old, "version 3", fmt.Sprintf("needs %d", latest), "vigil vulndb import PATH... --db " + old} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("%v: message lacks %q: %s", args, want, r.stderr)
			}
		}
		filestate.Of(t, old).Check(t, before, args[0]+" of an old schema")
	}
	// What the message says to do works.
	if r := vigil(t, "vulndb", "import", testOSVDir, "--db", old); r.code != 0 {
		t.Fatalf("import into the old database: exit %d: %s", r.code, r.stderr)
	}
	if out := scanJSON(t, testSBOM, "--db", old); len(out.Findings) != 2 {
		t.Errorf("after import: %d findings", len(out.Findings))
	}

	// A newer schema than this vigil knows.
	newer := filepath.Join(dir, "newer.db")
	if r := vigil(t, "vulndb", "import", testOSVDir, "--db", newer); r.code != 0 {
		t.Fatalf("import: %s", r.stderr)
	}
	withSQL(t, newer, func(db *sql.DB) {
		if _, err := db.Exec("INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, 1)", latest+1); err != nil {
			t.Fatal(err)
		}
	})
	filestate.Age(t, newer)
	before = filestate.Of(t, newer)
	r := vigil(t, "scan", testSBOM, "--db", newer)
	if r.code != ExitBadUse || !strings.Contains(r.stderr, fmt.Sprintf("version %d, newer than", latest+1)) || !strings.Contains(r.stderr, "upgrade vigil") {
		t.Errorf("newer schema: exit %d: %s", r.code, r.stderr)
	}
	filestate.Of(t, newer).Check(t, before, "scan of a newer schema")

	// An empty file, and a file that is not a database.
	for name, body := range map[string]string{"empty.db": "", "junk.db": strings.Repeat("not a database ", 400)} {
		p := filepath.Join(dir, "other", name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		filestate.Age(t, p)
		before := filestate.Of(t, p)
		r := vigil(t, "scan", testSBOM, "--db", p)
		want := "not a vigil vulnerability database"
		if body != "" {
			want = "not a SQLite database"
		}
		if r.code != ExitBadUse || !strings.Contains(r.stderr, p) || !strings.Contains(r.stderr, want) {
			t.Errorf("%s: exit %d: %s", name, r.code, r.stderr)
		}
		filestate.Of(t, p).Check(t, before, "scan of "+name)
	}
}

// TestImpactReadOnly: impact reads the application database without changing it.
func TestImpactReadOnly(t *testing.T) {
	data := t.TempDir()
	if r := vigil(t, "vulndb", "import", testOSVDir, "--data", data); r.code != 0 {
		t.Fatalf("import: %s", r.stderr)
	}
	db := filepath.Join(data, "vigil.db")
	filestate.Age(t, db)
	before := filestate.Of(t, db)
	r := vigil(t, "impact", "VIGIL-TEST-0001", "--data", data)
	if r.code != 0 || !strings.Contains(r.stdout, "No stored device version is affected.") {
		t.Errorf("impact exit %d: %s %s", r.code, r.stdout, r.stderr)
	}
	filestate.Of(t, db).Check(t, before, "impact")
}

// withSQL runs fn on the SQLite file path opened directly (read-write) and closes it.
func withSQL(t *testing.T, path string, fn func(*sql.DB)) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fn(db)
}
