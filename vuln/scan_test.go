package vuln_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-med/vigil/internal/pgtest"
	"github.com/vigil-med/vigil/sbom"
	"github.com/vigil-med/vigil/store"
	"github.com/vigil-med/vigil/vuln"
)

var ctx = context.Background()

func shared(tb testing.TB, rel string) string {
	tb.Helper()
	p := filepath.Join("..", "..", "shared", "data", rel)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("%s not present (shared test data is not part of a clone)", p)
	}
	return p
}

// loadDB imports feeds (paths relative to ../shared/data, or absolute) into a fresh database.
func loadDB(tb testing.TB, cfg store.Config, feeds ...string) *store.Store {
	tb.Helper()
	st, err := store.Open(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	var srcs []vuln.Source
	for _, f := range feeds {
		p := f
		if !filepath.IsAbs(p) && !strings.HasPrefix(p, "testdata") {
			p = shared(tb, f)
		}
		src, err := vuln.Detect(p)
		if err != nil {
			tb.Fatal(err)
		}
		srcs = append(srcs, src)
	}
	_, err = st.ImportVulnFeeds(ctx, store.ActorSystem, func(imp *store.VulnImport) error {
		for _, src := range srcs {
			if err := imp.Begin(src.Path, string(src.Kind)); err != nil {
				return err
			}
			switch src.Kind {
			case vuln.KindOSV:
				if err := vuln.ReadOSV(ctx, src, vuln.ReadOptions{Prepare: imp.PrepareAdvisory}, imp.Advisory); err != nil {
					return err
				}
			case vuln.KindKEV:
				cat, err := vuln.ReadKEV(src.Path, vuln.Limits{})
				if err != nil {
					return err
				}
				if err := imp.KEV(cat); err != nil {
					return err
				}
			case vuln.KindEPSS:
				if _, err := vuln.ReadEPSS(src.Path, vuln.Limits{}, imp.EPSS); err != nil {
					return err
				}
			}
			if _, err := imp.End(""); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return st
}

func components(tb testing.TB, path string) []vuln.Component {
	tb.Helper()
	doc, err := sbom.ParseFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	out := make([]vuln.Component, 0, len(doc.Components))
	for _, c := range doc.Components {
		out = append(out, vuln.Component{Name: c.Name, Version: c.Version, PURL: c.PURL})
	}
	return out
}

var allFeeds = []string{"osv/golang-vulndb-osv.zip", "osv/rustsec-advisory-db-osv.zip", "osv/pypa-advisory-database-osv-json.zip",
	"kev/known_exploited_vulnerabilities.json", "testdata/epss_synthetic.csv"}

func databases(t *testing.T) map[string]func(t *testing.T) store.Config {
	return map[string]func(t *testing.T) store.Config{
		"sqlite": func(t *testing.T) store.Config {
			return store.Config{SQLiteFile: filepath.Join(t.TempDir(), "vulns.db")}
		},
		"postgres": func(t *testing.T) store.Config { return store.Config{DatabaseURL: pgtest.Fresh(t)} },
	}
}

// TestScanTelegraf scans the SBOM of telegraf v1.20.0 (2021, 325 Go modules) against the real Go
// vulnerability database. osv-scanner, run offline on the same SBOM and the same all.zip, reports
// 140 Go advisories on 29 modules (shared/data README); Vigil finds the same 140 on the same 29.
// There is nothing to merge: the Go database has one GO- record per vulnerability (GHSA and CVE
// IDs are its aliases, not separate records), and this syft SBOM lists no standard library
// component, so the stdlib mapping (which osv-scanner lacks) adds nothing here.
func TestScanTelegraf(t *testing.T) {
	path := shared(t, "sboms/generated/telegraf-v1.20.0-gomod-syft.cdx.json")
	for name, cfg := range databases(t) {
		t.Run(name, func(t *testing.T) {
			st := loadDB(t, cfg(t), allFeeds...)
			start := time.Now()
			res, err := vuln.Match(ctx, st, components(t, path))
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("telegraf: %d findings in %s", len(res.Findings), time.Since(start))
			modules := map[string]bool{}
			seen := map[string]bool{}
			for _, f := range res.Findings {
				modules[f.Component.Name] = true
				key := f.Component.PURL + " " + f.Advisory
				if seen[key] {
					t.Errorf("duplicate finding %s", key)
				}
				seen[key] = true
				for _, a := range f.Aliases {
					if seen[f.Component.PURL+" "+a] {
						t.Errorf("%s reported under %s and again as alias of %s", a, a, f.Advisory)
					}
				}
				if f.Ecosystem != vuln.EcoGo {
					t.Errorf("%s: ecosystem %s", f.Advisory, f.Ecosystem)
				}
			}
			if len(res.Findings) != 140 || len(modules) != 29 {
				t.Errorf("%d findings on %d modules; osv-scanner reports 140 on 29", len(res.Findings), len(modules))
			}
			// golang.org/x/net v0.0.0-20210610132358 is hit by HTTP/2 rapid reset; the first fix
			// is reported in the SBOM's own version style.
			i := slices.IndexFunc(res.Findings, func(f vuln.Finding) bool { return f.Advisory == "GO-2023-2102" })
			if i < 0 || res.Findings[i].Component.Name != "golang.org/x/net" || !slices.Equal(res.Findings[i].FixedIn, []string{"v0.17.0"}) {
				t.Errorf("GO-2023-2102: %+v", res.Findings[i])
			}
			// The version cache changes nothing: the same findings, field by field.
			uncached, err := vuln.MatchUncached(ctx, st, components(t, path))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(res, uncached) {
				t.Errorf("cached and uncached matching differ: %d vs %d findings", len(res.Findings), len(uncached.Findings))
			}
		})
	}
}

// TestScanStdlib: the Go standard library, as cyclonedx-gomod writes it (pkg:golang/std@go1.x),
// matches the Go database's "stdlib" records.
func TestScanStdlib(t *testing.T) {
	st := loadDB(t, store.Config{SQLiteFile: filepath.Join(t.TempDir(), "v.db")}, "osv/golang-vulndb-osv.zip", "kev/known_exploited_vulnerabilities.json")
	res, err := vuln.Match(ctx, st, []vuln.Component{
		{Name: "std", Version: "go1.20.0", PURL: "pkg:golang/std@go1.20.0?type=module"},
	})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(res.Findings, func(f vuln.Finding) bool { return f.Advisory == "GO-2023-1571" })
	if i < 0 {
		t.Fatalf("GO-2023-1571 not found among %d stdlib findings", len(res.Findings))
	}
	if f := res.Findings[i]; !slices.Equal(f.FixedIn, []string{"go1.20.1"}) || !slices.Contains(f.Aliases, "CVE-2022-41723") {
		t.Errorf("finding %+v", f)
	}
	if len(res.Findings) < 50 {
		t.Errorf("only %d findings for go1.20.0", len(res.Findings))
	}
	// The telegraf SBOM of cyclonedx-gomod lists std@go1.26.8: matched, not skipped.
	comps := components(t, shared(t, "sboms/generated/telegraf-b272631-cyclonedx-gomod.cdx.json"))
	res, err = vuln.Match(ctx, st, comps)
	if err != nil {
		t.Fatal(err)
	}
	if res.Unmatchable > 1 {
		t.Errorf("%d components without a usable purl", res.Unmatchable)
	}
	t.Logf("telegraf b272631 (2026): %d findings on %d packages", len(res.Findings), res.Packages)
}

// BenchmarkScanPrometheus matches the 2,754-component Prometheus SBOM (2,154 npm, 534 Go, 41
// GitHub Actions; 497 syft duplicates) against the Go, RustSec and PyPA databases, KEV and EPSS.
func BenchmarkScanPrometheus(b *testing.B) {
	path := shared(b, "sboms/generated/prometheus-d15adb9-syft.cdx.json")
	st := loadDB(b, store.Config{SQLiteFile: filepath.Join(b.TempDir(), "v.db")}, allFeeds...)
	comps := components(b, path)
	var n int
	for b.Loop() {
		res, err := vuln.Match(ctx, st, comps)
		if err != nil {
			b.Fatal(err)
		}
		n = len(res.Findings)
	}
	b.ReportMetric(float64(len(comps))*float64(b.N)/b.Elapsed().Seconds(), "components/s")
	b.ReportMetric(float64(n), "findings")
}
