package store

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-med/vigil/sbom"
)

func TestVEXSet(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store, _ Config) {
		v := addVersion(t, s, "InsuPump", "1.0")
		key := "pkg:golang/example.com/net@v1.2.0"
		base := VEXStatement{DeviceVersionID: v.ID, AdvisoryID: "GO-2099-0001", ComponentKey: key, PURL: key, ComponentName: "example.com/net", ComponentVersion: "v1.2.0"}
		bad := []VEXStatement{
			{DeviceVersionID: v.ID, AdvisoryID: "GO-2099-0001", ComponentKey: key, Status: "not_affected"},
			{DeviceVersionID: v.ID, AdvisoryID: "GO-2099-0001", ComponentKey: key, Status: "affected"},
			{DeviceVersionID: v.ID, AdvisoryID: "GO-2099-0001", ComponentKey: key, Status: "maybe"},
			{DeviceVersionID: v.ID, AdvisoryID: "GO 2099", ComponentKey: key, Status: "fixed"},
			{DeviceVersionID: v.ID, AdvisoryID: "GO-2099-0001", Status: "fixed"},
			{DeviceVersionID: v.ID, AdvisoryID: "GO-2099-0001", ComponentKey: key, Status: "fixed", ActionStatement: "update"},
		}
		for i, b := range bad {
			_, err := s.SetVEX(ctx, "ann@example.com", b)
			wantErr(t, err, ErrInvalid, "bad statement "+string(rune('0'+i)))
		}
		_, err := s.SetVEX(ctx, "ann@example.com", VEXStatement{DeviceVersionID: 99999, AdvisoryID: "X", ComponentKey: "k", Status: "fixed"})
		wantErr(t, err, ErrNotFound, "unknown version")

		st := base
		st.Status, st.ActionStatement = "affected", "Update the firmware to 1.1."
		got := must[VEXStatement](t)(s.SetVEX(ctx, "ann@example.com", st))
		if got.Author != "ann@example.com" || got.At.IsZero() || got.Status != "affected" {
			t.Errorf("set: %+v", got)
		}
		// Same decision again: nothing written.
		n := rawInt(t, s, "SELECT count(*) FROM audit_log")
		must[VEXStatement](t)(s.SetVEX(ctx, "bob@example.com", st))
		if rawInt(t, s, "SELECT count(*) FROM audit_log") != n {
			t.Error("unchanged decision audited")
		}
		st = base
		st.Status, st.Justification, st.ImpactStatement = "not_affected", "vulnerable_code_not_in_execute_path", "HTTP/2 is never enabled."
		got = must[VEXStatement](t)(s.SetVEX(ctx, "bob@example.com", st))
		list := must[[]VEXStatement](t)(s.ListVEX(ctx, v.ID))
		if len(list) != 1 || list[0].Status != "not_affected" || list[0].Author != "bob@example.com" || list[0].ImpactStatement != "HTTP/2 is never enabled." {
			t.Errorf("list: %+v", list)
		}
		hist := must[[]AuditEntry](t)(s.VEXHistory(ctx, v.ID, "GO-2099-0001", key))
		if len(hist) != 2 || hist[0].Actor != "bob@example.com" || hist[0].Action != "vex.set" || !strings.Contains(string(hist[0].Before), `"affected"`) {
			t.Errorf("history: %+v", hist)
		}
		noErr(t, s.DeleteVEX(ctx, "bob@example.com", v.ID, "GO-2099-0001", key))
		wantErr(t, s.DeleteVEX(ctx, "bob@example.com", v.ID, "GO-2099-0001", key), ErrNotFound, "delete twice")
		if list := must[[]VEXStatement](t)(s.ListVEX(ctx, v.ID)); len(list) != 0 {
			t.Errorf("after delete: %+v", list)
		}

		// Import keeps author and time, counts changes, and is all or nothing.
		at := time.Date(2025, 5, 6, 7, 8, 9, 0, time.UTC)
		imp := []VEXStatement{
			{AdvisoryID: "GO-2099-0001", ComponentKey: key, Status: "fixed", Author: "supplier@example.com", At: at, Note: "imported from x.json"},
			{AdvisoryID: "CVE-2099-7", ComponentKey: "openssl@3.0.8", ComponentName: "openssl", ComponentVersion: "3.0.8", Status: "under_investigation"},
		}
		r := must[VEXImport](t)(s.ImportVEX(ctx, "ann@example.com", v.ID, slices.Clone(imp)))
		if r.Added != 2 || r.Updated != 0 {
			t.Errorf("import: %+v", r)
		}
		r = must[VEXImport](t)(s.ImportVEX(ctx, "ann@example.com", v.ID, slices.Clone(imp)))
		if r.Unchanged != 2 {
			t.Errorf("re-import: %+v", r)
		}
		list = must[[]VEXStatement](t)(s.ListVEX(ctx, v.ID))
		if len(list) != 2 || list[1].Author != "supplier@example.com" || !list[1].At.Equal(at) || list[1].Note != "imported from x.json" || list[0].Author != "ann@example.com" {
			t.Errorf("imported: %+v", list)
		}
		broken := append(slices.Clone(imp), VEXStatement{AdvisoryID: "X", ComponentKey: "y", Status: "not_affected"})
		broken[0].Status = "under_investigation"
		_, err = s.ImportVEX(ctx, "ann@example.com", v.ID, broken)
		wantErr(t, err, ErrInvalid, "import with a bad statement")
		if list := must[[]VEXStatement](t)(s.ListVEX(ctx, v.ID)); list[1].Status != "fixed" {
			t.Error("a failed import changed a decision")
		}
		verifyOK(t, s)
	})
}

