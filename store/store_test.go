package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

var ctx = context.Background()

func TestOpenErrors(t *testing.T) {
	_, err := Open(ctx, Config{})
	wantErr(t, err, ErrInvalid, "no data dir")
	_, err = Open(ctx, Config{DataDir: t.TempDir(), DatabaseURL: "mysql://u:secret@host/db"})
	wantErr(t, err, ErrInvalid, "mysql URL")
	if err != nil && strings.Contains(err.Error(), "secret") {
		t.Errorf("error leaks the URL: %v", err)
	}
	// pgx's own errors redact the password too.
	for _, u := range []string{"postgres://u:s3cret@127.0.0.1:notaport/db", "postgresql://u:s3cret@127.0.0.1:1/db?sslmode=disable"} {
		_, err = Open(ctx, Config{DatabaseURL: u})
		if err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%v", err)
		}
	}
}

func TestSQLiteSetup(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data with space?#")
	s := open(t, Config{DataDir: dir})
	if s.Dialect() != DialectSQLite {
		t.Fatalf("dialect %q", s.Dialect())
	}
	noErr(t, s.Migrate(ctx))
	for _, db := range []struct {
		name string
		s    *Store
	}{{"writer", s}, {"reader", &Store{dialect: s.dialect, wdb: s.rdb, rdb: s.rdb}}} {
		var fk, busy, sync int
		var mode string
		q := db.s.wdb.QueryRow
		noErr(t, q("PRAGMA foreign_keys").Scan(&fk))
		noErr(t, q("PRAGMA busy_timeout").Scan(&busy))
		noErr(t, q("PRAGMA synchronous").Scan(&sync))
		noErr(t, q("PRAGMA journal_mode").Scan(&mode))
		if fk != 1 || busy != 5000 || sync != 1 || mode != "wal" {
			t.Errorf("%s: foreign_keys=%d busy_timeout=%d synchronous=%d journal_mode=%s", db.name, fk, busy, sync, mode)
		}
	}
	// A new database gets 16 KiB pages; an existing one keeps its own.
	var page int
	noErr(t, s.rdb.QueryRow("PRAGMA page_size").Scan(&page))
	if page != sqlitePageSize {
		t.Errorf("page size of a new database: %d, want %d", page, sqlitePageSize)
	}
	old := filepath.Join(t.TempDir(), "old.db")
	func() {
		db, err := sql.Open("sqlite", sqliteURI(old, "_pragma=page_size(4096)&_pragma=journal_mode(WAL)"))
		noErr(t, err)
		defer db.Close()
		_, err = db.Exec("CREATE TABLE t (a INTEGER)")
		noErr(t, err)
	}()
	so := open(t, Config{SQLiteFile: old})
	noErr(t, so.rdb.QueryRow("PRAGMA page_size").Scan(&page))
	if page != 4096 {
		t.Errorf("page size of an existing database changed to %d", page)
	}
	// The read pool is read-only.
	if _, err := s.rdb.Exec("DELETE FROM users"); err == nil {
		t.Error("read pool accepted a write")
	}
	fi := must[os.FileInfo](t)(os.Stat(dir))
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("data dir mode %v", fi.Mode().Perm())
	}
	fi = must[os.FileInfo](t)(os.Stat(filepath.Join(dir, "vigil.db")))
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("db file mode %v", fi.Mode().Perm())
	}
}

func TestMigrateAndCheckSchema(t *testing.T) {
	for _, d := range testDBs() {
		t.Run(d.name, func(t *testing.T) {
			s := open(t, d.fresh(t))
			if s.Dialect() != d.name {
				t.Errorf("dialect %q, want %q", s.Dialect(), d.name)
			}
			cur, latest, err := s.SchemaVersion(ctx)
			noErr(t, err)
			if cur != 0 || latest < 1 {
				t.Fatalf("fresh: current %d latest %d", cur, latest)
			}
			err = s.CheckSchema(ctx)
			wantErr(t, err, ErrSchema, "fresh CheckSchema")
			if want := fmt.Sprintf("database schema is at version 0, this vigil needs %d; run `vigil migrate`", latest); err == nil || err.Error() != want {
				t.Errorf("message: %v", err)
			}
			var se *SchemaError
			if !errors.As(err, &se) || se.Current != 0 || se.Latest != latest {
				t.Errorf("SchemaError %+v", se)
			}
			// SchemaVersion must not have created anything.
			cur, _, err = s.SchemaVersion(ctx)
			noErr(t, err)
			if cur != 0 {
				t.Errorf("current %d after check", cur)
			}

			noErr(t, s.Migrate(ctx))
			noErr(t, s.Migrate(ctx)) // idempotent
			cur, latest2, err := s.SchemaVersion(ctx)
			noErr(t, err)
			if cur != latest || latest2 != latest {
				t.Errorf("migrated: current %d latest %d", cur, latest2)
			}
			noErr(t, s.CheckSchema(ctx))

			// Going back one migration leaves an old schema that CheckSchema refuses.
			prov, err := s.provider()
			noErr(t, err)
			_, err = prov.Down(ctx)
			noErr(t, err)
			err = s.CheckSchema(ctx)
			wantErr(t, err, ErrSchema, "after down")
			noErr(t, s.Migrate(ctx))
			noErr(t, s.CheckSchema(ctx))

			// A database migrated by a newer vigil.
			rawExec(t, s, "INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, ?)", latest+7, true)
			err = s.CheckSchema(ctx)
			wantErr(t, err, ErrSchema, "newer schema")
			if err == nil || !strings.Contains(err.Error(), "upgrade vigil") {
				t.Errorf("message: %v", err)
			}
		})
	}
}

