package cli

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/vigil-med/vigil/internal/pgtest"
	"github.com/vigil-med/vigil/internal/schemacheck"
	"github.com/vigil-med/vigil/sbom"
)

const (
	testOSVDir = "testdata/vuln/osv"
	testSBOM   = "testdata/vuln/device.cdx.json"
	testEPSS   = "../vuln/testdata/epss_synthetic.csv"
)

func sharedData(t *testing.T, rel string) string {
	t.Helper()
	p := filepath.Join("..", "..", "shared", "data", rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s not present (shared test data is not part of a clone)", p)
	}
	return p
}

// kevFile is the real KEV catalog when present, else a one-entry catalog made up for the test.
func kevFile(t *testing.T) string {
	p := filepath.Join("..", "..", "shared", "data", "kev", "known_exploited_vulnerabilities.json")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	p = filepath.Join(t.TempDir(), "kev.json")
	os.WriteFile(p, []byte(`{"catalogVersion":"test","count":1,"vulnerabilities":[{"cveID":"CVE-2021-44228","dateAdded":"2021-12-10","dueDate":"2021-12-24","knownRansomwareCampaignUse":"Known"}]}`), 0o644)
	return p
}

type scanOut struct {
	Schema string `json:"schema"`
	SBOM   struct {
		Format      string `json:"format"`
		SpecVersion string `json:"spec_version"`
		Components  int    `json:"components"`
	} `json:"sbom"`
	Findings []struct {
		Component struct{ Name, Version, PURL string }
		Advisory  string   `json:"advisory"`
		Aliases   []string `json:"aliases"`
		Severity  struct {
			Vector string   `json:"cvss_vector"`
			Score  *float64 `json:"score"`
			Rating string   `json:"rating"`
		} `json:"severity"`
		FixedIn        []string `json:"fixed_in"`
		KnownExploited bool     `json:"known_exploited"`
		EPSS           *struct{ Score float64 }
	} `json:"findings"`
}

