package store

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/vigil-med/vigil/sbom"
)

// seedPortfolio stores versions device versions (10 per product) with one SBOM each of 100 to
// 300 components drawn from pool, directly (no audit), then computes every version's findings
// with one refresh. golang.org/x/net is in every SBOM, at one of four versions, so that an
// HTTP/2 advisory hits most of the portfolio.
func seedPortfolio(tb testing.TB, s *Store, versions int, pool []sbom.Component) {
	tb.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	xnet := []string{"v0.0.0-20210610132358-84b48f89b13b", "v0.0.0-20220906165146-f3363e06e74c", "v0.7.0", "v0.17.0"}
	now := time.Now()
	sum := strings.Repeat("ab", 32)
	noErr(tb, s.Transact(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, "INSERT INTO blobs (sha256, size, data) VALUES (?, 1, ?)", sum, []byte("x")); err != nil {
			return err
		}
		var pid int64
		for v := range versions {
			if v%10 == 0 {
				if err := tx.QueryRowContext(ctx, "INSERT INTO products (name, created_at, updated_at) VALUES (?, ?, ?) RETURNING id",
					fmt.Sprintf("Device %03d", v/10), now, now).Scan(&pid); err != nil {
					return err
				}
			}
			var vid, sid int64
			if err := tx.QueryRowContext(ctx, "INSERT INTO device_versions (product_id, version, profile_yaml, created_at) VALUES (?, ?, ?, ?) RETURNING id",
				pid, fmt.Sprintf("%d.0", v%10), profileText, now).Scan(&vid); err != nil {
				return err
			}
			n := 100 + rng.IntN(201)
			if err := tx.QueryRowContext(ctx, `INSERT INTO sboms (device_version_id, label, format, filename, size, sha256, components, uploaded_by, uploaded_at)
				VALUES (?, 'firmware', 'CycloneDX', 'f.json', 1, ?, ?, 'seed', ?) RETURNING id`, vid, sum, n, now).Scan(&sid); err != nil {
				return err
			}
			comps := []sbom.Component{goComponent("golang.org/x/net", xnet[rng.IntN(len(xnet))])}
			for _, i := range rng.Perm(len(pool))[:n-1] {
				if pool[i].Name != "golang.org/x/net" {
					comps = append(comps, pool[i])
				}
			}
			rows := make([][]any, 0, len(comps))
			for i, c := range comps {
				r := componentRow(c)
				rows = append(rows, []any{sid, i, r.Ref, r.Name, r.Version, r.PURL, r.ComponentKey, r.Ecosystem, r.Package, r.pkgVersion})
			}
			if err := insertRows(ctx, tx, "sbom_components", []string{"sbom_id", "seq", "ref", "name", "version", "purl", "component_key", "ecosystem", "package", "pkg_version"}, rows); err != nil {
				return err
			}
		}
		return nil
	}))
	start := time.Now()
	r, err := s.RefreshFindings(ctx, ActorSystem, nil)
	noErr(tb, err)
	tb.Logf("%s: %d versions, %d open findings computed in %s", s.Dialect(), r.Versions, r.Open, time.Since(start).Round(time.Millisecond))
	if s.Dialect() == DialectPostgres {
		rawExec(tb, s, "VACUUM ANALYZE")
	} else {
		rawExec(tb, s, "ANALYZE")
	}
}

// BenchmarkImpact: "who is hit by CVE-2022-27664?" over 1,000 device versions with 100 to 300
// components each (the telegraf v1.20.0 modules) and the real Go vulnerability database. The
// target is under 50 ms per query.
func BenchmarkImpact(b *testing.B) {
	path := sharedFile(b, "sboms/generated/telegraf-v1.20.0-gomod-syft.cdx.json")
	zip := sharedFile(b, "osv/golang-vulndb-osv.zip")
	doc, err := sbom.ParseFile(path)
	noErr(b, err)
	for _, d := range testDBs() {
		b.Run(d.name, func(b *testing.B) {
			s := open(b, d.fresh(b))
			noErr(b, s.Migrate(ctx))
			loadOSVFile(b, s, zip)
			seedPortfolio(b, s, 1000, doc.Components)
			// GO-2022-0969 (HTTP/2 server hang) hits a quarter of the versions, GO-2023-2102
			// (HTTP/2 rapid reset) three quarters.
			for _, q := range []string{"CVE-2022-27664", "CVE-2023-39325"} {
				b.Run(q, func(b *testing.B) {
					var imp *Impact
					for b.Loop() {
						imp, err = s.Impact(ctx, q)
						if err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/query")
					b.ReportMetric(float64(imp.DeviceVersions), "versions-hit")
					if imp.DeviceVersions < 100 {
						b.Errorf("only %d device versions hit", imp.DeviceVersions)
					}
				})
			}
		})
	}
}

// TestImpactLatency checks the 50 ms target at a smaller scale in the normal test run (200
// versions; the benchmark measures 1,000).
func TestImpactLatency(t *testing.T) {
	path := sharedFile(t, "sboms/generated/telegraf-v1.20.0-gomod-syft.cdx.json")
	zip := sharedFile(t, "osv/golang-vulndb-osv.zip")
	doc, err := sbom.ParseFile(path)
	noErr(t, err)
	s := open(t, Config{DataDir: t.TempDir()})
	noErr(t, s.Migrate(ctx))
	loadOSVFile(t, s, zip)
	seedPortfolio(t, s, 200, doc.Components)
	best := time.Hour
	var imp *Impact
	for range 5 {
		imp, err = s.Impact(ctx, "GO-2023-2102")
		noErr(t, err)
		best = min(best, imp.Elapsed)
	}
	t.Logf("impact of GO-2023-2102 over 200 versions: %d hit, best of 5 %s", imp.DeviceVersions, best)
	if imp.DeviceVersions == 0 || imp.DeviceVersions == 200 {
		t.Errorf("%d of 200 versions hit; golang.org/x/net v0.17.0 is fixed, the others not", imp.DeviceVersions)
	}
	if best > 50*time.Millisecond {
		t.Errorf("impact query took %s, target 50 ms", best)
	}

}
