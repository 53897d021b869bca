-- The record a finding's severity was taken from when it is not the finding's own advisory: a
-- stored GHSA- or CVE- record that the advisory (a Go database record, say, which carries no
-- CVSS) lists as an alias. Empty when the severity is the advisory's own.

-- +goose Up
ALTER TABLE findings ADD COLUMN severity_source TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE findings DROP COLUMN severity_source;
