package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vigil-med/vigil/vuln"
)

// Findings are computed by the same matcher as `vigil scan` (vuln.Match), over the components of
// all SBOMs of a device version, and stored so that the portfolio can be asked about them
// without matching again. A refresh runs in a write transaction: it reads the components
// through the transaction, the advisories through the read pool (committed data; no other
// writer can commit while the transaction holds the write lock), and writes the difference:
// new findings are inserted with first_seen_at, findings that no longer match get resolved_at,
// open ones get last_seen_at.

// Finding is a stored finding of a device version, with its current VEX decision.
type Finding struct {
	DeviceVersionID int64  `json:"device_version_id"`
	ProductID       int64  `json:"product_id,omitempty"`
	ProductName     string `json:"product_name,omitempty"`
	Version         string `json:"version,omitempty"`
	// ComponentKey is the component's package URL without qualifiers (or name@version): the
	// same component in two SBOMs of the version is one finding.
	ComponentKey  string         `json:"component_key"`
	Component     vuln.Component `json:"component"`
	Ecosystem     string         `json:"ecosystem"`
	Advisory      string         `json:"advisory"`
	Aliases       []string       `json:"aliases"`
	Summary       string         `json:"summary,omitempty"`
	Informational string         `json:"informational,omitempty"`
	Severity      vuln.Severity  `json:"severity"`
	// SeveritySource is the alias record the severity was taken from, when it is not the
	// advisory's own (see vuln.Finding.SeveritySource).
	SeveritySource string   `json:"severity_source,omitempty"`
	KnownExploited bool     `json:"known_exploited"`
	EPSS           *float64 `json:"epss,omitempty"`
	EPSSPercentile *float64 `json:"epss_percentile,omitempty"`
	FixedIn        []string `json:"fixed_in"`
	// Sources are the labels of the version's SBOMs that list the component.
	Sources     []string      `json:"sources"`
	FirstSeenAt time.Time     `json:"first_seen_at"`
	LastSeenAt  time.Time     `json:"last_seen_at"`
	ResolvedAt  *time.Time    `json:"resolved_at,omitempty"`
	VEX         *VEXStatement `json:"vex,omitempty"`
}

// IDs returns the finding's advisory followed by its aliases.
func (f *Finding) IDs() []string { return append([]string{f.Advisory}, f.Aliases...) }

// RefreshResult reports a refresh of findings.
type RefreshResult struct {
	Versions int `json:"versions"` // device versions refreshed
	Open     int `json:"open"`     // their open findings afterwards
	// New are the findings first seen in this refresh (or seen again after being resolved),
	// with product and version names.
	New      []Finding `json:"new"`
	Updated  int       `json:"updated"`  // open findings whose data changed (severity, KEV, EPSS, fix)
	Resolved int       `json:"resolved"` // findings that no longer match
	At       time.Time `json:"at"`
}

// NewVersions returns the device versions that have new findings, in order of first mention.
func (r RefreshResult) NewVersions() []int64 {
	var out []int64
	for _, f := range r.New {
		if !slices.Contains(out, f.DeviceVersionID) {
			out = append(out, f.DeviceVersionID)
		}
	}
	return out
}

const findingCols = `f.device_version_id, f.component_key, f.advisory_id, f.component_name, f.component_version, f.purl, f.ecosystem,
	f.aliases, f.summary, f.informational, f.severity_rating, f.severity_score, f.severity_vector, f.kev, f.epss, f.epss_percentile,
	f.fixed_in, f.sources, f.first_seen_at, f.last_seen_at, f.resolved_at, f.severity_source`

func scanFinding(sc scanner, f *Finding, extra ...any) error {
	var (
		aliases, fixed, srcs  string
		score, epss, pct      sql.NullFloat64
		first, last, resolved timeCol
	)
	dest := append([]any{&f.DeviceVersionID, &f.ComponentKey, &f.Advisory, &f.Component.Name, &f.Component.Version, &f.Component.PURL, &f.Ecosystem,
		&aliases, &f.Summary, &f.Informational, &f.Severity.Rating, &score, &f.Severity.Vector, &f.KnownExploited, &epss, &pct,
		&fixed, &srcs, &first, &last, &resolved, &f.SeveritySource}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return err
	}
	f.Aliases, f.FixedIn, f.Sources = jsonList(aliases), jsonList(fixed), jsonList(srcs)
	if score.Valid {
		v := score.Float64
		f.Severity.Score = &v
	}
	if epss.Valid {
		v := epss.Float64
		f.EPSS = &v
	}
	if pct.Valid {
		v := pct.Float64
		f.EPSSPercentile = &v
	}
	f.FirstSeenAt, f.LastSeenAt, f.ResolvedAt = first.Time, last.Time, resolved.ptr()
	return nil
}

func jsonList(s string) []string {
	var out []string
	if err := json.Unmarshal([]byte(s), &out); err != nil || out == nil {
		return []string{}
	}
	return out
}

func jsonText(list []string) string {
	if list == nil {
		list = []string{}
	}
	b, _ := json.Marshal(list)
	return string(b)
}

// versionComponent is a component of a device version (from any of its SBOMs).
type versionComponent struct {
	version int64
	label   string
	comp    vuln.Component
	key     string
}

