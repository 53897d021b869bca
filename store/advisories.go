package store

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vigil-med/vigil/vuln"
)

// Vulnerability feeds are imported in one write transaction per import (all the files of one
// `vigil vulndb import` or `sync`): a bad record anywhere rolls the whole import back, so the
// database never holds half a feed. Records are written with multi-row INSERTs through prepared
// statements; advisories already stored are compared by `modified` and a SHA-256 of the record,
// and only new or changed ones are written.

// FeedCounts reports the import of one feed file.
type FeedCounts struct {
	Source  string `json:"source"`
	Kind    string `json:"kind"`
	Version string `json:"version,omitempty"` // KEV catalogVersion; EPSS model and score date
	Records int    `json:"records"`           // records read
	Added   int    `json:"added"`
	Updated int    `json:"updated"`
	// Unchanged counts records equal to the stored ones, and records older than them (a stored
	// advisory is never replaced by one with an earlier `modified`).
	Unchanged int `json:"unchanged"`
	// Withdrawn counts added or updated advisories that are withdrawn (stored, never matched).
	Withdrawn int `json:"withdrawn"`
	// Skipped counts bad records passed over when the caller asked for that.
	Skipped int           `json:"skipped,omitempty"`
	Elapsed time.Duration `json:"-"`
}

// PerSecond is the import speed in records per second.
func (c FeedCounts) PerSecond() float64 {
	if c.Elapsed <= 0 {
		return 0
	}
	return float64(c.Records) / c.Elapsed.Seconds()
}

// VulnImport is an import in progress; see [Store.ImportVulnFeeds].
type VulnImport struct {
	ctx context.Context
	tx  *Tx
	s   *Store
	now time.Time

	cur     *FeedCounts
	started time.Time
	done    []FeedCounts

	// stored holds the advisories as stored when the import began; it is never changed, so
	// that PrepareAdvisory can read it from other goroutines. seen holds those written since.
	stored  map[string]advState
	seen    map[string]advState
	pending map[string]bool // advisories in the insert batch, not yet written

	adv, aliases, affected *batch
	updAdv, delAliases     *sql.Stmt
	delAffected            *sql.Stmt

	// dropped holds the CREATE INDEX statements of the indexes dropped for a bulk load.
	dropped []string

	kevState  map[string]vuln.KEVEntry
	epssState map[string]epssRow
	kevB      *batch
	epssB     *batch
}

type advState struct {
	modified time.Time
	hash     string
}

// changedBy reports whether a record with this modified time and hash replaces the stored one:
// it is newer, or as new with other content (the Go database publishes zero modified times).
func (st advState) changedBy(modified time.Time, hash string) bool {
	return modified.After(st.modified) || modified.Equal(st.modified) && hash != st.hash
}

// PrepareAdvisory is a vuln.ReadOptions.Prepare hook: it compresses the records that will be
// written (new or changed), on the reader's goroutines. Safe for concurrent use after Begin.
func (imp *VulnImport) PrepareAdvisory(a *vuln.Advisory) error {
	if old, ok := imp.stored[a.ID]; ok && !old.changedBy(normTime(a.Modified), a.Hash) {
		return nil
	}
	if a.RawDeflate != nil {
		return nil // read compressed from a zip
	}
	return a.Deflate()
}

type epssRow struct {
	score, percentile float64
	date              string
}

