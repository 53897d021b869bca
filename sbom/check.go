package sbom

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/package-url/packageurl-go"
)

// CheckSchema names the JSON form of a Report.
const CheckSchema = "vigil/sbom-check/v1"

// Severities of findings. Required elements are those NTIA's minimum elements (2021) and FDA's
// premarket cybersecurity guidance ask for; recommended ones come from NTIA's "Framing Software
// Component Transparency" baseline; informational ones from CISA's 2025 draft update of the
// minimum elements, or are notes that cost no points.
const (
	SeverityRequired      = "required"
	SeverityRecommended   = "recommended"
	SeverityInformational = "informational"
)

// Elements the check looks at, document-level first.
const (
	ElemAuthor          = "author"
	ElemTimestamp       = "timestamp"
	ElemDependencies    = "dependencies"
	ElemSupplier        = "supplier"
	ElemName            = "name"
	ElemVersion         = "version"
	ElemIdentifier      = "identifier"
	ElemHash            = "hash"
	ElemLicense         = "license"
	ElemSupport         = "support"
	ElemEndOfSupport    = "end-of-support"
	ElemVulnerabilities = "vulnerabilities"
)

// elementInfo describes one element: what it is, who asks for it, and how heavily it counts.
type elementInfo struct {
	key, title, source, severity string
	component                    bool // checked per component
	fda                          bool // an FDA support element: not checked on the primary component
}

var elements = []elementInfo{
	{ElemAuthor, "SBOM author", "NTIA minimum elements", SeverityRequired, false, false},
	{ElemTimestamp, "Timestamp", "NTIA minimum elements", SeverityRequired, false, false},
	{ElemDependencies, "Dependency relationships", "NTIA minimum elements", SeverityRequired, false, false},
	{ElemSupplier, "Supplier name", "NTIA minimum elements", SeverityRequired, true, false},
	{ElemName, "Component name", "NTIA minimum elements", SeverityRequired, true, false},
	{ElemVersion, "Component version", "NTIA minimum elements", SeverityRequired, true, false},
	{ElemIdentifier, "Unique identifier (purl or CPE)", "NTIA minimum elements", SeverityRequired, true, false},
	{ElemHash, "Component hash", "NTIA Framing (baseline)", SeverityRecommended, true, false},
	{ElemLicense, "Licence", "CISA 2025 draft minimum elements", SeverityInformational, true, false},
	{ElemSupport, "Level of support", "FDA premarket guidance V.A.4", SeverityRequired, true, true},
	{ElemEndOfSupport, "End-of-support date", "FDA premarket guidance V.A.4", SeverityRequired, true, true},
}

// weights of the severities in the score.
var weights = map[string]float64{SeverityRequired: 10, SeverityRecommended: 5, SeverityInformational: 0}

// CheckOptions tune Check.
type CheckOptions struct {
	// Now is the date end-of-support dates are compared with; zero means the current time.
	Now time.Time
}

// Finding is one problem, for the document or for one component.
type Finding struct {
	Element  string `json:"element"`
	Severity string `json:"severity"`
	Source   string `json:"source"`
	Message  string `json:"message"`
	Fix      string `json:"fix"`
}

// Coverage says how many components (or, for document-level elements, whether the document)
// carry one element.
type Coverage struct {
	Element  string `json:"element"`
	Title    string `json:"title"`
	Source   string `json:"source"`
	Severity string `json:"severity"`
	Level    string `json:"level"` // "document" or "component"
	Present  int    `json:"present"`
	Total    int    `json:"total"` // 0: not applicable (e.g. a VEX document without components)
}

// Ratio is Present/Total, or 1 when the element does not apply.
func (c Coverage) Ratio() float64 {
	if c.Total == 0 {
		return 1
	}
	return float64(c.Present) / float64(c.Total)
}

// ComponentReport holds the findings for one component.
type ComponentReport struct {
	Ref      string    `json:"ref"`
	Name     string    `json:"name"`
	Version  string    `json:"version,omitempty"`
	Findings []Finding `json:"findings"`
}

