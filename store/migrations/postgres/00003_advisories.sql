-- Vulnerability intelligence: OSV advisories with their aliases and affected packages, the CISA
-- Known Exploited Vulnerabilities catalog, FIRST EPSS scores, and one row per imported feed.
-- Written by `vigil vulndb import/sync` (store/advisories.go), read by `vigil scan`.

-- +goose Up
CREATE TABLE advisories (
    id              text             PRIMARY KEY CHECK (id <> ''),
    modified        timestamptz      NOT NULL,
    published       timestamptz,
    withdrawn       timestamptz,
    summary         text             NOT NULL DEFAULT '',
    severity_vector text             NOT NULL DEFAULT '',
    severity_score  double precision CHECK (severity_score IS NULL OR (severity_score >= 0 AND severity_score <= 10)),
    severity_rating text             NOT NULL DEFAULT 'unknown',
    informational   text             NOT NULL DEFAULT '',
    content_hash    text             NOT NULL CHECK (length(content_hash) = 64),
    source          text             NOT NULL DEFAULT '',
    raw             bytea            NOT NULL, -- the OSV record as JSON, deflate-compressed (RFC 1951)
    imported_at     timestamptz      NOT NULL
);
ALTER TABLE advisories ALTER COLUMN raw SET STORAGE EXTERNAL; -- already compressed

CREATE TABLE advisory_aliases (
    advisory_id text NOT NULL REFERENCES advisories (id) ON DELETE CASCADE,
    alias       text NOT NULL,
    PRIMARY KEY (advisory_id, alias)
);
CREATE INDEX advisory_aliases_alias ON advisory_aliases (alias);

-- One row per affected package of an advisory; name is normalised per ecosystem (PyPI PEP 503,
-- NuGet/npm/Packagist lower case). ranges is JSON {"ranges":[{"type","events"}],"versions":[...]}.
CREATE TABLE affected (
    advisory_id text    NOT NULL REFERENCES advisories (id) ON DELETE CASCADE,
    seq         integer NOT NULL,
    ecosystem   text    NOT NULL,
    name        text    NOT NULL,
    ranges      text    NOT NULL,
    PRIMARY KEY (advisory_id, seq)
);
CREATE INDEX affected_package ON affected (ecosystem, name);

CREATE TABLE kev (
    cve                text PRIMARY KEY,
    vendor_project     text NOT NULL DEFAULT '',
    product            text NOT NULL DEFAULT '',
    vulnerability_name text NOT NULL DEFAULT '',
    date_added         date NOT NULL,
    due_date           date,
    ransomware         text NOT NULL DEFAULT '',
    required_action    text NOT NULL DEFAULT ''
);

CREATE TABLE epss (
    cve        text             PRIMARY KEY,
    score      double precision NOT NULL CHECK (score >= 0 AND score <= 1),
    percentile double precision NOT NULL CHECK (percentile >= 0 AND percentile <= 1),
    score_date date
);

-- The last import of each feed (file path or URL as given).
CREATE TABLE vuln_feeds (
    source      text        PRIMARY KEY,
    kind        text        NOT NULL CHECK (kind IN ('osv', 'kev', 'epss')),
    version     text        NOT NULL DEFAULT '',
    records     integer     NOT NULL CHECK (records >= 0),
    imported_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE vuln_feeds;
DROP TABLE epss;
DROP TABLE kev;
DROP TABLE affected;
DROP TABLE advisory_aliases;
DROP TABLE advisories;
