package store

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-med/vigil/sbom"
	"github.com/vigil-med/vigil/vuln"
)

// goAdvisory is a synthetic Go advisory for module, affected before fixed.
func goAdvisory(t testing.TB, id, modified, module, fixed string, aliases ...string) *vuln.Advisory {
	t.Helper()
	al := `[]`
	if len(aliases) > 0 {
		al = `["` + strings.Join(aliases, `","`) + `"]`
	}
	doc := fmt.Sprintf(`{"id":%q,"modified":%q,"aliases":%s,"summary":"problem in %s",
		"affected":[{"package":{"ecosystem":"Go","name":%q},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":%q}]}]}],
		"severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}]}`, id, modified, al, module, module, fixed)
	a, err := vuln.ParseOSV([]byte(doc), id+".json")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func goComponent(module, version string) sbom.Component {
	return sbom.Component{Ref: module, Name: module, Version: version, PURL: "pkg:golang/" + module + "@" + version}
}

// sbomInput is an SBOM with these components (the data stands for the file).
func sbomInput(version int64, label string, comps ...sbom.Component) SBOMInput {
	data := []byte(fmt.Sprintf(`{"bomFormat":"CycloneDX","label":%q,"n":%d}`, label, len(comps)))
	q := 80
	return SBOMInput{DeviceVersionID: version, Label: label, Filename: "/tmp/" + label + ".cdx.json", Data: data, Quality: &q,
		Doc: &sbom.Document{Format: "CycloneDX", SpecVersion: "1.6", Encoding: "json", Name: "pump", Components: comps}}
}

func addVersion(t testing.TB, s *Store, product, version string) DeviceVersion {
	t.Helper()
	ps := must[[]Product](t)(s.ListProducts(ctx))
	var pid int64
	for _, p := range ps {
		if p.Name == product {
			pid = p.ID
		}
	}
	if pid == 0 {
		pid = must[Product](t)(s.CreateProduct(ctx, "setup@example.com", Product{Name: product, Manufacturer: "Acme Medical"})).ID
	}
	return must[DeviceVersion](t)(s.CreateDeviceVersion(ctx, "setup@example.com", pid, version, profileText))
}

// TestFindingsLifecycle: findings appear when an SBOM is imported, merge across SBOMs of a
// version, follow advisory changes (new, updated, withdrawn) and component removal.
func TestFindingsLifecycle(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store, _ Config) {
		importOSV(t, s, goAdvisory(t, "GO-2099-0001", "2024-01-01T00:00:00Z", "example.com/net", "1.5.0", "CVE-2099-1001"))
		v := addVersion(t, s, "InsuPump", "1.0")
		fw := sbomInput(v.ID, "firmware", goComponent("example.com/net", "v1.2.0"), goComponent("example.com/safe", "v2.0.0"),
			sbom.Component{Ref: "blob", Name: "vendor blob", Version: "7"})
		got := must[SBOMImport](t)(s.ImportSBOM(ctx, "ed@example.com", fw))
		if got.SBOM.ID == 0 || got.SBOM.Components != 3 || got.SBOM.Filename != "firmware.cdx.json" || *got.SBOM.Quality != 80 {
			t.Fatalf("sbom: %+v", got.SBOM)
		}
		if got.Findings.Versions != 1 || got.Findings.Open != 1 || len(got.Findings.New) != 1 {
			t.Fatalf("refresh: %+v", got.Findings)
		}
		nf := got.Findings.New[0]
		if nf.Advisory != "GO-2099-0001" || nf.ComponentKey != "pkg:golang/example.com/net@v1.2.0" || nf.ProductName != "InsuPump" || nf.Version != "1.0" ||
			!slices.Equal(nf.FixedIn, []string{"v1.5.0"}) || nf.Severity.Rating != "high" || !slices.Equal(nf.Sources, []string{"firmware"}) {
			t.Errorf("new finding: %+v", nf)
		}
		blob := must[[]byte](t)(s.EvidenceBlob(ctx, got.SBOM.SHA256))
		if string(blob) != string(fw.Data) {
			t.Error("stored file differs")
		}
		comps := must[[]SBOMComponent](t)(s.SBOMComponents(ctx, got.SBOM.ID))
		if len(comps) != 3 || comps[0].Ecosystem != "Go" || comps[0].Package != "example.com/net" || comps[2].ComponentKey != "vendor blob@7" {
			t.Errorf("components: %+v", comps)
		}

		// The same label again is a conflict unless replacing.
		_, err := s.ImportSBOM(ctx, "ed@example.com", fw)
		wantErr(t, err, ErrConflict, "same label")
		// A second SBOM (the mobile app) with the same vulnerable module: one finding, two sources.
		app := sbomInput(v.ID, "mobile app", goComponent("example.com/net", "v1.2.0"))
		app.Doc.Components[0].PURL += "?type=module" // qualifiers do not make another component
		got = must[SBOMImport](t)(s.ImportSBOM(ctx, "ed@example.com", app))
		if len(got.Findings.New) != 0 || got.Findings.Open != 1 || got.Findings.Updated != 1 {
			t.Errorf("second sbom: %+v", got.Findings)
		}
		fs := must[[]Finding](t)(s.ListFindings(ctx, v.ID, FindingFilter{}))
		if len(fs) != 1 || !slices.Equal(fs[0].Sources, []string{"firmware", "mobile app"}) {
			t.Errorf("merged view: %+v", fs)
		}
		if sb := must[[]SBOM](t)(s.ListSBOMs(ctx, v.ID)); len(sb) != 2 || sb[0].Label != "firmware" || sb[1].Label != "mobile app" {
			t.Errorf("sboms: %+v", sb)
		}

		// A new advisory arrives: the refresh after the import reports the new finding.
		before := s.nowUTC()
		time.Sleep(2 * time.Millisecond)
		c := importOSV(t, s, goAdvisory(t, "GO-2099-0002", "2024-02-01T00:00:00Z", "example.com/safe", "2.1.0", "CVE-2099-1002", "GHSA-aaaa-bbbb-cccc"))
		r := must[RefreshResult](t)(s.RefreshAfterVulnImport(ctx, ActorSystem, []FeedCounts{c}))
		if r.Versions != 1 || len(r.New) != 1 || r.New[0].Advisory != "GO-2099-0002" || r.Open != 2 {
			t.Fatalf("after import: %+v", r)
		}
		if vs := r.NewVersions(); !slices.Equal(vs, []int64{v.ID}) {
			t.Errorf("new versions %v", vs)
		}
		nf2 := must[[]Finding](t)(s.NewFindings(ctx, before))
		if len(nf2) != 1 || nf2[0].Advisory != "GO-2099-0002" || nf2[0].ProductName != "InsuPump" {
			t.Errorf("new since: %+v", nf2)
		}
		// Nothing changed: nothing to refresh.
		c = importOSV(t, s, goAdvisory(t, "GO-2099-0002", "2024-02-01T00:00:00Z", "example.com/safe", "2.1.0", "CVE-2099-1002", "GHSA-aaaa-bbbb-cccc"))
		if r := must[RefreshResult](t)(s.RefreshAfterVulnImport(ctx, ActorSystem, []FeedCounts{c})); r.Versions != 0 {
			t.Errorf("unchanged import refreshed %d versions", r.Versions)
		}
		// KEV lists the CVE: the finding is updated, not new.
		kev := &vuln.KEVCatalog{Version: "t", Entries: []vuln.KEVEntry{{CVE: "CVE-2099-1002", DateAdded: "2024-03-01"}}}
		counts, err := s.ImportVulnFeeds(ctx, ActorSystem, func(imp *VulnImport) error {
			if err := imp.Begin("kev.json", "kev"); err != nil {
				return err
			}
			return imp.KEV(kev)
		})
		noErr(t, err)
		r = must[RefreshResult](t)(s.RefreshAfterVulnImport(ctx, ActorSystem, counts))
		if len(r.New) != 0 || r.Updated != 1 {
			t.Errorf("kev refresh: %+v", r)
		}
		yes := true
		if fs := must[[]Finding](t)(s.ListFindings(ctx, v.ID, FindingFilter{KEV: &yes})); len(fs) != 1 || !fs[0].KnownExploited || fs[0].Advisory != "GO-2099-0002" {
			t.Errorf("kev filter: %+v", fs)
		}
		sum := must[map[int64]FindingSummary](t)(s.FindingSummaries(ctx))[v.ID]
		if sum.Open != 2 || sum.KnownExploited != 1 || sum.ByRating["high"] != 2 || sum.ByStatus[StatusUntriaged] != 2 {
			t.Errorf("summary: %+v", sum)
		}
		// The advisory is withdrawn: its finding is resolved, and listed only on request.
		w := goAdvisory(t, "GO-2099-0002", "2024-04-01T00:00:00Z", "example.com/safe", "2.1.0", "CVE-2099-1002")
		wt := time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC)
		w.Withdrawn = &wt
		c = importOSV(t, s, w)
		r = must[RefreshResult](t)(s.RefreshAfterVulnImport(ctx, ActorSystem, []FeedCounts{c}))
		if r.Resolved != 1 || r.Open != 1 {
			t.Errorf("withdrawn: %+v", r)
		}
		if fs := must[[]Finding](t)(s.ListFindings(ctx, v.ID, FindingFilter{Resolved: true})); len(fs) != 2 || fs[1].ResolvedAt == nil {
			t.Errorf("with resolved: %+v", fs)
		}
		// Removing the firmware SBOM keeps the finding (the app has the module); removing the app
		// too resolves it.
		sb := must[[]SBOM](t)(s.ListSBOMs(ctx, v.ID))
		r = must[RefreshResult](t)(s.DeleteSBOM(ctx, "ed@example.com", sb[0].ID))
		if r.Open != 1 || r.Resolved != 0 {
			t.Errorf("delete firmware: %+v", r)
		}
		r = must[RefreshResult](t)(s.DeleteSBOM(ctx, "ed@example.com", sb[1].ID))
		if r.Open != 0 || r.Resolved != 1 {
			t.Errorf("delete app: %+v", r)
		}
		// Importing it again reopens the finding and reports it as new.
		got = must[SBOMImport](t)(s.ImportSBOM(ctx, "ed@example.com", fw))
		if len(got.Findings.New) != 1 || got.Findings.New[0].ResolvedAt != nil {
			t.Errorf("reopen: %+v", got.Findings)
		}
		_, err = s.ImportSBOM(ctx, "ed@example.com", sbomInput(999999, "x"))
		wantErr(t, err, ErrNotFound, "unknown version")
		bad := sbomInput(v.ID, "x\x00y")
		_, err = s.ImportSBOM(ctx, "ed@example.com", bad)
		wantErr(t, err, ErrInvalid, "control character in label")

		for _, action := range []string{"sbom.import", "sbom.delete", "findings.refresh"} {
			var n int64 = rawInt(t, s, "SELECT count(*) FROM audit_log WHERE action = ?", action)
			if n == 0 {
				t.Errorf("no %s audit entry", action)
			}
		}
		verifyOK(t, s)
	})
}