// ImportVulnFeeds runs fn in one write transaction with an importer, and records one audit
// entry (action "vulndb.import") with the counts of every feed. Nothing is written when fn or
// any write fails.
func (s *Store) ImportVulnFeeds(ctx context.Context, actor string, fn func(imp *VulnImport) error) ([]FeedCounts, error) {
	var out []FeedCounts
	err := s.Transact(ctx, func(tx *Tx) error {
		imp := &VulnImport{ctx: ctx, tx: tx, s: s, now: s.nowUTC()}
		defer imp.close()
		if err := fn(imp); err != nil {
			return err
		}
		if imp.cur != nil {
			if _, err := imp.End(""); err != nil {
				return err
			}
		}
		if err := imp.restoreIndexes(); err != nil {
			return err
		}
		if len(imp.done) == 0 {
			return nil
		}
		type auditFeed struct {
			Source                                                 string `json:"source"`
			Kind                                                   string `json:"kind"`
			Version                                                string `json:"version,omitempty"`
			Records, Added, Updated, Unchanged, Withdrawn, Skipped int
		}
		var feeds []auditFeed
		for _, c := range imp.done {
			feeds = append(feeds, auditFeed{c.Source, c.Kind, c.Version, c.Records, c.Added, c.Updated, c.Unchanged, c.Withdrawn, c.Skipped})
		}
		if err := tx.Audit(ctx, actor, "vulndb.import", "vulndb", "feeds", nil, map[string]any{"feeds": feeds}); err != nil {
			return err
		}
		out = imp.done
		return nil
	})
	if err != nil {
		return nil, err
	}
	if s.dialect == DialectSQLite {
		// Move the import out of the WAL now, so that readers (a scan right after an import)
		// do not look every page up in a WAL of thousands of frames. Best effort: a reader that
		// holds the WAL only delays this until the next checkpoint.
		_, _ = s.wdb.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	}
	return out, nil
}

func (imp *VulnImport) close() {
	for _, st := range []*sql.Stmt{imp.updAdv, imp.delAliases, imp.delAffected} {
		if st != nil {
			st.Close()
		}
	}
	for _, b := range []*batch{imp.adv, imp.aliases, imp.affected, imp.kevB, imp.epssB} {
		if b != nil && b.full != nil {
			b.full.Close()
		}
	}
}

// Begin starts counting a feed file (kind "osv", "kev" or "epss"); End finishes it.
func (imp *VulnImport) Begin(source, kind string) error {
	if imp.cur != nil {
		if _, err := imp.End(""); err != nil {
			return err
		}
	}
	imp.cur = &FeedCounts{Source: source, Kind: kind}
	imp.started = time.Now()
	if kind == string(vuln.KindOSV) {
		// Load the stored state now, before a reader calls PrepareAdvisory concurrently.
		return imp.prepareOSV()
	}
	return nil
}

// Skip counts a bad record that the caller chose to pass over.
func (imp *VulnImport) Skip() {
	if imp.cur != nil {
		imp.cur.Records++
		imp.cur.Skipped++
	}
}

// End flushes the feed's pending writes, records the feed in vuln_feeds and returns its counts.
func (imp *VulnImport) End(version string) (FeedCounts, error) {
	if imp.cur == nil {
		return FeedCounts{}, errors.New("store: vulndb import: End without Begin")
	}
	if err := imp.flushAll(); err != nil {
		return FeedCounts{}, err
	}
	c := *imp.cur
	if version != "" {
		c.Version = version
	}
	_, err := imp.tx.ExecContext(imp.ctx, `INSERT INTO vuln_feeds (source, kind, version, records, imported_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (source) DO UPDATE SET kind = excluded.kind, version = excluded.version, records = excluded.records, imported_at = excluded.imported_at`,
		c.Source, c.Kind, c.Version, c.Records, imp.now)
	if err != nil {
		return c, fmt.Errorf("store: record feed %s: %w", c.Source, mapErr(err))
	}
	c.Elapsed = time.Since(imp.started)
	imp.done = append(imp.done, c)
	imp.cur = nil
	return c, nil
}

func (imp *VulnImport) counts() *FeedCounts {
	if imp.cur == nil {
		imp.cur = &FeedCounts{Source: "-", Kind: "osv"}
		imp.started = time.Now()
	}
	return imp.cur
}

