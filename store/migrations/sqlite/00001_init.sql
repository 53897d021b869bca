-- Vigil schema, SQLite dialect.
-- Timestamps are TEXT in the fixed-width UTC form 2006-01-02T15:04:05.000000Z (microseconds), so
-- that text order is time order; dates are TEXT YYYY-MM-DD; booleans are INTEGER 0/1.

-- +goose Up
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT    NOT NULL UNIQUE CHECK (email <> '' AND email = lower(email)),
    name          TEXT    NOT NULL DEFAULT '',
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'editor', 'approver', 'viewer')),
    password_hash TEXT    NOT NULL DEFAULT '',
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    TEXT    NOT NULL
) STRICT;

CREATE TABLE sessions (
    token_hash   TEXT    PRIMARY KEY CHECK (length(token_hash) = 64),
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   TEXT    NOT NULL,
    expires_at   TEXT    NOT NULL,
    last_seen_at TEXT    NOT NULL
) STRICT;
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL CHECK (name <> ''),
    token_hash   TEXT    NOT NULL UNIQUE CHECK (length(token_hash) = 64),
    created_at   TEXT    NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
) STRICT;
CREATE INDEX api_tokens_user_id ON api_tokens (user_id);

CREATE TABLE login_failures (
    key TEXT NOT NULL,
    at  TEXT NOT NULL
) STRICT;
CREATE INDEX login_failures_key_at ON login_failures (key, at);
CREATE INDEX login_failures_at ON login_failures (at);

CREATE TABLE products (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL CHECK (name <> ''),
    manufacturer TEXT NOT NULL DEFAULT '',
    description  TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX products_name_lower ON products (lower(name));

CREATE TABLE device_versions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id   INTEGER NOT NULL REFERENCES products (id),
    version      TEXT    NOT NULL CHECK (version <> ''),
    profile_yaml TEXT    NOT NULL,
    created_at   TEXT    NOT NULL,
    UNIQUE (product_id, version)
) STRICT;

CREATE TABLE assessments (
    device_version_id INTEGER NOT NULL REFERENCES device_versions (id),
    requirement_id    TEXT    NOT NULL CHECK (requirement_id <> ''),
    status            TEXT    NOT NULL
        CHECK (status IN ('not-started', 'in-progress', 'met', 'not-met', 'not-applicable')),
    owner             TEXT    NOT NULL DEFAULT '',
    justification     TEXT    NOT NULL DEFAULT '',
    due_date          TEXT
        CHECK (due_date IS NULL OR due_date GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
    updated_at        TEXT    NOT NULL,
    updated_by        TEXT    NOT NULL,
    PRIMARY KEY (device_version_id, requirement_id)
) STRICT;
-- Covering index for the dashboard's per-version status counts.
CREATE INDEX assessments_version_status ON assessments (device_version_id, status);

CREATE TABLE blobs (
    sha256 TEXT    PRIMARY KEY CHECK (length(sha256) = 64),
    size   INTEGER NOT NULL CHECK (size > 0),
    data   BLOB    NOT NULL,
    CHECK (size = length(data))
) STRICT;

CREATE TABLE evidence (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    device_version_id INTEGER NOT NULL REFERENCES device_versions (id),
    title             TEXT    NOT NULL CHECK (title <> ''),
    filename          TEXT    NOT NULL CHECK (filename <> ''),
    content_type      TEXT    NOT NULL,
    size              INTEGER NOT NULL CHECK (size > 0),
    sha256            TEXT    NOT NULL REFERENCES blobs (sha256),
    uploaded_by       TEXT    NOT NULL,
    uploaded_at       TEXT    NOT NULL
) STRICT;
CREATE INDEX evidence_device_version_id ON evidence (device_version_id);
CREATE INDEX evidence_sha256 ON evidence (sha256);

CREATE TABLE evidence_links (
    evidence_id INTEGER NOT NULL REFERENCES evidence (id) ON DELETE CASCADE,
    target_kind TEXT    NOT NULL CHECK (target_kind IN ('requirement', 'control')),
    target_id   TEXT    NOT NULL CHECK (target_id <> ''),
    PRIMARY KEY (evidence_id, target_kind, target_id)
) STRICT;
CREATE INDEX evidence_links_target ON evidence_links (target_kind, target_id);

-- seq is assigned by the application (last seq + 1 under the write lock), never by a sequence,
-- so that the chain has no gaps except where rows were deleted.
CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY CHECK (seq > 0),
    at          TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    entity      TEXT    NOT NULL,
    entity_id   TEXT    NOT NULL,
    before_json TEXT,
    after_json  TEXT,
    prev_hash   TEXT    NOT NULL CHECK (length(prev_hash) = 64),
    hash        TEXT    NOT NULL UNIQUE CHECK (length(hash) = 64)
) STRICT;
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id, seq);

-- +goose StatementBegin
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER audit_log_no_delete;
DROP TRIGGER audit_log_no_update;
DROP TABLE audit_log;
DROP TABLE evidence_links;
DROP TABLE evidence;
DROP TABLE blobs;
DROP TABLE assessments;
DROP TABLE device_versions;
DROP TABLE products;
DROP TABLE login_failures;
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TABLE users;
