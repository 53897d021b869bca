package vuln_test

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/vigil-med/vigil/vuln"
)

// TestAliasSeverityStore: through the real store (whose AdvisoryInfo also returns withdrawn
// advisories), a GO record without CVSS takes the score of its stored GHSA alias record, which
// names another ecosystem, and never that of a withdrawn alias record.
func TestAliasSeverityStore(t *testing.T) {
	records := map[string]string{
		"GO-2099-0001": `{"id":"GO-2099-0001","modified":"2024-01-01T00:00:00Z","aliases":["CVE-2099-0001","GHSA-aaaa-bbbb-cccc"],
			"affected":[{"package":{"ecosystem":"Go","name":"golang.org/x/text"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"0.3.8"}]}]}]}`,
		"GHSA-aaaa-bbbb-cccc": `{"id":"GHSA-aaaa-bbbb-cccc","modified":"2024-01-01T00:00:00Z","aliases":["CVE-2099-0001"],
			"severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}],
			"affected":[{"package":{"ecosystem":"npm","name":"text"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.0"}]}]}]}`,
		// Withdrawn, with a higher score, and it would match: neither matched nor used.
		"GO-2099-0002": `{"id":"GO-2099-0002","modified":"2024-01-01T00:00:00Z","aliases":["GHSA-dddd-eeee-ffff"],
			"affected":[{"package":{"ecosystem":"Go","name":"golang.org/x/text"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"0.3.8"}]}]}]}`,
		"GHSA-dddd-eeee-ffff": `{"id":"GHSA-dddd-eeee-ffff","modified":"2024-01-01T00:00:00Z","withdrawn":"2024-02-01T00:00:00Z",
			"severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
			"affected":[{"package":{"ecosystem":"Go","name":"golang.org/x/text"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"0.3.8"}]}]}]}`,
	}
	dir := t.TempDir()
	for id, r := range records {
		if err := os.WriteFile(filepath.Join(dir, id+".json"), []byte(r), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, cfg := range databases(t) {
		t.Run(name, func(t *testing.T) {
			st := loadDB(t, cfg(t), dir)
			// The store hands out the withdrawn record, marked withdrawn.
			infos, err := st.AdvisoryInfo(ctx, []string{"GHSA-dddd-eeee-ffff"})
			if err != nil || infos["GHSA-dddd-eeee-ffff"].Severity.Score == nil || !infos["GHSA-dddd-eeee-ffff"].Withdrawn {
				t.Fatalf("AdvisoryInfo of the withdrawn record: %+v, %v", infos, err)
			}
			res, err := vuln.Match(ctx, st, []vuln.Component{{Name: "golang.org/x/text", Version: "v0.3.0", PURL: "pkg:golang/golang.org/x/text@v0.3.0"}})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Findings) != 2 {
				t.Fatalf("%d findings: %+v", len(res.Findings), res.Findings)
			}
			f := res.Findings[0]
			if f.Advisory != "GO-2099-0001" || f.Severity.Score == nil || *f.Severity.Score != 7.5 || f.Severity.Rating != vuln.RatingHigh ||
				f.SeveritySource != "GHSA-aaaa-bbbb-cccc" {
				t.Errorf("GO-2099-0001: %+v severity %+v", f, f.Severity)
			}
			if f := res.Findings[1]; f.Advisory != "GO-2099-0002" || f.Severity.Score != nil || f.Severity.Rating != vuln.RatingUnknown || f.SeveritySource != "" {
				t.Errorf("GO-2099-0002 took a withdrawn record's severity: %+v severity %+v", f, f.Severity)
			}
		})
	}
}

// TestMatchPyPICache: on a large Python environment against the PyPA database (long versions
// lists, PEP 440 ordering), matching with the version cache gives exactly the findings of
// matching without it.
func TestMatchPyPICache(t *testing.T) {
	if testing.Short() {
		t.Skip("reads the PyPA database")
	}
	advs := readAdvisories(t, "osv/pypa-advisory-database-osv-json.zip")
	db, comps := newMemDB(advs), pypiComponents(advs)
	cached, err := vuln.Match(ctx, db, comps)
	if err != nil {
		t.Fatal(err)
	}
	uncached, err := vuln.MatchUncached(ctx, db, comps)
	if err != nil {
		t.Fatal(err)
	}
	if len(cached.Findings) < 1000 || !reflect.DeepEqual(cached, uncached) {
		t.Errorf("cached %d findings, uncached %d; or they differ", len(cached.Findings), len(uncached.Findings))
	}
}