// refreshTx recomputes the findings of the given device versions in tx.
func (s *Store) refreshTx(ctx context.Context, tx *Tx, actor string, versionIDs []int64, trigger string) (RefreshResult, error) {
	now := s.nowUTC()
	res := RefreshResult{At: now, New: []Finding{}}
	versionIDs = uniqueIDs(versionIDs)
	if len(versionIDs) == 0 {
		return res, nil
	}
	// The components of each version, in SBOM order.
	byVersion := map[int64][]versionComponent{}
	union := map[string]vuln.Component{}
	var order []string
	for _, part := range chunkIDs(versionIDs, 500) {
		rows, err := tx.QueryContext(ctx, `SELECT s.device_version_id, s.label, c.name, c.version, c.purl, c.component_key
			FROM sbom_components c JOIN sboms s ON s.id = c.sbom_id
			WHERE s.device_version_id IN (`+placeholders(len(part))+`) AND c.ecosystem <> ''
			ORDER BY s.device_version_id, s.label, c.seq`, int64Args(part)...)
		if err != nil {
			return res, fmt.Errorf("refresh findings: components: %w", err)
		}
		for rows.Next() {
			var vc versionComponent
			if err := rows.Scan(&vc.version, &vc.label, &vc.comp.Name, &vc.comp.Version, &vc.comp.PURL, &vc.key); err != nil {
				rows.Close()
				return res, fmt.Errorf("refresh findings: components: %w", err)
			}
			byVersion[vc.version] = append(byVersion[vc.version], vc)
			if _, ok := union[vc.key]; !ok {
				union[vc.key] = vc.comp
				order = append(order, vc.key)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return res, fmt.Errorf("refresh findings: components: %w", err)
		}
	}
	comps := make([]vuln.Component, 0, len(order))
	for _, k := range order {
		comps = append(comps, union[k])
	}
	matched, err := vuln.Match(ctx, s, comps)
	if err != nil {
		return res, fmt.Errorf("refresh findings: %w", err)
	}
	byPkg := findingsByPackage(matched.Findings)

	// What each version should have now.
	type fkey struct{ comp, advisory string }
	want := map[int64]map[fkey]*Finding{}
	for _, v := range versionIDs {
		cur := map[fkey]*Finding{}
		want[v] = cur
		for _, vc := range byVersion[v] {
			pk, ok := packageKeyOf(vc.comp.PURL)
			if !ok {
				continue
			}
			for _, mf := range byPkg[pk] {
				k := fkey{vc.key, mf.Advisory}
				if f := cur[k]; f != nil {
					if !slices.Contains(f.Sources, vc.label) {
						f.Sources = append(f.Sources, vc.label)
					}
					continue
				}
				f := findingOf(v, vc, mf)
				cur[k] = &f
			}
		}
	}

	// What is stored, and the difference.
	type change struct{ newCount, resolved int }
	changes := map[int64]*change{}
	chg := func(v int64) *change {
		if changes[v] == nil {
			changes[v] = &change{}
		}
		return changes[v]
	}
	var inserts [][]any
	for _, part := range chunkIDs(versionIDs, 500) {
		rows, err := tx.QueryContext(ctx, "SELECT "+findingCols+" FROM findings f WHERE f.device_version_id IN ("+placeholders(len(part))+")", int64Args(part)...)
		if err != nil {
			return res, fmt.Errorf("refresh findings: %w", err)
		}
		var stored []Finding
		for rows.Next() {
			var f Finding
			if err := scanFinding(rows, &f); err != nil {
				rows.Close()
				return res, fmt.Errorf("refresh findings: %w", err)
			}
			stored = append(stored, f)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return res, fmt.Errorf("refresh findings: %w", err)
		}
		for _, old := range stored {
			k := fkey{old.ComponentKey, old.Advisory}
			f, ok := want[old.DeviceVersionID][k]
			switch {
			case !ok && old.ResolvedAt == nil:
				if _, err := tx.ExecContext(ctx, "UPDATE findings SET resolved_at = ? WHERE device_version_id = ? AND component_key = ? AND advisory_id = ?",
					now, old.DeviceVersionID, old.ComponentKey, old.Advisory); err != nil {
					return res, fmt.Errorf("refresh findings: %w", mapErr(err))
				}
				res.Resolved++
				chg(old.DeviceVersionID).resolved++
			case !ok:
			default:
				delete(want[old.DeviceVersionID], k)
				reopened := old.ResolvedAt != nil
				if !reopened && sameFinding(&old, f) {
					continue
				}
				if _, err := tx.ExecContext(ctx, `UPDATE findings SET component_name = ?, component_version = ?, purl = ?, ecosystem = ?, aliases = ?,
					summary = ?, informational = ?, severity_rating = ?, severity_score = ?, severity_vector = ?, kev = ?, epss = ?, epss_percentile = ?,
					fixed_in = ?, sources = ?, severity_source = ?, last_seen_at = ?, resolved_at = NULL
					WHERE device_version_id = ? AND component_key = ? AND advisory_id = ?`,
					append(findingValues(f)[3:19], now, old.DeviceVersionID, old.ComponentKey, old.Advisory)...); err != nil {
					return res, fmt.Errorf("refresh findings: %w", mapErr(err))
				}
				if reopened {
					f.FirstSeenAt, f.LastSeenAt = old.FirstSeenAt, now
					res.New = append(res.New, *f)
					chg(old.DeviceVersionID).newCount++
				} else {
					res.Updated++
				}
			}
		}
	}
	for _, v := range versionIDs {
		keys := make([]fkey, 0, len(want[v]))
		for k := range want[v] {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b fkey) int { return cmp.Or(cmp.Compare(a.comp, b.comp), cmp.Compare(a.advisory, b.advisory)) })
		for _, k := range keys {
			f := want[v][k]
			f.FirstSeenAt, f.LastSeenAt = now, now
			inserts = append(inserts, append(findingValues(f), now, now))
			res.New = append(res.New, *f)
			chg(v).newCount++
		}
	}
	if err := insertRows(ctx, tx, "findings", []string{"device_version_id", "component_key", "advisory_id", "component_name", "component_version", "purl", "ecosystem",
		"aliases", "summary", "informational", "severity_rating", "severity_score", "severity_vector", "kev", "epss", "epss_percentile",
		"fixed_in", "sources", "severity_source", "first_seen_at", "last_seen_at"}, inserts); err != nil {
		return res, fmt.Errorf("refresh findings: %w", err)
	}
	for _, part := range chunkIDs(versionIDs, 500) {
		if _, err := tx.ExecContext(ctx, "UPDATE findings SET last_seen_at = ? WHERE resolved_at IS NULL AND device_version_id IN ("+placeholders(len(part))+")",
			append([]any{now}, int64Args(part)...)...); err != nil {
			return res, fmt.Errorf("refresh findings: %w", mapErr(err))
		}
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM findings WHERE resolved_at IS NULL AND device_version_id IN ("+placeholders(len(part))+")",
			int64Args(part)...).Scan(&n); err != nil {
			return res, fmt.Errorf("refresh findings: %w", err)
		}
		res.Open += n
	}
	res.Versions = len(versionIDs)
	if err := fillNames(ctx, tx, res.New); err != nil {
		return res, err
	}

	// One audit entry per refresh, naming the versions that changed.
	type versionChange struct {
		ID       int64 `json:"device_version_id"`
		New      int   `json:"new,omitempty"`
		Resolved int   `json:"resolved,omitempty"`
	}
	var changed []versionChange
	for _, v := range versionIDs {
		if c := changes[v]; c != nil && len(changed) < 1000 {
			changed = append(changed, versionChange{v, c.newCount, c.resolved})
		}
	}
	entity, id := "findings", "portfolio"
	if len(versionIDs) == 1 {
		entity, id = "device_version", idStr(versionIDs[0])
	}
	if err := tx.Audit(ctx, actor, "findings.refresh", entity, id, nil, map[string]any{
		"trigger": trigger, "versions": res.Versions, "open": res.Open, "new": len(res.New), "updated": res.Updated, "resolved": res.Resolved, "changed": changed,
	}); err != nil {
		return res, err
	}
	return res, nil
}