// Report is the outcome of Check.
type Report struct {
	Schema      string `json:"schema"`
	File        string `json:"file,omitempty"`
	Format      string `json:"format"`
	SpecVersion string `json:"spec_version"`
	Encoding    string `json:"encoding"`
	Name        string `json:"name,omitempty"`
	Version     string `json:"version,omitempty"`
	Components  int    `json:"components"`
	// Score is 0–100; see Check for how it is computed.
	Score    int            `json:"score"`
	Elements []Coverage     `json:"elements"`
	Counts   map[string]int `json:"counts"` // findings per severity, document and components together
	// Document holds the document-level findings; Component the findings of each component that
	// has any, in document order.
	Document  []Finding         `json:"document_findings"`
	Component []ComponentReport `json:"component_findings"`
	// Vulnerabilities says how known vulnerabilities were assessed: not here (see vigil scan).
	Vulnerabilities string   `json:"vulnerabilities"`
	Warnings        []string `json:"warnings,omitempty"`
}

// VulnerabilitiesNotAssessed is the Report.Vulnerabilities text: FDA expects the known
// vulnerabilities of every component to be assessed, which the scan feature does.
const VulnerabilitiesNotAssessed = "not assessed here; run vigil scan"

// Check assesses doc against the NTIA minimum elements (supplier, component name, version, other
// unique identifiers, dependency relationship, author, timestamp) and FDA's additional
// expectations (level of support and end-of-support date per component; known vulnerabilities
// are left to vigil scan), plus a hash (recommended) and a licence (informational).
//
// The score is a weighted mean of element coverage, rounded to a whole number:
//
//	score = 100 × Σ weight(e) × coverage(e) / Σ weight(e)
//
// over the elements that apply, where weight is 10 for a required element, 5 for a recommended
// one and 0 for an informational one; coverage is 0 or 1 for the author and the timestamp, the
// share of components reachable from the primary component through dependencies or nesting for
// dependency relationships (or, when the primary component lists no dependencies, the share
// that appear in any relationship), and the share of components that carry the element for the
// others.
// Support level and end-of-support date are not asked of the primary component (the device
// itself), so their share is over the other components. A document without components is scored
// on author and timestamp alone.
func Check(doc *Document, opts CheckOptions) *Report {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	r := &Report{
		Schema: CheckSchema, File: doc.File, Format: doc.Format, SpecVersion: doc.SpecVersion,
		Encoding: doc.Encoding, Name: doc.Name, Version: doc.Version, Components: len(doc.Components),
		Counts:          map[string]int{SeverityRequired: 0, SeverityRecommended: 0, SeverityInformational: 0},
		Document:        []Finding{},
		Component:       []ComponentReport{},
		Vulnerabilities: VulnerabilitiesNotAssessed,
		Warnings:        doc.Warnings,
	}
	cov := map[string]*Coverage{}
	for _, e := range elements {
		level := "document"
		if e.component {
			level = "component"
		}
		c := &Coverage{Element: e.key, Title: e.title, Source: e.source, Severity: e.severity, Level: level}
		cov[e.key] = c
	}
	fix := fixer{format: doc.Format}

	// Document level.
	docFinding := func(elem, sev, msg string) {
		r.Document = append(r.Document, Finding{Element: elem, Severity: sev, Source: info(elem).source, Message: msg, Fix: fix.text(elem, msg)})
	}
	cov[ElemAuthor].Total, cov[ElemTimestamp].Total = 1, 1
	if len(doc.Authors) > 0 {
		cov[ElemAuthor].Present = 1
	} else if len(doc.Tools) > 0 {
		docFinding(ElemAuthor, SeverityRequired, fmt.Sprintf("no author is named; only the tool (%s) that generated the SBOM, which does not say who stands behind its data", strings.Join(doc.Tools, ", ")))
	} else {
		docFinding(ElemAuthor, SeverityRequired, "no author is named: nobody stands behind the SBOM data")
	}
	switch {
	case doc.Timestamp.IsZero():
		docFinding(ElemTimestamp, SeverityRequired, "no timestamp says when the SBOM data was assembled")
	case doc.Timestamp.After(now.Add(24 * time.Hour)):
		cov[ElemTimestamp].Present = 1
		docFinding(ElemTimestamp, SeverityRecommended, fmt.Sprintf("timestamp %s is in the future", doc.Timestamp.UTC().Format(time.RFC3339)))
	default:
		cov[ElemTimestamp].Present = 1
	}
	checkDependencies(doc, cov[ElemDependencies], docFinding)
	docFinding(ElemVulnerabilities, SeverityInformational, "known vulnerabilities of the components (FDA premarket guidance V.A.4) are "+VulnerabilitiesNotAssessed)

	// Component level.
	for i := range doc.Components {
		c := &doc.Components[i]
		cr := ComponentReport{Ref: c.Ref, Name: c.Name, Version: c.Version}
		add := func(elem, sev, msg string) {
			cr.Findings = append(cr.Findings, Finding{Element: elem, Severity: sev, Source: info(elem).source, Message: msg, Fix: fix.text(elem, msg)})
		}
		present := func(elem string, ok bool) {
			cov[elem].Total++
			if ok {
				cov[elem].Present++
			}
		}
		present(ElemName, strings.TrimSpace(c.Name) != "")
		if strings.TrimSpace(c.Name) == "" {
			add(ElemName, SeverityRequired, "the component has no name")
		}
		v := strings.TrimSpace(c.Version)
		present(ElemVersion, v != "" && !unknownValue(v))
		switch {
		case v == "":
			add(ElemVersion, SeverityRequired, "no version")
		case unknownValue(v):
			add(ElemVersion, SeverityRequired, fmt.Sprintf("version is %q", v))
		}
		present(ElemSupplier, strings.TrimSpace(c.Supplier) != "" && !unknownValue(c.Supplier))
		switch {
		case strings.TrimSpace(c.Supplier) == "":
			add(ElemSupplier, SeverityRequired, "no supplier")
		case unknownValue(c.Supplier):
			add(ElemSupplier, SeverityRequired, fmt.Sprintf("supplier is %q", c.Supplier))
		}
		present(ElemIdentifier, checkIdentifier(c, add))
		present(ElemHash, len(c.Hashes) > 0)
		if len(c.Hashes) == 0 {
			add(ElemHash, SeverityRecommended, "no hash")
		}
		present(ElemLicense, len(c.Licenses) > 0)
		if len(c.Licenses) == 0 {
			add(ElemLicense, SeverityInformational, "no licence")
		}
		if c.Ref != doc.Root {
			checkSupport(c, now, present, add)
		}
		if len(cr.Findings) > 0 {
			r.Component = append(r.Component, cr)
		}
	}

	// Score and counts.
	var sum, total float64
	for _, e := range elements {
		c := cov[e.key]
		r.Elements = append(r.Elements, *c)
		if c.Total == 0 {
			continue
		}
		w := weights[e.severity]
		sum += w * c.Ratio()
		total += w
	}
	r.Score = 100
	if total > 0 {
		r.Score = int(math.Round(100 * sum / total))
	}
	for _, f := range r.Document {
		r.Counts[f.Severity]++
	}
	for _, cr := range r.Component {
		for _, f := range cr.Findings {
			r.Counts[f.Severity]++
		}
	}
	return r
}