func TestUsers(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store, _ Config) {
		n := must[int](t)(s.CountUsers(ctx))
		if n != 0 {
			t.Fatalf("count %d", n)
		}
		admin := must[User](t)(s.CreateUser(ctx, ActorSystem, User{Email: "  Admin@Example.COM ", Name: "Ada", Role: RoleAdmin}, "$argon2id$secret-hash"))
		if admin.ID == 0 || admin.Email != "admin@example.com" || admin.CreatedAt.IsZero() || admin.CreatedAt.Location() != time.UTC {
			t.Errorf("created %+v", admin)
		}
		got := must[User](t)(s.UserByEmail(ctx, "ADMIN@example.com"))
		if got != admin {
			t.Errorf("by email %+v, want %+v", got, admin)
		}
		got = must[User](t)(s.UserByID(ctx, admin.ID))
		if got != admin {
			t.Errorf("by id %+v", got)
		}
		u, hash, err := s.UserCredentials(ctx, "admin@example.com")
		noErr(t, err)
		if u != admin || hash != "$argon2id$secret-hash" {
			t.Errorf("credentials %+v %q", u, hash)
		}

		_, err = s.CreateUser(ctx, "admin@example.com", User{Email: "ADMIN@example.com", Role: RoleViewer}, "")
		wantErr(t, err, ErrConflict, "duplicate email")
		_, err = s.CreateUser(ctx, "x", User{Email: "e@x.org", Role: "owner"}, "")
		wantErr(t, err, ErrInvalid, "bad role")
		_, err = s.CreateUser(ctx, "x", User{Email: "no-at-sign", Role: RoleViewer}, "")
		wantErr(t, err, ErrInvalid, "bad email")
		_, err = s.CreateUser(ctx, "", User{Email: "e@x.org", Role: RoleViewer}, "")
		wantErr(t, err, ErrInvalid, "no actor")
		_, err = s.UserByID(ctx, 9999)
		wantErr(t, err, ErrNotFound, "missing id")
		_, err = s.UserByEmail(ctx, "nobody@example.com")
		wantErr(t, err, ErrNotFound, "missing email")

		bob := must[User](t)(s.CreateUser(ctx, admin.Email, User{Email: "bob@example.com", Name: "Bob", Role: RoleEditor}, "h2"))
		list := must[[]User](t)(s.ListUsers(ctx))
		if len(list) != 2 || list[0].Email != "admin@example.com" || list[1].Email != "bob@example.com" {
			t.Errorf("list %+v", list)
		}
		if n := must[int](t)(s.CountUsers(ctx)); n != 2 {
			t.Errorf("count %d", n)
		}

		bob = must[User](t)(s.SetUserRole(ctx, admin.Email, bob.ID, RoleApprover))
		if got := must[User](t)(s.UserByID(ctx, bob.ID)); got.Role != RoleApprover {
			t.Errorf("role %q", got.Role)
		}
		_, err = s.SetUserRole(ctx, admin.Email, bob.ID, "root")
		wantErr(t, err, ErrInvalid, "bad role")
		_, err = s.SetUserRole(ctx, admin.Email, 4242, RoleViewer)
		wantErr(t, err, ErrNotFound, "role of missing user")
		// The last enabled admin can be neither demoted nor disabled.
		_, err = s.SetUserRole(ctx, admin.Email, admin.ID, RoleViewer)
		wantErr(t, err, ErrConflict, "demote last admin")
		_, err = s.SetUserDisabled(ctx, admin.Email, admin.ID, true)
		wantErr(t, err, ErrConflict, "disable last admin")

		// Disabling deletes sessions.
		noErr(t, s.CreateSession(ctx, tokenHash("bob-session"), bob.ID, time.Now().Add(time.Hour)))
		bob = must[User](t)(s.SetUserDisabled(ctx, admin.Email, bob.ID, true))
		if !bob.Disabled || !must[User](t)(s.UserByID(ctx, bob.ID)).Disabled {
			t.Error("not disabled")
		}
		if n := rawInt(t, s, "SELECT count(*) FROM sessions WHERE user_id = ?", bob.ID); n != 0 {
			t.Errorf("%d sessions left", n)
		}
		err = s.CreateSession(ctx, tokenHash("bob-2"), bob.ID, time.Now().Add(time.Hour))
		wantErr(t, err, ErrInvalid, "session for disabled user")
		bob = must[User](t)(s.SetUserDisabled(ctx, admin.Email, bob.ID, false))
		if bob.Disabled {
			t.Error("still disabled")
		}
		// With a second admin, the first may step down.
		must[User](t)(s.SetUserRole(ctx, admin.Email, bob.ID, RoleAdmin))
		must[User](t)(s.SetUserRole(ctx, bob.Email, admin.ID, RoleViewer))

		noErr(t, s.SetUserPassword(ctx, bob.Email, admin.ID, "new-secret-hash"))
		_, hash, _ = s.UserCredentials(ctx, admin.Email)
		if hash != "new-secret-hash" {
			t.Errorf("hash %q", hash)
		}

		// Audit: every change recorded, never a password hash.
		entries := must[[]AuditEntry](t)(s.AuditFor(ctx, "user", idStr(bob.ID), 0))
		var actions []string
		for _, e := range slices.Backward(entries) {
			actions = append(actions, e.Action)
		}
		want := []string{"user.create", "user.set_role", "session.create", "user.disable", "user.enable", "user.set_role"}
		if !slices.Equal(actions, want) {
			t.Errorf("bob's audit actions %v, want %v", actions, want)
		}
		all := must[[]AuditEntry](t)(s.AuditRecent(ctx, 1000, 0))
		for _, e := range all {
			j := string(e.Before) + string(e.After)
			if strings.Contains(j, "secret-hash") || strings.Contains(j, "password_hash") || strings.Contains(j, tokenHash("bob-session")) {
				t.Errorf("audit %d leaks a secret: %s", e.Seq, j)
			}
		}
		last := all[0]
		if last.Action != "user.set_password" || last.Actor != "bob@example.com" {
			t.Errorf("last entry %+v", last)
		}
		verifyOK(t, s)
	})
}

