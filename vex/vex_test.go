package vex

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-med/vigil/sbom"
)

var t0 = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)

func sampleDoc() *Document {
	dev := Product{ID: DeviceID("InsuPump X2", "2.1.0"), Name: "InsuPump X2", Version: "2.1.0", Supplier: "Acme Medical"}
	xnet := Component{PURL: "pkg:golang/golang.org/x/net@v0.0.0-20210610132358-84b48f89b13b", Name: "golang.org/x/net", Version: "v0.0.0-20210610132358-84b48f89b13b"}
	text := Component{PURL: "pkg:golang/golang.org/x/text@v0.3.6", Name: "golang.org/x/text", Version: "v0.3.6"}
	return &Document{Product: dev, Statements: []Statement{
		{Vulnerability: "GO-2022-0969", Aliases: []string{"CVE-2022-27664", "GHSA-69cg-p879-7622"}, Description: "Denial of service in net/http and golang.org/x/net/http2",
			Component: xnet, Status: NotAffected, Justification: VulnerableCodeNotInExecutePath,
			ImpactStatement: "The pump's firmware never starts an HTTP/2 server.", Author: "anna@acme.example", Timestamp: t0},
		{Vulnerability: "GO-2023-2102", Aliases: []string{"CVE-2023-39325", "GHSA-4374-p667-p6c8"}, Component: xnet, Status: Affected,
			ActionStatement: "Update the companion app to 2.1.1, which ships golang.org/x/net v0.17.0.", Author: "ben@acme.example", Timestamp: t0.Add(time.Hour)},
		{Vulnerability: "GO-2021-0113", Aliases: []string{"CVE-2021-38561"}, Component: text, Status: Fixed, Author: "anna@acme.example", Timestamp: t0.Add(2 * time.Hour)},
		{Vulnerability: "GO-2022-1059", Aliases: []string{"CVE-2022-32149"}, Component: text, Status: UnderInvestigation, Author: "ben@acme.example", Timestamp: t0.Add(3 * time.Hour)},
		{Vulnerability: "GO-2022-0236", Aliases: []string{"CVE-2021-44716"}, Component: xnet, Status: NotAffected, Justification: ComponentNotPresent, Author: "anna@acme.example", Timestamp: t0.Add(4 * time.Hour)},
		{Vulnerability: "CVE-2021-44228", Status: NotAffected, ImpactStatement: "No Java runtime is part of the device.", Author: "anna@acme.example", Timestamp: t0.Add(5 * time.Hour)},
	}}
}

// key is what a round trip must keep of a statement.
type key struct {
	Vuln, Component, Status, Justification, Impact, Action string
	Aliases                                                string
}

func keys(ss []Statement) []key {
	var out []key
	for _, s := range ss {
		a := slices.Clone(s.Aliases)
		slices.Sort(a)
		out = append(out, key{s.Vulnerability, s.Component.Key(), string(s.Status), string(s.Justification), s.ImpactStatement, s.ActionStatement, strings.Join(a, ",")})
	}
	slices.SortFunc(out, func(a, b key) int { return strings.Compare(a.Vuln+a.Component, b.Vuln+b.Component) })
	return out
}

