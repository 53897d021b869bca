package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-med/vigil/vex"
)

// VEX decisions are kept per (device version, advisory, component): the current one in
// vex_statements, every change in the audit log (actions vex.set, vex.import, vex.carry and
// vex.delete, with the statement before and after).

// VEXStatement is the VEX decision for one finding (advisory, component) of a device version.
type VEXStatement struct {
	DeviceVersionID  int64  `json:"device_version_id"`
	AdvisoryID       string `json:"advisory"`
	ComponentKey     string `json:"component_key"`
	ComponentName    string `json:"component_name,omitempty"`
	ComponentVersion string `json:"component_version,omitempty"`
	PURL             string `json:"purl,omitempty"`
	// Status is not_affected, affected, fixed or under_investigation (vex.Status).
	Status string `json:"status"`
	// Justification is one of CISA's codes (vex.Justification), for not_affected.
	Justification   string `json:"justification,omitempty"`
	ImpactStatement string `json:"impact_statement,omitempty"`
	ActionStatement string `json:"action_statement,omitempty"`
	// Author made the decision at At. A decision carried forward keeps its author and time.
	Author string    `json:"author"`
	At     time.Time `json:"at"`
	// Note says where a decision came from when it was not set directly ("carried forward from
	// …", "imported from …").
	Note string `json:"note,omitempty"`
	// CarriedFrom is the device version a decision was carried forward from (0: none).
	CarriedFrom int64 `json:"carried_from,omitempty"`
}

// Statement is the decision in the vex package's terms (without product).
func (v VEXStatement) Statement() vex.Statement {
	return vex.Statement{
		Vulnerability: v.AdvisoryID,
		Component:     vex.Component{PURL: v.PURL, Name: v.ComponentName, Version: v.ComponentVersion},
		Status:        vex.Status(v.Status), Justification: vex.Justification(v.Justification),
		ImpactStatement: v.ImpactStatement, ActionStatement: v.ActionStatement, Author: v.Author, Timestamp: v.At,
	}
}

func (v VEXStatement) key() string {
	return idStr(v.DeviceVersionID) + "/" + v.AdvisoryID + "/" + v.ComponentKey
}

func (v VEXStatement) sameDecision(o VEXStatement) bool {
	return v.Status == o.Status && v.Justification == o.Justification && v.ImpactStatement == o.ImpactStatement && v.ActionStatement == o.ActionStatement
}

const vexCols = `device_version_id, advisory_id, component_key, component_name, component_version, purl, status, justification,
	impact_statement, action_statement, author, at, note, carried_from`

// vexColsX are vexCols of the alias x (a LEFT JOIN, read with vexNullable).
var vexColsX = "x." + strings.ReplaceAll(strings.Join(strings.Fields(vexCols), " "), ", ", ", x.")

func scanVEX(sc scanner) (VEXStatement, error) {
	var (
		v       VEXStatement
		at      timeCol
		carried sql.NullInt64
	)
	err := sc.Scan(&v.DeviceVersionID, &v.AdvisoryID, &v.ComponentKey, &v.ComponentName, &v.ComponentVersion, &v.PURL, &v.Status, &v.Justification,
		&v.ImpactStatement, &v.ActionStatement, &v.Author, &at, &v.Note, &carried)
	v.At, v.CarriedFrom = at.Time, carried.Int64
	return v, err
}

// vexNullable scans the vexColsX of a LEFT JOIN.
type vexNullable struct {
	version, carried                                     sql.NullInt64
	advisory, key, name, ver, purl, status, just, impact sql.NullString
	action, author, note                                 sql.NullString
	at                                                   timeCol
}

func (n *vexNullable) dest() []any {
	return []any{&n.version, &n.advisory, &n.key, &n.name, &n.ver, &n.purl, &n.status, &n.just, &n.impact, &n.action, &n.author, &n.at, &n.note, &n.carried}
}

