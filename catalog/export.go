package catalog

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"strings"

	"github.com/goccy/go-yaml"
)

// ExportSchema is the schema tag of the whole-catalog export (contract section 8).
const ExportSchema = "vigil/catalog/v1"

// Export is the whole catalog as one document. Field names are part of the contract.
type Export struct {
	Schema         string           `json:"schema" yaml:"schema"`
	CatalogVersion string           `json:"catalog_version" yaml:"catalog_version"`
	Released       string           `json:"released" yaml:"released"`
	Regimes        []ExportRegime   `json:"regimes" yaml:"regimes"`
	Controls       []ExportControl  `json:"controls" yaml:"controls"`
	Evidence       []ExportEvidence `json:"evidence_types" yaml:"evidence_types"`
}

// ExportRegime is one regime in the export.
type ExportRegime struct {
	ID           string              `json:"id" yaml:"id"`
	Title        string              `json:"title" yaml:"title"`
	ShortTitle   string              `json:"short_title" yaml:"short_title"`
	Issuer       string              `json:"issuer" yaml:"issuer"`
	Jurisdiction string              `json:"jurisdiction" yaml:"jurisdiction"`
	Force        string              `json:"force" yaml:"force"`
	Version      string              `json:"version" yaml:"version"`
	Effective    string              `json:"effective" yaml:"effective"`
	Source       string              `json:"source" yaml:"source"`
	Summary      string              `json:"summary" yaml:"summary"`
	Scope        string              `json:"scope" yaml:"scope"`
	Confidence   string              `json:"confidence" yaml:"confidence"`
	Unverified   bool                `json:"unverified" yaml:"unverified"`
	Notes        []Note              `json:"notes" yaml:"notes"`
	History      []Version           `json:"history" yaml:"history"`
	Requirements []ExportRequirement `json:"requirements" yaml:"requirements"`
}

// ExportRequirement is one requirement in the export.
type ExportRequirement struct {
	ID              string       `json:"id" yaml:"id"`
	Title           string       `json:"title" yaml:"title"`
	Group           string       `json:"group,omitempty" yaml:"group,omitempty"`
	Summary         string       `json:"summary" yaml:"summary"`
	Citations       []string     `json:"citations" yaml:"citations"`
	Controls        []string     `json:"controls" yaml:"controls"`
	ControlMappings []ControlRef `json:"control_mappings" yaml:"control_mappings"`
	Evidence        []string     `json:"evidence" yaml:"evidence"`
	Unverified      bool         `json:"unverified" yaml:"unverified"`
	Confidence      string       `json:"confidence" yaml:"confidence"`
	Note            string       `json:"note,omitempty" yaml:"note,omitempty"`
	When            *Conditions  `json:"when,omitempty" yaml:"when,omitempty"`
	Clock           *Clock       `json:"clock,omitempty" yaml:"clock,omitempty"`
}

// ExportControl is one control objective with the requirements mapped onto it.
type ExportControl struct {
	ID           string   `json:"id" yaml:"id"`
	Key          string   `json:"key" yaml:"key"`
	Title        string   `json:"title" yaml:"title"`
	Description  string   `json:"description" yaml:"description"`
	Standards    []string `json:"standards" yaml:"standards"`
	Requirements []string `json:"requirements" yaml:"requirements"`
}

// ExportEvidence is one evidence type.
type ExportEvidence struct {
	Key         string `json:"key" yaml:"key"`
	Title       string `json:"title" yaml:"title"`
	Description string `json:"description" yaml:"description"`
}

// Export builds the export document.
func (c *Catalog) Export() *Export {
	x := &Export{Schema: ExportSchema, CatalogVersion: c.Version, Released: c.Released}
	for _, r := range c.Regimes {
		er := ExportRegime{
			ID: r.ID, Title: r.Title, ShortTitle: r.ShortTitle, Issuer: r.Issuer, Jurisdiction: r.Jurisdiction,
			Force: r.Force, Version: r.Version, Effective: r.Effective, Source: r.Source,
			Summary: strings.TrimSpace(r.Summary), Scope: strings.TrimSpace(r.Scope), Confidence: r.Confidence,
			Unverified: r.Confidence == "unverified", Notes: nonNil(r.Notes), History: nonNil(r.History),
		}
		for _, q := range r.Requirements {
			er.Requirements = append(er.Requirements, ExportRequirement{
				ID: q.ID, Title: q.Title, Group: q.Group, Summary: strings.TrimSpace(q.Summary),
				Citations: q.Citations, Controls: q.ControlIDs(), ControlMappings: q.Controls, Evidence: q.Evidence,
				Unverified: q.Unverified(), Confidence: q.Confidence, Note: strings.TrimSpace(q.Note), When: q.When, Clock: q.Clock,
			})
		}
		x.Regimes = append(x.Regimes, er)
	}
	for _, ctl := range c.Controls {
		ec := ExportControl{ID: ctl.ID, Key: ctl.Key, Title: ctl.Title, Description: strings.TrimSpace(ctl.Description), Standards: nonNil(ctl.Standards), Requirements: []string{}}
		for _, q := range ctl.Requirements {
			ec.Requirements = append(ec.Requirements, q.ID)
		}
		x.Controls = append(x.Controls, ec)
	}
	for _, e := range c.Evidence {
		x.Evidence = append(x.Evidence, ExportEvidence{Key: e.Key, Title: e.Title, Description: e.Description})
	}
	return x
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// WriteJSON writes the export as indented JSON.
func (c *Catalog) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(c.Export())
}

// WriteYAML writes the export as YAML.
func (c *Catalog) WriteYAML(w io.Writer) error {
	out, err := yaml.MarshalWithOptions(c.Export(), yaml.UseLiteralStyleIfMultiline(true))
	if err != nil {
		return err
	}
	_, err = w.Write(out)
	return err
}

// CSVHeader is the header row of the CSV export: one row per requirement.
var CSVHeader = []string{"regime", "jurisdiction", "force", "requirement", "title", "group", "summary", "citations", "controls", "evidence", "confidence", "unverified", "note", "clock"}

// WriteCSV writes one row per requirement, multi-valued cells joined with "; ".
func (c *Catalog) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	for _, r := range c.Regimes {
		for _, q := range r.Requirements {
			var ctls []string
			for _, ref := range q.Controls {
				ctls = append(ctls, ref.ID+" ("+ref.Mapping+")")
			}
			clock := ""
			if q.Clock != nil {
				var steps []string
				for _, d := range q.Clock.Deadlines {
					s := d.Obligation
					if d.Within != "" {
						s += " " + d.Within
					}
					steps = append(steps, s)
				}
				clock = strings.Join(steps, "; ")
			}
			unv := "false"
			if q.Unverified() {
				unv = "true"
			}
			row := []string{r.ID, r.Jurisdiction, r.Force, q.ID, q.Title, q.Group, oneLine(q.Summary),
				strings.Join(q.Citations, "; "), strings.Join(ctls, "; "), strings.Join(q.Evidence, "; "),
				q.Confidence, unv, oneLine(q.Note), clock}
			if err := cw.Write(row); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
