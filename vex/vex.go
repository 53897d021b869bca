// Package vex is Vigil's model of VEX (Vulnerability Exploitability eXchange) decisions: for one
// vulnerability and one component of a device, a status (not_affected, affected, fixed,
// under_investigation) with CISA's justification codes, an impact statement, an action
// statement, an author and a time. It writes and reads the three exchange formats in use:
// OpenVEX (openvex/go-vex), CycloneDX VEX (CycloneDX/cyclonedx-go) and CSAF 2.0 VEX
// (gocsaf/csaf/v3, whose schema validation every CSAF document written here passes).
//
// A statement is about a device version (the Product) and, usually, one component of it (the
// Component): "InsuPump 2.1 is not affected by CVE-2022-27664 in golang.org/x/net because the
// vulnerable code is not in the execute path". A statement with no component is about the whole
// product. The rules every statement obeys are those of CISA's "Minimum Requirements for VEX"
// (April 2023) as OpenVEX encodes them (see [Statement.Check]), so a statement stored by Vigil
// can be written in every format without loss.
package vex

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Status is the exploitability status of a vulnerability in a product or component.
type Status string

// The four statuses (CISA VEX minimum requirements, section 3.2).
const (
	NotAffected        Status = "not_affected"
	Affected           Status = "affected"
	Fixed              Status = "fixed"
	UnderInvestigation Status = "under_investigation"
)

// Statuses lists the valid statuses.
var Statuses = []Status{NotAffected, Affected, Fixed, UnderInvestigation}

// Valid reports whether s is one of the four statuses.
func (s Status) Valid() bool { return slices.Contains(Statuses, s) }

// SignOff reports whether setting this status closes a finding: not_affected and fixed are
// sign-offs, which the web application reserves to approvers (as it does requirement sign-offs).
func (s Status) SignOff() bool { return s == NotAffected || s == Fixed }

// Justification says why a product is not affected (CISA's five codes).
type Justification string

// CISA's justification codes ("Vulnerability Exploitability eXchange (VEX) – Status
// Justifications", June 2022).
const (
	ComponentNotPresent                         Justification = "component_not_present"
	VulnerableCodeNotPresent                    Justification = "vulnerable_code_not_present"
	VulnerableCodeCannotBeControlledByAdversary Justification = "vulnerable_code_cannot_be_controlled_by_adversary"
	VulnerableCodeNotInExecutePath              Justification = "vulnerable_code_not_in_execute_path"
	InlineMitigationsAlreadyExist               Justification = "inline_mitigations_already_exist"
)

// Justifications lists the valid justification codes.
var Justifications = []Justification{ComponentNotPresent, VulnerableCodeNotPresent,
	VulnerableCodeCannotBeControlledByAdversary, VulnerableCodeNotInExecutePath, InlineMitigationsAlreadyExist}

// Valid reports whether j is one of CISA's codes.
func (j Justification) Valid() bool { return slices.Contains(Justifications, j) }

// Product identifies the device (version) a statement is about.
type Product struct {
	// ID is an IRI or package URL naming the product (for a Vigil device version:
	// pkg:generic/<product name>@<version>, see [DeviceID]).
	ID       string `json:"id,omitempty"`
	Name     string `json:"name,omitempty"`
	Version  string `json:"version,omitempty"`
	Supplier string `json:"supplier,omitempty"` // manufacturer
}

// Component identifies a component of the product: by package URL, else by name and version.
type Component struct {
	PURL    string `json:"purl,omitempty"`
	Name    string `json:"name,omitempty"`
	Version string `json:"version,omitempty"`
}

// IsZero reports whether no component is named (the statement is about the whole product).
func (c Component) IsZero() bool { return c.PURL == "" && c.Name == "" }

// Key is how Vigil identifies a component across SBOMs and device versions: the package URL
// without qualifiers and subpath (syft and cyclonedx-gomod differ only there), with its type in
// lower case; for a component without a package URL, "name@version".
func (c Component) Key() string { return ComponentKey(c.PURL, c.Name, c.Version) }

