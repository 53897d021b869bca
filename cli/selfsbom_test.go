package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-med/vigil/sbom"
	"github.com/vigil-med/vigil/vex"
)

// TestSBOMSelf: Vigil's own SBOM is a schema-valid CycloneDX 1.6 document listing the modules
// linked into the binary, the Go standard library, and the dependency of vigil on each.
func TestSBOMSelf(t *testing.T) {
	// Test binaries carry no module list, so build the real command and run it.
	if testing.Short() {
		t.Skip("builds the vigil binary")
	}
	bin := filepath.Join(t.TempDir(), "vigil")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/vigil-med/vigil/cmd/vigil").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "sbom", "self").Output()
	if err != nil {
		t.Fatalf("vigil sbom self: %v", err)
	}
	doc, err := sbom.Parse("self.cdx.json", out)
	if err != nil {
		t.Fatalf("own SBOM is not valid CycloneDX: %v", err)
	}
	names := map[string]bool{}
	for _, c := range doc.Components {
		names[c.Name] = true
		if !strings.HasPrefix(c.PURL, "pkg:golang/") || c.Version == "" || c.Supplier == "" {
			t.Errorf("component lacks purl, version or supplier: %+v", c)
		}
	}
	for _, want := range []string{"stdlib", "github.com/CycloneDX/cyclonedx-go", "modernc.org/sqlite", "github.com/jackc/pgx/v5", "golang.org/x/crypto"} {
		if !names[want] {
			t.Errorf("own SBOM lacks %s", want)
		}
	}
	if doc.SpecVersion != "1.6" || len(doc.Dependencies) != 1 || len(doc.Dependencies[0].DependsOn) != len(doc.Components)-1 && len(doc.Dependencies[0].DependsOn) != len(doc.Components) {
		t.Errorf("spec %s, dependencies %+v for %d components", doc.SpecVersion, len(doc.Dependencies), len(doc.Components))
	}
	rep := sbom.Check(doc, sbom.CheckOptions{})
	for _, c := range rep.Elements {
		if c.Severity == "required" && c.Level == "component" && c.Element != "support" && c.Element != "end-of-support" && c.Present != c.Total {
			t.Errorf("own SBOM misses NTIA element %s: %d/%d", c.Title, c.Present, c.Total)
		}
	}

	// Vigil's own VEX names the x/crypto version this binary links, in every format, and
	// hides exactly the findings it assesses when the SBOM is scanned against the Go database.
	var crypto string
	for _, c := range doc.Components {
		if c.Name == "golang.org/x/crypto" {
			crypto = c.PURL
		}
	}
	dir := t.TempDir()
	files := map[string]string{}
	for _, format := range vex.FormatNames {
		out, err := exec.Command(bin, "sbom", "self", "--vex", format).Output()
		if err != nil {
			t.Fatalf("vigil sbom self --vex %s: %v", format, err)
		}
		vd, err := vex.Parse("self."+format+".json", out)
		if err != nil {
			t.Fatalf("own %s VEX does not read back: %v", format, err)
		}
		if len(vd.Statements) != 1 || vd.Statements[0].Vulnerability != "GO-2026-5932" || vd.Statements[0].Status != vex.NotAffected ||
			vex.ComponentKey(vd.Statements[0].Component.PURL, "", "") != vex.ComponentKey(crypto, "", "") {
			t.Errorf("own %s VEX: %+v (SBOM has %s)", format, vd.Statements, crypto)
		}
		files[format] = filepath.Join(dir, "self."+format+".json")
		if err := os.WriteFile(files[format], out, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command(bin, "sbom", "self", "--vex", "spdx").CombinedOutput(); err == nil || !strings.Contains(string(out), "expected one of openvex") {
		t.Errorf("--vex spdx: %v %s", err, out)
	}
	goZip := sharedData(t, "osv/golang-vulndb-osv.zip")
	sbomFile, db := filepath.Join(dir, "vigil.cdx.json"), filepath.Join(dir, "vulns.db")
	if err := os.WriteFile(sbomFile, out, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "vulndb", "import", goZip, "--db", db).CombinedOutput(); err != nil {
		t.Fatalf("vulndb import: %v\n%s", err, out)
	}
	scan := func(extra ...string) []string {
		out, err := exec.Command(bin, append([]string{"scan", sbomFile, "--db", db, "--format", "json"}, extra...)...).Output()
		if err != nil {
			t.Fatalf("scan %v: %v", extra, err)
		}
		var res struct {
			Findings []struct{ Advisory string } `json:"findings"`
		}
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, f := range res.Findings {
			ids = append(ids, f.Advisory)
		}
		return ids
	}
	if got := scan(); !slices.Contains(got, "GO-2026-5932") {
		t.Fatalf("scan of the own SBOM without VEX: %v; the test expects GO-2026-5932 (golang.org/x/crypto/openpgp)", got)
	}
	for format, f := range files {
		if got := scan("--vex", f); slices.Contains(got, "GO-2026-5932") {
			t.Errorf("own %s VEX does not hide GO-2026-5932: %v", format, got)
		}
	}
}

// TestSelfVEXClaims: every vulnerable_code_not_present statement of Vigil's own VEX stays
// true: none of the packages the advisory concerns is compiled into vigil, and the module it
// names is still a dependency (a stale assessment fails here, so that it is removed).
func TestSelfVEXClaims(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{with .Module}}{{.Path}}{{end}}", "github.com/vigil-med/vigil/cmd/vigil").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	pkgs, mods := map[string]bool{}, map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, mod, _ := strings.Cut(line, " ")
		pkgs[pkg] = true
		if mod != "" {
			mods[mod] = true
		}
	}
	if !pkgs["golang.org/x/crypto/argon2"] {
		t.Fatalf("go list output does not look like vigil's dependencies (%d packages)", len(pkgs))
	}
	for _, a := range selfAssessments {
		if !mods[a.Module] {
			t.Errorf("%s: vigil no longer depends on %s; remove the assessment", a.Advisory, a.Module)
		}
		if a.Justification == vex.VulnerableCodeNotPresent {
			if len(a.Packages) == 0 {
				t.Errorf("%s: vulnerable_code_not_present without the packages it concerns", a.Advisory)
			}
			for _, p := range a.Packages {
				if pkgs[p] {
					t.Errorf("%s: vigil now links %s; the not_affected statement is false", a.Advisory, p)
				}
			}
		}
	}
}