// Advisory adds or updates one OSV advisory.
func (imp *VulnImport) Advisory(a *vuln.Advisory) error {
	c := imp.counts()
	c.Records++
	if err := imp.prepareOSV(); err != nil {
		return err
	}
	hash := a.Hash
	if hash == "" {
		sum := sha256.Sum256(a.Raw)
		hash = hex.EncodeToString(sum[:])
	}
	modified := normTime(a.Modified)
	old, exists := imp.seen[a.ID]
	if !exists {
		old, exists = imp.stored[a.ID]
	}
	switch {
	case !exists:
		c.Added++
	case !old.changedBy(modified, hash):
		c.Unchanged++
		return nil
	default:
		c.Updated++
	}
	if a.Withdrawn != nil {
		c.Withdrawn++
	}
	imp.seen[a.ID] = advState{modified: modified, hash: hash}

	if a.RawDeflate == nil {
		if err := a.Deflate(); err != nil {
			return err
		}
	}
	raw := a.RawDeflate
	var score any
	if a.Severity.Score != nil {
		score = *a.Severity.Score
	}
	rating := a.Severity.Rating
	if rating == "" {
		rating = vuln.RatingUnknown
	}
	cols := []any{imp.s.timeArg(modified), imp.optTime(a.Published), imp.optTime(a.Withdrawn), a.Summary,
		a.Severity.Vector, score, rating, a.Informational, hash, imp.cur.Source, raw, imp.s.timeArg(imp.now)}
	if exists {
		if imp.pending[a.ID] {
			if err := imp.flushAll(); err != nil {
				return err
			}
		}
		if _, err := imp.delAliases.ExecContext(imp.ctx, a.ID); err != nil {
			return fmt.Errorf("store: update advisory %s: %w", a.ID, mapErr(err))
		}
		if _, err := imp.delAffected.ExecContext(imp.ctx, a.ID); err != nil {
			return fmt.Errorf("store: update advisory %s: %w", a.ID, mapErr(err))
		}
		if _, err := imp.updAdv.ExecContext(imp.ctx, append(cols, a.ID)...); err != nil {
			return fmt.Errorf("store: update advisory %s: %w", a.ID, mapErr(err))
		}
	} else {
		imp.pending[a.ID] = true
		if err := imp.adv.add(append([]any{a.ID}, cols...)...); err != nil {
			return err
		}
	}
	for _, al := range a.Aliases {
		if err := imp.aliases.add(a.ID, al); err != nil {
			return err
		}
	}
	for i, af := range a.Affected {
		rj, err := json.Marshal(storedRanges{Ranges: af.Ranges, Versions: af.Versions})
		if err != nil {
			return err
		}
		if err := imp.affected.add(a.ID, i, af.Ecosystem, af.Name, string(rj)); err != nil {
			return err
		}
	}
	return nil
}

// storedRanges is the JSON of affected.ranges.
type storedRanges struct {
	Ranges   []vuln.Range `json:"ranges,omitempty"`
	Versions []string     `json:"versions,omitempty"`
}

func (imp *VulnImport) optTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return imp.s.timeArg(*t)
}