// ComponentKey is [Component.Key] of a component given by its fields.
func ComponentKey(purl, name, version string) string {
	purl = strings.TrimSpace(purl)
	if purl == "" {
		name = strings.TrimSpace(name)
		if name == "" {
			return ""
		}
		if v := strings.TrimSpace(version); v != "" {
			return name + "@" + v
		}
		return name
	}
	if i := strings.IndexAny(purl, "?#"); i >= 0 {
		purl = purl[:i]
	}
	if rest, ok := strings.CutPrefix(purl, "pkg:"); ok {
		rest = strings.TrimLeft(rest, "/")
		if typ, path, ok := strings.Cut(rest, "/"); ok {
			return "pkg:" + strings.ToLower(typ) + "/" + path
		}
	}
	return purl
}

// Same reports whether two components are the same package version: equal keys, or, when only
// one has a package URL, the same name and version.
func (c Component) Same(o Component) bool {
	if c.IsZero() || o.IsZero() {
		return false
	}
	if c.PURL != "" && o.PURL != "" {
		return c.Key() == o.Key()
	}
	return c.Name != "" && strings.EqualFold(c.Name, o.Name) && c.Version == o.Version
}

// Statement is one VEX decision.
type Statement struct {
	// Vulnerability is the advisory or CVE ID the statement is about; Aliases are its other IDs
	// (CVE, GHSA, GO-…), so that a reader that knows the vulnerability by another name finds it.
	Vulnerability string   `json:"vulnerability"`
	Aliases       []string `json:"aliases,omitempty"`
	// Description is a short description of the vulnerability (the advisory summary), which
	// CSAF requires as a note; optional elsewhere.
	Description string `json:"description,omitempty"`

	Product   Product   `json:"product"`
	Component Component `json:"component"`

	Status        Status        `json:"status"`
	Justification Justification `json:"justification,omitempty"`
	// ImpactStatement says why the product is not affected (not_affected only).
	ImpactStatement string `json:"impact_statement,omitempty"`
	// ActionStatement says what users should do (affected only; required there).
	ActionStatement string    `json:"action_statement,omitempty"`
	Author          string    `json:"author,omitempty"`
	Timestamp       time.Time `json:"timestamp"`
}

// IDs returns the vulnerability ID followed by its aliases.
func (s *Statement) IDs() []string { return append([]string{s.Vulnerability}, s.Aliases...) }

// Names reports whether id is the statement's vulnerability or one of its aliases.
func (s *Statement) Names(id string) bool {
	return id != "" && (s.Vulnerability == id || slices.Contains(s.Aliases, id))
}

// Check reports the first way in which s breaks the VEX rules:
//   - a vulnerability ID and a valid status are required;
//   - not_affected needs a justification code or an impact statement (or both), and no action;
//   - affected needs an action statement, and takes no justification or impact statement;
//   - fixed and under_investigation take none of the three.
//
// These are CISA's minimum requirements as OpenVEX checks them, so every statement that passes
// can be written in each of the three formats.
func (s *Statement) Check() error {
	switch {
	case strings.TrimSpace(s.Vulnerability) == "":
		return errors.New("vulnerability: an advisory or CVE ID is required")
	case !s.Status.Valid():
		return fmt.Errorf("status %q: expected one of %s", s.Status, joinStatuses())
	case s.Justification != "" && !s.Justification.Valid():
		return fmt.Errorf("justification %q: expected one of %s", s.Justification, joinJustifications())
	}
	switch s.Status {
	case NotAffected:
		if s.Justification == "" && strings.TrimSpace(s.ImpactStatement) == "" {
			return errors.New("status not_affected needs a justification code or an impact statement")
		}
		if s.ActionStatement != "" {
			return errors.New("status not_affected takes no action statement")
		}
	case Affected:
		if strings.TrimSpace(s.ActionStatement) == "" {
			return errors.New("status affected needs an action statement (what users should do)")
		}
		if s.Justification != "" || s.ImpactStatement != "" {
			return errors.New("status affected takes no justification or impact statement (they explain not_affected)")
		}
	default:
		if s.Justification != "" || s.ImpactStatement != "" || s.ActionStatement != "" {
			return fmt.Errorf("status %s takes no justification, impact or action statement", s.Status)
		}
	}
	return nil
}

