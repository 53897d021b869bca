package store

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-med/vigil/vuln"
)

// sharedOSV is a real OSV feed from ../shared/data; tests that need it skip when it is absent.
func sharedFile(tb testing.TB, rel string) string {
	tb.Helper()
	p := filepath.Join("..", "..", "shared", "data", rel)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("%s not present (shared test data is not part of a clone)", p)
	}
	return p
}

func osvRecord(t testing.TB, id, modified string, extra string) *vuln.Advisory {
	t.Helper()
	doc := `{"id":"` + id + `","modified":"` + modified + `","aliases":["CVE-2099-0001"],"summary":"test",
		"affected":[{"package":{"ecosystem":"PyPI","name":"Some_Pkg"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.2"}]}]}]` + extra + `}`
	a, err := vuln.ParseOSV([]byte(doc), "test.json")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func importOSV(t testing.TB, s *Store, recs ...*vuln.Advisory) FeedCounts {
	t.Helper()
	counts, err := s.ImportVulnFeeds(ctx, ActorSystem, func(imp *VulnImport) error {
		if err := imp.Begin("test", "osv"); err != nil {
			return err
		}
		for _, r := range recs {
			if err := imp.Advisory(r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return counts[0]
}

func TestAdvisoryImportIncremental(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store, _ Config) {
		a1 := osvRecord(t, "PYSEC-1", "2024-01-01T00:00:00Z", "")
		a2 := osvRecord(t, "PYSEC-2", "2024-01-01T00:00:00Z", `,"withdrawn":"2024-02-01T00:00:00Z"`)
		c := importOSV(t, s, a1, a2)
		if c.Added != 2 || c.Withdrawn != 1 || c.Records != 2 {
			t.Fatalf("first import: %+v", c)
		}
		// Same again: unchanged.
		c = importOSV(t, s, a1, a2)
		if c.Added != 0 || c.Updated != 0 || c.Unchanged != 2 || c.Withdrawn != 0 {
			t.Fatalf("re-import: %+v", c)
		}
		// Newer modified: updated; older modified: kept (unchanged); same modified but different
		// content (the Go database zeroes modified): updated.
		newer := osvRecord(t, "PYSEC-1", "2024-03-01T00:00:00Z", `,"details":"more"`)
		older := osvRecord(t, "PYSEC-2", "2023-01-01T00:00:00Z", "")
		c = importOSV(t, s, newer, older)
		if c.Updated != 1 || c.Unchanged != 1 {
			t.Fatalf("update: %+v", c)
		}
		sameTime := osvRecord(t, "PYSEC-1", "2024-03-01T00:00:00Z", `,"details":"changed again"`)
		if c = importOSV(t, s, sameTime); c.Updated != 1 {
			t.Fatalf("content change: %+v", c)
		}
		// The same ID twice in one import: the second is compared with the first.
		c = importOSV(t, s, osvRecord(t, "PYSEC-3", "2024-01-01T00:00:00Z", ""), osvRecord(t, "PYSEC-3", "2024-05-01T00:00:00Z", ""))
		if c.Added != 1 || c.Updated != 1 {
			t.Fatalf("duplicate in one import: %+v", c)
		}
		raw, err := s.AdvisoryJSON(ctx, "PYSEC-1")
		noErr(t, err)
		if !strings.Contains(string(raw), "changed again") {
			t.Errorf("stored record: %s", raw)
		}
		if n := rawInt(t, s, "SELECT count(*) FROM affected WHERE advisory_id = 'PYSEC-1'"); n != 1 {
			t.Errorf("affected rows after updates: %d", n)
		}
		// Lookups: withdrawn advisories are not returned; names are normalised.
		rows, err := s.AffectedFor(ctx, "PyPI", []string{"some-pkg"})
		noErr(t, err)
		var ids []string
		for _, r := range rows {
			ids = append(ids, r.AdvisoryID)
		}
		if strings.Join(ids, ",") != "PYSEC-1,PYSEC-3" {
			t.Errorf("AffectedFor = %v", ids)
		}
		info, err := s.AdvisoryInfo(ctx, []string{"PYSEC-1"})
		noErr(t, err)
		if got := info["PYSEC-1"]; got.Summary != "test" || strings.Join(got.Aliases, ",") != "CVE-2099-0001" {
			t.Errorf("AdvisoryInfo = %+v", got)
		}
		st, err := s.VulnStats(ctx)
		noErr(t, err)
		if st.Advisories != 3 || st.Withdrawn != 1 || len(st.Ecosystems) != 1 || st.Ecosystems[0].Packages != 1 || len(st.Feeds) != 1 {
			t.Errorf("stats: %+v", st)
		}
		// Every import left one audit entry, and the chain holds.
		if n := rawInt(t, s, "SELECT count(*) FROM audit_log WHERE action = 'vulndb.import'"); n != 5 {
			t.Errorf("%d audit entries", n)
		}
		verifyOK(t, s)
	})
}

func TestAdvisoryImportRollsBack(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store, _ Config) {
		boom := errors.New("bad record")
		_, err := s.ImportVulnFeeds(ctx, ActorSystem, func(imp *VulnImport) error {
			noErr(t, imp.Begin("test", "osv"))
			for i := range 450 { // more than one batch is written before the failure
				a := osvRecord(t, "PYSEC-"+strings.Repeat("9", i%7)+"-"+time.Duration(i).String(), "2024-01-01T00:00:00Z", "")
				if err := imp.Advisory(a); err != nil {
					return err
				}
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v", err)
		}
		if n := rawInt(t, s, "SELECT count(*) FROM advisories"); n != 0 {
			t.Errorf("%d advisories stored by a failed import", n)
		}
		// The first import into an empty SQLite database drops the secondary indexes and builds
		// them at the end; a failed import must leave them in place.
		if s.Dialect() == DialectSQLite {
			if got := indexNames(t, s); !slices.Equal(got, []string{"advisory_aliases_alias", "affected_package"}) {
				t.Errorf("indexes after a failed import: %v", got)
			}
		}
	})
}

// TestFirstImportRebuildsIndexes: the bulk load's dropped indexes are back, defined as the
// migration defines them, and the lookups that use them work.
func TestFirstImportRebuildsIndexes(t *testing.T) {
	cfg := testDBs()[0].fresh(t)
	s := open(t, cfg)
	noErr(t, s.Migrate(ctx))
	schema := func() string {
		var out []string
		rows, err := s.rdb.QueryContext(ctx, "SELECT name || ': ' || sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
		noErr(t, err)
		defer rows.Close()
		for rows.Next() {
			var v string
			noErr(t, rows.Scan(&v))
			out = append(out, v)
		}
		return strings.Join(out, "\n")
	}
	before := schema()
	importZip(t, s, sharedFile(t, "osv/rustsec-advisory-db-osv.zip"))
	if after := schema(); after != before {
		t.Errorf("indexes changed by the first import:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	var plan string
	noErr(t, s.rdb.QueryRowContext(ctx, "EXPLAIN QUERY PLAN SELECT advisory_id FROM advisory_aliases WHERE alias = 'CVE-2021-1'").Scan(new(int), new(int), new(int), &plan))
	if !strings.Contains(plan, "advisory_aliases_alias") {
		t.Errorf("alias lookup does not use its index: %s", plan)
	}
}

func indexNames(t *testing.T, s *Store) []string {
	t.Helper()
	rows, err := s.rdb.QueryContext(ctx, "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name IN ('advisory_aliases', 'affected') AND sql IS NOT NULL ORDER BY name")
	noErr(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		noErr(t, rows.Scan(&v))
		out = append(out, v)
	}
	return out
}

func TestKEVAndEPSSImport(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store, _ Config) {
		cat := &vuln.KEVCatalog{Version: "1", Entries: []vuln.KEVEntry{
			{CVE: "CVE-2021-44228", DateAdded: "2021-12-10", DueDate: "2021-12-24", Ransomware: "Known"},
			{CVE: "CVE-2099-0001", DateAdded: "2022-01-01"},
		}}
		imp := func(cat *vuln.KEVCatalog, scores ...vuln.EPSSScore) []FeedCounts {
			counts, err := s.ImportVulnFeeds(ctx, ActorSystem, func(imp *VulnImport) error {
				noErr(t, imp.Begin("kev.json", "kev"))
				noErr(t, imp.KEV(cat))
				if _, err := imp.End(cat.Version); err != nil {
					return err
				}
				noErr(t, imp.Begin("epss.csv", "epss"))
				for _, sc := range scores {
					noErr(t, imp.EPSS(sc))
				}
				return nil
			})
			noErr(t, err)
			return counts
		}
		c := imp(cat, vuln.EPSSScore{CVE: "CVE-2021-44228", Score: 0.97, Percentile: 0.999, Date: "2025-08-25"})
		if c[0].Added != 2 || c[1].Added != 1 {
			t.Fatalf("counts %+v", c)
		}
		cat.Entries[1].DueDate = "2022-02-01"
		c = imp(cat, vuln.EPSSScore{CVE: "CVE-2021-44228", Score: 0.97, Percentile: 0.999, Date: "2025-08-25"},
			vuln.EPSSScore{CVE: "CVE-2099-0001", Score: 0.01, Percentile: 0.1})
		if c[0].Updated != 1 || c[0].Unchanged != 1 || c[1].Unchanged != 1 || c[1].Added != 1 {
			t.Fatalf("re-import counts %+v", c)
		}
		kev, err := s.KEVFor(ctx, []string{"CVE-2021-44228", "CVE-2000-0001"})
		noErr(t, err)
		if e := kev["CVE-2021-44228"]; len(kev) != 1 || e.DateAdded != "2021-12-10" || e.DueDate != "2021-12-24" || e.Ransomware != "Known" {
			t.Errorf("KEVFor = %+v", kev)
		}
		epss, err := s.EPSSFor(ctx, []string{"CVE-2021-44228", "CVE-2099-0001"})
		noErr(t, err)
		if e := epss["CVE-2021-44228"]; e.Score != 0.97 || e.Date != "2025-08-25" || epss["CVE-2099-0001"].Date != "" {
			t.Errorf("EPSSFor = %+v", epss)
		}
		st, err := s.VulnStats(ctx)
		noErr(t, err)
		if st.KEV != 2 || st.EPSS != 2 || st.EPSSDate != "2025-08-25" {
			t.Errorf("stats %+v", st)
		}
		b, _ := json.Marshal(st)
		if !strings.Contains(string(b), `"kind":"kev"`) {
			t.Errorf("stats JSON %s", b)
		}
	})
}

func TestSQLiteFileConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "vulns.db")
	s := open(t, Config{SQLiteFile: path, DataDir: "ignored-when-file-set"})
	noErr(t, s.Migrate(ctx))
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("ignored-when-file-set"); err == nil {
		t.Error("DataDir was created although SQLiteFile was set")
	}
}

// importZip imports one OSV zip of ../shared/data.
func importZip(tb testing.TB, s *Store, path string) FeedCounts {
	tb.Helper()
	src, err := vuln.Detect(path)
	noErr(tb, err)
	counts, err := s.ImportVulnFeeds(ctx, ActorSystem, func(imp *VulnImport) error {
		if err := imp.Begin(path, "osv"); err != nil {
			return err
		}
		return vuln.ReadOSV(ctx, src, vuln.ReadOptions{Prepare: imp.PrepareAdvisory}, imp.Advisory)
	})
	noErr(tb, err)
	return counts[0]
}

func TestImportRealOSV(t *testing.T) {
	goZip := sharedFile(t, "osv/golang-vulndb-osv.zip")
	rustZip := sharedFile(t, "osv/rustsec-advisory-db-osv.zip")
	pyJSON := sharedFile(t, "osv/pypa-advisory-database-osv-json.zip")
	pyYAML := sharedFile(t, "osv/pypa-advisory-database-yaml.zip")
	eachDB(t, func(t *testing.T, s *Store, _ Config) {
		c := importZip(t, s, goZip)
		if c.Records != 4291 || c.Added != 4291 || c.Withdrawn != 17 {
			t.Fatalf("Go import: %+v", c)
		}
		t.Logf("Go OSV: %d records in %s (%.0f records/s, %s)", c.Records, c.Elapsed, c.PerSecond(), s.Dialect())
		c = importZip(t, s, goZip)
		if c.Unchanged != 4291 {
			t.Fatalf("Go re-import: %+v", c)
		}
		t.Logf("Go OSV re-import: %s (%.0f records/s)", c.Elapsed, c.PerSecond())
		if c = importZip(t, s, rustZip); c.Added != 1206 || c.Withdrawn != 13 {
			t.Errorf("RustSec import: %+v", c)
		}
		if c = importZip(t, s, pyJSON); c.Added != 2661 || c.Withdrawn != 10 {
			t.Errorf("PyPA JSON import: %+v", c)
		}
		// The same PyPA records in their upstream YAML form are recognised as unchanged.
		if c = importZip(t, s, pyYAML); c.Unchanged != 2661 {
			t.Errorf("PyPA YAML import after JSON: %+v", c)
		}
		st, err := s.VulnStats(ctx)
		noErr(t, err)
		if st.Advisories != 4291+1206+2661 || st.Withdrawn != 17+13+10 || len(st.Ecosystems) != 3 {
			t.Errorf("stats: %+v", st)
		}
	})
}

// BenchmarkImportGoOSV imports the 4,291-record Go vulnerability database into an empty database
// per iteration and reports records per second.
func BenchmarkImportGoOSV(b *testing.B) {
	goZip := sharedFile(b, "osv/golang-vulndb-osv.zip")
	for _, d := range testDBs() {
		b.Run(d.name, func(b *testing.B) {
			var recs int
			var elapsed time.Duration
			for b.Loop() {
				b.StopTimer()
				s := open(b, d.fresh(b))
				noErr(b, s.Migrate(ctx))
				b.StartTimer()
				start := time.Now()
				c := importZip(b, s, goZip)
				elapsed += time.Since(start)
				recs += c.Records
			}
			b.ReportMetric(float64(recs)/elapsed.Seconds(), "records/s")
		})
	}
}