func info(elem string) elementInfo {
	for _, e := range elements {
		if e.key == elem {
			return e
		}
	}
	return elementInfo{key: elem, source: "FDA premarket guidance V.A.4"}
}

// unknownValue reports placeholders that say the value is not known.
func unknownValue(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "unknown", "noassertion", "none", "n/a", "-", "?", "tbd":
		return true
	}
	return false
}

// checkIdentifier checks for a purl or CPE and that they are well formed; it returns whether the
// component has a usable unique identifier.
func checkIdentifier(c *Component, add func(elem, sev, msg string)) bool {
	purlOK, cpeOK := false, false
	var purlErr, cpeErr string
	if c.PURL != "" {
		if err := ValidPURL(c.PURL); err != nil {
			purlErr = fmt.Sprintf("purl %q is not a valid package URL: %v", c.PURL, err)
		} else {
			purlOK = true
		}
	}
	if c.CPE != "" {
		if err := ValidCPE(c.CPE); err != nil {
			cpeErr = fmt.Sprintf("CPE %q is not well formed: %v", c.CPE, err)
		} else {
			cpeOK = true
		}
	}
	ok := purlOK || cpeOK
	sev := SeverityRequired
	if ok {
		sev = SeverityRecommended // the other identifier is still usable
	}
	switch {
	case c.PURL == "" && c.CPE == "":
		add(ElemIdentifier, SeverityRequired, "no unique identifier (neither purl nor CPE)")
	default:
		if purlErr != "" {
			add(ElemIdentifier, sev, purlErr)
		}
		if cpeErr != "" {
			add(ElemIdentifier, sev, cpeErr)
		}
	}
	return ok
}