type pkgKey struct{ eco, name, version string }

func packageKeyOf(purl string) (pkgKey, bool) {
	p, ok := vuln.PackageOf(purl)
	if !ok || p.Version == "" {
		return pkgKey{}, false
	}
	return pkgKey{p.Ecosystem, p.Name, p.Version}, true
}

// findingsByPackage indexes matcher findings by the package they were found in: the matcher
// reports each package once, under the first component that named it.
func findingsByPackage(list []vuln.Finding) map[pkgKey][]vuln.Finding {
	out := map[pkgKey][]vuln.Finding{}
	for _, f := range list {
		if k, ok := packageKeyOf(f.Component.PURL); ok {
			out[k] = append(out[k], f)
		}
	}
	return out
}

// findingOf is the stored form of a matcher finding for one version's component.
func findingOf(version int64, vc versionComponent, mf vuln.Finding) Finding {
	f := Finding{
		DeviceVersionID: version, ComponentKey: vc.key, Component: vc.comp, Ecosystem: mf.Ecosystem, Advisory: mf.Advisory,
		Aliases: mf.Aliases, Summary: mf.Summary, Informational: mf.Informational, Severity: mf.Severity, SeveritySource: mf.SeveritySource,
		KnownExploited: mf.KnownExploited, FixedIn: mf.FixedIn, Sources: []string{vc.label},
	}
	if f.Component.Version == "" {
		f.Component.Version = mf.Component.Version
	}
	if f.Aliases == nil {
		f.Aliases = []string{}
	}
	if f.FixedIn == nil {
		f.FixedIn = []string{}
	}
	if mf.EPSS != nil {
		score, pct := mf.EPSS.Score, mf.EPSS.Percentile
		f.EPSS, f.EPSSPercentile = &score, &pct
	}
	return f
}

// findingValues are the stored columns of f from device_version_id to severity_source, without the
// times, in the order of the insert in refreshTx.
func findingValues(f *Finding) []any {
	var score, epss, pct any
	if f.Severity.Score != nil {
		score = *f.Severity.Score
	}
	if f.EPSS != nil {
		epss = *f.EPSS
	}
	if f.EPSSPercentile != nil {
		pct = *f.EPSSPercentile
	}
	return []any{f.DeviceVersionID, f.ComponentKey, f.Advisory, clip(f.Component.Name, maxLong), clip(f.Component.Version, maxLong), f.Component.PURL, f.Ecosystem,
		jsonText(f.Aliases), f.Summary, f.Informational, cmp.Or(f.Severity.Rating, vuln.RatingUnknown), score, f.Severity.Vector, f.KnownExploited, epss, pct,
		jsonText(f.FixedIn), jsonText(f.Sources), f.SeveritySource}
}