func (imp *VulnImport) prepareOSV() error {
	if imp.stored != nil {
		return nil
	}
	rows, err := imp.tx.QueryContext(imp.ctx, "SELECT id, modified, content_hash FROM advisories")
	if err != nil {
		return fmt.Errorf("store: read advisories: %w", err)
	}
	defer rows.Close()
	state := map[string]advState{}
	for rows.Next() {
		var id, hash string
		var mod timeCol
		if err := rows.Scan(&id, &mod, &hash); err != nil {
			return fmt.Errorf("store: read advisories: %w", err)
		}
		state[id] = advState{modified: mod.Time, hash: hash}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: read advisories: %w", err)
	}
	imp.stored = state
	imp.seen = map[string]advState{}
	imp.pending = map[string]bool{}
	if imp.s.dialect == DialectSQLite && len(state) == 0 {
		if err := imp.dropIndexes(); err != nil {
			return err
		}
	}
	if imp.s.dialect == DialectSQLite {
		// A bulk import touches more pages than SQLite's default 2 MB cache holds; spilling them
		// to the WAL mid-transaction costs a write per page. 64 MB, for this connection only.
		if _, err := imp.tx.ExecContext(imp.ctx, "PRAGMA cache_size = -65536"); err != nil {
			return fmt.Errorf("store: cache size: %w", err)
		}
		// Every multi-row INSERT keeps a statement journal so that it can be undone alone; in a
		// temporary file that costs a write system call per page it touches. Keep it in memory.
		if _, err := imp.tx.ExecContext(imp.ctx, "PRAGMA temp_store = MEMORY"); err != nil {
			return fmt.Errorf("store: temp store: %w", err)
		}
	}
	imp.adv = &batch{imp: imp, table: "advisories", cols: []string{"id", "modified", "published", "withdrawn", "summary",
		"severity_vector", "severity_score", "severity_rating", "informational", "content_hash", "source", "raw", "imported_at"}, size: 100}
	imp.aliases = &batch{imp: imp, table: "advisory_aliases", cols: []string{"advisory_id", "alias"}, size: 500, suffix: " ON CONFLICT DO NOTHING", parent: imp.adv}
	imp.affected = &batch{imp: imp, table: "affected", cols: []string{"advisory_id", "seq", "ecosystem", "name", "ranges"}, size: 200, parent: imp.adv}
	prep := func(q string) (*sql.Stmt, error) {
		st, err := imp.tx.tx.PrepareContext(imp.ctx, imp.s.rebind(q))
		if err != nil {
			return nil, fmt.Errorf("store: prepare: %w", err)
		}
		return st, nil
	}
	if imp.updAdv, err = prep(`UPDATE advisories SET modified = ?, published = ?, withdrawn = ?, summary = ?, severity_vector = ?,
		severity_score = ?, severity_rating = ?, informational = ?, content_hash = ?, source = ?, raw = ?, imported_at = ? WHERE id = ?`); err != nil {
		return err
	}
	if imp.delAliases, err = prep("DELETE FROM advisory_aliases WHERE advisory_id = ?"); err != nil {
		return err
	}
	if imp.delAffected, err = prep("DELETE FROM affected WHERE advisory_id = ?"); err != nil {
		return err
	}
	return nil
}

// dropIndexes drops the secondary indexes of the advisory tables for the first import into an
// empty database (SQLite): building an index once from sorted rows at the end costs less than
// inserting every row into it in random order. The statements are read from the schema itself,
// so that they follow the migrations; restoreIndexes runs them in the same transaction.
func (imp *VulnImport) dropIndexes() error {
	rows, err := imp.tx.QueryContext(imp.ctx, `SELECT name, sql FROM sqlite_schema
		WHERE type = 'index' AND tbl_name IN ('advisory_aliases', 'affected') AND sql IS NOT NULL ORDER BY name`)
	if err != nil {
		return fmt.Errorf("store: read indexes: %w", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			return fmt.Errorf("store: read indexes: %w", err)
		}
		names = append(names, name)
		imp.dropped = append(imp.dropped, def)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: read indexes: %w", err)
	}
	rows.Close()
	for _, name := range names {
		if _, err := imp.tx.ExecContext(imp.ctx, `DROP INDEX "`+strings.ReplaceAll(name, `"`, `""`)+`"`); err != nil {
			return fmt.Errorf("store: drop index %s for the import: %w", name, err)
		}
	}
	return nil
}

func (imp *VulnImport) restoreIndexes() error {
	for _, def := range imp.dropped {
		if _, err := imp.tx.ExecContext(imp.ctx, def); err != nil {
			return fmt.Errorf("store: rebuild index after the import: %w", err)
		}
	}
	imp.dropped = nil
	return nil
}

// flushAll writes the pending batches, parents before children.
func (imp *VulnImport) flushAll() error {
	for _, b := range []*batch{imp.adv, imp.aliases, imp.affected, imp.kevB, imp.epssB} {
		if b == nil {
			continue
		}
		if err := b.flush(); err != nil {
			return err
		}
	}
	clear(imp.pending)
	return nil
}

