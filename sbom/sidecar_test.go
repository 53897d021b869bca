package sbom

import (
	"errors"
	"strings"
	"testing"

	"github.com/vigil-med/vigil/internal/yamlfile"
)

func TestSidecarApply(t *testing.T) {
	doc, err := ParseFile("testdata/infusion-pump.cdx.json")
	if err != nil {
		t.Fatal(err)
	}
	before := Check(doc, CheckOptions{Now: checkNow})
	side, err := ReadSidecar("testdata/infusion-pump.support.yaml")
	if err != nil {
		t.Fatal(err)
	}
	unmatched := side.Apply(doc)
	if len(unmatched) != 1 || unmatched[0].Name != "libpng" || unmatched[0].Describe() != "line 21: libpng 1.6.37" {
		t.Errorf("unmatched = %+v", unmatched)
	}
	got := map[string][4]string{}
	for _, c := range doc.Components {
		got[c.Ref] = [4]string{c.Support, c.EndOfSupport, c.SupportNote, c.SupportSource}
	}
	want := map[string][4]string{
		"pump-fw":           {"", "", "", ""},
		"openssl":           {SupportActive, "2026-09-07", "", "sbom"},
		"freertos":          {SupportActive, "2027-12-31", "", "sidecar"}, // date from the SBOM, level from the sidecar
		"freertos-tcp":      {SupportActive, "2027-12-31", "", "sidecar"},
		"zlib":              {SupportEnded, "2022-10-13", "", "sidecar"}, // the SBOM's justification is superseded
		"vigil:component-6": {SupportAbandoned, "", "forked in 2019, maintained in-house; no end-of-support date", "sidecar"},
	}
	if !equalMaps(got, want) {
		t.Errorf("support after sidecar:\n got %v\nwant %v", got, want)
	}
	after := Check(doc, CheckOptions{Now: checkNow})
	if c := coverage(after); c[ElemSupport] != [2]int{5, 5} || c[ElemEndOfSupport] != [2]int{4, 5} {
		t.Errorf("coverage after sidecar = %v", c)
	}
	if after.Score <= before.Score {
		t.Errorf("score %d -> %d: the sidecar should raise it", before.Score, after.Score)
	}
	if !hasFinding(findingsFor(after, "zlib"), ElemEndOfSupport, SeverityInformational, "support ended on 2022-10-13") {
		t.Errorf("zlib findings %+v", findingsFor(after, "zlib"))
	}
}

func TestSidecarSpecificEntryWins(t *testing.T) {
	doc := &Document{Components: []Component{
		{Ref: "a", Name: "lib", Version: "1.0", PURL: "pkg:npm/lib@1.0"},
		{Ref: "b", Name: "lib", Version: "2.0", PURL: "pkg:npm/lib@2.0?arch=x86"},
	}}
	side, err := ParseSidecar("s.yaml", []byte(`schema: vigil/sbom-support/v1
components:
  - purl: pkg:npm/lib@2.0
    support: no-longer-maintained
  - purl: pkg:npm/lib
    support: actively-maintained
  - name: LIB
    version: "1.0"
    end_of_support: 2030-01-01
`))
	if err != nil {
		t.Fatal(err)
	}
	if u := side.Apply(doc); len(u) != 0 {
		t.Errorf("unmatched %+v", u)
	}
	if a := doc.Components[0]; a.EndOfSupport != "2030-01-01" || a.Support != "" {
		t.Errorf("a = %+v (the name+version entry is more specific than the versionless purl)", a)
	}
	if b := doc.Components[1]; b.Support != SupportEnded {
		t.Errorf("b = %+v (qualifiers do not prevent a match)", b)
	}
}

func TestSidecarErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"wrong schema", "schema: vigil/sbom-support/v2\ncomponents: []\n", `s.yaml:1: schema: is "vigil/sbom-support/v2"; expected "vigil/sbom-support/v1"`},
		{"unknown field", "schema: vigil/sbom-support/v1\ncomponents:\n  - name: x\n    suport: abandoned\n", `s.yaml:4: components[0].suport: unknown field "suport"`},
		{"bad level", "schema: vigil/sbom-support/v1\ncomponents:\n  - name: x\n    support: maintained\n", `s.yaml:4: components[0].support: is "maintained"; expected one of actively-maintained, no-longer-maintained, abandoned, unknown`},
		{"bad date", "schema: vigil/sbom-support/v1\ncomponents:\n  - name: x\n    end_of_support: 31.12.2027\n", `s.yaml:4: components[0].end_of_support: is "31.12.2027"; expected a date YYYY-MM-DD`},
		{"timestamp is not a date", "schema: vigil/sbom-support/v1\ncomponents:\n  - name: x\n    end_of_support: \"2027-12-31T00:00:00Z\"\n", `expected a date YYYY-MM-DD`},
		{"no key", "schema: vigil/sbom-support/v1\ncomponents:\n  - support: abandoned\n", `s.yaml:3: components[0]: expected purl, or name (and optionally version), to find the component`},
		{"both keys", "schema: vigil/sbom-support/v1\ncomponents:\n  - purl: pkg:npm/x@1\n    name: x\n    support: abandoned\n", `give either purl or name/version, not both`},
		{"bad purl", "schema: vigil/sbom-support/v1\ncomponents:\n  - purl: npm/x\n    support: abandoned\n", `s.yaml:3: components[0].purl: "npm/x" is not a valid package URL`},
		{"nothing to say", "schema: vigil/sbom-support/v1\ncomponents:\n  - name: x\n", `expected at least one of support, end_of_support, note`},
		{"duplicate", "schema: vigil/sbom-support/v1\ncomponents:\n  - name: x\n    support: abandoned\n  - name: X\n    support: unknown\n", `s.yaml:5: components[1]: matches the same components as components[0]`},
		{"anchors", "schema: vigil/sbom-support/v1\ncomponents:\n  - &a {name: x, support: abandoned}\n  - *a\n", "anchors and aliases"},
		{"not a list", "schema: vigil/sbom-support/v1\ncomponents: x\n", "s.yaml:2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSidecar("s.yaml", []byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v\nwant %q", err, tc.want)
			}
			var one *yamlfile.Error
			var many yamlfile.Errors
			if !errors.As(err, &one) && !errors.As(err, &many) {
				t.Errorf("error %T is not a yamlfile error", err)
			}
		})
	}
}

// A template lists every component and reads back as a valid sidecar.
func TestSidecarTemplate(t *testing.T) {
	doc, err := ParseFile("testdata/infusion-pump.cdx.json")
	if err != nil {
		t.Fatal(err)
	}
	out, err := Template(doc).YAML()
	if err != nil {
		t.Fatal(err)
	}
	side, err := ParseSidecar("template.yaml", out)
	if err != nil {
		t.Fatalf("template does not read back: %v\n%s", err, out)
	}
	if len(side.Components) != 5 {
		t.Errorf("template has %d entries, want 5 (all but the device):\n%s", len(side.Components), out)
	}
	for _, want := range []string{"purl: pkg:generic/openssl@3.0.13", "end_of_support: \"2026-09-07\"", "name: vendored-parser", "support: unknown"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("template lacks %q:\n%s", want, out)
		}
	}
	if u := side.Apply(doc); len(u) != 0 {
		t.Errorf("template entries match nothing: %+v", u)
	}
}
