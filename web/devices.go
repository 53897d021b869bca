package web

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"sync"

	"github.com/vigil-med/vigil/applicability"
	"github.com/vigil-med/vigil/catalog"
	"github.com/vigil-med/vigil/profile"
	"github.com/vigil-med/vigil/readiness"
	"github.com/vigil-med/vigil/store"
)

// evalCache holds the applicability of each device version. Versions are immutable and the
// catalog is fixed for the life of the process, so a result never goes stale.
var evalCache sync.Map // int64 -> *evaluated

type evaluated struct {
	profile *profile.Profile
	result  *applicability.Result
	// applicable requirement IDs per market, and the set of all applicable IDs.
	perMarket map[string]int
	applies   map[string]bool
}

func (s *Server) evaluate(v store.DeviceVersion) (*evaluated, error) {
	if e, ok := evalCache.Load(v.ID); ok {
		return e.(*evaluated), nil
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
	evalCache.Store(v.ID, e)
	return e, nil
}

// versionByID loads a device version with its profile, or a 404.
func (s *Server) versionByID(ctx context.Context, idStr string) (store.DeviceVersion, error) {
	id, err := strconv.ParseInt(idStr, 10, 64)
	if err != nil || id <= 0 {
		return store.DeviceVersion{}, notFound("device version")
	}
	return s.store.DeviceVersion(ctx, id)
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
	for _, lv := range versions {
		v := lv
		if _, cached := evalCache.Load(v.ID); !cached {
			full, err := s.store.DeviceVersion(ctx, v.ID)
			if err != nil {
				return nil, err
			}
			v = full
		}
		e, err := s.evaluate(v)
		if err != nil {
			return nil, err
		}
		row := heatRow{Version: lv}
		met, denom := 0, 0
		for _, mk := range catalog.Markets {
			c := heatCell{Market: mk, Total: e.perMarket[mk], OnMarket: e.perMarket[mk] > 0}
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
