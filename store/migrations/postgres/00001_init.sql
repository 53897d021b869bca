-- Vigil schema, PostgreSQL dialect. Timestamps are timestamptz (microsecond precision), written
-- in UTC by the application.

-- +goose Up
CREATE TABLE users (
    id            bigserial   PRIMARY KEY,
    email         text        NOT NULL UNIQUE CHECK (email <> '' AND email = lower(email)),
    name          text        NOT NULL DEFAULT '',
    role          text        NOT NULL CHECK (role IN ('admin', 'editor', 'approver', 'viewer')),
    password_hash text        NOT NULL DEFAULT '',
    disabled      boolean     NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL
);

CREATE TABLE sessions (
    token_hash   text        PRIMARY KEY CHECK (length(token_hash) = 64),
    user_id      bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE api_tokens (
    id           bigserial   PRIMARY KEY,
    user_id      bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text        NOT NULL CHECK (name <> ''),
    token_hash   text        NOT NULL UNIQUE CHECK (length(token_hash) = 64),
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_tokens_user_id ON api_tokens (user_id);

CREATE TABLE login_failures (
    key text        NOT NULL,
    at  timestamptz NOT NULL
);
CREATE INDEX login_failures_key_at ON login_failures (key, at);
CREATE INDEX login_failures_at ON login_failures (at);

CREATE TABLE products (
    id           bigserial   PRIMARY KEY,
    name         text        NOT NULL CHECK (name <> ''),
    manufacturer text        NOT NULL DEFAULT '',
    description  text        NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);
CREATE UNIQUE INDEX products_name_lower ON products (lower(name));

CREATE TABLE device_versions (
    id           bigserial   PRIMARY KEY,
    product_id   bigint      NOT NULL REFERENCES products (id),
    version      text        NOT NULL CHECK (version <> ''),
    profile_yaml text        NOT NULL,
    created_at   timestamptz NOT NULL,
    UNIQUE (product_id, version)
);

CREATE TABLE assessments (
    device_version_id bigint      NOT NULL REFERENCES device_versions (id),
    requirement_id    text        NOT NULL CHECK (requirement_id <> ''),
    status            text        NOT NULL
        CHECK (status IN ('not-started', 'in-progress', 'met', 'not-met', 'not-applicable')),
    owner             text        NOT NULL DEFAULT '',
    justification     text        NOT NULL DEFAULT '',
    due_date          date,
    updated_at        timestamptz NOT NULL,
    updated_by        text        NOT NULL,
    PRIMARY KEY (device_version_id, requirement_id)
);
-- Covering index for the dashboard's per-version status counts.
CREATE INDEX assessments_version_status ON assessments (device_version_id, status);

CREATE TABLE blobs (
    sha256 text   PRIMARY KEY CHECK (length(sha256) = 64),
    size   bigint NOT NULL CHECK (size > 0),
    data   bytea  NOT NULL,
    CHECK (size = octet_length(data))
);

CREATE TABLE evidence (
    id                bigserial   PRIMARY KEY,
    device_version_id bigint      NOT NULL REFERENCES device_versions (id),
    title             text        NOT NULL CHECK (title <> ''),
    filename          text        NOT NULL CHECK (filename <> ''),
    content_type      text        NOT NULL,
    size              bigint      NOT NULL CHECK (size > 0),
    sha256            text        NOT NULL REFERENCES blobs (sha256),
    uploaded_by       text        NOT NULL,
    uploaded_at       timestamptz NOT NULL
);
CREATE INDEX evidence_device_version_id ON evidence (device_version_id);
CREATE INDEX evidence_sha256 ON evidence (sha256);

CREATE TABLE evidence_links (
    evidence_id bigint NOT NULL REFERENCES evidence (id) ON DELETE CASCADE,
    target_kind text   NOT NULL CHECK (target_kind IN ('requirement', 'control')),
    target_id   text   NOT NULL CHECK (target_id <> ''),
    PRIMARY KEY (evidence_id, target_kind, target_id)
);
CREATE INDEX evidence_links_target ON evidence_links (target_kind, target_id);

-- seq is assigned by the application (last seq + 1 under the write lock), not by a sequence:
-- a sequence leaks values on rollback, and a gap must mean a deleted row.
CREATE TABLE audit_log (
    seq         bigint      PRIMARY KEY CHECK (seq > 0),
    at          timestamptz NOT NULL,
    actor       text        NOT NULL,
    action      text        NOT NULL,
    entity      text        NOT NULL,
    entity_id   text        NOT NULL,
    before_json text,
    after_json  text,
    prev_hash   text        NOT NULL CHECK (length(prev_hash) = 64),
    hash        text        NOT NULL UNIQUE CHECK (length(hash) = 64)
);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id, seq);

-- +goose StatementBegin
CREATE FUNCTION audit_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'integrity_constraint_violation';
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- +goose Down
DROP TABLE audit_log;
DROP FUNCTION audit_log_append_only();
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
