package portfolio

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-med/vigil/internal/pgtest"
	"github.com/vigil-med/vigil/store"
	"github.com/vigil-med/vigil/vex"
	"github.com/vigil-med/vigil/vuln"
)

var ctx = context.Background()

// A device SBOM with two Go modules, each hit by two advisories.
const deviceSBOM = `{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,
  "metadata":{"timestamp":"2026-01-01T00:00:00Z","component":{"type":"firmware","bom-ref":"fw","name":"pump firmware","version":"2.1.0"}},
  "components":[
    {"type":"library","bom-ref":"a","name":"example.com/net","version":"v1.2.0","purl":"pkg:golang/example.com/net@v1.2.0?type=module"},
    {"type":"library","bom-ref":"b","name":"example.com/text","version":"v0.3.0","purl":"pkg:golang/example.com/text@v0.3.0"}]}`

func advisory(t *testing.T, id, module, fixed, cve string) *vuln.Advisory {
	t.Helper()
	a, err := vuln.ParseOSV([]byte(fmt.Sprintf(`{"id":%q,"modified":"2025-01-01T00:00:00Z","aliases":[%q],"summary":"flaw %s in %s",
		"affected":[{"package":{"ecosystem":"Go","name":%q},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":%q}]}]}]}`,
		id, cve, id, module, module, fixed)), id+".json")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

type fixture struct {
	st   *store.Store
	dev  int64 // InsuPump X2 2.1.0, with deviceSBOM
	prod store.Product
}

func setup(t *testing.T, postgres bool) *fixture {
	t.Helper()
	cfg := store.Config{DataDir: t.TempDir()}
	if postgres {
		cfg = store.Config{DatabaseURL: pgtest.Fresh(t)}
	}
	st, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = st.ImportVulnFeeds(ctx, store.ActorSystem, func(imp *store.VulnImport) error {
		if err := imp.Begin("test", "osv"); err != nil {
			return err
		}
		for _, a := range []*vuln.Advisory{
			advisory(t, "GO-2099-0001", "example.com/net", "1.5.0", "CVE-2099-0001"),
			advisory(t, "GO-2099-0002", "example.com/net", "1.3.0", "CVE-2099-0002"),
			advisory(t, "GO-2099-0003", "example.com/text", "0.9.0", "CVE-2099-0003"),
			advisory(t, "GO-2099-0004", "example.com/text", "0.4.0", "CVE-2099-0004"),
		} {
			if err := imp.Advisory(a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{st: st}
	f.prod, f.dev = f.version(t, "InsuPump X2", "2.1.0")
	return f
}

// version adds a version of product with deviceSBOM as its firmware SBOM.
func (f *fixture) version(t *testing.T, product, version string) (store.Product, int64) {
	t.Helper()
	ps, _ := f.st.ListProducts(ctx)
	var p store.Product
	for _, x := range ps {
		if x.Name == product {
			p = x
		}
	}
	if p.ID == 0 {
		var err error
		if p, err = f.st.CreateProduct(ctx, "setup@example.com", store.Product{Name: product, Manufacturer: "Acme Medical"}); err != nil {
			t.Fatal(err)
		}
	}
	v, err := f.st.CreateDeviceVersion(ctx, "setup@example.com", p.ID, version, "schema: vigil/device/v1\n")
	if err != nil {
		t.Fatal(err)
	}
	res, err := ImportSBOM(ctx, f.st, "ed@example.com", v.ID, "firmware", "fw.cdx.json", []byte(deviceSBOM), false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Findings.Open != 4 || res.SBOM.Quality == nil {
		t.Fatalf("fixture: %d findings, quality %v", res.Findings.Open, res.SBOM.Quality)
	}
	return p, v.ID
}

func TestImportSBOMRefusesBadFiles(t *testing.T) {
	f := setup(t, false)
	_, err := ImportSBOM(ctx, f.st, "ed@example.com", f.dev, "app", "app.spdx", []byte("SPDXVersion: SPDX-2.3\nbroken"), false)
	if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), "app.spdx") {
		t.Errorf("bad SPDX: %v", err)
	}
	if sb, _ := f.st.ListSBOMs(ctx, f.dev); len(sb) != 1 {
		t.Errorf("a refused file was stored: %+v", sb)
	}
}

func TestFindFinding(t *testing.T) {
	f := setup(t, false)
	cases := []struct {
		advisory, component, want, err string
	}{
		{"CVE-2099-0001", "", "GO-2099-0001/pkg:golang/example.com/net@v1.2.0", ""},
		{"GO-2099-0003", "example.com/text", "GO-2099-0003/pkg:golang/example.com/text@v0.3.0", ""},
		{"GO-2099-0002", "pkg:golang/example.com/net@v1.2.0?type=module", "GO-2099-0002/pkg:golang/example.com/net@v1.2.0", ""},
		{"GO-2099-0002", "example.com/text", "", "no finding of GO-2099-0002 in example.com/text"},
		{"CVE-1999-1", "", "", "has no finding of CVE-1999-1"},
		{"", "", "", "name the advisory"},
	}
	for _, c := range cases {
		got, err := FindFinding(ctx, f.st, f.dev, c.advisory, c.component)
		switch {
		case c.err != "":
			if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s %s: error %v, want %q", c.advisory, c.component, err, c.err)
			}
		case err != nil:
			t.Errorf("%s %s: %v", c.advisory, c.component, err)
		case got.Advisory+"/"+got.ComponentKey != c.want:
			t.Errorf("%s %s: %s/%s", c.advisory, c.component, got.Advisory, got.ComponentKey)
		}
	}
	if _, err := FindFinding(ctx, f.st, f.dev, "CVE-1999-1", ""); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("not found is not ErrNotFound: %v", err)
	}
}

// decisions are what a VEX round trip must keep.
type decision struct{ Advisory, Component, Status, Justification, Impact, Action, Author string }

func decisionsOf(t *testing.T, st *store.Store, version int64, withAuthor bool) []decision {
	t.Helper()
	list, err := st.ListVEX(ctx, version)
	if err != nil {
		t.Fatal(err)
	}
	var out []decision
	for _, v := range list {
		d := decision{v.AdvisoryID, v.ComponentKey, v.Status, v.Justification, v.ImpactStatement, v.ActionStatement, ""}
		if withAuthor {
			d.Author = v.Author
		}
		out = append(out, d)
	}
	return out
}

// TestVEXRoundTrip: every status, triaged, exported as OpenVEX, CycloneDX and CSAF and imported
// into a version of another product, arrives unchanged; the CSAF passes validation.
func TestVEXRoundTrip(t *testing.T) {
	for _, pg := range []bool{false, true} {
		name := map[bool]string{false: "sqlite", true: "postgres"}[pg]
		t.Run(name, func(t *testing.T) {
			f := setup(t, pg)
			for _, d := range []struct {
				who string
				d   Decision
			}{
				{"ann@example.com", Decision{Advisory: "CVE-2099-0001", Status: "not_affected", Justification: "vulnerable_code_not_in_execute_path",
					ImpactStatement: "The firmware never starts an HTTP/2 server.\nChecked in design review DR-12."}},
				{"ben@example.com", Decision{Advisory: "GO-2099-0002", Status: "affected", ActionStatement: "Update to firmware 2.1.1 (ships example.com/net v1.5.0)."}},
				{"ann@example.com", Decision{Advisory: "GO-2099-0003", Component: "example.com/text", Status: "fixed"}},
				{"ben@example.com", Decision{Advisory: "CVE-2099-0004", Status: "under_investigation"}},
			} {
				if _, err := SetVEX(ctx, f.st, d.who, f.dev, d.d); err != nil {
					t.Fatal(err)
				}
			}
			want := decisionsOf(t, f.st, f.dev, false)
			if len(want) != 4 {
				t.Fatalf("%d decisions", len(want))
			}
			doc, err := VEXDocument(ctx, f.st, f.dev)
			if err != nil {
				t.Fatal(err)
			}
			if doc.Product.ID != "pkg:generic/InsuPump%20X2@2.1.0" || doc.Product.Supplier != "Acme Medical" || doc.Statements[0].Description == "" || len(doc.Statements[0].Aliases) != 1 {
				t.Errorf("document: %+v", doc)
			}
			for _, format := range vex.FormatNames {
				data, err := ExportVEX(ctx, f.st, f.dev, format, vex.Options{Namespace: "https://psirt.acme.example"})
				if err != nil {
					t.Fatal(err)
				}
				if format == vex.FormatCSAF {
					if problems, err := vex.ValidateCSAF(data); err != nil || len(problems) > 0 {
						t.Fatalf("CSAF invalid: %v %v", err, problems)
					}
				}
				parsed, err := vex.Parse("export", data)
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range parsed.Statements {
					if s.Product.ID != doc.Product.ID {
						t.Errorf("%s: product identity %+v", format, s.Product)
					}
				}
				// Re-import into the same version: nothing changes.
				res, err := ImportVEX(ctx, f.st, "carl@example.com", f.dev, parsed, "export"+vex.FileExtension(format))
				if err != nil || res.Applied.Unchanged != 4 || res.Matched != 4 || len(res.Skipped) > 0 {
					t.Errorf("%s re-import: %+v %v", format, res, err)
				}
				// Into a version of another product (no carry-forward): every decision arrives.
				_, other := f.version(t, "Infusion Hub "+format, "1.0")
				res, err = ImportVEX(ctx, f.st, "carl@example.com", other, parsed, "export"+vex.FileExtension(format))
				if err != nil || res.Applied.Added != 4 {
					t.Fatalf("%s import: %+v %v", format, res, err)
				}
				if d := cmp.Diff(want, decisionsOf(t, f.st, other, false)); d != "" {
					t.Errorf("%s round trip (-want +got):\n%s", format, d)
				}
				// Authors survive where the format has room for them (not in CSAF, whose statements
				// are the publisher's).
				if format != vex.FormatCSAF {
					if d := cmp.Diff(decisionsOf(t, f.st, f.dev, true), decisionsOf(t, f.st, other, true)); d != "" {
						t.Errorf("%s authors (-want +got):\n%s", format, d)
					}
				}
				list, _ := f.st.ListVEX(ctx, other)
				if !strings.HasPrefix(list[0].Note, "imported from export") {
					t.Errorf("note %q", list[0].Note)
				}
			}
		})
		if pg && testing.Short() {
			break
		}
	}
}

// TestImportForeignVEX: statements written by others name the product only, or name a
// component as the product (as upstream projects do).
func TestImportForeignVEX(t *testing.T) {
	f := setup(t, false)
	at := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	doc := &vex.Document{Format: vex.FormatOpenVEX, ID: "upstream-1", Author: "example.com maintainers", Statements: []vex.Statement{
		// An upstream project says its package is not affected.
		{Vulnerability: "CVE-2099-0001", Product: vex.Product{ID: "pkg:golang/example.com/net@v1.2.0"}, Status: vex.NotAffected,
			Justification: vex.VulnerableCodeNotPresent, Timestamp: at},
		// The supplier says the whole device is affected by GO-2099-0003 (via its alias).
		{Vulnerability: "CVE-2099-0003", Product: vex.Product{Name: "InsuPump X2"}, Status: vex.Affected, ActionStatement: "Patch.", Timestamp: at},
		// Nothing of the version has this one.
		{Vulnerability: "CVE-2099-9999", Product: vex.Product{Name: "InsuPump X2"}, Status: vex.Fixed, Timestamp: at},
		// A component the version does not have: skipped.
		{Vulnerability: "CVE-2099-8888", Component: vex.Component{PURL: "pkg:npm/left-pad@1.3.0"}, Status: vex.NotAffected,
			Justification: vex.ComponentNotPresent, Timestamp: at},
		// Another product's statement: skipped.
		{Vulnerability: "CVE-2099-0004", Product: vex.Product{Name: "Glucose Meter", ID: vex.DeviceID("Glucose Meter", "1.0")}, Status: vex.Fixed, Timestamp: at},
		// A component it has, without a finding of that vulnerability: stored.
		{Vulnerability: "CVE-2099-7777", Component: vex.Component{PURL: "pkg:golang/example.com/text@v0.3.0"}, Status: vex.UnderInvestigation, Timestamp: at},
	}}
	res, err := ImportVEX(ctx, f.st, "ann@example.com", f.dev, doc, "upstream.json")
	if err != nil {
		t.Fatal(err)
	}
	if res.Applied.Added != 3 || res.Matched != 2 || len(res.Skipped) != 3 || !strings.Contains(res.Skipped[0], "CVE-2099-9999") ||
		!strings.Contains(res.Skipped[1], "left-pad") || !strings.Contains(res.Skipped[2], "about Glucose Meter, which is neither this device") {
		t.Fatalf("import: %+v", res)
	}
	got := decisionsOf(t, f.st, f.dev, true)
	want := []decision{
		{"CVE-2099-7777", "pkg:golang/example.com/text@v0.3.0", "under_investigation", "", "", "", "example.com maintainers"},
		{"GO-2099-0001", "pkg:golang/example.com/net@v1.2.0", "not_affected", "vulnerable_code_not_present", "", "", "example.com maintainers"},
		{"GO-2099-0003", "pkg:golang/example.com/text@v0.3.0", "affected", "", "", "Patch.", "example.com maintainers"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	list, _ := f.st.ListVEX(ctx, f.dev)
	if !list[1].At.Equal(at) || list[1].Note != "imported from upstream.json (openvex upstream-1)" {
		t.Errorf("statement: %+v", list[1])
	}
	if _, err := ExportVEX(ctx, f.st, f.dev, "spdx", vex.Options{}); !errors.Is(err, ErrInput) {
		t.Errorf("unknown format: %v", err)
	}
	_, empty := f.version(t, "Empty", "1")
	if _, err := ExportVEX(ctx, f.st, empty, vex.FormatCSAF, vex.Options{}); !errors.Is(err, ErrInput) {
		t.Errorf("CSAF of nothing: %v", err)
	}
}
