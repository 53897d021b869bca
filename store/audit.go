package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ZeroHash is the prev_hash of the first audit entry.
var ZeroHash = strings.Repeat("0", 64)

// ActorSystem is the actor of writes not made by a user.
const ActorSystem = "system"

// AuditEntry is one row of the audit log. Before and After are the JSON of the changed row (nil
// when there is none).
type AuditEntry struct {
	Seq      int64           `json:"seq"`
	At       time.Time       `json:"at"`
	Actor    string          `json:"actor"`
	Action   string          `json:"action"`
	Entity   string          `json:"entity"`
	EntityID string          `json:"entity_id"`
	Before   json.RawMessage `json:"before,omitempty"`
	After    json.RawMessage `json:"after,omitempty"`
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
}

// AuditReport is the outcome of [Store.VerifyAudit].
type AuditReport struct {
	OK       bool   `json:"ok"`
	Entries  int64  `json:"entries"`   // rows read up to and including the first broken one
	LastSeq  int64  `json:"last_seq"`  // seq of the last row read
	LastHash string `json:"last_hash"` // hash of the last row read; record it to detect truncation later
	// BrokenSeq is the seq of the first row at which the chain breaks (0 when OK) and Problem
	// says why.
	BrokenSeq int64  `json:"broken_seq,omitempty"`
	Problem   string `json:"problem,omitempty"`
}

// Audit appends an audit entry in the transaction. before and after are marshalled to JSON (nil,
// or a value that marshals to null, is stored as NULL); they must not contain secrets.
func (tx *Tx) Audit(ctx context.Context, actor, action, entity, entityID string, before, after any) error {
	actor, err := validActor(actor)
	if err != nil {
		return err
	}
	if action == "" || entity == "" {
		return invalid("audit action and entity are required")
	}
	bj, err := auditJSON(before)
	if err != nil {
		return fmt.Errorf("store: audit %s: before: %w", action, err)
	}
	aj, err := auditJSON(after)
	if err != nil {
		return fmt.Errorf("store: audit %s: after: %w", action, err)
	}
	// Writers are serialised by Transact, so the last row cannot change under us.
	var (
		last int64
		prev string
	)
	err = tx.QueryRowContext(ctx, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").Scan(&last, &prev)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		last, prev = 0, ZeroHash
	case err != nil:
		return fmt.Errorf("store: audit %s: read chain head: %w", action, err)
	}
	e := AuditEntry{
		Seq: last + 1, At: tx.s.nowUTC(), Actor: actor, Action: action, Entity: entity, EntityID: entityID,
		Before: bj, After: aj, PrevHash: prev,
	}
	e.Hash = auditHash(&e)
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_log
		(seq, at, actor, action, entity, entity_id, before_json, after_json, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, e.At, e.Actor, e.Action, e.Entity, e.EntityID, nullJSON(bj), nullJSON(aj), e.PrevHash, e.Hash)
	if err != nil {
		return fmt.Errorf("store: audit %s: %w", action, mapErr(err))
	}
	return nil
}

func auditJSON(v any) (json.RawMessage, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if string(b) == "null" {
		return nil, nil
	}
	return b, nil
}

func nullJSON(b json.RawMessage) any {
	if b == nil {
		return nil
	}
	return string(b)
}

// auditHash computes the chained hash of e (see the package documentation).
func auditHash(e *AuditEntry) string {
	var b bytes.Buffer
	b.WriteString(e.PrevHash)
	b.WriteByte('\n')
	b.WriteString(`{"action":`)
	writeJSONString(&b, e.Action)
	b.WriteString(`,"actor":`)
	writeJSONString(&b, e.Actor)
	b.WriteString(`,"after":`)
	writeRaw(&b, e.After)
	b.WriteString(`,"at":`)
	writeJSONString(&b, e.At.UTC().Format(time.RFC3339Nano))
	b.WriteString(`,"before":`)
	writeRaw(&b, e.Before)
	b.WriteString(`,"entity":`)
	writeJSONString(&b, e.Entity)
	b.WriteString(`,"entity_id":`)
	writeJSONString(&b, e.EntityID)
	b.WriteString(`,"seq":`)
	b.WriteString(strconv.FormatInt(e.Seq, 10))
	b.WriteByte('}')
	sum := sha256.Sum256(b.Bytes())
	return hex.EncodeToString(sum[:])
}

func writeJSONString(b *bytes.Buffer, s string) {
	q, _ := json.Marshal(s) // marshalling a string cannot fail
	b.Write(q)
}

