package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/vigil-med/vigil/auth"
	"github.com/vigil-med/vigil/catalog"
	"github.com/vigil-med/vigil/demo"
	"github.com/vigil-med/vigil/store"
)

const testPassword = "correct horse battery staple"

var testHash = func() string {
	h, err := auth.HashPassword(testPassword)
	if err != nil {
		panic(err)
	}
	return h
}()

type harness struct {
	t     *testing.T
	st    *store.Store
	srv   *Server
	ts    *httptest.Server
	users map[auth.Role]store.User
}

// newHarness starts a server on a fresh database (SQLite in a temp dir, or the given PostgreSQL
// DSN) with one user per role and the demo portfolio.
func newHarness(t *testing.T, dsn string) *harness {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{DataDir: t.TempDir(), DatabaseURL: dsn})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, st: st, users: map[auth.Role]store.User{}}
	for _, role := range auth.Roles {
		u, err := st.CreateUser(ctx, store.ActorSystem, store.User{Email: string(role) + "@example.com", Name: "Test " + string(role), Role: string(role)}, testHash)
		if err != nil {
			t.Fatal(err)
		}
		h.users[role] = u
	}
	if _, err := demo.Seed(ctx, st, catalog.MustDefault()); err != nil {
		t.Fatal(err)
	}
	h.srv, err = New(Config{MaxUploadBytes: 1 << 20, Version: "test"}, st, catalog.MustDefault(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	h.ts = httptest.NewServer(h.srv.Handler())
	t.Cleanup(h.ts.Close)
	return h
}

// client is a browser-like client: cookie jar, no automatic redirects.
type client struct {
	h    *harness
	c    *http.Client
	csrf string
}

func (h *harness) anon() *client {
	jar, _ := cookiejar.New(nil)
	return &client{h: h, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfRe = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// login signs in as the user of role and remembers the page's CSRF token.
func (h *harness) login(role auth.Role) *client {
	h.t.Helper()
	c := h.anon()
	body := c.get("/login").body
	m := csrfRe.FindStringSubmatch(body)
	if m == nil {
		h.t.Fatalf("login page has no CSRF field:\n%s", body)
	}
	resp := c.postForm("/login", url.Values{"email": {string(role) + "@example.com"}, "password": {testPassword}, "csrf_token": {m[1]}})
	if resp.status != http.StatusSeeOther {
		h.t.Fatalf("login as %s: status %d\n%s", role, resp.status, resp.body)
	}
	page := c.get("/account").body
	m = csrfRe.FindStringSubmatch(page)
	if m == nil {
		h.t.Fatalf("account page has no CSRF token")
	}
	c.csrf = m[1]
	return c
}

type response struct {
	status int
	body   string
	header http.Header
}

func (c *client) do(req *http.Request) response {
	c.h.t.Helper()
	resp, err := c.c.Do(req)
	if err != nil {
		c.h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, body: string(b), header: resp.Header}
}

func (c *client) get(path string) response {
	req, _ := http.NewRequest("GET", c.h.ts.URL+path, nil)
	return c.do(req)
}

func (c *client) postForm(path string, v url.Values) response {
	req, _ := http.NewRequest("POST", c.h.ts.URL+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

func (c *client) postMultipart(path, contentType string, body io.Reader) response {
	req, _ := http.NewRequest("POST", c.h.ts.URL+path, body)
	req.Header.Set("Content-Type", contentType)
	return c.do(req)
}

// firstVersion returns the ID of a demo device version and one applicable requirement of it.
func (h *harness) firstVersion() (store.DeviceVersion, string) {
	h.t.Helper()
	vs, err := h.st.ListAllDeviceVersions(context.Background())
	if err != nil || len(vs) == 0 {
		h.t.Fatalf("no versions: %v", err)
	}
	for _, lv := range vs {
		v, _ := h.st.DeviceVersion(context.Background(), lv.ID)
		e, err := h.srv.evaluate(v)
		if err != nil {
			h.t.Fatal(err)
		}
		if e.result.Device == "InsuPump X2" {
			for _, q := range e.result.Requirements {
				if q.Applies && q.ID == "us.fdca-524b.sbom" {
					return v, q.ID
				}
			}
		}
	}
	h.t.Fatal("insulin pump version not found")
	return store.DeviceVersion{}, ""
}
