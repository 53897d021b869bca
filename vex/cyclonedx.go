package vex

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// CycloneDX has its own justification vocabulary. Going out, each CISA code is written as the
// nearest CycloneDX one (after the mapping in CycloneDX's VEX guidance) and, exactly, in the
// property vigil:vex:justification, which Vigil reads back first; coming in without that
// property, the CycloneDX code is mapped back.
var cisaToCDX = map[Justification]cdx.ImpactAnalysisJustification{
	ComponentNotPresent:                         cdx.IAJCodeNotPresent,
	VulnerableCodeNotPresent:                    cdx.IAJCodeNotPresent,
	VulnerableCodeNotInExecutePath:              cdx.IAJCodeNotReachable,
	VulnerableCodeCannotBeControlledByAdversary: cdx.IAJRequiresEnvironment,
	InlineMitigationsAlreadyExist:               cdx.IAJProtectedByMitigatingControl,
}

var cdxToCISA = map[cdx.ImpactAnalysisJustification]Justification{
	cdx.IAJCodeNotPresent:               VulnerableCodeNotPresent,
	cdx.IAJCodeNotReachable:             VulnerableCodeNotInExecutePath,
	cdx.IAJRequiresConfiguration:        VulnerableCodeCannotBeControlledByAdversary,
	cdx.IAJRequiresDependency:           VulnerableCodeCannotBeControlledByAdversary,
	cdx.IAJRequiresEnvironment:          VulnerableCodeCannotBeControlledByAdversary,
	cdx.IAJProtectedByCompiler:          InlineMitigationsAlreadyExist,
	cdx.IAJProtectedAtRuntime:           InlineMitigationsAlreadyExist,
	cdx.IAJProtectedAtPerimeter:         InlineMitigationsAlreadyExist,
	cdx.IAJProtectedByMitigatingControl: InlineMitigationsAlreadyExist,
}

var statusToCDX = map[Status]cdx.ImpactAnalysisState{
	NotAffected:        cdx.IASNotAffected,
	Affected:           cdx.IASExploitable,
	Fixed:              cdx.IASResolved,
	UnderInvestigation: cdx.IASInTriage,
}

var cdxToStatus = map[cdx.ImpactAnalysisState]Status{
	cdx.IASNotAffected:          NotAffected,
	cdx.IASFalsePositive:        NotAffected,
	cdx.IASExploitable:          Affected,
	cdx.IASResolved:             Fixed,
	cdx.IASResolvedWithPedigree: Fixed,
	cdx.IASInTriage:             UnderInvestigation,
}

// Property names Vigil writes on CycloneDX vulnerabilities.
const (
	propJustification = "vigil:vex:justification"
	propAuthor        = "vigil:vex:author"
)