func sameFinding(old, f *Finding) bool {
	eqf := func(a, b *float64) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }
	return old.Component == f.Component && old.Ecosystem == f.Ecosystem && slices.Equal(old.Aliases, f.Aliases) && old.Summary == f.Summary &&
		old.Informational == f.Informational && old.Severity.Rating == cmp.Or(f.Severity.Rating, vuln.RatingUnknown) && eqf(old.Severity.Score, f.Severity.Score) &&
		old.Severity.Vector == f.Severity.Vector && old.SeveritySource == f.SeveritySource && old.KnownExploited == f.KnownExploited && eqf(old.EPSS, f.EPSS) && eqf(old.EPSSPercentile, f.EPSSPercentile) &&
		slices.Equal(old.FixedIn, f.FixedIn) && slices.Equal(old.Sources, f.Sources)
}

// fillNames sets the product and version names of findings.
func fillNames(ctx context.Context, tx *Tx, list []Finding) error {
	var ids []int64
	for _, f := range list {
		ids = append(ids, f.DeviceVersionID)
	}
	names, err := versionNames(ctx, tx.QueryContext, uniqueIDs(ids))
	if err != nil {
		return err
	}
	for i := range list {
		n := names[list[i].DeviceVersionID]
		list[i].ProductID, list[i].ProductName, list[i].Version = n.ProductID, n.ProductName, n.Version
	}
	return nil
}

type queryFunc func(ctx context.Context, q string, args ...any) (*sql.Rows, error)

// versionNames returns the product and version of device versions.
func versionNames(ctx context.Context, query queryFunc, ids []int64) (map[int64]DeviceVersion, error) {
	out := map[int64]DeviceVersion{}
	for _, part := range chunkIDs(ids, 500) {
		rows, err := query(ctx, `SELECT v.id, v.product_id, p.name, v.version FROM device_versions v JOIN products p ON p.id = v.product_id
			WHERE v.id IN (`+placeholders(len(part))+`)`, int64Args(part)...)
		if err != nil {
			return nil, fmt.Errorf("store: device versions: %w", err)
		}
		for rows.Next() {
			var v DeviceVersion
			if err := rows.Scan(&v.ID, &v.ProductID, &v.ProductName, &v.Version); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: device versions: %w", err)
			}
			out[v.ID] = v
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: device versions: %w", err)
		}
	}
	return out, nil
}

func uniqueIDs(ids []int64) []int64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}

func chunkIDs(ids []int64, n int) [][]int64 {
	var out [][]int64
	for len(ids) > n {
		out = append(out, ids[:n])
		ids = ids[n:]
	}
	if len(ids) > 0 {
		out = append(out, ids)
	}
	return out
}

