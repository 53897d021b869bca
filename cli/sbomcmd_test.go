package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	pumpSBOM    = "../sbom/testdata/infusion-pump.cdx.json"
	pumpSupport = "../sbom/testdata/infusion-pump.support.yaml"
	medicalSBOM = "../../shared/data/sboms/medical/sbom-completeness-case-study-narrow.sbom.json"
)

func TestSBOMCheckTable(t *testing.T) {
	r := vigil(t, "sbom", "check", pumpSBOM)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{
		"SBOM:       ../sbom/testdata/infusion-pump.cdx.json (CycloneDX 1.5, json)",
		"Subject:    InfuPump firmware 3.2.0",
		"Score:      ",
		"Dependency relationships         required       NTIA minimum elements             4/5 (80%) linked",
		"Known vulnerabilities            required       FDA premarket guidance V.A.4      not assessed here; run vigil scan",
		"WHAT TO FIX",
		"[required] supplier: 3 component(s), e.g. FreeRTOS-Plus-TCP 3.1.0; zlib 1.2.11; vendored-parser unknown",
		"Fix: Set components[].supplier.name",
		"COMPONENTS WITH FINDINGS (6 of 6 components)",
		"vendored-parser    unknown  version, supplier, identifier, hash?, support, end-of-support",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	if r.stderr != "" {
		t.Errorf("stderr: %s", r.stderr)
	}
}

func TestSBOMCheckJSON(t *testing.T) {
	r := vigil(t, "sbom", "check", pumpSBOM, "--support", pumpSupport, "--format", "json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	var rep struct {
		Schema   string         `json:"schema"`
		Score    int            `json:"score"`
		Counts   map[string]int `json:"counts"`
		Elements []struct {
			Element        string
			Present, Total int
		} `json:"elements"`
		Component []struct {
			Ref      string                                             `json:"ref"`
			Findings []struct{ Element, Severity, Message, Fix string } `json:"findings"`
		} `json:"component_findings"`
		Vulnerabilities string   `json:"vulnerabilities"`
		Warnings        []string `json:"warnings"`
	}
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, r.stdout)
	}
	if dec.More() {
		t.Error("stdout holds more than one JSON document")
	}
	if rep.Schema != "vigil/sbom-check/v1" || rep.Vulnerabilities != "not assessed here; run vigil scan" {
		t.Errorf("schema %q vulnerabilities %q", rep.Schema, rep.Vulnerabilities)
	}
	for _, e := range rep.Elements {
		if e.Element == "support" && (e.Present != 5 || e.Total != 5) {
			t.Errorf("support coverage with the sidecar = %d/%d, want 5/5", e.Present, e.Total)
		}
	}
	if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "infusion-pump.support.yaml: sidecar entry (line 21: libpng 1.6.37) matches no component") {
		t.Errorf("warnings = %q", rep.Warnings)
	}
	if len(rep.Component) == 0 || rep.Component[0].Findings[0].Fix == "" {
		t.Errorf("component findings without fix text: %+v", rep.Component)
	}
}

func TestSBOMCheckFailUnder(t *testing.T) {
	r := vigil(t, "sbom", "check", pumpSBOM, "--fail-under", "95")
	if r.code != 1 || !strings.Contains(r.stderr, "vigil: SBOM score") || !strings.Contains(r.stderr, "is below --fail-under 95") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "Score:") {
		t.Errorf("the report is still printed: %q", r.stdout)
	}
	if r := vigil(t, "sbom", "check", pumpSBOM, "--fail-under", "10"); r.code != 0 {
		t.Errorf("above threshold: exit %d %s", r.code, r.stderr)
	}
	if r := vigil(t, "sbom", "check", pumpSBOM, "--fail-under", "0"); r.code != 0 {
		t.Errorf("--fail-under 0: exit %d %s", r.code, r.stderr)
	}
}

// Bad input: exit 2, "file:line: field: expectation" on stderr, nothing on stdout.
func TestSBOMCheckBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.cdx.json")
	if err := os.WriteFile(bad, []byte("{\n  \"bomFormat\": \"CycloneDX\",\n  \"specVersion\": \"1.6\",\n  \"version\": 1,\n  \"components\": [ { \"type\": \"gadget\", \"name\": \"x\" } ]\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	badSide := filepath.Join(dir, "support.yaml")
	if err := os.WriteFile(badSide, []byte("schema: vigil/sbom-support/v1\ncomponents:\n  - name: zlib\n    support: sometimes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"schema violation", []string{"sbom", "check", bad}, bad + ":5: components[0].type: not valid against the CycloneDX 1.6 schema: value must be one of"},
		{"missing file", []string{"sbom", "check", filepath.Join(dir, "nope.json")}, "nope.json: cannot read the file"},
		{"bad sidecar", []string{"sbom", "check", pumpSBOM, "--support", badSide}, badSide + `:4: components[0].support: is "sometimes"; expected one of actively-maintained`},
		{"bad format", []string{"sbom", "check", pumpSBOM, "--format", "xml"}, `--format "xml": expected one of table, json`},
		{"bad threshold", []string{"sbom", "check", pumpSBOM, "--fail-under", "101"}, "--fail-under 101: expected a score from 0 to 100"},
		{"no file", []string{"sbom", "check"}, "accepts 1 arg"},
		{"json format still exit 2", []string{"sbom", "check", bad, "--format", "json"}, "components[0].type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := vigil(t, tc.args...)
			if r.code != 2 {
				t.Errorf("exit %d, want 2", r.code)
			}
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr = %q\nwant %q", r.stderr, tc.want)
			}
			if r.stdout != "" {
				t.Errorf("stdout = %q, want nothing", r.stdout)
			}
		})
	}
}

func TestSBOMCheckAllAndLimit(t *testing.T) {
	if _, err := os.Stat(medicalSBOM); err != nil {
		t.Skip("shared test data not available")
	}
	r := vigil(t, "sbom", "check", medicalSBOM)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "Score:      73/100") || !strings.Contains(r.stdout, "(56 of 56 components; first 20 shown, --all for every one") {
		t.Errorf("output:\n%s", r.stdout)
	}
	short := strings.Count(r.stdout, "\n")
	all := vigil(t, "sbom", "check", medicalSBOM, "--all")
	if n := strings.Count(all.stdout, "\n"); n != short+36 {
		t.Errorf("--all printed %d lines, default %d; want 36 more", n, short)
	}
	if short > 80 {
		t.Errorf("default output is %d lines long", short)
	}
}

func TestSBOMSupportTemplate(t *testing.T) {
	r := vigil(t, "sbom", "support-template", pumpSBOM)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	path := filepath.Join(t.TempDir(), "support.yaml")
	if err := os.WriteFile(path, []byte(r.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	c := vigil(t, "sbom", "check", pumpSBOM, "--support", path, "--format", "json")
	if c.code != 0 {
		t.Fatalf("template does not work as a sidecar: exit %d %s\n%s", c.code, c.stderr, r.stdout)
	}
	if !strings.Contains(r.stdout, "# Support data for ../sbom/testdata/infusion-pump.cdx.json (InfuPump firmware 3.2.0)") ||
		!strings.Contains(r.stdout, "schema: vigil/sbom-support/v1") {
		t.Errorf("template:\n%s", r.stdout)
	}
}
