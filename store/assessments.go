package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Assessment is the state of one requirement for one device version. A requirement without a
// stored assessment is not started.
type Assessment struct {
	DeviceVersionID int64     `json:"device_version_id"`
	RequirementID   string    `json:"requirement_id"`
	Status          string    `json:"status"`
	Owner           string    `json:"owner"`
	Justification   string    `json:"justification"`
	DueDate         string    `json:"due_date,omitempty"` // YYYY-MM-DD, or "" for none
	UpdatedAt       time.Time `json:"updated_at"`
	UpdatedBy       string    `json:"updated_by"`
}

func (a Assessment) key() string { return idStr(a.DeviceVersionID) + "/" + a.RequirementID }

const assessmentCols = "device_version_id, requirement_id, status, owner, justification, due_date, updated_at, updated_by"

func scanAssessment(sc scanner) (Assessment, error) {
	var (
		a   Assessment
		due dateCol
		at  timeCol
	)
	err := sc.Scan(&a.DeviceVersionID, &a.RequirementID, &a.Status, &a.Owner, &a.Justification, &due, &at, &a.UpdatedBy)
	a.DueDate, a.UpdatedAt = string(due), at.Time
	return a, err
}

func cleanAssessment(a *Assessment) error {
	var err error
	if err = validID("device version", a.DeviceVersionID); err != nil {
		return err
	}
	if a.RequirementID, err = ident("requirement", a.RequirementID); err != nil {
		return err
	}
	if err = validStatus(a.Status); err != nil {
		return err
	}
	if a.Owner, err = text("owner", a.Owner, maxShort, false, false); err != nil {
		return err
	}
	if a.Justification, err = text("justification", a.Justification, maxLong, false, true); err != nil {
		return err
	}
	if a.DueDate, err = validDate("due date", a.DueDate); err != nil {
		return err
	}
	return nil
}

// Assessments returns the stored assessments of a device version by requirement ID.
func (s *Store) Assessments(ctx context.Context, deviceVersionID int64) (map[string]Assessment, error) {
	var n int
	if err := s.queryRow(ctx, "SELECT count(*) FROM device_versions WHERE id = ?", deviceVersionID).Scan(&n); err != nil {
		return nil, fmt.Errorf("store: assessments: %w", err)
	}
	if n == 0 {
		return nil, fmt.Errorf("store: assessments: device version %d: %w", deviceVersionID, ErrNotFound)
	}
	rows, err := s.query(ctx, "SELECT "+assessmentCols+" FROM assessments WHERE device_version_id = ?", deviceVersionID)
	if err != nil {
		return nil, fmt.Errorf("store: assessments: %w", err)
	}
	defer rows.Close()
	out := map[string]Assessment{}
	for rows.Next() {
		a, err := scanAssessment(rows)
		if err != nil {
			return nil, fmt.Errorf("store: assessments: %w", err)
		}
		out[a.RequirementID] = a
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: assessments: %w", err)
	}
	return out, nil
}

// SetAssessment creates or replaces the assessment of a.RequirementID for a.DeviceVersionID,
// stamping UpdatedAt and UpdatedBy (= actor). It returns the stored assessment; when nothing
// changed it writes nothing and returns the stored one unchanged.
func (s *Store) SetAssessment(ctx context.Context, actor string, a Assessment) (Assessment, error) {
	var out Assessment
	err := s.Transact(ctx, func(tx *Tx) error {
		var err error
		out, _, err = setAssessment(ctx, tx, actor, a, map[int64]bool{})
		return err
	})
	if err != nil {
		return Assessment{}, fmt.Errorf("store: set assessment: %w", err)
	}
	return out, nil
}

// SetAssessments applies several assessments in one transaction (all or none) and returns how
// many changed.
func (s *Store) SetAssessments(ctx context.Context, actor string, as []Assessment) (int, error) {
	changed := 0
	err := s.Transact(ctx, func(tx *Tx) error {
		changed = 0
		seen := map[int64]bool{}
		for _, a := range as {
			_, ch, err := setAssessment(ctx, tx, actor, a, seen)
			if err != nil {
				return fmt.Errorf("%s: %w", a.key(), err)
			}
			if ch {
				changed++
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: set assessments: %w", err)
	}
	return changed, nil
}

func setAssessment(ctx context.Context, tx *Tx, actor string, a Assessment, versionOK map[int64]bool) (Assessment, bool, error) {
	if err := cleanAssessment(&a); err != nil {
		return Assessment{}, false, err
	}
	actor, err := validActor(actor)
	if err != nil {
		return Assessment{}, false, err
	}
	if !versionOK[a.DeviceVersionID] {
		var one int
		err := tx.QueryRowContext(ctx, "SELECT 1 FROM device_versions WHERE id = ?", a.DeviceVersionID).Scan(&one)
		if err != nil {
			return Assessment{}, false, notFound(fmt.Sprintf("device version %d", a.DeviceVersionID), err)
		}
		versionOK[a.DeviceVersionID] = true
	}
	var before *Assessment
	b, err := scanAssessment(tx.QueryRowContext(ctx, "SELECT "+assessmentCols+
		" FROM assessments WHERE device_version_id = ? AND requirement_id = ?", a.DeviceVersionID, a.RequirementID))
	switch {
	case err == nil:
		before = &b
		if b.Status == a.Status && b.Owner == a.Owner && b.Justification == a.Justification && b.DueDate == a.DueDate {
			return b, false, nil
		}
	case !errors.Is(err, sql.ErrNoRows):
		return Assessment{}, false, err
	}
	a.UpdatedAt = tx.s.nowUTC()
	a.UpdatedBy = actor
	var due any
	if a.DueDate != "" {
		due = a.DueDate
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO assessments (`+assessmentCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (device_version_id, requirement_id) DO UPDATE SET
			status = excluded.status, owner = excluded.owner, justification = excluded.justification,
			due_date = excluded.due_date, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
		a.DeviceVersionID, a.RequirementID, a.Status, a.Owner, a.Justification, due, a.UpdatedAt, a.UpdatedBy)
	if err != nil {
		return Assessment{}, false, mapErr(err)
	}
	if err := tx.Audit(ctx, actor, "assessment.set", "assessment", a.key(), before, a); err != nil {
		return Assessment{}, false, err
	}
	return a, true, nil
}

// AssessmentCountsByVersion returns, for every device version with stored assessments, the
// number of assessments in each status. Requirements never assessed are not counted.
func (s *Store) AssessmentCountsByVersion(ctx context.Context) (map[int64]map[string]int, error) {
	rows, err := s.query(ctx, `SELECT device_version_id, status, count(*) FROM assessments
		GROUP BY device_version_id, status`)
	if err != nil {
		return nil, fmt.Errorf("store: assessment counts: %w", err)
	}
	defer rows.Close()
	out := map[int64]map[string]int{}
	for rows.Next() {
		var (
			id int64
			st string
			n  int
		)
		if err := rows.Scan(&id, &st, &n); err != nil {
			return nil, fmt.Errorf("store: assessment counts: %w", err)
		}
		m := out[id]
		if m == nil {
			m = make(map[string]int, len(Statuses))
			out[id] = m
		}
		m[st] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: assessment counts: %w", err)
	}
	return out, nil
}
