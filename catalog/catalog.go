// Package catalog holds Vigil's versioned regulatory catalog: the twenty regimes of the US, Canada,
// the EU and the UK that bear on medical-device cybersecurity, their requirements in our own words
// with citations, and the common control objectives that let one piece of evidence serve every
// market that asks for it. The content is YAML under data/, embedded in the binary.
package catalog

import (
	"cmp"
	"slices"
	"strings"
)

// RegimeIDs are the stable regime identifiers of the CLI/JSON contract, in contract order.
var RegimeIDs = []string{
	"us.fdca-524b", "us.fda-premarket", "us.fda-postmarket", "us.info-sharing", "us.fda-mdr-reporting",
	"ca.hc-premarket", "ca.mdr-reporting",
	"eu.mdr", "eu.ivdr", "eu.mdcg-2019-16", "eu.enisa", "eu.gdpr", "eu.nis2", "eu.cra", "eu.ai-act",
	"uk.mdr-2002", "uk.ncsc", "uk.nis-2018", "uk.gdpr", "uk.psti",
}

// Markets in display order, with the jurisdiction code used in regimes.
var Markets = []string{"US", "CA", "EU", "UK"}

// Catalog is one loaded, validated version of the catalog.
type Catalog struct {
	Version  string
	Released string
	Regimes  []*Regime
	Controls []*Control
	Evidence []*EvidenceType

	regimes      map[string]*Regime
	requirements map[string]*Requirement
	controls     map[string]*Control
	evidence     map[string]*EvidenceType
}

// Regime is one law, regulation, directive, guidance or standard.
type Regime struct {
	ID           string         `yaml:"id"`
	Title        string         `yaml:"title"`
	ShortTitle   string         `yaml:"short_title"`
	Issuer       string         `yaml:"issuer"`
	Jurisdiction string         `yaml:"jurisdiction"`
	Force        string         `yaml:"force"`
	Version      string         `yaml:"version"`
	Effective    string         `yaml:"effective"`
	Source       string         `yaml:"source"`
	Summary      string         `yaml:"summary"`
	Scope        string         `yaml:"scope"`
	Confidence   string         `yaml:"confidence"`
	Notes        []Note         `yaml:"notes"`
	History      []Version      `yaml:"history"`
	Requirements []*Requirement `yaml:"requirements"`
}

// Note is a status remark on a regime; Unverified marks facts that could not be confirmed.
type Note struct {
	Text       string `yaml:"text" json:"text"`
	Unverified bool   `yaml:"unverified" json:"unverified"`
}

// Version is an earlier, later or parallel version of a regime's text.
type Version struct {
	Version      string `yaml:"version" json:"version"`
	Title        string `yaml:"title" json:"title"`
	Status       string `yaml:"status" json:"status"`
	Date         string `yaml:"date" json:"date"`
	SupersededBy string `yaml:"superseded_by" json:"superseded_by,omitempty"`
	Note         string `yaml:"note" json:"note,omitempty"`
}

// Requirement is one thing a regime asks of the manufacturer.
type Requirement struct {
	ID         string            `yaml:"id"`
	Title      string            `yaml:"title"`
	Group      string            `yaml:"group"`
	Summary    string            `yaml:"summary"`
	Citations  []string          `yaml:"citations"`
	Evidence   []string          `yaml:"evidence"`
	ControlMap map[string]string `yaml:"controls"`
	Confidence string            `yaml:"confidence"`
	Note       string            `yaml:"note"`
	When       *Conditions       `yaml:"when"`
	Clock      *Clock            `yaml:"clock"`

	// Set by the loader.
	Regime   string       `yaml:"-"`
	Controls []ControlRef `yaml:"-"`
}

// Unverified reports whether the requirement rests on a fact that could not be confirmed.
func (r *Requirement) Unverified() bool { return r.Confidence == "unverified" }

// ControlIDs returns the IDs of the control objectives the requirement maps to, sorted.
func (r *Requirement) ControlIDs() []string {
	ids := make([]string, len(r.Controls))
	for i, c := range r.Controls {
		ids[i] = c.ID
	}
	return ids
}

// ControlRef links a requirement to a control objective with a mapping type.
type ControlRef struct {
	ID      string `json:"id"`
	Mapping string `json:"mapping"`
}

