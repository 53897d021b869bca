package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-med/vigil/auth"
	"github.com/vigil-med/vigil/demo"
	"github.com/vigil-med/vigil/store"
	"github.com/vigil-med/vigil/web"
)

// dbFlags are the database settings every command that touches the database takes.
type dbFlags struct {
	data, url string
}

func (d *dbFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&d.data, "data", envOr("VIGIL_DATA", "./vigil-data"), "data directory: SQLite database (and blobs) [VIGIL_DATA]")
	cmd.Flags().StringVar(&d.url, "database-url", os.Getenv("VIGIL_DATABASE_URL"), "PostgreSQL URL postgres://...; empty for SQLite in --data [VIGIL_DATABASE_URL]")
}

func (d *dbFlags) open(ctx context.Context, log *slog.Logger) (*store.Store, error) {
	st, err := store.Open(ctx, store.Config{DataDir: d.data, DatabaseURL: d.url, Logger: log})
	if err != nil {
		return nil, err
	}
	return st, nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func envBool(key string) bool {
	b, _ := strconv.ParseBool(os.Getenv(key))
	return b
}

func newLogger(w io.Writer, format string) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

func (e *env) serveCmd() *cobra.Command {
	var db dbFlags
	var addr, logFormat string
	var demoFlag, secure bool
	var maxUploadMB int64
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the team web application and REST API",
		Long: `Run the web application and REST API. With no flags it keeps its data in ./vigil-data/vigil.db
(SQLite); set --database-url (VIGIL_DATABASE_URL) to use PostgreSQL, where several replicas can share one
database. On first start with no users it prints a one-time setup link for the first administrator.`,
		Example: `  vigil serve --demo
  VIGIL_DATABASE_URL=postgres://vigil@db/vigil vigil serve --addr 0.0.0.0:8080 --secure-cookies`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := e.ctx
			log := newLogger(e.stderr, logFormat)
			st, err := db.open(ctx, log)
			if err != nil {
				return err
			}
			defer st.Close()
			cur, latest, err := st.SchemaVersion(ctx)
			if err != nil {
				return err
			}
			switch {
			case cur == 0:
				log.Info("new database: creating the schema", "dialect", st.Dialect(), "version", latest)
				if err := st.Migrate(ctx); err != nil {
					return err
				}
			default:
				if err := st.CheckSchema(ctx); err != nil {
					return err
				}
			}
			cat, err := loadCatalog()
			if err != nil {
				return err
			}
			if demoFlag {
				n, err := demo.Seed(ctx, st, cat)
				if err != nil {
					return err
				}
				if n > 0 {
					log.Info("demo data seeded", "products", n)
				}
			}
			srv, err := web.New(web.Config{MaxUploadBytes: maxUploadMB << 20, SecureCookies: secure, Version: Version}, st, cat, log)
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", addr, err)
			}
			base := "http://" + ln.Addr().String()
			if users, err := st.CountUsers(ctx); err != nil {
				return err
			} else if users == 0 {
				tok, hash, err := auth.NewToken("")
				if err != nil {
					return err
				}
				srv.SetSetupToken(hash)
				// Printed on the console on purpose (not logged): it is the only way in.
				fmt.Fprintf(e.stderr, "\nNo users yet. Create the first administrator (one-time link):\n\n    %s/setup?token=%s\n\n", base, tok)
			}
			hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 5 * time.Minute, WriteTimeout: 5 * time.Minute, IdleTimeout: 2 * time.Minute,
				ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
			log.Info("vigil serving", "url", base, "database", st.Dialect(), "catalog", cat.Version, "version", Version)
			go sweepSessions(ctx, st, log)
			go srv.WarmUp(ctx)
			errc := make(chan error, 1)
			go func() { errc <- hs.Serve(ln) }()
			select {
			case err := <-errc:
				return err
			case <-ctx.Done():
			}
			log.Info("shutting down: finishing requests in flight")
			sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			if err := hs.Shutdown(sctx); err != nil {
				return fmt.Errorf("shutdown: %w", err)
			}
			if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			log.Info("stopped")
			return nil
		},
	}
	db.register(cmd)
	cmd.Flags().StringVar(&addr, "addr", envOr("VIGIL_ADDR", "127.0.0.1:8080"), "listen address HOST:PORT [VIGIL_ADDR]")
	cmd.Flags().BoolVar(&demoFlag, "demo", envBool("VIGIL_DEMO"), "seed the example devices on first start [VIGIL_DEMO]")
	cmd.Flags().BoolVar(&secure, "secure-cookies", envBool("VIGIL_SECURE_COOKIES"), "mark cookies Secure; set when users reach Vigil over HTTPS [VIGIL_SECURE_COOKIES]")
	mu, _ := strconv.ParseInt(envOr("VIGIL_MAX_UPLOAD_MB", "25"), 10, 64)
	cmd.Flags().Int64Var(&maxUploadMB, "max-upload-mb", mu, "largest evidence file accepted, in MiB [VIGIL_MAX_UPLOAD_MB]")
	cmd.Flags().StringVar(&logFormat, "log-format", envOr("VIGIL_LOG_FORMAT", "text"), "log format: text|json [VIGIL_LOG_FORMAT]")
	return cmd
}

