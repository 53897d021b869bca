package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime"
	"strings"
	"time"
)

// Link ties evidence to a requirement or a control objective.
type Link struct {
	Kind     string `json:"kind"`      // LinkRequirement or LinkControl
	TargetID string `json:"target_id"` // requirement ID or control ID
}

// EvidenceInput is an uploaded file and what it supports. Size limits are the caller's; empty
// data is refused.
type EvidenceInput struct {
	DeviceVersionID int64
	Title           string // defaults to the file name
	Filename        string // any directory part is dropped
	ContentType     string // defaults to application/octet-stream
	Data            []byte
	Links           []Link
}

// Evidence is a stored piece of evidence; the content is in the blob named by SHA256.
type Evidence struct {
	ID              int64     `json:"id"`
	DeviceVersionID int64     `json:"device_version_id"`
	Title           string    `json:"title"`
	Filename        string    `json:"filename"`
	ContentType     string    `json:"content_type"`
	Size            int64     `json:"size"`
	SHA256          string    `json:"sha256"`
	UploadedBy      string    `json:"uploaded_by"`
	UploadedAt      time.Time `json:"uploaded_at"`
	Links           []Link    `json:"links"`
}

func cleanLink(l Link) (Link, error) {
	if l.Kind != LinkRequirement && l.Kind != LinkControl {
		return l, invalid("link kind %q must be %s or %s", l.Kind, LinkRequirement, LinkControl)
	}
	id, err := ident("link target", l.TargetID)
	return Link{Kind: l.Kind, TargetID: id}, err
}

func cleanFilename(name string) (string, error) {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name, err := text("file name", name, maxShort, true, false)
	if err != nil {
		return "", err
	}
	if name == "." || name == ".." {
		return "", invalid("file name %q is not a file name", name)
	}
	return name, nil
}

