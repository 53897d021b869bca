package web

// Page latency benchmarks at portfolio scale: 1,000 device versions (the seven example profiles,
// cycled under different product names and versions) with every applicable requirement assessed
// (about 235 per version on average, 24 to 369 depending on the profile; about 235,000 rows).
//
//	go test ./web/ -run XXX -bench 'Dashboard|DevicePage' -benchtime 50x
//
// Each runs on SQLite, and on PostgreSQL when VIGIL_TEST_POSTGRES_DSN is set. Besides ns/op they
// report per-request percentiles in milliseconds:
//
//	p50-ms, p95-ms, max-ms   warm requests (the profile evaluations are cached)
//	cold-ms                  Dashboard: the first request after the evaluation cache was emptied,
//	                         which parses and evaluates every version's profile
//	cold-p50-ms, cold-p95-ms DevicePage: first views of versions not yet evaluated
//
// The dataset is built once per benchmark and database, outside the timed region.

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-med/vigil/applicability"
	"github.com/vigil-med/vigil/catalog"
	"github.com/vigil-med/vigil/examples"
	"github.com/vigil-med/vigil/internal/pgtest"
	"github.com/vigil-med/vigil/profile"
	"github.com/vigil-med/vigil/readiness"
	"github.com/vigil-med/vigil/store"
)

const (
	benchVersions    = 1000
	benchPerProduct  = 5   // versions per product: 200 products
	benchBatchAssess = 100 // versions per seeding transaction
)

// benchFixture is a served store holding the benchmark portfolio.
type benchFixture struct {
	st       *store.Store
	srv      *Server
	ts       *httptest.Server
	c        *http.Client // logged in as a viewer
	versions []int64      // IDs in creation order
	big      []int64      // versions of the profile with most applicable requirements
	rows     int          // assessments stored
}

// benchDialects is SQLite always, plus PostgreSQL when the test DSN is set.
func benchDialects() []string {
	ds := []string{store.DialectSQLite}
	if os.Getenv(pgtest.EnvVar) != "" {
		ds = append(ds, store.DialectPostgres)
	}
	return ds
}

