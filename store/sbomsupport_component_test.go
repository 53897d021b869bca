package store

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/vigil-med/vigil/sbom"
)

// supportSBOM is a small CycloneDX SBOM without support data (the primary component is "pump").
const supportSBOM = `{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,
 "metadata":{"timestamp":"2025-01-01T00:00:00Z","authors":[{"name":"Acme Medical"}],
  "component":{"type":"firmware","bom-ref":"pump","name":"InsuPump firmware","version":"2.1.0","supplier":{"name":"Acme Medical"}}},
 "components":[
  {"type":"library","bom-ref":"wolf","name":"wolfSSL","version":"5.6.4","purl":"pkg:generic/wolfssl@5.6.4","supplier":{"name":"wolfSSL Inc."}},
  {"type":"library","bom-ref":"fatfs","name":"FatFs","version":"R0.15","supplier":{"name":"ChaN"}},
  {"type":"library","bom-ref":"tel","name":"telemetry","version":"1.4.0","purl":"pkg:generic/telemetry@1.4.0","supplier":{"name":"Acme Medical"}}
 ],
 "dependencies":[{"ref":"pump","dependsOn":["wolf","fatfs","tel"]}]}`

func importSupportSBOM(t *testing.T, s *Store) SBOM {
	t.Helper()
	doc, err := sbom.Parse("pump.cdx.json", []byte(supportSBOM))
	if err != nil {
		t.Fatal(err)
	}
	q := sbom.Check(doc, sbom.CheckOptions{}).Score
	v := addVersion(t, s, "InsuPump", "2.1.0")
	return must[SBOMImport](t)(s.ImportSBOM(ctx, "ed@example.com", SBOMInput{DeviceVersionID: v.ID, Label: "firmware", Filename: "pump.cdx.json",
		Data: []byte(supportSBOM), Doc: doc, Quality: &q})).SBOM
}

func storedSidecar(t *testing.T, s *Store, id int64) *sbom.Sidecar {
	t.Helper()
	data := must[[]byte](t)(s.SBOMSupport(ctx, id))
	if data == nil {
		return nil
	}
	return must[*sbom.Sidecar](t)(sbom.ParseSidecar("support.yaml", data))
}

func ptr(s string) *string { return &s }

func componentSupportAudits(t *testing.T, s *Store, id int64) []AuditEntry {
	t.Helper()
	var out []AuditEntry
	for _, e := range must[[]AuditEntry](t)(s.AuditFor(ctx, "sbom", idStr(id), 0)) {
		if e.Action == "sbom.component_support" {
			out = append(out, e)
		}
	}
	return out
}