// AddEvidence stores a file (once per distinct content), its evidence row and its links in one
// transaction.
func (s *Store) AddEvidence(ctx context.Context, actor string, in EvidenceInput) (Evidence, error) {
	fail := func(err error) (Evidence, error) { return Evidence{}, fmt.Errorf("store: add evidence: %w", err) }
	if err := validID("device version", in.DeviceVersionID); err != nil {
		return fail(err)
	}
	if len(in.Data) == 0 {
		return fail(invalid("the file is empty"))
	}
	filename, err := cleanFilename(in.Filename)
	if err != nil {
		return fail(err)
	}
	title, err := text("title", in.Title, maxShort, false, false)
	if err != nil {
		return fail(err)
	}
	if title == "" {
		title = filename
	}
	ct := strings.TrimSpace(in.ContentType)
	if ct == "" {
		ct = "application/octet-stream"
	}
	if _, _, err := mime.ParseMediaType(ct); err != nil || len(ct) > maxShort {
		return fail(invalid("content type %q is not a media type", ct))
	}
	links, err := cleanLinks(in.Links)
	if err != nil {
		return fail(err)
	}
	sum := sha256.Sum256(in.Data)
	e := Evidence{
		DeviceVersionID: in.DeviceVersionID, Title: title, Filename: filename, ContentType: ct,
		Size: int64(len(in.Data)), SHA256: hex.EncodeToString(sum[:]), UploadedAt: s.nowUTC(), Links: links,
	}
	if e.UploadedBy, err = validActor(actor); err != nil {
		return fail(err)
	}
	err = s.Transact(ctx, func(tx *Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, "SELECT 1 FROM device_versions WHERE id = ?", e.DeviceVersionID).Scan(&one); err != nil {
			return notFound(fmt.Sprintf("device version %d", e.DeviceVersionID), err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO blobs (sha256, size, data) VALUES (?, ?, ?) ON CONFLICT (sha256) DO NOTHING",
			e.SHA256, e.Size, in.Data); err != nil {
			return mapErr(err)
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO evidence
			(device_version_id, title, filename, content_type, size, sha256, uploaded_by, uploaded_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			e.DeviceVersionID, e.Title, e.Filename, e.ContentType, e.Size, e.SHA256, e.UploadedBy, e.UploadedAt).Scan(&e.ID)
		if err != nil {
			return mapErr(err)
		}
		for _, l := range links {
			if _, err := tx.ExecContext(ctx, "INSERT INTO evidence_links (evidence_id, target_kind, target_id) VALUES (?, ?, ?)",
				e.ID, l.Kind, l.TargetID); err != nil {
				return mapErr(err)
			}
		}
		return tx.Audit(ctx, actor, "evidence.add", "evidence", idStr(e.ID), nil, e)
	})
	if err != nil {
		return fail(err)
	}
	return e, nil
}

// cleanLinks validates links and drops duplicates, keeping the order.
func cleanLinks(in []Link) ([]Link, error) {
	out := make([]Link, 0, len(in))
	seen := map[Link]bool{}
	for _, l := range in {
		l, err := cleanLink(l)
		if err != nil {
			return nil, err
		}
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out, nil
}

const evidenceCols = "id, device_version_id, title, filename, content_type, size, sha256, uploaded_by, uploaded_at"

func scanEvidence(sc scanner) (Evidence, error) {
	var (
		e  Evidence
		at timeCol
	)
	err := sc.Scan(&e.ID, &e.DeviceVersionID, &e.Title, &e.Filename, &e.ContentType, &e.Size, &e.SHA256, &e.UploadedBy, &at)
	e.UploadedAt = at.Time
	e.Links = []Link{}
	return e, err
}

// Evidence returns one piece of evidence with its links (not its content).
func (s *Store) Evidence(ctx context.Context, id int64) (Evidence, error) {
	e, err := scanEvidence(s.queryRow(ctx, "SELECT "+evidenceCols+" FROM evidence WHERE id = ?", id))
	if err != nil {
		return Evidence{}, notFound(fmt.Sprintf("evidence %d", id), err)
	}
	byID := map[int64]*Evidence{e.ID: &e}
	if err := s.loadLinks(ctx, "WHERE l.evidence_id = ?", byID, id); err != nil {
		return Evidence{}, err
	}
	return e, nil
}

// EvidenceBlob returns the content with the given hex sha256.
func (s *Store) EvidenceBlob(ctx context.Context, sha string) ([]byte, error) {
	if err := hexHash("sha256", sha); err != nil {
		return nil, fmt.Errorf("store: evidence blob: %w", err)
	}
	var data []byte
	if err := s.queryRow(ctx, "SELECT data FROM blobs WHERE sha256 = ?", sha).Scan(&data); err != nil {
		return nil, notFound("evidence blob "+sha, err)
	}
	return data, nil
}

// ListEvidence returns the evidence of a device version, oldest first, with links.
func (s *Store) ListEvidence(ctx context.Context, deviceVersionID int64) ([]Evidence, error) {
	rows, err := s.query(ctx, "SELECT "+evidenceCols+" FROM evidence WHERE device_version_id = ? ORDER BY id", deviceVersionID)
	if err != nil {
		return nil, fmt.Errorf("store: list evidence: %w", err)
	}
	defer rows.Close()
	var out []Evidence
	for rows.Next() {
		e, err := scanEvidence(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list evidence: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list evidence: %w", err)
	}
	rows.Close()
	byID := make(map[int64]*Evidence, len(out))
	for i := range out {
		byID[out[i].ID] = &out[i]
	}
	if len(out) > 0 {
		if err := s.loadLinks(ctx, "JOIN evidence e ON e.id = l.evidence_id WHERE e.device_version_id = ?", byID, deviceVersionID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// loadLinks appends links to the evidence in byID. Links of evidence not in byID (added since
// the evidence was read) are ignored.
func (s *Store) loadLinks(ctx context.Context, where string, byID map[int64]*Evidence, args ...any) error {
	rows, err := s.query(ctx, "SELECT l.evidence_id, l.target_kind, l.target_id FROM evidence_links l "+where+
		" ORDER BY l.evidence_id, l.target_kind, l.target_id", args...)
	if err != nil {
		return fmt.Errorf("store: evidence links: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id int64
			l  Link
		)
		if err := rows.Scan(&id, &l.Kind, &l.TargetID); err != nil {
			return fmt.Errorf("store: evidence links: %w", err)
		}
		if e := byID[id]; e != nil {
			e.Links = append(e.Links, l)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: evidence links: %w", err)
	}
	return nil
}

// LinkEvidence links evidence to a requirement or control. Linking twice changes nothing.
func (s *Store) LinkEvidence(ctx context.Context, actor string, evidenceID int64, l Link) error {
	return s.changeLink(ctx, actor, evidenceID, l, true)
}

// UnlinkEvidence removes a link; ErrNotFound if there is no such link.
func (s *Store) UnlinkEvidence(ctx context.Context, actor string, evidenceID int64, l Link) error {
	return s.changeLink(ctx, actor, evidenceID, l, false)
}

func (s *Store) changeLink(ctx context.Context, actor string, evidenceID int64, l Link, add bool) error {
	op := "unlink"
	if add {
		op = "link"
	}
	l, err := cleanLink(l)
	if err != nil {
		return fmt.Errorf("store: %s evidence: %w", op, err)
	}
	err = s.Transact(ctx, func(tx *Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, "SELECT 1 FROM evidence WHERE id = ?", evidenceID).Scan(&one); err != nil {
			return notFound(fmt.Sprintf("evidence %d", evidenceID), err)
		}
		var (
			q             string
			before, after any
		)
		if add {
			q = "INSERT INTO evidence_links (evidence_id, target_kind, target_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
			after = l
		} else {
			q = "DELETE FROM evidence_links WHERE evidence_id = ? AND target_kind = ? AND target_id = ?"
			before = l
		}
		res, err := tx.ExecContext(ctx, q, evidenceID, l.Kind, l.TargetID)
		if err != nil {
			return mapErr(err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			if add {
				return nil
			}
			return fmt.Errorf("evidence %d is not linked to %s %s: %w", evidenceID, l.Kind, l.TargetID, ErrNotFound)
		}
		return tx.Audit(ctx, actor, "evidence."+op, "evidence", idStr(evidenceID), before, after)
	})
	if err != nil {
		return fmt.Errorf("store: %s evidence: %w", op, err)
	}
	return nil
}
