package applicability

import "github.com/vigil-med/vigil/catalog"

// Matrix is the cross-market control view for one device: for each common control objective,
// the applicable requirements of every market it serves, so a team sees what one piece of
// evidence covers.
type Matrix struct {
	Schema         string       `json:"schema"`
	Device         string       `json:"device"`
	CatalogVersion string       `json:"catalog_version"`
	Markets        []string     `json:"markets"`
	Controls       []ControlRow `json:"controls"`
}

// ControlRow is one control objective and the requirements that map onto it, per market.
type ControlRow struct {
	ID       string            `json:"id"`
	Key      string            `json:"key"`
	Title    string            `json:"title"`
	Markets  map[string][]Cell `json:"markets"`
	Total    int               `json:"requirements"`
	Evidence []string          `json:"evidence"`
}

// Cell is one applicable requirement in a control row.
type Cell struct {
	Requirement string   `json:"requirement"`
	Regime      string   `json:"regime"`
	Title       string   `json:"title"`
	Mapping     string   `json:"mapping"`
	Citations   []string `json:"citations"`
}

// MatrixSchema is the schema tag of the controls matrix output.
const MatrixSchema = "vigil/controls/v1"

// BuildMatrix builds the control matrix from an applicability result. Only applicable requirements
// are listed; markets the device is not on have empty cells.
func BuildMatrix(cat *catalog.Catalog, res *Result) *Matrix {
	applies := map[string]bool{}
	for _, q := range res.Requirements {
		applies[q.ID] = q.Applies
	}
	m := &Matrix{Schema: MatrixSchema, Device: res.Device, CatalogVersion: res.CatalogVersion, Markets: catalog.Markets}
	for _, ctl := range cat.Controls {
		row := ControlRow{ID: ctl.ID, Key: ctl.Key, Title: ctl.Title, Markets: map[string][]Cell{}}
		seen := map[string]bool{}
		for _, mk := range catalog.Markets {
			row.Markets[mk] = []Cell{}
		}
		for _, req := range ctl.Requirements {
			if !applies[req.ID] {
				continue
			}
			reg, _ := cat.Regime(req.Regime)
			mapping := ""
			for _, ref := range req.Controls {
				if ref.ID == ctl.ID {
					mapping = ref.Mapping
				}
			}
			row.Markets[reg.Jurisdiction] = append(row.Markets[reg.Jurisdiction], Cell{
				Requirement: req.ID, Regime: req.Regime, Title: req.Title, Mapping: mapping, Citations: req.Citations,
			})
			row.Total++
			for _, ev := range req.Evidence {
				if !seen[ev] {
					seen[ev] = true
					row.Evidence = append(row.Evidence, ev)
				}
			}
		}
		if row.Evidence == nil {
			row.Evidence = []string{}
		}
		m.Controls = append(m.Controls, row)
	}
	return m
}