func TestSessions(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store, _ Config) {
		u := must[User](t)(s.CreateUser(ctx, ActorSystem, User{Email: "a@example.com", Role: RoleAdmin}, "h"))
		tok := tokenHash("cookie")
		now := time.Now().UTC()
		exp := now.Add(2 * time.Hour)
		noErr(t, s.CreateSession(ctx, tok, u.ID, exp))
		wantErr(t, s.CreateSession(ctx, tok, u.ID, exp), ErrConflict, "duplicate session")
		wantErr(t, s.CreateSession(ctx, tokenHash("x"), 999, exp), ErrNotFound, "unknown user")
		wantErr(t, s.CreateSession(ctx, "not-hex", u.ID, exp), ErrInvalid, "bad hash")
		wantErr(t, s.CreateSession(ctx, tokenHash("y"), u.ID, now.Add(-time.Second)), ErrInvalid, "past expiry")

		got := must[User](t)(s.SessionUser(ctx, tok, now))
		if got != u {
			t.Errorf("session user %+v", got)
		}
		seen0 := must[time.Time](t)(s.SessionLastSeen(ctx, tok))
		// Within a minute: no touch.
		must[User](t)(s.SessionUser(ctx, tok, seen0.Add(30*time.Second)))
		if seen := must[time.Time](t)(s.SessionLastSeen(ctx, tok)); !seen.Equal(seen0) {
			t.Errorf("touched within a minute: %v -> %v", seen0, seen)
		}
		// After a minute: touched.
		later := seen0.Add(90 * time.Second)
		must[User](t)(s.SessionUser(ctx, tok, later))
		if seen := must[time.Time](t)(s.SessionLastSeen(ctx, tok)); !seen.Equal(normTime(later)) {
			t.Errorf("last seen %v, want %v", seen, later)
		}
		// Expired.
		_, err := s.SessionUser(ctx, tok, exp)
		wantErr(t, err, ErrNotFound, "expired session")
		_, err = s.SessionUser(ctx, tokenHash("other"), now)
		wantErr(t, err, ErrNotFound, "unknown session")

		// Expiry purge.
		tok2 := tokenHash("short")
		noErr(t, s.CreateSession(ctx, tok2, u.ID, now.Add(time.Minute)))
		n := must[int64](t)(s.DeleteExpiredSessions(ctx, now.Add(10*time.Minute)))
		if n != 1 {
			t.Errorf("purged %d", n)
		}
		_, err = s.SessionUser(ctx, tok2, now)
		wantErr(t, err, ErrNotFound, "purged session")
		must[User](t)(s.SessionUser(ctx, tok, now))

		// Logout.
		noErr(t, s.DeleteSession(ctx, tok))
		noErr(t, s.DeleteSession(ctx, tok)) // idempotent
		_, err = s.SessionUser(ctx, tok, now)
		wantErr(t, err, ErrNotFound, "deleted session")
		e := must[[]AuditEntry](t)(s.AuditRecent(ctx, 1, 0))[0]
		if e.Action != "session.delete" || e.Actor != u.Email {
			t.Errorf("logout audit %+v", e)
		}
		verifyOK(t, s)
	})
}

