package catalog

import (
	"encoding/json"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"
)

// OSCALVersion is the OSCAL model version the export follows.
const OSCALVersion = "1.0.6"

// oscalNS is the namespace of Vigil's own OSCAL property names.
const oscalNS = "urn:vigil:catalog"

// Deterministic UUIDs (v5) so that the same catalog version always exports the same document.
var oscalRoot = uuid.NewSHA1(uuid.NameSpaceURL, []byte("urn:vigil:catalog"))

func oscalUUID(parts ...string) string {
	return uuid.NewSHA1(oscalRoot, []byte(strings.Join(parts, "/"))).String()
}

type oscalDoc struct {
	Catalog oscalCatalog `json:"catalog"`
}

type oscalCatalog struct {
	UUID       string          `json:"uuid"`
	Metadata   oscalMetadata   `json:"metadata"`
	Groups     []oscalGroup    `json:"groups"`
	BackMatter oscalBackMatter `json:"back-matter"`
}

type oscalMetadata struct {
	Title        string      `json:"title"`
	LastModified string      `json:"last-modified"`
	Version      string      `json:"version"`
	OSCALVersion string      `json:"oscal-version"`
	Props        []oscalProp `json:"props,omitempty"`
	Remarks      string      `json:"remarks,omitempty"`
}

type oscalGroup struct {
	ID       string         `json:"id"`
	Class    string         `json:"class"`
	Title    string         `json:"title"`
	Props    []oscalProp    `json:"props,omitempty"`
	Links    []oscalLink    `json:"links,omitempty"`
	Parts    []oscalPart    `json:"parts,omitempty"`
	Controls []oscalControl `json:"controls"`
}

type oscalControl struct {
	ID    string      `json:"id"`
	Class string      `json:"class"`
	Title string      `json:"title"`
	Props []oscalProp `json:"props,omitempty"`
	Links []oscalLink `json:"links,omitempty"`
	Parts []oscalPart `json:"parts,omitempty"`
}

type oscalProp struct {
	Name  string `json:"name"`
	NS    string `json:"ns,omitempty"`
	Value string `json:"value"`
	Class string `json:"class,omitempty"`
}

type oscalLink struct {
	Href string `json:"href"`
	Rel  string `json:"rel,omitempty"`
	Text string `json:"text,omitempty"`
}

type oscalPart struct {
	ID    string `json:"id,omitempty"`
	Name  string `json:"name"`
	NS    string `json:"ns,omitempty"`
	Title string `json:"title,omitempty"`
	Prose string `json:"prose,omitempty"`
}

type oscalBackMatter struct {
	Resources []oscalResource `json:"resources"`
}

type oscalResource struct {
	UUID   string       `json:"uuid"`
	Title  string       `json:"title"`
	RLinks []oscalRLink `json:"rlinks"`
}

type oscalRLink struct {
	Href string `json:"href"`
}

// OSCAL builds an OSCAL 1.0.6 catalog: one group per regime whose controls are its requirements,
// and one group of Vigil's common control objectives linking to the requirements they map.
func (c *Catalog) OSCAL() any {
	modified := c.Released + "T00:00:00Z"
	if _, err := time.Parse(time.RFC3339, modified); err != nil {
		modified = "1970-01-01T00:00:00Z"
	}
	cat := oscalCatalog{
		UUID: oscalUUID("catalog", c.Version),
		Metadata: oscalMetadata{
			Title:        "Vigil medical-device cybersecurity regulatory catalog",
			LastModified: modified,
			Version:      c.Version,
			OSCALVersion: OSCALVersion,
			Remarks:      "Requirements of US, Canadian, EU and UK regimes in Vigil's own words, with citations to the official texts. Not legal text.",
		},
	}
	for _, r := range c.Regimes {
		res := oscalResource{UUID: oscalUUID("source", r.ID), Title: r.Title, RLinks: []oscalRLink{{Href: r.Source}}}
		cat.BackMatter.Resources = append(cat.BackMatter.Resources, res)
		g := oscalGroup{
			ID: r.ID, Class: "regime", Title: r.Title,
			Props: []oscalProp{
				{Name: "label", Value: r.ShortTitle},
				{Name: "jurisdiction", NS: oscalNS, Value: r.Jurisdiction},
				{Name: "force", NS: oscalNS, Value: r.Force},
				{Name: "issuer", NS: oscalNS, Value: r.Issuer},
				{Name: "version", NS: oscalNS, Value: r.Version},
				{Name: "effective", NS: oscalNS, Value: r.Effective},
				{Name: "confidence", NS: oscalNS, Value: r.Confidence},
			},
			Links: []oscalLink{{Href: "#" + res.UUID, Rel: "reference", Text: "Official text"}},
			Parts: []oscalPart{
				{ID: r.ID + "_smt", Name: "overview", Prose: oneLine(r.Summary)},
				{ID: r.ID + "_scope", Name: "scope", NS: oscalNS, Prose: oneLine(r.Scope)},
			},
		}
		for _, q := range r.Requirements {
			ctl := oscalControl{
				ID: q.ID, Class: "requirement", Title: q.Title,
				Parts: []oscalPart{{ID: q.ID + "_smt", Name: "statement", Prose: oneLine(q.Summary)}},
			}
			for _, cit := range q.Citations {
				ctl.Props = append(ctl.Props, oscalProp{Name: "citation", NS: oscalNS, Value: cit})
			}
			for _, ref := range q.Controls {
				ctl.Props = append(ctl.Props, oscalProp{Name: "control-objective", NS: oscalNS, Value: ref.ID, Class: ref.Mapping})
				ctl.Links = append(ctl.Links, oscalLink{Href: "#" + ref.ID, Rel: ref.Mapping})
			}
			for _, ev := range q.Evidence {
				ctl.Props = append(ctl.Props, oscalProp{Name: "evidence", NS: oscalNS, Value: ev})
			}
			ctl.Props = append(ctl.Props, oscalProp{Name: "confidence", NS: oscalNS, Value: q.Confidence})
			if q.Group != "" {
				ctl.Props = append(ctl.Props, oscalProp{Name: "source-section", NS: oscalNS, Value: q.Group})
			}
			if n := oneLine(q.Note); n != "" {
				ctl.Parts = append(ctl.Parts, oscalPart{ID: q.ID + "_note", Name: "guidance", Prose: n})
			}
			g.Controls = append(g.Controls, ctl)
		}
		cat.Groups = append(cat.Groups, g)
	}
	objectives := oscalGroup{ID: "control-objectives", Class: "control-objectives", Title: "Common control objectives"}
	for _, ctl := range c.Controls {
		oc := oscalControl{
			ID: ctl.ID, Class: "control-objective", Title: ctl.Title,
			Props: []oscalProp{{Name: "label", Value: ctl.Key}},
			Parts: []oscalPart{{ID: ctl.ID + "_smt", Name: "statement", Prose: oneLine(ctl.Description)}},
		}
		for _, q := range ctl.Requirements {
			oc.Links = append(oc.Links, oscalLink{Href: "#" + q.ID, Rel: "required-by"})
		}
		objectives.Controls = append(objectives.Controls, oc)
	}
	cat.Groups = append(cat.Groups, objectives)
	return oscalDoc{Catalog: cat}
}

// WriteOSCAL writes the OSCAL catalog as indented JSON.
func (c *Catalog) WriteOSCAL(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(c.OSCAL())
}