// encodeCycloneDX writes a CycloneDX 1.6 BOM in the VEX style: the device as the metadata
// component, the components the statements name, and one vulnerability per statement whose
// analysis carries the decision (state, justification, detail = impact statement) and whose
// recommendation carries the action statement.
func encodeCycloneDX(d *Document, o Options) ([]byte, error) {
	now := o.now(d)
	p := d.Product
	devRef := cmp.Or(p.ID, p.Name, "device")
	dev := cdx.Component{BOMRef: devRef, Type: cdx.ComponentTypeDevice, Name: cmp.Or(p.Name, devRef), Version: p.Version}
	if strings.HasPrefix(p.ID, "pkg:") {
		dev.PackageURL = p.ID
	}
	if p.Supplier != "" {
		dev.Supplier = &cdx.OrganizationalEntity{Name: p.Supplier}
	}
	bom := cdx.NewBOM()
	bom.SerialNumber = o.ID
	bom.Metadata = &cdx.Metadata{Timestamp: now.Format(time.RFC3339), Component: &dev}
	if o.Tool != "" {
		name, version, _ := strings.Cut(o.Tool, " ")
		bom.Metadata.Tools = &cdx.ToolsChoice{Components: &[]cdx.Component{{Type: cdx.ComponentTypeApplication, Name: name, Version: version}}}
	}
	stmts := append([]Statement(nil), d.Statements...)
	sortStatements(stmts)
	var comps []cdx.Component
	refs := map[string]string{} // component key -> bom-ref
	var vulns []cdx.Vulnerability
	for i, s := range stmts {
		ref := devRef
		if !s.Component.IsZero() {
			key := s.Component.Key()
			r, ok := refs[key]
			if !ok {
				r = key
				refs[key] = r
				c := cdx.Component{BOMRef: r, Type: cdx.ComponentTypeLibrary, Name: cmp.Or(s.Component.Name, key), Version: s.Component.Version, PackageURL: s.Component.PURL}
				comps = append(comps, c)
			}
			ref = r
		}
		ts := s.Timestamp.UTC().Format(time.RFC3339)
		v := cdx.Vulnerability{
			BOMRef:      fmt.Sprintf("vex-%d", i+1),
			ID:          s.Vulnerability,
			Source:      sourceOf(s.Vulnerability),
			Description: s.Description,
			Analysis: &cdx.VulnerabilityAnalysis{
				State:       statusToCDX[s.Status],
				Detail:      s.ImpactStatement,
				FirstIssued: ts,
				LastUpdated: ts,
			},
			Recommendation: s.ActionStatement,
			Affects:        &[]cdx.Affects{{Ref: ref}},
		}
		if s.Justification != "" {
			v.Analysis.Justification = cisaToCDX[s.Justification]
		}
		if len(s.Aliases) > 0 {
			refs := make([]cdx.VulnerabilityReference, 0, len(s.Aliases))
			for _, a := range s.Aliases {
				refs = append(refs, cdx.VulnerabilityReference{ID: a, Source: sourceOf(a)})
			}
			v.References = &refs
		}
		var props []cdx.Property
		if s.Justification != "" {
			props = append(props, cdx.Property{Name: propJustification, Value: string(s.Justification)})
		}
		if s.Author != "" {
			props = append(props, cdx.Property{Name: propAuthor, Value: s.Author})
		}
		if props != nil {
			v.Properties = &props
		}
		vulns = append(vulns, v)
	}
	if comps != nil {
		bom.Components = &comps
	}
	bom.Vulnerabilities = &vulns
	if bom.SerialNumber == "" {
		// Derived from the content, so that the same decisions give the same document.
		js, _ := json.Marshal(vulns)
		sum := sha256.Sum256(append([]byte(devRef+"\x00"), js...))
		h := sum[:16]
		h[6] = h[6]&0x0f | 0x50 // version 5 layout (name-based, SHA)
		h[8] = h[8]&0x3f | 0x80
		bom.SerialNumber = fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
	}
	var buf bytes.Buffer
	enc := cdx.NewBOMEncoder(&buf, cdx.BOMFileFormatJSON)
	enc.SetPretty(true)
	if err := enc.EncodeVersion(bom, cdx.SpecVersion1_6); err != nil {
		return nil, fmt.Errorf("vex: cyclonedx: %w", err)
	}
	return buf.Bytes(), nil
}

// sourceOf names the database that publishes a vulnerability ID, with the ID's page.
func sourceOf(id string) *cdx.Source {
	name, url := databaseOf(id)
	return &cdx.Source{Name: name, URL: url}
}

// databaseOf returns the name of the database that assigns id and the URL of its record.
func databaseOf(id string) (string, string) {
	switch {
	case strings.HasPrefix(id, "CVE-"):
		return "NVD", "https://nvd.nist.gov/vuln/detail/" + id
	case strings.HasPrefix(id, "GHSA-"):
		return "GitHub Advisory Database", "https://github.com/advisories/" + id
	case strings.HasPrefix(id, "GO-"):
		return "Go Vulnerability Database", "https://pkg.go.dev/vuln/" + id
	case strings.HasPrefix(id, "PYSEC-"):
		return "PyPI Advisory Database", "https://osv.dev/vulnerability/" + id
	case strings.HasPrefix(id, "RUSTSEC-"):
		return "RustSec Advisory Database", "https://rustsec.org/advisories/" + id
	}
	return "OSV", "https://osv.dev/vulnerability/" + id
}

