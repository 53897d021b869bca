package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-med/vigil/sbom"
	"github.com/vigil-med/vigil/vex"
	"github.com/vigil-med/vigil/vuln"
)

// A device version may have several SBOMs (its firmware, its mobile app, its cloud service), one
// per label; their components together are the version's software, and its findings are
// computed over all of them (the merged view). Importing an SBOM stores the file (in blobs,
// content-addressed), its components, refreshes the version's findings and carries VEX
// decisions forward from earlier versions of the same product, in one transaction.

// DefaultSBOMLabel is the label of an SBOM imported without one.
const DefaultSBOMLabel = "device"

// SBOM is a stored SBOM of a device version; the file is the blob named by SHA256.
type SBOM struct {
	ID              int64     `json:"id"`
	DeviceVersionID int64     `json:"device_version_id"`
	Label           string    `json:"label"`
	Format          string    `json:"format"`
	SpecVersion     string    `json:"spec_version"`
	Encoding        string    `json:"encoding"`
	SubjectName     string    `json:"subject_name,omitempty"`
	SubjectVersion  string    `json:"subject_version,omitempty"`
	Filename        string    `json:"filename"`
	Size            int64     `json:"size"`
	SHA256          string    `json:"sha256"`
	Components      int       `json:"components"`
	Quality         *int      `json:"quality,omitempty"` // NTIA/FDA score 0-100 (sbom.Check), when computed
	UploadedBy      string    `json:"uploaded_by"`
	UploadedAt      time.Time `json:"uploaded_at"`
}

// SBOMComponent is one stored component of an SBOM.
type SBOMComponent struct {
	SBOMID       int64  `json:"sbom_id"`
	Ref          string `json:"ref,omitempty"`
	Name         string `json:"name"`
	Version      string `json:"version,omitempty"`
	PURL         string `json:"purl,omitempty"`
	ComponentKey string `json:"component_key"`
	// Ecosystem and Package are what the matcher looks the component up by ("" when its purl
	// maps onto no OSV ecosystem: such components cannot have findings).
	Ecosystem string `json:"ecosystem,omitempty"`
	Package   string `json:"package,omitempty"`
}

// SBOMInput is an SBOM to store. The caller parses the file (sbom.Parse) and may compute its
// quality score (sbom.Check).
type SBOMInput struct {
	DeviceVersionID int64
	Label           string // what part of the device it describes; DefaultSBOMLabel when empty
	Filename        string // any directory part is dropped
	Data            []byte
	Doc             *sbom.Document
	Quality         *int
	// Replace allows replacing the version's SBOM of the same label (its findings are
	// recomputed); otherwise that is a conflict.
	Replace bool
}

// SBOMImport is the outcome of [Store.ImportSBOM].
type SBOMImport struct {
	SBOM     SBOM  `json:"sbom"`
	Replaced *SBOM `json:"replaced,omitempty"`
	// Findings is the refresh of the version's findings the import caused.
	Findings RefreshResult `json:"findings"`
	// Carried are the VEX decisions copied from earlier versions of the product for components
	// that did not change.
	Carried []VEXStatement `json:"carried_vex"`
}

const sbomCols = "id, device_version_id, label, format, spec_version, encoding, subject_name, subject_version, filename, size, sha256, components, quality, uploaded_by, uploaded_at"

func scanSBOM(sc scanner) (SBOM, error) {
	var (
		b  SBOM
		q  sql.NullInt64
		at timeCol
	)
	err := sc.Scan(&b.ID, &b.DeviceVersionID, &b.Label, &b.Format, &b.SpecVersion, &b.Encoding, &b.SubjectName, &b.SubjectVersion,
		&b.Filename, &b.Size, &b.SHA256, &b.Components, &q, &b.UploadedBy, &at)
	if q.Valid {
		n := int(q.Int64)
		b.Quality = &n
	}
	b.UploadedAt = at.Time
	return b, err
}