// KEV adds or updates the entries of the KEV catalog.
func (imp *VulnImport) KEV(cat *vuln.KEVCatalog) error {
	c := imp.counts()
	if imp.kevState == nil {
		rows, err := imp.tx.QueryContext(imp.ctx, "SELECT cve, vendor_project, product, vulnerability_name, date_added, due_date, ransomware, required_action FROM kev")
		if err != nil {
			return fmt.Errorf("store: read kev: %w", err)
		}
		state := map[string]vuln.KEVEntry{}
		for rows.Next() {
			var e vuln.KEVEntry
			var added, due dateCol
			if err := rows.Scan(&e.CVE, &e.VendorProject, &e.Product, &e.VulnerabilityName, &added, &due, &e.Ransomware, &e.RequiredAction); err != nil {
				rows.Close()
				return fmt.Errorf("store: read kev: %w", err)
			}
			e.DateAdded, e.DueDate = string(added), string(due)
			state[e.CVE] = e
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: read kev: %w", err)
		}
		imp.kevState = state
		imp.kevB = &batch{imp: imp, table: "kev", cols: []string{"cve", "vendor_project", "product", "vulnerability_name", "date_added", "due_date", "ransomware", "required_action"}, size: 200,
			suffix: ` ON CONFLICT (cve) DO UPDATE SET vendor_project = excluded.vendor_project, product = excluded.product,
			vulnerability_name = excluded.vulnerability_name, date_added = excluded.date_added, due_date = excluded.due_date,
			ransomware = excluded.ransomware, required_action = excluded.required_action`}
	}
	for _, e := range cat.Entries {
		c.Records++
		old, ok := imp.kevState[e.CVE]
		switch {
		case !ok:
			c.Added++
		case old == e:
			c.Unchanged++
			continue
		default:
			c.Updated++
		}
		imp.kevState[e.CVE] = e
		var due any
		if e.DueDate != "" {
			due = e.DueDate
		}
		if err := imp.kevB.add(e.CVE, e.VendorProject, e.Product, e.VulnerabilityName, e.DateAdded, due, e.Ransomware, e.RequiredAction); err != nil {
			return err
		}
	}
	return imp.kevB.flush()
}

// EPSS adds or updates one EPSS score.
func (imp *VulnImport) EPSS(sc vuln.EPSSScore) error {
	c := imp.counts()
	if imp.epssState == nil {
		rows, err := imp.tx.QueryContext(imp.ctx, "SELECT cve, score, percentile, score_date FROM epss")
		if err != nil {
			return fmt.Errorf("store: read epss: %w", err)
		}
		state := map[string]epssRow{}
		for rows.Next() {
			var cve string
			var r epssRow
			var d dateCol
			if err := rows.Scan(&cve, &r.score, &r.percentile, &d); err != nil {
				rows.Close()
				return fmt.Errorf("store: read epss: %w", err)
			}
			r.date = string(d)
			state[cve] = r
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: read epss: %w", err)
		}
		imp.epssState = state
		imp.epssB = &batch{imp: imp, table: "epss", cols: []string{"cve", "score", "percentile", "score_date"}, size: 500,
			suffix: " ON CONFLICT (cve) DO UPDATE SET score = excluded.score, percentile = excluded.percentile, score_date = excluded.score_date"}
	}
	c.Records++
	r := epssRow{sc.Score, sc.Percentile, sc.Date}
	old, ok := imp.epssState[sc.CVE]
	switch {
	case !ok:
		c.Added++
	case old == r:
		c.Unchanged++
		return nil
	default:
		c.Updated++
	}
	imp.epssState[sc.CVE] = r
	var date any
	if sc.Date != "" {
		date = sc.Date
	}
	return imp.epssB.add(sc.CVE, sc.Score, sc.Percentile, date)
}