// TestSetComponentSupport edits the support sidecar per component: entries added, updated and
// removed, quality recomputed, audited, and refused input leaving everything as it was.
func TestSetComponentSupport(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store, _ Config) {
		b := importSupportSBOM(t, s)
		q0 := *b.Quality
		set := func(refs []string, ch ComponentSupport) (SupportUpdate, error) {
			return s.SetComponentSupport(ctx, "ed@example.com", b.ID, refs, ch)
		}
		up := must[SupportUpdate](t)(set([]string{"wolf"}, ComponentSupport{Support: ptr("actively-maintained"), EndOfSupport: ptr(" 2027-12-31 ")}))
		c := up.Components[0]
		if up.Changed != 1 || c.Before != nil || c.After == nil || c.After.PURL != "pkg:generic/wolfssl@5.6.4" || c.Support != "actively-maintained" ||
			c.EndOfSupport != "2027-12-31" || c.Source != "sidecar" || up.Quality == nil || *up.Quality <= q0 || *up.QualityBefore != q0 {
			t.Fatalf("first change: %+v", up)
		}
		if got := must[SBOM](t)(s.SBOM(ctx, b.ID)); *got.Quality != *up.Quality {
			t.Errorf("stored quality %d, update says %d", *got.Quality, *up.Quality)
		}
		sc := storedSidecar(t, s, b.ID)
		if len(sc.Components) != 1 || sc.Components[0].EndOfSupport != "2027-12-31" {
			t.Fatalf("sidecar: %+v", sc)
		}
		// No purl: by name and version. Partial change keeps the other field.
		must[SupportUpdate](t)(set([]string{"fatfs"}, ComponentSupport{Support: ptr("no-longer-maintained")}))
		up = must[SupportUpdate](t)(set([]string{"fatfs"}, ComponentSupport{EndOfSupport: ptr("2024-01-31"), Note: ptr("replaced by LittleFS in 3.0")}))
		if c := up.Components[0]; c.Before == nil || c.Before.Support != "no-longer-maintained" || c.After.Name != "FatFs" || c.After.Version != "R0.15" ||
			c.After.Support != "no-longer-maintained" || c.After.EndOfSupport != "2024-01-31" || c.Note != "replaced by LittleFS in 3.0" {
			t.Errorf("FatFs: %+v", c)
		}
		if n := len(componentSupportAudits(t, s, b.ID)); n != 3 {
			t.Errorf("%d audit entries after three changes", n)
		}
		// The same values again: no change, no write, no audit.
		hash := storedHash(t, s, b.ID)
		up = must[SupportUpdate](t)(set([]string{"wolf"}, ComponentSupport{Support: ptr("actively-maintained"), EndOfSupport: ptr("2027-12-31")}))
		if up.Changed != 0 || up.Components[0].Changed || storedHash(t, s, b.ID) != hash || len(componentSupportAudits(t, s, b.ID)) != 3 {
			t.Errorf("unchanged: %+v", up)
		}

		// Refused: nothing changes.
		for _, c := range []struct {
			name string
			refs []string
			ch   ComponentSupport
			want error
			says string
		}{
			{"unknown level", []string{"wolf"}, ComponentSupport{Support: ptr("sometimes")}, ErrInvalid, `level of support "sometimes" is not one of`},
			{"bad date", []string{"wolf"}, ComponentSupport{EndOfSupport: ptr("2027-02-30")}, ErrInvalid, "is not a date YYYY-MM-DD"},
			{"timestamp", []string{"wolf"}, ComponentSupport{EndOfSupport: ptr("2027-02-01T00:00:00Z")}, ErrInvalid, "is not a date YYYY-MM-DD"},
			{"nothing", []string{"wolf"}, ComponentSupport{}, ErrInvalid, "give a level of support"},
			{"control character", []string{"wolf"}, ComponentSupport{Note: ptr("a\x00b")}, ErrInvalid, "note"},
			{"no component", nil, ComponentSupport{Support: ptr("unknown")}, ErrInvalid, "at least one component"},
			{"other SBOM's component", []string{"wolf", "openssl"}, ComponentSupport{Support: ptr("unknown")}, ErrNotFound, `"openssl" is not in SBOM`},
			{"primary", []string{"pump"}, ComponentSupport{Support: ptr("unknown")}, ErrInvalid, "primary component"},
		} {
			_, err := set(c.refs, c.ch)
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.says) {
				t.Errorf("%s: %v, want %v with %q", c.name, err, c.want, c.says)
			}
		}
		if _, err := s.SetComponentSupport(ctx, "ed@example.com", 9999, []string{"wolf"}, ComponentSupport{Support: ptr("unknown")}); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown SBOM: %v", err)
		}
		if storedHash(t, s, b.ID) != hash || len(componentSupportAudits(t, s, b.ID)) != 3 {
			t.Error("a refused change was stored")
		}

		// Several at once (bulk), then clearing everything leaves no support file.
		up = must[SupportUpdate](t)(set([]string{"wolf", "tel", "tel"}, ComponentSupport{Support: ptr("unknown")}))
		if up.Changed != 2 || len(up.Components) != 2 || len(storedSidecar(t, s, b.ID).Components) != 3 {
			t.Errorf("bulk: %+v", up)
		}
		empty := ComponentSupport{Support: ptr(""), EndOfSupport: ptr(""), Note: ptr("")}
		up = must[SupportUpdate](t)(set([]string{"wolf", "fatfs", "tel"}, empty))
		if up.Changed != 3 || up.SupportSHA256 != "" || storedSidecar(t, s, b.ID) != nil || *up.Quality != q0 {
			t.Errorf("cleared: %+v, sidecar %+v", up, storedSidecar(t, s, b.ID))
		}
		if got := must[SBOM](t)(s.SBOM(ctx, b.ID)); *got.Quality != q0 {
			t.Errorf("quality after clearing: %d, want %d", *got.Quality, q0)
		}
		verifyOK(t, s)
	})
}

