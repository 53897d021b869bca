package vuln

import (
	"context"
	"slices"
	"strings"
	"testing"
)

func TestAffectsVersion(t *testing.T) {
	ev := func(kind, v string) Event {
		switch kind {
		case "i":
			return Event{Introduced: v}
		case "f":
			return Event{Fixed: v}
		case "l":
			return Event{LastAffected: v}
		}
		return Event{Limit: v}
	}
	rng := func(typ string, evs ...Event) Range { return Range{Type: typ, Events: evs} }
	cases := []struct {
		name    string
		eco     string
		af      Affected
		yes, no []string
	}{
		{"introduced 0, fixed", EcoGo, Affected{Ranges: []Range{rng("SEMVER", ev("i", "0"), ev("f", "0.7.0"))}},
			[]string{"0.0.0-20210610132358-84b48f89b13b", "0.6.9", "0.7.0-rc.1"}, []string{"0.7.0", "0.7.1", "1.0.0"}},
		{"two intervals (stdlib branches)", EcoGo, Affected{Ranges: []Range{rng("SEMVER", ev("i", "0"), ev("f", "1.19.6"), ev("i", "1.20.0-0"), ev("f", "1.20.1"))}},
			[]string{"1.19.5", "1.20.0", "1.20.0-rc.1"}, []string{"1.19.6", "1.19.10", "1.20.1", "1.21.0"}},
		{"events out of order", EcoGo, Affected{Ranges: []Range{rng("SEMVER", ev("f", "1.20.1"), ev("i", "1.20.0-0"), ev("f", "1.19.6"), ev("i", "0"))}},
			[]string{"1.19.5", "1.20.0"}, []string{"1.19.6", "1.20.1"}},
		{"last_affected is inclusive", EcoPyPI, Affected{Ranges: []Range{rng("ECOSYSTEM", ev("i", "1.0"), ev("l", "1.4.2"))}},
			[]string{"1.0", "1.4", "1.4.2", "1.4.2rc1"}, []string{"0.9", "1.4.2.post1", "1.4.3", "2.0"}},
		{"no upper bound", EcoCrates, Affected{Ranges: []Range{rng("SEMVER", ev("i", "0.0.0-0"))}},
			[]string{"0.1.0", "99.0.0"}, nil},
		{"limit", EcoGo, Affected{Ranges: []Range{rng("SEMVER", ev("i", "1.0.0"), ev("l", "9.0.0"), ev("lim", "2.0.0"))}},
			[]string{"1.0.0", "1.9.9"}, []string{"0.9.0", "2.0.0", "3.0.0"}},
		{"limit *", EcoGo, Affected{Ranges: []Range{rng("SEMVER", ev("i", "1.0.0"), ev("lim", "*"))}},
			[]string{"1.0.0", "7.0.0"}, []string{"0.1.0"}},
		{"versions list only", EcoPyPI, Affected{Versions: []string{"0.96", "0.98", "0.98a1"}},
			[]string{"0.96", "0.98", "0.98.0", "0.98a1"}, []string{"0.97", "0.98.1"}},
		{"versions list or range", EcoPyPI, Affected{Ranges: []Range{rng("ECOSYSTEM", ev("i", "2.0"), ev("f", "2.1"))}, Versions: []string{"1.5"}},
			[]string{"1.5", "2.0.5"}, []string{"1.6", "2.1"}},
		{"multiple ranges", EcoNpm, Affected{Ranges: []Range{rng("SEMVER", ev("i", "1.0.0"), ev("f", "1.2.3")), rng("SEMVER", ev("i", "2.0.0"), ev("f", "2.0.1"))}},
			[]string{"1.0.0", "1.2.2", "2.0.0"}, []string{"0.9.0", "1.2.3", "1.9.0", "2.0.1"}},
		{"maven ordering", EcoMaven, Affected{Ranges: []Range{rng("ECOSYSTEM", ev("i", "0"), ev("f", "2.15.0"))}},
			[]string{"2.14.1", "2.15.0-rc1", "2.9"}, []string{"2.15.0", "2.16"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, v := range c.yes {
				if !AffectsVersion(c.eco, v, c.af) {
					t.Errorf("%s %s: want affected", c.eco, v)
				}
			}
			for _, v := range c.no {
				if AffectsVersion(c.eco, v, c.af) {
					t.Errorf("%s %s: want not affected", c.eco, v)
				}
			}
		})
	}
}

