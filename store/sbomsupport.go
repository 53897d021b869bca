package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/vigil-med/vigil/sbom"
)

// The support data of an SBOM's components (FDA premarket guidance V.A.4: level of support and
// end-of-support date) comes from the SBOM itself or from a support sidecar
// (vigil/sbom-support/v1, see sbom.Sidecar) stored with it as a blob. The sidecar can be replaced
// as a whole (SetSBOMSupport, the file round trip) or edited per component
// (SetComponentSupport, the SBOM page's row forms and the API). Either way the SBOM's stored
// quality score is recomputed with the sidecar applied, in the same transaction.

// SetSBOMSupport stores a support sidecar (vigil/sbom-support/v1 YAML, validated by the caller)
// for an SBOM, replacing any earlier one, and recomputes the SBOM's quality score with it, with
// an audit entry (sbom.support).
func (s *Store) SetSBOMSupport(ctx context.Context, actor string, sbomID int64, data []byte) error {
	if len(data) == 0 {
		return fmt.Errorf("store: sbom support: %w", invalid("the support file is empty"))
	}
	sc, err := sbom.ParseSidecar("support.yaml", data)
	if err != nil {
		return fmt.Errorf("store: sbom support: %w", invalid("%v", err))
	}
	b, err := s.SBOM(ctx, sbomID)
	if err != nil {
		return fmt.Errorf("store: sbom support: %w", err)
	}
	// The quality score is recomputed when the stored SBOM can be read (it could when it was
	// imported); otherwise it is left as it is.
	var quality *int
	if doc, err := s.sbomDocument(ctx, b); err == nil {
		q := s.supportQuality(doc, sc)
		quality = &q
	}
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])
	return s.Transact(ctx, func(tx *Tx) error {
		var (
			before sql.NullString
			oldQ   sql.NullInt64
		)
		if err := tx.QueryRowContext(ctx, "SELECT support_sha256, quality FROM sboms WHERE id = ?", sbomID).Scan(&before, &oldQ); err != nil {
			return notFound("sbom", err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO blobs (sha256, size, data) VALUES (?, ?, ?) ON CONFLICT (sha256) DO NOTHING", hash, len(data), data); err != nil {
			return fmt.Errorf("store: sbom support: %w", mapErr(err))
		}
		after := map[string]any{"support_sha256": hash, "size": len(data)}
		if quality != nil {
			if _, err := tx.ExecContext(ctx, "UPDATE sboms SET support_sha256 = ?, quality = ? WHERE id = ?", hash, *quality, sbomID); err != nil {
				return fmt.Errorf("store: sbom support: %w", mapErr(err))
			}
			after["quality"] = *quality
		} else if _, err := tx.ExecContext(ctx, "UPDATE sboms SET support_sha256 = ? WHERE id = ?", hash, sbomID); err != nil {
			return fmt.Errorf("store: sbom support: %w", mapErr(err))
		}
		var b any
		if before.Valid {
			bm := map[string]any{"support_sha256": before.String}
			if oldQ.Valid {
				bm["quality"] = oldQ.Int64
			}
			b = bm
		}
		return tx.Audit(ctx, actor, "sbom.support", "sbom", idStr(sbomID), b, after)
	})
}

// SBOMSupport returns the support sidecar of an SBOM, or nil when it has none.
func (s *Store) SBOMSupport(ctx context.Context, sbomID int64) ([]byte, error) {
	var hash sql.NullString
	if err := s.queryRow(ctx, "SELECT support_sha256 FROM sboms WHERE id = ?", sbomID).Scan(&hash); err != nil {
		return nil, notFound("sbom", err)
	}
	if !hash.Valid {
		return nil, nil
	}
	data, err := s.EvidenceBlob(ctx, hash.String)
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("store: sbom support blob %s missing: %w", hash.String, err)
	}
	return data, err
}

// ComponentSupport is a change to the support data of components of a stored SBOM, as an editor
// makes it on the SBOM page or through the API. A nil field is left as it is; an empty one is
// cleared from the support file (the SBOM's own value, if it has one, then shows again).
type ComponentSupport struct {
	Support      *string // one of sbom.SupportLevels
	EndOfSupport *string // YYYY-MM-DD
	Note         *string // a justification or remark (FDA expects one when no date can be given)
}