// ValidPURL checks the package URL syntax (github.com/package-url/purl-spec).
func ValidPURL(s string) error {
	p, err := packageurl.FromString(s)
	if err != nil {
		return err
	}
	if p.Type == "" || p.Name == "" {
		return fmt.Errorf("type and name are required")
	}
	return nil
}

// ValidCPE checks the shape of a CPE 2.3 formatted string (13 colon-separated parts, escaped
// colons allowed) or a CPE 2.2 URI ("cpe:/" followed by at least a part and a vendor).
func ValidCPE(s string) error {
	switch {
	case strings.HasPrefix(s, "cpe:2.3:"):
		parts := 0
		esc := false
		for _, r := range s {
			switch {
			case esc:
				esc = false
			case r == '\\':
				esc = true
			case r == ':':
				parts++
			}
		}
		if parts+1 != 13 {
			return fmt.Errorf("a CPE 2.3 name has 13 colon-separated parts, this one %d", parts+1)
		}
		f := strings.SplitN(s, ":", 4)
		if len(f[2]) != 1 || !strings.Contains("aoh*-", f[2]) {
			return fmt.Errorf("part %q must be a, o or h", f[2])
		}
		return nil
	case strings.HasPrefix(s, "cpe:/"):
		f := strings.Split(strings.TrimPrefix(s, "cpe:/"), ":")
		if len(f) < 2 || len(f[0]) != 1 || !strings.Contains("aoh", f[0]) {
			return fmt.Errorf("a CPE 2.2 URI reads cpe:/{a|o|h}:vendor:product:...")
		}
		return nil
	}
	return fmt.Errorf("expected cpe:2.3:... or cpe:/...")
}

func checkSupport(c *Component, now time.Time, present func(string, bool), add func(elem, sev, msg string)) {
	note := ""
	if c.SupportNote != "" {
		note = " (the SBOM says: " + c.SupportNote + ")"
	}
	level := c.Support
	present(ElemSupport, level != "" && level != SupportUnknown)
	switch level {
	case "":
		add(ElemSupport, SeverityRequired, "no level of support"+note)
	case SupportUnknown:
		add(ElemSupport, SeverityRequired, "level of support is unknown"+note)
	}
	present(ElemEndOfSupport, c.EndOfSupport != "")
	if c.EndOfSupport == "" {
		msg := "no end-of-support date" + note
		if level == SupportEnded || level == SupportAbandoned {
			msg = "no end-of-support date although support has ended" + note
		}
		add(ElemEndOfSupport, SeverityRequired, msg)
		return
	}
	eos, err := time.Parse(time.DateOnly, c.EndOfSupport)
	if err != nil {
		return
	}
	if eos.Before(now) {
		if level == SupportActive {
			add(ElemEndOfSupport, SeverityRecommended, fmt.Sprintf("end of support %s has passed, yet the level of support says actively maintained", c.EndOfSupport))
		} else {
			add(ElemEndOfSupport, SeverityInformational, fmt.Sprintf("support ended on %s; plan the update or replacement of this component", c.EndOfSupport))
		}
	}
}