// TestImpact: "who is hit by this vulnerability?" by any of its IDs, with the VEX decision.
func TestImpact(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store, _ Config) {
		importOSV(t, s, goAdvisory(t, "GO-2099-0001", "2024-01-01T00:00:00Z", "example.com/net", "1.5.0", "CVE-2099-1001", "GHSA-xxxx-yyyy-zzzz"))
		a := addVersion(t, s, "InsuPump", "1.0")
		b := addVersion(t, s, "InsuPump", "2.0")
		c := addVersion(t, s, "Glucose Meter", "3.1")
		must[SBOMImport](t)(s.ImportSBOM(ctx, "ed@example.com", sbomInput(a.ID, "firmware", goComponent("example.com/net", "v1.2.0"))))
		must[SBOMImport](t)(s.ImportSBOM(ctx, "ed@example.com", sbomInput(b.ID, "firmware", goComponent("example.com/net", "v1.6.0")))) // fixed
		must[SBOMImport](t)(s.ImportSBOM(ctx, "ed@example.com", sbomInput(c.ID, "app", goComponent("example.com/net", "v1.4.9"))))
		must[VEXStatement](t)(s.SetVEX(ctx, "ann@example.com", VEXStatement{DeviceVersionID: c.ID, AdvisoryID: "GO-2099-0001",
			ComponentKey: "pkg:golang/example.com/net@v1.4.9", Status: "not_affected", Justification: "vulnerable_code_not_in_execute_path"}))
		for _, q := range []string{"GO-2099-0001", "CVE-2099-1001", "GHSA-xxxx-yyyy-zzzz"} {
			imp := must[*Impact](t)(s.Impact(ctx, q))
			if imp.DeviceVersions != 2 || imp.Products != 2 || len(imp.Affected) != 2 || !slices.Equal(imp.Advisories, []string{"GO-2099-0001"}) {
				t.Fatalf("%s: %+v", q, imp)
			}
			e0, e1 := imp.Affected[0], imp.Affected[1]
			if e0.ProductName != "Glucose Meter" || e0.VEX == nil || e0.VEX.Status != "not_affected" || !slices.Equal(e0.Sources, []string{"app"}) {
				t.Errorf("%s: first entry %+v", q, e0)
			}
			if e1.DeviceVersionID != a.ID || e1.Version != "1.0" || e1.VEX != nil || !slices.Equal(e1.FixedIn, []string{"v1.5.0"}) || e1.FirstSeenAt == nil {
				t.Errorf("%s: second entry %+v", q, e1)
			}
			if imp.Triage["not_affected"] != 1 || imp.Triage[StatusUntriaged] != 1 || imp.Severity.Rating != "high" || imp.Summary == "" {
				t.Errorf("%s: %+v", q, imp)
			}
		}
		_, err := s.Impact(ctx, "CVE-1999-0001")
		wantErr(t, err, ErrNotFound, "unknown advisory")
		// An advisory that names no stored package: nobody is hit.
		importOSV(t, s, goAdvisory(t, "GO-2099-0009", "2024-01-01T00:00:00Z", "example.com/other", "1.0.0"))
		if imp := must[*Impact](t)(s.Impact(ctx, "GO-2099-0009")); len(imp.Affected) != 0 || imp.DeviceVersions != 0 {
			t.Errorf("unrelated advisory: %+v", imp)
		}
	})
}

