package applicability

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-med/vigil/catalog"
	"github.com/vigil-med/vigil/internal/schemacheck"
	"github.com/vigil-med/vigil/profile"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func evaluate(t *testing.T, p *profile.Profile) *Result {
	t.Helper()
	res, err := Evaluate(catalog.MustDefault(), p)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestGolden renders every example profile as JSON and markdown and compares with testdata/.
// Run `go test ./applicability -update` after a deliberate change, and read the diff.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("../examples/*.yaml")
	if err != nil || len(files) < 6 {
		t.Fatalf("want at least 6 example profiles, found %d (%v)", len(files), err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			p, err := profile.LoadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			res := evaluate(t, p)
			var js bytes.Buffer
			enc := json.NewEncoder(&js)
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			if err := enc.Encode(res); err != nil {
				t.Fatal(err)
			}
			if err := schemacheck.Validate("testdata/applicability.schema.json", js.Bytes()); err != nil {
				t.Errorf("JSON output breaks the contract schema: %v", err)
			}
			var md bytes.Buffer
			if err := WriteMarkdown(&md, catalog.MustDefault(), res); err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", name+".json"), js.Bytes())
			golden(t, filepath.Join("testdata", name+".md"), md.Bytes())
		})
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./applicability -update to create it)", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s differs from output (-want +got):\n%s", path, d)
	}
}

func TestEveryRegimeOnceInContractOrder(t *testing.T) {
	p, _ := profile.LoadFile("../examples/insulin-pump.yaml")
	res := evaluate(t, p)
	if len(res.Regimes) != len(catalog.RegimeIDs) {
		t.Fatalf("%d regimes, want %d", len(res.Regimes), len(catalog.RegimeIDs))
	}
	for i, r := range res.Regimes {
		if r.ID != catalog.RegimeIDs[i] {
			t.Errorf("regime %d = %s, want %s", i, r.ID, catalog.RegimeIDs[i])
		}
		if len(r.Rationale) < 10 {
			t.Errorf("%s: rationale %q too short", r.ID, r.Rationale)
		}
	}
	if len(res.Requirements) != len(catalog.MustDefault().Requirements()) {
		t.Errorf("requirements list has %d entries, catalog %d", len(res.Requirements), len(catalog.MustDefault().Requirements()))
	}
}

// base returns a minimal device profile to vary in rule tests.
func base(t *testing.T, mutate ...func(*profile.Profile)) *profile.Profile {
	t.Helper()
	src := `schema: vigil/device/v1
name: T
manufacturer: {name: M, employees: 120, annual_turnover_eur: 20000000, balance_sheet_eur: 15000000, established_in: [DE]}
device:
  kind: simd
  software: true
  connectivity: {internet: false, interfaces: [none]}
  data: {personal: false, health: false}
markets:
  us: {class: II, submission: 510k}
  ca: {class: II}
  eu: {regulation: mdr, class: IIa}
  uk: {class: IIa, marking: ukca}
`
	p, err := profile.Parse("t.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mutate {
		m(p)
	}
	return p
}

func verdictOf(t *testing.T, p *profile.Profile, id string) RegimeResult {
	t.Helper()
	r, ok := evaluate(t, p).Regime(id)
	if !ok {
		t.Fatalf("no verdict for %s", id)
	}
	return r
}

func ptr[T any](v T) *T { return &v }