// checkDependencies fills the dependency coverage and reports document-level problems.
func checkDependencies(doc *Document, cov *Coverage, finding func(elem, sev, msg string)) {
	known := map[string]bool{}
	children := map[string][]string{}
	for _, c := range doc.Components {
		known[c.Ref] = true
		if c.Parent != "" {
			children[c.Parent] = append(children[c.Parent], c.Ref)
		}
	}
	edges := map[string][]string{}
	declared := map[string]bool{}
	dangling := map[string]bool{}
	for _, d := range doc.Dependencies {
		declared[d.Ref] = true
		edges[d.Ref] = append(edges[d.Ref], d.DependsOn...)
		for _, x := range append([]string{d.Ref}, d.DependsOn...) {
			if !known[x] {
				dangling[x] = true
			}
		}
	}
	var others []string // components other than the root
	for _, c := range doc.Components {
		if c.Ref != doc.Root {
			others = append(others, c.Ref)
		}
	}
	cov.Total = len(others)
	if len(others) == 0 {
		return
	}
	if len(doc.Dependencies) == 0 && len(children) == 0 {
		finding(ElemDependencies, SeverityRequired, fmt.Sprintf("the SBOM states no dependency relationships between its %d components", len(doc.Components)))
		return
	}
	linked := map[string]bool{}
	rootLinks := doc.Root != "" && (len(edges[doc.Root]) > 0 || len(children[doc.Root]) > 0)
	switch {
	case rootLinks:
		// Everything reachable from the root through dependencies and nesting.
		queue := []string{doc.Root}
		linked[doc.Root] = true
		for len(queue) > 0 {
			x := queue[0]
			queue = queue[1:]
			for _, y := range append(slices.Clone(edges[x]), children[x]...) {
				if !linked[y] {
					linked[y] = true
					queue = append(queue, y)
				}
			}
		}
	default:
		if doc.Root != "" {
			finding(ElemDependencies, SeverityRequired, fmt.Sprintf("the primary component %q lists no direct dependencies, so nothing links the components to the product", displayName(doc, doc.Root)))
		} else {
			finding(ElemDependencies, SeverityRecommended, "no primary component is declared (CycloneDX metadata.component, SPDX DESCRIBES), so relationships cannot be traced from the product")
		}
		// Without a usable root, a component counts when some relationship names it.
		for from, tos := range edges {
			if len(tos) > 0 {
				linked[from] = true
			}
			for _, y := range tos {
				linked[y] = true
			}
		}
		for p, cs := range children {
			linked[p] = true
			for _, c := range cs {
				linked[c] = true
			}
		}
	}
	var missing []string
	for _, ref := range others {
		if linked[ref] {
			cov.Present++
		} else {
			missing = append(missing, displayName(doc, ref))
		}
	}
	if len(missing) > 0 {
		what := "are not reachable from the primary component through dependencies or nesting"
		if !rootLinks {
			what = "appear in no dependency relationship"
		}
		finding(ElemDependencies, SeverityRequired, fmt.Sprintf("%d of %d components %s (e.g. %s)", len(missing), len(others), what, examples(missing, 3)))
	}
	if len(dangling) > 0 {
		var refs []string
		for x := range dangling {
			refs = append(refs, x)
		}
		slices.Sort(refs)
		finding(ElemDependencies, SeverityInformational, fmt.Sprintf("%d reference(s) in the dependencies name no component (services, or missing components): %s", len(refs), examples(refs, 3)))
	}
}

func displayName(doc *Document, ref string) string {
	for _, c := range doc.Components {
		if c.Ref == ref {
			return joinNonEmpty(" ", c.Name, c.Version)
		}
	}
	return ref
}

func examples(list []string, n int) string {
	if len(list) <= n {
		return strings.Join(list, ", ")
	}
	return strings.Join(list[:n], ", ") + fmt.Sprintf(" and %d more", len(list)-n)
}

// fixer writes the "how to fix" text of a finding, in the terms of the SBOM's own format.
type fixer struct{ format string }