// newBenchFixture builds the portfolio on a fresh database of the dialect and starts a server.
func newBenchFixture(tb testing.TB, dialect string) *benchFixture {
	tb.Helper()
	ctx := context.Background()
	start := time.Now()
	cfg := store.Config{DataDir: tb.TempDir()}
	if dialect == store.DialectPostgres {
		cfg = store.Config{DatabaseURL: pgtest.Fresh(tb)}
	}
	st, err := store.Open(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	if _, err := st.CreateUser(ctx, store.ActorSystem, store.User{Email: "viewer@example.com", Name: "Viewer", Role: "viewer"}, testHash); err != nil {
		tb.Fatal(err)
	}

	cat := catalog.MustDefault()
	type ex struct {
		p       *profile.Profile
		yaml    string
		applies []string
	}
	var exs []ex
	bigIdx, bigN := 0, 0
	for i, e := range examples.All() {
		p, err := profile.Parse(e.Name, e.Data)
		if err != nil {
			tb.Fatal(err)
		}
		res, err := applicability.Evaluate(cat, p)
		if err != nil {
			tb.Fatal(err)
		}
		var ids []string
		for _, q := range res.Applicable() {
			ids = append(ids, q.ID)
		}
		if len(ids) > bigN {
			bigIdx, bigN = i, len(ids)
		}
		exs = append(exs, ex{p: p, yaml: string(e.Data), applies: ids})
	}

	fx := &benchFixture{st: st}
	var prod store.Product
	for i := range benchVersions {
		e := exs[i%len(exs)]
		if i%benchPerProduct == 0 {
			// A new product every benchPerProduct versions; its versions use different profiles.
			prod, err = st.CreateProduct(ctx, store.ActorSystem, store.Product{Name: fmt.Sprintf("%s %03d", e.p.Name, i/benchPerProduct), Manufacturer: e.p.Manufacturer.Name})
			if err != nil {
				tb.Fatal(err)
			}
		}
		v, err := st.CreateDeviceVersion(ctx, store.ActorSystem, prod.ID, fmt.Sprintf("%d.%d", 1+i/benchPerProduct, i%benchPerProduct), e.yaml)
		if err != nil {
			tb.Fatal(err)
		}
		fx.versions = append(fx.versions, v.ID)
		if i%len(exs) == bigIdx {
			fx.big = append(fx.big, v.ID)
		}
	}

	// Assessments: every applicable requirement, statuses spread deterministically. Inserted in
	// large multi-row statements inside a few transactions, unaudited: SetAssessments (which
	// audits every row) measured about 0.4 ms per assessment on SQLite and 0.8 ms on PostgreSQL
	// here, 1.5 to 3 minutes per build. The summary-table triggers fire as for any insert.
	statuses := readiness.Statuses
	now := time.Now().UTC()
	for lo := 0; lo < len(fx.versions); lo += benchBatchAssess {
		hi := min(lo+benchBatchAssess, len(fx.versions))
		err := st.Transact(ctx, func(tx *store.Tx) error {
			for i := lo; i < hi; i++ {
				ids := exs[i%len(exs)].applies
				for chunk := 0; chunk < len(ids); chunk += 100 {
					var q strings.Builder
					q.WriteString("INSERT INTO assessments (device_version_id, requirement_id, status, owner, justification, updated_at, updated_by) VALUES ")
					var args []any
					for j := chunk; j < min(chunk+100, len(ids)); j++ {
						if j > chunk {
							q.WriteString(", ")
						}
						q.WriteString("(?, ?, ?, ?, ?, ?, ?)")
						status := statuses[(i*7+j*3+j/5)%len(statuses)]
						args = append(args, fx.versions[i], ids[j], status, "Quality", "", now, "bench")
					}
					if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
						return err
					}
					fx.rows += min(chunk+100, len(ids)) - chunk
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	// Fresh statistics, as autovacuum/ANALYZE would have them on a live database.
	if err := st.Transact(ctx, func(tx *store.Tx) error {
		if dialect == store.DialectSQLite {
			_, err := tx.ExecContext(ctx, "ANALYZE")
			return err
		}
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
	if dialect == store.DialectPostgres {
		// VACUUM cannot run in a transaction; use a plain connection.
		db, err := sql.Open("pgx", cfg.DatabaseURL)
		if err != nil {
			tb.Fatal(err)
		}
		_, err = db.ExecContext(ctx, "VACUUM ANALYZE")
		db.Close()
		if err != nil {
			tb.Fatal(err)
		}
	}

	fx.srv, err = New(Config{MaxUploadBytes: 1 << 20, Version: "bench"}, st, cat, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		tb.Fatal(err)
	}
	fx.ts = httptest.NewServer(fx.srv.Handler())
	tb.Cleanup(fx.ts.Close)
	fx.c = benchLogin(tb, fx.ts.URL, "viewer@example.com")
	tb.Logf("%s: %d versions, %d assessments built in %v", dialect, len(fx.versions), fx.rows, time.Since(start).Round(time.Millisecond))
	return fx
}

// benchLogin signs in through the login form and returns a client holding the session cookie.
func benchLogin(tb testing.TB, base, email string) *http.Client {
	tb.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	_, body := benchGet(tb, c, base+"/login")
	m := csrfRe.FindStringSubmatch(body)
	if m == nil {
		tb.Fatalf("login page has no CSRF field")
	}
	resp, err := c.PostForm(base+"/login", url.Values{"email": {email}, "password": {testPassword}, "csrf_token": {m[1]}})
	if err != nil {
		tb.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		tb.Fatalf("login: status %d", resp.StatusCode)
	}
	return c
}

func benchGet(tb testing.TB, c *http.Client, u string) (int, string) {
	tb.Helper()
	resp, err := c.Get(u)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// timedGet fetches u, fails unless it is 200 and contains want, and returns how long it took.
func (fx *benchFixture) timedGet(tb testing.TB, path, want string) time.Duration {
	start := time.Now()
	status, body := benchGet(tb, fx.c, fx.ts.URL+path)
	d := time.Since(start)
	if status != http.StatusOK || !strings.Contains(body, want) {
		tb.Fatalf("GET %s: status %d, %d bytes, missing %q", path, status, len(body), want)
	}
	return d
}

// percentile is the q-quantile (0 < q <= 1) of ds by the nearest-rank method.
func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(i, 0)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func reportPercentiles(b *testing.B, prefix string, ds []time.Duration) {
	b.ReportMetric(ms(percentile(ds, 0.50)), prefix+"p50-ms")
	b.ReportMetric(ms(percentile(ds, 0.95)), prefix+"p95-ms")
	if prefix == "" {
		b.ReportMetric(ms(percentile(ds, 1)), "max-ms")
	}
}

// BenchmarkDashboard: GET / over the whole portfolio.
func BenchmarkDashboard(b *testing.B) {
	for _, d := range benchDialects() {
		b.Run(d, func(b *testing.B) {
			fx := newBenchFixture(b, d)
			// Cold: the first request after start evaluates every version's profile.
			evalCache.Clear()
			summaryCache.Clear()
			cold := fx.timedGet(b, "/", "/versions/")
			var ds []time.Duration
			b.ResetTimer()
			for b.Loop() {
				ds = append(ds, fx.timedGet(b, "/", "/versions/"))
			}
			b.StopTimer()
			// Metrics last: ResetTimer deletes those reported before it.
			reportPercentiles(b, "", ds)
			b.ReportMetric(ms(cold), "cold-ms")
		})
	}
}

// BenchmarkDevicePage: GET /versions/{id}, cycling over the versions of the profile with the most
// applicable requirements (369 rows).
func BenchmarkDevicePage(b *testing.B) {
	for _, d := range benchDialects() {
		b.Run(d, func(b *testing.B) {
			fx := newBenchFixture(b, d)
			// Cold: first views, each parsing and evaluating the version's profile.
			evalCache.Clear()
			summaryCache.Clear()
			var cold []time.Duration
			for _, id := range fx.big[:min(50, len(fx.big))] {
				cold = append(cold, fx.timedGet(b, fmt.Sprintf("/versions/%d", id), "Requirements <span class=\"muted\">"))
			}
			// Warm every version of the cycle.
			for _, id := range fx.big {
				fx.timedGet(b, fmt.Sprintf("/versions/%d", id), "")
			}
			var ds []time.Duration
			i := 0
			b.ResetTimer()
			for b.Loop() {
				id := fx.big[i%len(fx.big)]
				i++
				ds = append(ds, fx.timedGet(b, fmt.Sprintf("/versions/%d", id), "Requirements <span class=\"muted\">"))
			}
			b.StopTimer()
			reportPercentiles(b, "", ds)
			reportPercentiles(b, "cold-", cold)
		})
	}
}
