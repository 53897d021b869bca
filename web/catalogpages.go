package web

import (
	"net/http"
	"strings"

	"github.com/vigil-med/vigil/catalog"
)

type catalogPage struct {
	Base
	Markets  []string
	Regimes  []*catalog.Regime
	Controls []*catalog.Control
	Version  string
	Total    int
	Q        string
	Results  []*catalog.Requirement
}

func (s *Server) catalogView(w http.ResponseWriter, r *http.Request) error {
	p := catalogPage{Base: s.base(r, "Regulatory catalog", "catalog"), Markets: catalog.Markets, Regimes: s.cat.Regimes, Controls: s.cat.Controls, Version: s.cat.Version, Total: len(s.cat.Requirements())}
	if q := strings.TrimSpace(r.URL.Query().Get("q")); q != "" {
		p.Q = q
		p.Results = s.cat.Search(q)
	}
	return s.render(w, http.StatusOK, "catalog", p)
}

type catalogItemPage struct {
	Base
	Regime      *catalog.Regime
	Requirement *catalog.Requirement
	Control     *catalog.Control
	ReqRegime   *catalog.Regime
	Markets     []string
	ByMarket    map[string][]*catalog.Requirement
	cat         *catalog.Catalog
}

// RegimeOf returns the regime of a requirement (for templates).
func (p catalogItemPage) RegimeOf(q *catalog.Requirement) *catalog.Regime {
	r, _ := p.cat.Regime(q.Regime)
	return r
}

// ControlOf returns a control objective by ID (for templates).
func (p catalogItemPage) ControlOf(id string) *catalog.Control {
	c, _ := p.cat.Control(id)
	return c
}

// Evidence returns an evidence type by key (for templates).
func (p catalogItemPage) Evidence(key string) *catalog.EvidenceType {
	e, _ := p.cat.EvidenceType(key)
	return e
}

func (s *Server) catalogItem(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	p := catalogItemPage{Base: s.base(r, id, "catalog"), Markets: catalog.Markets, cat: s.cat}
	switch {
	case func() bool { reg, ok := s.cat.Regime(id); p.Regime = reg; return ok }():
		p.Title = p.Regime.ShortTitle
	case func() bool { q, ok := s.cat.Requirement(id); p.Requirement = q; return ok }():
		p.Title = p.Requirement.Title
		p.ReqRegime, _ = s.cat.Regime(p.Requirement.Regime)
	case func() bool { c, ok := s.cat.Control(id); p.Control = c; return ok }():
		p.Title = p.Control.ID + " " + p.Control.Title
		p.ByMarket = map[string][]*catalog.Requirement{}
		for _, q := range p.Control.Requirements {
			reg, _ := s.cat.Regime(q.Regime)
			p.ByMarket[reg.Jurisdiction] = append(p.ByMarket[reg.Jurisdiction], q)
		}
	default:
		return notFound("catalog entry " + id)
	}
	return s.render(w, http.StatusOK, "catalog_item", p)
}
