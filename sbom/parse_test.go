package sbom

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-med/vigil/internal/yamlfile"
)

// sharedSBOMs is the project's shared SBOM corpus, relative to this package.
const sharedSBOMs = "../../shared/data/sboms"

func needShared(t testing.TB, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Skipf("shared test data not available: %v", err)
	}
}

// firstError returns the first located error of a Parse error.
func firstError(t *testing.T, err error) *yamlfile.Error {
	t.Helper()
	var one *yamlfile.Error
	var many yamlfile.Errors
	switch {
	case errors.As(err, &many) && len(many) > 0:
		return many[0]
	case errors.As(err, &one):
		return one
	}
	t.Fatalf("error %T %v is not a located *yamlfile.Error", err, err)
	return nil
}

// Every file in the shared corpus is either read (with the expected format, version, encoding
// and number of components) or refused for a stated reason.
func TestSharedCorpus(t *testing.T) {
	needShared(t, sharedSBOMs)
	accepted := []struct {
		path, format, version, encoding string
		components                      int
	}{
		{"cyclonedx/bom-examples/CBOM/Algorithm/bom.json", "CycloneDX", "1.6", "json", 3},
		{"cyclonedx/bom-examples/CBOM/Certificate/bom.json", "CycloneDX", "1.6", "json", 5},
		{"cyclonedx/bom-examples/CBOM/Example-With-Dependencies/bom.json", "CycloneDX", "1.6", "json", 4},
		{"cyclonedx/bom-examples/CBOM/Key/bom.json", "CycloneDX", "1.6", "json", 4},
		{"cyclonedx/bom-examples/CBOM/Protocol/bom.json", "CycloneDX", "1.6", "json", 9},
		{"cyclonedx/bom-examples/HBOM/PCIe-SATA-adapter-board/bom.json", "CycloneDX", "1.4", "json", 7},
		{"cyclonedx/bom-examples/OBOM/Example-1-Decoupled/bom.json", "CycloneDX", "1.4", "json", 904},
		{"cyclonedx/bom-examples/OBOM/Example-1-Decoupled/obom.json", "CycloneDX", "1.4", "json", 2},
		{"cyclonedx/bom-examples/OBOM/Example-1-Standalone/bom.json", "CycloneDX", "1.4", "json", 905},
		{"cyclonedx/bom-examples/SBOM/cern-lhc-vdm-editor-e564943/bom.json", "CycloneDX", "1.2", "json", 44},
		{"cyclonedx/bom-examples/SBOM/dropwizard-1.3.15/bom.json", "CycloneDX", "1.2", "json", 168},
		{"cyclonedx/bom-examples/SBOM/dropwizard-1.3.15/bom.xml", "CycloneDX", "1.2", "xml", 168},
		{"cyclonedx/bom-examples/SBOM/keycloak-10.0.2/bom.json", "CycloneDX", "1.2", "json", 904},
		{"cyclonedx/bom-examples/SBOM/laravel-7.12.0/bom.1.2.json", "CycloneDX", "1.2", "json", 63},
		{"cyclonedx/bom-examples/SBOM/laravel-7.12.0/bom.1.3.json", "CycloneDX", "1.3", "json", 63},
		{"cyclonedx/bom-examples/SBOM/laravel-7.12.0/bom.1.4.json", "CycloneDX", "1.4", "json", 63},
		{"cyclonedx/bom-examples/SBOM/laravel-7.12.0/bom.1.4.xml", "CycloneDX", "1.4", "xml", 63},
		{"cyclonedx/bom-examples/SBOM/proton-bridge/proton-bridge-v1.6.3.bom.json", "CycloneDX", "1.2", "json", 202},
		{"cyclonedx/bom-examples/SBOM/proton-bridge/proton-bridge-v1.8.0.bom.json", "CycloneDX", "1.2", "json", 202},
		{"cyclonedx/bom-examples/SBOM/protonmail-webclient-v4-0912dff/bom.json", "CycloneDX", "1.2", "json", 884},
		// A SaaSBOM describes services; its one component is the application.
		{"cyclonedx/bom-examples/SaaSBOM/apigateway-microservices-datastores/bom.json", "CycloneDX", "1.4", "json", 1},
		// VEX documents: valid CycloneDX, most describe only the product, some nothing at all.
		{"cyclonedx/bom-examples/VEX/CISA-Use-Cases/Case-1/vex-affected.json", "CycloneDX", "1.4", "json", 1},
		{"cyclonedx/bom-examples/VEX/CISA-Use-Cases/Case-1/vex-fixed.json", "CycloneDX", "1.4", "json", 1},
		{"cyclonedx/bom-examples/VEX/CISA-Use-Cases/Case-1/vex-not_affected.json", "CycloneDX", "1.4", "json", 1},
		{"cyclonedx/bom-examples/VEX/CISA-Use-Cases/Case-1/vex-under_investigation.json", "CycloneDX", "1.4", "json", 1},
		{"cyclonedx/bom-examples/VEX/CISA-Use-Cases/Case-2/vex.json", "CycloneDX", "1.4", "json", 1},
		{"cyclonedx/bom-examples/VEX/CISA-Use-Cases/Case-3/vex.json", "CycloneDX", "1.4", "json", 1},
		{"cyclonedx/bom-examples/VEX/CISA-Use-Cases/Case-4/vex.json", "CycloneDX", "1.4", "json", 1},
		{"cyclonedx/bom-examples/VEX/CISA-Use-Cases/Case-5/vex.json", "CycloneDX", "1.4", "json", 1},
		{"cyclonedx/bom-examples/VEX/CISA-Use-Cases/Case-6/vex.json", "CycloneDX", "1.4", "json", 1},
		{"cyclonedx/bom-examples/VEX/CISA-Use-Cases/Case-7/bom-1.json", "CycloneDX", "1.4", "json", 1},
		{"cyclonedx/bom-examples/VEX/CISA-Use-Cases/Case-7/bom-2.json", "CycloneDX", "1.4", "json", 1},
		{"cyclonedx/bom-examples/VEX/CISA-Use-Cases/Case-7/vex.json", "CycloneDX", "1.4", "json", 0},
		{"cyclonedx/bom-examples/VEX/CISA-Use-Cases/Case-8/bom-1.json", "CycloneDX", "1.4", "json", 1},
		{"cyclonedx/bom-examples/VEX/CISA-Use-Cases/Case-8/bom-2.json", "CycloneDX", "1.4", "json", 1},
		{"cyclonedx/bom-examples/VEX/CISA-Use-Cases/Case-8/vex.json", "CycloneDX", "1.4", "json", 0},
		{"cyclonedx/bom-examples/VEX/Use-Cases/Case-1/vex.json", "CycloneDX", "1.4", "json", 1},
		{"cyclonedx/bom-examples/VEX/Use-Cases/Case-10/vex.json", "CycloneDX", "1.4", "json", 1},
		{"cyclonedx/bom-examples/VEX/Use-Cases/Case-11/vex.json", "CycloneDX", "1.4", "json", 1},
		{"cyclonedx/bom-examples/VEX/Use-Cases/Case-12/vex.json", "CycloneDX", "1.4", "json", 1},
		{"cyclonedx/bom-examples/VEX/Use-Cases/Case-13/bom-1.json", "CycloneDX", "1.4", "json", 1},
		{"cyclonedx/bom-examples/VEX/Use-Cases/Case-13/bom-2.json", "CycloneDX", "1.4", "json", 1},
		{"cyclonedx/bom-examples/VEX/Use-Cases/Case-13/bom-3.json", "CycloneDX", "1.4", "json", 1},
		{"cyclonedx/bom-examples/VEX/Use-Cases/Case-13/vex.json", "CycloneDX", "1.4", "json", 0},
		{"cyclonedx/bom-examples/VEX/Use-Cases/Case-2/vex.json", "CycloneDX", "1.4", "json", 1},
		{"cyclonedx/bom-examples/VEX/Use-Cases/Case-3/vex.json", "CycloneDX", "1.4", "json", 1},
		{"cyclonedx/bom-examples/VEX/Use-Cases/Case-4/vex.json", "CycloneDX", "1.4", "json", 1},
		{"cyclonedx/bom-examples/VEX/Use-Cases/Case-5/vex.json", "CycloneDX", "1.4", "json", 1},
		{"cyclonedx/bom-examples/VEX/Use-Cases/Case-6/bom-1.json", "CycloneDX", "1.4", "json", 1},
		{"cyclonedx/bom-examples/VEX/Use-Cases/Case-6/bom-2.json", "CycloneDX", "1.4", "json", 1},
		{"cyclonedx/bom-examples/VEX/Use-Cases/Case-6/bom-3.json", "CycloneDX", "1.4", "json", 1},
		{"cyclonedx/bom-examples/VEX/Use-Cases/Case-6/vex.json", "CycloneDX", "1.4", "json", 0},
		{"cyclonedx/bom-examples/VEX/Use-Cases/Case-7/vex.json", "CycloneDX", "1.4", "json", 0},
		{"cyclonedx/bom-examples/VEX/Use-Cases/Case-8/vex.json", "CycloneDX", "1.4", "json", 1},
		{"cyclonedx/bom-examples/VEX/Use-Cases/Case-9/bom-1.json", "CycloneDX", "1.4", "json", 1},
		{"cyclonedx/bom-examples/VEX/Use-Cases/Case-9/bom-2.json", "CycloneDX", "1.4", "json", 1},
		{"cyclonedx/bom-examples/VEX/Use-Cases/Case-9/bom-3.json", "CycloneDX", "1.4", "json", 1},
		{"cyclonedx/bom-examples/VEX/Use-Cases/Case-9/vex.json", "CycloneDX", "1.4", "json", 0},
		{"cyclonedx/bom-examples/VEX/bom.json", "CycloneDX", "1.3", "json", 4},
		{"cyclonedx/bom-examples/VEX/vex.json", "CycloneDX", "1.4", "json", 0},
		// 2,754 components plus metadata.component as the root.
		{"generated/prometheus-d15adb9-syft.cdx.json", "CycloneDX", "1.6", "json", 2755},
		{"generated/prometheus-d15adb9-syft.spdx.json", "SPDX", "2.3", "json", 2733},
		{"generated/telegraf-b272631-cyclonedx-gomod.cdx.json", "CycloneDX", "1.6", "json", 599},
		{"generated/telegraf-v1.20.0-gomod-syft.cdx.json", "CycloneDX", "1.6", "json", 326},
		{"medical/sbom-completeness-case-study-extended.sbom.json", "CycloneDX", "1.4", "json", 66},
		{"medical/sbom-completeness-case-study-narrow.sbom.json", "CycloneDX", "1.4", "json", 56},
		{"spdx/spdx-spec-2.2/SPDXJSONExample-v2.2.spdx.json", "SPDX", "2.2", "json", 4},
		{"spdx/spdx-spec-2.2/SPDXTagExample-v2.2.spdx", "SPDX", "2.2", "tag-value", 4},
		{"spdx/spdx-spec-2.3/SPDXJSONExample-v2.3.spdx.json", "SPDX", "2.3", "json", 4},
		{"spdx/spdx-spec-2.3/SPDXTagExample-v2.3.spdx", "SPDX", "2.3", "tag-value", 4},
	}
	// Refused, and why: formats Vigil does not read (the message says what to convert to).
	rejected := map[string]string{
		"cyclonedx/cyclonedx-spec-testvectors-json.zip":       "is a ZIP archive",
		"spdx/spdx-spec-2.3/SPDXRdfExample-v2.3.spdx.rdf.xml": "SPDX RDF/XML is not supported; convert it to SPDX JSON or tag-value",
		"spdx/spdx-spec-2.3/SPDXXMLExample-v2.3.spdx.xml":     "SPDX XML is not supported; convert it to SPDX JSON or tag-value",
		"spdx/spdx-spec-2.3/SPDXYAMLExample-2.3.spdx.yaml":    "SBOMs in YAML are not supported",
	}
	var files []string
	err := filepath.WalkDir(sharedSBOMs, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(sharedSBOMs, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, a := range accepted {
		listed[a.path] = true
	}
	for p := range rejected {
		listed[p] = true
	}
	for _, f := range files {
		if !listed[f] {
			t.Errorf("%s is new in the corpus: add it to the accepted or rejected table", f)
		}
	}
	for _, a := range accepted {
		t.Run(a.path, func(t *testing.T) {
			doc, err := ParseFile(filepath.Join(sharedSBOMs, a.path))
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			got := []any{doc.Format, doc.SpecVersion, doc.Encoding, len(doc.Components)}
			want := []any{a.format, a.version, a.encoding, a.components}
			if !slices.Equal(got, want) {
				t.Errorf("format, version, encoding, components = %v, want %v", got, want)
			}
			checkInvariants(t, doc)
		})
	}
	for p, why := range rejected {
		t.Run(p, func(t *testing.T) {
			_, err := ParseFile(filepath.Join(sharedSBOMs, p))
			if err == nil || !strings.Contains(err.Error(), why) {
				t.Fatalf("error = %v, want one saying %q", err, why)
			}
			if e := firstError(t, err); e.File != filepath.Join(sharedSBOMs, p) {
				t.Errorf("error names file %q", e.File)
			}
		})
	}
}

// checkInvariants holds for every document Parse returns.
func checkInvariants(t *testing.T, doc *Document) {
	t.Helper()
	refs := map[string]bool{}
	for _, c := range doc.Components {
		if c.Ref == "" {
			t.Errorf("component %q has no ref", c.Name)
		}
		if refs[c.Ref] {
			t.Errorf("ref %q is not unique", c.Ref)
		}
		refs[c.Ref] = true
	}
	if doc.Root != "" && !refs[doc.Root] {
		t.Errorf("root %q is not a component", doc.Root)
	}
	for _, c := range doc.Components {
		if c.Parent != "" && !refs[c.Parent] {
			t.Errorf("parent %q of %q is not a component", c.Parent, c.Ref)
		}
	}
	for _, d := range doc.Dependencies {
		if d.DependsOn == nil {
			t.Errorf("dependency %q has nil DependsOn (want [] for none)", d.Ref)
		}
	}
	if doc.Components == nil {
		t.Error("Components is nil; want [] when empty")
	}
}

// The CycloneDX specification's own test vectors: every valid-* is read, every invalid-* is
// refused with a located message. The two skip_invalid-* vectors of 1.2 are ones the
// specification's test runner does not decide (1.2's XML schema gives type, name and version
// default values); its JSON schema, which Vigil applies, requires all three, so both are refused.
func TestCycloneDXTestVectors(t *testing.T) {
	zipPath := filepath.Join(sharedSBOMs, "cyclonedx/cyclonedx-spec-testvectors-json.zip")
	needShared(t, zipPath)
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	undecided := map[string]string{
		"1.2/skip_invalid-empty-component-1.2.json":        "components[0]: not valid against the CycloneDX 1.2 schema: missing properties 'name', 'version'",
		"1.2/skip_invalid-missing-component-type-1.2.json": "components[0]: not valid against the CycloneDX 1.2 schema: missing property 'type'",
	}
	// The reason given for a few, to keep the messages useful.
	reasons := map[string]string{
		"1.6/invalid-bomformat-1.6.json":          `bomFormat: is "AnotherFormat"; expected "CycloneDX"`,
		"1.6/invalid-component-type-1.6.json":     "components[0].type: not valid against the CycloneDX 1.6 schema: value must be one of 'application'",
		"1.6/invalid-hash-md5-1.6.json":           "components[0].hashes[0].content: not valid against the CycloneDX 1.6 schema: 'foo' does not match pattern",
		"1.6/invalid-metadata-timestamp-1.6.json": "metadata.timestamp: not valid against the CycloneDX 1.6 schema: '2020-04-13' is not valid date-time",
		"1.7/invalid-license-id-1.7.json":         "(811 allowed values)",
		"1.2/invalid-component-ref-1.2.json":      "components: not valid against the CycloneDX 1.2 schema: items at 0 and 1 are equal",
	}
	counts := map[string]int{}
	for _, f := range zr.File {
		if f.FileInfo().IsDir() || !strings.HasSuffix(f.Name, ".json") {
			continue
		}
		name := f.Name
		base := filepath.Base(name)
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		t.Run(name, func(t *testing.T) {
			doc, err := Parse(name, data)
			switch {
			case strings.HasPrefix(base, "valid-"):
				counts["valid"]++
				if err != nil {
					t.Fatalf("valid vector refused: %v", err)
				}
				checkInvariants(t, doc)
			case strings.HasPrefix(base, "invalid-"):
				counts["invalid"]++
				if err == nil {
					t.Fatal("invalid vector accepted")
				}
				e := firstError(t, err)
				if e.Field == "" || e.Line == 0 {
					t.Errorf("error %q does not name the field and line", e)
				}
				if want, ok := reasons[name]; ok && !strings.Contains(err.Error(), want) {
					t.Errorf("error = %v\nwant it to contain %q", err, want)
				}
			default:
				counts["undecided"]++
				want, ok := undecided[name]
				if !ok {
					t.Fatalf("vector %s is neither valid-* nor invalid-*: add it to the undecided table", name)
				}
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("error = %v, want %q", err, want)
				}
			}
		})
	}
	t.Logf("vectors: %v", counts)
	if counts["valid"] < 200 || counts["invalid"] < 100 {
		t.Errorf("too few vectors found: %v", counts)
	}
}

func TestParseCycloneDXNormalises(t *testing.T) {
	doc, err := ParseFile("testdata/infusion-pump.cdx.json")
	if err != nil {
		t.Fatal(err)
	}
	want := &Document{
		File: "testdata/infusion-pump.cdx.json", Format: "CycloneDX", SpecVersion: "1.5", Encoding: "json",
		Name: "InfuPump firmware", Version: "3.2.0",
		Authors: []string{"Product Security Team", "Example Medical Inc."},
		Tools:   []string{"anchore/syft 1.20.0"},
		Root:    "pump-fw",
		Components: []Component{
			{Ref: "pump-fw", Type: "firmware", Name: "InfuPump firmware", Version: "3.2.0", PURL: "pkg:generic/example-medical/infupump-firmware@3.2.0",
				Supplier: "Example Medical Inc.", Hashes: []Hash{{"SHA-256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}}},
			{Ref: "openssl", Type: "library", Name: "openssl", Version: "3.0.13", PURL: "pkg:generic/openssl@3.0.13",
				CPE: "cpe:2.3:a:openssl:openssl:3.0.13:*:*:*:*:*:*:*", Supplier: "OpenSSL Software Foundation",
				Hashes: []Hash{{"SHA-256", "88525753f79d3bec27d2fa7c66aa0b92b3aa9498dafd93d7cfa4b3780cdae313"}}, Licenses: []string{"Apache-2.0"},
				Support: SupportActive, EndOfSupport: "2026-09-07", SupportSource: "sbom"},
			{Ref: "freertos", Type: "operating-system", Name: "FreeRTOS-Kernel", Version: "10.4.3", PURL: "pkg:github/freertos/freertos-kernel@V10.4.3",
				Supplier: "Amazon Web Services", Licenses: []string{"MIT"}, EndOfSupport: "2027-12-31", SupportSource: "sbom"},
			{Ref: "freertos-tcp", Type: "library", Name: "FreeRTOS-Plus-TCP", Version: "3.1.0", PURL: "pkg:github/freertos/freertos-plus-tcp@V3.1.0",
				Licenses: []string{"MIT (FreeRTOS)"}, Parent: "freertos"},
			{Ref: "zlib", Type: "library", Name: "zlib", Version: "1.2.11", PURL: "pkg:generic/zlib@1.2.11",
				Hashes: []Hash{{"SHA-1", "e6d119755acdf9104d7ba236b1242696940ed6dd"}}, Support: SupportEnded,
				SupportNote: "justification: cdx:fda:end-of-support-date: upstream publishes no support dates", SupportSource: "sbom"},
			{Ref: "vigil:component-6", Type: "library", Name: "vendored-parser", Version: "unknown", PURL: "not a purl"},
		},
		Dependencies: []Dependency{
			{Ref: "pump-fw", DependsOn: []string{"openssl", "freertos"}},
			{Ref: "openssl", DependsOn: []string{"zlib"}},
			{Ref: "freertos", DependsOn: []string{}},
			{Ref: "zlib", DependsOn: []string{}},
		},
	}
	want.Timestamp, _ = time.Parse(time.RFC3339, "2025-03-01T10:00:00Z")
	if d := cmp.Diff(want, doc); d != "" {
		t.Errorf("normalised document (-want +got):\n%s", d)
	}
	// The same BOM in XML reads the same.
	xdoc, err := ParseFile("testdata/infusion-pump.cdx.xml")
	if err != nil {
		t.Fatal(err)
	}
	want.File, want.Encoding = "testdata/infusion-pump.cdx.xml", "xml"
	if d := cmp.Diff(want, xdoc); d != "" {
		t.Errorf("XML document differs from the JSON one (-want +got):\n%s", d)
	}
}

func TestParseSPDXNormalises(t *testing.T) {
	needShared(t, sharedSBOMs)
	var docs []*Document
	for _, p := range []string{
		"spdx/spdx-spec-2.2/SPDXJSONExample-v2.2.spdx.json",
		"spdx/spdx-spec-2.2/SPDXTagExample-v2.2.spdx",
		"spdx/spdx-spec-2.3/SPDXJSONExample-v2.3.spdx.json",
		"spdx/spdx-spec-2.3/SPDXTagExample-v2.3.spdx",
	} {
		doc, err := ParseFile(filepath.Join(sharedSBOMs, p))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		docs = append(docs, doc)
		if doc.Root != "SPDXRef-Package" || doc.Name != "glibc" || doc.Version != "2.11.1" {
			t.Errorf("%s: root/name/version = %q %q %q", p, doc.Root, doc.Name, doc.Version)
		}
		if !slices.Equal(doc.Authors, []string{"ExampleCodeInspect", "Jane Doe"}) || !slices.Equal(doc.Tools, []string{"LicenseFind-1.0"}) {
			t.Errorf("%s: authors %q tools %q", p, doc.Authors, doc.Tools)
		}
		if doc.Timestamp.IsZero() {
			t.Errorf("%s: no timestamp", p)
		}
		glibc := doc.Components[0]
		if glibc.Supplier != "Jane Doe" || glibc.CPE != "cpe:2.3:a:pivotal_software:spring_framework:4.1.0:*:*:*:*:*:*:*" ||
			len(glibc.Hashes) < 3 || !slices.Equal(glibc.Licenses, []string{"(LGPL-2.0-only OR LicenseRef-3)", "(LGPL-2.0-only AND LicenseRef-3)"}) {
			t.Errorf("%s: glibc = %+v", p, glibc)
		}
		if want := map[string]string{"2.2": "", "2.3": "2014-01-29"}[doc.SpecVersion]; glibc.EndOfSupport != want {
			t.Errorf("%s: glibc end of support (ValidUntilDate) = %q, want %q", p, glibc.EndOfSupport, want)
		}
		jena := doc.Components[2]
		if jena.PURL != "pkg:maven/org.apache.jena/apache-jena@3.12.0" {
			t.Errorf("%s: jena purl %q", p, jena.PURL)
		}
		if d := cmp.Diff([]Dependency{{Ref: "SPDXRef-Package", DependsOn: []string{"SPDXRef-Saxon"}}}, doc.Dependencies); d != "" {
			t.Errorf("%s: dependencies (-want +got):\n%s", p, d)
		}
	}
	// JSON and tag-value of one version agree on the components, apart from what the tag-value
	// examples leave out (the 2.3 JSON example adds a BLAKE2b checksum and a package purpose).
	strip := func(cs []Component) []Component {
		out := slices.Clone(cs)
		for i := range out {
			out[i].Type = ""
			out[i].Hashes = slices.DeleteFunc(slices.Clone(out[i].Hashes), func(h Hash) bool { return strings.HasPrefix(h.Algorithm, "BLAKE") })
		}
		return out
	}
	if d := cmp.Diff(strip(docs[0].Components), strip(docs[1].Components)); d != "" {
		t.Errorf("SPDX 2.2 JSON vs tag-value (-json +tv):\n%s", d)
	}
	if d := cmp.Diff(strip(docs[2].Components), strip(docs[3].Components)); d != "" {
		t.Errorf("SPDX 2.3 JSON vs tag-value (-json +tv):\n%s", d)
	}
	if !slices.ContainsFunc(docs[3].Warnings, func(w string) bool { return strings.Contains(w, "snippet") }) {
		t.Errorf("2.3 tag-value: no warning about the skipped snippet: %q", docs[3].Warnings)
	}
}

func TestParseSPDXRelationships(t *testing.T) {
	tv := `SPDXVersion: SPDX-2.3
DataLicense: CC0-1.0
SPDXID: SPDXRef-DOCUMENT
DocumentName: pump
DocumentNamespace: https://example.com/pump
Creator: Organization: Example Medical Inc.
Creator: Tool: hand
Created: 2025-01-01T00:00:00Z
Relationship: SPDXRef-DOCUMENT DESCRIBES SPDXRef-app
Relationship: SPDXRef-app CONTAINS SPDXRef-lib
Relationship: SPDXRef-tls DEPENDENCY_OF SPDXRef-app
Relationship: SPDXRef-lib DEPENDS_ON NONE
Relationship: SPDXRef-tls DEV_DEPENDENCY_OF SPDXRef-lib

PackageName: app
SPDXID: SPDXRef-app
PackageVersion: 1.0
PackageDownloadLocation: NOASSERTION
PackageSupplier: Organization: Example Medical Inc.

PackageName: lib
SPDXID: SPDXRef-lib
PackageVersion: 2.0
PackageDownloadLocation: NOASSERTION
PackageSupplier: NOASSERTION
PackageOriginator: Person: Jane Doe (jane@example.com)
ExternalRef: SECURITY cpe22Type cpe:/a:example:lib:2.0
ExternalRef: PACKAGE-MANAGER purl pkg:generic/lib@2.0

PackageName: tls
SPDXID: SPDXRef-tls
PackageVersion: NOASSERTION
PackageDownloadLocation: NOASSERTION
PackageLicenseConcluded: NOASSERTION
PackageLicenseDeclared: MIT
ValidUntilDate: 2030-06-30T00:00:00Z
`
	doc, err := Parse("pump.spdx", []byte(tv))
	if err != nil {
		t.Fatal(err)
	}
	if doc.Root != "SPDXRef-app" || doc.Name != "app" || doc.Version != "1.0" {
		t.Errorf("root %q name %q version %q", doc.Root, doc.Name, doc.Version)
	}
	if !slices.Equal(doc.Authors, []string{"Example Medical Inc."}) || !slices.Equal(doc.Tools, []string{"hand"}) {
		t.Errorf("authors %q tools %q", doc.Authors, doc.Tools)
	}
	wantDeps := []Dependency{
		{Ref: "SPDXRef-app", DependsOn: []string{"SPDXRef-lib", "SPDXRef-tls"}},
		{Ref: "SPDXRef-lib", DependsOn: []string{"SPDXRef-tls"}},
	}
	if d := cmp.Diff(wantDeps, doc.Dependencies); d != "" {
		t.Errorf("dependencies (-want +got):\n%s", d)
	}
	lib, tls := doc.Components[1], doc.Components[2]
	if lib.Supplier != "Jane Doe" || lib.CPE != "cpe:/a:example:lib:2.0" || lib.PURL != "pkg:generic/lib@2.0" {
		t.Errorf("lib = %+v", lib)
	}
	if tls.Version != "" || !slices.Equal(tls.Licenses, []string{"MIT"}) || tls.Supplier != "" || tls.EndOfSupport != "2030-06-30" || tls.SupportSource != "sbom" {
		t.Errorf("tls = %+v", tls)
	}
}

// Inputs that must be refused with a clear message, and never crash.
func TestParseRefuses(t *testing.T) {
	cdxHead := `{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":`
	deep := cdxHead + strings.Repeat(`[`, 100) + strings.Repeat(`]`, 100) + `}`
	veryDeep := strings.Repeat(`[`, 1_000_000)
	billionLaughs := `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<bom xmlns="http://cyclonedx.org/schema/bom/1.5" version="1"><components><component type="library"><name>&lol3;</name></component></components></bom>`
	xxe := `<?xml version="1.0"?>
<!DOCTYPE bom [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<bom xmlns="http://cyclonedx.org/schema/bom/1.5" version="1"><components><component type="library"><name>&xxe;</name></component></components></bom>`
	undeclaredEntity := `<bom xmlns="http://cyclonedx.org/schema/bom/1.5" version="1"><components><component type="library"><name>&xxe;</name></component></components></bom>`
	deepXML := `<bom xmlns="http://cyclonedx.org/schema/bom/1.5">` + strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100) + `</bom>`
	tests := []struct {
		name string
		data []byte
		want string
		line int
	}{
		{"empty", nil, "file is empty", 0},
		{"blank", []byte(" \n\t"), "file is empty", 0},
		{"deep JSON", []byte(deep), "JSON is nested more than 64 levels deep", 1},
		{"a million brackets", []byte(veryDeep), "JSON is nested more than 64 levels deep", 1},
		{"billion laughs", []byte(billionLaughs), "XML with a DOCTYPE declaration with ENTITY definitions is refused", 2},
		{"external entity", []byte(xxe), "XML with a DOCTYPE declaration with ENTITY definitions is refused", 2},
		{"undeclared entity", []byte(undeclaredEntity), "invalid XML: invalid character entity &xxe;", 1},
		{"deep XML", []byte(deepXML), "XML is nested more than 64 elements deep", 1},
		{"UTF-16", []byte("\xff\xfe{\x00}\x00"), "file is UTF-16", 0},
		{"binary", []byte{0x00, 0xff, 0x10, 0x80}, "not UTF-8 text", 0},
		{"gzip", []byte{0x1f, 0x8b, 0x08, 0x00}, "gzip-compressed", 0},
		{"bad JSON", []byte("{\n\"bomFormat\": \"CycloneDX\",\n}"), "invalid JSON", 3},
		{"truncated JSON", []byte(`{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [`), "invalid JSON", 1},
		{"neither format", []byte(`{"name": "x"}`), "neither CycloneDX", 1},
		{"CycloneDX 1.1", []byte(`{"bomFormat":"CycloneDX","specVersion":"1.1","version":1}`), `specVersion: is "1.1"; expected a CycloneDX version from "1.2" to "1.7"`, 1},
		{"CycloneDX 2.0", []byte(`{"bomFormat":"CycloneDX","specVersion":"2.0","version":1}`), `specVersion: is "2.0"`, 1},
		{"specVersion number", []byte(`{"bomFormat":"CycloneDX","specVersion":1.5,"version":1}`), `specVersion: is 1.5`, 1},
		{"CycloneDX XML 1.1", []byte(`<bom xmlns="http://cyclonedx.org/schema/bom/1.1" version="1"/>`), "CycloneDX 1.1 is not supported", 1},
		{"XML not a bom", []byte(`<project/>`), "XML root element <project> is not a CycloneDX <bom>", 1},
		{"XML wrong namespace", []byte(`<bom xmlns="urn:x"/>`), `XML namespace "urn:x" is not a CycloneDX BOM namespace`, 1},
		{"XML invalid component type", []byte(`<bom xmlns="http://cyclonedx.org/schema/bom/1.5" version="1"><components><component type="gadget"><name>x</name></component></components></bom>`), "components[0].type: not valid against the CycloneDX 1.5 schema", 0},
		{"XML invalid hash", []byte(`<bom xmlns="http://cyclonedx.org/schema/bom/1.4" version="1"><components><component type="library"><name>x</name><hashes><hash alg="SHA-256">abc</hash></hashes></component></components></bom>`), "components[0].hashes[0].content", 0},
		{"SPDX 3", []byte(`{"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": []}`), "JSON-LD", 0},
		{"SPDX 1.2", []byte(`{"spdxVersion": "SPDX-1.2"}`), `spdxVersion: is "SPDX-1.2"; expected "SPDX-2.2" or "SPDX-2.3"`, 1},
		{"SPDX tag-value 2.0", []byte("SPDXVersion: SPDX-2.0\nDataLicense: CC0-1.0\n"), `SPDXVersion: is "SPDX-2.0"`, 1},
		{"SPDX tag-value garbage", []byte("SPDXVersion: SPDX-2.3\nBogusTag: x\n"), "not a valid SPDX document", 0},
		{"SPDX YAML", []byte("spdxVersion: SPDX-2.3\nname: x\n"), "SBOMs in YAML are not supported", 1},
		{"plain text", []byte("hello\n"), "not a recognised SBOM", 1},
		{"duplicate bom-ref in nested components", []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":[
{"type":"library","bom-ref":"a","name":"a","components":[{"type":"library","bom-ref":"a","name":"b"}]}]}`), `components[0].components[0].bom-ref: bom-ref "a" is used twice`, 0},
		{"duplicate bom-ref, different components", []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"metadata":{"component":{"type":"application","bom-ref":"app","name":"app","version":"1"}},
"components":[{"type":"application","bom-ref":"app","name":"app","version":"2"}]}`), `components[0].bom-ref: bom-ref "app" is used twice`, 0},
		{"duplicate SPDXID", []byte(`{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"x","dataLicense":"CC0-1.0","documentNamespace":"https://x","creationInfo":{"created":"2025-01-01T00:00:00Z","creators":["Tool: x"]},
"packages":[{"name":"a","SPDXID":"SPDXRef-a","downloadLocation":"NONE"},{"name":"b","SPDXID":"SPDXRef-a","downloadLocation":"NONE"}]}`), "packages[1].SPDXID: SPDXRef-a is used twice", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := Parse("in.sbom", tc.data)
			if err == nil {
				t.Fatalf("accepted: %+v", doc)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v\nwant it to contain %q", err, tc.want)
			}
			e := firstError(t, err)
			if e.File != "in.sbom" {
				t.Errorf("error names file %q", e.File)
			}
			if tc.line != 0 && e.Line != tc.line {
				t.Errorf("line = %d, want %d", e.Line, tc.line)
			}
		})
	}
}