func TestPackageOf(t *testing.T) {
	cases := []struct {
		purl string
		want Package
		ok   bool
	}{
		{"pkg:golang/golang.org/x/net@v0.5.0", Package{EcoGo, "golang.org/x/net", "0.5.0", "v"}, true},
		{"pkg:golang/std@go1.21.0?goarch=amd64&goos=linux&type=module", Package{EcoGo, "stdlib", "1.21.0", "go"}, true},
		{"pkg:golang/stdlib@v1.21.0", Package{EcoGo, "stdlib", "1.21.0", "v"}, true},
		{"pkg:golang/github.com/docker/docker@v20.10.7%2Bincompatible", Package{EcoGo, "github.com/docker/docker", "20.10.7", "v"}, true},
		{"pkg:pypi/Django_REST.framework@3.0", Package{EcoPyPI, "django-rest-framework", "3.0", ""}, true},
		{"pkg:cargo/openssl@0.8.0", Package{EcoCrates, "openssl", "0.8.0", ""}, true},
		{"pkg:npm/%40babel/traverse@7.23.0", Package{EcoNpm, "@babel/traverse", "7.23.0", ""}, true},
		{"pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar", Package{EcoMaven, "org.apache.logging.log4j:log4j-core", "2.14.1", ""}, true},
		{"pkg:nuget/Newtonsoft.Json@12.0.1", Package{EcoNuGet, "newtonsoft.json", "12.0.1", ""}, true},
		{"pkg:gem/rails@6.0.0", Package{EcoRubyGems, "rails", "6.0.0", ""}, true},
		{"pkg:composer/Laravel/Framework@5.5.0", Package{EcoPackagist, "laravel/framework", "5.5.0", ""}, true},
		{"pkg:hex/plug@1.0.0", Package{EcoHex, "plug", "1.0.0", ""}, true},
		{"pkg:pub/http@0.13.0", Package{EcoPub, "http", "0.13.0", ""}, true},
		{"pkg:swift/github.com/apple/swift-nio@2.0.0", Package{EcoSwiftURL, "github.com/apple/swift-nio", "2.0.0", ""}, true},
		{"pkg:github/actions/checkout@v4.1.0", Package{EcoActions, "actions/checkout", "v4.1.0", ""}, true},
		{"pkg:deb/debian/openssl@1.1.1", Package{}, false},
		{"not a purl", Package{}, false},
	}
	for _, c := range cases {
		got, ok := PackageOf(c.purl)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("PackageOf(%q) = %+v, %v; want %+v, %v", c.purl, got, ok, c.want, c.ok)
		}
	}
}

// fakeDB is an in-memory DB built from parsed advisories.
type fakeDB struct {
	advs map[string]*Advisory
	kev  map[string]KEVEntry
	epss map[string]EPSSScore
}

func newFakeDB(t *testing.T, records ...string) *fakeDB {
	t.Helper()
	db := &fakeDB{advs: map[string]*Advisory{}, kev: map[string]KEVEntry{}, epss: map[string]EPSSScore{}}
	for i, r := range records {
		a, err := ParseOSV([]byte(r), "record"+string(rune('0'+i)))
		if err != nil {
			t.Fatal(err)
		}
		db.advs[a.ID] = a
	}
	return db
}

func (db *fakeDB) AffectedFor(_ context.Context, eco string, names []string) ([]AffectedRow, error) {
	var out []AffectedRow
	for _, id := range sortedKeys(db.advs) {
		a := db.advs[id]
		if a.Withdrawn != nil {
			continue
		}
		for _, af := range a.Affected {
			if af.Ecosystem == eco && slices.Contains(names, af.Name) {
				out = append(out, AffectedRow{AdvisoryID: id, Affected: af})
			}
		}
	}
	return out, nil
}

func (db *fakeDB) AdvisoryInfo(_ context.Context, ids []string) (map[string]AdvisoryInfo, error) {
	out := map[string]AdvisoryInfo{}
	for _, id := range ids {
		if a, ok := db.advs[id]; ok {
			out[id] = AdvisoryInfo{ID: id, Summary: a.Summary, Aliases: a.Aliases, Severity: a.Severity, Informational: a.Informational,
				Withdrawn: a.Withdrawn != nil}
		}
	}
	return out, nil
}

func (db *fakeDB) KEVFor(_ context.Context, cves []string) (map[string]KEVEntry, error) {
	out := map[string]KEVEntry{}
	for _, c := range cves {
		if e, ok := db.kev[c]; ok {
			out[c] = e
		}
	}
	return out, nil
}

func (db *fakeDB) EPSSFor(_ context.Context, cves []string) (map[string]EPSSScore, error) {
	out := map[string]EPSSScore{}
	for _, c := range cves {
		if e, ok := db.epss[c]; ok {
			out[c] = e
		}
	}
	return out, nil
}

const (
	goNet = `{"id":"GO-2023-1571","modified":"2023-01-01T00:00:00Z","aliases":["CVE-2022-41723","GHSA-vvpx-j8f3-3w6h"],
	  "summary":"HTTP/2 DoS","affected":[
	  {"package":{"ecosystem":"Go","name":"stdlib"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.19.6"},{"introduced":"1.20.0-0"},{"fixed":"1.20.1"}]}]},
	  {"package":{"ecosystem":"Go","name":"golang.org/x/net"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"0.7.0"}]}]}]}`
	ghsaNet = `{"id":"GHSA-vvpx-j8f3-3w6h","modified":"2023-01-02T00:00:00Z","aliases":["CVE-2022-41723"],
	  "severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}],
	  "affected":[{"package":{"ecosystem":"Go","name":"golang.org/x/net"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"0.7.0"}]}]}]}`
	cveNet = `{"id":"CVE-2022-41723","modified":"2023-01-03T00:00:00Z",
	  "affected":[{"package":{"ecosystem":"Go","name":"golang.org/x/net"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"0.7.0"}]}]}]}`
	withdrawnNet = `{"id":"GO-2023-9999","modified":"2023-01-01T00:00:00Z","withdrawn":"2023-02-01T00:00:00Z",
	  "affected":[{"package":{"ecosystem":"Go","name":"golang.org/x/net"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]}]}`
	otherNet = `{"id":"GO-2023-2102","modified":"2023-01-01T00:00:00Z","aliases":["CVE-2023-39325"],
	  "affected":[{"package":{"ecosystem":"Go","name":"golang.org/x/net"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"0.17.0"}]}]}]}`
)