// NoActionStatement is the action statement given to affected statements read from a document
// that gives none (the text OpenVEX's tools use).
const NoActionStatement = "No action statement provided"

// tidy makes a statement read from a document obey [Statement.Check] where that can be done
// without inventing a decision: fields the status does not take are dropped, and an affected
// statement without an action gets [NoActionStatement]. It returns what it changed.
func (s *Statement) tidy() []string {
	var notes []string
	drop := func(field string, v *string) {
		if *v != "" {
			notes = append(notes, fmt.Sprintf("%s dropped (status %s takes none)", field, s.Status))
			*v = ""
		}
	}
	switch s.Status {
	case NotAffected:
		drop("action statement", &s.ActionStatement)
	case Affected:
		if s.Justification != "" {
			notes = append(notes, "justification dropped (status affected takes none)")
			s.Justification = ""
		}
		drop("impact statement", &s.ImpactStatement)
		if strings.TrimSpace(s.ActionStatement) == "" {
			s.ActionStatement = NoActionStatement
		}
	case Fixed, UnderInvestigation:
		if s.Justification != "" {
			notes = append(notes, fmt.Sprintf("justification dropped (status %s takes none)", s.Status))
			s.Justification = ""
		}
		drop("impact statement", &s.ImpactStatement)
		drop("action statement", &s.ActionStatement)
	}
	return notes
}

func joinStatuses() string {
	out := make([]string, len(Statuses))
	for i, s := range Statuses {
		out[i] = string(s)
	}
	return strings.Join(out, ", ")
}

func joinJustifications() string {
	out := make([]string, len(Justifications))
	for i, j := range Justifications {
		out[i] = string(j)
	}
	return strings.Join(out, ", ")
}

// Document is a set of statements: what Vigil writes for one device version, or what it read
// from a file (where statements may name several products).
type Document struct {
	// Format is FormatOpenVEX, FormatCycloneDX or FormatCSAF (set by Parse).
	Format    string    `json:"format,omitempty"`
	ID        string    `json:"id,omitempty"`
	Author    string    `json:"author,omitempty"`
	Timestamp time.Time `json:"timestamp"`
	// Product is the device the document is about; statements with an empty Product are about
	// it.
	Product    Product     `json:"product"`
	Statements []Statement `json:"statements"`
	// Warnings say what Parse had to change or skip (fields a status does not take, statements
	// without a status it knows).
	Warnings []string `json:"warnings,omitempty"`
}

// Formats Vigil reads and writes.
const (
	FormatOpenVEX   = "openvex"
	FormatCycloneDX = "cyclonedx"
	FormatCSAF      = "csaf"
)

// FormatNames lists the formats in the order they are offered.
var FormatNames = []string{FormatOpenVEX, FormatCycloneDX, FormatCSAF}

// Options fill what a document needs beyond its statements.
type Options struct {
	// ID names the document (OpenVEX @id, CycloneDX serial number, CSAF tracking ID); derived
	// from the content when empty.
	ID string
	// Author is the document's author (OpenVEX author, CSAF publisher name); the product's
	// supplier when empty.
	Author string
	// Namespace is the CSAF publisher namespace, a URL of the publisher's (for example
	// https://psirt.example.com); "urn:vigil:publisher" when empty.
	Namespace string
	// Tool is the name and version of the tool writing the document ("vigil 1.2.0").
	Tool string
	// Now is the document time; the latest statement time when zero.
	Now time.Time
}

func (o Options) author(d *Document) string {
	return cmp.Or(strings.TrimSpace(o.Author), strings.TrimSpace(d.Author), strings.TrimSpace(d.Product.Supplier), "Unknown author")
}

func (o Options) now(d *Document) time.Time {
	if !o.Now.IsZero() {
		return o.Now.UTC()
	}
	if !d.Timestamp.IsZero() {
		return d.Timestamp.UTC()
	}
	var t time.Time
	for _, s := range d.Statements {
		if s.Timestamp.After(t) {
			t = s.Timestamp
		}
	}
	if t.IsZero() {
		t = time.Now()
	}
	return t.UTC()
}

