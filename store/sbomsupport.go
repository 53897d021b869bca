package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
)

// SetSBOMSupport stores a support sidecar (vigil/sbom-support/v1 YAML, validated by the caller)
// for an SBOM, replacing any earlier one, with an audit entry (sbom.support).
func (s *Store) SetSBOMSupport(ctx context.Context, actor string, sbomID int64, data []byte) error {
	if len(data) == 0 {
		return fmt.Errorf("store: sbom support: %w", invalid("the support file is empty"))
	}
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])
	return s.Transact(ctx, func(tx *Tx) error {
		var before sql.NullString
		if err := tx.QueryRowContext(ctx, "SELECT support_sha256 FROM sboms WHERE id = ?", sbomID).Scan(&before); err != nil {
			return notFound("sbom", err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO blobs (sha256, size, data) VALUES (?, ?, ?) ON CONFLICT (sha256) DO NOTHING", hash, len(data), data); err != nil {
			return fmt.Errorf("store: sbom support: %w", mapErr(err))
		}
		if _, err := tx.ExecContext(ctx, "UPDATE sboms SET support_sha256 = ? WHERE id = ?", hash, sbomID); err != nil {
			return fmt.Errorf("store: sbom support: %w", mapErr(err))
		}
		var b any
		if before.Valid {
			b = map[string]any{"support_sha256": before.String}
		}
		return tx.Audit(ctx, actor, "sbom.support", "sbom", idStr(sbomID), b, map[string]any{"support_sha256": hash, "size": len(data)})
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
