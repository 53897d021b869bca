package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// User is an account. The password hash is never part of it (see [Store.UserCredentials]).
type User struct {
	ID        int64     `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
}

// APIToken is an API token's record; the token itself is only ever known by its hash.
type APIToken struct {
	ID         int64      `json:"id"`
	UserID     int64      `json:"user_id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// touchInterval is how stale last_seen_at / last_used_at may get before a read refreshes it.
const touchInterval = time.Minute

const userCols = "id, email, name, role, disabled, created_at"

type scanner interface{ Scan(...any) error }

func scanUser(sc scanner) (User, error) {
	var (
		u  User
		at timeCol
	)
	err := sc.Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.Disabled, &at)
	u.CreatedAt = at.Time
	return u, err
}

func notFound(what string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: %s: %w", what, ErrNotFound)
	}
	return fmt.Errorf("store: %s: %w", what, mapErr(err))
}

func idStr(id int64) string { return strconv.FormatInt(id, 10) }

// CreateUser adds a user. passwordHash is stored as given (empty means no password login) and
// never audited.
func (s *Store) CreateUser(ctx context.Context, actor string, u User, passwordHash string) (User, error) {
	var err error
	if u.Email, err = normEmail(u.Email); err != nil {
		return User{}, fmt.Errorf("store: create user: %w", err)
	}
	if u.Name, err = text("name", u.Name, maxShort, false, false); err != nil {
		return User{}, fmt.Errorf("store: create user: %w", err)
	}
	if err := validRole(u.Role); err != nil {
		return User{}, fmt.Errorf("store: create user: %w", err)
	}
	if _, err := text("password hash", passwordHash, 1024, false, false); err != nil {
		return User{}, fmt.Errorf("store: create user: %w", err)
	}
	u.CreatedAt = s.nowUTC()
	err = s.Transact(ctx, func(tx *Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO users (email, name, role, password_hash, disabled, created_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			u.Email, u.Name, u.Role, passwordHash, u.Disabled, u.CreatedAt).Scan(&u.ID)
		if err != nil {
			if isConflict(err) {
				return fmt.Errorf("%w: a user with email %q already exists", ErrConflict, u.Email)
			}
			return mapErr(err)
		}
		return tx.Audit(ctx, actor, "user.create", "user", idStr(u.ID), nil, u)
	})
	if err != nil {
		return User{}, fmt.Errorf("store: create user: %w", err)
	}
	return u, nil
}

// UserByEmail finds a user by email (case-insensitively).
func (s *Store) UserByEmail(ctx context.Context, email string) (User, error) {
	u, _, err := s.UserCredentials(ctx, email)
	return u, err
}

// UserCredentials returns a user and their password hash, for login.
func (s *Store) UserCredentials(ctx context.Context, email string) (User, string, error) {
	e, err := normEmail(email)
	if err != nil {
		return User{}, "", fmt.Errorf("store: user: %w", err)
	}
	var (
		u    User
		hash string
		at   timeCol
	)
	err = s.queryRow(ctx, "SELECT "+userCols+", password_hash FROM users WHERE email = ?", e).
		Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.Disabled, &at, &hash)
	if err != nil {
		return User{}, "", notFound(fmt.Sprintf("user %q", e), err)
	}
	u.CreatedAt = at.Time
	return u, hash, nil
}

// UserByID finds a user by ID.
func (s *Store) UserByID(ctx context.Context, id int64) (User, error) {
	u, err := scanUser(s.queryRow(ctx, "SELECT "+userCols+" FROM users WHERE id = ?", id))
	if err != nil {
		return User{}, notFound(fmt.Sprintf("user %d", id), err)
	}
	return u, nil
}

// ListUsers returns all users ordered by email.
func (s *Store) ListUsers(ctx context.Context) ([]User, error) {
	rows, err := s.query(ctx, "SELECT "+userCols+" FROM users ORDER BY email")
	if err != nil {
		return nil, fmt.Errorf("store: list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list users: %w", err)
	}
	return out, nil
}

// CountUsers returns the number of users (enabled or not).
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := s.queryRow(ctx, "SELECT count(*) FROM users").Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count users: %w", err)
	}
	return n, nil
}

func txUser(ctx context.Context, tx *Tx, id int64) (User, error) {
	u, err := scanUser(tx.QueryRowContext(ctx, "SELECT "+userCols+" FROM users WHERE id = ?", id))
	if err != nil {
		return User{}, notFound(fmt.Sprintf("user %d", id), err)
	}
	return u, nil
}