// Encode writes d in format (FormatOpenVEX, FormatCycloneDX or FormatCSAF). Every statement must
// pass [Statement.Check].
func Encode(d *Document, format string, o Options) ([]byte, error) {
	for i := range d.Statements {
		if err := d.Statements[i].Check(); err != nil {
			s := &d.Statements[i]
			return nil, fmt.Errorf("vex: statement %d (%s, %s): %w", i+1, s.Vulnerability, cmp.Or(s.Component.Key(), "whole product"), err)
		}
	}
	switch format {
	case FormatOpenVEX:
		return encodeOpenVEX(d, o)
	case FormatCycloneDX:
		return encodeCycloneDX(d, o)
	case FormatCSAF:
		return encodeCSAF(d, o)
	}
	return nil, fmt.Errorf("vex: format %q: expected one of %s", format, strings.Join(FormatNames, ", "))
}

// ContentType is the media type of a document in format.
func ContentType(format string) string {
	if format == FormatCycloneDX {
		return "application/vnd.cyclonedx+json"
	}
	return "application/json"
}

// FileExtension is the usual file name ending of a document in format.
func FileExtension(format string) string {
	switch format {
	case FormatOpenVEX:
		return ".openvex.json"
	case FormatCycloneDX:
		return ".cdx.json"
	case FormatCSAF:
		return ".csaf.json"
	}
	return ".json"
}

// DeviceID is the package URL Vigil gives a device version in VEX documents:
// pkg:generic/<product name>@<version>, the purl-spec type for software that no package
// ecosystem names.
func DeviceID(name, version string) string {
	p := "pkg:generic/" + purlEscape(name)
	if version != "" {
		p += "@" + purlEscape(version)
	}
	return p
}

// DeviceName returns the product name and version of a package URL made by [DeviceID]
// (pkg:generic/<name>@<version>); both are empty for other package URLs.
func DeviceName(purl string) (name, version string) {
	if !strings.HasPrefix(purl, "pkg:generic/") {
		return "", ""
	}
	return purlNameVersion(purl)
}

// purlEscape percent-encodes what a purl name or version may not hold literally.
func purlEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// Decision returns the statement of d that decides vulnerability ids (an ID and its aliases)
// for comp in a product described by subject, or nil. A statement decides when it names one of
// the IDs and either names the component, or names no component and is about subject (same
// product ID, or same name and, when both give one, version). When several statements decide,
// the latest wins (OpenVEX's rule).
func (d *Document) Decision(ids []string, comp Component, subject Product) *Statement {
	var best *Statement
	for i := range d.Statements {
		s := &d.Statements[i]
		if !slices.ContainsFunc(ids, s.Names) {
			continue
		}
		if s.Component.IsZero() {
			p := s.Product
			if p == (Product{}) {
				p = d.Product
			}
			// A product named by a package URL may be the component itself (OpenVEX documents
			// from upstream projects name their package as the product).
			if !sameProduct(p, subject) && !(p.ID != "" && comp.PURL != "" && ComponentKey(p.ID, "", "") == comp.Key()) {
				continue
			}
		} else if !s.Component.Same(comp) {
			continue
		}
		if best == nil || !s.Timestamp.Before(best.Timestamp) {
			best = s
		}
	}
	return best
}

func sameProduct(a, b Product) bool {
	switch {
	case a.ID != "" && b.ID != "" && ComponentKey(a.ID, "", "") == ComponentKey(b.ID, "", ""):
		return true
	case a.Name == "" || b.Name == "" || !strings.EqualFold(strings.TrimSpace(a.Name), strings.TrimSpace(b.Name)):
		return false
	}
	return a.Version == "" || b.Version == "" || a.Version == b.Version
}

// sortStatements orders statements by vulnerability, component and time, for stable output.
func sortStatements(list []Statement) {
	slices.SortStableFunc(list, func(a, b Statement) int {
		return cmp.Or(cmp.Compare(a.Vulnerability, b.Vulnerability), cmp.Compare(a.Component.Key(), b.Component.Key()),
			a.Timestamp.Compare(b.Timestamp))
	})
}
