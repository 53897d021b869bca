-- A support sidecar (vigil/sbom-support/v1) per SBOM: the level of support and end-of-support date
-- of components when the SBOM itself lacks them (FDA premarket guidance V.A.4). The file is a blob.

-- +goose Up
ALTER TABLE sboms ADD COLUMN support_sha256 text REFERENCES blobs (sha256);

-- +goose Down
ALTER TABLE sboms DROP COLUMN support_sha256;