// ImportSBOM stores an SBOM for a device version, refreshes the version's findings and carries
// VEX decisions forward, in one transaction with its audit entries (sbom.import, sbom.replace,
// findings.refresh, vex.carry).
func (s *Store) ImportSBOM(ctx context.Context, actor string, in SBOMInput) (SBOMImport, error) {
	fail := func(err error) (SBOMImport, error) { return SBOMImport{}, fmt.Errorf("store: import sbom: %w", err) }
	if err := validID("device version", in.DeviceVersionID); err != nil {
		return fail(err)
	}
	if in.Doc == nil {
		return fail(invalid("the SBOM was not parsed"))
	}
	if len(in.Data) == 0 {
		return fail(invalid("the file is empty"))
	}
	label, err := text("label", in.Label, maxShort, false, false)
	if err != nil {
		return fail(err)
	}
	if label == "" {
		label = DefaultSBOMLabel
	}
	filename, err := cleanFilename(in.Filename)
	if err != nil {
		return fail(err)
	}
	if in.Quality != nil && (*in.Quality < 0 || *in.Quality > 100) {
		return fail(invalid("quality %d must be from 0 to 100", *in.Quality))
	}
	if actor, err = validActor(actor); err != nil {
		return fail(err)
	}
	sum := sha256.Sum256(in.Data)
	b := SBOM{
		DeviceVersionID: in.DeviceVersionID, Label: label, Format: in.Doc.Format, SpecVersion: in.Doc.SpecVersion, Encoding: in.Doc.Encoding,
		SubjectName: clip(in.Doc.Name, maxShort), SubjectVersion: clip(in.Doc.Version, maxShort), Filename: filename, Size: int64(len(in.Data)),
		SHA256: hex.EncodeToString(sum[:]), Components: len(in.Doc.Components), Quality: in.Quality, UploadedBy: actor, UploadedAt: s.nowUTC(),
	}
	var out SBOMImport
	err = s.Transact(ctx, func(tx *Tx) error {
		out = SBOMImport{}
		var one int
		if err := tx.QueryRowContext(ctx, "SELECT 1 FROM device_versions WHERE id = ?", b.DeviceVersionID).Scan(&one); err != nil {
			return notFound(fmt.Sprintf("device version %d", b.DeviceVersionID), err)
		}
		old, err := scanSBOM(tx.QueryRowContext(ctx, "SELECT "+sbomCols+" FROM sboms WHERE device_version_id = ? AND label = ?", b.DeviceVersionID, label))
		switch {
		case err == nil && !in.Replace:
			return fmt.Errorf("%w: device version %d already has an SBOM labelled %q (%s); replace it or choose another label", ErrConflict, b.DeviceVersionID, label, old.Filename)
		case err == nil:
			if _, err := tx.ExecContext(ctx, "DELETE FROM sboms WHERE id = ?", old.ID); err != nil {
				return mapErr(err)
			}
			if err := tx.Audit(ctx, actor, "sbom.replace", "sbom", idStr(old.ID), old, nil); err != nil {
				return err
			}
			out.Replaced = &old
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO blobs (sha256, size, data) VALUES (?, ?, ?) ON CONFLICT (sha256) DO NOTHING", b.SHA256, b.Size, in.Data); err != nil {
			return mapErr(err)
		}
		var q any
		if b.Quality != nil {
			q = *b.Quality
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO sboms (device_version_id, label, format, spec_version, encoding, subject_name, subject_version,
			filename, size, sha256, components, quality, uploaded_by, uploaded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			b.DeviceVersionID, b.Label, b.Format, b.SpecVersion, b.Encoding, b.SubjectName, b.SubjectVersion, b.Filename, b.Size, b.SHA256,
			b.Components, q, b.UploadedBy, b.UploadedAt).Scan(&b.ID)
		if err != nil {
			return mapErr(err)
		}
		rows := make([][]any, 0, len(in.Doc.Components))
		for i, c := range in.Doc.Components {
			sc := componentRow(c)
			rows = append(rows, []any{b.ID, i, clip(sc.Ref, maxLong), sc.Name, sc.Version, sc.PURL, sc.ComponentKey, sc.Ecosystem, sc.Package, sc.pkgVersion})
		}
		if err := insertRows(ctx, tx, "sbom_components", []string{"sbom_id", "seq", "ref", "name", "version", "purl", "component_key", "ecosystem", "package", "pkg_version"}, rows); err != nil {
			return err
		}
		if err := tx.Audit(ctx, actor, "sbom.import", "sbom", idStr(b.ID), nil, b); err != nil {
			return err
		}
		if out.Findings, err = s.refreshTx(ctx, tx, actor, []int64{b.DeviceVersionID}, "sbom.import:"+idStr(b.ID)); err != nil {
			return err
		}
		out.Carried, err = carryForwardTx(ctx, tx, actor, b.DeviceVersionID)
		return err
	})
	if err != nil {
		return fail(err)
	}
	out.SBOM = b
	return out, nil
}

type componentWithPkg struct {
	SBOMComponent
	pkgVersion string
}

// componentRow is how a component is stored: with its key and its matcher lookup.
func componentRow(c sbom.Component) componentWithPkg {
	r := componentWithPkg{SBOMComponent: SBOMComponent{Ref: c.Ref, Name: strings.TrimSpace(c.Name), Version: strings.TrimSpace(c.Version), PURL: strings.TrimSpace(c.PURL)}}
	if r.Name == "" {
		r.Name = r.Ref
	}
	r.ComponentKey = vex.ComponentKey(r.PURL, r.Name, r.Version)
	if r.ComponentKey == "" {
		r.ComponentKey = "ref:" + r.Ref
	}
	if pkg, ok := vuln.PackageOf(r.PURL); ok {
		r.Ecosystem, r.Package, r.pkgVersion = pkg.Ecosystem, pkg.Name, pkg.Version
	}
	return r
}

func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n-- // do not cut a UTF-8 sequence
	}
	return s[:n]
}

