package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Backup writes a consistent copy of a SQLite database to path while the server keeps running
// (VACUUM INTO). The file must not exist. PostgreSQL databases are backed up with pg_dump.
func (s *Store) Backup(ctx context.Context, path string) error {
	if s.dialect != "sqlite" {
		return fmt.Errorf("store: backup: %w: for PostgreSQL use pg_dump, e.g. pg_dump --format=custom --file=vigil.dump \"$VIGIL_DATABASE_URL\"", ErrInvalid)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	if _, err := os.Stat(abs); err == nil {
		return fmt.Errorf("store: backup: %s already exists: %w", path, ErrConflict)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("store: backup: %w", err)
	}
	if _, err := s.wdb.ExecContext(ctx, "VACUUM INTO ?", abs); err != nil {
		return fmt.Errorf("store: backup to %s: %w", path, err)
	}
	return nil
}
