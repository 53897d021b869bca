package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/vigil-med/vigil/auth"
	"github.com/vigil-med/vigil/store"
)

// concrete fills a route pattern with IDs that exist.
func (h *harness) concrete(pattern string, evID, tokID int64) string {
	v, rid := h.firstVersion()
	r := strings.NewReplacer("{$}", "", "{rid}", rid, "{eid}", fmt.Sprint(evID), "{uid}", fmt.Sprint(h.users[auth.Viewer].ID), "{tid}", fmt.Sprint(tokID), "{aid}", "CVE-2021-44228", "{sid}", "1", "{ref}", "pkg%3Agolang%2Fexample.com%2Fnone%40v1")
	p := r.Replace(pattern)
	if strings.Contains(p, "/products/{id}") {
		p = strings.Replace(p, "{id}", fmt.Sprint(v.ProductID), 1)
	}
	return strings.Replace(p, "{id}", fmt.Sprint(v.ID), 1)
}

func (h *harness) someEvidence() int64 {
	v, rid := h.firstVersion()
	ev, err := h.st.AddEvidence(context.Background(), "test", store.EvidenceInput{DeviceVersionID: v.ID, Title: "SBOM", Filename: "sbom.json", ContentType: "application/json",
		Data: []byte(`{"bomFormat":"CycloneDX"}`), Links: []store.Link{{Kind: store.LinkRequirement, TargetID: rid}}})
	if err != nil {
		h.t.Fatal(err)
	}
	return ev.ID
}

// wantPerm is the access policy, written out independently of the route table: the least role
// that may use each route ("" = anyone). A route added to the server without an entry here fails.
var wantPerm = map[string]string{
	"GET /healthz": "", "GET /metrics": "", "GET /api/openapi.json": "",
	"GET /login": "", "POST /login": "", "POST /logout": "", "GET /setup": "", "POST /setup": "",
	"GET /{$}": "viewer", "GET /products/new": "editor", "POST /products": "editor", "GET /products/{id}": "viewer",
	"POST /products/{id}/versions": "editor", "GET /versions/{id}": "viewer", "GET /versions/{id}/requirements/{rid}": "viewer",
	"POST /versions/{id}/requirements/{rid}": "editor", "POST /versions/{id}/evidence": "editor",
	"GET /evidence/{eid}/download": "viewer", "GET /catalog": "viewer", "GET /catalog/{id}": "viewer",
	"GET /audit": "admin", "GET /admin/users": "admin", "POST /admin/users": "admin", "POST /admin/users/{uid}": "admin",
	"GET /versions/{id}/findings": "viewer", "POST /versions/{id}/sboms": "editor", "POST /versions/{id}/vex": "editor",
	"GET /sboms/{sid}": "viewer", "POST /sboms/{sid}/support": "editor", "POST /sboms/{sid}/components/support": "editor",
	"GET /sboms/{sid}/support-template": "viewer", "GET /vulnerabilities": "viewer",
	"GET /account": "viewer", "POST /account/tokens": "viewer", "POST /account/tokens/{tid}/revoke": "viewer",
	"GET /api/v1/products": "viewer", "POST /api/v1/products": "editor", "GET /api/v1/products/{id}": "viewer",
	"GET /api/v1/products/{id}/versions": "viewer", "POST /api/v1/products/{id}/versions": "editor",
	"GET /api/v1/versions/{id}": "viewer", "GET /api/v1/versions/{id}/requirements": "viewer",
	"PUT /api/v1/versions/{id}/assessments/{rid}": "editor", "GET /api/v1/versions/{id}/evidence": "viewer",
	"POST /api/v1/versions/{id}/evidence": "editor", "GET /api/v1/evidence/{eid}": "viewer", "GET /api/v1/evidence/{eid}/content": "viewer",
	"POST /api/v1/versions/{id}/sboms": "editor", "GET /api/v1/versions/{id}/sboms": "viewer", "GET /api/v1/sboms/{sid}/components": "viewer",
	"PUT /api/v1/sboms/{sid}/components/{ref}/support": "editor", "GET /api/v1/versions/{id}/findings": "viewer",
	"PUT /api/v1/versions/{id}/findings/vex": "editor", "GET /api/v1/versions/{id}/vex": "viewer",
	"GET /api/v1/advisories/{aid}/impact": "viewer", "GET /api/v1/findings/new": "viewer",
}

