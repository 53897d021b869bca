// Package store is Vigil's storage layer: users, sessions, API tokens, products, device versions,
// assessments, evidence and a hash-chained, append-only audit log, kept either in a SQLite file
// (the default, pure Go) or in PostgreSQL.
//
// # Writes
//
// Every write runs in one transaction ([Store.Transact]) that also appends its audit entry, so a
// change and its record commit or roll back together. Writers are serialised: on SQLite by a
// single write connection whose transactions begin IMMEDIATE, on PostgreSQL by a transaction-level
// advisory lock taken at the start of every write transaction (so several vigil processes may
// share one database). Reads use a separate pool and never wait for writers (SQLite WAL mode).
// A store opened with [Config.ReadOnly] has only the read pool and refuses every write with
// [ErrReadOnly].
//
// A few writes are deliberately not audited: login-failure counters (written by unauthenticated
// requests, for throttling only), the last-seen/last-used touch of sessions and API tokens, and
// the purge of expired sessions.
//
// # Audit chain
//
// Entry seq n (n = 1, 2, ...) carries prev_hash, the hash of entry n-1 (64 zeros for n = 1), and
//
//	hash = hex(sha256(prev_hash + "\n" + C))
//
// where C is this exact byte string (no spaces; strings JSON-encoded as Go's encoding/json
// encodes them; before and after are the stored JSON texts verbatim, or null):
//
//	{"action":A,"actor":A,"after":J,"at":T,"before":J,"entity":E,"entity_id":I,"seq":N}
//
// with T the entry time in RFC 3339 with nanoseconds, UTC, as Go's time.RFC3339Nano formats it
// (times are stored with microsecond precision). [Store.VerifyAudit] recomputes the chain.
//
// The database triggers that refuse UPDATE and DELETE on audit_log stop accidents, not a database
// owner; the chain is what makes tampering evident. Truncating the tail of the log is not
// detectable from the log alone: keep the [AuditReport.LastHash] of a verification elsewhere to
// detect that.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib" // also registers the "pgx" database/sql driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialects returned by [Store.Dialect].
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrNotFound: the row asked for (or a row it refers to) does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the write would duplicate something unique, or break a rule that depends on
	// other rows (such as removing the last admin).
	ErrConflict = errors.New("conflict")
	// ErrInvalid: the input is malformed or breaks a constraint.
	ErrInvalid = errors.New("invalid input")
	// ErrSchema: the database schema is not the version this binary needs.
	ErrSchema = errors.New("schema version mismatch")
	// ErrReadOnly: a write was attempted on a store opened with [Config.ReadOnly] (or the
	// database refused a write because it is read-only).
	ErrReadOnly = errors.New("database is open read-only")
)

// Config says where the data lives.
type Config struct {
	// DataDir holds the SQLite database file vigil.db; created 0700 if missing. Ignored when
	// DatabaseURL is a PostgreSQL URL.
	DataDir string
	// DatabaseURL selects PostgreSQL when it starts with postgres:// or postgresql://. Empty
	// means SQLite in DataDir; anything else is an error.
	DatabaseURL string
	// SQLiteFile, if set, is the SQLite database file to open (created 0600 if missing, its
	// directory too) instead of DataDir/vigil.db. Ignored when DatabaseURL is set.
	SQLiteFile string
	// Logger, if set, receives one line per applied migration. Secrets are never logged.
	Logger *slog.Logger
	// ReadOnly opens the database for reading only, for commands that only read (scan, impact,
	// vulndb stats), so that they work on a database they cannot write and never change it.
	// [Store.Transact] and the store's write methods then fail with ErrReadOnly; the caller
	// checks the schema ([Store.CheckSchema]) instead of migrating.
	//
	// SQLite: nothing is created, neither the directory nor the file (a missing file is an
	// error naming it), and the journal mode is left as it is. When the database has no -wal,
	// -shm or -journal file next to it, no process has it open, and it is read as immutable
	// (SQLite's immutable=1: no locks, and no -wal/-shm files are created, so a read-only
	// directory or medium works too); a writer that starts on the same file while it is open
	// this way is not noticed, so do not import into a file that is being scanned. Otherwise it
	// is opened with mode=ro and reads through the WAL as any reader does (SQLite needs write
	// access to the directory for that when the -shm file is missing: then it falls back to
	// immutable if the -wal file is empty, and fails if the -wal holds changes).
	//
	// PostgreSQL: every session is read-only (default_transaction_read_only=on).
	ReadOnly bool
}

