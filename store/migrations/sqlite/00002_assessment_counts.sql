-- Per version, market and status counts of assessments, for the portfolio dashboard: reading
-- them is a scan of at most versions x 4 markets x 5 statuses rows instead of a GROUP BY over
-- every assessment. Triggers on assessments keep the table exact; a row whose count falls to 0 is
-- deleted at once, so the table always equals
--
--   SELECT device_version_id, <market>, status, count(*) FROM assessments GROUP BY 1, 2, 3
--
-- The market is the upper-cased text of requirement_id before its first '.' (the whole ID when it
-- has none): 'us.fdca-524b.sbom' counts in 'US'. Requirement IDs are ASCII, so upper() suffices.

-- +goose Up
CREATE TABLE assessment_counts (
    device_version_id INTEGER NOT NULL REFERENCES device_versions (id),
    market            TEXT    NOT NULL,
    status            TEXT    NOT NULL,
    n                 INTEGER NOT NULL CHECK (n >= 0),
    PRIMARY KEY (device_version_id, market, status)
) STRICT, WITHOUT ROWID;

INSERT INTO assessment_counts (device_version_id, market, status, n)
SELECT device_version_id,
       upper(CASE WHEN instr(requirement_id, '.') > 0
                  THEN substr(requirement_id, 1, instr(requirement_id, '.') - 1)
                  ELSE requirement_id END),
       status, count(*)
FROM assessments
GROUP BY 1, 2, 3;

-- AFTER triggers only: an INSERT ... ON CONFLICT DO UPDATE that hits an existing row fires the
-- UPDATE triggers, not the INSERT ones.

-- +goose StatementBegin
CREATE TRIGGER assessment_counts_insert AFTER INSERT ON assessments
BEGIN
    INSERT INTO assessment_counts (device_version_id, market, status, n)
    VALUES (NEW.device_version_id,
            upper(CASE WHEN instr(NEW.requirement_id, '.') > 0
                       THEN substr(NEW.requirement_id, 1, instr(NEW.requirement_id, '.') - 1)
                       ELSE NEW.requirement_id END),
            NEW.status, 1)
    ON CONFLICT (device_version_id, market, status) DO UPDATE SET n = n + 1;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER assessment_counts_delete AFTER DELETE ON assessments
BEGIN
    UPDATE assessment_counts SET n = n - 1
    WHERE device_version_id = OLD.device_version_id
      AND market = upper(CASE WHEN instr(OLD.requirement_id, '.') > 0
                              THEN substr(OLD.requirement_id, 1, instr(OLD.requirement_id, '.') - 1)
                              ELSE OLD.requirement_id END)
      AND status = OLD.status;
    DELETE FROM assessment_counts
    WHERE device_version_id = OLD.device_version_id
      AND market = upper(CASE WHEN instr(OLD.requirement_id, '.') > 0
                              THEN substr(OLD.requirement_id, 1, instr(OLD.requirement_id, '.') - 1)
                              ELSE OLD.requirement_id END)
      AND status = OLD.status AND n = 0;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER assessment_counts_update AFTER UPDATE ON assessments
WHEN OLD.status IS NOT NEW.status
  OR OLD.device_version_id IS NOT NEW.device_version_id
  OR OLD.requirement_id IS NOT NEW.requirement_id
BEGIN
    UPDATE assessment_counts SET n = n - 1
    WHERE device_version_id = OLD.device_version_id
      AND market = upper(CASE WHEN instr(OLD.requirement_id, '.') > 0
                              THEN substr(OLD.requirement_id, 1, instr(OLD.requirement_id, '.') - 1)
                              ELSE OLD.requirement_id END)
      AND status = OLD.status;
    DELETE FROM assessment_counts
    WHERE device_version_id = OLD.device_version_id
      AND market = upper(CASE WHEN instr(OLD.requirement_id, '.') > 0
                              THEN substr(OLD.requirement_id, 1, instr(OLD.requirement_id, '.') - 1)
                              ELSE OLD.requirement_id END)
      AND status = OLD.status AND n = 0;
    INSERT INTO assessment_counts (device_version_id, market, status, n)
    VALUES (NEW.device_version_id,
            upper(CASE WHEN instr(NEW.requirement_id, '.') > 0
                       THEN substr(NEW.requirement_id, 1, instr(NEW.requirement_id, '.') - 1)
                       ELSE NEW.requirement_id END),
            NEW.status, 1)
    ON CONFLICT (device_version_id, market, status) DO UPDATE SET n = n + 1;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER assessment_counts_update;
DROP TRIGGER assessment_counts_delete;
DROP TRIGGER assessment_counts_insert;
DROP TABLE assessment_counts;
