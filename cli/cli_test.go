package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-med/vigil/internal/schemacheck"
)

type run struct {
	code           int
	stdout, stderr string
}

func vigil(t *testing.T, args ...string) run {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return run{code, out.String(), errb.String()}
}

const example = "../examples/insulin-pump.yaml"

func TestApplicabilityJSONFollowsContract(t *testing.T) {
	r := vigil(t, "applicability", example, "--format", "json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if err := schemacheck.Validate("testdata/applicability.schema.json", []byte(r.stdout)); err != nil {
		t.Fatalf("output breaks the contract schema: %v", err)
	}
	var doc struct {
		Schema  string `json:"schema"`
		Device  string `json:"device"`
		Regimes []struct {
			ID      string `json:"id"`
			Applies bool   `json:"applies"`
		} `json:"regimes"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("stdout is not one JSON document: %v", err)
	}
	if doc.Schema != "vigil/applicability/v1" || doc.Device != "InsuPump X2" {
		t.Errorf("schema/device = %q/%q", doc.Schema, doc.Device)
	}
	got := map[string]bool{}
	for _, r := range doc.Regimes {
		got[r.ID] = r.Applies
	}
	for id, want := range map[string]bool{"us.fdca-524b": true, "eu.mdr": true, "eu.ivdr": false, "eu.cra": false, "eu.nis2": true, "uk.psti": false, "ca.mdr-reporting": true} {
		if got[id] != want {
			t.Errorf("%s applies = %v, want %v", id, got[id], want)
		}
	}
}

func TestApplicabilityTableAndMarkdown(t *testing.T) {
	r := vigil(t, "applicability", example)
	if r.code != 0 || !strings.Contains(r.stdout, "us.fdca-524b") || !strings.Contains(r.stdout, "15 of 20 regimes apply") {
		t.Fatalf("table output (exit %d):\n%s%s", r.code, r.stdout, r.stderr)
	}
	md := vigil(t, "applicability", example, "-f", "markdown")
	if md.code != 0 || !strings.HasPrefix(md.stdout, "# Regulatory applicability: InsuPump X2 2.1.0") || !strings.Contains(md.stdout, "## European Union") {
		t.Fatalf("markdown output:\n%.500s", md.stdout)
	}
}

func TestBadProfilesExit2WithLocatedMessage(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct{ old, new, want string }{
		"unknown.yaml": {"  kind: simd", "  kindd: simd", `unknown.yaml:13: device.kindd: unknown field "kindd"`},
		"enum.yaml":    {"regulation: mdr, class: IIb", "regulation: mdr, class: IIc", `enum.yaml:31: markets.eu.class: expected one of I, Is, Im, Ir, IIa, IIb, III, found "IIc"`},
		"missing.yaml": {"name: InsuPump X2\n", "", `missing.yaml:3: name: required`},
		"syntax.yaml":  {"  kind: simd", "  kind: 'simd", `syntax.yaml:`},
	}
	for name, c := range cases {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(strings.Replace(string(src), c.old, c.new, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"applicability", path, "--format", "json"}, {"profile", "validate", path}, {"controls", path}} {
			r := vigil(t, args...)
			if r.code != 2 {
				t.Errorf("%v: exit %d, want 2", args, r.code)
			}
			if r.stdout != "" {
				t.Errorf("%v: printed on stdout: %q", args, r.stdout)
			}
			if !strings.Contains(r.stderr, strings.Replace(c.want, name, path, 1)) {
				t.Errorf("%v: stderr %q lacks %q", args, r.stderr, c.want)
			}
		}
	}
	r := vigil(t, "applicability", filepath.Join(dir, "absent.yaml"))
	if r.code != 2 || !strings.Contains(r.stderr, "absent.yaml: cannot read") {
		t.Errorf("missing file: exit %d, %q", r.code, r.stderr)
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{
		{"applicability"},
		{"applicability", example, "--format", "xml"},
		{"nosuchcommand"},
		{"catalog", "show", "us.nothing.here"},
		{"catalog", "list", "--market", "JP"},
		{"catalog", "export", "--format", "pdf"},
		{"profile", "init", "--kind", "robot"},
	} {
		r := vigil(t, args...)
		if r.code != 2 || r.stdout != "" || r.stderr == "" {
			t.Errorf("%v: exit %d stdout %q stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
}

func TestProfileValidateExamples(t *testing.T) {
	files, _ := filepath.Glob("../examples/*.yaml")
	r := vigil(t, append([]string{"profile", "validate"}, files...)...)
	if r.code != 0 || strings.Count(r.stdout, ": ok (") != len(files) {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestProfileInitWritesValidProfile(t *testing.T) {
	dir := t.TempDir()
	for _, kind := range []string{"simd", "samd", "ivd-simd", "ivd-samd", "accessory", "non-device"} {
		path := filepath.Join(dir, kind+".yaml")
		args := []string{"profile", "init", "--kind", kind, "--name", "Dev " + kind, "-o", path}
		if kind == "non-device" {
			args = append(args, "--markets", "eu,uk")
		}
		if r := vigil(t, args...); r.code != 0 {
			t.Fatalf("init %s: exit %d %s", kind, r.code, r.stderr)
		}
		if r := vigil(t, "profile", "validate", path); r.code != 0 {
			t.Errorf("init %s wrote an invalid profile: %s", kind, r.stderr)
		}
		if r := vigil(t, "applicability", path, "-f", "json"); r.code != 0 {
			t.Errorf("applicability on init %s: %s", kind, r.stderr)
		}
	}
	// It does not overwrite without --force.
	path := filepath.Join(dir, "samd.yaml")
	if r := vigil(t, "profile", "init", "-o", path); r.code != 2 || !strings.Contains(r.stderr, "--force") {
		t.Errorf("overwrite: exit %d %q", r.code, r.stderr)
	}
	if r := vigil(t, "profile", "init", "-o", path, "--force"); r.code != 0 {
		t.Errorf("--force: exit %d %q", r.code, r.stderr)
	}
}

func TestControlsMatrix(t *testing.T) {
	r := vigil(t, "controls", example, "--format", "json")
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	var m struct {
		Controls []struct {
			ID      string                      `json:"id"`
			Markets map[string][]map[string]any `json:"markets"`
		} `json:"controls"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Controls) != 24 {
		t.Fatalf("%d controls", len(m.Controls))
	}
	for _, c := range m.Controls {
		if c.ID == "CO-21" && (len(c.Markets["EU"]) == 0 || len(c.Markets["US"]) == 0) {
			t.Errorf("incident reporting control lacks EU or US clauses: %v", c.Markets)
		}
	}
	tbl := vigil(t, "controls", example)
	if tbl.code != 0 || !strings.Contains(tbl.stdout, "CO-05") || !strings.Contains(tbl.stdout, "us.fdca-524b.sbom") {
		t.Errorf("table:\n%.800s", tbl.stdout)
	}
}

