package sbom

import (
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var checkNow = time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)

func coverage(r *Report) map[string][2]int {
	out := map[string][2]int{}
	for _, c := range r.Elements {
		out[c.Element] = [2]int{c.Present, c.Total}
	}
	return out
}

func componentFindings(r *Report) map[string]int {
	out := map[string]int{}
	for _, cr := range r.Component {
		for _, f := range cr.Findings {
			out[f.Element+"/"+f.Severity]++
		}
	}
	return out
}

func findingsFor(r *Report, ref string) []Finding {
	for _, cr := range r.Component {
		if cr.Ref == ref {
			return cr.Findings
		}
	}
	return nil
}

func hasFinding(fs []Finding, elem, sev, msg string) bool {
	for _, f := range fs {
		if f.Element == elem && f.Severity == sev && strings.Contains(f.Message, msg) {
			return true
		}
	}
	return false
}

func equalMaps[V comparable](a, b map[string]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// The two medical-device SBOMs of the SBOM completeness case study: both name author and
// timestamp, give publisher, name, purl/CPE and a level of support for nearly every component,
// but no hashes, no end-of-support dates (only free text such as "Open source") and no
// dependency graph (every dependencies entry is empty).
func TestCheckMedicalSBOMs(t *testing.T) {
	needShared(t, sharedSBOMs)
	tests := []struct {
		file     string
		score    int
		counts   map[string]int
		coverage map[string][2]int
		findings map[string]int
	}{
		{
			file: "medical/sbom-completeness-case-study-narrow.sbom.json", score: 73,
			counts: map[string]int{"required": 62, "recommended": 56, "informational": 2},
			coverage: map[string][2]int{
				"author": {1, 1}, "timestamp": {1, 1}, "dependencies": {0, 55},
				"supplier": {55, 56}, "name": {56, 56}, "version": {54, 56}, "identifier": {55, 56},
				"hash": {0, 56}, "license": {55, 56}, "support": {54, 55}, "end-of-support": {0, 55},
			},
			findings: map[string]int{
				"hash/recommended": 56, "end-of-support/required": 55, "version/required": 2,
				"supplier/required": 1, "identifier/required": 1, "license/informational": 1, "support/required": 1,
			},
		},
		{
			file: "medical/sbom-completeness-case-study-extended.sbom.json", score: 72,
			counts: map[string]int{"required": 77, "recommended": 66, "informational": 2},
			coverage: map[string][2]int{
				"author": {1, 1}, "timestamp": {1, 1}, "dependencies": {0, 65},
				"supplier": {65, 66}, "name": {66, 66}, "version": {59, 66}, "identifier": {65, 66},
				"hash": {0, 66}, "license": {65, 66}, "support": {64, 65}, "end-of-support": {0, 65},
			},
			findings: map[string]int{
				"hash/recommended": 66, "end-of-support/required": 65, "version/required": 7,
				"supplier/required": 1, "identifier/required": 1, "license/informational": 1, "support/required": 1,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			doc, err := ParseFile(filepath.Join(sharedSBOMs, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			r := Check(doc, CheckOptions{Now: checkNow})
			if r.Score != tc.score {
				t.Errorf("score = %d, want %d", r.Score, tc.score)
			}
			if !equalMaps(r.Counts, tc.counts) {
				t.Errorf("counts = %v, want %v", r.Counts, tc.counts)
			}
			if got := coverage(r); !equalMaps(got, tc.coverage) {
				t.Errorf("coverage = %v\nwant       %v", got, tc.coverage)
			}
			if got := componentFindings(r); !equalMaps(got, tc.findings) {
				t.Errorf("component findings = %v\nwant %v", got, tc.findings)
			}
			if !hasFinding(r.Document, ElemDependencies, SeverityRequired, `the primary component "REDACTED" lists no direct dependencies`) {
				t.Errorf("no finding about the empty dependency graph: %+v", r.Document)
			}
			if !hasFinding(r.Document, ElemVulnerabilities, SeverityInformational, "not assessed here; run vigil scan") {
				t.Errorf("no note that vulnerabilities are not assessed: %+v", r.Document)
			}
			// The SBOM's free text is kept and shown: "End-of-Support: Open source" is not a date.
			var wolf *Component
			for i := range doc.Components {
				if doc.Components[i].Name == "WolfSSL" {
					wolf = &doc.Components[i]
				}
			}
			if wolf == nil || wolf.Support != SupportActive || wolf.EndOfSupport != "" || wolf.SupportNote != `end of support "Open source"` {
				t.Fatalf("WolfSSL support = %+v", wolf)
			}
			if !hasFinding(findingsFor(r, wolf.Ref), ElemEndOfSupport, SeverityRequired, `no end-of-support date (the SBOM says: end of support "Open source")`) {
				t.Errorf("WolfSSL findings = %+v", findingsFor(r, wolf.Ref))
			}
			for _, f := range append(r.Document, r.Component[0].Findings...) {
				if f.Fix == "" || f.Source == "" {
					t.Errorf("finding without fix or source: %+v", f)
				}
			}
		})
	}
}

// Support levels as the medical SBOMs write them map onto the FDA terms.
func TestNormalizeSupport(t *testing.T) {
	for in, want := range map[string]string{
		"Actively maintained": SupportActive, "actively-maintained": SupportActive, "ACTIVE": SupportActive,
		"no longer maintained": SupportEnded, "Deprecated": SupportEnded, "End-of-Life": SupportEnded,
		"Inactive": SupportAbandoned, "abandoned": SupportAbandoned,
		"Unknown": SupportUnknown, "NOASSERTION": SupportUnknown,
	} {
		if got, ok := NormalizeSupport(in); got != want || !ok {
			t.Errorf("NormalizeSupport(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if got, ok := NormalizeSupport("community"); got != SupportUnknown || ok {
		t.Errorf("unknown text: %q %v", got, ok)
	}
	for in, want := range map[string]string{"2027-01-31": "2027-01-31", "2027-01-31T23:00:00Z": "2027-01-31", "2027-02-01T01:00:00+02:00": "2027-01-31"} {
		if got, ok := ParseSupportDate(in); got != want || !ok {
			t.Errorf("ParseSupportDate(%q) = %q %v", in, got, ok)
		}
	}
	for _, in := range []string{"Open source", "2027", "31.01.2027", ""} {
		if _, ok := ParseSupportDate(in); ok {
			t.Errorf("ParseSupportDate(%q) accepted", in)
		}
	}
}

func TestCheckFindings(t *testing.T) {
	doc, err := ParseFile("testdata/infusion-pump.cdx.json")
	if err != nil {
		t.Fatal(err)
	}
	r := Check(doc, CheckOptions{Now: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)})
	tests := []struct {
		ref, elem, sev, msg string
	}{
		{"vigil:component-6", ElemVersion, SeverityRequired, `version is "unknown"`},
		{"vigil:component-6", ElemIdentifier, SeverityRequired, `purl "not a purl" is not a valid package URL`},
		{"vigil:component-6", ElemSupport, SeverityRequired, "no level of support"},
		{"zlib", ElemSupplier, SeverityRequired, "no supplier"},
		{"zlib", ElemEndOfSupport, SeverityRequired, "no end-of-support date although support has ended (the SBOM says: justification: cdx:fda:end-of-support-date: upstream publishes no support dates)"},
		{"openssl", ElemEndOfSupport, SeverityRecommended, "end of support 2026-09-07 has passed, yet the level of support says actively maintained"},
		{"freertos", ElemSupport, SeverityRequired, "no level of support"},
		{"freertos-tcp", ElemLicense, "", ""},
	}
	for _, tc := range tests {
		fs := findingsFor(r, tc.ref)
		if tc.sev == "" {
			if hasFinding(fs, tc.elem, SeverityInformational, "") {
				t.Errorf("%s: unexpected %s finding", tc.ref, tc.elem)
			}
			continue
		}
		if !hasFinding(fs, tc.elem, tc.sev, tc.msg) {
			t.Errorf("%s: no %s %s finding %q in %+v", tc.ref, tc.sev, tc.elem, tc.msg, fs)
		}
	}
	// The primary component (the device) is not asked for support data.
	for _, f := range findingsFor(r, "pump-fw") {
		if f.Element == ElemSupport || f.Element == ElemEndOfSupport {
			t.Errorf("support finding on the primary component: %+v", f)
		}
	}
	cov := coverage(r)
	// Nesting links FreeRTOS-Plus-TCP to the product; vendored-parser is linked by nothing.
	if cov[ElemDependencies] != [2]int{4, 5} || cov[ElemSupport] != [2]int{2, 5} || cov[ElemEndOfSupport] != [2]int{2, 5} {
		t.Errorf("coverage = %v", cov)
	}
	if !hasFinding(r.Document, ElemDependencies, SeverityRequired, "1 of 5 components are not reachable from the primary component through dependencies or nesting (e.g. vendored-parser unknown)") {
		t.Errorf("document findings = %+v", r.Document)
	}
	// Score by hand: required elements (weight 10) author 1, timestamp 1, dependencies 4/5,
	// supplier 3/6, name 1, version 5/6, identifier 5/6, support 2/5, EOS 2/5; hash (weight 5) 3/6.
	raw := 100 * (10*(1+1+0.8+0.5+1+5.0/6+5.0/6+0.4+0.4) + 5*0.5) / 95
	want := int(math.Round(raw))
	if r.Score != want {
		t.Errorf("score = %d, want %d", r.Score, want)
	}
}

func TestCheckPerfectAndEmpty(t *testing.T) {
	doc := &Document{
		Format: FormatCycloneDX, Authors: []string{"Acme"}, Timestamp: checkNow, Root: "app",
		Components: []Component{
			{Ref: "app", Name: "app", Version: "1", PURL: "pkg:generic/app@1", Supplier: "Acme", Hashes: []Hash{{"SHA-256", "ab"}}, Licenses: []string{"MIT"}},
			{Ref: "lib", Name: "lib", Version: "2", CPE: "cpe:2.3:a:x:lib:2:*:*:*:*:*:*:*", Supplier: "X", Hashes: []Hash{{"SHA-256", "cd"}}, Licenses: []string{"MIT"},
				Support: SupportActive, EndOfSupport: "2030-01-01"},
		},
		Dependencies: []Dependency{{Ref: "app", DependsOn: []string{"lib"}}},
	}
	r := Check(doc, CheckOptions{Now: checkNow})
	if r.Score != 100 || len(r.Component) != 0 || r.Counts[SeverityRequired] != 0 || r.Counts[SeverityRecommended] != 0 {
		t.Errorf("perfect SBOM: score %d, counts %v, findings %+v %+v", r.Score, r.Counts, r.Document, r.Component)
	}

	// A VEX document without components is scored on author and timestamp only.
	vex := &Document{Format: FormatCycloneDX, Timestamp: checkNow, Components: []Component{}}
	r = Check(vex, CheckOptions{Now: checkNow})
	if r.Score != 50 || r.Components != 0 {
		t.Errorf("VEX: score %d", r.Score)
	}
	for _, c := range r.Elements {
		if c.Level == "component" && c.Total != 0 {
			t.Errorf("VEX: %s total %d", c.Element, c.Total)
		}
	}
	if !hasFinding(r.Document, ElemAuthor, SeverityRequired, "no author is named") {
		t.Errorf("VEX findings %+v", r.Document)
	}

	// Tools alone are no author; a future timestamp is suspicious; no graph at all.
	doc2 := &Document{Format: FormatSPDX, Tools: []string{"syft 1.0"}, Timestamp: checkNow.Add(72 * time.Hour),
		Components: []Component{{Ref: "a", Name: "a"}, {Ref: "b", Name: "b"}}}
	r = Check(doc2, CheckOptions{Now: checkNow})
	for _, want := range []struct{ elem, sev, msg string }{
		{ElemAuthor, SeverityRequired, "only the tool (syft 1.0)"},
		{ElemTimestamp, SeverityRecommended, "is in the future"},
		{ElemDependencies, SeverityRequired, "states no dependency relationships between its 2 components"},
	} {
		if !hasFinding(r.Document, want.elem, want.sev, want.msg) {
			t.Errorf("no %s finding %q in %+v", want.elem, want.msg, r.Document)
		}
	}
	// Fix texts speak the SBOM's own format.
	for _, f := range r.Document {
		if f.Element == ElemAuthor && !strings.Contains(f.Fix, "Creator: Organization:") {
			t.Errorf("SPDX author fix = %q", f.Fix)
		}
	}
}

func TestValidIdentifiers(t *testing.T) {
	for _, p := range []string{"pkg:npm/%40angular/core@16.0.0", "pkg:golang/github.com/a/b@v1.0.0", "pkg:generic/openssl@3.0.13?download_url=https://x"} {
		if err := ValidPURL(p); err != nil {
			t.Errorf("ValidPURL(%q) = %v", p, err)
		}
	}
	for _, p := range []string{"not a purl", "pkg:", "pkg:npm", "npm/x@1", ""} {
		if ValidPURL(p) == nil {
			t.Errorf("ValidPURL(%q) accepted", p)
		}
	}
	for _, c := range []string{"cpe:2.3:a:openssl:openssl:3.0.13:*:*:*:*:*:*:*", `cpe:2.3:a:x:a\:b:1:*:*:*:*:*:*:*`, "cpe:/a:example:lib:2.0", "cpe:/o:linux"} {
		if err := ValidCPE(c); err != nil {
			t.Errorf("ValidCPE(%q) = %v", c, err)
		}
	}
	for _, c := range []string{"cpe:2.3:a:openssl", "cpe:2.3:x:a:b:c:*:*:*:*:*:*:*", "cpe:/x:a", "openssl"} {
		if ValidCPE(c) == nil {
			t.Errorf("ValidCPE(%q) accepted", c)
		}
	}
}