func (n *vexNullable) statement() *VEXStatement {
	if !n.status.Valid {
		return nil
	}
	return &VEXStatement{DeviceVersionID: n.version.Int64, AdvisoryID: n.advisory.String, ComponentKey: n.key.String, ComponentName: n.name.String,
		ComponentVersion: n.ver.String, PURL: n.purl.String, Status: n.status.String, Justification: n.just.String, ImpactStatement: n.impact.String,
		ActionStatement: n.action.String, Author: n.author.String, At: n.at.Time, Note: n.note.String, CarriedFrom: n.carried.Int64}
}

// cleanVEX checks a statement: the VEX rules (vex.Statement.Check), IDs and text limits.
func cleanVEX(v *VEXStatement) error {
	var err error
	if err = validID("device version", v.DeviceVersionID); err != nil {
		return err
	}
	if v.AdvisoryID, err = text("advisory", v.AdvisoryID, maxShort, true, false); err != nil {
		return err
	}
	if strings.ContainsAny(v.AdvisoryID, " \t") {
		return invalid("advisory %q contains a space", v.AdvisoryID)
	}
	if v.ComponentKey, err = text("component", v.ComponentKey, maxLong, true, false); err != nil {
		return err
	}
	for _, f := range []*string{&v.ComponentName, &v.ComponentVersion, &v.PURL} {
		if *f, err = text("component", *f, maxLong, false, false); err != nil {
			return err
		}
	}
	if v.ImpactStatement, err = text("impact statement", v.ImpactStatement, maxLong, false, true); err != nil {
		return err
	}
	if v.ActionStatement, err = text("action statement", v.ActionStatement, maxLong, false, true); err != nil {
		return err
	}
	if v.Note, err = text("note", v.Note, maxLong, false, true); err != nil {
		return err
	}
	if v.Author, err = text("author", v.Author, maxShort, true, false); err != nil {
		return err
	}
	st := v.Statement()
	if err := st.Check(); err != nil {
		return invalid("%s", err.Error())
	}
	return nil
}

// SetVEX records a VEX decision for a finding of a device version, made by actor now (Author,
// At, Note and CarriedFrom of v are ignored). A decision equal to the stored one (same status,
// justification, impact and action) writes nothing and returns the stored one. Permissions
// (not_affected and fixed are sign-offs) are the caller's to check.
func (s *Store) SetVEX(ctx context.Context, actor string, v VEXStatement) (VEXStatement, error) {
	v.Author, v.At, v.Note, v.CarriedFrom = actor, s.nowUTC(), "", 0
	if err := cleanVEX(&v); err != nil {
		return VEXStatement{}, fmt.Errorf("store: set vex: %w", err)
	}
	var out VEXStatement
	err := s.Transact(ctx, func(tx *Tx) error {
		var err error
		out, _, err = putVEX(ctx, tx, actor, "vex.set", v)
		return err
	})
	if err != nil {
		return VEXStatement{}, fmt.Errorf("store: set vex: %w", err)
	}
	return out, nil
}