func TestCatalogCommands(t *testing.T) {
	list := vigil(t, "catalog", "list")
	if list.code != 0 || strings.Count(list.stdout, "\n") != 21 || !strings.Contains(list.stderr, "20 regimes") {
		t.Fatalf("catalog list:\n%s%s", list.stdout, list.stderr)
	}
	reqs := vigil(t, "catalog", "list", "eu.nis2")
	if reqs.code != 0 || !strings.Contains(reqs.stdout, "NIS2 Art. 21(2)") {
		t.Errorf("catalog list eu.nis2:\n%s", reqs.stdout)
	}
	sbom := vigil(t, "catalog", "list", "--control", "sbom", "--format", "json")
	var doc struct {
		Requirements []struct{ ID string } `json:"requirements"`
	}
	if err := json.Unmarshal([]byte(sbom.stdout), &doc); err != nil || len(doc.Requirements) < 4 {
		t.Errorf("catalog list --control sbom: %v %d", err, len(doc.Requirements))
	}
	show := vigil(t, "catalog", "show", "us.fdca-524b.sbom")
	if show.code != 0 || !strings.Contains(show.stdout, "524B(b)(3)") || !strings.Contains(show.stdout, "CO-05") {
		t.Errorf("catalog show:\n%s", show.stdout)
	}
	ctl := vigil(t, "catalog", "show", "sbom")
	if ctl.code != 0 || !strings.Contains(ctl.stdout, "CO-05") || !strings.Contains(ctl.stdout, "EU ") {
		t.Errorf("catalog show sbom:\n%s", ctl.stdout)
	}
	reg := vigil(t, "catalog", "show", "us.fda-premarket")
	if reg.code != 0 || !strings.Contains(reg.stdout, "superseded") {
		t.Errorf("catalog show us.fda-premarket lacks version history:\n%.1500s", reg.stdout)
	}
	exp := vigil(t, "catalog", "export")
	if exp.code != 0 {
		t.Fatal(exp.stderr)
	}
	if err := schemacheck.Validate("testdata/catalog.schema.json", []byte(exp.stdout)); err != nil {
		t.Errorf("export breaks the contract schema: %v", err)
	}
	out := filepath.Join(t.TempDir(), "catalog.oscal.json")
	if r := vigil(t, "catalog", "export", "--format", "oscal", "-o", out); r.code != 0 || r.stdout != "" {
		t.Fatalf("export oscal: %d %s", r.code, r.stderr)
	}
	if fi, err := os.Stat(out); err != nil || fi.Size() < 100000 {
		t.Errorf("OSCAL file: %v", err)
	}
	csv := vigil(t, "catalog", "export", "-f", "csv")
	if csv.code != 0 || !strings.HasPrefix(csv.stdout, "regime,jurisdiction,force,requirement") {
		t.Errorf("csv: %.200s", csv.stdout)
	}
}

func TestVersion(t *testing.T) {
	r := vigil(t, "--version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "vigil ") {
		t.Errorf("%+v", r)
	}
}
