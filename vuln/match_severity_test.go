package vuln

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// countingDB counts AdvisoryInfo calls.
type countingDB struct {
	*fakeDB
	infoCalls int
	infoIDs   []string
}

func (c *countingDB) AdvisoryInfo(ctx context.Context, ids []string) (map[string]AdvisoryInfo, error) {
	c.infoCalls++
	c.infoIDs = append(c.infoIDs, ids...)
	return c.fakeDB.AdvisoryInfo(ctx, ids)
}

// osvRec writes a small OSV record: id, aliases, extra top-level fields (severity, withdrawn,
// database_specific) and one affected entry (ecosystem, package, SEMVER range from 0 to fixed),
// or none when eco is "".
func osvRec(id string, aliases []string, extra, eco, pkg, fixed string) string {
	al := `"` + strings.Join(aliases, `","`) + `"`
	if len(aliases) == 0 {
		al = ""
	}
	aff := ""
	if eco != "" {
		aff = fmt.Sprintf(`{"package":{"ecosystem":%q,"name":%q},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":%q}]}]}`, eco, pkg, fixed)
	}
	return fmt.Sprintf(`{"id":%q,"modified":"2024-01-01T00:00:00Z","aliases":[%s]%s,"affected":[%s]}`, id, al, extra, aff)
}

const (
	v31High   = `,"severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}]` // 7.5
	v31Crit   = `,"severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]` // 9.8
	v31Medium = `,"severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N"}]` // 5.3
	qualHigh  = `,"database_specific":{"severity":"HIGH"}`
	qualMod   = `,"database_specific":{"severity":"MODERATE"}`
	withdrawn = `,"withdrawn":"2024-02-01T00:00:00Z"`
	// A CVE record as osv.dev converts it from NVD: CVSS, commit ranges only (dropped on read).
	gitOnly = `,"severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],"affected":[{"ranges":[{"type":"GIT","repo":"https://github.com/golang/text","events":[{"introduced":"0"},{"fixed":"abc123"}]}]}]`
)