func TestAPITokens(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store, _ Config) {
		u := must[User](t)(s.CreateUser(ctx, ActorSystem, User{Email: "a@example.com", Role: RoleAdmin}, "h"))
		v := must[User](t)(s.CreateUser(ctx, u.Email, User{Email: "v@example.com", Role: RoleViewer}, "h"))
		h1, h2 := tokenHash("t1"), tokenHash("t2")
		t1 := must[APIToken](t)(s.CreateAPIToken(ctx, u.Email, v.ID, "ci", h1))
		if t1.ID == 0 || t1.UserID != v.ID || t1.Name != "ci" || t1.LastUsedAt != nil || t1.RevokedAt != nil {
			t.Errorf("token %+v", t1)
		}
		_, err := s.CreateAPIToken(ctx, u.Email, v.ID, "dup", h1)
		wantErr(t, err, ErrConflict, "duplicate token hash")
		_, err = s.CreateAPIToken(ctx, u.Email, 999, "x", h2)
		wantErr(t, err, ErrNotFound, "unknown user")
		_, err = s.CreateAPIToken(ctx, u.Email, v.ID, "", h2)
		wantErr(t, err, ErrInvalid, "empty name")
		t2 := must[APIToken](t)(s.CreateAPIToken(ctx, u.Email, v.ID, "laptop", h2))

		got := must[User](t)(s.APITokenUser(ctx, h1))
		if got != v {
			t.Errorf("token user %+v", got)
		}
		tok := must[APIToken](t)(s.APIToken(ctx, t1.ID))
		if tok.LastUsedAt == nil {
			t.Error("last_used_at not set")
		}
		_, err = s.APITokenUser(ctx, tokenHash("nope"))
		wantErr(t, err, ErrNotFound, "unknown token")

		noErr(t, s.RevokeAPIToken(ctx, u.Email, t1.ID))
		noErr(t, s.RevokeAPIToken(ctx, u.Email, t1.ID)) // no-op
		wantErr(t, s.RevokeAPIToken(ctx, u.Email, 999), ErrNotFound, "revoke unknown")
		_, err = s.APITokenUser(ctx, h1)
		wantErr(t, err, ErrNotFound, "revoked token")
		must[User](t)(s.APITokenUser(ctx, h2))

		list := must[[]APIToken](t)(s.ListAPITokens(ctx, v.ID))
		if len(list) != 2 || list[0].ID != t1.ID || list[0].RevokedAt == nil || list[1].ID != t2.ID || list[1].RevokedAt != nil {
			t.Errorf("list %+v", list)
		}
		// Disabled owner: token stops working.
		must[User](t)(s.SetUserDisabled(ctx, u.Email, v.ID, true))
		_, err = s.APITokenUser(ctx, h2)
		wantErr(t, err, ErrNotFound, "token of disabled user")

		revokes := must[[]AuditEntry](t)(s.AuditFor(ctx, "api_token", idStr(t1.ID), 10))
		if len(revokes) != 2 || revokes[0].Action != "api_token.revoke" || revokes[1].Action != "api_token.create" {
			t.Fatalf("token audit %+v", revokes)
		}
		for _, e := range revokes {
			if strings.Contains(string(e.Before)+string(e.After), h1) {
				t.Error("audit contains the token hash")
			}
		}
		var before, after APIToken
		noErr(t, json.Unmarshal(revokes[0].Before, &before))
		noErr(t, json.Unmarshal(revokes[0].After, &after))
		if before.RevokedAt != nil || after.RevokedAt == nil {
			t.Errorf("revoke before/after %s %s", revokes[0].Before, revokes[0].After)
		}
		verifyOK(t, s)
	})
}

func TestLoginFailures(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store, _ Config) {
		t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		for i := range 5 {
			noErr(t, s.RecordLoginFailure(ctx, "email:a@example.com", t0.Add(time.Duration(i)*time.Minute)))
		}
		noErr(t, s.RecordLoginFailure(ctx, "ip:10.0.0.1", t0))
		count := func(key string, since time.Time) int { return must[int](t)(s.CountLoginFailures(ctx, key, since)) }
		if n := count("email:a@example.com", t0); n != 5 {
			t.Errorf("all: %d", n)
		}
		if n := count("email:a@example.com", t0.Add(3*time.Minute)); n != 2 {
			t.Errorf("since +3m: %d", n)
		}
		// A since in another time zone means the same instant.
		if n := count("email:a@example.com", t0.Add(3*time.Minute).In(time.FixedZone("X", 5*3600))); n != 2 {
			t.Errorf("since +3m, other zone: %d", n)
		}
		if n := count("nobody", t0); n != 0 {
			t.Errorf("unknown key: %d", n)
		}
		noErr(t, s.ClearLoginFailures(ctx, "email:a@example.com"))
		if n := count("email:a@example.com", t0); n != 0 {
			t.Errorf("after clear: %d", n)
		}
		if n := count("ip:10.0.0.1", t0); n != 1 {
			t.Errorf("other key cleared: %d", n)
		}
		if n := must[int64](t)(s.PruneLoginFailures(ctx, t0.Add(time.Second))); n != 1 {
			t.Errorf("pruned %d", n)
		}
		wantErr(t, s.RecordLoginFailure(ctx, "", t0), ErrInvalid, "empty key")
	})
}

const profileText = "schema: vigil/device/v1\r\nname: \"Pump ü\"  \n\tdevice:\n  kind: simd\n\n# trailing comment   \n"