// ComponentSupportChange is what SetComponentSupport did to one component.
type ComponentSupportChange struct {
	Ref     string `json:"ref"`
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	PURL    string `json:"purl,omitempty"`
	// Before and After are the support file's entry for the component (nil: none).
	Before  *sbom.SupportEntry `json:"before"`
	After   *sbom.SupportEntry `json:"after"`
	Changed bool               `json:"changed"`
	// The component's support data after the change, from the SBOM or the support file (Source).
	Support      string `json:"support,omitempty"`
	EndOfSupport string `json:"end_of_support,omitempty"`
	Note         string `json:"note,omitempty"`
	Source       string `json:"source,omitempty"`
}

// SupportUpdate is the outcome of [Store.SetComponentSupport].
type SupportUpdate struct {
	SBOMID        int64                    `json:"sbom_id"`
	Components    []ComponentSupportChange `json:"components"`
	Changed       int                      `json:"changed"` // components whose support file entry changed
	QualityBefore *int                     `json:"quality_before,omitempty"`
	Quality       *int                     `json:"quality,omitempty"`
	SupportSHA256 string                   `json:"support_sha256,omitempty"` // the support file now stored ("" for none)
}

const maxSupportNote = 2000

// ValidComponentSupport checks and normalises a change (levels, YYYY-MM-DD dates, note text):
// the rules of the support sidecar format.
func ValidComponentSupport(ch ComponentSupport) (ComponentSupport, error) {
	if ch.Support == nil && ch.EndOfSupport == nil && ch.Note == nil {
		return ch, invalid("give a level of support, an end-of-support date or a note")
	}
	var out ComponentSupport
	if ch.Support != nil {
		v := strings.TrimSpace(*ch.Support)
		if v != "" && !slices.Contains(sbom.SupportLevels, v) {
			return ch, invalid("level of support %q is not one of %s", clip(v, 40), strings.Join(sbom.SupportLevels, ", "))
		}
		out.Support = &v
	}
	if ch.EndOfSupport != nil {
		v := strings.TrimSpace(*ch.EndOfSupport)
		if v != "" {
			d, ok := sbom.ParseSupportDate(v)
			if !ok || len(v) != len("2006-01-02") {
				return ch, invalid("end of support %q is not a date YYYY-MM-DD", clip(v, 40))
			}
			v = d
		}
		out.EndOfSupport = &v
	}
	if ch.Note != nil {
		v, err := text("note", *ch.Note, maxSupportNote, false, false)
		if err != nil {
			return ch, err
		}
		out.Note = &v
	}
	return out, nil
}