func (f fixer) text(elem, msg string) string {
	cdx := f.format != FormatSPDX
	pick := func(c, s string) string {
		if cdx {
			return c
		}
		return s
	}
	switch elem {
	case ElemAuthor:
		return pick("Name the person or organisation responsible for the SBOM data in metadata.authors (or metadata.manufacturer); a tool in metadata.tools does not count.",
			"Add a creator line for the person or organisation responsible, e.g. \"Creator: Organization: Acme Medical Inc.\"; a \"Creator: Tool:\" line does not count.")
	case ElemTimestamp:
		return pick("Set metadata.timestamp to when the SBOM was generated, as an RFC 3339 date-time (2025-01-31T12:00:00Z).",
			"Set \"Created:\" (creationInfo.created) to when the SBOM was generated, e.g. 2025-01-31T12:00:00Z.")
	case ElemDependencies:
		switch {
		case strings.Contains(msg, "no primary component"):
			return pick("Describe the device software itself in metadata.component, with a bom-ref, and list its direct dependencies in dependencies[].",
				"Add \"Relationship: SPDXRef-DOCUMENT DESCRIBES <your package>\" and DEPENDS_ON/CONTAINS relationships from it.")
		case strings.Contains(msg, "name no component"):
			return "Check that every ref in the dependency graph names a component; this only matters if the references are typos."
		}
		return pick("Generate the SBOM with a tool that records the dependency graph (dependencies[].ref / dependsOn), starting from metadata.component; at least the device's direct dependencies must be listed. Where a relationship is unknown, say so with compositions (aggregate \"unknown\").",
			"Add relationships from the described package to each package it includes (DEPENDS_ON or CONTAINS), and between packages where known; \"X DEPENDS_ON NONE\" states that X has none.")
	case ElemSupplier:
		return pick("Set components[].supplier.name (or manufacturer.name) to the organisation that supplies the component, e.g. the upstream project or vendor.",
			"Set \"PackageSupplier: Organization: NAME\" (or PackageOriginator) for the package.")
	case ElemName:
		return pick("Set components[].name.", "Set PackageName.")
	case ElemVersion:
		return pick("Set components[].version to the exact version shipped in the device (for hardware, the revision).",
			"Set PackageVersion to the exact version shipped in the device.")
	case ElemIdentifier:
		if strings.HasPrefix(msg, "no unique identifier") {
			return pick("Add a package URL (components[].purl, e.g. pkg:npm/lodash@4.17.21) or a CPE (components[].cpe) so the component can be matched against vulnerability databases.",
				"Add \"ExternalRef: PACKAGE-MANAGER purl pkg:...\" or \"ExternalRef: SECURITY cpe23Type cpe:2.3:...\" so the package can be matched against vulnerability databases.")
		}
		if strings.Contains(msg, "not a valid package URL") {
			return "Correct the purl to the pkg:type/namespace/name@version form of the package-url specification."
		}
		return "Correct the CPE to the CPE 2.3 formatted-string form cpe:2.3:part:vendor:product:version:... (13 parts)."
	case ElemHash:
		return pick("Add components[].hashes with a SHA-256 (or stronger) digest of the component as shipped.",
			"Add \"PackageChecksum: SHA256: ...\" for the package as shipped.")
	case ElemLicense:
		return pick("Add components[].licenses with an SPDX licence ID or expression.",
			"Set PackageLicenseDeclared (or PackageLicenseConcluded) to an SPDX licence expression.")
	case ElemSupport:
		if !cdx {
			return "SPDX 2.x has no field for the level of support (actively maintained, no longer maintained, abandoned): record it in a support sidecar file (vigil sbom check --support FILE; vigil sbom support-template starts one)."
		}
		return "State the level of support the component's maker provides (actively maintained, no longer maintained, abandoned): as a component property cdx:fda:level-of-support in CycloneDX, or, when the SBOM cannot carry it, in a support sidecar file (vigil sbom check --support FILE; vigil sbom support-template starts one)."
	case ElemEndOfSupport:
		if strings.Contains(msg, "has passed") || strings.Contains(msg, "support ended") {
			return "Update the level of support, and record in your cybersecurity management plan how the component will be updated or replaced."
		}
		if !cdx {
			return "Give the date support ends: as the package's ValidUntilDate (SPDX 2.3, e.g. 2028-12-31T00:00:00Z), or as YYYY-MM-DD in a support sidecar file (vigil sbom check --support FILE). If no date can be given, FDA expects a justification (the sidecar's note)."
		}
		return "Give the date support ends as YYYY-MM-DD: as a component property cdx:fda:end-of-support-date in CycloneDX, or in a support sidecar file (vigil sbom check --support FILE). If no date can be given, FDA expects a justification (cdx:fda:justification or the sidecar's note)."
	case ElemVulnerabilities:
		return "Run vigil scan on this SBOM and assess each known vulnerability it reports."
	}
	return ""
}
