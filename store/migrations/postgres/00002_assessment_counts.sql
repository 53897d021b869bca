-- Per version, market and status counts of assessments, for the portfolio dashboard: reading
-- them is a scan of at most versions x 4 markets x 5 statuses rows instead of a GROUP BY over
-- every assessment. Triggers on assessments keep the table exact; a row whose count falls to 0 is
-- deleted at once, so the table always equals
--
--   SELECT device_version_id, <market>, status, count(*) FROM assessments GROUP BY 1, 2, 3
--
-- The market is the upper-cased text of requirement_id before its first '.' (the whole ID when it
-- has none): 'us.fdca-524b.sbom' counts in 'US'. COLLATE "C" keeps upper() independent of the
-- database locale (requirement IDs are ASCII).

-- +goose Up
CREATE TABLE assessment_counts (
    device_version_id bigint NOT NULL REFERENCES device_versions (id),
    market            text   NOT NULL,
    status            text   NOT NULL,
    n                 integer NOT NULL CHECK (n >= 0),
    PRIMARY KEY (device_version_id, market, status)
);

INSERT INTO assessment_counts (device_version_id, market, status, n)
SELECT device_version_id, upper(split_part(requirement_id, '.', 1) COLLATE "C"), status, count(*)
FROM assessments
GROUP BY 1, 2, 3;

-- One function for every event. AFTER triggers only: an INSERT ... ON CONFLICT DO UPDATE that
-- hits an existing row fires the UPDATE triggers, not the AFTER INSERT ones.
-- +goose StatementBegin
CREATE FUNCTION assessment_counts_maintain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    left_n integer;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM assessment_counts;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE assessment_counts SET n = n - 1
        WHERE device_version_id = OLD.device_version_id
          AND market = upper(split_part(OLD.requirement_id, '.', 1) COLLATE "C")
          AND status = OLD.status
        RETURNING n INTO left_n;
        IF left_n = 0 THEN
            DELETE FROM assessment_counts
            WHERE device_version_id = OLD.device_version_id
              AND market = upper(split_part(OLD.requirement_id, '.', 1) COLLATE "C")
              AND status = OLD.status;
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO assessment_counts AS c (device_version_id, market, status, n)
        VALUES (NEW.device_version_id, upper(split_part(NEW.requirement_id, '.', 1) COLLATE "C"), NEW.status, 1)
        ON CONFLICT (device_version_id, market, status) DO UPDATE SET n = c.n + 1;
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER assessment_counts_insert_delete AFTER INSERT OR DELETE ON assessments
    FOR EACH ROW EXECUTE FUNCTION assessment_counts_maintain();
CREATE TRIGGER assessment_counts_update AFTER UPDATE ON assessments
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status
          OR OLD.device_version_id IS DISTINCT FROM NEW.device_version_id
          OR OLD.requirement_id IS DISTINCT FROM NEW.requirement_id)
    EXECUTE FUNCTION assessment_counts_maintain();
CREATE TRIGGER assessment_counts_truncate AFTER TRUNCATE ON assessments
    FOR EACH STATEMENT EXECUTE FUNCTION assessment_counts_maintain();

-- +goose Down
DROP TRIGGER assessment_counts_truncate ON assessments;
DROP TRIGGER assessment_counts_update ON assessments;
DROP TRIGGER assessment_counts_insert_delete ON assessments;
DROP FUNCTION assessment_counts_maintain();
DROP TABLE assessment_counts;