// SetComponentSupport applies one change to the support data of the components refs (their
// bom-ref or SPDXID) of an SBOM, by editing the SBOM's support sidecar: the entry that describes
// each component is updated (or added, naming the component by package URL, else by name and
// version, as sbom.Template does; an entry left empty is removed). The new sidecar is validated
// like an uploaded one, stored, and the SBOM's quality score recomputed with it, in one
// transaction with an audit entry (sbom.component_support, before and after) per component whose
// entry changed. A ref that is not a component of the SBOM is ErrNotFound; the SBOM's primary
// component (the device itself) is ErrInvalid.
func (s *Store) SetComponentSupport(ctx context.Context, actor string, sbomID int64, refs []string, ch ComponentSupport) (SupportUpdate, error) {
	fail := func(err error) (SupportUpdate, error) {
		return SupportUpdate{}, fmt.Errorf("store: component support: %w", err)
	}
	ch, err := ValidComponentSupport(ch)
	if err != nil {
		return fail(err)
	}
	if actor, err = validActor(actor); err != nil {
		return fail(err)
	}
	if len(refs) == 0 {
		return fail(invalid("choose at least one component"))
	}
	b, err := s.SBOM(ctx, sbomID)
	if err != nil {
		return fail(err)
	}
	// The stored SBOM file of an ID never changes (a replacement is a new SBOM), so it is read
	// outside the transaction.
	doc, err := s.sbomDocument(ctx, b)
	if err != nil {
		return fail(err)
	}
	byRef := make(map[string]int, len(doc.Components))
	for i, c := range doc.Components {
		byRef[clip(c.Ref, maxLong)] = i
	}
	var idx []int
	for _, ref := range refs {
		i, ok := byRef[ref]
		if !ok {
			return fail(fmt.Errorf("component %q is not in SBOM %d: %w", clip(ref, 200), sbomID, ErrNotFound))
		}
		c := doc.Components[i]
		switch {
		case c.Ref == doc.Root:
			return fail(invalid("%s is the SBOM's primary component (the device itself); FDA asks for the support of the components it contains", describeComponent(c)))
		case strings.TrimSpace(c.PURL) == "" && strings.TrimSpace(c.Name) == "":
			return fail(invalid("component %q has neither a package URL nor a name, so a support file cannot name it", clip(ref, 200)))
		}
		if !slices.Contains(idx, i) {
			idx = append(idx, i)
		}
	}

	var out SupportUpdate
	err = s.Transact(ctx, func(tx *Tx) error {
		out = SupportUpdate{SBOMID: sbomID}
		var (
			oldHash sql.NullString
			oldQ    sql.NullInt64
		)
		if err := tx.QueryRowContext(ctx, "SELECT support_sha256, quality FROM sboms WHERE id = ?", sbomID).Scan(&oldHash, &oldQ); err != nil {
			return notFound(fmt.Sprintf("sbom %d", sbomID), err)
		}
		if oldQ.Valid {
			q := int(oldQ.Int64)
			out.QualityBefore, out.Quality = &q, &q
		}
		sc := &sbom.Sidecar{Schema: sbom.SidecarSchema, Components: []sbom.SupportEntry{}}
		if oldHash.Valid {
			out.SupportSHA256 = oldHash.String
			var data []byte
			if err := tx.QueryRowContext(ctx, "SELECT data FROM blobs WHERE sha256 = ?", oldHash.String).Scan(&data); err != nil {
				return notFound("support file blob "+oldHash.String, err)
			}
			if sc, err = sbom.ParseSidecar("support.yaml", data); err != nil {
				return fmt.Errorf("the stored support file cannot be read: %w", err)
			}
		}
		for _, i := range idx {
			c := doc.Components[i]
			change := ComponentSupportChange{Ref: clip(c.Ref, maxLong), Name: strings.TrimSpace(c.Name), Version: strings.TrimSpace(c.Version), PURL: strings.TrimSpace(c.PURL)}
			own := ownEntry(c)
			at, w := -1, winningEntry(sc, &c)
			e := own
			switch {
			case w >= 0 && sc.Components[w].Specificity() >= own.Specificity():
				// The entry that describes the component is edited.
				at, e = w, sc.Components[w]
				before := e
				change.Before = &before
			case w >= 0:
				// A wider entry (every version of the package) applies: the component gets its
				// own, starting from what that one says, so fields not changed keep reading the same.
				wider := sc.Components[w]
				e.Support, e.EndOfSupport, e.Note = wider.Support, wider.EndOfSupport, wider.Note
			}
			if ch.Support != nil {
				e.Support = *ch.Support
			}
			if ch.EndOfSupport != nil {
				e.EndOfSupport = *ch.EndOfSupport
			}
			if ch.Note != nil {
				e.Note = *ch.Note
			}
			empty := e.Support == "" && e.EndOfSupport == "" && e.Note == ""
			switch {
			case at >= 0 && empty:
				sc.Components = slices.Delete(sc.Components, at, at+1)
			case at >= 0:
				sc.Components[at] = e
			case !empty:
				sc.Components = append(sc.Components, e)
			}
			if !empty {
				change.After = &e
			}
			change.Changed = !sameEntry(change.Before, change.After)
			if change.Changed {
				out.Changed++
			}
			out.Components = append(out.Components, change)
		}
		applied := cloneDoc(doc)
		if out.Changed == 0 {
			if oldHash.Valid {
				sc.Apply(applied)
			}
			effective(&out, applied)
			return nil
		}
		var hash any
		out.SupportSHA256 = ""
		if len(sc.Components) > 0 {
			data, err := sc.YAML()
			if err != nil {
				return err
			}
			// Validated like an uploaded file: what is stored must read back.
			checked, err := sbom.ParseSidecar("support.yaml", data)
			if err != nil {
				return invalid("the support file would not be valid: %v", err)
			}
			checked.Apply(applied)
			sum := sha256.Sum256(data)
			out.SupportSHA256 = hex.EncodeToString(sum[:])
			hash = out.SupportSHA256
			if _, err := tx.ExecContext(ctx, "INSERT INTO blobs (sha256, size, data) VALUES (?, ?, ?) ON CONFLICT (sha256) DO NOTHING", out.SupportSHA256, len(data), data); err != nil {
				return mapErr(err)
			}
		}
		q := sbom.Check(applied, sbom.CheckOptions{Now: s.now()}).Score
		out.Quality = &q
		if _, err := tx.ExecContext(ctx, "UPDATE sboms SET support_sha256 = ?, quality = ? WHERE id = ?", hash, q, sbomID); err != nil {
			return mapErr(err)
		}
		effective(&out, applied)
		for _, c := range out.Components {
			if !c.Changed {
				continue
			}
			state := func(e *sbom.SupportEntry, sha string, q *int) map[string]any {
				m := map[string]any{"ref": c.Ref, "name": c.Name, "version": c.Version, "purl": c.PURL, "entry": e}
				if sha != "" {
					m["support_sha256"] = sha
				}
				if q != nil {
					m["quality"] = *q
				}
				return m
			}
			if err := tx.Audit(ctx, actor, "sbom.component_support", "sbom", idStr(sbomID),
				state(c.Before, oldHash.String, out.QualityBefore), state(c.After, out.SupportSHA256, out.Quality)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// sbomDocument parses the stored file of an SBOM.
func (s *Store) sbomDocument(ctx context.Context, b SBOM) (*sbom.Document, error) {
	data, err := s.EvidenceBlob(ctx, b.SHA256)
	if err != nil {
		return nil, err
	}
	doc, err := sbom.Parse(b.Filename, data)
	if err != nil {
		return nil, fmt.Errorf("the stored SBOM %d cannot be read: %w", b.ID, err)
	}
	return doc, nil
}

// supportQuality is the quality score of doc with the sidecar applied (doc is not changed).
func (s *Store) supportQuality(doc *sbom.Document, sc *sbom.Sidecar) int {
	d := cloneDoc(doc)
	sc.Apply(d)
	return sbom.Check(d, sbom.CheckOptions{Now: s.now()}).Score
}

func cloneDoc(doc *sbom.Document) *sbom.Document {
	d := *doc
	d.Components = slices.Clone(doc.Components)
	return &d
}

// effective fills each change with the component's support data as it now reads.
func effective(out *SupportUpdate, doc *sbom.Document) {
	for i := range out.Components {
		ch := &out.Components[i]
		for _, c := range doc.Components {
			if clip(c.Ref, maxLong) == ch.Ref {
				ch.Support, ch.EndOfSupport, ch.Note, ch.Source = c.Support, c.EndOfSupport, c.SupportNote, c.SupportSource
				break
			}
		}
	}
}

// ownEntry is a sidecar entry naming exactly component c: by package URL when it has a valid
// one, else by name and version (as sbom.Template does).
func ownEntry(c sbom.Component) sbom.SupportEntry {
	if p := strings.TrimSpace(c.PURL); p != "" && sbom.ValidPURL(p) == nil {
		return sbom.SupportEntry{PURL: p}
	}
	return sbom.SupportEntry{Name: strings.TrimSpace(c.Name), Version: strings.TrimSpace(c.Version)}
}

// winningEntry is the index of the entry Apply uses for c, or -1.
func winningEntry(sc *sbom.Sidecar, c *sbom.Component) int {
	best := -1
	for j := range sc.Components {
		e := &sc.Components[j]
		if e.Matches(c) && (best < 0 || e.Specificity() > sc.Components[best].Specificity()) {
			best = j
		}
	}
	return best
}

func sameEntry(a, b *sbom.SupportEntry) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.PURL == b.PURL && a.Name == b.Name && a.Version == b.Version && a.Support == b.Support && a.EndOfSupport == b.EndOfSupport && a.Note == b.Note
}

func describeComponent(c sbom.Component) string {
	if v := strings.TrimSpace(c.Version); v != "" {
		return strings.TrimSpace(c.Name) + " " + v
	}
	if n := strings.TrimSpace(c.Name); n != "" {
		return n
	}
	return c.Ref
}