// batch collects rows for one multi-row INSERT. Rows are written in chunks of size rows with a
// statement prepared once; a remainder waits for more rows, and only the end of a feed (or a
// record that must see the rows written) writes it with a statement of its own. Preparing a
// statement of hundreds of placeholders costs more than running it, so this matters.
type batch struct {
	imp    *VulnImport
	table  string
	cols   []string
	suffix string
	size   int
	n      int
	args   []any
	full   *sql.Stmt
	// parent, if set, is the batch of the rows these rows reference: it is written first, so
	// that no child row is written before the row it references.
	parent *batch
}

func (b *batch) add(args ...any) error {
	b.args = append(b.args, args...)
	b.n++
	if b.n < b.size {
		return nil
	}
	if b.parent != nil {
		if err := b.parent.write(true); err != nil {
			return err
		}
	}
	return b.write(false)
}

func (b *batch) query(rows int) string {
	var q strings.Builder
	q.WriteString("INSERT INTO " + b.table + " (" + strings.Join(b.cols, ", ") + ") VALUES ")
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(b.cols)), ", ") + ")"
	for i := range rows {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(row)
	}
	q.WriteString(b.suffix)
	return b.imp.s.rebind(q.String())
}

// flush writes every pending row.
func (b *batch) flush() error { return b.write(true) }

// write writes the pending rows in full chunks, and the remainder too when all is set.
func (b *batch) write(all bool) error {
	ctx := b.imp.ctx
	width := len(b.cols)
	done := 0
	for b.n-done >= b.size {
		if b.full == nil {
			var err error
			if b.full, err = b.imp.tx.tx.PrepareContext(ctx, b.query(b.size)); err != nil {
				return fmt.Errorf("store: prepare insert into %s: %w", b.table, err)
			}
		}
		if _, err := b.full.ExecContext(ctx, b.args[done*width:(done+b.size)*width]...); err != nil {
			return fmt.Errorf("store: insert into %s: %w", b.table, mapErr(err))
		}
		done += b.size
	}
	if all && b.n > done {
		if _, err := b.imp.tx.tx.ExecContext(ctx, b.query(b.n-done), b.args[done*width:]...); err != nil {
			return fmt.Errorf("store: insert into %s: %w", b.table, mapErr(err))
		}
		done = b.n
	}
	if done > 0 {
		rest := copy(b.args, b.args[done*width:])
		clear(b.args[rest:])
		b.args = b.args[:rest]
		b.n -= done
	}
	return nil
}

// chunks splits a list for IN (...) queries.
func chunks(list []string, n int) [][]string {
	var out [][]string
	for len(list) > n {
		out = append(out, list[:n])
		list = list[n:]
	}
	if len(list) > 0 {
		out = append(out, list)
	}
	return out
}

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

func stringArgs(pre []any, list []string) []any {
	out := make([]any, 0, len(pre)+len(list))
	out = append(out, pre...)
	for _, s := range list {
		out = append(out, s)
	}
	return out
}

// AffectedFor implements vuln.DB: the affected entries of non-withdrawn advisories for names
// (normalised) in ecosystem.
func (s *Store) AffectedFor(ctx context.Context, ecosystem string, names []string) ([]vuln.AffectedRow, error) {
	var out []vuln.AffectedRow
	for _, part := range chunks(names, 500) {
		rows, err := s.query(ctx, `SELECT f.advisory_id, f.name, f.ranges FROM affected f JOIN advisories a ON a.id = f.advisory_id
			WHERE f.ecosystem = ? AND f.name IN (`+placeholders(len(part))+`) AND a.withdrawn IS NULL
			ORDER BY f.advisory_id, f.seq`, stringArgs([]any{ecosystem}, part)...)
		if err != nil {
			return nil, fmt.Errorf("store: affected packages: %w", err)
		}
		for rows.Next() {
			r := vuln.AffectedRow{Affected: vuln.Affected{Ecosystem: ecosystem}}
			var rj string
			if err := rows.Scan(&r.AdvisoryID, &r.Name, &rj); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: affected packages: %w", err)
			}
			var sr storedRanges
			if err := json.Unmarshal([]byte(rj), &sr); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: advisory %s: stored ranges: %w", r.AdvisoryID, err)
			}
			r.Ranges, r.Versions = sr.Ranges, sr.Versions
			out = append(out, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: affected packages: %w", err)
		}
	}
	return out, nil
}

