package catalog

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/vigil-med/vigil/internal/yamlfile"
)

func dataFS(t *testing.T) fs.FS {
	t.Helper()
	sub, err := fs.Sub(embedded, "data")
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

// TestRegimeFiles checks each regime file on its own, so an author sees only the problems of the
// file they are writing: go test ./catalog/ -run 'TestRegimeFiles/eu-nis2'.
func TestRegimeFiles(t *testing.T) {
	fsys := dataFS(t)
	_, loadErr := Load(fsys)
	var all yamlfile.Errors
	if loadErr != nil && !errors.As(loadErr, &all) {
		t.Fatalf("load: %v", loadErr)
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		t.Run(strings.TrimSuffix(name, ".yaml"), func(t *testing.T) {
			for _, fe := range all {
				if fe.File == name {
					t.Error(fe)
				}
			}
		})
	}
}

func TestCatalogLoads(t *testing.T) {
	c, err := Default()
	if err != nil {
		t.Fatalf("embedded catalog does not load:\n%v", err)
	}
	if len(c.Regimes) != len(RegimeIDs) {
		t.Fatalf("got %d regimes, want %d", len(c.Regimes), len(RegimeIDs))
	}
	for i, r := range c.Regimes {
		if r.ID != RegimeIDs[i] {
			t.Errorf("regime %d is %s, want %s (contract order)", i, r.ID, RegimeIDs[i])
		}
	}
	n := len(c.Requirements())
	if n < 250 {
		t.Errorf("catalog has %d requirements; the domain reference supports a few hundred", n)
	}
	for _, ctl := range c.Controls {
		if len(ctl.Requirements) == 0 {
			t.Errorf("control %s maps no requirement", ctl.ID)
		}
	}
	// Every market has requirements for the model control objectives.
	for _, id := range []string{"CO-05", "CO-06", "CO-21"} {
		ctl, _ := c.Control(id)
		markets := map[string]bool{}
		for _, req := range ctl.Requirements {
			r, _ := c.Regime(req.Regime)
			markets[r.Jurisdiction] = true
		}
		for _, m := range Markets {
			if !markets[m] {
				t.Errorf("control %s has no requirement in market %s", id, m)
			}
		}
	}
	// The FDA premarket guidance carries its version history (2023 -> 2025 -> 2026).
	fda, _ := c.Regime("us.fda-premarket")
	if len(fda.History) < 4 {
		t.Errorf("us.fda-premarket history has %d versions, want the 2014..2025 line", len(fda.History))
	}
	// UNVERIFIED flags from the domain reference survive as data.
	unverified := 0
	for _, req := range c.Requirements() {
		if req.Unverified() {
			unverified++
		}
	}
	if unverified == 0 {
		t.Error("no requirement is flagged unverified; the domain reference has several")
	}
}

func TestControlLookup(t *testing.T) {
	c := MustDefault()
	for _, q := range []string{"CO-05", "co-05", "sbom", "SBOM"} {
		ctl, ok := c.Control(q)
		if !ok || ctl.ID != "CO-05" {
			t.Errorf("Control(%q) = %v, %v; want CO-05", q, ctl, ok)
		}
	}
	if _, ok := c.Control("CO-99"); ok {
		t.Error("Control(CO-99) found something")
	}
}

// base is a minimal valid catalog; each bad case below breaks one thing in it.
func base() fstest.MapFS {
	files := fstest.MapFS{
		"catalog.yaml":  {Data: []byte("catalog_version: 2026.11.0\nreleased: 2026-11-28\nfiles: [eu-nis2.yaml]\n")},
		"controls.yaml": {Data: []byte("controls:\n  - {id: CO-01, key: sdl, title: SDL, description: d}\n")},
		"evidence.yaml": {Data: []byte("evidence:\n  - {key: policy, title: Policy, description: d}\n")},
	}
	files["eu-nis2.yaml"] = &fstest.MapFile{Data: []byte(regimeYAML)}
	return files
}

const regimeYAML = `id: eu.nis2
title: Directive (EU) 2022/2555
short_title: NIS2
issuer: European Parliament and Council
jurisdiction: EU
force: directive
version: "2022"
effective: 2024-10-18
source: https://eur-lex.europa.eu/eli/dir/2022/2555/oj
summary: s
scope: s
confidence: verified
requirements:
  - id: eu.nis2.art21-2-a
    title: Risk analysis policies
    summary: s
    citations: [NIS2 Art. 21(2)(a)]
    evidence: [policy]
    controls: {CO-01: subset}
`

func TestLoadRejects(t *testing.T) {
	tests := []struct {
		name    string
		old     string
		new     string
		wantMsg string
		line    int
	}{
		{"unknown field", "    title: Risk analysis policies\n", "    title: Risk analysis policies\n    titel: typo\n", `unknown field "titel"`, 16},
		{"dangling control", "CO-01: subset", "CO-77: subset", `unknown control objective "CO-77"`, 19},
		{"bad mapping", "CO-01: subset", "CO-01: same", `expected mapping equal, subset, superset, related`, 19},
		{"dangling evidence", "evidence: [policy]", "evidence: [polcy]", `unknown evidence type "polcy"`, 18},
		{"no citation", "citations: [NIS2 Art. 21(2)(a)]", "citations: []", "expected at least one citation", 17},
		{"missing citations", "    citations: [NIS2 Art. 21(2)(a)]\n", "", "expected at least one citation", 0},
		{"wrong regime prefix", "id: eu.nis2.art21-2-a", "id: eu.gdpr.art21-2-a", "expected eu.nis2.<slug>", 14},
		{"unknown regime", "id: eu.nis2\n", "id: eu.nis3\n", "expected one of the contract regime IDs", 1},
		{"bad force", "force: directive", "force: law", "expected one of statute, regulation, directive, guidance, standard", 6},
		{"bad date", "effective: 2024-10-18", "effective: 18.10.2024", "expected a date YYYY-MM-DD", 8},
		{"unverified without note", "    controls: {CO-01: subset}\n", "    controls: {CO-01: subset}\n    confidence: unverified\n", "required when confidence is unverified", 0},
		{"bad clock", "    controls: {CO-01: subset}\n", "    controls: {CO-01: subset}\n    clock: {trigger: t, recipient: r, deadlines: [{obligation: o, within: 24h, calendar: hours, from: awareness}]}\n", "not an ISO 8601 duration", 0},
		{"bad condition", "    controls: {CO-01: subset}\n", "    controls: {CO-01: subset}\n    when: {eu_class: [IIc]}\n", `expected one of I, Is, Im, Ir, IIa, IIb, III, found "IIc"`, 0},
		{"duplicate id", "    controls: {CO-01: subset}\n", "    controls: {CO-01: subset}\n  - id: eu.nis2.art21-2-a\n    title: t\n    summary: s\n    citations: [c]\n    evidence: [policy]\n    controls: {CO-01: equal}\n", `duplicate requirement ID "eu.nis2.art21-2-a"`, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := base()
			src := string(fsys["eu-nis2.yaml"].Data)
			if !strings.Contains(src, tt.old) {
				t.Fatalf("fixture lacks %q", tt.old)
			}
			fsys["eu-nis2.yaml"] = &fstest.MapFile{Data: []byte(strings.Replace(src, tt.old, tt.new, 1))}
			_, err := Load(fsys)
			if err == nil {
				t.Fatal("Load accepted a broken catalog")
			}
			var found *yamlfile.Error
			var es yamlfile.Errors
			if errors.As(err, &es) {
				for _, e := range es {
					if strings.Contains(e.Msg, tt.wantMsg) {
						found = e
					}
				}
			} else if e := new(yamlfile.Error); errors.As(err, &e) && strings.Contains(e.Msg, tt.wantMsg) {
				found = e
			}
			if found == nil {
				t.Fatalf("error does not say %q:\n%v", tt.wantMsg, err)
			}
			if found.File != "eu-nis2.yaml" {
				t.Errorf("error names file %q, want eu-nis2.yaml", found.File)
			}
			if tt.line != 0 && found.Line != tt.line {
				t.Errorf("error at line %d, want %d: %v", found.Line, tt.line, found)
			}
		})
	}
}

func TestLoadBaseFixture(t *testing.T) {
	// The fixture itself is valid apart from the 19 regimes it leaves out.
	_, err := Load(base())
	var es yamlfile.Errors
	if !errors.As(err, &es) {
		t.Fatalf("want only missing-regime errors, got %v", err)
	}
	for _, e := range es {
		if !strings.Contains(e.Msg, "has no file") {
			t.Errorf("unexpected error: %v", e)
		}
	}
	if len(es) != len(RegimeIDs)-1 {
		t.Errorf("got %d errors, want %d missing regimes", len(es), len(RegimeIDs)-1)
	}
}
