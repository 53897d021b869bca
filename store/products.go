package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Product is a device product line; its versions hold the profiles.
type Product struct {
	ID           int64     `json:"id"`
	Name         string    `json:"name"`
	Manufacturer string    `json:"manufacturer"`
	Description  string    `json:"description"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// DeviceVersion is one version of a product with the device profile exactly as uploaded.
// Versions are immutable.
type DeviceVersion struct {
	ID          int64     `json:"id"`
	ProductID   int64     `json:"product_id"`
	ProductName string    `json:"product_name"`
	Version     string    `json:"version"`
	ProfileYAML string    `json:"profile_yaml,omitempty"` // empty in lists
	CreatedAt   time.Time `json:"created_at"`
}

// deviceVersionAudit is what the audit log records of a device version: the profile by hash.
type deviceVersionAudit struct {
	ID            int64     `json:"id"`
	ProductID     int64     `json:"product_id"`
	Version       string    `json:"version"`
	ProfileSHA256 string    `json:"profile_sha256"`
	ProfileSize   int       `json:"profile_size"`
	CreatedAt     time.Time `json:"created_at"`
}

const productCols = "id, name, manufacturer, description, created_at, updated_at"

func scanProduct(sc scanner) (Product, error) {
	var (
		p        Product
		cat, uat timeCol
	)
	err := sc.Scan(&p.ID, &p.Name, &p.Manufacturer, &p.Description, &cat, &uat)
	p.CreatedAt, p.UpdatedAt = cat.Time, uat.Time
	return p, err
}

func cleanProduct(p *Product) error {
	var err error
	if p.Name, err = text("name", p.Name, maxShort, true, false); err != nil {
		return err
	}
	if p.Manufacturer, err = text("manufacturer", p.Manufacturer, maxShort, false, false); err != nil {
		return err
	}
	if p.Description, err = text("description", p.Description, maxLong, false, true); err != nil {
		return err
	}
	return nil
}

func productConflict(err error, name string) error {
	if isConflict(err) {
		return fmt.Errorf("%w: a product named %q already exists", ErrConflict, name)
	}
	return mapErr(err)
}

// CreateProduct adds a product. Names are unique regardless of ASCII case.
func (s *Store) CreateProduct(ctx context.Context, actor string, p Product) (Product, error) {
	if err := cleanProduct(&p); err != nil {
		return Product{}, fmt.Errorf("store: create product: %w", err)
	}
	p.CreatedAt = s.nowUTC()
	p.UpdatedAt = p.CreatedAt
	err := s.Transact(ctx, func(tx *Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO products (name, manufacturer, description, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?) RETURNING id`, p.Name, p.Manufacturer, p.Description, p.CreatedAt, p.UpdatedAt).Scan(&p.ID)
		if err != nil {
			return productConflict(err, p.Name)
		}
		return tx.Audit(ctx, actor, "product.create", "product", idStr(p.ID), nil, p)
	})
	if err != nil {
		return Product{}, fmt.Errorf("store: create product: %w", err)
	}
	return p, nil
}

// UpdateProduct changes a product's name, manufacturer and description.
func (s *Store) UpdateProduct(ctx context.Context, actor string, p Product) (Product, error) {
	if err := cleanProduct(&p); err != nil {
		return Product{}, fmt.Errorf("store: update product: %w", err)
	}
	var out Product
	err := s.Transact(ctx, func(tx *Tx) error {
		before, err := scanProduct(tx.QueryRowContext(ctx, "SELECT "+productCols+" FROM products WHERE id = ?", p.ID))
		if err != nil {
			return notFound(fmt.Sprintf("product %d", p.ID), err)
		}
		after := before
		after.Name, after.Manufacturer, after.Description = p.Name, p.Manufacturer, p.Description
		if after == before {
			out = before
			return nil
		}
		after.UpdatedAt = s.nowUTC()
		if _, err := tx.ExecContext(ctx, "UPDATE products SET name = ?, manufacturer = ?, description = ?, updated_at = ? WHERE id = ?",
			after.Name, after.Manufacturer, after.Description, after.UpdatedAt, p.ID); err != nil {
			return productConflict(err, p.Name)
		}
		out = after
		return tx.Audit(ctx, actor, "product.update", "product", idStr(p.ID), before, after)
	})
	if err != nil {
		return Product{}, fmt.Errorf("store: update product: %w", err)
	}
	return out, nil
}

// Product returns one product.
func (s *Store) Product(ctx context.Context, id int64) (Product, error) {
	p, err := scanProduct(s.queryRow(ctx, "SELECT "+productCols+" FROM products WHERE id = ?", id))
	if err != nil {
		return Product{}, notFound(fmt.Sprintf("product %d", id), err)
	}
	return p, nil
}

