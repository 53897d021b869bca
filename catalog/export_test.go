package catalog

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/vigil-med/vigil/internal/schemacheck"
)

func TestExportJSONMatchesContract(t *testing.T) {
	c := MustDefault()
	var buf bytes.Buffer
	if err := c.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	if err := schemacheck.Validate("testdata/catalog.schema.json", buf.Bytes()); err != nil {
		t.Fatalf("export does not match the contract schema: %v", err)
	}
	var x Export
	if err := json.Unmarshal(buf.Bytes(), &x); err != nil {
		t.Fatal(err)
	}
	if x.Schema != "vigil/catalog/v1" || x.CatalogVersion != c.Version {
		t.Errorf("schema/version = %q/%q", x.Schema, x.CatalogVersion)
	}
	total := 0
	for _, r := range x.Regimes {
		total += len(r.Requirements)
	}
	if total != len(c.Requirements()) {
		t.Errorf("export has %d requirements, catalog %d", total, len(c.Requirements()))
	}
	// The SBOM control lists 524B(b)(3) among its requirements.
	for _, ctl := range x.Controls {
		if ctl.ID == "CO-05" && !strings.Contains(strings.Join(ctl.Requirements, " "), "us.fdca-524b.") {
			t.Errorf("CO-05 does not list a 524B requirement: %v", ctl.Requirements)
		}
	}
}

func TestExportYAMLRoundTrips(t *testing.T) {
	c := MustDefault()
	var buf bytes.Buffer
	if err := c.WriteYAML(&buf); err != nil {
		t.Fatal(err)
	}
	var x Export
	if err := yaml.Unmarshal(buf.Bytes(), &x); err != nil {
		t.Fatal(err)
	}
	if len(x.Regimes) != len(RegimeIDs) || x.Regimes[0].ID != RegimeIDs[0] {
		t.Fatalf("YAML export has %d regimes", len(x.Regimes))
	}
	if got, want := x.Regimes[0].Requirements[0].Summary, strings.TrimSpace(c.Regimes[0].Requirements[0].Summary); got != want {
		t.Errorf("summary changed in YAML round trip:\n%q\n%q", got, want)
	}
}

func TestExportCSV(t *testing.T) {
	c := MustDefault()
	var buf bytes.Buffer
	if err := c.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(c.Requirements())+1 {
		t.Fatalf("CSV has %d rows, want header + %d", len(rows), len(c.Requirements()))
	}
	for i, row := range rows[1:] {
		if len(row) != len(CSVHeader) || row[3] == "" || row[7] == "" {
			t.Fatalf("row %d incomplete: %q", i+1, row)
		}
	}
}

func TestExportOSCALValidatesAgainstNISTSchema(t *testing.T) {
	c := MustDefault()
	var buf bytes.Buffer
	if err := c.WriteOSCAL(&buf); err != nil {
		t.Fatal(err)
	}
	// testdata/oscal_catalog_schema.json is NIST's OSCAL 1.0.6 catalog schema (public domain).
	if err := schemacheck.Validate("testdata/oscal_catalog_schema.json", buf.Bytes()); err != nil {
		t.Fatalf("OSCAL export is not a valid OSCAL catalog: %v", err)
	}
	var doc struct {
		Catalog struct {
			Groups []struct {
				ID       string `json:"id"`
				Controls []struct {
					ID string `json:"id"`
				} `json:"controls"`
			} `json:"groups"`
		} `json:"catalog"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Catalog.Groups) != len(RegimeIDs)+1 {
		t.Errorf("OSCAL has %d groups, want %d regimes + control objectives", len(doc.Catalog.Groups), len(RegimeIDs))
	}
	seen := map[string]bool{}
	for _, g := range doc.Catalog.Groups {
		for _, ctl := range g.Controls {
			if seen[ctl.ID] {
				t.Errorf("duplicate OSCAL control id %s", ctl.ID)
			}
			seen[ctl.ID] = true
		}
	}
	// Deterministic: the same catalog exports the same bytes.
	var again bytes.Buffer
	_ = c.WriteOSCAL(&again)
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Error("OSCAL export is not deterministic")
	}
}
