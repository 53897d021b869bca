package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/vigil-med/vigil/auth"
	"github.com/vigil-med/vigil/catalog"
	"github.com/vigil-med/vigil/internal/pgtest"
	"github.com/vigil-med/vigil/store"
)

// TestTwoServersOnePostgres runs two server replicas on one PostgreSQL database: a session
// created through one is valid on the other, and an edit made through one is visible through the
// other, as behind a load balancer.
func TestTwoServersOnePostgres(t *testing.T) {
	dsn := pgtest.Fresh(t)
	a := newHarness(t, dsn) // migrates, creates users, seeds the demo portfolio
	st2, err := store.Open(context.Background(), store.Config{DatabaseURL: dsn})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	if err := st2.CheckSchema(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv2, err := New(Config{MaxUploadBytes: 1 << 20, Version: "test"}, st2, catalog.MustDefault(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ts2 := httptest.NewServer(srv2.Handler())
	defer ts2.Close()

	c := a.login(auth.Approver)
	v, rid := a.firstVersion()
	// Edit through server A.
	r := c.postForm(fmt.Sprintf("/versions/%d/requirements/%s", v.ID, rid), url.Values{"csrf_token": {c.csrf}, "status": {"met"}, "owner": {"Replica A"}})
	if r.status != 303 {
		t.Fatalf("edit via A: %d %s", r.status, trim(r.body))
	}
	// Read through server B with the same cookie jar: the session lives in the shared database.
	b := &client{h: &harness{t: t, ts: ts2}, c: c.c}
	u, _ := url.Parse(a.ts.URL)
	u2, _ := url.Parse(ts2.URL)
	b.c.Jar.SetCookies(u2, b.c.Jar.Cookies(u))
	page := b.get(fmt.Sprintf("/versions/%d/requirements/%s", v.ID, rid))
	if page.status != 200 || !strings.Contains(page.body, `id="status">met<`) || !strings.Contains(page.body, "Replica A") {
		t.Fatalf("B does not show A's edit: %d\n%s", page.status, trim(page.body))
	}
	// And the other way round, through B's API with a token.
	tok, hash, _ := auth.NewToken("vgl_")
	if _, err := st2.CreateAPIToken(context.Background(), "test", a.users[auth.Editor].ID, "b", hash); err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("POST", ts2.URL+"/api/v1/products", strings.NewReader(`{"name":"Made on B"}`))
	req.RequestURI = ""
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	if resp := b.do(req); resp.status != 201 {
		t.Fatalf("create via B: %d %s", resp.status, resp.body)
	}
	if dash := c.get("/"); !strings.Contains(dash.body, "Made on B") {
		// A new product has no version yet, so it is listed on its own page, not the heatmap.
		ps, _ := a.st.ListProducts(context.Background())
		found := false
		for _, p := range ps {
			found = found || p.Name == "Made on B"
		}
		if !found {
			t.Error("A does not see the product created through B")
		}
	}
	rep, err := a.st.VerifyAudit(context.Background())
	if err != nil || !rep.OK {
		t.Errorf("audit chain after writes through two replicas: %+v %v", rep, err)
	}
}