func TestProductsAndVersions(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store, _ Config) {
		actor := "ed@example.com"
		p := must[Product](t)(s.CreateProduct(ctx, actor, Product{Name: " Insulin Pump ", Manufacturer: "Acme", Description: "line1\nline2"}))
		if p.ID == 0 || p.Name != "Insulin Pump" || p.CreatedAt.IsZero() || !p.UpdatedAt.Equal(p.CreatedAt) {
			t.Errorf("product %+v", p)
		}
		if got := must[Product](t)(s.Product(ctx, p.ID)); got != p {
			t.Errorf("read back %+v, want %+v", got, p)
		}
		_, err := s.CreateProduct(ctx, actor, Product{Name: "INSULIN PUMP"})
		wantErr(t, err, ErrConflict, "duplicate name")
		_, err = s.CreateProduct(ctx, actor, Product{Name: "  "})
		wantErr(t, err, ErrInvalid, "empty name")
		_, err = s.CreateProduct(ctx, actor, Product{Name: "bad\x00name"})
		wantErr(t, err, ErrInvalid, "NUL in name")
		_, err = s.Product(ctx, 999)
		wantErr(t, err, ErrNotFound, "missing product")

		a := must[Product](t)(s.CreateProduct(ctx, actor, Product{Name: "analyzer"}))
		list := must[[]Product](t)(s.ListProducts(ctx))
		if len(list) != 2 || list[0].ID != a.ID || list[1].ID != p.ID {
			t.Errorf("list order %+v", list)
		}
		p.Description = "changed"
		up := must[Product](t)(s.UpdateProduct(ctx, actor, p))
		if up.Description != "changed" || up.UpdatedAt.Before(p.UpdatedAt) {
			t.Errorf("update %+v", up)
		}
		if got := must[Product](t)(s.Product(ctx, p.ID)); got != up {
			t.Errorf("read back %+v", got)
		}
		_, err = s.UpdateProduct(ctx, actor, Product{ID: p.ID, Name: "Analyzer"})
		wantErr(t, err, ErrConflict, "rename onto another")
		_, err = s.UpdateProduct(ctx, actor, Product{ID: 999, Name: "x"})
		wantErr(t, err, ErrNotFound, "update missing")

		v1 := must[DeviceVersion](t)(s.CreateDeviceVersion(ctx, actor, p.ID, "1.0", profileText))
		if v1.ID == 0 || v1.ProductName != "Insulin Pump" || v1.ProfileYAML != profileText {
			t.Errorf("version %+v", v1)
		}
		got := must[DeviceVersion](t)(s.DeviceVersion(ctx, v1.ID))
		if got != v1 {
			t.Errorf("read back %+v\nwant %+v", got, v1)
		}
		if got.ProfileYAML != profileText {
			t.Errorf("profile not byte-exact: %q", got.ProfileYAML)
		}
		_, err = s.CreateDeviceVersion(ctx, actor, p.ID, "1.0", profileText)
		wantErr(t, err, ErrConflict, "duplicate version")
		_, err = s.CreateDeviceVersion(ctx, actor, 999, "1.0", profileText)
		wantErr(t, err, ErrNotFound, "version of missing product")
		_, err = s.CreateDeviceVersion(ctx, actor, p.ID, "2.0", " \n")
		wantErr(t, err, ErrInvalid, "empty profile")
		_, err = s.CreateDeviceVersion(ctx, actor, p.ID, "2.0", "a\xffb")
		wantErr(t, err, ErrInvalid, "non-UTF-8 profile")
		_, err = s.DeviceVersion(ctx, 999)
		wantErr(t, err, ErrNotFound, "missing version")

		v2 := must[DeviceVersion](t)(s.CreateDeviceVersion(ctx, actor, p.ID, "2.0", "x: 1\n"))
		va := must[DeviceVersion](t)(s.CreateDeviceVersion(ctx, actor, a.ID, "1.0", profileText)) // same version string, other product
		vs := must[[]DeviceVersion](t)(s.ListDeviceVersions(ctx, p.ID))
		if len(vs) != 2 || vs[0].ID != v1.ID || vs[1].ID != v2.ID || vs[0].ProfileYAML != "" {
			t.Errorf("versions %+v", vs)
		}
		_, err = s.ListDeviceVersions(ctx, 999)
		wantErr(t, err, ErrNotFound, "versions of missing product")
		all := must[[]DeviceVersion](t)(s.ListAllDeviceVersions(ctx))
		var ids []int64
		for _, v := range all {
			ids = append(ids, v.ID)
		}
		if !slices.Equal(ids, []int64{va.ID, v1.ID, v2.ID}) || all[0].ProductName != "analyzer" {
			t.Errorf("all versions %+v", all)
		}

		// The audit entry records the profile by hash, not by content.
		e := must[[]AuditEntry](t)(s.AuditFor(ctx, "device_version", idStr(v1.ID), 5))
		if len(e) != 1 || !strings.Contains(string(e[0].After), `"profile_sha256":"`) || strings.Contains(string(e[0].After), "vigil/device") {
			t.Errorf("version audit %+v", e)
		}
		pe := must[[]AuditEntry](t)(s.AuditFor(ctx, "product", idStr(p.ID), 5))
		if len(pe) != 2 || pe[0].Action != "product.update" || pe[0].Actor != actor || pe[0].Before == nil {
			t.Errorf("product audit %+v", pe)
		}
		verifyOK(t, s)
	})
}

func newVersion(t *testing.T, s *Store, product, version string) DeviceVersion {
	t.Helper()
	p, err := s.CreateProduct(ctx, ActorSystem, Product{Name: product})
	if errors.Is(err, ErrConflict) {
		for _, q := range must[[]Product](t)(s.ListProducts(ctx)) {
			if q.Name == product {
				p, err = q, nil
			}
		}
	}
	noErr(t, err)
	return must[DeviceVersion](t)(s.CreateDeviceVersion(ctx, ActorSystem, p.ID, version, profileText))
}