func TestRoundTrip(t *testing.T) {
	for _, format := range FormatNames {
		t.Run(format, func(t *testing.T) {
			in := sampleDoc()
			data, err := Encode(in, format, Options{Tool: "vigil test", Now: t0.Add(24 * time.Hour), Namespace: "https://psirt.acme.example"})
			if err != nil {
				t.Fatal(err)
			}
			got, err := Parse("export"+FileExtension(format), data)
			if err != nil {
				t.Fatal(err)
			}
			if got.Format != format {
				t.Errorf("detected %s", got.Format)
			}
			if len(got.Warnings) > 0 {
				t.Errorf("warnings: %v", got.Warnings)
			}
			if d := cmp.Diff(keys(in.Statements), keys(got.Statements)); d != "" {
				t.Errorf("statements changed in the round trip (-sent +read):\n%s\n%s", d, data)
			}
			for _, s := range got.Statements {
				if s.Component.IsZero() {
					if s.Product.ID != in.Product.ID {
						t.Errorf("%s: product %+v, want %s", s.Vulnerability, s.Product, in.Product.ID)
					}
					continue
				}
				if s.Component.Name == "" || s.Component.Version == "" || s.Component.PURL == "" {
					t.Errorf("%s: component identity incomplete: %+v", s.Vulnerability, s.Component)
				}
				// Time and author survive where the format has room for them.
				i := slices.IndexFunc(in.Statements, func(x Statement) bool { return x.Vulnerability == s.Vulnerability })
				want := in.Statements[i]
				if format != FormatCSAF || s.Status == NotAffected && s.Justification != "" || s.Status == Affected {
					if !s.Timestamp.Equal(want.Timestamp) {
						t.Errorf("%s: timestamp %s, want %s", s.Vulnerability, s.Timestamp, want.Timestamp)
					}
				}
				if format != FormatCSAF && s.Author != want.Author {
					t.Errorf("%s: author %q, want %q", s.Vulnerability, s.Author, want.Author)
				}
			}
			// The same decisions give the same document.
			again, _ := Encode(sampleDoc(), format, Options{Tool: "vigil test", Now: t0.Add(24 * time.Hour), Namespace: "https://psirt.acme.example"})
			if string(again) != string(data) {
				t.Error("encoding is not deterministic")
			}
		})
	}
}