func storedHash(t *testing.T, s *Store, id int64) string {
	t.Helper()
	var h *string
	if err := s.rdb.QueryRow(s.rebind("SELECT support_sha256 FROM sboms WHERE id = ?"), id).Scan(&h); err != nil {
		t.Fatal(err)
	}
	if h == nil {
		return ""
	}
	return *h
}

// TestComponentSupportAndUploadedSidecar: a wider entry from an uploaded file (every version of
// FatFs) is kept; the component gets its own entry, starting from what the wider one says.
// Uploading a file recomputes the quality too.
func TestComponentSupportAndUploadedSidecar(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store, _ Config) {
		b := importSupportSBOM(t, s)
		file := "schema: vigil/sbom-support/v1\ncomponents:\n  - name: FatFs\n    support: actively-maintained\n    note: maintainer publishes no end-of-support date\n" +
			"  - purl: pkg:generic/wolfssl\n    support: actively-maintained\n    end_of_support: 2026-12-31\n"
		noErr(t, s.SetSBOMSupport(ctx, "ed@example.com", b.ID, []byte(file)))
		q1 := *must[SBOM](t)(s.SBOM(ctx, b.ID)).Quality
		if q1 <= *b.Quality {
			t.Errorf("quality after uploading a support file: %d, was %d", q1, *b.Quality)
		}
		up := must[SupportUpdate](t)(s.SetComponentSupport(ctx, "ed@example.com", b.ID, []string{"fatfs"}, ComponentSupport{EndOfSupport: ptr("2029-03-31")}))
		c := up.Components[0]
		if c.Before != nil || c.After.Name != "FatFs" || c.After.Version != "R0.15" || c.Support != "actively-maintained" || c.EndOfSupport != "2029-03-31" ||
			c.Note != "maintainer publishes no end-of-support date" {
			t.Errorf("FatFs R0.15: %+v", c)
		}
		// The version-less purl entry is more general than the component's own (purl with version).
		must[SupportUpdate](t)(s.SetComponentSupport(ctx, "ed@example.com", b.ID, []string{"wolf"}, ComponentSupport{Support: ptr("abandoned")}))
		sc := storedSidecar(t, s, b.ID)
		if len(sc.Components) != 4 || sc.Components[0].Name != "FatFs" || sc.Components[0].Version != "" || sc.Components[1].PURL != "pkg:generic/wolfssl" ||
			sc.Components[1].Support != "actively-maintained" || sc.Components[3].PURL != "pkg:generic/wolfssl@5.6.4" || sc.Components[3].Support != "abandoned" ||
			sc.Components[3].EndOfSupport != "2026-12-31" {
			t.Errorf("sidecar: %+v", sc.Components)
		}
		verifyOK(t, s)
	})
}

// TestComponentSupportConcurrent: two editors saving different rows at the same time both keep
// their change (the sidecar is read and written in one transaction).
func TestComponentSupportConcurrent(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store, _ Config) {
		b := importSupportSBOM(t, s)
		var wg sync.WaitGroup
		errs := make(chan error, 30)
		for i := range 30 {
			ref := []string{"wolf", "fatfs", "tel"}[i%3]
			date := []string{"2027-01-31", "2027-02-28", "2027-03-31"}[i%3]
			wg.Go(func() {
				_, err := s.SetComponentSupport(ctx, "ed@example.com", b.ID, []string{ref}, ComponentSupport{Support: ptr("actively-maintained"), EndOfSupport: ptr(date)})
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			noErr(t, err)
		}
		if sc := storedSidecar(t, s, b.ID); len(sc.Components) != 3 {
			t.Errorf("sidecar after concurrent saves: %+v", sc.Components)
		}
		if n := len(componentSupportAudits(t, s, b.ID)); n != 3 {
			t.Errorf("%d audit entries, want 3 (one per component)", n)
		}
		verifyOK(t, s)
	})
}