var roleRank = map[string]int{"anonymous": 0, "viewer": 1, "editor": 2, "approver": 3, "admin": 4}

// TestRoleMatrix walks every route for anonymous visitors and each role, and checks that access
// matches the written policy above.
func TestRoleMatrix(t *testing.T) {
	h := newHarness(t, "")
	for _, rt := range h.srv.Routes() {
		if _, ok := wantPerm[rt.Method+" "+rt.Pattern]; !ok {
			t.Errorf("route %s %s has no entry in the access policy of this test", rt.Method, rt.Pattern)
		}
	}
	if len(wantPerm) != len(h.srv.Routes()) {
		t.Errorf("policy lists %d routes, server has %d", len(wantPerm), len(h.srv.Routes()))
	}
	evID := h.someEvidence()
	tok, err := h.st.CreateAPIToken(context.Background(), "test", h.users[auth.Admin].ID, "matrix", auth.HashToken("vgl_matrix"))
	if err != nil {
		t.Fatal(err)
	}
	clients := map[string]*client{"anonymous": h.anon()}
	for _, role := range auth.Roles {
		clients[string(role)] = h.login(role)
	}
	for _, rt := range h.srv.Routes() {
		path := h.concrete(rt.Pattern, evID, tok.ID)
		for _, who := range []string{"anonymous", "viewer", "editor", "approver", "admin"} {
			c := clients[who]
			if rt.Pattern == "/logout" && who != "anonymous" {
				c = h.login(auth.Role(who)) // logging out must not end the shared session
			}
			var body strings.Reader
			req, _ := http.NewRequest(rt.Method, h.ts.URL+path, &body)
			if rt.Method != "GET" {
				req.Header.Set(csrfHeader, c.csrf)
				if c.csrf == "" {
					req.Header.Set(csrfHeader, "none")
				}
			}
			resp := c.do(req)
			least := wantPerm[rt.Method+" "+rt.Pattern]
			allowed := least == "" || roleRank[who] >= roleRank[least]
			loginRedirect := resp.status == http.StatusSeeOther && strings.HasPrefix(resp.header.Get("Location"), "/login")
			switch {
			case allowed && least == "":
				if resp.status == http.StatusForbidden && rt.Method == "GET" {
					t.Errorf("%s %s as %s: public route refused (%d)", rt.Method, path, who, resp.status)
				}
			case allowed:
				if resp.status == http.StatusUnauthorized || resp.status == http.StatusForbidden || loginRedirect {
					t.Errorf("%s %s as %s: want access, got %d %s", rt.Method, path, who, resp.status, trim(resp.body))
				}
			case who == "anonymous":
				if rt.API && resp.status != http.StatusUnauthorized {
					t.Errorf("%s %s anonymous: want 401, got %d", rt.Method, path, resp.status)
				}
				if !rt.API && !loginRedirect {
					t.Errorf("%s %s anonymous: want redirect to /login, got %d", rt.Method, path, resp.status)
				}
			default:
				if resp.status != http.StatusForbidden {
					t.Errorf("%s %s as %s: want 403, got %d %s", rt.Method, path, who, resp.status, trim(resp.body))
				}
			}
		}
	}
}

func trim(s string) string {
	if len(s) > 160 {
		return s[:160]
	}
	return s
}

