package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vigil-med/vigil/auth"
	"github.com/vigil-med/vigil/store"
	"github.com/vigil-med/vigil/vex"
	"github.com/vigil-med/vigil/vuln"
)

const portfolioSBOM = `{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,
  "metadata":{"component":{"type":"device","bom-ref":"device","name":"InsuPump X2 firmware","version":"2.1.0"}},
  "components":[
    {"type":"library","bom-ref":"log4j","group":"org.apache.logging.log4j","name":"log4j-core","version":"2.14.1","purl":"pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"},
    {"type":"library","bom-ref":"xnet","name":"golang.org/x/net","version":"v0.5.0","purl":"pkg:golang/golang.org/x/net@v0.5.0"}]}`

// loadAdvisories stores two synthetic advisories that hit portfolioSBOM.
func loadAdvisories(t *testing.T, st *store.Store) {
	t.Helper()
	recs := []string{
		`{"id":"TEST-LOG4J","modified":"2024-01-01T00:00:00Z","aliases":["CVE-2021-44228"],"summary":"log4j lookups",
		  "severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"}],
		  "affected":[{"package":{"ecosystem":"Maven","name":"org.apache.logging.log4j:log4j-core"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"2.0"},{"fixed":"2.15.0"}]}]}]}`,
		`{"id":"TEST-XNET","modified":"2024-01-01T00:00:00Z","aliases":["CVE-2099-0001"],"summary":"x/net flaw",
		  "affected":[{"package":{"ecosystem":"Go","name":"golang.org/x/net"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"0.7.0"}]}]}]}`,
	}
	_, err := st.ImportVulnFeeds(context.Background(), store.ActorSystem, func(imp *store.VulnImport) error {
		if err := imp.Begin("test", "osv"); err != nil {
			return err
		}
		for _, r := range recs {
			a, err := vuln.ParseOSV([]byte(r), "test.json")
			if err != nil {
				return err
			}
			if err := imp.Advisory(a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestPortfolioAPI(t *testing.T) {
	h := newHarness(t, "")
	ctx := context.Background()
	loadAdvisories(t, h.st)
	tokens := map[auth.Role]string{}
	for _, role := range auth.Roles {
		tok, hash, _ := auth.NewToken("vgl_")
		if _, err := h.st.CreateAPIToken(ctx, "test", h.users[role].ID, "t", hash); err != nil {
			t.Fatal(err)
		}
		tokens[role] = tok
	}
	call := func(role auth.Role, method, path, contentType string, body io.Reader) response {
		t.Helper()
		req, _ := http.NewRequest(method, h.ts.URL+path, body)
		req.Header.Set("Authorization", "Bearer "+tokens[role])
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		return h.anon().do(req)
	}
	jsonCall := func(role auth.Role, method, path, body string) response {
		t.Helper()
		return call(role, method, path, "application/json", strings.NewReader(body))
	}
	v, _ := h.firstVersion()
	base := fmt.Sprintf("/api/v1/versions/%d", v.ID)

	// Upload: viewers may not, editors may; a bad file is refused with the reader's message.
	upload := func(role auth.Role, label, name, content string) response {
		ct, body := multipartBody(t, map[string]string{"label": label}, name, []byte(content))
		return call(role, "POST", base+"/sboms", ct, body)
	}
	if r := upload(auth.Viewer, "firmware", "fw.cdx.json", portfolioSBOM); r.status != 403 {
		t.Errorf("viewer upload: %d", r.status)
	}
	if r := upload(auth.Editor, "firmware", "fw.cdx.json", `{"bomFormat":"CycloneDX","specVersion":"9.9"}`); r.status != 400 || !strings.Contains(r.body, "fw.cdx.json") || !strings.Contains(r.body, "specVersion") {
		t.Errorf("bad sbom: %d %s", r.status, r.body)
	}
	r := upload(auth.Editor, "firmware", "fw.cdx.json", portfolioSBOM)
	var imported store.SBOMImport
	if r.status != 201 || json.Unmarshal([]byte(r.body), &imported) != nil || imported.SBOM.Components != 3 || imported.Findings.Open != 2 || len(imported.Findings.New) != 2 {
		t.Fatalf("upload: %d %s", r.status, trim(r.body))
	}
	if r := upload(auth.Editor, "firmware", "fw.cdx.json", portfolioSBOM); r.status != 409 {
		t.Errorf("same label: %d %s", r.status, r.body)
	}
	if r := call(auth.Viewer, "GET", base+"/sboms", "", nil); r.status != 200 || !strings.Contains(r.body, `"label": "firmware"`) || !strings.Contains(r.body, `"total": 1`) {
		t.Errorf("list sboms: %d %s", r.status, trim(r.body))
	}

	// Findings with filters.
	var pg struct {
		Items []store.Finding `json:"items"`
		Total int             `json:"total"`
	}
	get := func(path string) {
		t.Helper()
		r := call(auth.Viewer, "GET", path, "", nil)
		pg.Items, pg.Total = nil, 0
		if r.status != 200 || json.Unmarshal([]byte(r.body), &pg) != nil {
			t.Fatalf("GET %s: %d %s", path, r.status, trim(r.body))
		}
	}
	get(base + "/findings")
	if pg.Total != 2 || pg.Items[0].Advisory != "TEST-LOG4J" || pg.Items[0].Severity.Rating != "critical" || pg.Items[0].VEX != nil {
		t.Errorf("findings: %+v", pg)
	}
	get(base + "/findings?severity=critical,high")
	if pg.Total != 1 {
		t.Errorf("severity filter: %d", pg.Total)
	}
	for q, status := range map[string]int{"?severity=urgent": 400, "?kev=maybe": 400, "?status=ignored": 400, "?status=untriaged": 200} {
		if r := call(auth.Viewer, "GET", base+"/findings"+q, "", nil); r.status != status {
			t.Errorf("findings%s: %d", q, r.status)
		}
	}

	// VEX decisions: affected is an editor's call; not_affected and fixed are approvers'.
	affected := `{"advisory":"CVE-2021-44228","status":"affected","action_statement":"Update to firmware 2.1.1."}`
	if r := jsonCall(auth.Viewer, "PUT", base+"/findings/vex", affected); r.status != 403 {
		t.Errorf("viewer vex: %d", r.status)
	}
	if r := jsonCall(auth.Editor, "PUT", base+"/findings/vex", affected); r.status != 200 || !strings.Contains(r.body, `"author": "editor@example.com"`) {
		t.Errorf("editor affected: %d %s", r.status, r.body)
	}
	notAffected := `{"advisory":"TEST-XNET","component":"pkg:golang/golang.org/x/net@v0.5.0","status":"not_affected","justification":"vulnerable_code_not_in_execute_path","impact_statement":"No HTTP/2."}`
	if r := jsonCall(auth.Editor, "PUT", base+"/findings/vex", notAffected); r.status != 403 || !strings.Contains(r.body, "approvers") {
		t.Errorf("editor not_affected: %d %s", r.status, r.body)
	}
	if r := jsonCall(auth.Editor, "PUT", base+"/findings/vex", `{"advisory":"TEST-XNET","status":"fixed"}`); r.status != 403 {
		t.Errorf("editor fixed: %d %s", r.status, r.body)
	}
	if r := jsonCall(auth.Approver, "PUT", base+"/findings/vex", notAffected); r.status != 200 || !strings.Contains(r.body, `"status": "not_affected"`) {
		t.Errorf("approver not_affected: %d %s", r.status, r.body)
	}
	if r := jsonCall(auth.Approver, "PUT", base+"/findings/vex", `{"advisory":"TEST-XNET","status":"not_affected"}`); r.status != 400 || !strings.Contains(r.body, "justification") {
		t.Errorf("not_affected without why: %d %s", r.status, r.body)
	}
	if r := jsonCall(auth.Approver, "PUT", base+"/findings/vex", `{"advisory":"CVE-1999-1","status":"under_investigation"}`); r.status != 404 || !strings.Contains(r.body, "no finding of CVE-1999-1") {
		t.Errorf("unknown finding: %d %s", r.status, r.body)
	}
	if r := jsonCall(auth.Approver, "PUT", base+"/findings/vex", `{"advisory":"TEST-XNET","status":"maybe"}`); r.status != 400 {
		t.Errorf("bad status: %d %s", r.status, r.body)
	}
	get(base + "/findings?status=not_affected")
	if pg.Total != 1 || pg.Items[0].VEX == nil || pg.Items[0].VEX.Author != "approver@example.com" {
		t.Errorf("status filter: %+v", pg)
	}
	hist, _ := h.st.VEXHistory(ctx, v.ID, "TEST-XNET", "pkg:golang/golang.org/x/net@v0.5.0")
	if len(hist) != 1 || hist[0].Actor != "approver@example.com" {
		t.Errorf("audit: %+v", hist)
	}

	// VEX documents in the three formats.
	for _, format := range vex.FormatNames {
		r := call(auth.Viewer, "GET", base+"/vex?format="+format+"&namespace="+url.QueryEscape("https://psirt.acme.example"), "", nil)
		if r.status != 200 || r.header.Get("Content-Type") != vex.ContentType(format) || !strings.Contains(r.header.Get("Content-Disposition"), vex.FileExtension(format)) {
			t.Fatalf("vex %s: %d %v %s", format, r.status, r.header, trim(r.body))
		}
		doc, err := vex.Parse("api", []byte(r.body))
		if err != nil || len(doc.Statements) != 2 {
			t.Errorf("vex %s: %v %+v", format, err, doc)
		}
		if format == vex.FormatCSAF {
			if problems, err := vex.ValidateCSAF([]byte(r.body)); err != nil || len(problems) > 0 {
				t.Errorf("CSAF from the API invalid: %v %v", err, problems)
			}
		}
	}
	if r := call(auth.Viewer, "GET", base+"/vex?format=spdx", "", nil); r.status != 400 {
		t.Errorf("bad format: %d", r.status)
	}

	// Impact across the portfolio, and new findings.
	r = call(auth.Viewer, "GET", "/api/v1/advisories/CVE-2021-44228/impact", "", nil)
	var imp struct {
		Affected  []store.ImpactEntry `json:"affected"`
		ElapsedMS float64             `json:"elapsed_ms"`
	}
	if r.status != 200 || json.Unmarshal([]byte(r.body), &imp) != nil || len(imp.Affected) != 1 || imp.Affected[0].DeviceVersionID != v.ID ||
		imp.Affected[0].VEX == nil || imp.Affected[0].VEX.Status != "affected" {
		t.Errorf("impact: %d %s", r.status, trim(r.body))
	}
	if r := call(auth.Viewer, "GET", "/api/v1/advisories/CVE-1999-0001/impact", "", nil); r.status != 404 {
		t.Errorf("unknown advisory: %d", r.status)
	}
	get("/api/v1/findings/new?since=" + url.QueryEscape(time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)))
	if pg.Total != 2 || pg.Items[0].ProductName == "" {
		t.Errorf("new findings: %+v", pg)
	}
	get("/api/v1/findings/new?since=" + url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339)))
	if pg.Total != 0 {
		t.Errorf("new findings in the future: %d", pg.Total)
	}
	if r := call(auth.Viewer, "GET", "/api/v1/findings/new?since=yesterday", "", nil); r.status != 400 {
		t.Errorf("bad since: %d", r.status)
	}
	rep, _ := h.st.VerifyAudit(ctx)
	if !rep.OK {
		t.Errorf("audit chain: %+v", rep)
	}
}