// TestAliasSeverity: a finding whose primary advisory has no CVSS score takes the severity of
// its merged advisories and of its alias records (stored advisories that its advisories name as
// aliases but that did not match the component), with buildFinding's preference rules.
func TestAliasSeverity(t *testing.T) {
	const goID, ghsa, cve, ghsa2 = "GO-2099-0001", "GHSA-aaaa-bbbb-cccc", "CVE-2099-0001", "GHSA-dddd-eeee-ffff"
	goRec := func(extra string, aliases ...string) string {
		return osvRec(goID, aliases, extra, "Go", "golang.org/x/text", "0.3.8")
	}
	cases := []struct {
		name    string
		records []string
		score   float64 // 0: no score
		rating  string
		source  string
		aliases string // the finding's aliases
		// AdvisoryInfo calls: 1 (matched advisories only) or 2 (plus the alias records)
		calls int
	}{
		{"GHSA alias in another ecosystem",
			[]string{goRec("", cve, ghsa), osvRec(ghsa, []string{cve}, v31High, "npm", "text", "1.0.0")},
			7.5, RatingHigh, ghsa, cve + " " + ghsa, 2},
		{"GHSA alias for another Go package",
			[]string{goRec("", cve, ghsa), osvRec(ghsa, []string{cve}, v31High, "Go", "golang.org/x/other", "0.3.8")},
			7.5, RatingHigh, ghsa, cve + " " + ghsa, 2},
		{"GHSA alias whose range does not include the version",
			[]string{goRec("", cve, ghsa), osvRec(ghsa, []string{cve}, v31High, "Go", "golang.org/x/text", "0.1.0")},
			7.5, RatingHigh, ghsa, cve + " " + ghsa, 2},
		{"CVE record with commit ranges only",
			[]string{goRec("", cve, ghsa), `{"id":"` + cve + `","modified":"2024-01-01T00:00:00Z"` + gitOnly + `}`},
			9.8, RatingCritical, cve, cve + " " + ghsa, 2},
		{"highest score among alias records",
			[]string{goRec("", cve, ghsa), osvRec(ghsa, nil, v31High, "npm", "x", "1.0.0"), osvRec(cve, nil, v31Crit, "", "", "")},
			9.8, RatingCritical, cve, cve + " " + ghsa, 2},
		{"the primary's score wins over a higher alias score",
			[]string{goRec(v31Medium, cve), osvRec(cve, nil, v31Crit, "", "", "")},
			5.3, RatingMedium, "", cve, 1},
		{"the primary's qualitative rating loses to an alias score",
			[]string{goRec(qualHigh, cve), osvRec(cve, nil, v31Medium, "", "", "")},
			5.3, RatingMedium, cve, cve, 2},
		{"merged member and alias record: the higher score",
			[]string{goRec("", ghsa, cve), osvRec(ghsa, nil, v31Medium, "Go", "golang.org/x/text", "0.3.8"), osvRec(cve, nil, v31Crit, "", "", "")},
			9.8, RatingCritical, cve, cve + " " + ghsa, 2},
		{"equal scores: the merged member",
			[]string{goRec("", ghsa, cve), osvRec(ghsa, nil, v31High, "Go", "golang.org/x/text", "0.3.8"), osvRec(cve, nil, v31High, "", "", "")},
			7.5, RatingHigh, ghsa, cve + " " + ghsa, 2},
		{"qualitative ratings only: the most severe",
			[]string{goRec("", ghsa, ghsa2), osvRec(ghsa, nil, qualMod, "npm", "x", "1.0.0"), osvRec(ghsa2, nil, qualHigh, "npm", "y", "1.0.0")},
			0, RatingHigh, ghsa2, ghsa + " " + ghsa2, 2},
		{"a withdrawn alias record is not used",
			[]string{goRec("", ghsa, cve), osvRec(ghsa, nil, v31Crit+withdrawn, "npm", "x", "1.0.0"), osvRec(cve, nil, v31Medium, "", "", "")},
			5.3, RatingMedium, cve, cve + " " + ghsa, 2},
		{"a withdrawn alias record that would match is not used either",
			[]string{goRec("", ghsa), osvRec(ghsa, nil, v31Crit+withdrawn, "Go", "golang.org/x/text", "0.3.8")},
			0, RatingUnknown, "", ghsa, 2},
		{"alias not stored",
			[]string{goRec("", cve)},
			0, RatingUnknown, "", cve, 2},
		// Aliases are followed one level, from the finding's advisories only.
		{"an alias of an alias record is not followed",
			[]string{goRec("", ghsa), osvRec(ghsa, []string{cve}, "", "npm", "x", "1.0.0"), osvRec(cve, nil, v31Crit, "", "", "")},
			0, RatingUnknown, "", ghsa, 2},
		{"a record naming the advisory, not named by it, is not an alias record",
			[]string{goRec(""), osvRec(ghsa, []string{goID}, v31Crit, "npm", "x", "1.0.0")},
			0, RatingUnknown, "", "", 1},
	}
	comp := Component{Name: "golang.org/x/text", Version: "v0.3.0", PURL: "pkg:golang/golang.org/x/text@v0.3.0"}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db := &countingDB{fakeDB: newFakeDB(t, c.records...)}
			res, err := Match(context.Background(), db, []Component{comp})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Findings) != 1 {
				t.Fatalf("%d findings: %+v", len(res.Findings), res.Findings)
			}
			f := res.Findings[0]
			if f.Advisory != goID || strings.Join(f.Aliases, " ") != c.aliases {
				t.Errorf("finding %s aliases %v; want %s [%s]", f.Advisory, f.Aliases, goID, c.aliases)
			}
			gotScore := 0.0
			if f.Severity.Score != nil {
				gotScore = *f.Severity.Score
			}
			if gotScore != c.score || f.Severity.Rating != c.rating || f.SeveritySource != c.source {
				t.Errorf("severity %+v (score %v) from %q; want %v %s from %q", f.Severity, gotScore, f.SeveritySource, c.score, c.rating, c.source)
			}
			if c.score != 0 && !strings.HasPrefix(f.Severity.Vector, "CVSS:3.1/") {
				t.Errorf("vector %q", f.Severity.Vector)
			}
			if db.infoCalls != c.calls {
				t.Errorf("%d AdvisoryInfo calls (%v); want %d", db.infoCalls, db.infoIDs, c.calls)
			}
		})
	}
}