func TestAssessments(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store, _ Config) {
		v := newVersion(t, s, "pump", "1")
		w := newVersion(t, s, "pump", "2")
		actor := "ed@example.com"
		in := Assessment{DeviceVersionID: v.ID, RequirementID: "us.fda-premarket.threat-model", Status: StatusInProgress,
			Owner: "Eve", Justification: "draft\nthreat model", DueDate: "2026-09-30"}
		a := must[Assessment](t)(s.SetAssessment(ctx, actor, in))
		if a.UpdatedBy != actor || a.UpdatedAt.IsZero() || a.Status != StatusInProgress {
			t.Errorf("set %+v", a)
		}
		m := must[map[string]Assessment](t)(s.Assessments(ctx, v.ID))
		if len(m) != 1 || m[in.RequirementID] != a {
			t.Errorf("read back %+v, want %+v", m, a)
		}
		// Same values again: nothing written, nothing audited.
		n0 := len(must[[]AuditEntry](t)(s.AuditRecent(ctx, 1000, 0)))
		again := must[Assessment](t)(s.SetAssessment(ctx, "other@example.com", in))
		if again != a || len(must[[]AuditEntry](t)(s.AuditRecent(ctx, 1000, 0))) != n0 {
			t.Errorf("no-op wrote: %+v", again)
		}
		// Update: audit holds before and after.
		in.Status, in.DueDate = StatusMet, ""
		b := must[Assessment](t)(s.SetAssessment(ctx, "approver@example.com", in))
		if b.Status != StatusMet || b.DueDate != "" || b.UpdatedBy != "approver@example.com" {
			t.Errorf("update %+v", b)
		}
		if got := must[map[string]Assessment](t)(s.Assessments(ctx, v.ID))[in.RequirementID]; got != b {
			t.Errorf("read back %+v, want %+v", got, b)
		}
		ae := must[[]AuditEntry](t)(s.AuditFor(ctx, "assessment", idStr(v.ID)+"/"+in.RequirementID, 10))
		if len(ae) != 2 {
			t.Fatalf("assessment audit %+v", ae)
		}
		var before, after Assessment
		noErr(t, json.Unmarshal(ae[0].Before, &before))
		noErr(t, json.Unmarshal(ae[0].After, &after))
		if before != a || after != b || ae[1].Before != nil {
			t.Errorf("audit before %+v after %+v", before, after)
		}

		// Invalid input.
		bad := []struct {
			name string
			a    Assessment
			want error
		}{
			{"status", Assessment{DeviceVersionID: v.ID, RequirementID: "r.x", Status: "done"}, ErrInvalid},
			{"date", Assessment{DeviceVersionID: v.ID, RequirementID: "r.x", Status: StatusMet, DueDate: "2026-02-30"}, ErrInvalid},
			{"requirement", Assessment{DeviceVersionID: v.ID, RequirementID: "r x", Status: StatusMet}, ErrInvalid},
			{"version", Assessment{DeviceVersionID: 999, RequirementID: "r.x", Status: StatusMet}, ErrNotFound},
		}
		for _, c := range bad {
			_, err := s.SetAssessment(ctx, actor, c.a)
			wantErr(t, err, c.want, c.name)
		}
		_, err := s.Assessments(ctx, 999)
		wantErr(t, err, ErrNotFound, "assessments of missing version")

		// Batch: all or nothing.
		batch := []Assessment{
			{DeviceVersionID: w.ID, RequirementID: "a", Status: StatusMet},
			{DeviceVersionID: w.ID, RequirementID: "b", Status: "bogus"},
		}
		_, err = s.SetAssessments(ctx, actor, batch)
		wantErr(t, err, ErrInvalid, "bad batch")
		if m := must[map[string]Assessment](t)(s.Assessments(ctx, w.ID)); len(m) != 0 {
			t.Errorf("partial batch stored: %v", m)
		}
		batch[1].Status = StatusNotApplicable
		batch = append(batch, Assessment{DeviceVersionID: w.ID, RequirementID: "c", Status: StatusNotMet},
			Assessment{DeviceVersionID: v.ID, RequirementID: "d", Status: StatusMet})
		if n := must[int](t)(s.SetAssessments(ctx, actor, batch)); n != 4 {
			t.Errorf("changed %d", n)
		}
		if n := must[int](t)(s.SetAssessments(ctx, actor, batch)); n != 0 {
			t.Errorf("changed %d on repeat", n)
		}

		counts := must[map[int64]map[string]int](t)(s.AssessmentCountsByVersion(ctx))
		want := map[int64]map[string]int{
			v.ID: {StatusMet: 2},
			w.ID: {StatusMet: 1, StatusNotApplicable: 1, StatusNotMet: 1},
		}
		if len(counts) != len(want) {
			t.Errorf("counts %v", counts)
		}
		for id, m := range want {
			for st, n := range m {
				if counts[id][st] != n || len(counts[id]) != len(m) {
					t.Errorf("counts[%d] = %v, want %v", id, counts[id], m)
				}
			}
		}
		verifyOK(t, s)
	})
}

