package profile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-med/vigil/internal/yamlfile"
)

const good = `schema: vigil/device/v1
name: InsuPump X2
version: 2.1.0
manufacturer:
  name: Acme Medical
  employees: 250
  annual_turnover_eur: 40000000
  balance_sheet_eur: 30000000
  established_in: [US, DE]
device:
  kind: simd
  software: true
  connectivity:
    internet: true
    interfaces: [bluetooth-le, wifi, usb]
    cloud: true
    remote_updates: true
  data:
    personal: true
    health: true
    data_subjects_in: [US, DE]
  ai: false
  critical_in_public_health_emergency: false
markets:
  us: { class: II, submission: 510k }
  ca: { class: III }
  eu: { regulation: mdr, class: IIb }
  uk: { class: IIb, marking: ukca }
`

func TestParseContractExample(t *testing.T) {
	p, err := Parse("p.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "InsuPump X2" || *p.Manufacturer.Employees != 250 || p.Markets.EU.Class != "IIb" || !p.HasSoftware() {
		t.Errorf("decoded wrongly: %+v", p)
	}
	if got := p.PhysicalInterfaces(); strings.Join(got, ",") != "bluetooth-le,wifi,usb" {
		t.Errorf("interfaces = %v", got)
	}
}

func TestParseJSON(t *testing.T) {
	doc := `{"schema":"vigil/device/v1","name":"J","manufacturer":{"name":"M"},
"device":{"kind":"samd","software":true},"markets":{"eu":{"regulation":"mdr","class":"IIa"}}}`
	p, err := Parse("p.json", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if p.Markets.EU.Regulation != "mdr" {
		t.Errorf("EU market = %+v", p.Markets.EU)
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name, old, new string
		want           string // "line: field: message fragment"
	}{
		{"unknown field", "  kind: simd", "  kindd: simd", `11: device.kindd: unknown field "kindd"`},
		{"wrong enum", "  kind: simd", "  kind: implant", `11: device.kind: expected one of simd, samd, ivd-simd, ivd-samd, accessory, non-device, found "implant"`},
		{"missing required", "name: InsuPump X2\n", "", `name: required`},
		{"missing software", "  software: true\n", "", `device.software: required`},
		{"wrong type", "employees: 250", "employees: many", `6: manufacturer.employees: expected a whole number, found "many"`},
		{"bad country", "[US, DE]\ndevice", "[US, DEU]\ndevice", `9: manufacturer.established_in[1]: expected an ISO 3166-1 alpha-2 country code`},
		{"bad interface", "[bluetooth-le, wifi, usb]", "[bluetooth-le, wlan, usb]", `15: device.connectivity.interfaces[1]: expected one of bluetooth`},
		{"none with others", "[bluetooth-le, wifi, usb]", "[none, usb]", `15: device.connectivity.interfaces: "none" cannot be combined`},
		{"bad US class", "class: II, submission", "class: IV, submission", `25: markets.us.class: expected one of I, II, III, found "IV"`},
		{"bad submission", "submission: 510k", "submission: 510(k)", `25: markets.us.submission: expected one of 510k, de-novo, pma, pdp, hde, exempt`},
		{"IVD under MDR", "  kind: simd", "  kind: ivd-simd", `markets.eu.regulation: device.kind ivd-simd is an IVD`},
		{"MDR class under IVDR", "regulation: mdr, class: IIb", "regulation: ivdr, class: IIb", `27: markets.eu.class: expected one of A, As, B, C, D, found "IIb"`},
		{"bad UK marking", "marking: ukca", "marking: ukcа", `28: markets.uk.marking: expected one of ukca, ce, none`},
		{"wrong schema", "schema: vigil/device/v1", "schema: vigil/device/v2", `1: schema: expected "vigil/device/v1", found "vigil/device/v2"`},
		{"health without personal", "    personal: true", "    personal: false", `device.data.health: health data is personal data`},
		{"negative headcount", "employees: 250", "employees: -3", `6: manufacturer.employees: expected a headcount of 0 or more`},
		{"no markets", "markets:\n  us: { class: II, submission: 510k }\n  ca: { class: III }\n  eu: { regulation: mdr, class: IIb }\n  uk: { class: IIb, marking: ukca }\n", "markets: {}\n", `markets: expected at least one market`},
		{"bad YAML", "  kind: simd", "  kind: [simd", `p.yaml:12: `},
		{"duplicate key", "  kind: simd", "  kind: simd\n  kind: samd", `duplicate`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(good, tt.old) {
				t.Fatalf("fixture lacks %q", tt.old)
			}
			_, err := Parse("p.yaml", []byte(strings.Replace(good, tt.old, tt.new, 1)))
			if err == nil {
				t.Fatal("accepted a bad profile")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error does not contain %q:\n%v", tt.want, err)
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "p.yaml:") {
					t.Errorf("error line does not start with file:line: %q", line)
				}
			}
		})
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	bad := strings.NewReplacer("  kind: simd", "  kind: robot", "class: II, submission: 510k", "class: IV, submission: 510k").Replace(good)
	_, err := Parse("p.yaml", []byte(bad))
	var es yamlfile.Errors
	if !errors.As(err, &es) || len(es) != 2 {
		t.Fatalf("want 2 errors, got %v", err)
	}
}