// Store is an open database. It is safe for concurrent use.
type Store struct {
	dialect string
	wdb     *sql.DB // write transactions (SQLite: one connection, BEGIN IMMEDIATE)
	rdb     *sql.DB // reads (SQLite: query_only pool; PostgreSQL: same as wdb)
	log     *slog.Logger
	now     func() time.Time
	// readOnly: opened with Config.ReadOnly; wdb is then the (read-only) read pool.
	readOnly bool
	// immutable: a read-only SQLite store reading the file as immutable (see Config.ReadOnly).
	immutable bool
}

// writeLockKey is the PostgreSQL advisory lock that serialises write transactions ("vigilwr").
const writeLockKey int64 = 0x76696769_6c7772

// Open connects to the database named by cfg. It does not migrate: call [Store.Migrate] or
// [Store.CheckSchema].
func Open(ctx context.Context, cfg Config) (*Store, error) {
	u := strings.TrimSpace(cfg.DatabaseURL)
	lu := strings.ToLower(u)
	var (
		s   *Store
		err error
	)
	switch {
	case strings.HasPrefix(lu, "postgres://") || strings.HasPrefix(lu, "postgresql://"):
		i := strings.Index(u, "://")
		s, err = openPostgres(ctx, lu[:i]+u[i:], cfg.ReadOnly) // pgx knows only the lower-case scheme
	case u == "" && cfg.ReadOnly:
		s, err = openSQLiteReadOnly(ctx, cfg.DataDir, cfg.SQLiteFile)
	case u == "":
		s, err = openSQLite(ctx, cfg.DataDir, cfg.SQLiteFile)
	default:
		// Never echo the URL: it may hold a password.
		return nil, fmt.Errorf("store: open: %w: database URL must start with postgres:// or postgresql://", ErrInvalid)
	}
	if err != nil {
		return nil, err
	}
	s.log = cfg.Logger
	return s, nil
}

func openPostgres(ctx context.Context, dsn string, readOnly bool) (*Store, error) {
	var db *sql.DB
	if readOnly {
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			return nil, fmt.Errorf("store: open postgres: %w", err) // pgconn redacts the password
		}
		cfg.RuntimeParams["default_transaction_read_only"] = "on"
		db = stdlib.OpenDB(*cfg)
	} else {
		var err error
		if db, err = sql.Open("pgx", dsn); err != nil {
			return nil, fmt.Errorf("store: open postgres: %w", err)
		}
	}
	db.SetMaxOpenConns(25)
	db.SetMaxIdleConns(25)
	db.SetConnMaxIdleTime(5 * time.Minute)
	db.SetConnMaxLifetime(time.Hour)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect to postgres: %w", err)
	}
	return &Store{dialect: DialectPostgres, wdb: db, rdb: db, now: time.Now, readOnly: readOnly}, nil
}

// sqlitePath is the database file of Config.DataDir / Config.SQLiteFile and its directory, both
// absolute.
func sqlitePath(dir, file string) (absDir, path string, err error) {
	name := filepath.Join(dir, "vigil.db")
	if strings.TrimSpace(file) != "" {
		dir, name = filepath.Dir(file), file
	}
	if strings.TrimSpace(dir) == "" {
		return "", "", fmt.Errorf("store: open: %w: data directory is empty", ErrInvalid)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", "", fmt.Errorf("store: data directory: %w", err)
	}
	return abs, filepath.Join(abs, filepath.Base(name)), nil
}

// sqliteURI is the driver's URI of the database file path with the given query.
func sqliteURI(path, query string) string {
	return "file:" + (&url.URL{Path: filepath.ToSlash(path)}).EscapedPath() + "?" + query
}

// sqlitePageSize is the page size of new databases. The advisory tables hold compressed OSV
// records and long version lists, and a vulnerability import writes every page to the WAL and
// again to the database: 16 KiB pages take a quarter of the system calls of SQLite's default
// 4 KiB, which made `vigil vulndb import` of the Go, PyPI and RustSec zips 17% faster (0.75 s to
// 0.62 s). Databases created with another page size keep it.
const sqlitePageSize = 16384

