package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-med/vigil/auth"
	"github.com/vigil-med/vigil/portfolio"
	"github.com/vigil-med/vigil/sbom"
	"github.com/vigil-med/vigil/store"
)

// pumpSBOM is a small, complete CycloneDX SBOM whose components lack support data: setting one
// component's support moves the quality score visibly.
const pumpSBOM = `{"bomFormat":"CycloneDX","specVersion":"1.6","serialNumber":"urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79","version":1,
 "metadata":{"timestamp":"2025-01-01T00:00:00Z","authors":[{"name":"Acme Medical"}],
  "component":{"type":"firmware","bom-ref":"pump","name":"InsuPump firmware","version":"2.1.0","supplier":{"name":"Acme Medical"}}},
 "components":[
  {"type":"library","bom-ref":"pkg:generic/wolfssl@5.6.4","name":"wolfSSL","version":"5.6.4","purl":"pkg:generic/wolfssl@5.6.4","supplier":{"name":"wolfSSL Inc."},
   "hashes":[{"alg":"SHA-256","content":"0000000000000000000000000000000000000000000000000000000000000001"}],"licenses":[{"license":{"id":"GPL-2.0-or-later"}}]},
  {"type":"library","bom-ref":"fatfs","name":"FatFs","version":"R0.15","supplier":{"name":"ChaN"},"cpe":"cpe:2.3:a:chan:fatfs:r0.15:*:*:*:*:*:*:*",
   "hashes":[{"alg":"SHA-256","content":"0000000000000000000000000000000000000000000000000000000000000002"}],"licenses":[{"license":{"id":"BSD-1-Clause"}}]},
  {"type":"library","bom-ref":"pkg:golang/github.com/acme/telemetry@v1.4.0","name":"github.com/acme/telemetry","version":"v1.4.0","purl":"pkg:golang/github.com/acme/telemetry@v1.4.0","supplier":{"name":"Acme Medical"},
   "hashes":[{"alg":"SHA-256","content":"0000000000000000000000000000000000000000000000000000000000000003"}],"licenses":[{"license":{"id":"Apache-2.0"}}]}
 ],
 "dependencies":[{"ref":"pump","dependsOn":["pkg:generic/wolfssl@5.6.4","fatfs","pkg:golang/github.com/acme/telemetry@v1.4.0"]},
  {"ref":"pkg:generic/wolfssl@5.6.4","dependsOn":[]},{"ref":"fatfs","dependsOn":[]},{"ref":"pkg:golang/github.com/acme/telemetry@v1.4.0","dependsOn":[]}]}`

const wolfRef = "pkg:generic/wolfssl@5.6.4"

// pumpHarness is a harness whose insulin pump version has pumpSBOM stored; it returns the SBOM.
func pumpHarness(t *testing.T, dsn string) (*harness, store.SBOM) {
	t.Helper()
	h := newHarness(t, dsn)
	v, _ := h.firstVersion()
	res, err := portfolio.ImportSBOM(context.Background(), h.st, "test", v.ID, "firmware", "pump.cdx.json", []byte(pumpSBOM), false)
	if err != nil {
		t.Fatal(err)
	}
	return h, res.SBOM
}