func TestEvidence(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store, _ Config) {
		v := newVersion(t, s, "pump", "1")
		w := newVersion(t, s, "pump", "2")
		actor := "ed@example.com"
		data := []byte("%PDF-1.7 threat model\x00\x01\xff")
		e := must[Evidence](t)(s.AddEvidence(ctx, actor, EvidenceInput{
			DeviceVersionID: v.ID, Filename: `C:\Users\ed\threat model.pdf`, ContentType: "application/pdf", Data: data,
			Links: []Link{
				{Kind: LinkRequirement, TargetID: "us.fda-premarket.threat-model"},
				{Kind: LinkControl, TargetID: "CO-05"},
				{Kind: LinkControl, TargetID: "CO-05"}, // duplicate dropped
			},
		}))
		if e.ID == 0 || e.Filename != "threat model.pdf" || e.Title != "threat model.pdf" || e.Size != int64(len(data)) ||
			e.SHA256 != tokenHash(string(data)) || e.UploadedBy != actor || len(e.Links) != 2 {
			t.Errorf("evidence %+v", e)
		}
		got := must[Evidence](t)(s.Evidence(ctx, e.ID))
		if !evidenceEqual(got, e) {
			t.Errorf("read back %+v\nwant %+v", got, e)
		}
		blob := must[[]byte](t)(s.EvidenceBlob(ctx, e.SHA256))
		if string(blob) != string(data) {
			t.Errorf("blob %q", blob)
		}
		// Same content again, on another version: one blob row.
		e2 := must[Evidence](t)(s.AddEvidence(ctx, actor, EvidenceInput{DeviceVersionID: w.ID, Title: "TM copy", Filename: "tm.pdf", Data: data}))
		if e2.SHA256 != e.SHA256 || e2.ContentType != "application/octet-stream" || len(e2.Links) != 0 {
			t.Errorf("second %+v", e2)
		}
		if n := rawInt(t, s, "SELECT count(*) FROM blobs"); n != 1 {
			t.Errorf("%d blobs", n)
		}
		e3 := must[Evidence](t)(s.AddEvidence(ctx, actor, EvidenceInput{DeviceVersionID: v.ID, Filename: "sbom.json", ContentType: "application/json", Data: []byte(`{}`),
			Links: []Link{{Kind: LinkControl, TargetID: "sbom"}}}))

		list := must[[]Evidence](t)(s.ListEvidence(ctx, v.ID))
		if len(list) != 2 || !evidenceEqual(list[0], e) || !evidenceEqual(list[1], e3) {
			t.Errorf("list %+v", list)
		}
		if l := must[[]Evidence](t)(s.ListEvidence(ctx, w.ID)); len(l) != 1 || l[0].ID != e2.ID || l[0].Links == nil {
			t.Errorf("list w %+v", l)
		}

		// Links.
		req := Link{Kind: LinkRequirement, TargetID: "eu.mdr.gspr-17.2"}
		noErr(t, s.LinkEvidence(ctx, actor, e2.ID, req))
		noErr(t, s.LinkEvidence(ctx, actor, e2.ID, req)) // idempotent
		if g := must[Evidence](t)(s.Evidence(ctx, e2.ID)); len(g.Links) != 1 || g.Links[0] != req {
			t.Errorf("links %+v", g.Links)
		}
		noErr(t, s.UnlinkEvidence(ctx, actor, e2.ID, req))
		wantErr(t, s.UnlinkEvidence(ctx, actor, e2.ID, req), ErrNotFound, "unlink missing")
		wantErr(t, s.LinkEvidence(ctx, actor, 999, req), ErrNotFound, "link missing evidence")
		wantErr(t, s.LinkEvidence(ctx, actor, e2.ID, Link{Kind: "regime", TargetID: "x"}), ErrInvalid, "bad kind")
		if g := must[Evidence](t)(s.Evidence(ctx, e2.ID)); len(g.Links) != 0 {
			t.Errorf("links after unlink %+v", g.Links)
		}
		le := must[[]AuditEntry](t)(s.AuditFor(ctx, "evidence", idStr(e2.ID), 10))
		if len(le) != 3 || le[0].Action != "evidence.unlink" || le[0].Before == nil || le[0].After != nil ||
			le[1].Action != "evidence.link" || le[2].Action != "evidence.add" {
			t.Errorf("evidence audit %+v", le)
		}

		// Invalid input.
		_, err := s.AddEvidence(ctx, actor, EvidenceInput{DeviceVersionID: v.ID, Filename: "e.txt"})
		wantErr(t, err, ErrInvalid, "empty data")
		_, err = s.AddEvidence(ctx, actor, EvidenceInput{DeviceVersionID: 999, Filename: "e.txt", Data: []byte("x")})
		wantErr(t, err, ErrNotFound, "missing version")
		_, err = s.AddEvidence(ctx, actor, EvidenceInput{DeviceVersionID: v.ID, Filename: "dir/", Data: []byte("x")})
		wantErr(t, err, ErrInvalid, "no file name")
		_, err = s.AddEvidence(ctx, actor, EvidenceInput{DeviceVersionID: v.ID, Filename: "a", ContentType: "not a type", Data: []byte("x")})
		wantErr(t, err, ErrInvalid, "bad content type")
		_, err = s.Evidence(ctx, 999)
		wantErr(t, err, ErrNotFound, "missing evidence")
		_, err = s.EvidenceBlob(ctx, tokenHash("nothing"))
		wantErr(t, err, ErrNotFound, "missing blob")
		_, err = s.EvidenceBlob(ctx, "../etc")
		wantErr(t, err, ErrInvalid, "bad blob hash")
		verifyOK(t, s)
	})
}