// TestCSAFValid: the CSAF output passes gocsaf's schema validation and the VEX profile tests, and
// the checks catch a broken document.
func TestCSAFValid(t *testing.T) {
	data, err := Encode(sampleDoc(), FormatCSAF, Options{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	problems, err := ValidateCSAF(data)
	if err != nil || len(problems) > 0 {
		t.Fatalf("CSAF output invalid: %v %v\n%s", err, problems, data)
	}
	var doc map[string]any
	_ = json.Unmarshal(data, &doc)
	vulns := doc["vulnerabilities"].([]any)
	for _, v := range vulns {
		m := v.(map[string]any)
		delete(m, "flags")
		delete(m, "threats")
		delete(m, "remediations")
	}
	doc["document"].(map[string]any)["category"] = "csaf_vex"
	doc["document"].(map[string]any)["tracking"].(map[string]any)["status"] = "published" // not a status
	broken, _ := json.Marshal(doc)
	problems, err = ValidateCSAF(broken)
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(problems, "\n")
	for _, want := range []string{"6.1.27.9", "6.1.27.10", "/document/tracking/status"} {
		if !strings.Contains(joined, want) {
			t.Errorf("broken document: no %s problem in:\n%s", want, joined)
		}
	}
	if _, err := Encode(&Document{Product: Product{Name: "X"}}, FormatCSAF, Options{}); err == nil {
		t.Error("empty CSAF VEX accepted")
	}
}

// TestCycloneDXSchemaValid: the CycloneDX output is a valid CycloneDX 1.6 BOM (Vigil's own SBOM
// reader validates against the official schema).
func TestCycloneDXSchemaValid(t *testing.T) {
	data, err := Encode(sampleDoc(), FormatCycloneDX, Options{Now: t0, Tool: "vigil 1.0"})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := sbom.Parse("vex.cdx.json", data)
	if err != nil {
		t.Fatalf("CycloneDX VEX fails the CycloneDX 1.6 schema: %v\n%s", err, data)
	}
	if doc.SpecVersion != "1.6" || len(doc.Components) != 3 { // the device and its two components
		t.Errorf("spec %s, %d components", doc.SpecVersion, len(doc.Components))
	}
	if !strings.Contains(string(data), `"justification": "code_not_reachable"`) || !strings.Contains(string(data), `"state": "exploitable"`) {
		t.Errorf("CycloneDX vocabulary not used:\n%s", data)
	}
}

func TestCheck(t *testing.T) {
	bad := []Statement{
		{Status: NotAffected, Justification: ComponentNotPresent},
		{Vulnerability: "X", Status: "maybe"},
		{Vulnerability: "X", Status: NotAffected},
		{Vulnerability: "X", Status: NotAffected, Justification: "because"},
		{Vulnerability: "X", Status: NotAffected, Justification: ComponentNotPresent, ActionStatement: "update"},
		{Vulnerability: "X", Status: Affected},
		{Vulnerability: "X", Status: Affected, ActionStatement: "update", Justification: ComponentNotPresent},
		{Vulnerability: "X", Status: Fixed, ImpactStatement: "x"},
	}
	for i, s := range bad {
		if err := s.Check(); err == nil {
			t.Errorf("%d: %+v accepted", i, s)
		}
	}
	for _, s := range sampleDoc().Statements {
		if err := s.Check(); err != nil {
			t.Errorf("%s: %v", s.Vulnerability, err)
		}
	}
}

func TestComponentKey(t *testing.T) {
	for in, want := range map[[3]string]string{
		{"pkg:golang/golang.org/x/net@v0.5.0?type=module", "", ""}:         "pkg:golang/golang.org/x/net@v0.5.0",
		{"pkg:Maven/org.apache/log4j@2.14.1?type=jar#sub", "", ""}:         "pkg:maven/org.apache/log4j@2.14.1",
		{"", "openssl", "3.0.8"}:                                           "openssl@3.0.8",
		{"", "firmware-blob", ""}:                                          "firmware-blob",
		{"  pkg:golang/golang.org/x/net@v0.5.0 ", "golang.org/x/net", "x"}: "pkg:golang/golang.org/x/net@v0.5.0",
	} {
		if got := ComponentKey(in[0], in[1], in[2]); got != want {
			t.Errorf("ComponentKey%q = %q, want %q", in, got, want)
		}
	}
	if got := DeviceID("InsuPump X2", "2.1.0 (EU)"); got != "pkg:generic/InsuPump%20X2@2.1.0%20%28EU%29" {
		t.Errorf("DeviceID: %s", got)
	}
}

func TestDecision(t *testing.T) {
	d := sampleDoc()
	xnet := Component{PURL: "pkg:golang/golang.org/x/net@v0.0.0-20210610132358-84b48f89b13b?type=module", Name: "golang.org/x/net"}
	if s := d.Decision([]string{"CVE-2022-27664"}, xnet, Product{}); s == nil || s.Status != NotAffected {
		t.Errorf("by alias and purl with qualifiers: %+v", s)
	}
	if s := d.Decision([]string{"GO-2022-0969"}, Component{PURL: "pkg:golang/golang.org/x/net@v0.7.0"}, Product{}); s != nil {
		t.Errorf("other version matched: %+v", s)
	}
	// A product-level statement decides for every component of that product only.
	log4j := Component{PURL: "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"}
	if s := d.Decision([]string{"CVE-2021-44228"}, log4j, Product{Name: "insupump x2", Version: "2.1.0"}); s == nil {
		t.Error("product-level statement not applied to its product")
	}
	if s := d.Decision([]string{"CVE-2021-44228"}, log4j, Product{Name: "Other device"}); s != nil {
		t.Error("product-level statement applied to another product")
	}
	// The latest statement wins.
	d.Statements = append(d.Statements, Statement{Vulnerability: "GO-2022-0969", Component: xnet, Status: Affected, ActionStatement: "update", Timestamp: t0.Add(48 * time.Hour)})
	if s := d.Decision([]string{"GO-2022-0969"}, xnet, Product{}); s == nil || s.Status != Affected {
		t.Errorf("latest statement: %+v", s)
	}
}

func shared(t *testing.T, rel string) string {
	t.Helper()
	p := filepath.Join("..", "..", "shared", "data", rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s not present", p)
	}
	return p
}

// TestParseOthers reads VEX documents written by other tools.
func TestParseOthers(t *testing.T) {
	cases := []struct {
		file                string
		format              string
		statements          int
		vuln, comp, status  string
		justification, note string
	}{
		{"vex/openvex/v0.2.0.json", FormatOpenVEX, 10, "CVE-2023-3446", "pkg:apk/alpine/libssl3@3.0.8-r3", "not_affected", "vulnerable_code_not_present", ""},
		{"vex/openvex/v0.0.1.json", FormatOpenVEX, 2, "CVE-2023-12345", "", "fixed", "", ""},
		{"vex/openvex/csaf.json", FormatCSAF, 1, "CVE-2009-4487", "", "not_affected", "", ""},
		{"sboms/cyclonedx/bom-examples/VEX/CISA-Use-Cases/Case-1/vex-not_affected.json", FormatCycloneDX, 0, "", "", "not_affected", "", ""},
		{"sboms/cyclonedx/bom-examples/VEX/CISA-Use-Cases/Case-1/vex-affected.json", FormatCycloneDX, 0, "", "", "affected", "", ""},
		{"sboms/cyclonedx/bom-examples/VEX/vex.json", FormatCycloneDX, 0, "CVE-2020-25649", "", "not_affected", "", ""},
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.file), func(t *testing.T) {
			d, err := ReadFile(shared(t, c.file))
			if err != nil {
				t.Fatal(err)
			}
			if d.Format != c.format {
				t.Errorf("format %s, want %s", d.Format, c.format)
			}
			if len(d.Statements) == 0 || c.statements > 0 && len(d.Statements) != c.statements {
				t.Fatalf("%d statements, want %d; warnings %v", len(d.Statements), c.statements, d.Warnings)
			}
			i := slices.IndexFunc(d.Statements, func(s Statement) bool {
				return (c.vuln == "" || s.Vulnerability == c.vuln) && (c.comp == "" || s.Component.Key() == c.comp) && string(s.Status) == c.status
			})
			if i < 0 {
				t.Fatalf("no %s %s %s statement among %+v", c.vuln, c.comp, c.status, d.Statements)
			}
			if s := d.Statements[i]; c.justification != "" && string(s.Justification) != c.justification {
				t.Errorf("justification %q", s.Justification)
			}
			for _, s := range d.Statements {
				if err := s.Check(); err != nil {
					t.Errorf("statement read breaks the rules: %v", err)
				}
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	for name, data := range map[string]string{
		"empty":    "",
		"sbom":     `{"spdxVersion":"SPDX-2.3"}`,
		"csaf 2.1": `{"document":{"csaf_version":"2.1"}}`,
		"xml":      `<root/>`,
		"garbage":  `{not json`,
	} {
		if _, err := Parse(name, []byte(data)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzParse(f *testing.F) {
	// Small seeds: the fuzzer stalls on the multi-kilobyte documents Encode writes.
	f.Add([]byte(`{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"vulnerability":{"name":"CVE-2020-0001","aliases":["GO-1"]},
		"products":[{"@id":"pkg:generic/dev@1","subcomponents":[{"@id":"pkg:golang/a@v1"}]}],"status":"not_affected","justification":"component_not_present"}]}`))
	f.Add([]byte(`{"@context":"https://openvex.dev/ns","statements":[{"vulnerability":"CVE-1","products":["pkg:apk/a@1"],"status":"fixed"}]}`))
	f.Add([]byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","metadata":{"component":{"type":"device","bom-ref":"d","name":"dev"}},
		"components":[{"type":"library","bom-ref":"a","name":"a","version":"1","purl":"pkg:golang/a@1"}],
		"vulnerabilities":[{"id":"CVE-2020-0001","analysis":{"state":"exploitable","justification":"code_not_reachable"},"affects":[{"ref":"a"},{"ref":"d"}]}]}`))
	f.Add([]byte(`<bom xmlns="http://cyclonedx.org/schema/bom/1.6"><vulnerabilities><vulnerability><id>CVE-1</id><analysis><state>resolved</state></analysis>
		<affects><target><ref>urn:cdx:x/1#pkg:golang/a@1</ref></target></affects></vulnerability></vulnerabilities></bom>`))
	f.Add([]byte(`{"document":{"category":"csaf_vex","csaf_version":"2.0","tracking":{"id":"X"}},"product_tree":{"branches":[{"product":{"name":"dev","product_id":"D"}}],
		"full_product_names":[{"name":"a 1","product_id":"C","product_identification_helper":{"purl":"pkg:golang/a@1"}}],
		"relationships":[{"full_product_name":{"name":"a in dev","product_id":"C:D"},"product_reference":"C","relates_to_product_reference":"D"}],
		"product_groups":[{"group_id":"G","product_ids":["C:D","D"]}]},
		"vulnerabilities":[{"cve":"CVE-1","ids":[{"system_name":"OSV","text":"GO-1"}],"product_status":{"known_not_affected":["C:D"],"known_affected":["D"]},
		"flags":[{"label":"vulnerable_code_not_present","group_ids":["G"]}],"remediations":[{"category":"mitigation","details":"x","product_ids":["D"]}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse("fuzz", data)
		if err != nil {
			return
		}
		for _, s := range d.Statements {
			if err := s.Check(); err != nil {
				t.Fatalf("statement read breaks the rules: %v", err)
			}
		}
	})
}