// parseCycloneDX reads the vulnerabilities of a CycloneDX BOM (JSON or XML) that carry an
// analysis: one statement per affected reference.
func parseCycloneDX(name string, data []byte, isXML bool) (*Document, error) {
	var bom cdx.BOM
	var err error
	if isXML {
		dec := xml.NewDecoder(bytes.NewReader(data))
		dec.Strict = true
		err = dec.Decode(&bom)
	} else {
		err = json.Unmarshal(data, &bom)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: not a readable CycloneDX document: %v", name, err)
	}
	out := &Document{Format: FormatCycloneDX, ID: bom.SerialNumber}
	comps := map[string]cdx.Component{}
	var walk func(list *[]cdx.Component)
	walk = func(list *[]cdx.Component) {
		if list == nil {
			return
		}
		for _, c := range *list {
			if c.BOMRef != "" {
				comps[c.BOMRef] = c
			}
			walk(c.Components)
		}
	}
	devRef := ""
	if m := bom.Metadata; m != nil {
		if t, err := time.Parse(time.RFC3339Nano, m.Timestamp); err == nil {
			out.Timestamp = t.UTC()
		}
		if c := m.Component; c != nil {
			devRef = c.BOMRef
			out.Product = Product{ID: cmp.Or(c.PackageURL, c.BOMRef), Name: c.Name, Version: c.Version}
			if c.Supplier != nil {
				out.Product.Supplier = c.Supplier.Name
			}
			if m.Manufacturer != nil && out.Product.Supplier == "" {
				out.Product.Supplier = m.Manufacturer.Name
			}
		}
	}
	walk(bom.Components)
	if bom.Vulnerabilities == nil {
		return out, nil
	}
	for i, v := range *bom.Vulnerabilities {
		where := fmt.Sprintf("vulnerabilities[%d]", i)
		if v.Analysis == nil || v.Analysis.State == "" {
			out.Warnings = append(out.Warnings, fmt.Sprintf("%s (%s): no analysis state; skipped", where, v.ID))
			continue
		}
		st, ok := cdxToStatus[v.Analysis.State]
		if !ok {
			out.Warnings = append(out.Warnings, fmt.Sprintf("%s (%s): analysis state %q is not a CycloneDX state; skipped", where, v.ID, v.Analysis.State))
			continue
		}
		base := Statement{Vulnerability: v.ID, Description: v.Description, Status: st, Timestamp: out.Timestamp}
		if v.References != nil {
			for _, r := range *v.References {
				if r.ID != "" && r.ID != v.ID {
					base.Aliases = append(base.Aliases, r.ID)
				}
			}
		}
		for _, ts := range []string{v.Analysis.LastUpdated, v.Analysis.FirstIssued, v.Updated, v.Published} {
			if t, err := time.Parse(time.RFC3339Nano, ts); err == nil {
				base.Timestamp = t.UTC()
				break
			}
		}
		var exact Justification
		if v.Properties != nil {
			for _, p := range *v.Properties {
				switch p.Name {
				case propJustification:
					exact = Justification(p.Value)
				case propAuthor:
					base.Author = p.Value
				}
			}
		}
		switch st {
		case NotAffected:
			base.Justification = cmp.Or(exact, cdxToCISA[v.Analysis.Justification])
			base.ImpactStatement = v.Analysis.Detail
			if base.ImpactStatement == "" && base.Justification == "" && v.Analysis.State == cdx.IASFalsePositive {
				base.ImpactStatement = "False positive: the vulnerability does not apply to this component."
			}
		case Affected:
			base.ActionStatement = cmp.Or(v.Recommendation, v.Workaround, responses(v.Analysis.Response))
		}
		if v.Affects == nil || len(*v.Affects) == 0 {
			s := base
			s.Product = out.Product
			out.add(s, where)
			continue
		}
		for _, a := range *v.Affects {
			s := base
			s.Product = out.Product
			switch c, ok := comps[a.Ref]; {
			case a.Ref == devRef && devRef != "":
			case ok:
				s.Component = Component{PURL: c.PackageURL, Name: c.Name, Version: c.Version}
				if c.Group != "" && c.PackageURL == "" {
					s.Component.Name = c.Group + "/" + c.Name
				}
			default:
				// A BOM-Link (urn:cdx:serial/version#ref) into another BOM, or a bare purl.
				ref := a.Ref
				if i := strings.LastIndexByte(ref, '#'); i >= 0 && strings.HasPrefix(ref, "urn:cdx:") {
					ref = ref[i+1:]
				}
				s.Component = componentFromID(ref)
			}
			out.add(s, where)
		}
	}
	return out, nil
}

func responses(r *[]cdx.ImpactAnalysisResponse) string {
	if r == nil || len(*r) == 0 {
		return ""
	}
	var parts []string
	for _, x := range *r {
		parts = append(parts, strings.ReplaceAll(string(x), "_", " "))
	}
	return "Response: " + strings.Join(parts, ", ") + "."
}