func TestRules(t *testing.T) {
	tests := []struct {
		name    string
		regime  string
		mutate  func(*profile.Profile)
		applies bool
		says    string // fragment of the rationale naming the deciding fact
	}{
		{"524B needs connectivity", "us.fdca-524b", nil, false, "fails 524B(c)(2)"},
		{"524B: USB counts as internet", "us.fdca-524b", func(p *profile.Profile) { p.Device.Connectivity.Interfaces = []string{"usb"} }, true, "FDA reads any such interface"},
		{"524B: serial counts", "us.fdca-524b", func(p *profile.Profile) { p.Device.Connectivity.Interfaces = []string{"serial"} }, true, "has serial"},
		{"524B: removable media alone does not", "us.fdca-524b", func(p *profile.Profile) { p.Device.Connectivity.Interfaces = []string{"removable-media"} }, false, "removable media alone"},
		{"524B: internet declared", "us.fdca-524b", func(p *profile.Profile) { p.Device.Connectivity.Internet = true }, true, "device.connectivity.internet: true"},
		{"524B: no software", "us.fdca-524b", func(p *profile.Profile) {
			p.Device.Software = ptr(false)
			p.Device.Connectivity.Internet = true
		}, false, "fails 524B(c)(1)"},
		{"524B: exempt device has no submission", "us.fdca-524b", func(p *profile.Profile) {
			p.Device.Connectivity.Internet = true
			p.Markets.US.Submission = "exempt"
		}, false, "no submission"},
		{"524B: PMA", "us.fdca-524b", func(p *profile.Profile) {
			p.Device.Connectivity.Cloud = true
			p.Markets.US.Submission = "pma"
		}, true, "PMA submission"},
		{"FDA premarket covers exempt devices", "us.fda-premarket", func(p *profile.Profile) { p.Markets.US.Submission = "exempt" }, true, "510(k)-exempt"},
		{"not on US market", "us.fda-premarket", func(p *profile.Profile) { p.Markets.US = nil }, false, "not placed on the US market"},
		{"NIS2 medium maker in scope", "eu.nis2", nil, true, "medium-sized enterprise"},
		{"NIS2 small maker out", "eu.nis2", func(p *profile.Profile) {
			p.Manufacturer.Employees = ptr(40)
			p.Manufacturer.AnnualTurnoverEUR = ptr(int64(9_000_000))
		}, false, "small enterprise"},
		{"NIS2 49 staff but both figures over EUR 10 M", "eu.nis2", func(p *profile.Profile) {
			p.Manufacturer.Employees = ptr(49)
			p.Manufacturer.AnnualTurnoverEUR = ptr(int64(12_000_000))
			p.Manufacturer.BalanceSheetEUR = ptr(int64(11_000_000))
		}, true, "medium-sized"},
		{"NIS2 micro", "eu.nis2", func(p *profile.Profile) {
			p.Manufacturer.Employees = ptr(5)
			p.Manufacturer.AnnualTurnoverEUR = ptr(int64(1_000_000))
		}, false, "micro enterprise"},
		{"NIS2 size unknown is assumed in scope", "eu.nis2", func(p *profile.Profile) {
			p.Manufacturer.Employees = nil
		}, true, "assumes the manufacturer is in scope"},
		{"NIS2 no EU establishment is unclear", "eu.nis2", func(p *profile.Profile) { p.Manufacturer.EstablishedIn = []string{"US"} }, true, "has no EU establishment"},
		{"NIS2 not for non-EU maker off the EU market", "eu.nis2", func(p *profile.Profile) {
			p.Manufacturer.EstablishedIn = []string{"US"}
			p.Markets.EU = nil
		}, false, "neither places devices on the EU market"},
		{"CRA excludes MDR devices", "eu.cra", nil, false, "Art. 2(2)(a)"},
		{"CRA excludes IVDR devices", "eu.cra", func(p *profile.Profile) {
			p.Device.Kind = "ivd-samd"
			p.Markets.EU = &profile.EUMarket{Regulation: "ivdr", Class: "B"}
		}, false, "Art. 2(2)(b)"},
		{"CRA applies to connected non-device products", "eu.cra", func(p *profile.Profile) {
			p.Device.Kind = "non-device"
			p.Markets.EU = &profile.EUMarket{Regulation: "none"}
			p.Device.Connectivity.Interfaces = []string{"bluetooth-le"}
		}, true, "2027-12-11"},
		{"CRA needs a data connection", "eu.cra", func(p *profile.Profile) {
			p.Device.Kind = "non-device"
			p.Markets.EU = &profile.EUMarket{Regulation: "none"}
		}, false, "Art. 2(1)"},
		{"AI Act high-risk for IIa AI", "eu.ai-act", func(p *profile.Profile) { p.Device.AI = true }, true, "high-risk under Art. 6(1)"},
		{"AI Act not high-risk for class I", "eu.ai-act", func(p *profile.Profile) {
			p.Device.AI = true
			p.Markets.EU.Class = "I"
		}, false, "self-certified"},
		{"AI Act: no AI", "eu.ai-act", nil, false, "device.ai: false"},
		{"GDPR via establishment", "eu.gdpr", func(p *profile.Profile) { p.Device.Data.Personal = true }, true, "Art. 3(1)"},
		{"GDPR via data subjects", "eu.gdpr", func(p *profile.Profile) {
			p.Manufacturer.EstablishedIn = []string{"US"}
			p.Device.Data.Personal = true
			p.Device.Data.DataSubjectsIn = []string{"FR"}
		}, true, "Art. 3(2)"},
		{"GDPR: EEA counts", "eu.gdpr", func(p *profile.Profile) {
			p.Manufacturer.EstablishedIn = []string{"NO"}
			p.Device.Data.Personal = true
		}, true, "NO"},
		{"GDPR: no personal data", "eu.gdpr", nil, false, "no personal data"},
		{"GDPR: US-only data", "eu.gdpr", func(p *profile.Profile) {
			p.Manufacturer.EstablishedIn = []string{"US"}
			p.Markets.EU = nil
			p.Device.Data.Personal = true
			p.Device.Data.DataSubjectsIn = []string{"US"}
		}, false, "neither an EU/EEA establishment"},
		{"UK GDPR via GB data subjects", "uk.gdpr", func(p *profile.Profile) {
			p.Device.Data.Personal = true
			p.Device.Data.DataSubjectsIn = []string{"GB"}
		}, true, "UK representative"},
		{"PSTI excepts devices", "uk.psti", nil, false, "Sch. 3 para 3(1)"},
		{"PSTI applies to connectable non-devices", "uk.psti", func(p *profile.Profile) {
			p.Device.Kind = "non-device"
			p.Markets.UK = &profile.UKMarket{Marking: "none"}
			p.Device.Connectivity.Interfaces = []string{"bluetooth-le"}
		}, true, "no universal default passwords"},
		{"PSTI: unconnected non-device", "uk.psti", func(p *profile.Profile) {
			p.Device.Kind = "non-device"
			p.Markets.UK = &profile.UKMarket{Marking: "none"}
		}, false, "not a relevant connectable product"},
		{"UK NIS never binds makers", "uk.nis-2018", nil, false, "not among them"},
		{"MDCG needs software", "eu.mdcg-2019-16", func(p *profile.Profile) { p.Device.Software = ptr(false) }, false, "device.software: false"},
		{"IVDR for IVDs", "eu.ivdr", func(p *profile.Profile) {
			p.Device.Kind = "ivd-simd"
			p.Markets.EU = &profile.EUMarket{Regulation: "ivdr", Class: "C"}
		}, true, "class C"},
		{"Health Canada class I keeps records", "ca.hc-premarket", func(p *profile.Profile) { p.Markets.CA.Class = "I" }, true, "nothing is filed"},
		{"UK MDR CE recognition", "uk.mdr-2002", func(p *profile.Profile) { p.Markets.UK.Marking = "ce" }, true, "2030-06-30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := base(t)
			if tt.mutate != nil {
				tt.mutate(p)
			}
			v := verdictOf(t, p, tt.regime)
			if v.Applies != tt.applies {
				t.Errorf("%s applies = %v, want %v; rationale: %s", tt.regime, v.Applies, tt.applies, v.Rationale)
			}
			if !strings.Contains(v.Rationale, tt.says) {
				t.Errorf("rationale does not mention %q:\n%s", tt.says, v.Rationale)
			}
			if len(v.Citations) == 0 {
				t.Error("verdict without citations")
			}
		})
	}
}

