-- Vulnerability intelligence: OSV advisories with their aliases and affected packages, the CISA
-- Known Exploited Vulnerabilities catalog, FIRST EPSS scores, and one row per imported feed.
-- Written by `vigil vulndb import/sync` (store/advisories.go), read by `vigil scan`.

-- +goose Up
CREATE TABLE advisories (
    id              TEXT NOT NULL PRIMARY KEY CHECK (id <> ''),
    modified        TEXT NOT NULL,
    published       TEXT,
    withdrawn       TEXT,
    summary         TEXT NOT NULL DEFAULT '',
    severity_vector TEXT NOT NULL DEFAULT '',
    severity_score  REAL CHECK (severity_score IS NULL OR (severity_score >= 0 AND severity_score <= 10)),
    severity_rating TEXT NOT NULL DEFAULT 'unknown',
    informational   TEXT NOT NULL DEFAULT '',
    content_hash    TEXT NOT NULL CHECK (length(content_hash) = 64),
    source          TEXT NOT NULL DEFAULT '',
    raw             BLOB NOT NULL,   -- the OSV record as JSON, deflate-compressed (RFC 1951)
    imported_at     TEXT NOT NULL
) STRICT;

CREATE TABLE advisory_aliases (
    advisory_id TEXT NOT NULL REFERENCES advisories (id) ON DELETE CASCADE,
    alias       TEXT NOT NULL,
    PRIMARY KEY (advisory_id, alias)
) STRICT, WITHOUT ROWID;
CREATE INDEX advisory_aliases_alias ON advisory_aliases (alias);

-- One row per affected package of an advisory; name is normalised per ecosystem (PyPI PEP 503,
-- NuGet/npm/Packagist lower case). ranges is JSON {"ranges":[{"type","events"}],"versions":[...]}.
CREATE TABLE affected (
    advisory_id TEXT    NOT NULL REFERENCES advisories (id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    ecosystem   TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    ranges      TEXT    NOT NULL,
    PRIMARY KEY (advisory_id, seq)
) STRICT, WITHOUT ROWID;
CREATE INDEX affected_package ON affected (ecosystem, name);

CREATE TABLE kev (
    cve                TEXT NOT NULL PRIMARY KEY,
    vendor_project     TEXT NOT NULL DEFAULT '',
    product            TEXT NOT NULL DEFAULT '',
    vulnerability_name TEXT NOT NULL DEFAULT '',
    date_added         TEXT NOT NULL CHECK (date_added GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
    due_date           TEXT CHECK (due_date IS NULL OR due_date GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
    ransomware         TEXT NOT NULL DEFAULT '',
    required_action    TEXT NOT NULL DEFAULT ''
) STRICT, WITHOUT ROWID;

CREATE TABLE epss (
    cve        TEXT NOT NULL PRIMARY KEY,
    score      REAL NOT NULL CHECK (score >= 0 AND score <= 1),
    percentile REAL NOT NULL CHECK (percentile >= 0 AND percentile <= 1),
    score_date TEXT CHECK (score_date IS NULL OR score_date GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]')
) STRICT, WITHOUT ROWID;

-- The last import of each feed (file path or URL as given).
CREATE TABLE vuln_feeds (
    source      TEXT    NOT NULL PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind IN ('osv', 'kev', 'epss')),
    version     TEXT    NOT NULL DEFAULT '',
    records     INTEGER NOT NULL CHECK (records >= 0),
    imported_at TEXT    NOT NULL
) STRICT, WITHOUT ROWID;

-- +goose Down
DROP TABLE vuln_feeds;
DROP TABLE epss;
DROP TABLE kev;
DROP TABLE affected;
DROP TABLE advisory_aliases;
DROP TABLE advisories;
