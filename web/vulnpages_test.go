package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/vigil-med/vigil/auth"
	"github.com/vigil-med/vigil/portfolio"
	"github.com/vigil-med/vigil/store"
	"github.com/vigil-med/vigil/vuln"
)

const goOSV = "../../shared/data/osv/golang-vulndb-osv.zip"
const telegrafSBOM = "../../shared/data/sboms/generated/telegraf-v1.20.0-gomod-syft.cdx.json"

// TestVulnerabilityPages walks the SBOM → findings → triage → impact flow through the pages.
func TestVulnerabilityPages(t *testing.T) {
	for _, f := range []string{goOSV, telegrafSBOM} {
		if _, err := os.Stat(f); err != nil {
			t.Skipf("shared data not present: %v", err)
		}
	}
	h := vulnHarness(t)
	ctx := context.Background()
	v, _ := h.firstVersion()
	editor := h.login(auth.Editor)
	if sb, _ := h.st.ListSBOMs(ctx, v.ID); len(sb) != 0 {
		t.Fatal("harness already has an SBOM")
	}
	data, _ := os.ReadFile(telegrafSBOM)
	ct, body := multipartBody(t, map[string]string{"csrf_token": editor.csrf, "label": "firmware"}, "telegraf.cdx.json", data)
	r := editor.postMultipart(fmt.Sprintf("/versions/%d/sboms", v.ID), ct, body)
	if r.status != http.StatusSeeOther || !strings.Contains(r.header.Get("Location"), "140+open") && !strings.Contains(r.header.Get("Location"), "140%20open") {
		t.Fatalf("SBOM upload: %d %s %s", r.status, r.header.Get("Location"), trim(r.body))
	}
	page := editor.get(fmt.Sprintf("/versions/%d/findings", v.ID))
	page2 := editor.get(fmt.Sprintf("/versions/%d/findings?page=2", v.ID))
	if page.status != 200 || !strings.Contains(page.body, "140 open finding(s)") || !strings.Contains(page.body+page2.body, "GO-2022-0969") ||
		!strings.Contains(page.body, "page 1 of 2") || !strings.Contains(page.body, "showing 1–100") || !strings.Contains(page2.body, "showing 101–140") ||
		strings.Count(page.body, `name="back_query" value="page=2"`) != 0 || strings.Count(page2.body, `name="back_query" value="page=2"`) != 40 {
		t.Fatalf("findings page: %d %s", page.status, trim(page.body))
	}
	// A bad SBOM is refused with its reason, and nothing changes.
	ct, body = multipartBody(t, map[string]string{"csrf_token": editor.csrf, "label": "app"}, "bad.cdx.json", []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"name":1}]}`))
	if r := editor.postMultipart(fmt.Sprintf("/versions/%d/sboms", v.ID), ct, body); r.status != http.StatusBadRequest || !strings.Contains(r.body, "bad.cdx.json") {
		t.Errorf("bad SBOM: %d %s", r.status, trim(r.body))
	}
	sboms, _ := h.st.ListSBOMs(ctx, v.ID)
	if len(sboms) != 1 {
		t.Fatalf("%d SBOMs stored", len(sboms))
	}
	// Triage: not_affected is a sign-off.
	fs, _ := h.st.ListFindings(ctx, v.ID, store.FindingFilter{})
	f := fs[0]
	form := url.Values{"csrf_token": {editor.csrf}, "advisory": {f.Advisory}, "component": {f.ComponentKey}, "status": {"not_affected"}, "justification": {"vulnerable_code_not_in_execute_path"}}
	if r := editor.postForm(fmt.Sprintf("/versions/%d/vex", v.ID), form); r.status != http.StatusForbidden {
		t.Errorf("editor not_affected: %d", r.status)
	}
	form.Set("status", "under_investigation")
	if r := editor.postForm(fmt.Sprintf("/versions/%d/vex", v.ID), form); r.status != http.StatusSeeOther {
		i := strings.Index(r.body, "role=\"alert\"")
		t.Errorf("editor under_investigation: %d %s", r.status, r.body[max(i, 0):min(len(r.body), max(i, 0)+400)])
	}
	approver := h.login(auth.Approver)
	form.Set("csrf_token", approver.csrf)
	form.Set("status", "not_affected")
	form.Set("impact", "The vulnerable parser is never reached from device inputs.")
	if r := approver.postForm(fmt.Sprintf("/versions/%d/vex", v.ID), form); r.status != http.StatusSeeOther {
		t.Fatalf("approver not_affected: %d %s", r.status, trim(r.body))
	}
	list, _ := h.st.ListVEX(ctx, v.ID)
	if len(list) != 1 || list[0].Status != "not_affected" || list[0].Author != "approver@example.com" {
		t.Errorf("VEX in the store: %+v", list)
	}
	if p := approver.get(fmt.Sprintf("/versions/%d/findings?status=not_affected", v.ID)); !strings.Contains(p.body, f.Advisory) || !strings.Contains(p.body, "not affected") {
		t.Errorf("filtered findings page lacks the decision")
	}
	// Impact across the portfolio, and the SBOM page.
	imp := approver.get("/vulnerabilities?advisory=" + f.Advisory)
	if imp.status != 200 || !strings.Contains(imp.body, "InsuPump X2 2.1.0") || !strings.Contains(imp.body, "not affected") {
		t.Errorf("impact page: %d %s", imp.status, trim(imp.body))
	}
	sp := approver.get(fmt.Sprintf("/sboms/%d", sboms[0].ID))
	if sp.status != 200 || !strings.Contains(sp.body, "Quality:") || !strings.Contains(sp.body, "github.com/containerd/containerd") {
		t.Errorf("SBOM page: %d %s", sp.status, trim(sp.body))
	}
	// Support level and end of support, recorded in the UI through a support file.
	tpl := editor.get(fmt.Sprintf("/sboms/%d/support-template", sboms[0].ID))
	if tpl.status != 200 || !strings.Contains(tpl.body, "vigil/sbom-support/v1") || !strings.Contains(tpl.body, "github.com/containerd/containerd") {
		t.Fatalf("support template: %d %s", tpl.status, trim(tpl.body))
	}
	side := "schema: vigil/sbom-support/v1\ncomponents:\n  - name: github.com/containerd/containerd\n    version: v1.5.0-beta.4\n    support: actively-maintained\n    end_of_support: 2027-12-31\n"
	ct, body = multipartBody(t, map[string]string{"csrf_token": editor.csrf}, "support.yaml", []byte(strings.Replace(side, "actively-maintained", "sometimes", 1)))
	if r := editor.postMultipart(fmt.Sprintf("/sboms/%d/support", sboms[0].ID), ct, body); r.status != http.StatusBadRequest || !strings.Contains(r.body, "support.yaml:5") {
		t.Errorf("bad support file: %d %s", r.status, trim(r.body))
	}
	ct, body = multipartBody(t, map[string]string{"csrf_token": editor.csrf}, "support.yaml", []byte(side))
	if r := editor.postMultipart(fmt.Sprintf("/sboms/%d/support", sboms[0].ID), ct, body); r.status != http.StatusSeeOther {
		t.Fatalf("support file: %d %s", r.status, trim(r.body))
	}
	if sp := editor.get(fmt.Sprintf("/sboms/%d", sboms[0].ID)); !strings.Contains(sp.body, "A support file is applied") || !strings.Contains(sp.body, `value="2027-12-31"`) {
		t.Errorf("SBOM page after support file (editor): %s", trim(sp.body))
	}
	if sp := h.login(auth.Viewer).get(fmt.Sprintf("/sboms/%d", sboms[0].ID)); !strings.Contains(sp.body, "until 2027-12-31") || strings.Contains(sp.body, "components/support") {
		t.Errorf("SBOM page after support file (viewer): %s", trim(sp.body))
	}
	// Export through the API with the browser session.
	ex := approver.get(fmt.Sprintf("/api/v1/versions/%d/vex?format=openvex", v.ID))
	if ex.status != 200 || !strings.Contains(ex.body, "vulnerable_code_not_in_execute_path") {
		t.Errorf("OpenVEX export: %d %s", ex.status, trim(ex.body))
	}
}

// vulnHarness is a harness with the Go advisories loaded (skips without the shared data).
func vulnHarness(t *testing.T) *harness {
	t.Helper()
	for _, f := range []string{goOSV, telegrafSBOM} {
		if _, err := os.Stat(f); err != nil {
			t.Skipf("shared data not present: %v", err)
		}
	}
	h := newHarness(t, "")
	ctx := context.Background()
	src, err := vuln.Detect(goOSV)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.st.ImportVulnFeeds(ctx, "test", func(imp *store.VulnImport) error {
		if err := imp.Begin("go", string(src.Kind)); err != nil {
			return err
		}
		return vuln.ReadOSV(ctx, src, vuln.ReadOptions{Limits: vuln.DefaultLimits, Prepare: imp.PrepareAdvisory}, imp.Advisory)
	}); err != nil {
		t.Fatal(err)
	}
	if os.Getenv("VIGIL_SCREENSHOTS") != "" && t.Name() == "TestBrowserVulnerabilityScreens" {
		v, _ := h.firstVersion()
		data, _ := os.ReadFile(telegrafSBOM)
		if _, err := portfolio.ImportSBOM(ctx, h.st, "test", v.ID, "firmware", "telegraf.cdx.json", data, false); err != nil {
			t.Fatal(err)
		}
	}
	return h
}