// keepAnAdmin refuses a change that would leave no enabled admin.
func keepAnAdmin(ctx context.Context, tx *Tx, before, after User) error {
	if before.Role != RoleAdmin || before.Disabled || (after.Role == RoleAdmin && !after.Disabled) {
		return nil
	}
	var n int
	err := tx.QueryRowContext(ctx, "SELECT count(*) FROM users WHERE role = 'admin' AND disabled = ? AND id <> ?",
		false, before.ID).Scan(&n)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%w: %s is the last enabled admin", ErrConflict, before.Email)
	}
	return nil
}

// updateUser loads user id, applies change, and if anything changed writes and audits it.
func (s *Store) updateUser(ctx context.Context, actor, action string, id int64, change func(*User), extra func(*Tx, User) error) (User, error) {
	var out User
	err := s.Transact(ctx, func(tx *Tx) error {
		before, err := txUser(ctx, tx, id)
		if err != nil {
			return err
		}
		after := before
		change(&after)
		if after == before {
			out = before
			return nil
		}
		if err := keepAnAdmin(ctx, tx, before, after); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE users SET role = ?, disabled = ? WHERE id = ?",
			after.Role, after.Disabled, id); err != nil {
			return mapErr(err)
		}
		if extra != nil {
			if err := extra(tx, after); err != nil {
				return err
			}
		}
		out = after
		return tx.Audit(ctx, actor, action, "user", idStr(id), before, after)
	})
	if err != nil {
		return User{}, fmt.Errorf("store: %s %d: %w", action, id, err)
	}
	return out, nil
}

// SetUserRole changes a user's role. Demoting the last enabled admin is an ErrConflict.
func (s *Store) SetUserRole(ctx context.Context, actor string, id int64, role string) (User, error) {
	if err := validRole(role); err != nil {
		return User{}, fmt.Errorf("store: set role: %w", err)
	}
	return s.updateUser(ctx, actor, "user.set_role", id, func(u *User) { u.Role = role }, nil)
}

// SetUserDisabled disables or re-enables a user. Disabling deletes the user's sessions;
// disabling the last enabled admin is an ErrConflict.
func (s *Store) SetUserDisabled(ctx context.Context, actor string, id int64, disabled bool) (User, error) {
	action := "user.enable"
	if disabled {
		action = "user.disable"
	}
	return s.updateUser(ctx, actor, action, id, func(u *User) { u.Disabled = disabled }, func(tx *Tx, u User) error {
		if !u.Disabled {
			return nil
		}
		_, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE user_id = ?", u.ID)
		return err
	})
}

// SetUserPassword replaces a user's password hash. The audit entry records that it changed, not
// the hash. Existing sessions are kept.
func (s *Store) SetUserPassword(ctx context.Context, actor string, id int64, passwordHash string) error {
	if _, err := text("password hash", passwordHash, 1024, false, false); err != nil {
		return fmt.Errorf("store: set password: %w", err)
	}
	err := s.Transact(ctx, func(tx *Tx) error {
		u, err := txUser(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE users SET password_hash = ? WHERE id = ?", passwordHash, id); err != nil {
			return mapErr(err)
		}
		return tx.Audit(ctx, actor, "user.set_password", "user", idStr(id), nil, map[string]any{"email": u.Email, "password_changed": true})
	})
	if err != nil {
		return fmt.Errorf("store: set password %d: %w", id, err)
	}
	return nil
}

// --- sessions ---

