// Package readiness turns the requirements that apply to a device, and the team's assessment of
// each, into readiness per market: the share of applicable requirements met, and the gap list.
package readiness

import (
	"sort"

	"github.com/vigil-med/vigil/applicability"
	"github.com/vigil-med/vigil/catalog"
)

// Statuses of a requirement assessment.
const (
	NotStarted    = "not-started"
	InProgress    = "in-progress"
	Met           = "met"
	NotMet        = "not-met"
	NotApplicable = "not-applicable"
)

// Statuses lists every status in workflow order.
var Statuses = []string{NotStarted, InProgress, Met, NotMet, NotApplicable}

// Market is the readiness of one market.
type Market struct {
	Market     string         `json:"market"`
	OnMarket   bool           `json:"on_market"`
	Applicable int            `json:"applicable"`     // requirements that apply
	Excluded   int            `json:"not_applicable"` // judged not applicable by the team, with justification
	Met        int            `json:"met"`            // met
	Counts     map[string]int `json:"counts"`         // per status
	Percent    float64        `json:"percent"`        // met / (applicable - excluded), 0..100
	Gaps       []string       `json:"gaps,omitempty"` // requirement IDs not met, in catalog order
}

// Compute returns readiness for the four markets, in catalog.Markets order. statuses maps
// requirement ID to status; a requirement without an entry is not started.
func Compute(cat *catalog.Catalog, res *applicability.Result, statuses map[string]string) []Market {
	out := make([]Market, 0, len(catalog.Markets))
	byMarket := map[string]*Market{}
	for _, mk := range catalog.Markets {
		out = append(out, Market{Market: mk, Counts: map[string]int{}})
	}
	for i := range out {
		byMarket[out[i].Market] = &out[i]
	}
	for _, r := range res.Regimes {
		if r.Applies {
			byMarket[r.Jurisdiction].OnMarket = true
		}
	}
	for _, q := range res.Requirements {
		if !q.Applies {
			continue
		}
		reg, ok := cat.Regime(q.Regime)
		if !ok {
			continue
		}
		m := byMarket[reg.Jurisdiction]
		st := statuses[q.ID]
		if st == "" {
			st = NotStarted
		}
		m.Applicable++
		m.Counts[st]++
		switch st {
		case Met:
			m.Met++
		case NotApplicable:
			m.Excluded++
		default:
			m.Gaps = append(m.Gaps, q.ID)
		}
	}
	for i := range out {
		m := &out[i]
		if denom := m.Applicable - m.Excluded; denom > 0 {
			m.Percent = float64(m.Met) * 100 / float64(denom)
		} else if m.Applicable > 0 {
			m.Percent = 100
		}
	}
	return out
}

// Summary is readiness over all markets together.
func Summary(ms []Market) (met, denom int, percent float64) {
	for _, m := range ms {
		met += m.Met
		denom += m.Applicable - m.Excluded
	}
	if denom > 0 {
		percent = float64(met) * 100 / float64(denom)
	}
	return
}

// SortedStatuses returns the keys of counts in workflow order.
func SortedStatuses(counts map[string]int) []string {
	var keys []string
	for k := range counts {
		keys = append(keys, k)
	}
	order := map[string]int{}
	for i, s := range Statuses {
		order[s] = i
	}
	sort.Slice(keys, func(i, j int) bool { return order[keys[i]] < order[keys[j]] })
	return keys
}