// initSQLiteFile gives an empty database file its page size and WAL mode. The page size can
// only be set before the first page is written, and not at all once WAL mode is on, so it is
// set here, before the connections that open the file with WAL mode.
func initSQLiteFile(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", sqliteURI(path, fmt.Sprintf("_pragma=page_size(%d)", sqlitePageSize)))
	if err != nil {
		return fmt.Errorf("store: create database %s: %w", path, err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "PRAGMA journal_mode = WAL"); err != nil {
		return fmt.Errorf("store: create database %s: %w", path, err)
	}
	return db.Close()
}

func openSQLite(ctx context.Context, dir, file string) (*Store, error) {
	abs, path, err := sqlitePath(dir, file)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("store: create data directory: %w", err)
	}
	// Create the file ourselves so that it (and the -wal/-shm files SQLite derives from it) are
	// private to the owner.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: create database file: %w", err)
	}
	fi, err := f.Stat()
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("store: database file: %w", err)
	}
	if fi.Size() == 0 {
		if err := initSQLiteFile(ctx, path); err != nil {
			return nil, err
		}
	}

	base := sqliteURI(path, "_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")

	// One writer connection: SQLite allows one writer at a time anyway, and queueing in the Go
	// pool is fairer than spinning on SQLITE_BUSY. Its transactions begin IMMEDIATE, so a write
	// transaction holds the write lock from its first statement and never fails to upgrade.
	wdb, err := sql.Open("sqlite", base+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	wdb.SetConnMaxIdleTime(0)
	var mode string
	if err := wdb.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		wdb.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		wdb.Close()
		return nil, fmt.Errorf("store: open sqlite %s: journal mode is %q, want wal", path, mode)
	}

	// Readers: several connections, read-only, never blocked by the writer in WAL mode.
	rdb, err := sql.Open("sqlite", base+"&_pragma=query_only(1)")
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	rdb.SetMaxOpenConns(n)
	rdb.SetMaxIdleConns(n)
	if err := rdb.PingContext(ctx); err != nil {
		wdb.Close()
		rdb.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	return &Store{dialect: DialectSQLite, wdb: wdb, rdb: rdb, now: time.Now}, nil
}

// Dialect is "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.dialect }

// ReadOnly reports whether the store was opened with [Config.ReadOnly].
func (s *Store) ReadOnly() bool { return s.readOnly }

// Close closes the database.
func (s *Store) Close() error {
	err := s.wdb.Close()
	if s.rdb != s.wdb {
		err = errors.Join(err, s.rdb.Close())
	}
	return err
}

// Tx is a write transaction opened by [Store.Transact]. Write SQL with ? placeholders; they are
// rebound for PostgreSQL. time.Time arguments are stored as UTC with microsecond precision.
type Tx struct {
	tx *sql.Tx
	s  *Store
}

// Dialect is the store's dialect.
func (tx *Tx) Dialect() string { return tx.s.dialect }

// ExecContext runs a statement in the transaction.
func (tx *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return tx.tx.ExecContext(ctx, tx.s.rebind(query), tx.s.args(args)...)
}

// QueryContext runs a query in the transaction.
func (tx *Tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return tx.tx.QueryContext(ctx, tx.s.rebind(query), tx.s.args(args)...)
}

// QueryRowContext runs a query expected to return at most one row.
func (tx *Tx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return tx.tx.QueryRowContext(ctx, tx.s.rebind(query), tx.s.args(args)...)
}

// Transact runs fn in a write transaction, committing if fn returns nil and rolling back
// otherwise (also on panic). Writers are serialised (see the package documentation). fn must do
// all its database work through tx: other Store methods would not see its uncommitted writes,
// and on SQLite a Store write method called from fn would wait forever for the one write
// connection.
func (s *Store) Transact(ctx context.Context, fn func(tx *Tx) error) (err error) {
	if s.readOnly {
		return fmt.Errorf("store: begin transaction: %w", ErrReadOnly)
	}
	sqlTx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin transaction: %w", mapErr(err))
	}
	defer func() {
		if p := recover(); p != nil {
			_ = sqlTx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = sqlTx.Rollback()
		}
	}()
	if s.dialect == DialectPostgres {
		if _, err = sqlTx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", writeLockKey); err != nil {
			return fmt.Errorf("store: take write lock: %w", err)
		}
	}
	if err = fn(&Tx{tx: sqlTx, s: s}); err != nil {
		return err
	}
	if err = sqlTx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", mapErr(err))
	}
	return nil
}

// query, queryRow and exec use the read pool (exec: the write pool) with rebinding.
func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return s.rdb.QueryContext(ctx, s.rebind(q), s.args(args)...)
}

func (s *Store) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return s.rdb.QueryRowContext(ctx, s.rebind(q), s.args(args)...)
}

