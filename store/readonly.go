package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// openSQLiteReadOnly opens an existing SQLite database for reading only (see Config.ReadOnly).
// It creates nothing: not the directory, not the file, and not (when no other process has the
// database open) the -wal and -shm files, which SQLite would otherwise create next to a WAL
// database even for a mode=ro connection and leave behind.
func openSQLiteReadOnly(ctx context.Context, dir, file string) (*Store, error) {
	_, path, err := sqlitePath(dir, file)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("store: open read-only: no database file %s: %w", path, fs.ErrNotExist)
	case err != nil:
		return nil, fmt.Errorf("store: open read-only: %w", err)
	case fi.IsDir():
		return nil, fmt.Errorf("store: open read-only: %w: %s is a directory, not a database file", ErrInvalid, path)
	}

	// A WAL database has its -wal and -shm files while any connection has it open; the last one
	// to close checkpoints and removes them. Without them (and without a rollback -journal) the
	// file alone holds every committed transaction, and reading it as immutable creates and
	// locks nothing. With them, read through the WAL as every reader does.
	if !fileExists(path+"-wal") && !fileExists(path+"-shm") && !fileExists(path+"-journal") {
		return openSQLiteReader(ctx, path, true)
	}
	s, err := openSQLiteReader(ctx, path, false)
	if err == nil {
		return s, nil
	}
	// SQLite cannot read a WAL database with mode=ro when the -shm file is missing and cannot be
	// created (a read-only directory or medium). When the -wal holds nothing, the file alone is
	// the database, and immutable needs neither.
	if errors.Is(err, ErrInvalid) { // not a database
		return nil, err
	}
	if wal, serr := os.Stat(path + "-wal"); serr == nil && wal.Size() > 0 {
		return nil, fmt.Errorf("%w (%s-wal holds changes not yet written to the database, and reading them needs write access to the directory to create %s-shm; checkpoint the database where it was written, or make the directory writable)", err, path, path)
	}
	if s, ierr := openSQLiteReader(ctx, path, true); ierr == nil {
		return s, nil
	}
	return nil, err
}

// openSQLiteReader opens path read-only and reads its schema, so that an unreadable file fails
// here rather than at the first query.
func openSQLiteReader(ctx context.Context, path string, immutable bool) (*Store, error) {
	q := "mode=ro&_pragma=query_only(1)"
	if immutable {
		// Immutable: no other process writes the file, so its pages can be read through a
		// memory map instead of a read system call and a copy each (a scan reads thousands).
		q = "mode=ro&immutable=1&_pragma=query_only(1)&_pragma=mmap_size(1073741824)"
	} else {
		q += "&_pragma=busy_timeout(5000)"
	}
	db, err := sql.Open("sqlite", sqliteURI(path, q))
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	var tables int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&tables); err != nil {
		db.Close()
		var se *sqlite.Error
		if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_NOTADB {
			return nil, fmt.Errorf("store: open sqlite %s read-only: %w: not a SQLite database (%w)", path, ErrInvalid, err)
		}
		return nil, fmt.Errorf("store: open sqlite %s read-only: %w", path, err)
	}
	// One pool serves both: the store's write paths check readOnly before using wdb, and the
	// migration provider only reads the schema version through it.
	return &Store{dialect: DialectSQLite, wdb: db, rdb: db, now: time.Now, readOnly: true, immutable: immutable}, nil
}

// fileExists reports whether name exists; an error other than "does not exist" counts as existing
// (the careful answer: then the database is opened through the WAL).
func fileExists(name string) bool {
	_, err := os.Lstat(name)
	return !errors.Is(err, fs.ErrNotExist)
}