func TestNIS2Category(t *testing.T) {
	large := func(p *profile.Profile) { p.Manufacturer.Employees = ptr(900) }
	critical := func(p *profile.Profile) { p.Device.CriticalInPublicHealthEmergency = true }
	tests := []struct {
		name string
		p    *profile.Profile
		want string
	}{
		{"medium, Annex II", base(t), "important"},
		{"large, Annex II", base(t, large), "important"},
		{"medium, critical device", base(t, critical), "important"},
		{"large, critical device", base(t, large, critical), "essential"},
		{"small", base(t, func(p *profile.Profile) {
			p.Manufacturer.Employees = ptr(20)
			p.Manufacturer.AnnualTurnoverEUR = ptr(int64(4_000_000))
		}), ""},
	}
	for _, tt := range tests {
		if got := evaluate(t, tt.p).NIS2Category; got != tt.want {
			t.Errorf("%s: NIS2 category %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestRequirementConditions(t *testing.T) {
	find := func(res *Result, id string) RequirementResult {
		for _, q := range res.Requirements {
			if q.ID == id {
				return q
			}
		}
		t.Fatalf("requirement %s missing from result", id)
		return RequirementResult{}
	}
	// PMA annual-report content only for PMA devices.
	pma := evaluate(t, base(t, func(p *profile.Profile) { p.Markets.US.Submission = "pma" }))
	k510 := evaluate(t, base(t))
	cat := catalog.MustDefault()
	var pmaOnly []string
	for _, q := range cat.Requirements() {
		if q.When != nil && len(q.When.USSubmission) == 1 && q.When.USSubmission[0] == "pma" {
			pmaOnly = append(pmaOnly, q.ID)
		}
	}
	if len(pmaOnly) == 0 {
		t.Fatal("catalog has no PMA-only requirement")
	}
	for _, id := range pmaOnly {
		if !find(pma, id).Applies {
			t.Errorf("%s should apply to a PMA device: %s", id, find(pma, id).Rationale)
		}
		q := find(k510, id)
		if q.Applies || !strings.Contains(q.Rationale, "this device is 510k") {
			t.Errorf("%s should not apply to a 510(k) device: %+v", id, q)
		}
	}
	// Requirements of a regime that does not apply never apply.
	for _, q := range k510.Requirements {
		r, _ := k510.Regime(q.Regime)
		if q.Applies && !r.Applies {
			t.Errorf("%s applies though %s does not", q.ID, q.Regime)
		}
	}
}

func TestMatrix(t *testing.T) {
	p, _ := profile.LoadFile("../examples/insulin-pump.yaml")
	res := evaluate(t, p)
	m := BuildMatrix(catalog.MustDefault(), res)
	if len(m.Controls) != len(catalog.MustDefault().Controls) {
		t.Fatalf("%d control rows", len(m.Controls))
	}
	for _, row := range m.Controls {
		if row.ID != "CO-05" {
			continue
		}
		for _, mk := range catalog.Markets {
			if len(row.Markets[mk]) == 0 {
				t.Errorf("SBOM control has no applicable requirement in %s for a four-market device", mk)
			}
		}
		found := false
		for _, c := range row.Markets["US"] {
			if c.Requirement == "us.fdca-524b.sbom" {
				found = true
			}
		}
		if !found {
			t.Errorf("SBOM row lacks us.fdca-524b.sbom: %+v", row.Markets["US"])
		}
	}
	// A US-only device has empty cells elsewhere.
	t2, _ := profile.LoadFile("../examples/thermometer-us.yaml")
	m2 := BuildMatrix(catalog.MustDefault(), evaluate(t, t2))
	for _, row := range m2.Controls {
		for _, mk := range []string{"CA", "EU", "UK"} {
			if len(row.Markets[mk]) != 0 {
				t.Errorf("%s has %s requirements for a US-only device", row.ID, mk)
			}
		}
	}
}