// AdvisoryInfo implements vuln.DB.
func (s *Store) AdvisoryInfo(ctx context.Context, ids []string) (map[string]vuln.AdvisoryInfo, error) {
	out := make(map[string]vuln.AdvisoryInfo, len(ids))
	for _, part := range chunks(ids, 500) {
		args := stringArgs(nil, part)
		rows, err := s.query(ctx, `SELECT id, summary, severity_vector, severity_score, severity_rating, informational, modified, published,
			withdrawn IS NOT NULL FROM advisories WHERE id IN (`+placeholders(len(part))+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("store: advisories: %w", err)
		}
		for rows.Next() {
			var a vuln.AdvisoryInfo
			var score sql.NullFloat64
			var mod, pub timeCol
			if err := rows.Scan(&a.ID, &a.Summary, &a.Severity.Vector, &score, &a.Severity.Rating, &a.Informational, &mod, &pub, &a.Withdrawn); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: advisories: %w", err)
			}
			if score.Valid {
				v := score.Float64
				a.Severity.Score = &v
			}
			a.Modified, a.Published = mod.Time, pub.ptr()
			out[a.ID] = a
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: advisories: %w", err)
		}
		rows, err = s.query(ctx, `SELECT advisory_id, alias FROM advisory_aliases WHERE advisory_id IN (`+placeholders(len(part))+`)
			ORDER BY advisory_id, alias`, args...)
		if err != nil {
			return nil, fmt.Errorf("store: advisory aliases: %w", err)
		}
		for rows.Next() {
			var id, alias string
			if err := rows.Scan(&id, &alias); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: advisory aliases: %w", err)
			}
			a := out[id]
			a.Aliases = append(a.Aliases, alias)
			out[id] = a
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: advisory aliases: %w", err)
		}
	}
	return out, nil
}

// KEVFor implements vuln.DB.
func (s *Store) KEVFor(ctx context.Context, cves []string) (map[string]vuln.KEVEntry, error) {
	out := map[string]vuln.KEVEntry{}
	for _, part := range chunks(cves, 500) {
		rows, err := s.query(ctx, `SELECT cve, vendor_project, product, vulnerability_name, date_added, due_date, ransomware, required_action
			FROM kev WHERE cve IN (`+placeholders(len(part))+`)`, stringArgs(nil, part)...)
		if err != nil {
			return nil, fmt.Errorf("store: kev: %w", err)
		}
		for rows.Next() {
			var e vuln.KEVEntry
			var added, due dateCol
			if err := rows.Scan(&e.CVE, &e.VendorProject, &e.Product, &e.VulnerabilityName, &added, &due, &e.Ransomware, &e.RequiredAction); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: kev: %w", err)
			}
			e.DateAdded, e.DueDate = string(added), string(due)
			out[e.CVE] = e
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: kev: %w", err)
		}
	}
	return out, nil
}

// EPSSFor implements vuln.DB.
func (s *Store) EPSSFor(ctx context.Context, cves []string) (map[string]vuln.EPSSScore, error) {
	out := map[string]vuln.EPSSScore{}
	for _, part := range chunks(cves, 500) {
		rows, err := s.query(ctx, `SELECT cve, score, percentile, score_date FROM epss WHERE cve IN (`+placeholders(len(part))+`)`, stringArgs(nil, part)...)
		if err != nil {
			return nil, fmt.Errorf("store: epss: %w", err)
		}
		for rows.Next() {
			var e vuln.EPSSScore
			var d dateCol
			if err := rows.Scan(&e.CVE, &e.Score, &e.Percentile, &d); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: epss: %w", err)
			}
			e.Date = string(d)
			out[e.CVE] = e
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: epss: %w", err)
		}
	}
	return out, nil
}