func evidenceEqual(a, b Evidence) bool {
	la, lb := a.Links, b.Links
	a.Links, b.Links = nil, nil
	slices.SortFunc(la, cmpLink)
	slices.SortFunc(lb, cmpLink)
	return reflect.DeepEqual(a, b) && slices.Equal(la, lb)
}

func cmpLink(a, b Link) int {
	return strings.Compare(a.Kind+"\x00"+a.TargetID, b.Kind+"\x00"+b.TargetID)
}

// TestConstraints checks that the database itself rejects bad rows (not only the Go checks),
// and that its errors map onto the sentinels.
func TestConstraints(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store, _ Config) {
		now := time.Now()
		raw := func(q string, args ...any) error {
			return s.Transact(ctx, func(tx *Tx) error {
				_, err := tx.ExecContext(ctx, q, args...)
				return mapErr(err)
			})
		}
		noErr(t, raw("INSERT INTO users (email, role, created_at) VALUES (?, ?, ?)", "a@x.org", "admin", now))
		wantErr(t, raw("INSERT INTO users (email, role, created_at) VALUES (?, ?, ?)", "a@x.org", "admin", now), ErrConflict, "unique email")
		wantErr(t, raw("INSERT INTO users (email, role, created_at) VALUES (?, ?, ?)", "b@x.org", "god", now), ErrInvalid, "role check")
		wantErr(t, raw("INSERT INTO users (email, role, created_at) VALUES (?, ?, ?)", "Upper@x.org", "admin", now), ErrInvalid, "lower-case check")
		wantErr(t, raw("INSERT INTO users (email, role) VALUES (?, ?)", "c@x.org", "admin"), ErrInvalid, "not null")
		wantErr(t, raw("INSERT INTO sessions (token_hash, user_id, created_at, expires_at, last_seen_at) VALUES (?, ?, ?, ?, ?)",
			tokenHash("s"), 999, now, now, now), ErrInvalid, "foreign key")
		wantErr(t, raw("INSERT INTO products (name, created_at, updated_at) VALUES (?, ?, ?)", "", now, now), ErrInvalid, "empty name")
		noErr(t, raw("INSERT INTO products (name, created_at, updated_at) VALUES (?, ?, ?)", "P", now, now))
		wantErr(t, raw("INSERT INTO products (name, created_at, updated_at) VALUES (?, ?, ?)", "p", now, now), ErrConflict, "name case")
		wantErr(t, raw("INSERT INTO blobs (sha256, size, data) VALUES (?, ?, ?)", tokenHash("b"), 5, []byte("abc")), ErrInvalid, "blob size")
		wantErr(t, raw("INSERT INTO assessments (device_version_id, requirement_id, status, updated_at, updated_by) VALUES (?, ?, ?, ?, ?)",
			1, "r", "met", now, "x"), ErrInvalid, "assessment without version")
		wantErr(t, raw("INSERT INTO evidence_links (evidence_id, target_kind, target_id) VALUES (?, ?, ?)", 1, "regime", "x"), ErrInvalid, "link kind")

		// audit_log is append-only.
		noErr(t, s.Transact(ctx, func(tx *Tx) error {
			return tx.Audit(ctx, "t", "test", "test", "1", nil, map[string]int{"n": 1})
		}))
		for _, q := range []string{"UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"} {
			err := raw(q)
			if err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: %v", q, err)
			}
			wantErr(t, err, ErrInvalid, q)
		}
		if s.Dialect() == DialectPostgres {
			if err := raw("TRUNCATE audit_log"); err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("truncate: %v", err)
			}
		}
		if n := rawInt(t, s, "SELECT count(*) FROM audit_log"); n != 1 {
			t.Errorf("audit rows %d", n)
		}
	})
}

func TestTransactRollback(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store, _ Config) {
		boom := errors.New("boom")
		err := s.Transact(ctx, func(tx *Tx) error {
			if _, err := tx.ExecContext(ctx, "INSERT INTO products (name, created_at, updated_at) VALUES (?, ?, ?)", "gone", time.Now(), time.Now()); err != nil {
				return err
			}
			if err := tx.Audit(ctx, "t", "product.create", "product", "1", nil, "x"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Error("panic swallowed")
				}
			}()
			_ = s.Transact(ctx, func(tx *Tx) error {
				_, _ = tx.ExecContext(ctx, "INSERT INTO products (name, created_at, updated_at) VALUES (?, ?, ?)", "gone2", time.Now(), time.Now())
				panic("boom")
			})
		}()
		if n := rawInt(t, s, "SELECT count(*) FROM products") + rawInt(t, s, "SELECT count(*) FROM audit_log"); n != 0 {
			t.Errorf("rolled-back rows remain: %d", n)
		}
		// The store still works (the write connection was released).
		must[Product](t)(s.CreateProduct(ctx, "t", Product{Name: "kept"}))
		rep := verifyOK(t, s)
		if rep.Entries != 1 || rep.LastSeq != 1 {
			t.Errorf("report %+v", rep)
		}
	})
}

func TestRebind(t *testing.T) {
	got := rebindDollar(`SELECT '?', "a?" FROM t WHERE a = ? AND b IN (?, ?)`)
	want := `SELECT '?', "a?" FROM t WHERE a = $1 AND b IN ($2, $3)`
	if got != want {
		t.Errorf("got %s", got)
	}
}