// sidecarOf returns the stored support file of an SBOM, parsed (nil when there is none).
func sidecarOf(t *testing.T, h *harness, id int64) *sbom.Sidecar {
	t.Helper()
	data, err := h.st.SBOMSupport(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if data == nil {
		return nil
	}
	sc, err := sbom.ParseSidecar("support.yaml", data)
	if err != nil {
		t.Fatalf("stored support file: %v\n%s", err, data)
	}
	return sc
}

func storedQuality(t *testing.T, h *harness, id int64) int {
	t.Helper()
	b, err := h.st.SBOM(context.Background(), id)
	if err != nil || b.Quality == nil {
		t.Fatalf("sbom %d: %v %+v", id, err, b)
	}
	return *b.Quality
}

var qualityRe = regexp.MustCompile(`Quality: (\d+)/100`)

func pageQuality(t *testing.T, body string) int {
	t.Helper()
	m := qualityRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no quality on the page:\n%s", trim(body))
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func auditOf(t *testing.T, h *harness, id int64) []store.AuditEntry {
	t.Helper()
	es, err := h.st.AuditFor(context.Background(), "sbom", strconv.FormatInt(id, 10), 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.AuditEntry
	for _, e := range es {
		if e.Action == "sbom.component_support" {
			out = append(out, e)
		}
	}
	return out
}

// TestComponentSupportForm sets a component's level of support and end of support with the
// SBOM page's row form: stored in the support file, quality recomputed, audited; refused input
// stores nothing.
func TestComponentSupportForm(t *testing.T) {
	h, b := pumpHarness(t, "")
	ctx := context.Background()
	editor := h.login(auth.Editor)
	path := fmt.Sprintf("/sboms/%d/components/support", b.ID)
	page := editor.get(fmt.Sprintf("/sboms/%d", b.ID))
	if page.status != 200 || !strings.Contains(page.body, `action="`+path+`"`) || !strings.Contains(page.body, `name="ref" value="`+wolfRef+`"`) ||
		strings.Contains(page.body, `name="ref" value="pump"`) || !strings.Contains(page.body, "primary component") {
		t.Fatalf("SBOM page for an editor: %d\n%s", page.status, page.body)
	}
	q0 := pageQuality(t, page.body)
	if q0 != storedQuality(t, h, b.ID) {
		t.Fatalf("page quality %d, stored %d", q0, storedQuality(t, h, b.ID))
	}
	row := func(ref, level, date string) url.Values {
		return url.Values{"csrf_token": {editor.csrf}, "ref": {ref}, "row": {"1"}, "support": {level}, "end_of_support": {date}}
	}

	// Row form: post/redirect/get back to the row.
	r := editor.postForm(path, row(wolfRef, "actively-maintained", "2027-12-31"))
	loc := r.header.Get("Location")
	if r.status != http.StatusSeeOther || !strings.HasPrefix(loc, fmt.Sprintf("/sboms/%d?flash=", b.ID)) || !strings.HasSuffix(loc, "#c-1") {
		t.Fatalf("row form: %d %q %s", r.status, loc, trim(r.body))
	}
	sc := sidecarOf(t, h, b.ID)
	if sc == nil || len(sc.Components) != 1 || sc.Components[0].PURL != wolfRef || sc.Components[0].Support != "actively-maintained" || sc.Components[0].EndOfSupport != "2027-12-31" {
		t.Fatalf("support file after the row form: %+v", sc)
	}
	q1 := storedQuality(t, h, b.ID)
	page = editor.get(strings.TrimSuffix(loc, "#c-1"))
	if q1 <= q0 || pageQuality(t, page.body) != q1 || !strings.Contains(page.body, "wolfSSL 5.6.4: actively maintained until 2027-12-31; quality "+strconv.Itoa(q1)+"/100.") {
		t.Errorf("quality %d -> stored %d, page %d; flash missing?\n%s", q0, q1, pageQuality(t, page.body), trim(page.body))
	}
	if !strings.Contains(page.body, `value="2027-12-31"`) || !strings.Contains(page.body, `<option value="actively-maintained" selected>`) || !strings.Contains(page.body, "Level of support</td><td>required</td><td>FDA premarket guidance V.A.4</td><td class=\"num\">1 / 3") {
		t.Errorf("row or coverage not updated on the page:\n%s", page.body)
	}
	if tpl := editor.get(fmt.Sprintf("/sboms/%d/support-template", b.ID)); !strings.Contains(tpl.body, "end_of_support: \"2027-12-31\"") && !strings.Contains(tpl.body, "end_of_support: 2027-12-31") {
		t.Errorf("downloaded support file lacks the date:\n%s", tpl.body)
	}
	if fs := h.login(auth.Viewer).get(fmt.Sprintf("/versions/%d/findings", b.DeviceVersionID)); !strings.Contains(fs.body, strconv.Itoa(q1)+"/100") {
		t.Errorf("findings page does not show the new quality %d", q1)
	}
	au := auditOf(t, h, b.ID)
	if len(au) != 1 || au[0].Actor != "editor@example.com" || !strings.Contains(string(au[0].Before), `"entry":null`) ||
		!strings.Contains(string(au[0].After), `"end_of_support":"2027-12-31"`) || !strings.Contains(string(au[0].After), `"ref":"`+wolfRef+`"`) {
		t.Errorf("audit: %+v", au)
	}

	// Changing the date updates the same entry; the audit keeps before and after.
	if r := editor.postForm(path, row(wolfRef, "actively-maintained", "2028-06-30")); r.status != http.StatusSeeOther {
		t.Fatalf("second save: %d %s", r.status, trim(r.body))
	}
	if sc := sidecarOf(t, h, b.ID); len(sc.Components) != 1 || sc.Components[0].EndOfSupport != "2028-06-30" {
		t.Errorf("support file after the second save: %+v", sc)
	}
	au = auditOf(t, h, b.ID)
	if len(au) != 2 || !strings.Contains(string(au[0].Before), "2027-12-31") || !strings.Contains(string(au[0].After), "2028-06-30") {
		t.Errorf("audit of the change: %+v", au)
	}
	// Saving the same values again changes nothing and audits nothing.
	if r := editor.postForm(path, row(wolfRef, "actively-maintained", "2028-06-30")); r.status != http.StatusSeeOther || !strings.Contains(r.header.Get("Location"), "No+change") && !strings.Contains(r.header.Get("Location"), "No%20change") {
		t.Errorf("unchanged save: %d %s", r.status, r.header.Get("Location"))
	}
	if n := len(auditOf(t, h, b.ID)); n != 2 {
		t.Errorf("%d audit entries after an unchanged save", n)
	}
	// A component without a package URL is named by name and version.
	if r := editor.postForm(path, row("fatfs", "no-longer-maintained", "2024-01-31")); r.status != http.StatusSeeOther {
		t.Fatalf("FatFs: %d %s", r.status, trim(r.body))
	}
	if sc := sidecarOf(t, h, b.ID); len(sc.Components) != 2 || sc.Components[1].Name != "FatFs" || sc.Components[1].Version != "R0.15" || sc.Components[1].PURL != "" {
		t.Errorf("support file after FatFs: %+v", sc.Components)
	}

	// Refused: nothing is stored, the page says why.
	before, _ := h.st.SBOMSupport(ctx, b.ID)
	nAudit := len(auditOf(t, h, b.ID))
	bad := []struct {
		name   string
		form   url.Values
		status int
		says   string
	}{
		{"unknown level", row(wolfRef, "sometimes", "2027-12-31"), 400, `level of support &#34;sometimes&#34; is not one of actively-maintained, no-longer-maintained, abandoned, unknown`},
		{"bad date", row(wolfRef, "actively-maintained", "2027-13-01"), 400, `end of support &#34;2027-13-01&#34; is not a date YYYY-MM-DD`},
		{"other date format", row(wolfRef, "actively-maintained", "31/12/2027"), 400, `is not a date YYYY-MM-DD`},
		{"timestamp", row(wolfRef, "actively-maintained", "2027-12-31T00:00:00Z"), 400, `is not a date YYYY-MM-DD`},
		{"not in this SBOM", row("pkg:generic/openssl@3.0.0", "actively-maintained", "2027-12-31"), 404, "not in this SBOM"},
		{"primary component", row("pump", "actively-maintained", "2027-12-31"), 400, "primary component"},
		{"no component", url.Values{"csrf_token": {editor.csrf}, "support": {"unknown"}}, 400, "names no component"},
	}
	for _, c := range bad {
		r := editor.postForm(path, c.form)
		if r.status != c.status || !strings.Contains(r.body, c.says) || !strings.Contains(r.body, "Nothing was saved") || !strings.Contains(r.body, `role="alert"`) {
			t.Errorf("%s: %d, want %d with %q:\n%s", c.name, r.status, c.status, c.says, r.body)
		}
	}
	if r := editor.postForm(path, row(wolfRef, "sometimes", "")); !strings.Contains(r.body, `<tr id="c-1" class="row-error">`) || !strings.Contains(r.body, "wolfSSL 5.6.4: level of support") {
		t.Errorf("the refused row is not marked:\n%s", r.body)
	}
	// Viewers may not; without the CSRF token nobody may.
	viewer := h.login(auth.Viewer)
	if r := viewer.postForm(path, url.Values{"csrf_token": {viewer.csrf}, "ref": {wolfRef}, "support": {"abandoned"}, "end_of_support": {""}}); r.status != http.StatusForbidden {
		t.Errorf("viewer: %d", r.status)
	}
	if p := viewer.get(fmt.Sprintf("/sboms/%d", b.ID)); strings.Contains(p.body, path) || !strings.Contains(p.body, "until 2028-06-30") || !strings.Contains(p.body, "actively maintained") {
		t.Errorf("viewer's SBOM page:\n%s", p.body)
	}
	for _, tok := range []string{"", "forged"} {
		f := row(wolfRef, "abandoned", "")
		f.Set("csrf_token", tok)
		if r := editor.postForm(path, f); r.status != http.StatusForbidden || !strings.Contains(r.body, "CSRF") {
			t.Errorf("CSRF token %q: %d", tok, r.status)
		}
	}
	after, _ := h.st.SBOMSupport(ctx, b.ID)
	if string(after) != string(before) || len(auditOf(t, h, b.ID)) != nAudit {
		t.Errorf("refused requests changed the support file or the audit trail:\n%s", after)
	}

	// Clearing both fields removes the entry; the SBOM's own data (none here) shows again.
	if r := editor.postForm(path, row("fatfs", "", "")); r.status != http.StatusSeeOther {
		t.Fatalf("clear: %d %s", r.status, trim(r.body))
	}
	if sc := sidecarOf(t, h, b.ID); len(sc.Components) != 1 || sc.Components[0].PURL != wolfRef {
		t.Errorf("support file after clearing FatFs: %+v", sc.Components)
	}

	// Bulk: every component of one supplier (not the primary one, also Acme's), then the ticked rows.
	bulk := url.Values{"csrf_token": {editor.csrf}, "bulk": {"1"}, "scope": {"supplier:Acme Medical"}, "support": {"actively-maintained"}, "end_of_support": {""}}
	if r := editor.postForm(path, bulk); r.status != http.StatusSeeOther || !strings.Contains(r.header.Get("Location"), "Acme") {
		t.Fatalf("bulk by supplier: %d %s %s", r.status, r.header.Get("Location"), trim(r.body))
	}
	sc = sidecarOf(t, h, b.ID)
	if len(sc.Components) != 2 || sc.Components[1].PURL != "pkg:golang/github.com/acme/telemetry@v1.4.0" || sc.Components[1].Support != "actively-maintained" || sc.Components[1].EndOfSupport != "" {
		t.Errorf("support file after bulk by supplier: %+v", sc.Components)
	}
	bulk = url.Values{"csrf_token": {editor.csrf}, "bulk": {"1"}, "scope": {""}, "ref": {wolfRef, "pkg:golang/github.com/acme/telemetry@v1.4.0"}, "support": {""}, "end_of_support": {"2030-01-31"}}
	if r := editor.postForm(path, bulk); r.status != http.StatusSeeOther {
		t.Fatalf("bulk ticked: %d %s", r.status, trim(r.body))
	}
	sc = sidecarOf(t, h, b.ID)
	for _, e := range sc.Components {
		if e.Support != "actively-maintained" || e.EndOfSupport != "2030-01-31" {
			t.Errorf("after bulk date (level kept): %+v", e)
		}
	}
	bulk.Del("ref")
	if r := editor.postForm(path, bulk); r.status != http.StatusBadRequest || !strings.Contains(r.body, "Tick the components") {
		t.Errorf("bulk without components: %d", r.status)
	}
	rep, err := h.st.VerifyAudit(ctx)
	if err != nil || !rep.OK {
		t.Errorf("audit chain: %+v %v", rep, err)
	}
}

// TestComponentSupportAPI: list an SBOM's components with their support and set one with PUT.
func TestComponentSupportAPI(t *testing.T) {
	h, b := pumpHarness(t, "")
	token := func(role auth.Role) string {
		tok, hash, _ := auth.NewToken("vgl_")
		if _, err := h.st.CreateAPIToken(context.Background(), "test", h.users[role].ID, "ci", hash); err != nil {
			t.Fatal(err)
		}
		return tok
	}
	ed, vw := token(auth.Editor), token(auth.Viewer)
	call := func(method, path, body, tok string) response {
		req, _ := http.NewRequest(method, h.ts.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		return h.anon().do(req)
	}
	put := fmt.Sprintf("/api/v1/sboms/%d/components/%s/support", b.ID, url.PathEscape(wolfRef))
	r := call("PUT", put, `{"support":"no-longer-maintained","end_of_support":"2025-06-30","note":"replaced by 5.7 in the next release"}`, ed)
	var out struct {
		Ref, Support, Source string
		EndOfSupport         string `json:"end_of_support"`
		Changed              bool
		Quality              int
		After                *sbom.SupportEntry
	}
	if err := json.Unmarshal([]byte(r.body), &out); err != nil || r.status != 200 || out.Ref != wolfRef || out.Support != "no-longer-maintained" || out.EndOfSupport != "2025-06-30" ||
		out.Source != "sidecar" || !out.Changed || out.Quality != storedQuality(t, h, b.ID) || out.After == nil || out.After.Note == "" {
		t.Fatalf("PUT: %d %v %s", r.status, err, r.body)
	}
	// A field left out is kept.
	if r := call("PUT", put, `{"end_of_support":"2025-07-31"}`, ed); r.status != 200 || !strings.Contains(r.body, `"support": "no-longer-maintained"`) || !strings.Contains(r.body, "2025-07-31") {
		t.Errorf("partial PUT: %d %s", r.status, r.body)
	}
	list := call("GET", fmt.Sprintf("/api/v1/sboms/%d/components", b.ID), "", vw)
	if list.status != 200 || !strings.Contains(list.body, `"total": 4`) || !strings.Contains(list.body, `"end_of_support": "2025-07-31"`) || !strings.Contains(list.body, `"primary": true`) {
		t.Errorf("components: %d %s", list.status, list.body)
	}
	for _, c := range []struct {
		path, body, tok string
		status          int
		says            string
	}{
		{put, `{"support":"sometimes"}`, ed, 400, "level of support"},
		{put, `{"end_of_support":"2025-02-30"}`, ed, 400, "not a date YYYY-MM-DD"},
		{put, `{"colour":"red"}`, ed, 400, "colour"},
		{put, `{}`, ed, 400, "give a level of support"},
		{put, `{"support":"abandoned"}`, vw, 403, "permission"},
		{fmt.Sprintf("/api/v1/sboms/%d/components/%s/support", b.ID, url.PathEscape("pkg:generic/none@1")), `{"support":"abandoned"}`, ed, 404, "no component with ref"},
		{fmt.Sprintf("/api/v1/sboms/%d/components/pump/support", b.ID), `{"support":"abandoned"}`, ed, 400, "primary component"},
		{"/api/v1/sboms/999/components/x/support", `{"support":"abandoned"}`, ed, 404, "not found"},
	} {
		if r := call("PUT", c.path, c.body, c.tok); r.status != c.status || !strings.Contains(r.body, c.says) || !strings.Contains(r.body, `"error"`) {
			t.Errorf("PUT %s %s: %d, want %d with %q: %s", c.path, c.body, r.status, c.status, c.says, r.body)
		}
	}
	if sc := sidecarOf(t, h, b.ID); len(sc.Components) != 1 || sc.Components[0].EndOfSupport != "2025-07-31" {
		t.Errorf("support file after refused calls: %+v", sc.Components)
	}
}