func (s *Store) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if s.readOnly {
		return nil, fmt.Errorf("store: %w", ErrReadOnly)
	}
	return s.wdb.ExecContext(ctx, s.rebind(q), s.args(args)...)
}

// rebind turns ? placeholders into $1, $2, ... for PostgreSQL, leaving quoted text alone.
func (s *Store) rebind(q string) string {
	if s.dialect != DialectPostgres || !strings.Contains(q, "?") {
		return q
	}
	return rebindDollar(q)
}

func rebindDollar(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	var quote byte
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// tsLayout is how SQLite stores timestamps: fixed width, so text order is time order.
const tsLayout = "2006-01-02T15:04:05.000000Z"

// dateLayout is the form of due dates.
const dateLayout = "2006-01-02"

// normTime is t in UTC with the precision both databases keep.
func normTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// args converts time values to the dialect's storage form.
func (s *Store) args(args []any) []any {
	var out []any
	for i, a := range args {
		var conv any
		switch v := a.(type) {
		case time.Time:
			conv = s.timeArg(v)
		case *time.Time:
			if v != nil {
				conv = s.timeArg(*v)
			}
		default:
			continue
		}
		if out == nil {
			out = append([]any(nil), args...) // never modify the caller's slice
		}
		out[i] = conv
	}
	if out == nil {
		return args
	}
	return out
}

func (s *Store) timeArg(t time.Time) any {
	t = normTime(t)
	if s.dialect == DialectSQLite {
		return t.Format(tsLayout)
	}
	return t
}

// nowUTC is the current time as stored.
func (s *Store) nowUTC() time.Time { return normTime(s.now()) }

// timeCol scans a timestamp column of either dialect; NULL leaves Valid false.
type timeCol struct {
	Time  time.Time
	Valid bool
}

func (c *timeCol) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*c = timeCol{}
		return nil
	case time.Time:
		*c = timeCol{Time: normTime(x), Valid: true}
		return nil
	case string:
		return c.parse(x)
	case []byte:
		return c.parse(string(x))
	}
	return fmt.Errorf("store: cannot scan %T into a timestamp", v)
}

func (c *timeCol) parse(x string) error {
	t, err := time.Parse(time.RFC3339Nano, x)
	if err != nil {
		return fmt.Errorf("store: bad stored timestamp %q: %w", x, err)
	}
	*c = timeCol{Time: normTime(t), Valid: true}
	return nil
}

func (c timeCol) ptr() *time.Time {
	if !c.Valid {
		return nil
	}
	t := c.Time
	return &t
}

// dateCol scans a date column of either dialect into YYYY-MM-DD; NULL gives "".
type dateCol string

func (c *dateCol) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*c = ""
	case time.Time:
		*c = dateCol(x.Format(dateLayout))
	case string:
		*c = dateCol(x)
	case []byte:
		*c = dateCol(x)
	default:
		return fmt.Errorf("store: cannot scan %T into a date", v)
	}
	return nil
}

// mapErr maps driver constraint errors onto ErrConflict and ErrInvalid, keeping the original.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %w", ErrConflict, err)
		case sqlite3.SQLITE_CONSTRAINT_CHECK, sqlite3.SQLITE_CONSTRAINT_NOTNULL,
			sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY, sqlite3.SQLITE_CONSTRAINT_TRIGGER,
			sqlite3.SQLITE_CONSTRAINT_DATATYPE, sqlite3.SQLITE_MISMATCH:
			return fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		if se.Code()&0xff == sqlite3.SQLITE_READONLY {
			return fmt.Errorf("%w: %w", ErrReadOnly, err)
		}
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "25006": // read_only_sql_transaction
			return fmt.Errorf("%w: %w", ErrReadOnly, err)
		case "23505": // unique_violation
			return fmt.Errorf("%w: %w", ErrConflict, err)
		case "23000", "23502", "23503", "23514", // integrity, not null, foreign key, check
			"22001", "22007", "22008", "22021", "22P02", "22003": // bad data
			return fmt.Errorf("%w: %w", ErrInvalid, err)
		}
	}
	return err
}

// isConflict reports whether a (mapped) error is a uniqueness violation.
func isConflict(err error) bool { return errors.Is(mapErr(err), ErrConflict) }

// migrationsFS returns the dialect's migrations.
func (s *Store) migrationsFS() (fs.FS, error) {
	return fs.Sub(migrations, "migrations/"+s.dialect)
}