// AdvisoryJSON returns the stored OSV record of an advisory as JSON.
func (s *Store) AdvisoryJSON(ctx context.Context, id string) ([]byte, error) {
	var raw []byte
	if err := s.queryRow(ctx, "SELECT raw FROM advisories WHERE id = ?", id).Scan(&raw); err != nil {
		return nil, fmt.Errorf("store: advisory %s: %w", id, mapErr(err))
	}
	out, err := io.ReadAll(flate.NewReader(bytes.NewReader(raw)))
	if err != nil {
		return nil, fmt.Errorf("store: advisory %s: stored record: %w", id, err)
	}
	return out, nil
}

// AdvisoryCount is the number of stored advisories.
func (s *Store) AdvisoryCount(ctx context.Context) (int, error) {
	var n int
	if err := s.queryRow(ctx, "SELECT count(*) FROM advisories").Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count advisories: %w", err)
	}
	return n, nil
}

// VulnStats describes the vulnerability data in the database.
type VulnStats struct {
	Advisories int              `json:"advisories"`
	Withdrawn  int              `json:"withdrawn"`
	Aliases    int              `json:"aliases"`
	Ecosystems []EcosystemStats `json:"ecosystems"`
	KEV        int              `json:"kev"`
	EPSS       int              `json:"epss"`
	EPSSDate   string           `json:"epss_date,omitempty"`
	Feeds      []FeedInfo       `json:"feeds"`
}

// EcosystemStats counts advisories and packages of one ecosystem.
type EcosystemStats struct {
	Ecosystem  string `json:"ecosystem"`
	Advisories int    `json:"advisories"`
	Packages   int    `json:"packages"`
}

// FeedInfo is the last import of one feed.
type FeedInfo struct {
	Source     string    `json:"source"`
	Kind       string    `json:"kind"`
	Version    string    `json:"version,omitempty"`
	Records    int       `json:"records"`
	ImportedAt time.Time `json:"imported_at"`
}

// VulnStats counts what the vulnerability tables hold.
func (s *Store) VulnStats(ctx context.Context) (VulnStats, error) {
	st := VulnStats{Ecosystems: []EcosystemStats{}, Feeds: []FeedInfo{}}
	var epssDate dateCol
	err := s.queryRow(ctx, `SELECT
		(SELECT count(*) FROM advisories),
		(SELECT count(*) FROM advisories WHERE withdrawn IS NOT NULL),
		(SELECT count(*) FROM advisory_aliases),
		(SELECT count(*) FROM kev),
		(SELECT count(*) FROM epss),
		(SELECT max(score_date) FROM epss)`).Scan(&st.Advisories, &st.Withdrawn, &st.Aliases, &st.KEV, &st.EPSS, &epssDate)
	if err != nil {
		return st, fmt.Errorf("store: vulndb stats: %w", err)
	}
	st.EPSSDate = string(epssDate)
	rows, err := s.query(ctx, `SELECT ecosystem, count(DISTINCT advisory_id), count(DISTINCT name) FROM affected GROUP BY ecosystem ORDER BY ecosystem`)
	if err != nil {
		return st, fmt.Errorf("store: vulndb stats: %w", err)
	}
	for rows.Next() {
		var e EcosystemStats
		if err := rows.Scan(&e.Ecosystem, &e.Advisories, &e.Packages); err != nil {
			rows.Close()
			return st, fmt.Errorf("store: vulndb stats: %w", err)
		}
		st.Ecosystems = append(st.Ecosystems, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("store: vulndb stats: %w", err)
	}
	rows, err = s.query(ctx, `SELECT source, kind, version, records, imported_at FROM vuln_feeds ORDER BY kind, source`)
	if err != nil {
		return st, fmt.Errorf("store: vulndb stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var f FeedInfo
		var at timeCol
		if err := rows.Scan(&f.Source, &f.Kind, &f.Version, &f.Records, &at); err != nil {
			return st, fmt.Errorf("store: vulndb stats: %w", err)
		}
		f.ImportedAt = at.Time
		st.Feeds = append(st.Feeds, f)
	}
	return st, rows.Err()
}
