package cli

import (
	"bytes"
	"context"
	"database/sql"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

func vigilIn(t *testing.T, stdin string, args ...string) run {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return run{code, out.String(), errb.String()}
}

func TestUserAddAuditVerifyAndTamper(t *testing.T) {
	dir := t.TempDir()
	if r := vigil(t, "migrate", "--data", dir); r.code != 0 || !strings.Contains(r.stdout, "schema at version") {
		t.Fatalf("migrate: %+v", r)
	}
	if r := vigilIn(t, "too short\n", "user", "add", "a@example.com", "--role", "admin", "--data", dir); r.code != 2 || !strings.Contains(r.stderr, "at least 12") {
		t.Errorf("short password: %+v", r)
	}
	if r := vigilIn(t, "correct horse battery staple\n", "user", "add", "a@example.com", "--name", "Ada", "--role", "admin", "--data", dir); r.code != 0 {
		t.Fatalf("user add: %+v", r)
	}
	if r := vigilIn(t, "correct horse battery staple\n", "user", "add", "a@example.com", "--role", "admin", "--data", dir); r.code != 2 {
		t.Errorf("duplicate user: %+v", r)
	}
	if r := vigilIn(t, "another good password\n", "user", "add", "v@example.com", "--role", "viewer", "--data", dir); r.code != 0 {
		t.Fatalf("user add viewer: %+v", r)
	}
	ok := vigil(t, "audit", "verify", "--data", dir)
	if ok.code != 0 || !strings.Contains(ok.stdout, "audit trail intact: 2 entries") {
		t.Fatalf("verify: %+v", ok)
	}
	// Tamper: an insider edits the actor of the first entry, bypassing the append-only trigger.
	db, err := sql.Open("sqlite", filepath.Join(dir, "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var trig string
	if err := db.QueryRow(`SELECT name FROM sqlite_master WHERE type='trigger' AND tbl_name='audit_log' AND sql LIKE '%UPDATE%'`).Scan(&trig); err != nil {
		t.Fatalf("find trigger: %v", err)
	}
	if _, err := db.Exec(`UPDATE audit_log SET actor = 'mallory' WHERE seq = 1`); err == nil {
		t.Fatal("the append-only trigger let an UPDATE through")
	}
	if _, err := db.Exec(`DROP TRIGGER ` + trig); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE audit_log SET actor = 'mallory' WHERE seq = 1`); err != nil {
		t.Fatal(err)
	}
	bad := vigil(t, "audit", "verify", "--data", dir, "--format", "json")
	if bad.code != 1 || !strings.Contains(bad.stdout, `"ok": false`) || !strings.Contains(bad.stdout, `"broken_seq": 1`) || !strings.Contains(bad.stderr, "broken at entry 1") {
		t.Errorf("tampered verify: %+v", bad)
	}
}

func TestBackup(t *testing.T) {
	dir := t.TempDir()
	vigil(t, "migrate", "--data", dir)
	vigilIn(t, "correct horse battery staple\n", "user", "add", "a@example.com", "--role", "admin", "--data", dir)
	out := filepath.Join(t.TempDir(), "copy.db")
	if r := vigil(t, "backup", out, "--data", dir); r.code != 0 {
		t.Fatalf("backup: %+v", r)
	}
	db, err := sql.Open("sqlite", out)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM users WHERE email = 'a@example.com'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("backup content: %d %v", n, err)
	}
	if r := vigil(t, "backup", out, "--data", dir); r.code != 2 || !strings.Contains(r.stderr, "already exists") {
		t.Errorf("overwrite: %+v", r)
	}
	if r := vigil(t, "backup", out+"2", "--database-url", "mysql://x"); r.code != 2 {
		t.Errorf("bad URL: %+v", r)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestServeDemoStartsAndStopsGracefully runs the README's main command against a temp dir.
func TestServeDemoStartsAndStopsGracefully(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var errb lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"serve", "--demo", "--data", dir, "--addr", "127.0.0.1:0"}, strings.NewReader(""), &bytes.Buffer{}, &errb)
	}()
	re := regexp.MustCompile(`url=(http://[0-9.:]+)`)
	var base string
	for i := 0; i < 100 && base == ""; i++ {
		if m := re.FindStringSubmatch(errb.String()); m != nil {
			base = m[1]
		}
		time.Sleep(50 * time.Millisecond)
	}
	if base == "" {
		t.Fatalf("server did not start:\n%s", errb.String())
	}
	if !regexp.MustCompile(`/setup\?token=[A-Za-z0-9_-]{40,}`).MatchString(errb.String()) {
		t.Errorf("no setup link printed:\n%s", errb.String())
	}
	resp, err := http.Get(base + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	cancel()
	select {
	case code := <-done:
		if code != 0 || !strings.Contains(errb.String(), "stopped") {
			t.Errorf("exit %d:\n%s", code, errb.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("server did not stop")
	}
	if _, err := os.Stat(filepath.Join(dir, "vigil.db")); err != nil {
		t.Error(err)
	}
	// The demo data is there.
	if r := vigil(t, "audit", "verify", "--data", dir); r.code != 0 || !strings.Contains(r.stdout, "intact") {
		t.Errorf("verify after demo: %+v", r)
	}
}