// VEXImport counts what [Store.ImportVEX] did.
type VEXImport struct {
	Added     int `json:"added"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
}

// ImportVEX records decisions read from a VEX document for a device version, in one
// transaction (all or none), each audited as vex.import. Author and At are kept as given
// (defaulting to actor and now), Note says where they came from. Decisions equal to the stored
// ones are left as they are.
func (s *Store) ImportVEX(ctx context.Context, actor string, deviceVersionID int64, list []VEXStatement) (VEXImport, error) {
	var res VEXImport
	now := s.nowUTC()
	for i := range list {
		v := &list[i]
		v.DeviceVersionID, v.CarriedFrom = deviceVersionID, 0
		v.Author = cmp.Or(strings.TrimSpace(v.Author), actor)
		if v.At.IsZero() {
			v.At = now
		}
		v.At = normTime(v.At)
		if err := cleanVEX(v); err != nil {
			return res, fmt.Errorf("store: import vex: statement %d (%s, %s): %w", i+1, v.AdvisoryID, v.ComponentKey, err)
		}
	}
	err := s.Transact(ctx, func(tx *Tx) error {
		res = VEXImport{}
		var one int
		if err := tx.QueryRowContext(ctx, "SELECT 1 FROM device_versions WHERE id = ?", deviceVersionID).Scan(&one); err != nil {
			return notFound(fmt.Sprintf("device version %d", deviceVersionID), err)
		}
		for _, v := range list {
			_, change, err := putVEX(ctx, tx, actor, "vex.import", v)
			if err != nil {
				return err
			}
			switch change {
			case "added":
				res.Added++
			case "updated":
				res.Updated++
			default:
				res.Unchanged++
			}
		}
		return nil
	})
	if err != nil {
		return VEXImport{}, fmt.Errorf("store: import vex: %w", err)
	}
	return res, nil
}

// putVEX writes one checked statement unless the stored decision is the same; change is
// "added", "updated" or "" (unchanged).
func putVEX(ctx context.Context, tx *Tx, actor, action string, v VEXStatement) (VEXStatement, string, error) {
	before, err := scanVEX(tx.QueryRowContext(ctx, "SELECT "+vexCols+" FROM vex_statements WHERE device_version_id = ? AND advisory_id = ? AND component_key = ?",
		v.DeviceVersionID, v.AdvisoryID, v.ComponentKey))
	change := "added"
	switch {
	case err == nil:
		if before.sameDecision(v) {
			return before, "", nil
		}
		change = "updated"
	case errors.Is(err, sql.ErrNoRows):
	default:
		return VEXStatement{}, "", err
	}
	var carried any
	if v.CarriedFrom != 0 {
		carried = v.CarriedFrom
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO vex_statements (`+vexCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (device_version_id, advisory_id, component_key) DO UPDATE SET component_name = excluded.component_name,
			component_version = excluded.component_version, purl = excluded.purl, status = excluded.status,
			justification = excluded.justification, impact_statement = excluded.impact_statement, action_statement = excluded.action_statement,
			author = excluded.author, at = excluded.at, note = excluded.note, carried_from = excluded.carried_from`,
		v.DeviceVersionID, v.AdvisoryID, v.ComponentKey, v.ComponentName, v.ComponentVersion, v.PURL, v.Status, v.Justification,
		v.ImpactStatement, v.ActionStatement, v.Author, v.At, v.Note, carried)
	if err != nil {
		if errors.Is(mapErr(err), ErrInvalid) {
			return VEXStatement{}, "", notFound(fmt.Sprintf("device version %d", v.DeviceVersionID), sql.ErrNoRows)
		}
		return VEXStatement{}, "", mapErr(err)
	}
	var b any
	if change == "updated" {
		b = before
	}
	if err := tx.Audit(ctx, actor, action, "vex_statement", v.key(), b, v); err != nil {
		return VEXStatement{}, "", err
	}
	return v, change, nil
}

// DeleteVEX removes the decision on a finding (it becomes untriaged again).
func (s *Store) DeleteVEX(ctx context.Context, actor string, deviceVersionID int64, advisory, componentKey string) error {
	err := s.Transact(ctx, func(tx *Tx) error {
		before, err := scanVEX(tx.QueryRowContext(ctx, "SELECT "+vexCols+" FROM vex_statements WHERE device_version_id = ? AND advisory_id = ? AND component_key = ?",
			deviceVersionID, advisory, componentKey))
		if err != nil {
			return notFound(fmt.Sprintf("vex statement %d/%s/%s", deviceVersionID, advisory, componentKey), err)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM vex_statements WHERE device_version_id = ? AND advisory_id = ? AND component_key = ?",
			deviceVersionID, advisory, componentKey); err != nil {
			return mapErr(err)
		}
		return tx.Audit(ctx, actor, "vex.delete", "vex_statement", before.key(), before, nil)
	})
	if err != nil {
		return fmt.Errorf("store: delete vex: %w", err)
	}
	return nil
}

// ListVEX returns the decisions of a device version, by advisory and component.
func (s *Store) ListVEX(ctx context.Context, deviceVersionID int64) ([]VEXStatement, error) {
	if err := s.versionExists(ctx, deviceVersionID); err != nil {
		return nil, fmt.Errorf("store: list vex: %w", err)
	}
	rows, err := s.query(ctx, "SELECT "+vexCols+" FROM vex_statements WHERE device_version_id = ? ORDER BY advisory_id, component_key", deviceVersionID)
	if err != nil {
		return nil, fmt.Errorf("store: list vex: %w", err)
	}
	defer rows.Close()
	out := []VEXStatement{}
	for rows.Next() {
		v, err := scanVEX(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list vex: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// VEXHistory returns the audit entries of one decision, newest first.
func (s *Store) VEXHistory(ctx context.Context, deviceVersionID int64, advisory, componentKey string) ([]AuditEntry, error) {
	return s.AuditFor(ctx, "vex_statement", VEXStatement{DeviceVersionID: deviceVersionID, AdvisoryID: advisory, ComponentKey: componentKey}.key(), 0)
}

// carryForwardTx copies to a device version the decisions made on earlier versions of the same
// product for components it has unchanged (same component key, that is the same package URL
// with the same version) and advisories it has no decision for. For each (component, advisory),
// the decision of the nearest earlier version that has one is copied, with its author and time,
// CarriedFrom set and a note; each copy is audited as vex.carry.
func carryForwardTx(ctx context.Context, tx *Tx, actor string, versionID int64) ([]VEXStatement, error) {
	out := []VEXStatement{}
	var productID int64
	if err := tx.QueryRowContext(ctx, "SELECT product_id FROM device_versions WHERE id = ?", versionID).Scan(&productID); err != nil {
		return nil, notFound(fmt.Sprintf("device version %d", versionID), err)
	}
	present := map[string]bool{}
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT c.component_key FROM sbom_components c JOIN sboms s ON s.id = c.sbom_id WHERE s.device_version_id = ?`, versionID)
	if err != nil {
		return nil, fmt.Errorf("carry forward: %w", err)
	}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return nil, fmt.Errorf("carry forward: %w", err)
		}
		present[k] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("carry forward: %w", err)
	}
	type pair struct{ advisory, key string }
	have := map[pair]bool{}
	rows, err = tx.QueryContext(ctx, "SELECT advisory_id, component_key FROM vex_statements WHERE device_version_id = ?", versionID)
	if err != nil {
		return nil, fmt.Errorf("carry forward: %w", err)
	}
	for rows.Next() {
		var p pair
		if err := rows.Scan(&p.advisory, &p.key); err != nil {
			rows.Close()
			return nil, fmt.Errorf("carry forward: %w", err)
		}
		have[p] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("carry forward: %w", err)
	}
	rows, err = tx.QueryContext(ctx, `SELECT `+strings.ReplaceAll(vexColsX, "x.", "st.")+`, dv.version FROM vex_statements st
		JOIN device_versions dv ON dv.id = st.device_version_id
		WHERE dv.product_id = ? AND dv.id < ? ORDER BY dv.id DESC, st.advisory_id, st.component_key`, productID, versionID)
	if err != nil {
		return nil, fmt.Errorf("carry forward: %w", err)
	}
	var carry []VEXStatement
	for rows.Next() {
		var (
			v       VEXStatement
			at      timeCol
			carried sql.NullInt64
			from    string
		)
		if err := rows.Scan(&v.DeviceVersionID, &v.AdvisoryID, &v.ComponentKey, &v.ComponentName, &v.ComponentVersion, &v.PURL, &v.Status, &v.Justification,
			&v.ImpactStatement, &v.ActionStatement, &v.Author, &at, &v.Note, &carried, &from); err != nil {
			rows.Close()
			return nil, fmt.Errorf("carry forward: %w", err)
		}
		p := pair{v.AdvisoryID, v.ComponentKey}
		if !present[v.ComponentKey] || have[p] {
			continue
		}
		have[p] = true
		v.At = at.Time
		v.Note = fmt.Sprintf("carried forward from version %s (device version %d)", from, v.DeviceVersionID)
		v.CarriedFrom = v.DeviceVersionID
		v.DeviceVersionID = versionID
		carry = append(carry, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("carry forward: %w", err)
	}
	for _, v := range carry {
		got, _, err := putVEX(ctx, tx, actor, "vex.carry", v)
		if err != nil {
			return nil, err
		}
		out = append(out, got)
	}
	return out, nil
}
