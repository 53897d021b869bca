package store

import (
	"context"
	"embed"
	"fmt"
	"log/slog"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrations embed.FS

// provider builds a goose provider over the write pool. On PostgreSQL a session advisory lock
// keeps two processes from migrating at once.
func (s *Store) provider() (*goose.Provider, error) {
	fsys, err := s.migrationsFS()
	if err != nil {
		return nil, err
	}
	opts := []goose.ProviderOption{goose.WithSlog(slog.New(slog.DiscardHandler))}
	dialect := goose.DialectSQLite3
	if s.dialect == DialectPostgres {
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, s.wdb, fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	return p, nil
}

// Migrate applies all pending migrations.
func (s *Store) Migrate(ctx context.Context) error {
	p, err := s.provider()
	if err != nil {
		return err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	if s.log != nil {
		for _, r := range results {
			s.log.Info("applied migration", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
		}
	}
	return nil
}

// SchemaVersion returns the schema version of the database (0 for an empty database) and the
// latest version this binary knows. It does not create anything.
func (s *Store) SchemaVersion(ctx context.Context) (current, latest int64, err error) {
	p, err := s.provider()
	if err != nil {
		return 0, 0, err
	}
	srcs := p.ListSources()
	if len(srcs) == 0 {
		return 0, 0, fmt.Errorf("store: no migrations embedded")
	}
	latest = srcs[len(srcs)-1].Version

	var exists bool
	switch s.dialect {
	case DialectSQLite:
		var n int
		err = s.rdb.QueryRowContext(ctx,
			"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'goose_db_version'").Scan(&n)
		exists = n > 0
	default:
		err = s.rdb.QueryRowContext(ctx, "SELECT to_regclass('goose_db_version') IS NOT NULL").Scan(&exists)
	}
	if err != nil {
		return 0, latest, fmt.Errorf("store: schema version: %w", err)
	}
	if !exists {
		return 0, latest, nil
	}
	current, err = p.GetDBVersion(ctx)
	if err != nil {
		return 0, latest, fmt.Errorf("store: schema version: %w", err)
	}
	return current, latest, nil
}

// SchemaError is the error of [Store.CheckSchema]; it matches ErrSchema with errors.Is.
type SchemaError struct {
	Current int64 // version of the database
	Latest  int64 // version this binary needs
}

func (e *SchemaError) Error() string {
	if e.Current > e.Latest {
		return fmt.Sprintf("database schema is at version %d, newer than the %d this vigil knows; upgrade vigil", e.Current, e.Latest)
	}
	return fmt.Sprintf("database schema is at version %d, this vigil needs %d; run `vigil migrate`", e.Current, e.Latest)
}

// Is makes errors.Is(err, ErrSchema) true.
func (e *SchemaError) Is(target error) bool { return target == ErrSchema }

// CheckSchema returns a *SchemaError (matching ErrSchema) unless the database is at exactly the
// schema version this binary needs. The server calls it at start and refuses to run on a
// mismatch.
func (s *Store) CheckSchema(ctx context.Context) error {
	current, latest, err := s.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if current != latest {
		return &SchemaError{Current: current, Latest: latest}
	}
	return nil
}