// TestAliasSeverityKEV: the KEV flag and EPSS come from the finding's own IDs and aliases, also
// when the severity comes from an alias record; the alias record's own aliases add nothing.
func TestAliasSeverityKEV(t *testing.T) {
	db := newFakeDB(t,
		osvRec("GO-2099-0002", []string{"GHSA-aaaa-bbbb-cccc"}, "", "Go", "golang.org/x/text", "0.3.8"),
		osvRec("GHSA-aaaa-bbbb-cccc", []string{"CVE-2099-0002"}, v31Crit, "npm", "x", "1.0.0"))
	db.kev["CVE-2099-0002"] = KEVEntry{CVE: "CVE-2099-0002"}
	res, err := Match(context.Background(), db, []Component{{Name: "golang.org/x/text", Version: "v0.3.0", PURL: "pkg:golang/golang.org/x/text@v0.3.0"}})
	if err != nil {
		t.Fatal(err)
	}
	f := res.Findings[0]
	if f.SeveritySource != "GHSA-aaaa-bbbb-cccc" || f.Severity.Rating != RatingCritical || f.KnownExploited || len(f.Aliases) != 1 {
		t.Errorf("finding %+v", f)
	}
}

// TestVersionCacheSameResults: AffectsVersion with and without the cache (and with a cache
// shared across calls, as Match shares it) agrees on every case, including unparsable versions.
func TestVersionCacheSameResults(t *testing.T) {
	afs := []struct {
		eco string
		af  Affected
	}{
		{EcoPyPI, Affected{Versions: []string{"1.0", "1.0.post1", "2.0rc1", "not a version!"}, Ranges: []Range{{Type: "ECOSYSTEM", Events: []Event{{Introduced: "2.1"}, {Fixed: "2.4.1"}}}}}},
		{EcoPyPI, Affected{Ranges: []Range{{Type: "ECOSYSTEM", Events: []Event{{Introduced: "0"}, {LastAffected: "1.0.post1"}}}}}},
		{EcoGo, Affected{Ranges: []Range{{Type: "SEMVER", Events: []Event{{Introduced: "0"}, {Fixed: "1.19.6"}, {Introduced: "1.20.0-0"}, {Fixed: "1.20.1"}}}}}},
		{EcoCrates, Affected{Ranges: []Range{{Type: "SEMVER", Events: []Event{{Introduced: "not-semver"}, {Fixed: "1.0.0"}}}}}},
		{EcoMaven, Affected{Ranges: []Range{{Type: "ECOSYSTEM", Events: []Event{{Introduced: "2.0-beta9"}, {Fixed: "2.15.0"}}}}}},
	}
	versions := []string{"0.9", "1.0", "1.0.0", "1.0.post1", "2.0rc1", "2.0", "2.2", "2.4.1", "not a version!", "1.19.5", "1.20.0", "1.20.1", "2.14.1", "v1", ""}
	shared := newVersionCache()
	for _, a := range afs {
		for _, v := range versions {
			want := AffectsVersion(a.eco, v, a.af)
			for _, vc := range []*versionCache{nil, newVersionCache(), shared, shared} {
				if got := affectsVersion(vc, a.eco, v, a.af); got != want {
					t.Errorf("%s %q in %+v: cached %v, uncached %v", a.eco, v, a.af, got, want)
				}
			}
		}
	}
	if len(shared.m) == 0 {
		t.Error("shared cache is empty")
	}
	// Parse errors are cached too, and returned again.
	if _, err := shared.parse("not a version!", "Maven-does-not-exist"); err == nil {
		t.Fatal("want an error for an unknown ecosystem")
	}
	if _, err := shared.parse("not a version!", "Maven-does-not-exist"); err == nil {
		t.Error("cached error lost")
	}
}