func scanJSON(t *testing.T, args ...string) scanOut {
	t.Helper()
	r := vigil(t, append([]string{"scan", "--format", "json"}, args...)...)
	if r.code != 0 {
		t.Fatalf("scan exit %d: %s", r.code, r.stderr)
	}
	if err := schemacheck.Validate("testdata/scan.schema.json", []byte(r.stdout)); err != nil {
		t.Fatalf("scan output breaks the contract schema: %v\n%.2000s", err, r.stdout)
	}
	var out scanOut
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestVulndbImportAndScan(t *testing.T) {
	db := filepath.Join(t.TempDir(), "sub", "vulns.db")
	r := vigil(t, "vulndb", "import", testOSVDir, kevFile(t), testEPSS, "--db", db)
	if r.code != 0 || r.stdout != "" {
		t.Fatalf("import exit %d, stdout %q: %s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"testdata/vuln/osv (osv, dir): 3 records: 3 added, 0 updated, 0 unchanged, 1 withdrawn", "(epss, csv): 4 records: 4 added", "records/s"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("import report lacks %q:\n%s", want, r.stderr)
		}
	}
	// Again: nothing changes.
	r = vigil(t, "vulndb", "import", testOSVDir, "--db", db, "--format", "json")
	var counts struct {
		Feeds []struct{ Records, Added, Updated, Unchanged int }
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &counts) != nil || len(counts.Feeds) != 1 || counts.Feeds[0].Unchanged != 3 {
		t.Fatalf("re-import exit %d: %s %s", r.code, r.stdout, r.stderr)
	}

	out := scanJSON(t, testSBOM, "--db", db)
	if out.Schema != "vigil/scan/v1" || out.SBOM.Format != "CycloneDX" || out.SBOM.SpecVersion != "1.5" || out.SBOM.Components != 3 {
		t.Errorf("sbom: %+v", out.SBOM)
	}
	if len(out.Findings) != 2 {
		t.Fatalf("%d findings: %+v", len(out.Findings), out.Findings)
	}
	net, log4j := out.Findings[0], out.Findings[1]
	if net.Advisory != "VIGIL-TEST-0002" || net.Severity.Score == nil || *net.Severity.Score != 8.7 || net.KnownExploited ||
		strings.Join(net.FixedIn, ",") != "v0.7.0" || strings.Join(net.Aliases, ",") != "CVE-2099-0001" {
		t.Errorf("x/net finding (withdrawn VIGIL-TEST-0003 must not appear): %+v", net)
	}
	if log4j.Advisory != "VIGIL-TEST-0001" || !log4j.KnownExploited || log4j.Severity.Rating != "critical" || log4j.EPSS == nil || log4j.EPSS.Score != 0.94358 {
		t.Errorf("log4j finding: %+v", log4j)
	}

	// --fail-on: exit 1 with the report still on stdout.
	for level, code := range map[string]int{"kev": 1, "critical": 1, "high": 1, "any": 1} {
		r := vigil(t, "scan", testSBOM, "--db", db, "--fail-on", level)
		if r.code != code || !strings.Contains(r.stdout, "VIGIL-TEST-0001") {
			t.Errorf("--fail-on %s: exit %d, want %d\n%s%s", level, r.code, code, r.stdout, r.stderr)
		}
	}
	r = vigil(t, "scan", testSBOM, "--db", db)
	if r.code != 0 || !strings.Contains(r.stdout, "2 findings (1 critical, 1 high); 1 known exploited.") || !strings.Contains(r.stdout, "94.36%") {
		t.Errorf("table output:\n%s", r.stdout)
	}

	// SARIF: one rule per advisory, one result per finding.
	r = vigil(t, "scan", testSBOM, "--db", db, "--format", "sarif")
	var sarif struct {
		Version string
		Runs    []struct {
			Tool struct {
				Driver struct {
					Rules []struct{ ID string }
				}
			}
			Results []struct {
				RuleID string
				Level  string
			}
		}
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &sarif) != nil || sarif.Version != "2.1.0" || len(sarif.Runs[0].Tool.Driver.Rules) != 2 ||
		len(sarif.Runs[0].Results) != 2 || sarif.Runs[0].Results[1].Level != "error" {
		t.Errorf("sarif (exit %d): %.1500s", r.code, r.stdout)
	}

	// CycloneDX VEX: a valid CycloneDX 1.6 BOM (the sbom package validates against the schema).
	r = vigil(t, "scan", testSBOM, "--db", db, "--format", "cyclonedx")
	if r.code != 0 {
		t.Fatalf("cyclonedx exit %d: %s", r.code, r.stderr)
	}
	if _, err := sbom.Parse("vex.cdx.json", []byte(r.stdout)); err != nil {
		t.Errorf("CycloneDX output does not validate: %v\n%.2000s", err, r.stdout)
	}
	var vex struct {
		Vulnerabilities []struct {
			ID      string
			Affects []struct{ Ref string }
			Ratings []struct {
				Method   string
				Severity string
			}
		}
	}
	if json.Unmarshal([]byte(r.stdout), &vex) != nil || len(vex.Vulnerabilities) != 2 || vex.Vulnerabilities[1].Ratings[0].Method != "CVSSv31" ||
		vex.Vulnerabilities[1].Affects[0].Ref != "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1" {
		t.Errorf("vex: %+v", vex)
	}

	// Stats.
	r = vigil(t, "vulndb", "stats", "--db", db, "--format", "json")
	var st struct {
		Advisories, Withdrawn, KEV, EPSS int
		Feeds                            []struct{ Kind string }
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &st) != nil || st.Advisories != 3 || st.Withdrawn != 1 || st.KEV == 0 || st.EPSS != 4 || len(st.Feeds) != 3 {
		t.Errorf("stats: %s %s", r.stdout, r.stderr)
	}
	if r := vigil(t, "vulndb", "stats", "--db", db); r.code != 0 || !strings.Contains(r.stdout, "advisories") || !strings.Contains(r.stdout, "Maven") {
		t.Errorf("stats table: %s", r.stdout)
	}
}

func TestVulndbBadInputExit2(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "vulns.db")
	// A zip whose second record is bad: nothing of the import may be stored.
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range map[string]string{
		"GO-1.json": `{"id":"GO-1","modified":"2024-01-01T00:00:00Z"}`,
		"GO-2.json": `{"id":"GO-2","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"Go","name":"m"},"ranges":[{"type":"SEMVER","events":[{"fixed":"1.0.0"}]}]}]}`,
	} {
		w, _ := zw.Create(name)
		w.Write([]byte(body))
	}
	zw.Close()
	bad := filepath.Join(dir, "all.zip")
	os.WriteFile(bad, buf.Bytes(), 0o644)

	r := vigil(t, "vulndb", "import", testOSVDir, bad, "--db", db)
	if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "all.zip!GO-2.json: record GO-2: affected[0].ranges[0].events: no introduced event") {
		t.Fatalf("bad zip: exit %d, stdout %q, stderr %s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(db); err == nil {
		t.Error("a failed first import left its new --db file behind")
	}
	// Into an existing database: rolled back, the database is as it was.
	if r := vigil(t, "vulndb", "import", kevFile(t), "--db", db); r.code != 0 {
		t.Fatalf("kev import: %s", r.stderr)
	}
	if r := vigil(t, "vulndb", "import", testOSVDir, bad, "--db", db); r.code != 2 {
		t.Fatalf("bad zip into existing db: exit %d", r.code)
	}
	r = vigil(t, "vulndb", "stats", "--db", db, "--format", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"advisories": 0`) {
		t.Errorf("a failed import stored something: %s %s", r.stdout, r.stderr)
	}
	// --skip-invalid imports the rest and says what it skipped.
	r = vigil(t, "vulndb", "import", bad, "--db", db, "--skip-invalid")
	if r.code != 0 || !strings.Contains(r.stderr, "skipped: ") || !strings.Contains(r.stderr, "1 added") || !strings.Contains(r.stderr, "1 skipped") {
		t.Errorf("--skip-invalid: exit %d: %s", r.code, r.stderr)
	}

	notes := filepath.Join(dir, "notes.txt")
	os.WriteFile(notes, []byte("hello"), 0o644)
	for name, args := range map[string][]string{
		"unknown feed":     {"vulndb", "import", notes, "--db", db},
		"missing path":     {"vulndb", "import", filepath.Join(dir, "nope.zip"), "--db", db},
		"scan without db":  {"scan", testSBOM, "--db", filepath.Join(dir, "absent.db")},
		"scan bad sbom":    {"scan", notes, "--db", db},
		"scan bad fail-on": {"scan", testSBOM, "--db", db, "--fail-on", "severe"},
		"scan bad format":  {"scan", testSBOM, "--db", db, "--format", "xml"},
		"stats without db": {"vulndb", "stats", "--db", filepath.Join(dir, "absent.db")},
		"sync bad url":     {"vulndb", "sync", "--db", db, "--kev-url", "ftp://x", "--ecosystem", "Go", "--no-epss"},
	} {
		r := vigil(t, args...)
		if r.code != 2 || r.stdout != "" || r.stderr == "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", name, r.code, r.stdout, r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "absent.db")); err == nil {
		t.Error("scan created the missing --db file")
	}
}

// TestVulndbSync fetches feeds from a local test server only (never the internet).
func TestVulndbSync(t *testing.T) {
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	w, _ := zw.Create("VIGIL-TEST-0001.json")
	rec, _ := os.ReadFile(filepath.Join(testOSVDir, "VIGIL-TEST-0001.json"))
	w.Write(rec)
	zw.Close()
	epss, _ := os.ReadFile(testEPSS)
	var gbuf bytes.Buffer
	gw := gzip.NewWriter(&gbuf)
	gw.Write(epss)
	gw.Close()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if !strings.HasPrefix(r.Header.Get("User-Agent"), "vigil/") {
			http.Error(w, "no user agent", http.StatusBadRequest)
			return
		}
		switch r.URL.Path {
		case "/osv/Maven/all.zip":
			w.Write(zbuf.Bytes())
		case "/kev.json":
			w.Write([]byte(`{"catalogVersion":"test","count":1,"vulnerabilities":[{"cveID":"CVE-2021-44228","dateAdded":"2021-12-10","dueDate":"2021-12-24","knownRansomwareCampaignUse":"Known"}]}`))
		case "/epss.csv.gz":
			w.Write(gbuf.Bytes())
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	db := filepath.Join(t.TempDir(), "vulns.db")
	args := []string{"vulndb", "sync", "--db", db, "--osv-url", srv.URL + "/osv/{ecosystem}/all.zip", "--kev-url", srv.URL + "/kev.json", "--epss-url", srv.URL + "/epss.csv.gz"}
	r := vigil(t, append(args, "--ecosystem", "Maven")...)
	if r.code != 0 || !strings.Contains(r.stderr, "/osv/Maven/all.zip (osv, zip): 1 records: 1 added") || !strings.Contains(r.stderr, "(kev, json): 1 records: 1 added") {
		t.Fatalf("sync exit %d: %s", r.code, r.stderr)
	}
	out := scanJSON(t, testSBOM, "--db", db)
	if len(out.Findings) != 1 || !out.Findings[0].KnownExploited || out.Findings[0].EPSS == nil {
		t.Errorf("scan after sync: %+v", out.Findings)
	}
	// A feed that is missing on the server fails the whole sync: nothing more is written.
	r = vigil(t, append(args, "--ecosystem", "Maven", "--ecosystem", "Go", "--kev-url", srv.URL+"/other-kev.json")...)
	if r.code != 3 || !strings.Contains(r.stderr, "404") {
		t.Errorf("404: exit %d: %s", r.code, r.stderr)
	}
	if n := hits.Load(); n < 5 {
		t.Errorf("%d requests reached the test server", n)
	}
}

// TestScanTelegrafCLI runs the whole CLI on the telegraf v1.20.0 SBOM and the real Go database,
// the same comparison as vuln.TestScanTelegraf (osv-scanner: 140 advisories on 29 modules).
func TestScanTelegrafCLI(t *testing.T) {
	goZip := sharedData(t, "osv/golang-vulndb-osv.zip")
	sb := sharedData(t, "sboms/generated/telegraf-v1.20.0-gomod-syft.cdx.json")
	data := t.TempDir()
	// Without --db: the application database in --data.
	if r := vigil(t, "vulndb", "import", goZip, kevFile(t), "--data", data); r.code != 0 {
		t.Fatalf("import exit %d: %s", r.code, r.stderr)
	}
	out := scanJSON(t, sb, "--data", data)
	mods := map[string]bool{}
	for _, f := range out.Findings {
		mods[f.Component.Name] = true
	}
	if len(out.Findings) != 140 || len(mods) != 29 || out.SBOM.SpecVersion != "1.6" {
		t.Errorf("%d findings on %d modules (spec %s); want 140 on 29", len(out.Findings), len(mods), out.SBOM.SpecVersion)
	}
	if r := vigil(t, "scan", sb, "--data", data, "--fail-on", "any"); r.code != 1 {
		t.Errorf("--fail-on any: exit %d", r.code)
	}
	// The Go database gives no CVSS vectors, so no finding is rated.
	if r := vigil(t, "scan", sb, "--data", data, "--fail-on", "low"); r.code != 0 {
		t.Errorf("--fail-on low: exit %d", r.code)
	}
}

func TestVulndbPostgres(t *testing.T) {
	dsn := pgtest.Fresh(t)
	if r := vigil(t, "vulndb", "import", testOSVDir, kevFile(t), testEPSS, "--database-url", dsn); r.code != 0 {
		t.Fatalf("import exit %d: %s", r.code, r.stderr)
	}
	out := scanJSON(t, testSBOM, "--database-url", dsn)
	if len(out.Findings) != 2 || !out.Findings[1].KnownExploited {
		t.Errorf("findings %+v", out.Findings)
	}
}
