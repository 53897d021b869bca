package cli

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-med/vigil/sbom"
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
}
