//go:build unix

package store

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/vigil-med/vigil/internal/filestate"
)

// TestReadOnlyUnwritableDirectory opens databases in a directory the process cannot write, as on
// read-only media: SQLite cannot create -shm there. As root (whom permissions do not stop) the
// checks run in a copy of the test binary started as user nobody.
func TestReadOnlyUnwritableDirectory(t *testing.T) {
	if dir := os.Getenv("VIGIL_TEST_RO_DIR"); dir != "" {
		checkUnwritable(t, dir)
		return
	}
	base := t.TempDir()
	dir := filepath.Join(base, "media")
	noErr(t, os.Mkdir(dir, 0o755))

	// clean: the file alone. emptywal: an empty -wal but no -shm (mode=ro fails: it would
	// have to create the -shm). fullwal: committed changes in the -wal, no -shm.
	clean := filepath.Join(dir, "clean", "v.db")
	noErr(t, os.Mkdir(filepath.Dir(clean), 0o755))
	makeSQLite(t, clean)
	empty := filepath.Join(dir, "emptywal", "v.db")
	noErr(t, os.Mkdir(filepath.Dir(empty), 0o755))
	makeSQLite(t, empty)
	noErr(t, os.WriteFile(empty+"-wal", nil, 0o644))
	full := filepath.Join(dir, "fullwal", "v.db")
	noErr(t, os.Mkdir(filepath.Dir(full), 0o755))
	live := filepath.Join(base, "live.db")
	w := open(t, Config{SQLiteFile: live})
	noErr(t, w.Migrate(ctx))
	_, err := w.CreateProduct(ctx, ActorSystem, Product{Name: "Pump"})
	noErr(t, err)
	copyFile(t, live, full)
	copyFile(t, live+"-wal", full+"-wal")
	noErr(t, w.Close())
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			os.Chmod(p, 0o444)
		}
		return err
	})

	if os.Geteuid() != 0 {
		for _, d := range []string{dir, filepath.Dir(clean), filepath.Dir(empty), filepath.Dir(full)} {
			noErr(t, os.Chmod(d, 0o555))
			t.Cleanup(func() { os.Chmod(d, 0o755) })
		}
		checkUnwritable(t, dir)
		return
	}
	// Root: run this test again as nobody, from a copy of the binary nobody can execute.
	for _, d := range []string{filepath.Dir(base), base} {
		noErr(t, os.Chmod(d, 0o755))
	}
	bin := filepath.Join(base, "store.test")
	copyFile(t, must[string](t)(os.Executable()), bin)
	noErr(t, os.Chmod(bin, 0o755))
	cmd := exec.Command(bin, "-test.run=^TestReadOnlyUnwritableDirectory$", "-test.v", "-test.count=1")
	cmd.Env = []string{"VIGIL_TEST_RO_DIR=" + dir, "PATH=/usr/bin:/bin", "HOME=/"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("as nobody: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS: TestReadOnlyUnwritableDirectory") {
		t.Fatalf("as nobody the test did not run:\n%s", out)
	}
	t.Logf("as nobody:\n%s", out)
}

func checkUnwritable(t *testing.T, dir string) {
	if err := os.WriteFile(filepath.Join(dir, "clean", "probe"), nil, 0o644); err == nil {
		t.Fatalf("%s is writable: this test needs a directory the process cannot write", dir)
	}
	for _, c := range []struct {
		name      string
		immutable bool
		fail      string
	}{{"clean", true, ""}, {"emptywal", true, ""}, {"fullwal", false, "-wal holds changes"}} {
		path := filepath.Join(dir, c.name, "v.db")
		before := filestate.Of(t, path)
		s, err := Open(ctx, Config{SQLiteFile: path, ReadOnly: true})
		if c.fail != "" {
			if err == nil || !strings.Contains(err.Error(), c.fail) {
				t.Errorf("%s: error %v, want one saying %q", c.name, err, c.fail)
			}
		} else if err != nil {
			t.Errorf("%s: %v", c.name, err)
		} else {
			if s.immutable != c.immutable {
				t.Errorf("%s: immutable %v", c.name, s.immutable)
			}
			if err := s.CheckSchema(ctx); err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			if ps, err := s.ListProducts(ctx); err != nil || len(ps) != 1 {
				t.Errorf("%s: products %v %v", c.name, ps, err)
			}
			noErr(t, s.Close())
		}
		filestate.Of(t, path).Check(t, before, c.name)
	}
}