// TestCarryForward: decisions on version 1 are carried to version 2 for components that did not
// change, keep their author and time, and are audited; changed components start untriaged.
func TestCarryForward(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store, _ Config) {
		importOSV(t, s,
			goAdvisory(t, "GO-2099-0001", "2024-01-01T00:00:00Z", "example.com/net", "1.5.0", "CVE-2099-1001"),
			goAdvisory(t, "GO-2099-0002", "2024-01-01T00:00:00Z", "example.com/text", "0.9.0", "CVE-2099-1002"))
		comps := []sbom.Component{goComponent("example.com/net", "v1.2.0"), goComponent("example.com/text", "v0.3.0")}
		v1 := addVersion(t, s, "InsuPump", "1.0")
		must[SBOMImport](t)(s.ImportSBOM(ctx, "ed@example.com", sbomInput(v1.ID, "firmware", comps...)))
		for _, st := range []VEXStatement{
			{AdvisoryID: "GO-2099-0001", ComponentKey: "pkg:golang/example.com/net@v1.2.0", Status: "not_affected", Justification: "vulnerable_code_not_present"},
			{AdvisoryID: "GO-2099-0002", ComponentKey: "pkg:golang/example.com/text@v0.3.0", Status: "affected", ActionStatement: "Disable text import."},
		} {
			st.DeviceVersionID = v1.ID
			must[VEXStatement](t)(s.SetVEX(ctx, "ann@example.com", st))
		}
		orig := must[[]VEXStatement](t)(s.ListVEX(ctx, v1.ID))

		// Version 2: same net, newer (still vulnerable) text.
		v2 := addVersion(t, s, "InsuPump", "2.0")
		got := must[SBOMImport](t)(s.ImportSBOM(ctx, "ed@example.com", sbomInput(v2.ID, "firmware", goComponent("example.com/net", "v1.2.0"), goComponent("example.com/text", "v0.4.0"))))
		if len(got.Carried) != 1 {
			t.Fatalf("carried %+v", got.Carried)
		}
		c := got.Carried[0]
		if c.DeviceVersionID != v2.ID || c.AdvisoryID != "GO-2099-0001" || c.Status != "not_affected" || c.Justification != "vulnerable_code_not_present" ||
			c.Author != "ann@example.com" || !c.At.Equal(orig[0].At) || c.CarriedFrom != v1.ID || !strings.Contains(c.Note, "carried forward from version 1.0") {
			t.Errorf("carried: %+v", c)
		}
		fs := must[[]Finding](t)(s.ListFindings(ctx, v2.ID, FindingFilter{}))
		if len(fs) != 2 {
			t.Fatalf("v2 findings: %+v", fs)
		}
		for _, f := range fs {
			switch f.Advisory {
			case "GO-2099-0001":
				if f.VEX == nil || f.VEX.Status != "not_affected" || f.VEX.CarriedFrom != v1.ID {
					t.Errorf("net finding: %+v", f.VEX)
				}
			default:
				if f.VEX != nil {
					t.Errorf("changed component carried a decision: %+v", f.VEX)
				}
			}
		}
		if fs := must[[]Finding](t)(s.ListFindings(ctx, v2.ID, FindingFilter{Status: StatusUntriaged})); len(fs) != 1 || fs[0].Advisory != "GO-2099-0002" {
			t.Errorf("untriaged filter: %+v", fs)
		}
		e := must[[]AuditEntry](t)(s.AuditFor(ctx, "vex_statement", VEXStatement{DeviceVersionID: v2.ID, AdvisoryID: "GO-2099-0001", ComponentKey: "pkg:golang/example.com/net@v1.2.0"}.key(), 5))
		if len(e) != 1 || e[0].Action != "vex.carry" || e[0].Actor != "ed@example.com" {
			t.Errorf("carry audit: %+v", e)
		}
		var after VEXStatement
		noErr(t, json.Unmarshal(e[0].After, &after))
		if after.Author != "ann@example.com" {
			t.Errorf("audited author %q", after.Author)
		}

		// Version 3 skips a decision-less version 2 for text: text v0.3.0 is back, so its decision
		// comes from version 1; net comes from version 2 (the nearest).
		v3 := addVersion(t, s, "InsuPump", "3.0")
		got = must[SBOMImport](t)(s.ImportSBOM(ctx, "ed@example.com", sbomInput(v3.ID, "firmware", comps...)))
		if len(got.Carried) != 2 || got.Carried[0].CarriedFrom != v2.ID || got.Carried[1].CarriedFrom != v1.ID {
			t.Errorf("v3 carried: %+v", got.Carried)
		}
		// Another product carries nothing.
		o := addVersion(t, s, "Glucose Meter", "1.0")
		if got := must[SBOMImport](t)(s.ImportSBOM(ctx, "ed@example.com", sbomInput(o.ID, "firmware", comps...))); len(got.Carried) != 0 {
			t.Errorf("other product carried %+v", got.Carried)
		}
		verifyOK(t, s)
	})
}