func int64Args(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

// RefreshFindings recomputes the findings of the given device versions (nil: every version
// with an SBOM) against the advisories now stored.
func (s *Store) RefreshFindings(ctx context.Context, actor string, versionIDs []int64) (RefreshResult, error) {
	var res RefreshResult
	err := s.Transact(ctx, func(tx *Tx) error {
		ids := versionIDs
		if ids == nil {
			var err error
			if ids, err = queryIDs(ctx, tx.QueryContext, "SELECT DISTINCT device_version_id FROM sboms"); err != nil {
				return err
			}
		}
		var err error
		res, err = s.refreshTx(ctx, tx, actor, ids, "refresh")
		return err
	})
	if err != nil {
		return RefreshResult{}, fmt.Errorf("store: refresh findings: %w", err)
	}
	return res, nil
}

// RefreshAfterVulnImport refreshes the findings that a vulnerability import (its FeedCounts)
// can have changed: those of every device version with a component named by an advisory the
// import added or updated (or with an open finding of such an advisory); and, when KEV or EPSS
// data changed, those of every version with open findings. Nothing is done when the import
// changed nothing.
func (s *Store) RefreshAfterVulnImport(ctx context.Context, actor string, counts []FeedCounts) (RefreshResult, error) {
	osvChanged, scoresChanged := false, false
	var sources []string
	for _, c := range counts {
		if c.Added+c.Updated == 0 {
			continue
		}
		sources = append(sources, c.Source)
		switch c.Kind {
		case string(vuln.KindOSV):
			osvChanged = true
		default:
			scoresChanged = true
		}
	}
	res := RefreshResult{At: s.nowUTC(), New: []Finding{}}
	if !osvChanged && !scoresChanged {
		return res, nil
	}
	err := s.Transact(ctx, func(tx *Tx) error {
		var ids []int64
		if osvChanged {
			var since timeCol
			if err := tx.QueryRowContext(ctx, "SELECT max(imported_at) FROM vuln_feeds WHERE source IN ("+placeholders(len(sources))+")",
				stringArgs(nil, sources)...).Scan(&since); err != nil {
				return fmt.Errorf("last import: %w", err)
			}
			if since.Valid {
				got, err := versionsTouchedSince(ctx, tx, since.Time)
				if err != nil {
					return err
				}
				ids = append(ids, got...)
			}
		}
		if scoresChanged {
			got, err := queryIDs(ctx, tx.QueryContext, "SELECT DISTINCT device_version_id FROM findings WHERE resolved_at IS NULL")
			if err != nil {
				return err
			}
			ids = append(ids, got...)
		}
		var err error
		res, err = s.refreshTx(ctx, tx, actor, ids, "vulndb.import")
		return err
	})
	if err != nil {
		return RefreshResult{}, fmt.Errorf("store: refresh findings after import: %w", err)
	}
	return res, nil
}

// versionsTouchedSince returns the device versions that advisories imported at or after since
// can concern: versions with a component of a package they name, or an open finding of theirs.
func versionsTouchedSince(ctx context.Context, tx *Tx, since time.Time) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT f.ecosystem, f.name FROM affected f JOIN advisories a ON a.id = f.advisory_id
		WHERE a.imported_at >= ?`, since)
	if err != nil {
		return nil, fmt.Errorf("changed packages: %w", err)
	}
	names := map[string][]string{}
	for rows.Next() {
		var eco, name string
		if err := rows.Scan(&eco, &name); err != nil {
			rows.Close()
			return nil, fmt.Errorf("changed packages: %w", err)
		}
		names[eco] = append(names[eco], name)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("changed packages: %w", err)
	}
	var ids []int64
	for eco, list := range names {
		for _, part := range chunks(list, 500) {
			got, err := queryIDs(ctx, tx.QueryContext, `SELECT DISTINCT s.device_version_id FROM sbom_components c JOIN sboms s ON s.id = c.sbom_id
				WHERE c.ecosystem = ? AND c.package IN (`+placeholders(len(part))+`)`, stringArgs([]any{eco}, part)...)
			if err != nil {
				return nil, err
			}
			ids = append(ids, got...)
		}
	}
	got, err := queryIDs(ctx, tx.QueryContext, `SELECT DISTINCT device_version_id FROM findings WHERE resolved_at IS NULL
		AND advisory_id IN (SELECT id FROM advisories WHERE imported_at >= ?)`, since)
	if err != nil {
		return nil, err
	}
	return append(ids, got...), nil
}

func queryIDs(ctx context.Context, query queryFunc, q string, args ...any) ([]int64, error) {
	rows, err := query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// FindingFilter selects findings of a device version.
type FindingFilter struct {
	Ratings []string // severity ratings to keep (critical, high, medium, low, none, unknown); empty: all
	KEV     *bool    // known exploited only (true) or not (false)
	// Status keeps findings with this VEX status, or without a decision ("untriaged").
	Status string
	// Resolved includes findings that no longer match.
	Resolved bool
}

// StatusUntriaged is the FindingFilter.Status of findings without a VEX decision.
const StatusUntriaged = "untriaged"

// ListFindings returns the findings of a device version with their VEX decision, most pressing
// first: known exploited, then by severity and score, then by component and advisory.
func (s *Store) ListFindings(ctx context.Context, deviceVersionID int64, flt FindingFilter) ([]Finding, error) {
	if err := s.versionExists(ctx, deviceVersionID); err != nil {
		return nil, fmt.Errorf("store: list findings: %w", err)
	}
	where := "WHERE f.device_version_id = ?"
	args := []any{deviceVersionID}
	if !flt.Resolved {
		where += " AND f.resolved_at IS NULL"
	}
	if len(flt.Ratings) > 0 {
		where += " AND f.severity_rating IN (" + placeholders(len(flt.Ratings)) + ")"
		args = stringArgs(args, flt.Ratings)
	}
	if flt.KEV != nil {
		where += " AND f.kev = ?"
		args = append(args, *flt.KEV)
	}
	switch flt.Status {
	case "":
	case StatusUntriaged:
		where += " AND x.status IS NULL"
	default:
		where += " AND x.status = ?"
		args = append(args, flt.Status)
	}
	out, err := s.listFindings(ctx, where, args)
	if err != nil {
		return nil, fmt.Errorf("store: list findings: %w", err)
	}
	slices.SortStableFunc(out, func(a, b Finding) int {
		return cmp.Or(boolCmp(a.ResolvedAt == nil, b.ResolvedAt == nil), boolCmp(a.KnownExploited, b.KnownExploited),
			cmp.Compare(vuln.RatingRank(b.Severity.Rating), vuln.RatingRank(a.Severity.Rating)), cmp.Compare(scoreOf(b), scoreOf(a)),
			cmp.Compare(a.Component.Name, b.Component.Name), cmp.Compare(a.ComponentKey, b.ComponentKey), cmp.Compare(a.Advisory, b.Advisory))
	})
	return out, nil
}

func boolCmp(a, b bool) int { // true first
	switch {
	case a == b:
		return 0
	case a:
		return -1
	}
	return 1
}

func scoreOf(f Finding) float64 {
	if f.Severity.Score == nil {
		return -1
	}
	return *f.Severity.Score
}

// listFindings reads findings with their VEX decision and product names.
func (s *Store) listFindings(ctx context.Context, where string, args []any) ([]Finding, error) {
	rows, err := s.query(ctx, "SELECT "+findingCols+", p.id, p.name, v.version, "+vexColsX+` FROM findings f
		JOIN device_versions v ON v.id = f.device_version_id JOIN products p ON p.id = v.product_id
		LEFT JOIN vex_statements x ON x.device_version_id = f.device_version_id AND x.advisory_id = f.advisory_id AND x.component_key = f.component_key
		`+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Finding{}
	for rows.Next() {
		var (
			f Finding
			n vexNullable
		)
		if err := scanFinding(rows, &f, append([]any{&f.ProductID, &f.ProductName, &f.Version}, n.dest()...)...); err != nil {
			return nil, err
		}
		f.VEX = n.statement()
		out = append(out, f)
	}
	return out, rows.Err()
}

// NewFindings returns the open findings first seen at or after since, across the portfolio,
// newest first: which device versions a newly imported advisory or SBOM affects.
func (s *Store) NewFindings(ctx context.Context, since time.Time) ([]Finding, error) {
	out, err := s.listFindings(ctx, "WHERE f.first_seen_at >= ? AND f.resolved_at IS NULL", []any{since})
	if err != nil {
		return nil, fmt.Errorf("store: new findings: %w", err)
	}
	slices.SortStableFunc(out, func(a, b Finding) int {
		return cmp.Or(b.FirstSeenAt.Compare(a.FirstSeenAt), cmp.Compare(strings.ToLower(a.ProductName), strings.ToLower(b.ProductName)),
			cmp.Compare(a.DeviceVersionID, b.DeviceVersionID), cmp.Compare(a.ComponentKey, b.ComponentKey), cmp.Compare(a.Advisory, b.Advisory))
	})
	return out, nil
}

// FindingSummary counts the open findings of a device version.
type FindingSummary struct {
	Open           int            `json:"open"`
	ByRating       map[string]int `json:"by_rating"`
	KnownExploited int            `json:"known_exploited"`
	// ByStatus counts findings by VEX status; those without a decision under "untriaged".
	ByStatus map[string]int `json:"by_status"`
}

// FindingSummaries returns the summary of open findings of every device version that has any.
func (s *Store) FindingSummaries(ctx context.Context) (map[int64]FindingSummary, error) {
	rows, err := s.query(ctx, `SELECT f.device_version_id, f.severity_rating, f.kev, COALESCE(x.status, ''), count(*) FROM findings f
		LEFT JOIN vex_statements x ON x.device_version_id = f.device_version_id AND x.advisory_id = f.advisory_id AND x.component_key = f.component_key
		WHERE f.resolved_at IS NULL GROUP BY f.device_version_id, f.severity_rating, f.kev, COALESCE(x.status, '')`)
	if err != nil {
		return nil, fmt.Errorf("store: finding summaries: %w", err)
	}
	defer rows.Close()
	out := map[int64]FindingSummary{}
	for rows.Next() {
		var (
			id         int64
			rating, st string
			kev        bool
			n          int
		)
		if err := rows.Scan(&id, &rating, &kev, &st, &n); err != nil {
			return nil, fmt.Errorf("store: finding summaries: %w", err)
		}
		sum, ok := out[id]
		if !ok {
			sum = FindingSummary{ByRating: map[string]int{}, ByStatus: map[string]int{}}
		}
		sum.Open += n
		sum.ByRating[rating] += n
		if kev {
			sum.KnownExploited += n
		}
		sum.ByStatus[cmp.Or(st, StatusUntriaged)] += n
		out[id] = sum
	}
	return out, rows.Err()
}

// Impact answers "who is hit by this vulnerability?" across the portfolio.
type Impact struct {
	// Query is the ID asked about; IDs are all IDs of the vulnerability (the query, the
	// advisories that name it and their aliases), Advisories those that are stored advisories.
	Query      string   `json:"query"`
	IDs        []string `json:"ids"`
	Advisories []string `json:"advisories"`
	// Withdrawn lists advisories of the vulnerability that were withdrawn (they match nothing).
	Withdrawn      []string      `json:"withdrawn,omitempty"`
	Summary        string        `json:"summary,omitempty"`
	Severity       vuln.Severity `json:"severity"`
	KnownExploited bool          `json:"known_exploited"`
	// Affected lists each (device version, component) the vulnerability affects, by product,
	// version and component.
	Affected       []ImpactEntry `json:"affected"`
	DeviceVersions int           `json:"device_versions"`
	Products       int           `json:"products"`
	// Triage counts the affected entries by VEX status ("untriaged" without a decision).
	Triage  map[string]int `json:"triage"`
	Elapsed time.Duration  `json:"-"`
}

// ImpactEntry is one affected component of one device version.
type ImpactEntry struct {
	DeviceVersionID int64          `json:"device_version_id"`
	ProductID       int64          `json:"product_id"`
	ProductName     string         `json:"product_name"`
	Version         string         `json:"version"`
	ComponentKey    string         `json:"component_key"`
	Component       vuln.Component `json:"component"`
	Sources         []string       `json:"sources"` // labels of the SBOMs listing the component
	// Advisory is the ID the finding is reported under (the matcher's choice among the
	// vulnerability's advisories), with its aliases.
	Advisory       string        `json:"advisory"`
	Aliases        []string      `json:"aliases"`
	Severity       vuln.Severity `json:"severity"`
	FixedIn        []string      `json:"fixed_in"`
	KnownExploited bool          `json:"known_exploited"`
	EPSS           *float64      `json:"epss,omitempty"`
	// FirstSeenAt is when the stored findings first had it (nil: not yet stored, as after an
	// import whose findings refresh has not run).
	FirstSeenAt *time.Time    `json:"first_seen_at,omitempty"`
	VEX         *VEXStatement `json:"vex,omitempty"`
}

// Impact lists the device versions a vulnerability (given by any of its IDs: GO-…, GHSA-…,
// CVE-…) affects, from the stored SBOMs and advisories, matched as `vigil scan` matches: the IDs
// are resolved through the aliases, the packages their advisories name are looked up in the
// index of SBOM components, and the matcher (vuln.Match) checks the versions and computes the
// fixed versions. Each entry carries the current VEX decision. ErrNotFound when no stored
// advisory has or names the ID.
func (s *Store) Impact(ctx context.Context, id string) (*Impact, error) {
	start := time.Now()
	id = strings.TrimSpace(id)
	fail := func(err error) (*Impact, error) { return nil, fmt.Errorf("store: impact of %s: %w", id, err) }
	if id == "" {
		return fail(invalid("an advisory or CVE ID is required"))
	}
	imp := &Impact{Query: id, Affected: []ImpactEntry{}, Triage: map[string]int{}}

	// 1. All IDs of the vulnerability: the alias closure.
	ids := map[string]bool{id: true}
	frontier := []string{id}
	for round := 0; round < 6 && len(frontier) > 0; round++ {
		args := stringArgs(nil, frontier)
		args = append(args, args...)
		rows, err := s.query(ctx, `SELECT advisory_id, alias FROM advisory_aliases WHERE advisory_id IN (`+placeholders(len(frontier))+`)
			OR alias IN (`+placeholders(len(frontier))+`)`, args...)
		if err != nil {
			return fail(err)
		}
		frontier = nil
		for rows.Next() {
			var a, b string
			if err := rows.Scan(&a, &b); err != nil {
				rows.Close()
				return fail(err)
			}
			for _, x := range []string{a, b} {
				if !ids[x] {
					ids[x] = true
					frontier = append(frontier, x)
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fail(err)
		}
	}
	imp.IDs = sortedSet(ids)
	rows, err := s.query(ctx, "SELECT id, withdrawn FROM advisories WHERE id IN ("+placeholders(len(imp.IDs))+") ORDER BY id", stringArgs(nil, imp.IDs)...)
	if err != nil {
		return fail(err)
	}
	for rows.Next() {
		var a string
		var w timeCol
		if err := rows.Scan(&a, &w); err != nil {
			rows.Close()
			return fail(err)
		}
		if w.Valid {
			imp.Withdrawn = append(imp.Withdrawn, a)
		} else {
			imp.Advisories = append(imp.Advisories, a)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	if len(imp.Advisories) == 0 && len(imp.Withdrawn) == 0 {
		return fail(fmt.Errorf("no stored advisory has or names this ID (load advisories with `vigil vulndb import`): %w", ErrNotFound))
	}
	infos, err := s.AdvisoryInfo(ctx, imp.Advisories)
	if err != nil {
		return fail(err)
	}
	for _, a := range imp.Advisories {
		info := infos[a]
		imp.Summary = cmp.Or(imp.Summary, info.Summary)
		if info.Severity.Score != nil && (imp.Severity.Score == nil || *info.Severity.Score > *imp.Severity.Score) ||
			imp.Severity.Score == nil && vuln.RatingRank(info.Severity.Rating) > vuln.RatingRank(imp.Severity.Rating) {
			imp.Severity = info.Severity
		}
	}
	imp.Severity.Rating = cmp.Or(imp.Severity.Rating, vuln.RatingUnknown)
	if len(imp.Advisories) == 0 {
		imp.Elapsed = time.Since(start)
		return imp, nil
	}

	// 2. The packages the advisories name, and the stored components of those packages.
	g := groupDB{Store: s}
	rows, err = s.query(ctx, "SELECT advisory_id, ecosystem, name, ranges FROM affected WHERE advisory_id IN ("+placeholders(len(imp.Advisories))+
		") ORDER BY advisory_id, seq", stringArgs(nil, imp.Advisories)...)
	if err != nil {
		return fail(err)
	}
	names := map[string]map[string]bool{}
	for rows.Next() {
		var r vuln.AffectedRow
		var rj string
		if err := rows.Scan(&r.AdvisoryID, &r.Ecosystem, &r.Name, &rj); err != nil {
			rows.Close()
			return fail(err)
		}
		var sr storedRanges
		if err := json.Unmarshal([]byte(rj), &sr); err != nil {
			rows.Close()
			return fail(fmt.Errorf("advisory %s: stored ranges: %w", r.AdvisoryID, err))
		}
		r.Ranges, r.Versions = sr.Ranges, sr.Versions
		g.rows = append(g.rows, r)
		if names[r.Ecosystem] == nil {
			names[r.Ecosystem] = map[string]bool{}
		}
		names[r.Ecosystem][r.Name] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	var cands []versionComponent
	union := map[string]vuln.Component{}
	var order []string
	for eco, set := range names {
		for _, part := range chunks(sortedSet(set), 500) {
			rows, err := s.query(ctx, `SELECT s.device_version_id, s.label, c.name, c.version, c.purl, c.component_key
				FROM sbom_components c JOIN sboms s ON s.id = c.sbom_id
				WHERE c.ecosystem = ? AND c.package IN (`+placeholders(len(part))+`)`, stringArgs([]any{eco}, part)...)
			if err != nil {
				return fail(err)
			}
			for rows.Next() {
				var vc versionComponent
				if err := rows.Scan(&vc.version, &vc.label, &vc.comp.Name, &vc.comp.Version, &vc.comp.PURL, &vc.key); err != nil {
					rows.Close()
					return fail(err)
				}
				cands = append(cands, vc)
				if _, ok := union[vc.key]; !ok {
					union[vc.key] = vc.comp
					order = append(order, vc.key)
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fail(err)
			}
		}
	}
	if len(cands) == 0 {
		imp.Elapsed = time.Since(start)
		return imp, nil
	}

	// 3. The matcher, over the distinct components, with the vulnerability's advisories only.
	comps := make([]vuln.Component, 0, len(order))
	for _, k := range order {
		comps = append(comps, union[k])
	}
	matched, err := vuln.Match(ctx, g, comps)
	if err != nil {
		return fail(err)
	}
	byPkg := findingsByPackage(matched.Findings)

	// 4. One entry per (version, component), with names, first sighting and VEX decision.
	type ekey struct {
		version int64
		key     string
	}
	entries := map[ekey]*ImpactEntry{}
	var versions []int64
	for _, vc := range cands {
		pk, ok := packageKeyOf(vc.comp.PURL)
		if !ok || len(byPkg[pk]) == 0 {
			continue
		}
		k := ekey{vc.version, vc.key}
		if e := entries[k]; e != nil {
			if !slices.Contains(e.Sources, vc.label) {
				e.Sources = append(e.Sources, vc.label)
			}
			continue
		}
		mf := byPkg[pk][0]
		e := &ImpactEntry{DeviceVersionID: vc.version, ComponentKey: vc.key, Component: vc.comp, Sources: []string{vc.label},
			Advisory: mf.Advisory, Aliases: mf.Aliases, Severity: mf.Severity, FixedIn: mf.FixedIn, KnownExploited: mf.KnownExploited}
		if e.Component.Version == "" {
			e.Component.Version = mf.Component.Version
		}
		if mf.EPSS != nil {
			v := mf.EPSS.Score
			e.EPSS = &v
		}
		imp.KnownExploited = imp.KnownExploited || mf.KnownExploited
		entries[k] = e
		versions = append(versions, vc.version)
	}
	versions = uniqueIDs(versions)
	vnames, err := versionNames(ctx, s.query, versions)
	if err != nil {
		return fail(err)
	}
	all := stringArgs(nil, imp.IDs)
	rows, err = s.query(ctx, "SELECT "+vexCols+" FROM vex_statements WHERE advisory_id IN ("+placeholders(len(imp.IDs))+")", all...)
	if err != nil {
		return fail(err)
	}
	for rows.Next() {
		v, err := scanVEX(rows)
		if err != nil {
			rows.Close()
			return fail(err)
		}
		if e := entries[ekey{v.DeviceVersionID, v.ComponentKey}]; e != nil && (e.VEX == nil || v.At.After(e.VEX.At)) {
			e.VEX = &v
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	rows, err = s.query(ctx, "SELECT device_version_id, component_key, first_seen_at FROM findings WHERE advisory_id IN ("+placeholders(len(imp.IDs))+")", all...)
	if err != nil {
		return fail(err)
	}
	for rows.Next() {
		var (
			v   int64
			key string
			at  timeCol
		)
		if err := rows.Scan(&v, &key, &at); err != nil {
			rows.Close()
			return fail(err)
		}
		if e := entries[ekey{v, key}]; e != nil && (e.FirstSeenAt == nil || at.Time.Before(*e.FirstSeenAt)) {
			e.FirstSeenAt = at.ptr()
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	products := map[int64]bool{}
	for _, e := range entries {
		n := vnames[e.DeviceVersionID]
		e.ProductID, e.ProductName, e.Version = n.ProductID, n.ProductName, n.Version
		slices.Sort(e.Sources)
		products[n.ProductID] = true
		if e.VEX != nil {
			imp.Triage[e.VEX.Status]++
		} else {
			imp.Triage[StatusUntriaged]++
		}
		imp.Affected = append(imp.Affected, *e)
	}
	slices.SortFunc(imp.Affected, func(a, b ImpactEntry) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.ProductName), strings.ToLower(b.ProductName)), cmp.Compare(a.ProductID, b.ProductID),
			cmp.Compare(a.DeviceVersionID, b.DeviceVersionID), cmp.Compare(a.ComponentKey, b.ComponentKey))
	})
	imp.DeviceVersions, imp.Products = len(versions), len(products)
	imp.Elapsed = time.Since(start)
	return imp, nil
}

// groupDB is the store seen through the advisories of one vulnerability: what Impact gives the
// matcher, so that it reports that vulnerability only.
type groupDB struct {
	*Store
	rows []vuln.AffectedRow
}

func (g groupDB) AffectedFor(_ context.Context, ecosystem string, names []string) ([]vuln.AffectedRow, error) {
	var out []vuln.AffectedRow
	for _, r := range g.rows {
		if r.Ecosystem == ecosystem && slices.Contains(names, r.Name) {
			out = append(out, r)
		}
	}
	return out, nil
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