func TestMatchMergesAliasesAndSkipsWithdrawn(t *testing.T) {
	db := newFakeDB(t, goNet, ghsaNet, cveNet, withdrawnNet, otherNet)
	db.kev["CVE-2022-41723"] = KEVEntry{CVE: "CVE-2022-41723", DateAdded: "2024-01-01"}
	db.epss["CVE-2023-39325"] = EPSSScore{CVE: "CVE-2023-39325", Score: 0.5, Percentile: 0.9}
	comps := []Component{
		{Name: "golang.org/x/net", Version: "v0.5.0", PURL: "pkg:golang/golang.org/x/net@v0.5.0"},
		// syft lists a module once per go.mod it appears in: same package, reported once.
		{Name: "golang.org/x/net", Version: "v0.5.0", PURL: "pkg:golang/golang.org/x/net@v0.5.0?package-id=2"},
		{Name: "std", Version: "go1.20.0", PURL: "pkg:golang/std@go1.20.0"},
		{Name: "golang.org/x/net", Version: "v0.17.0", PURL: "pkg:golang/golang.org/x/net@v0.17.0"},
		{Name: "no purl", Version: "1.0"},
	}
	res, err := Match(context.Background(), db, comps)
	if err != nil {
		t.Fatal(err)
	}
	if res.Duplicates != 1 || res.Unmatchable != 1 || res.Packages != 3 {
		t.Errorf("counts: %+v", res)
	}
	var got []string
	for _, f := range res.Findings {
		got = append(got, f.Component.Name+"@"+f.Component.Version+" "+f.Advisory+" ["+strings.Join(f.Aliases, " ")+"] fixed="+strings.Join(f.FixedIn, ","))
	}
	want := []string{
		"golang.org/x/net@v0.5.0 GO-2023-1571 [CVE-2022-41723 GHSA-vvpx-j8f3-3w6h] fixed=v0.7.0",
		"golang.org/x/net@v0.5.0 GO-2023-2102 [CVE-2023-39325] fixed=v0.17.0",
		"std@go1.20.0 GO-2023-1571 [CVE-2022-41723 GHSA-vvpx-j8f3-3w6h] fixed=go1.20.1",
	}
	if !slices.Equal(got, want) {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	f := res.Findings[0]
	// The GO record has no score: the merged GHSA's is used. KEV via the CVE alias.
	if f.Severity.Score == nil || *f.Severity.Score != 7.5 || f.Severity.Rating != RatingHigh || f.SeveritySource != "GHSA-vvpx-j8f3-3w6h" ||
		!f.KnownExploited || len(f.KEV) != 1 {
		t.Errorf("merged finding: %+v", f)
	}
	if f := res.Findings[1]; f.EPSS == nil || f.EPSS.Score != 0.5 || f.KnownExploited || f.Severity.Rating != RatingUnknown || f.SeveritySource != "" {
		t.Errorf("EPSS finding: %+v", f)
	}
	// The GHSA record names golang.org/x/net only, so it is not merged into the stdlib finding,
	// but the GO record names it as an alias: its score is the finding's.
	if f := res.Findings[2]; f.Severity.Score == nil || *f.Severity.Score != 7.5 || f.SeveritySource != "GHSA-vvpx-j8f3-3w6h" || !f.KnownExploited {
		t.Errorf("stdlib finding: %+v", f)
	}
}

func TestChooseSeverity(t *testing.T) {
	v4 := "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:H/VA:L/SC:N/SI:H/SA:L"
	s := chooseSeverity([]sevEntry{{"CVSS_V4", v4}}, "")
	if s.Score == nil || *s.Score != 9.2 || s.Rating != RatingCritical {
		t.Errorf("v4: %+v", s)
	}
	s = chooseSeverity([]sevEntry{{"CVSS_V4", v4}, {"CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N"}}, "")
	if s.Score == nil || *s.Score != 5.3 || !strings.HasPrefix(s.Vector, "CVSS:3.1") {
		t.Errorf("v3.1 preferred: %+v", s)
	}
	s = chooseSeverity([]sevEntry{{"CVSS_V3", "CVSS:3.1/garbage"}}, "MODERATE")
	if s.Score != nil || s.Rating != RatingMedium {
		t.Errorf("qualitative: %+v", s)
	}
	if s := chooseSeverity(nil, ""); s.Rating != RatingUnknown {
		t.Errorf("none: %+v", s)
	}
}
