-- Portfolio vulnerability management: the SBOMs of each device version (several per version:
-- firmware, mobile app, cloud service), their components indexed by package for "who is hit by
-- this advisory?", the findings of each version (kept up to date when SBOMs or advisories
-- change), and VEX decisions per (version, advisory, component). Written by store/sboms.go,
-- store/findings.go and store/vex.go.

-- +goose Up
-- The file itself is in blobs (content-addressed, shared with evidence).
CREATE TABLE sboms (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    device_version_id INTEGER NOT NULL REFERENCES device_versions (id),
    label             TEXT    NOT NULL CHECK (label <> ''),
    format            TEXT    NOT NULL,
    spec_version      TEXT    NOT NULL DEFAULT '',
    encoding          TEXT    NOT NULL DEFAULT '',
    subject_name      TEXT    NOT NULL DEFAULT '',
    subject_version   TEXT    NOT NULL DEFAULT '',
    filename          TEXT    NOT NULL CHECK (filename <> ''),
    size              INTEGER NOT NULL CHECK (size > 0),
    sha256            TEXT    NOT NULL REFERENCES blobs (sha256),
    components        INTEGER NOT NULL CHECK (components >= 0),
    quality           INTEGER CHECK (quality IS NULL OR (quality >= 0 AND quality <= 100)),
    uploaded_by       TEXT    NOT NULL,
    uploaded_at       TEXT    NOT NULL,
    UNIQUE (device_version_id, label)
) STRICT;

-- One row per SBOM component. component_key is the package URL without qualifiers (or
-- name@version); ecosystem, package and pkg_version are what the matcher looks the component up
-- by (vuln.PackageOf), empty when the purl maps onto no OSV ecosystem.
CREATE TABLE sbom_components (
    sbom_id       INTEGER NOT NULL REFERENCES sboms (id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL,
    ref           TEXT    NOT NULL DEFAULT '',
    name          TEXT    NOT NULL,
    version       TEXT    NOT NULL DEFAULT '',
    purl          TEXT    NOT NULL DEFAULT '',
    component_key TEXT    NOT NULL,
    ecosystem     TEXT    NOT NULL DEFAULT '',
    package       TEXT    NOT NULL DEFAULT '',
    pkg_version   TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (sbom_id, seq)
) STRICT, WITHOUT ROWID;
CREATE INDEX sbom_components_package ON sbom_components (ecosystem, package, sbom_id);

-- One row per (device version, component, vulnerability) ever found; resolved_at is set when it
-- no longer matches (component removed, advisory withdrawn or changed) and cleared if it matches
-- again. aliases and fixed_in are JSON arrays, sources the labels of the SBOMs listing the
-- component (JSON array).
CREATE TABLE findings (
    device_version_id INTEGER NOT NULL REFERENCES device_versions (id),
    component_key     TEXT    NOT NULL CHECK (component_key <> ''),
    advisory_id       TEXT    NOT NULL CHECK (advisory_id <> ''),
    component_name    TEXT    NOT NULL DEFAULT '',
    component_version TEXT    NOT NULL DEFAULT '',
    purl              TEXT    NOT NULL DEFAULT '',
    ecosystem         TEXT    NOT NULL DEFAULT '',
    aliases           TEXT    NOT NULL DEFAULT '[]',
    summary           TEXT    NOT NULL DEFAULT '',
    informational     TEXT    NOT NULL DEFAULT '',
    severity_rating   TEXT    NOT NULL DEFAULT 'unknown',
    severity_score    REAL,
    severity_vector   TEXT    NOT NULL DEFAULT '',
    kev               INTEGER NOT NULL DEFAULT 0 CHECK (kev IN (0, 1)),
    epss              REAL,
    epss_percentile   REAL,
    fixed_in          TEXT    NOT NULL DEFAULT '[]',
    sources           TEXT    NOT NULL DEFAULT '[]',
    first_seen_at     TEXT    NOT NULL,
    last_seen_at      TEXT    NOT NULL,
    resolved_at       TEXT,
    PRIMARY KEY (device_version_id, component_key, advisory_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX findings_advisory ON findings (advisory_id);
CREATE INDEX findings_first_seen ON findings (first_seen_at);

-- The current VEX decision per (device version, advisory, component); earlier decisions are in
-- the audit log. carried_from names the version a decision was carried forward from.
CREATE TABLE vex_statements (
    device_version_id INTEGER NOT NULL REFERENCES device_versions (id),
    advisory_id       TEXT    NOT NULL CHECK (advisory_id <> ''),
    component_key     TEXT    NOT NULL CHECK (component_key <> ''),
    component_name    TEXT    NOT NULL DEFAULT '',
    component_version TEXT    NOT NULL DEFAULT '',
    purl              TEXT    NOT NULL DEFAULT '',
    status            TEXT    NOT NULL CHECK (status IN ('not_affected', 'affected', 'fixed', 'under_investigation')),
    justification     TEXT    NOT NULL DEFAULT '' CHECK (justification IN ('', 'component_not_present',
        'vulnerable_code_not_present', 'vulnerable_code_cannot_be_controlled_by_adversary',
        'vulnerable_code_not_in_execute_path', 'inline_mitigations_already_exist')),
    impact_statement  TEXT    NOT NULL DEFAULT '',
    action_statement  TEXT    NOT NULL DEFAULT '',
    author            TEXT    NOT NULL CHECK (author <> ''),
    at                TEXT    NOT NULL,
    note              TEXT    NOT NULL DEFAULT '',
    carried_from      INTEGER REFERENCES device_versions (id),
    PRIMARY KEY (device_version_id, advisory_id, component_key)
) STRICT, WITHOUT ROWID;
CREATE INDEX vex_statements_advisory ON vex_statements (advisory_id);

-- +goose Down
DROP TABLE vex_statements;
DROP TABLE findings;
DROP TABLE sbom_components;
DROP TABLE sboms;