// TestCSRF: a logged-in browser session cannot change anything without its CSRF token.
func TestCSRF(t *testing.T) {
	h := newHarness(t, "")
	c := h.login(auth.Admin)
	before, _ := h.st.ListProducts(context.Background())
	for _, rt := range h.srv.Routes() {
		if rt.Method == "GET" || rt.Perm == "" {
			continue
		}
		path := h.concrete(rt.Pattern, 1, 1)
		for _, token := range []string{"", "forged-token"} {
			form := url.Values{"name": {"CSRF Product"}, "csrf_token": {token}}
			req, _ := http.NewRequest(rt.Method, h.ts.URL+path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if resp := c.do(req); resp.status != http.StatusForbidden || !strings.Contains(resp.body, "CSRF") {
				t.Errorf("%s %s with token %q: want 403 CSRF, got %d", rt.Method, path, token, resp.status)
			}
		}
	}
	after, _ := h.st.ListProducts(context.Background())
	if len(after) != len(before) {
		t.Errorf("products changed from %d to %d by CSRF-less requests", len(before), len(after))
	}
	// The same request with the token works.
	if resp := c.postForm("/products", url.Values{"name": {"Real Product"}, "csrf_token": {c.csrf}}); resp.status != http.StatusSeeOther {
		t.Errorf("create with token: %d %s", resp.status, trim(resp.body))
	}
	// A cross-site browser request is refused even with a token.
	req, _ := http.NewRequest("POST", h.ts.URL+"/products", strings.NewReader(url.Values{"name": {"X"}, "csrf_token": {c.csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if resp := c.do(req); resp.status != http.StatusForbidden {
		t.Errorf("cross-site POST: %d", resp.status)
	}
}

func TestLoginThrottle(t *testing.T) {
	h := newHarness(t, "")
	c := h.anon()
	m := csrfRe.FindStringSubmatch(c.get("/login").body)
	for i := 0; i < 5; i++ {
		r := c.postForm("/login", url.Values{"email": {"admin@example.com"}, "password": {"wrong password 123"}, "csrf_token": {m[1]}})
		if r.status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i+1, r.status)
		}
	}
	r := c.postForm("/login", url.Values{"email": {"admin@example.com"}, "password": {testPassword}, "csrf_token": {m[1]}})
	if r.status != http.StatusTooManyRequests {
		t.Errorf("sixth attempt (right password) after 5 failures: %d, want 429", r.status)
	}
	// Other accounts are not locked by it.
	if r := c.postForm("/login", url.Values{"email": {"viewer@example.com"}, "password": {testPassword}, "csrf_token": {m[1]}}); r.status != http.StatusSeeOther {
		t.Errorf("other account: %d", r.status)
	}
}

func multipartBody(t *testing.T, fields map[string]string, filename string, content []byte) (string, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	if filename != "" {
		fw, _ := mw.CreateFormFile("file", filename)
		fw.Write(content)
	}
	mw.Close()
	return mw.FormDataContentType(), &buf
}

func TestEvidenceUploadRules(t *testing.T) {
	h := newHarness(t, "")
	c := h.login(auth.Approver)
	v, rid := h.firstVersion()
	path := fmt.Sprintf("/versions/%d/evidence", v.ID)
	count := func() int {
		ev, err := h.st.ListEvidence(context.Background(), v.ID)
		if err != nil {
			t.Fatal(err)
		}
		return len(ev)
	}
	fields := map[string]string{"csrf_token": c.csrf, "link": "requirement:" + rid, "rid": rid, "set_status": "met"}
	bad := []struct {
		name, file string
		data       []byte
		status     int
		says       string
	}{
		{"too large", "big.pdf", append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("x"), 2<<20)...), http.StatusRequestEntityTooLarge, "limit"},
		{"empty", "empty.pdf", []byte{}, http.StatusBadRequest, "empty"},
		{"html", "page.pdf", []byte("<!DOCTYPE html><html><script>alert(1)</script></html>"), http.StatusUnsupportedMediaType, "not accepted"},
		{"executable", "tool.pdf", append([]byte("MZ\x90\x00"), make([]byte, 600)...), http.StatusUnsupportedMediaType, "not accepted"},
	}
	for _, b := range bad {
		ct, body := multipartBody(t, fields, b.file, b.data)
		r := c.postMultipart(path, ct, body)
		if r.status != b.status || !strings.Contains(r.body, b.says) || !strings.Contains(r.body, "Nothing was stored") && !strings.Contains(r.body, "nothing was stored") {
			t.Errorf("%s: status %d, want %d with %q:\n%s", b.name, r.status, b.status, b.says, trim(r.body))
		}
	}
	if n := count(); n != 0 {
		t.Fatalf("%d evidence rows after refused uploads", n)
	}
	as, _ := h.st.Assessments(context.Background(), v.ID)
	before := as[rid].Status
	ct, body := multipartBody(t, fields, "sbom.cdx.json", []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6"}`))
	r := c.postMultipart(path, ct, body)
	if r.status != http.StatusSeeOther {
		t.Fatalf("good upload: %d %s", r.status, trim(r.body))
	}
	if n := count(); n != 1 {
		t.Errorf("%d evidence rows after one upload", n)
	}
	as, _ = h.st.Assessments(context.Background(), v.ID)
	if as[rid].Status != "met" {
		t.Errorf("status after upload with set_status=met: %q (was %q)", as[rid].Status, before)
	}
	ev, _ := h.st.ListEvidence(context.Background(), v.ID)
	dl := c.get(fmt.Sprintf("/evidence/%d/download", ev[0].ID))
	if dl.status != 200 || dl.body != `{"bomFormat":"CycloneDX","specVersion":"1.6"}` || !strings.Contains(dl.header.Get("Content-Disposition"), "attachment") || dl.header.Get("Content-Type") != "application/json" {
		t.Errorf("download: %d %q %v", dl.status, dl.body, dl.header)
	}
}

// TestEditorCannotSignOff: editors may upload and edit, but met and not-applicable are approvals.
func TestEditorCannotSignOff(t *testing.T) {
	h := newHarness(t, "")
	c := h.login(auth.Editor)
	v, rid := h.firstVersion()
	r := c.postForm(fmt.Sprintf("/versions/%d/requirements/%s", v.ID, rid), url.Values{"csrf_token": {c.csrf}, "status": {"met"}})
	if r.status != http.StatusForbidden {
		t.Errorf("editor set met: %d", r.status)
	}
	r = c.postForm(fmt.Sprintf("/versions/%d/requirements/%s", v.ID, rid), url.Values{"csrf_token": {c.csrf}, "status": {"in-progress"}, "owner": {"Eve"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("editor set in-progress: %d %s", r.status, trim(r.body))
	}
	as, _ := h.st.Assessments(context.Background(), v.ID)
	if as[rid].Status != "in-progress" || as[rid].Owner != "Eve" || as[rid].UpdatedBy != "editor@example.com" {
		t.Errorf("assessment: %+v", as[rid])
	}
	hist, _ := h.st.AuditFor(context.Background(), "assessment", fmt.Sprintf("%d/%s", v.ID, rid), 10)
	if len(hist) == 0 || hist[0].Actor != "editor@example.com" {
		t.Errorf("audit history: %+v", hist)
	}
}

func TestAPI(t *testing.T) {
	h := newHarness(t, "")
	tok, hash, _ := auth.NewToken("vgl_")
	if _, err := h.st.CreateAPIToken(context.Background(), "test", h.users[auth.Approver].ID, "ci", hash); err != nil {
		t.Fatal(err)
	}
	call := func(method, path, body string, token string) response {
		req, _ := http.NewRequest(method, h.ts.URL+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		return h.anon().do(req)
	}
	if r := call("GET", "/api/v1/products", "", ""); r.status != 401 || !strings.Contains(r.body, `"error"`) {
		t.Errorf("no token: %d %s", r.status, r.body)
	}
	if r := call("GET", "/api/v1/products", "", "vgl_wrong"); r.status != 401 {
		t.Errorf("bad token: %d", r.status)
	}
	r := call("GET", "/api/v1/products?limit=2&offset=1", "", tok)
	var pg struct {
		Items []store.Product `json:"items"`
		Total int             `json:"total"`
		Limit int             `json:"limit"`
	}
	if err := json.Unmarshal([]byte(r.body), &pg); err != nil || r.status != 200 || len(pg.Items) != 2 || pg.Total != 7 || pg.Limit != 2 {
		t.Fatalf("list: %d %v %s", r.status, err, trim(r.body))
	}
	if r := call("GET", "/api/v1/products?limit=0", "", tok); r.status != 400 {
		t.Errorf("limit=0: %d", r.status)
	}
	r = call("POST", "/api/v1/products", `{"name":"API Pump","manufacturer":"Acme"}`, tok)
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var p store.Product
	_ = json.Unmarshal([]byte(r.body), &p)
	if r := call("POST", "/api/v1/products", `{"name":"API Pump","colour":"red"}`, tok); r.status != 400 || !strings.Contains(r.body, "colour") {
		t.Errorf("unknown field: %d %s", r.status, r.body)
	}
	if r := call("POST", "/api/v1/products", `{"name":"API Pump"}`, tok); r.status != 409 {
		t.Errorf("duplicate: %d %s", r.status, r.body)
	}
	prof := `schema: vigil/device/v1\nname: API Pump\nversion: 1.0.0\nmanufacturer: {name: Acme}\ndevice: {kind: simd, software: true, connectivity: {interfaces: [usb]}}\nmarkets: {us: {class: II, submission: 510k}}\n`
	r = call("POST", fmt.Sprintf("/api/v1/products/%d/versions", p.ID), `{"profile":"`+prof+`"}`, tok)
	if r.status != 201 {
		t.Fatalf("create version: %d %s", r.status, r.body)
	}
	var v store.DeviceVersion
	_ = json.Unmarshal([]byte(r.body), &v)
	bad := strings.Replace(prof, "kind: simd", "kind: robot", 1)
	if r := call("POST", fmt.Sprintf("/api/v1/products/%d/versions", p.ID), `{"version":"2","profile":"`+bad+`"}`, tok); r.status != 400 || !strings.Contains(r.body, "device.kind") {
		t.Errorf("bad profile: %d %s", r.status, r.body)
	}
	r = call("PUT", fmt.Sprintf("/api/v1/versions/%d/assessments/us.fdca-524b.sbom", v.ID), `{"status":"met","owner":"CI"}`, tok)
	if r.status != 200 {
		t.Fatalf("set assessment: %d %s", r.status, r.body)
	}
	r = call("GET", fmt.Sprintf("/api/v1/versions/%d", v.ID), "", tok)
	var detail struct {
		CyberDevice bool `json:"cyber_device"`
		Readiness   []struct {
			Market string `json:"market"`
			Met    int    `json:"met"`
		} `json:"readiness"`
	}
	if err := json.Unmarshal([]byte(r.body), &detail); err != nil || !detail.CyberDevice || detail.Readiness[0].Market != "US" || detail.Readiness[0].Met != 1 {
		t.Errorf("version detail: %v %s", err, trim(r.body))
	}
	r = call("GET", fmt.Sprintf("/api/v1/versions/%d/requirements?status=met", v.ID), "", tok)
	if !strings.Contains(r.body, `"total": 1`) || !strings.Contains(r.body, "us.fdca-524b.sbom") {
		t.Errorf("filtered requirements: %s", trim(r.body))
	}
	if r := call("PUT", fmt.Sprintf("/api/v1/versions/%d/assessments/eu.mdr.gspr-17-2", v.ID), `{"status":"met"}`, tok); r.status != 404 {
		t.Errorf("requirement that does not apply: %d", r.status)
	}
}

func TestOpenAPIDocument(t *testing.T) {
	h := newHarness(t, "")
	r := h.anon().get("/api/openapi.json")
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
		Comp    struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal([]byte(r.body), &doc); err != nil || r.status != 200 || doc.OpenAPI != "3.0.3" {
		t.Fatalf("openapi: %d %v", r.status, err)
	}
	for _, rt := range h.srv.Routes() {
		if !rt.API {
			continue
		}
		op, ok := doc.Paths[rt.Pattern][strings.ToLower(rt.Method)].(map[string]any)
		if !ok || op["summary"] == "" || op["summary"] == nil {
			t.Errorf("%s %s missing from the OpenAPI document or without summary", rt.Method, rt.Pattern)
		}
	}
	// Every $ref points at a defined schema.
	for _, m := range regexpRefs.FindAllStringSubmatch(r.body, -1) {
		if _, ok := doc.Comp.Schemas[m[1]]; !ok {
			t.Errorf("dangling $ref %s", m[1])
		}
	}
}

func TestHealthAndMetrics(t *testing.T) {
	h := newHarness(t, "")
	c := h.anon()
	if r := c.get("/healthz"); r.status != 200 || !strings.Contains(r.body, `"status": "ok"`) {
		t.Errorf("healthz: %d %s", r.status, r.body)
	}
	c.get("/login")
	r := c.get("/metrics")
	if r.status != 200 || !strings.Contains(r.body, `vigil_http_requests_total{code="200",route="GET /login"}`) {
		t.Errorf("metrics lack the login route counter:\n%s", trim(r.body))
	}
}

func TestSecurityHeadersAndNoSecretsInPages(t *testing.T) {
	h := newHarness(t, "")
	c := h.login(auth.Admin)
	r := c.get("/")
	if !strings.Contains(r.header.Get("Content-Security-Policy"), "default-src 'self'") || r.header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("headers: %v", r.header)
	}
	if strings.Contains(r.body, "style=\"") {
		t.Error("inline style attribute would be blocked by the CSP")
	}
	audit := c.get("/audit")
	if audit.status != 200 || strings.Contains(audit.body, "$argon2id$") || !strings.Contains(audit.body, "chain intact") {
		t.Errorf("audit page: %d secret-leak=%v", audit.status, strings.Contains(audit.body, "$argon2id$"))
	}
}

var regexpRefs = regexp.MustCompile(`"\$ref": "#/components/schemas/([A-Za-z]+)"`)