// CreateSession stores a login session for an enabled user. tokenHash is the hex sha256 of the
// cookie token; the audit entry (actor: the user) never contains it.
func (s *Store) CreateSession(ctx context.Context, tokenHash string, userID int64, expiresAt time.Time) error {
	if err := hexHash("session token hash", tokenHash); err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	now := s.nowUTC()
	if !expiresAt.After(now) {
		return fmt.Errorf("store: create session: %w", invalid("expiry %s is not in the future", expiresAt.UTC().Format(time.RFC3339)))
	}
	err := s.Transact(ctx, func(tx *Tx) error {
		u, err := txUser(ctx, tx, userID)
		if err != nil {
			return err
		}
		if u.Disabled {
			return invalid("user %s is disabled", u.Email)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, created_at, expires_at, last_seen_at)
			VALUES (?, ?, ?, ?, ?)`, tokenHash, userID, now, expiresAt, now); err != nil {
			return mapErr(err)
		}
		return tx.Audit(ctx, u.Email, "session.create", "user", idStr(userID), nil,
			map[string]any{"user_id": userID, "expires_at": normTime(expiresAt)})
	})
	if err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	return nil
}

// SessionUser returns the user of a session that has not expired at now, if the user is enabled;
// otherwise ErrNotFound. It refreshes the session's last_seen_at at most once a minute.
func (s *Store) SessionUser(ctx context.Context, tokenHash string, now time.Time) (User, error) {
	if err := hexHash("session token hash", tokenHash); err != nil {
		return User{}, fmt.Errorf("store: session: %w", err)
	}
	var (
		u        User
		created  timeCol
		lastSeen timeCol
	)
	err := s.queryRow(ctx, `SELECT u.id, u.email, u.name, u.role, u.disabled, u.created_at, s.last_seen_at
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = ? AND s.expires_at > ?`, tokenHash, now).
		Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.Disabled, &created, &lastSeen)
	if err != nil {
		return User{}, notFound("session", err)
	}
	u.CreatedAt = created.Time
	if u.Disabled {
		return User{}, fmt.Errorf("store: session: %w", ErrNotFound)
	}
	if now.Sub(lastSeen.Time) >= touchInterval {
		if _, err := s.exec(ctx, "UPDATE sessions SET last_seen_at = ? WHERE token_hash = ? AND last_seen_at < ?",
			now, tokenHash, now); err != nil {
			return User{}, fmt.Errorf("store: session: touch: %w", err)
		}
	}
	return u, nil
}

// SessionLastSeen returns when a session was last seen (for tests and session lists).
func (s *Store) SessionLastSeen(ctx context.Context, tokenHash string) (time.Time, error) {
	var t timeCol
	if err := s.queryRow(ctx, "SELECT last_seen_at FROM sessions WHERE token_hash = ?", tokenHash).Scan(&t); err != nil {
		return time.Time{}, notFound("session", err)
	}
	return t.Time, nil
}

// DeleteSession logs a session out. Deleting a session that does not exist is not an error.
func (s *Store) DeleteSession(ctx context.Context, tokenHash string) error {
	if err := hexHash("session token hash", tokenHash); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	err := s.Transact(ctx, func(tx *Tx) error {
		var (
			userID int64
			email  string
		)
		err := tx.QueryRowContext(ctx, `SELECT u.id, u.email FROM sessions s JOIN users u ON u.id = s.user_id
			WHERE s.token_hash = ?`, tokenHash).Scan(&userID, &email)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE token_hash = ?", tokenHash); err != nil {
			return err
		}
		return tx.Audit(ctx, email, "session.delete", "user", idStr(userID), map[string]any{"user_id": userID}, nil)
	})
	if err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// DeleteExpiredSessions removes sessions that expired at or before now and returns how many.
// This housekeeping is not audited.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.exec(ctx, "DELETE FROM sessions WHERE expires_at <= ?", now)
	if err != nil {
		return 0, fmt.Errorf("store: delete expired sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: delete expired sessions: %w", err)
	}
	return n, nil
}

// --- API tokens ---

const tokenCols = "id, user_id, name, created_at, last_used_at, revoked_at"

func scanToken(sc scanner) (APIToken, error) {
	var (
		t                 APIToken
		created, used, rv timeCol
	)
	err := sc.Scan(&t.ID, &t.UserID, &t.Name, &created, &used, &rv)
	t.CreatedAt, t.LastUsedAt, t.RevokedAt = created.Time, used.ptr(), rv.ptr()
	return t, err
}

// CreateAPIToken records a new API token for a user; tokenHash is the hex sha256 of the token.
func (s *Store) CreateAPIToken(ctx context.Context, actor string, userID int64, name, tokenHash string) (APIToken, error) {
	name, err := text("token name", name, maxShort, true, false)
	if err != nil {
		return APIToken{}, fmt.Errorf("store: create API token: %w", err)
	}
	if err := hexHash("API token hash", tokenHash); err != nil {
		return APIToken{}, fmt.Errorf("store: create API token: %w", err)
	}
	t := APIToken{UserID: userID, Name: name, CreatedAt: s.nowUTC()}
	err = s.Transact(ctx, func(tx *Tx) error {
		if _, err := txUser(ctx, tx, userID); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO api_tokens (user_id, name, token_hash, created_at)
			VALUES (?, ?, ?, ?) RETURNING id`, userID, name, tokenHash, t.CreatedAt).Scan(&t.ID)
		if err != nil {
			return mapErr(err)
		}
		return tx.Audit(ctx, actor, "api_token.create", "api_token", idStr(t.ID), nil, t)
	})
	if err != nil {
		return APIToken{}, fmt.Errorf("store: create API token: %w", err)
	}
	return t, nil
}