func writeRaw(b *bytes.Buffer, raw json.RawMessage) {
	if raw == nil {
		b.WriteString("null")
		return
	}
	b.Write(raw)
}

const auditCols = "seq, at, actor, action, entity, entity_id, before_json, after_json, prev_hash, hash"

func scanAudit(sc interface{ Scan(...any) error }) (AuditEntry, error) {
	var (
		e      AuditEntry
		at     timeCol
		before sql.NullString
		after  sql.NullString
	)
	if err := sc.Scan(&e.Seq, &at, &e.Actor, &e.Action, &e.Entity, &e.EntityID, &before, &after, &e.PrevHash, &e.Hash); err != nil {
		return e, err
	}
	e.At = at.Time
	if before.Valid {
		e.Before = json.RawMessage(before.String)
	}
	if after.Valid {
		e.After = json.RawMessage(after.String)
	}
	return e, nil
}

// VerifyAudit reads the whole audit log in seq order and recomputes the chain. It reports the
// first row at which the chain breaks: a hash mismatch (the row was edited), a seq gap (rows were
// deleted) or a prev_hash mismatch (rows were deleted, inserted or reordered, or the previous
// row's hash was rewritten). The error is for failures to read, not for a broken chain.
func (s *Store) VerifyAudit(ctx context.Context) (AuditReport, error) {
	rows, err := s.query(ctx, "SELECT "+auditCols+" FROM audit_log ORDER BY seq")
	if err != nil {
		return AuditReport{}, fmt.Errorf("store: verify audit: %w", err)
	}
	defer rows.Close()
	rep := AuditReport{OK: true, LastHash: ZeroHash}
	prevSeq, prev := int64(0), ZeroHash
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return rep, fmt.Errorf("store: verify audit: after seq %d: %w", prevSeq, err)
		}
		rep.Entries++
		rep.LastSeq, rep.LastHash = e.Seq, e.Hash
		problem := ""
		switch {
		case e.Seq != prevSeq+1:
			if prevSeq+1 == e.Seq-1 {
				problem = fmt.Sprintf("seq gap: %d follows %d, row %d is missing (deleted?)", e.Seq, prevSeq, prevSeq+1)
			} else {
				problem = fmt.Sprintf("seq gap: %d follows %d, rows %d..%d are missing (deleted?)", e.Seq, prevSeq, prevSeq+1, e.Seq-1)
			}
		case e.PrevHash != prev && prevSeq == 0:
			problem = "prev_hash mismatch: the first row's prev_hash is not 64 zeros (rows deleted or inserted before it)"
		case e.PrevHash != prev:
			problem = fmt.Sprintf("prev_hash mismatch: row does not follow the hash of seq %d (rows deleted, inserted or reordered, or seq %d rewritten)", prevSeq, prevSeq)
		case auditHash(&e) != e.Hash:
			problem = "hash mismatch: the row's content was altered"
		}
		if problem != "" {
			rep.OK, rep.BrokenSeq, rep.Problem = false, e.Seq, problem
			return rep, nil
		}
		prevSeq, prev = e.Seq, e.Hash
	}
	if err := rows.Err(); err != nil {
		return rep, fmt.Errorf("store: verify audit: %w", err)
	}
	return rep, nil
}

// AuditFor returns the newest audit entries about one entity (for example "product", "12"),
// newest first; limit <= 0 means 50, and at most 1000 are returned.
func (s *Store) AuditFor(ctx context.Context, entity, entityID string, limit int) ([]AuditEntry, error) {
	return s.auditList(ctx, "WHERE entity = ? AND entity_id = ?", []any{entity, entityID}, limit, 0)
}

// AuditRecent returns audit entries newest first, skipping offset; limit <= 0 means 50, and at
// most 1000 are returned.
func (s *Store) AuditRecent(ctx context.Context, limit, offset int) ([]AuditEntry, error) {
	return s.auditList(ctx, "", nil, limit, offset)
}

func (s *Store) auditList(ctx context.Context, where string, args []any, limit, offset int) ([]AuditEntry, error) {
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 1000)
	offset = max(offset, 0)
	q := "SELECT " + auditCols + " FROM audit_log " + where + " ORDER BY seq DESC LIMIT ? OFFSET ?"
	rows, err := s.query(ctx, q, append(args, limit, offset)...)
	if err != nil {
		return nil, fmt.Errorf("store: read audit log: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, fmt.Errorf("store: read audit log: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: read audit log: %w", err)
	}
	return out, nil
}
