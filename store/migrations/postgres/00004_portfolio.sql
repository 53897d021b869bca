-- Portfolio vulnerability management: the SBOMs of each device version (several per version:
-- firmware, mobile app, cloud service), their components indexed by package for "who is hit by
-- this advisory?", the findings of each version (kept up to date when SBOMs or advisories
-- change), and VEX decisions per (version, advisory, component). Written by store/sboms.go,
-- store/findings.go and store/vex.go.

-- +goose Up
-- The file itself is in blobs (content-addressed, shared with evidence).
CREATE TABLE sboms (
    id                bigserial   PRIMARY KEY,
    device_version_id bigint      NOT NULL REFERENCES device_versions (id),
    label             text        NOT NULL CHECK (label <> ''),
    format            text        NOT NULL,
    spec_version      text        NOT NULL DEFAULT '',
    encoding          text        NOT NULL DEFAULT '',
    subject_name      text        NOT NULL DEFAULT '',
    subject_version   text        NOT NULL DEFAULT '',
    filename          text        NOT NULL CHECK (filename <> ''),
    size              bigint      NOT NULL CHECK (size > 0),
    sha256            text        NOT NULL REFERENCES blobs (sha256),
    components        integer     NOT NULL CHECK (components >= 0),
    quality           integer     CHECK (quality IS NULL OR (quality >= 0 AND quality <= 100)),
    uploaded_by       text        NOT NULL,
    uploaded_at       timestamptz NOT NULL,
    UNIQUE (device_version_id, label)
);

-- One row per SBOM component. component_key is the package URL without qualifiers (or
-- name@version); ecosystem, package and pkg_version are what the matcher looks the component up
-- by (vuln.PackageOf), empty when the purl maps onto no OSV ecosystem.
CREATE TABLE sbom_components (
    sbom_id       bigint  NOT NULL REFERENCES sboms (id) ON DELETE CASCADE,
    seq           integer NOT NULL,
    ref           text    NOT NULL DEFAULT '',
    name          text    NOT NULL,
    version       text    NOT NULL DEFAULT '',
    purl          text    NOT NULL DEFAULT '',
    component_key text    NOT NULL,
    ecosystem     text    NOT NULL DEFAULT '',
    package       text    NOT NULL DEFAULT '',
    pkg_version   text    NOT NULL DEFAULT '',
    PRIMARY KEY (sbom_id, seq)
);
CREATE INDEX sbom_components_package ON sbom_components (ecosystem, package, sbom_id);

-- One row per (device version, component, vulnerability) ever found; resolved_at is set when it
-- no longer matches (component removed, advisory withdrawn or changed) and cleared if it matches
-- again. aliases and fixed_in are JSON arrays, sources the labels of the SBOMs listing the
-- component (JSON array).
CREATE TABLE findings (
    device_version_id bigint           NOT NULL REFERENCES device_versions (id),
    component_key     text             NOT NULL CHECK (component_key <> ''),
    advisory_id       text             NOT NULL CHECK (advisory_id <> ''),
    component_name    text             NOT NULL DEFAULT '',
    component_version text             NOT NULL DEFAULT '',
    purl              text             NOT NULL DEFAULT '',
    ecosystem         text             NOT NULL DEFAULT '',
    aliases           text             NOT NULL DEFAULT '[]',
    summary           text             NOT NULL DEFAULT '',
    informational     text             NOT NULL DEFAULT '',
    severity_rating   text             NOT NULL DEFAULT 'unknown',
    severity_score    double precision,
    severity_vector   text             NOT NULL DEFAULT '',
    kev               boolean          NOT NULL DEFAULT false,
    epss              double precision,
    epss_percentile   double precision,
    fixed_in          text             NOT NULL DEFAULT '[]',
    sources           text             NOT NULL DEFAULT '[]',
    first_seen_at     timestamptz      NOT NULL,
    last_seen_at      timestamptz      NOT NULL,
    resolved_at       timestamptz,
    PRIMARY KEY (device_version_id, component_key, advisory_id)
);
CREATE INDEX findings_advisory ON findings (advisory_id);
CREATE INDEX findings_first_seen ON findings (first_seen_at);

-- The current VEX decision per (device version, advisory, component); earlier decisions are in
-- the audit log. carried_from names the version a decision was carried forward from.
CREATE TABLE vex_statements (
    device_version_id bigint      NOT NULL REFERENCES device_versions (id),
    advisory_id       text        NOT NULL CHECK (advisory_id <> ''),
    component_key     text        NOT NULL CHECK (component_key <> ''),
    component_name    text        NOT NULL DEFAULT '',
    component_version text        NOT NULL DEFAULT '',
    purl              text        NOT NULL DEFAULT '',
    status            text        NOT NULL CHECK (status IN ('not_affected', 'affected', 'fixed', 'under_investigation')),
    justification     text        NOT NULL DEFAULT '' CHECK (justification IN ('', 'component_not_present',
        'vulnerable_code_not_present', 'vulnerable_code_cannot_be_controlled_by_adversary',
        'vulnerable_code_not_in_execute_path', 'inline_mitigations_already_exist')),
    impact_statement  text        NOT NULL DEFAULT '',
    action_statement  text        NOT NULL DEFAULT '',
    author            text        NOT NULL CHECK (author <> ''),
    at                timestamptz NOT NULL,
    note              text        NOT NULL DEFAULT '',
    carried_from      bigint      REFERENCES device_versions (id),
    PRIMARY KEY (device_version_id, advisory_id, component_key)
);
CREATE INDEX vex_statements_advisory ON vex_statements (advisory_id);

-- +goose Down
DROP TABLE vex_statements;
DROP TABLE findings;
DROP TABLE sbom_components;
DROP TABLE sboms;
