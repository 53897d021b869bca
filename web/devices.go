package web

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"sync"

	"github.com/vigil-med/vigil/applicability"
	"github.com/vigil-med/vigil/catalog"
	"github.com/vigil-med/vigil/profile"
	"github.com/vigil-med/vigil/readiness"
	"github.com/vigil-med/vigil/store"
)

// Versions are immutable and the catalog is fixed for the life of the process, so an evaluation
// never goes stale. Full evaluations (about 130 KB each) are kept for the most recently used
// versions only; the per-market counts the dashboard needs are kept for every version.
var (
	evalCache    = newLRU(256)
	summaryCache sync.Map // int64 -> map[string]int (applicable requirements per market)
)

type evaluated struct {
	profile *profile.Profile
	result  *applicability.Result
	// applicable requirement counts per market, and the set of all applicable IDs.
	perMarket map[string]int
	applies   map[string]bool
}

func (s *Server) evaluate(v store.DeviceVersion) (*evaluated, error) {
	if e, ok := evalCache.get(v.ID); ok {
		return e, nil
	}
	if v.ProfileYAML == "" {
		return nil, fmt.Errorf("device version %d loaded without its profile", v.ID)
	}
	p, err := profile.Parse(fmt.Sprintf("device version %d profile", v.ID), []byte(v.ProfileYAML))
	if err != nil {
		return nil, fmt.Errorf("stored profile of version %d no longer validates: %w", v.ID, err)
	}
	res, err := applicability.Evaluate(s.cat, p)
	if err != nil {
		return nil, err
	}
	e := &evaluated{profile: p, result: res, perMarket: map[string]int{}, applies: map[string]bool{}}
	for _, q := range res.Requirements {
		if q.Applies {
			e.applies[q.ID] = true
			if reg, ok := s.cat.Regime(q.Regime); ok {
				e.perMarket[reg.Jurisdiction]++
			}
		}
	}
	evalCache.put(v.ID, e)
	summaryCache.Store(v.ID, e.perMarket)
	return e, nil
}

// applicableCounts returns the applicable requirements per market of a version, evaluating its
// profile only the first time.
func (s *Server) applicableCounts(ctx context.Context, id int64) (map[string]int, error) {
	if m, ok := summaryCache.Load(id); ok {
		return m.(map[string]int), nil
	}
	v, err := s.store.DeviceVersion(ctx, id)
	if err != nil {
		return nil, err
	}
	e, err := s.evaluate(v)
	if err != nil {
		return nil, err
	}
	return e.perMarket, nil
}

// WarmUp evaluates every stored version once, so the first dashboard after a start is fast. It
// runs in the background and stops with ctx.
func (s *Server) WarmUp(ctx context.Context) {
	vs, err := s.store.ListAllDeviceVersions(ctx)
	if err != nil {
		s.log.Warn("warm-up: list versions", "err", err)
		return
	}
	for _, v := range vs {
		if ctx.Err() != nil {
			return
		}
		if _, err := s.applicableCounts(ctx, v.ID); err != nil {
			s.log.Warn("warm-up: evaluate version", "version", v.ID, "err", err)
		}
	}
}

// lru is a small mutex-guarded least-recently-used cache of evaluations.
type lru struct {
	mu    sync.Mutex
	cap   int
	order []int64
	items map[int64]*evaluated
}

func newLRU(n int) *lru { return &lru{cap: n, items: map[int64]*evaluated{}} }

func (c *lru) get(id int64) (*evaluated, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[id]
	if ok {
		c.touch(id)
	}
	return e, ok
}

func (c *lru) put(id int64, e *evaluated) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[id]; !ok && len(c.items) >= c.cap {
		oldest := c.order[0]
		c.order = c.order[1:]
		delete(c.items, oldest)
	}
	c.items[id] = e
	c.touch(id)
}

func (c *lru) touch(id int64) {
	for i, x := range c.order {
		if x == id {
			c.order = append(c.order[:i], c.order[i+1:]...)
			break
		}
	}
	c.order = append(c.order, id)
}

// Clear empties the cache (tests and benchmarks measure cold requests with it).
func (c *lru) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.order, c.items = nil, map[int64]*evaluated{}
}

// versionByID loads a device version with its profile, or a 404.
func (s *Server) versionByID(ctx context.Context, idStr string) (store.DeviceVersion, error) {
	id, err := strconv.ParseInt(idStr, 10, 64)
	if err != nil || id <= 0 {
		return store.DeviceVersion{}, notFound("device version")
	}
	return s.store.DeviceVersion(ctx, id)
}

// loadVersion loads the device version named by the {id} path value and its applicability.
func (s *Server) loadVersion(r *http.Request) (store.DeviceVersion, *evaluated, error) {
	v, err := s.versionByID(r.Context(), r.PathValue("id"))
	if err != nil {
		return v, nil, err
	}
	e, err := s.evaluate(v)
	return v, e, err
}

// statusMap reduces stored assessments to requirement ID -> status.
func statusMap(as map[string]store.Assessment) map[string]string {
	out := make(map[string]string, len(as))
	for id, a := range as {
		out[id] = a.Status
	}
	return out
}

// heatRow is one device version on the dashboard.
type heatRow struct {
	Version store.DeviceVersion
	Cells   []heatCell
	Overall float64
}

type heatCell struct {
	Market     string
	OnMarket   bool
	Percent    float64
	Met, Total int
}

// portfolio computes the readiness of every device version per market with one grouped query.
func (s *Server) portfolio(ctx context.Context) ([]heatRow, error) {
	versions, err := s.store.ListAllDeviceVersions(ctx)
	if err != nil {
		return nil, err
	}
	counts, err := s.store.MarketStatusCounts(ctx)
	if err != nil {
		return nil, err
	}
	rows := make([]heatRow, 0, len(versions))
	for _, v := range versions {
		perMarket, err := s.applicableCounts(ctx, v.ID)
		if err != nil {
			return nil, err
		}
		row := heatRow{Version: v}
		met, denom := 0, 0
		for _, mk := range catalog.Markets {
			c := heatCell{Market: mk, Total: perMarket[mk], OnMarket: perMarket[mk] > 0}
			st := counts[v.ID][mk]
			c.Met = st[readiness.Met]
			d := c.Total - st[readiness.NotApplicable]
			if d > 0 {
				c.Percent = float64(c.Met) * 100 / float64(d)
			} else if c.Total > 0 {
				c.Percent = 100
			}
			met += c.Met
			denom += max(d, 0)
			row.Cells = append(row.Cells, c)
		}
		if denom > 0 {
			row.Overall = float64(met) * 100 / float64(denom)
		}
		rows = append(rows, row)
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].Version.ProductName != rows[j].Version.ProductName {
			return rows[i].Version.ProductName < rows[j].Version.ProductName
		}
		return rows[i].Version.ID > rows[j].Version.ID
	})
	return rows, nil
}
