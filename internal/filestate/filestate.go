// Package filestate lets tests see whether something wrote to a file: its bytes and mtime, the
// names in its directory and the directory's mtime (which files created and removed again
// change). Tests run as root, whom file permissions do not stop, so this is how they check that
// a read-only open wrote nothing.
package filestate

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// State is a file as it was at one moment.
type State struct {
	sum             [32]byte
	mtime, dirMtime time.Time
	names           []string
}

// Of records the state of path.
func Of(t testing.TB, path string) State {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	di, err := os.Stat(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return State{sha256.Sum256(data), fi.ModTime(), di.ModTime(), names}
}

// Names are the names in the file's directory.
func (s State) Names() []string { return slices.Clone(s.names) }

// Check reports, as test errors naming what, how got (the state now) differs from want.
func (got State) Check(t testing.TB, want State, what string) {
	t.Helper()
	if got.sum != want.sum {
		t.Errorf("%s: the database file's content changed", what)
	}
	if !got.mtime.Equal(want.mtime) {
		t.Errorf("%s: the database file's mtime changed from %v to %v", what, want.mtime, got.mtime)
	}
	if !slices.Equal(got.names, want.names) {
		t.Errorf("%s: the directory held %v, now %v", what, want.names, got.names)
	} else if !got.dirMtime.Equal(want.dirMtime) {
		t.Errorf("%s: files were created or removed in the directory (its mtime changed)", what)
	}
}

// Age sets the mtime of path and of its directory in the past, so that a later write shows
// even within the file system's timestamp resolution.
func Age(t testing.TB, path string) {
	t.Helper()
	old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, p := range []string{path, filepath.Dir(path)} {
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
}