func TestNonDeviceMarkets(t *testing.T) {
	doc := `schema: vigil/device/v1
name: Band
manufacturer: {name: M}
device: {kind: non-device, software: true}
markets:
  us: {}
  eu: {regulation: none}
  uk: {marking: none}
`
	if _, err := Parse("p.yaml", []byte(doc)); err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(doc, "us: {}", "us: {class: II, submission: 510k}", 1)
	if _, err := Parse("p.yaml", []byte(bad)); err == nil || !strings.Contains(err.Error(), "markets.us") {
		t.Fatalf("non-device with a US class accepted: %v", err)
	}
}

func TestLoadFileMissing(t *testing.T) {
	_, err := LoadFile(filepath.Join(t.TempDir(), "nope.yaml"))
	if err == nil || !strings.Contains(err.Error(), "nope.yaml: cannot read") {
		t.Fatalf("err = %v", err)
	}
}

func TestOversizedFileRefused(t *testing.T) {
	big := good + "# " + strings.Repeat("x", yamlfile.MaxSize) + "\n"
	_, err := Parse("big.yaml", []byte(big))
	if err == nil || !strings.Contains(err.Error(), "at most") {
		t.Fatalf("err = %v", err)
	}
}

func TestExamplesValid(t *testing.T) {
	files, _ := filepath.Glob("../examples/*.yaml")
	if len(files) < 6 {
		t.Fatalf("found %d example profiles, want at least 6", len(files))
	}
	for _, f := range files {
		if _, err := LoadFile(f); err != nil {
			t.Errorf("%v", err)
		}
	}
}

// FuzzParse feeds arbitrary bytes to the profile reader: it must return a profile or an error
// naming the file, never panic.
func FuzzParse(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte(`{"schema":"vigil/device/v1"}`))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("- - - - - -\n"))
	if data, err := os.ReadFile("../examples/fitness-companion.yaml"); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("f.yaml", data)
		if err == nil && p == nil {
			t.Fatal("nil profile without error")
		}
		if err != nil && !strings.HasPrefix(err.Error(), "f.yaml") {
			t.Fatalf("error does not name the file: %v", err)
		}
	})
}

func TestAliasesRefused(t *testing.T) {
	var b strings.Builder
	b.WriteString("schema: vigil/device/v1\nname: x\nmanufacturer: {name: m}\nmarkets: {eu: {regulation: mdr, class: I}}\n")
	b.WriteString("device:\n  kind: samd\n  software: true\n  connectivity:\n    interfaces: &a0 [usb, usb, usb, usb, usb, usb, usb, usb]\n  data:\n    data_subjects_in: *a0\n")
	_, err := Parse("bomb.yaml", []byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "bomb.yaml:9: device.connectivity.interfaces: YAML anchors and aliases") {
		t.Fatalf("err = %v", err)
	}
}