// APITokenUser returns the enabled user owning an unrevoked API token, or ErrNotFound. It
// refreshes the token's last_used_at at most once a minute.
func (s *Store) APITokenUser(ctx context.Context, tokenHash string) (User, error) {
	if err := hexHash("API token hash", tokenHash); err != nil {
		return User{}, fmt.Errorf("store: API token: %w", err)
	}
	var (
		u       User
		tokenID int64
		created timeCol
		used    timeCol
		revoked timeCol
		errNF   = fmt.Errorf("store: API token: %w", ErrNotFound)
	)
	err := s.queryRow(ctx, `SELECT u.id, u.email, u.name, u.role, u.disabled, u.created_at, t.id, t.last_used_at, t.revoked_at
		FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?`, tokenHash).
		Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.Disabled, &created, &tokenID, &used, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, errNF
	}
	if err != nil {
		return User{}, fmt.Errorf("store: API token: %w", err)
	}
	if revoked.Valid || u.Disabled {
		return User{}, errNF
	}
	u.CreatedAt = created.Time
	now := s.nowUTC()
	if !used.Valid || now.Sub(used.Time) >= touchInterval {
		if _, err := s.exec(ctx, "UPDATE api_tokens SET last_used_at = ? WHERE id = ?", now, tokenID); err != nil {
			return User{}, fmt.Errorf("store: API token: touch: %w", err)
		}
	}
	return u, nil
}

// APIToken returns one token's record.
func (s *Store) APIToken(ctx context.Context, id int64) (APIToken, error) {
	t, err := scanToken(s.queryRow(ctx, "SELECT "+tokenCols+" FROM api_tokens WHERE id = ?", id))
	if err != nil {
		return APIToken{}, notFound(fmt.Sprintf("API token %d", id), err)
	}
	return t, nil
}

// RevokeAPIToken revokes a token. Revoking a revoked token changes nothing.
func (s *Store) RevokeAPIToken(ctx context.Context, actor string, id int64) error {
	err := s.Transact(ctx, func(tx *Tx) error {
		before, err := scanToken(tx.QueryRowContext(ctx, "SELECT "+tokenCols+" FROM api_tokens WHERE id = ?", id))
		if err != nil {
			return notFound(fmt.Sprintf("API token %d", id), err)
		}
		if before.RevokedAt != nil {
			return nil
		}
		after := before
		now := s.nowUTC()
		after.RevokedAt = &now
		if _, err := tx.ExecContext(ctx, "UPDATE api_tokens SET revoked_at = ? WHERE id = ?", now, id); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, "api_token.revoke", "api_token", idStr(id), before, after)
	})
	if err != nil {
		return fmt.Errorf("store: revoke API token: %w", err)
	}
	return nil
}

// ListAPITokens returns a user's tokens, revoked ones included, oldest first.
func (s *Store) ListAPITokens(ctx context.Context, userID int64) ([]APIToken, error) {
	rows, err := s.query(ctx, "SELECT "+tokenCols+" FROM api_tokens WHERE user_id = ? ORDER BY id", userID)
	if err != nil {
		return nil, fmt.Errorf("store: list API tokens: %w", err)
	}
	defer rows.Close()
	var out []APIToken
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list API tokens: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list API tokens: %w", err)
	}
	return out, nil
}

// --- login throttling (not audited) ---

// RecordLoginFailure notes a failed login for key (for example "email:x@y" or "ip:1.2.3.4").
func (s *Store) RecordLoginFailure(ctx context.Context, key string, at time.Time) error {
	if _, err := text("key", key, maxKey, true, false); err != nil {
		return fmt.Errorf("store: record login failure: %w", err)
	}
	if _, err := s.exec(ctx, "INSERT INTO login_failures (key, at) VALUES (?, ?)", key, at); err != nil {
		return fmt.Errorf("store: record login failure: %w", err)
	}
	return nil
}

// CountLoginFailures counts failures for key at or after since.
func (s *Store) CountLoginFailures(ctx context.Context, key string, since time.Time) (int, error) {
	var n int
	if err := s.queryRow(ctx, "SELECT count(*) FROM login_failures WHERE key = ? AND at >= ?", key, since).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count login failures: %w", err)
	}
	return n, nil
}

// ClearLoginFailures forgets the failures for key (after a successful login).
func (s *Store) ClearLoginFailures(ctx context.Context, key string) error {
	if _, err := s.exec(ctx, "DELETE FROM login_failures WHERE key = ?", key); err != nil {
		return fmt.Errorf("store: clear login failures: %w", err)
	}
	return nil
}

// PruneLoginFailures deletes failures older than before, for every key, and returns how many.
func (s *Store) PruneLoginFailures(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.exec(ctx, "DELETE FROM login_failures WHERE at < ?", before)
	if err != nil {
		return 0, fmt.Errorf("store: prune login failures: %w", err)
	}
	return res.RowsAffected()
}