func sweepSessions(ctx context.Context, st *store.Store, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if n, err := st.DeleteExpiredSessions(ctx, now); err != nil {
				log.Warn("session sweep failed", "err", err)
			} else if n > 0 {
				log.Info("expired sessions removed", "count", n)
			}
			if _, err := st.PruneLoginFailures(ctx, now.Add(-24*time.Hour)); err != nil {
				log.Warn("login-failure prune failed", "err", err)
			}
		}
	}
}

func (e *env) migrateCmd() *cobra.Command {
	var db dbFlags
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Bring the database schema up to the version this vigil needs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := db.open(e.ctx, newLogger(e.stderr, "text"))
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.Migrate(e.ctx); err != nil {
				return err
			}
			cur, _, err := st.SchemaVersion(e.ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "schema at version %d (%s)\n", cur, st.Dialect())
			return nil
		},
	}
	db.register(cmd)
	return cmd
}

func (e *env) userCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manage users from the command line (scripted installs)"}
	var db dbFlags
	var name, role string
	add := &cobra.Command{
		Use:     "add EMAIL",
		Short:   "Add a user; the password is read from the first line of standard input",
		Example: `  printf '%s\n' "$ADMIN_PASSWORD" | vigil user add admin@example.com --name "Ada Admin" --role admin`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !auth.Role(role).Valid() {
				return usagef("--role %q: expected admin, editor, approver or viewer", role)
			}
			line, err := bufio.NewReader(e.stdin).ReadString('\n')
			if err != nil && !errors.Is(err, io.EOF) {
				return err
			}
			pw := strings.TrimRight(line, "\r\n")
			if pw == "" {
				return usagef("no password on standard input; pipe it in (see the example)")
			}
			hash, err := auth.HashPassword(pw)
			if err != nil {
				return usagef("%v", err)
			}
			st, err := db.open(e.ctx, nil)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.CheckSchema(e.ctx); err != nil {
				return err
			}
			if name == "" {
				name = args[0]
			}
			u, err := st.CreateUser(e.ctx, store.ActorSystem, store.User{Email: args[0], Name: name, Role: role}, hash)
			if errors.Is(err, store.ErrInvalid) || errors.Is(err, store.ErrConflict) {
				return usageError{err}
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "added %s (%s)\n", u.Email, u.Role)
			return nil
		},
	}
	db.register(add)
	add.Flags().StringVar(&name, "name", "", "display name (default: the email)")
	add.Flags().StringVar(&role, "role", "viewer", "role: admin|editor|approver|viewer")
	cmd.AddCommand(add)
	return cmd
}

func (e *env) auditCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Check the audit trail"}
	var db dbFlags
	var format string
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Recompute the hash chain; exit 1 if any row was edited, deleted or reordered",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := db.open(e.ctx, nil)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.CheckSchema(e.ctx); err != nil {
				return err
			}
			rep, err := st.VerifyAudit(e.ctx)
			if err != nil {
				return err
			}
			if format == "json" {
				if err := writeJSON(e.stdout, rep); err != nil {
					return err
				}
			} else if rep.OK {
				fmt.Fprintf(e.stdout, "audit trail intact: %d entries, last seq %d, last hash %s\n", rep.Entries, rep.LastSeq, rep.LastHash)
			}
			if !rep.OK {
				return failOnError{fmt.Sprintf("audit trail broken at entry %d: %s", rep.BrokenSeq, rep.Problem)}
			}
			return nil
		},
	}
	db.register(verify)
	formatFlag(verify, &format, "text", "text", "json")
	cmd.AddCommand(verify)
	return cmd
}

func (e *env) backupCmd() *cobra.Command {
	var db dbFlags
	cmd := &cobra.Command{
		Use:   "backup FILE",
		Short: "Copy the SQLite database to FILE while the server runs (PostgreSQL: use pg_dump)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := db.open(e.ctx, nil)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.Backup(e.ctx, args[0]); err != nil {
				if errors.Is(err, store.ErrInvalid) || errors.Is(err, store.ErrConflict) {
					return usageError{err}
				}
				return err
			}
			fmt.Fprintf(e.stdout, "backup written to %s\n", args[0])
			return nil
		},
	}
	db.register(cmd)
	return cmd
}