// ListProducts returns all products ordered by name.
func (s *Store) ListProducts(ctx context.Context) ([]Product, error) {
	rows, err := s.query(ctx, "SELECT "+productCols+" FROM products ORDER BY lower(name), id")
	if err != nil {
		return nil, fmt.Errorf("store: list products: %w", err)
	}
	defer rows.Close()
	var out []Product
	for rows.Next() {
		p, err := scanProduct(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list products: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list products: %w", err)
	}
	return out, nil
}

// CreateDeviceVersion adds a version of a product with its profile text exactly as uploaded
// (the caller validates it as a profile). The audit entry records the profile's sha256.
func (s *Store) CreateDeviceVersion(ctx context.Context, actor string, productID int64, version, profileYAML string) (DeviceVersion, error) {
	version, err := text("version", version, maxShort, true, false)
	if err != nil {
		return DeviceVersion{}, fmt.Errorf("store: create device version: %w", err)
	}
	if err := checkProfile(profileYAML); err != nil {
		return DeviceVersion{}, fmt.Errorf("store: create device version: %w", err)
	}
	v := DeviceVersion{ProductID: productID, Version: version, ProfileYAML: profileYAML, CreatedAt: s.nowUTC()}
	err = s.Transact(ctx, func(tx *Tx) error {
		if err := tx.QueryRowContext(ctx, "SELECT name FROM products WHERE id = ?", productID).Scan(&v.ProductName); err != nil {
			return notFound(fmt.Sprintf("product %d", productID), err)
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO device_versions (product_id, version, profile_yaml, created_at)
			VALUES (?, ?, ?, ?) RETURNING id`, productID, version, profileYAML, v.CreatedAt).Scan(&v.ID)
		if err != nil {
			if isConflict(err) {
				return fmt.Errorf("%w: %s already has a version %q", ErrConflict, v.ProductName, version)
			}
			return mapErr(err)
		}
		sum := sha256.Sum256([]byte(profileYAML))
		return tx.Audit(ctx, actor, "device_version.create", "device_version", idStr(v.ID), nil, deviceVersionAudit{
			ID: v.ID, ProductID: productID, Version: version, ProfileSHA256: hex.EncodeToString(sum[:]),
			ProfileSize: len(profileYAML), CreatedAt: v.CreatedAt,
		})
	})
	if err != nil {
		return DeviceVersion{}, fmt.Errorf("store: create device version: %w", err)
	}
	return v, nil
}

func checkProfile(y string) error {
	switch {
	case strings.TrimSpace(y) == "":
		return invalid("profile is empty")
	case len(y) > maxYAML:
		return invalid("profile is larger than %d bytes", maxYAML)
	case !utf8.ValidString(y):
		return invalid("profile is not valid UTF-8")
	case strings.IndexByte(y, 0) >= 0:
		return invalid("profile contains a NUL byte")
	}
	return nil
}

// DeviceVersion returns one version with its profile.
func (s *Store) DeviceVersion(ctx context.Context, id int64) (DeviceVersion, error) {
	var (
		v  DeviceVersion
		at timeCol
	)
	err := s.queryRow(ctx, `SELECT v.id, v.product_id, p.name, v.version, v.profile_yaml, v.created_at
		FROM device_versions v JOIN products p ON p.id = v.product_id WHERE v.id = ?`, id).
		Scan(&v.ID, &v.ProductID, &v.ProductName, &v.Version, &v.ProfileYAML, &at)
	if err != nil {
		return DeviceVersion{}, notFound(fmt.Sprintf("device version %d", id), err)
	}
	v.CreatedAt = at.Time
	return v, nil
}

// ListDeviceVersions returns a product's versions, oldest first, without profiles.
func (s *Store) ListDeviceVersions(ctx context.Context, productID int64) ([]DeviceVersion, error) {
	var n int
	if err := s.queryRow(ctx, "SELECT count(*) FROM products WHERE id = ?", productID).Scan(&n); err != nil {
		return nil, fmt.Errorf("store: list device versions: %w", err)
	}
	if n == 0 {
		return nil, fmt.Errorf("store: list device versions: product %d: %w", productID, ErrNotFound)
	}
	return s.listVersions(ctx, "WHERE v.product_id = ? ORDER BY v.id", productID)
}

// ListAllDeviceVersions returns every version of every product, ordered by product name and then
// age, without profiles: what the dashboard lists.
func (s *Store) ListAllDeviceVersions(ctx context.Context) ([]DeviceVersion, error) {
	return s.listVersions(ctx, "ORDER BY lower(p.name), p.id, v.id")
}

func (s *Store) listVersions(ctx context.Context, tail string, args ...any) ([]DeviceVersion, error) {
	rows, err := s.query(ctx, `SELECT v.id, v.product_id, p.name, v.version, v.created_at
		FROM device_versions v JOIN products p ON p.id = v.product_id `+tail, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list device versions: %w", err)
	}
	defer rows.Close()
	var out []DeviceVersion
	for rows.Next() {
		var (
			v  DeviceVersion
			at timeCol
		)
		if err := rows.Scan(&v.ID, &v.ProductID, &v.ProductName, &v.Version, &at); err != nil {
			return nil, fmt.Errorf("store: list device versions: %w", err)
		}
		v.CreatedAt = at.Time
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list device versions: %w", err)
	}
	return out, nil
}