// Conditions narrow a requirement within a regime that applies (all set fields must hold).
type Conditions struct {
	Device        *bool    `yaml:"device" json:"device,omitempty"`
	CyberDevice   *bool    `yaml:"cyber_device" json:"cyber_device,omitempty"`
	USSubmission  []string `yaml:"us_submission" json:"us_submission,omitempty"`
	USClass       []string `yaml:"us_class" json:"us_class,omitempty"`
	CAClass       []string `yaml:"ca_class" json:"ca_class,omitempty"`
	EUClass       []string `yaml:"eu_class" json:"eu_class,omitempty"`
	IVDRClass     []string `yaml:"ivdr_class" json:"ivdr_class,omitempty"`
	UKClass       []string `yaml:"uk_class" json:"uk_class,omitempty"`
	Implantable   *bool    `yaml:"implantable" json:"implantable,omitempty"`
	Software      *bool    `yaml:"software" json:"software,omitempty"`
	Connected     *bool    `yaml:"connected" json:"connected,omitempty"`
	Cloud         *bool    `yaml:"cloud" json:"cloud,omitempty"`
	RemoteUpdates *bool    `yaml:"remote_updates" json:"remote_updates,omitempty"`
	PersonalData  *bool    `yaml:"personal_data" json:"personal_data,omitempty"`
	HealthData    *bool    `yaml:"health_data" json:"health_data,omitempty"`
	AI            *bool    `yaml:"ai" json:"ai,omitempty"`
	NIS2Category  []string `yaml:"nis2_category" json:"nis2_category,omitempty"`
	LayUser       *bool    `yaml:"lay_user" json:"lay_user,omitempty"`
}

// Clock describes a reporting or time-bound duty.
type Clock struct {
	Trigger   string     `yaml:"trigger" json:"trigger"`
	Recipient string     `yaml:"recipient" json:"recipient"`
	Deadlines []Deadline `yaml:"deadlines" json:"deadlines"`
}

// Deadline is one step of a clock. Within is an ISO 8601 duration; empty means "without undue
// delay" or "in advance", as the note says.
type Deadline struct {
	Obligation   string `yaml:"obligation" json:"obligation"`
	Within       string `yaml:"within" json:"within,omitempty"`
	Calendar     string `yaml:"calendar" json:"calendar"`
	CalendarName string `yaml:"calendar_name" json:"calendar_name,omitempty"`
	From         string `yaml:"from" json:"from"`
	Note         string `yaml:"note" json:"note,omitempty"`
}

// Control is a common control objective.
type Control struct {
	ID          string   `yaml:"id"`
	Key         string   `yaml:"key"`
	Title       string   `yaml:"title"`
	Description string   `yaml:"description"`
	Standards   []string `yaml:"standards"`

	// Requirements maps onto this control, derived by the loader, in catalog order.
	Requirements []*Requirement `yaml:"-"`
}

// EvidenceType is a kind of artefact that requirements expect.
type EvidenceType struct {
	Key         string `yaml:"key"`
	Title       string `yaml:"title"`
	Description string `yaml:"description"`
}

// Regime returns the regime with the given ID.
func (c *Catalog) Regime(id string) (*Regime, bool) { r, ok := c.regimes[id]; return r, ok }

// Requirement returns the requirement with the given ID.
func (c *Catalog) Requirement(id string) (*Requirement, bool) {
	r, ok := c.requirements[id]
	return r, ok
}

// Control returns the control objective with the given ID (CO-05) or key (sbom), case-insensitively.
func (c *Catalog) Control(idOrKey string) (*Control, bool) {
	if ctl, ok := c.controls[strings.ToUpper(idOrKey)]; ok {
		return ctl, true
	}
	for _, ctl := range c.Controls {
		if strings.EqualFold(ctl.Key, idOrKey) {
			return ctl, true
		}
	}
	return nil, false
}

// EvidenceType returns the evidence type with the given key.
func (c *Catalog) EvidenceType(key string) (*EvidenceType, bool) {
	e, ok := c.evidence[key]
	return e, ok
}

// Requirements returns every requirement in catalog order.
func (c *Catalog) Requirements() []*Requirement {
	var out []*Requirement
	for _, r := range c.Regimes {
		out = append(out, r.Requirements...)
	}
	return out
}

// Search returns the requirements whose ID, title, summary or citations contain every word of q
// (case-insensitive), in catalog order.
func (c *Catalog) Search(q string) []*Requirement {
	words := strings.Fields(strings.ToLower(q))
	var out []*Requirement
	for _, r := range c.Requirements() {
		hay := strings.ToLower(r.ID + " " + r.Title + " " + r.Summary + " " + strings.Join(r.Citations, " "))
		if all(words, func(w string) bool { return strings.Contains(hay, w) }) {
			out = append(out, r)
		}
	}
	return out
}

func all[T any](xs []T, f func(T) bool) bool {
	for _, x := range xs {
		if !f(x) {
			return false
		}
	}
	return true
}

// sortedRefs turns the YAML control map into a list sorted by control ID.
func sortedRefs(m map[string]string) []ControlRef {
	refs := make([]ControlRef, 0, len(m))
	for id, mapping := range m {
		refs = append(refs, ControlRef{ID: id, Mapping: mapping})
	}
	slices.SortFunc(refs, func(a, b ControlRef) int { return cmp.Compare(a.ID, b.ID) })
	return refs
}