// TestTelegraf: the telegraf v1.20.0 SBOM (325 Go modules) against the real Go vulnerability
// database gives the 140 findings `vigil scan` (and osv-scanner) report, and GO-2022-0969 (HTTP/2
// server hang) hits it.
func TestTelegraf(t *testing.T) {
	path := sharedFile(t, "sboms/generated/telegraf-v1.20.0-gomod-syft.cdx.json")
	zip := sharedFile(t, "osv/golang-vulndb-osv.zip")
	data, err := os.ReadFile(path)
	noErr(t, err)
	doc, err := sbom.Parse(path, data)
	noErr(t, err)
	eachDB(t, func(t *testing.T, s *Store, _ Config) {
		loadOSVFile(t, s, zip)
		v := addVersion(t, s, "Telemetry Gateway", "1.20.0")
		got := must[SBOMImport](t)(s.ImportSBOM(ctx, "ed@example.com", SBOMInput{DeviceVersionID: v.ID, Label: "firmware", Filename: "telegraf.cdx.json", Data: data, Doc: doc}))
		if got.Findings.Open != 140 || len(got.Findings.New) != 140 {
			t.Fatalf("telegraf: %d open, %d new; vigil scan finds 140", got.Findings.Open, len(got.Findings.New))
		}
		imp := must[*Impact](t)(s.Impact(ctx, "GO-2022-0969"))
		if imp.DeviceVersions != 1 || len(imp.Affected) == 0 || imp.Affected[0].DeviceVersionID != v.ID {
			t.Fatalf("GO-2022-0969: %+v", imp)
		}
		t.Logf("impact of GO-2022-0969: %d entries in %s", len(imp.Affected), imp.Elapsed)
	})
}