func TestParseRefusesOversized(t *testing.T) {
	big := bytes.Repeat([]byte(" "), MaxSize+1)
	copy(big, `{"bomFormat":"CycloneDX"}`)
	_, err := Parse("big.json", big)
	if err == nil || !strings.Contains(err.Error(), "at most 67108864 (64 MiB) are accepted") {
		t.Fatalf("error = %v", err)
	}
	path := filepath.Join(t.TempDir(), "big.json")
	if err := os.WriteFile(path, big, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseFile(path); err == nil || !strings.Contains(err.Error(), "at most 67108864") {
		t.Fatalf("ParseFile error = %v", err)
	}
}

func TestParseFileErrors(t *testing.T) {
	_, err := ParseFile("testdata/no-such-file.json")
	if err == nil || !strings.Contains(err.Error(), "testdata/no-such-file.json: cannot read the file: no such file or directory") {
		t.Errorf("missing file: %v", err)
	}
	_, err = ParseFile("testdata")
	if err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: %v", err)
	}
}

// The subject repeated in components (same bom-ref, name, version, purl) is read once.
func TestParseToleratesRepeatedSubject(t *testing.T) {
	doc, err := Parse("app.json", []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,
"metadata":{"component":{"type":"application","bom-ref":"app","name":"app","version":"1"}},
"components":[{"type":"application","bom-ref":"app","name":"app","version":"1"},{"type":"library","bom-ref":"lib","name":"lib","version":"1"}],
"dependencies":[{"ref":"app","dependsOn":["lib"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Components) != 2 || doc.Root != "app" || len(doc.Warnings) != 1 || !strings.Contains(doc.Warnings[0], `components[0] repeats the component with bom-ref "app"`) {
		t.Errorf("components %+v warnings %q", doc.Components, doc.Warnings)
	}
}

// A panic inside a decoding library becomes an error naming the file.
func TestParseRecoversPanics(t *testing.T) {
	defer func(old func(string, []byte) (*Document, error)) { testHookJSON = old }(testHookJSON)
	testHookJSON = func(string, []byte) (*Document, error) { panic("boom") }
	_, err := Parse("x.json", []byte(`{"bomFormat":"CycloneDX"}`))
	if err == nil || !strings.Contains(err.Error(), "x.json: the SBOM could not be read (the decoder failed: boom)") {
		t.Fatalf("error = %v", err)
	}
}