// insertRows writes rows with multi-row INSERTs of at most 500 rows, in the transaction.
func insertRows(ctx context.Context, tx *Tx, table string, cols []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	per := max(1, min(500, 30000/len(cols))) // PostgreSQL allows 65535 parameters, SQLite 32766
	row := "(" + placeholders(len(cols)) + ")"
	for len(rows) > 0 {
		n := min(per, len(rows))
		var q strings.Builder
		q.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
		args := make([]any, 0, n*len(cols))
		for i := range n {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString(row)
			args = append(args, rows[i]...)
		}
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return fmt.Errorf("insert into %s: %w", table, mapErr(err))
		}
		rows = rows[n:]
	}
	return nil
}

// ListSBOMs returns the SBOMs of a device version, by label.
func (s *Store) ListSBOMs(ctx context.Context, deviceVersionID int64) ([]SBOM, error) {
	if err := s.versionExists(ctx, deviceVersionID); err != nil {
		return nil, fmt.Errorf("store: list sboms: %w", err)
	}
	rows, err := s.query(ctx, "SELECT "+sbomCols+" FROM sboms WHERE device_version_id = ? ORDER BY label, id", deviceVersionID)
	if err != nil {
		return nil, fmt.Errorf("store: list sboms: %w", err)
	}
	defer rows.Close()
	out := []SBOM{}
	for rows.Next() {
		b, err := scanSBOM(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list sboms: %w", err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// SBOM returns one stored SBOM (its file is EvidenceBlob(SHA256)).
func (s *Store) SBOM(ctx context.Context, id int64) (SBOM, error) {
	b, err := scanSBOM(s.queryRow(ctx, "SELECT "+sbomCols+" FROM sboms WHERE id = ?", id))
	if err != nil {
		return SBOM{}, notFound(fmt.Sprintf("sbom %d", id), err)
	}
	return b, nil
}

// SBOMComponents returns the components of an SBOM in document order.
func (s *Store) SBOMComponents(ctx context.Context, sbomID int64) ([]SBOMComponent, error) {
	rows, err := s.query(ctx, `SELECT sbom_id, ref, name, version, purl, component_key, ecosystem, package
		FROM sbom_components WHERE sbom_id = ? ORDER BY seq`, sbomID)
	if err != nil {
		return nil, fmt.Errorf("store: sbom components: %w", err)
	}
	defer rows.Close()
	out := []SBOMComponent{}
	for rows.Next() {
		var c SBOMComponent
		if err := rows.Scan(&c.SBOMID, &c.Ref, &c.Name, &c.Version, &c.PURL, &c.ComponentKey, &c.Ecosystem, &c.Package); err != nil {
			return nil, fmt.Errorf("store: sbom components: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// DeleteSBOM removes an SBOM and its components and refreshes the findings of its version
// (findings only it gave are resolved). VEX decisions stay.
func (s *Store) DeleteSBOM(ctx context.Context, actor string, id int64) (RefreshResult, error) {
	var res RefreshResult
	err := s.Transact(ctx, func(tx *Tx) error {
		b, err := scanSBOM(tx.QueryRowContext(ctx, "SELECT "+sbomCols+" FROM sboms WHERE id = ?", id))
		if err != nil {
			return notFound(fmt.Sprintf("sbom %d", id), err)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM sboms WHERE id = ?", id); err != nil {
			return mapErr(err)
		}
		if err := tx.Audit(ctx, actor, "sbom.delete", "sbom", idStr(id), b, nil); err != nil {
			return err
		}
		res, err = s.refreshTx(ctx, tx, actor, []int64{b.DeviceVersionID}, "sbom.delete:"+idStr(id))
		return err
	})
	if err != nil {
		return RefreshResult{}, fmt.Errorf("store: delete sbom: %w", err)
	}
	return res, nil
}

func (s *Store) versionExists(ctx context.Context, id int64) error {
	var one int
	if err := s.queryRow(ctx, "SELECT 1 FROM device_versions WHERE id = ?", id).Scan(&one); err != nil {
		return notFound(fmt.Sprintf("device version %d", id), err)
	}
	return nil
}