func loadOSVFile(t testing.TB, s *Store, path string) {
	t.Helper()
	src, err := vuln.Detect(path)
	noErr(t, err)
	_, err = s.ImportVulnFeeds(ctx, ActorSystem, func(imp *VulnImport) error {
		if err := imp.Begin(path, "osv"); err != nil {
			return err
		}
		return vuln.ReadOSV(ctx, src, vuln.ReadOptions{Prepare: imp.PrepareAdvisory}, imp.Advisory)
	})
	noErr(t, err)
}

// TestFindingSeveritySource: a Go record without CVSS takes the score of its stored GHSA alias
// (which matches no component), and the stored finding says so; when the GO record gets its own
// score, the source goes away on the next refresh.
func TestFindingSeveritySource(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store, _ Config) {
		parse := func(doc string) *vuln.Advisory {
			a, err := vuln.ParseOSV([]byte(doc), "test.json")
			noErr(t, err)
			return a
		}
		goRec := func(modified, severity string) *vuln.Advisory {
			return parse(`{"id":"GO-2099-0042","modified":"` + modified + `","aliases":["GHSA-aaaa-bbbb-cccc","CVE-2099-4242"],` + severity +
				`"affected":[{"package":{"ecosystem":"Go","name":"example.com/net"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.5.0"}]}]}]}`)
		}
		importOSV(t, s, goRec("2024-01-01T00:00:00Z", ""), parse(`{"id":"GHSA-aaaa-bbbb-cccc","modified":"2024-01-01T00:00:00Z","aliases":["CVE-2099-4242"],
			"severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
			"affected":[{"package":{"ecosystem":"npm","name":"unrelated"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.0"}]}]}]}`))
		v := addVersion(t, s, "InsuPump", "1.0")
		must[SBOMImport](t)(s.ImportSBOM(ctx, "ed@example.com", sbomInput(v.ID, "firmware", goComponent("example.com/net", "v1.2.0"))))
		list := must[[]Finding](t)(s.ListFindings(ctx, v.ID, FindingFilter{}))
		if len(list) != 1 || list[0].Severity.Score == nil || *list[0].Severity.Score != 9.8 || list[0].Severity.Rating != "critical" ||
			list[0].SeveritySource != "GHSA-aaaa-bbbb-cccc" {
			t.Fatalf("findings: %+v", list)
		}
		// The GO record gets a score of its own: it wins, and the source is cleared.
		importOSV(t, s, goRec("2024-02-01T00:00:00Z", `"severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}],`))
		_, err := s.RefreshFindings(ctx, ActorSystem, []int64{v.ID})
		noErr(t, err)
		list = must[[]Finding](t)(s.ListFindings(ctx, v.ID, FindingFilter{}))
		if len(list) != 1 || list[0].Severity.Score == nil || *list[0].Severity.Score != 7.5 || list[0].SeveritySource != "" {
			t.Fatalf("findings after the GO record got a score: %+v", list)
		}
	})
}
