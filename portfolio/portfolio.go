// Package portfolio is Vigil's vulnerability management across device versions: it imports SBOMs
// into versions (parse, quality score, store, findings, VEX carry-forward), records VEX
// decisions against findings, and exchanges them as OpenVEX, CycloneDX VEX and CSAF VEX. The
// CLI and the web application call it; the data lives in the store.
package portfolio

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/vigil-med/vigil/sbom"
	"github.com/vigil-med/vigil/store"
	"github.com/vigil-med/vigil/vex"
)

// ErrInput marks errors caused by the input (an SBOM or VEX file that cannot be read, a finding
// that does not exist); test with errors.Is. The message is safe to show.
var ErrInput = errors.New("bad input")

type inputError struct{ err error }

func (e inputError) Error() string        { return e.err.Error() }
func (e inputError) Unwrap() error        { return e.err }
func (e inputError) Is(target error) bool { return target == ErrInput }

func inputf(format string, args ...any) error { return inputError{fmt.Errorf(format, args...)} }

// ImportSBOM parses data (CycloneDX or SPDX, see sbom.Parse) named filename, scores it against
// the NTIA minimum elements (sbom.Check) and stores it as the SBOM labelled label of a device
// version: the version's findings are refreshed and VEX decisions carried forward (see
// store.ImportSBOM). A file that cannot be read is an error matching ErrInput whose message
// names the file, line and field.
func ImportSBOM(ctx context.Context, st *store.Store, actor string, versionID int64, label, filename string, data []byte, replace bool) (store.SBOMImport, error) {
	doc, err := sbom.Parse(filename, data)
	if err != nil {
		return store.SBOMImport{}, inputError{err}
	}
	q := sbom.Check(doc, sbom.CheckOptions{}).Score
	return st.ImportSBOM(ctx, actor, store.SBOMInput{DeviceVersionID: versionID, Label: label, Filename: filename, Data: data, Doc: doc, Quality: &q, Replace: replace})
}

// Decision is a VEX decision on one finding, as a person gives it: the advisory by any of its
// IDs, the component by package URL, component key, or name (when that is unambiguous; empty
// when the advisory hits a single component of the version).
type Decision struct {
	Advisory        string `json:"advisory"`
	Component       string `json:"component,omitempty"`
	Status          string `json:"status"`
	Justification   string `json:"justification,omitempty"`
	ImpactStatement string `json:"impact_statement,omitempty"`
	ActionStatement string `json:"action_statement,omitempty"`
}

// SetVEX records a decision by actor on a finding of a device version (open or resolved). The
// finding must exist; its advisory and component key are what the decision is stored under.
func SetVEX(ctx context.Context, st *store.Store, actor string, versionID int64, d Decision) (store.VEXStatement, error) {
	f, err := FindFinding(ctx, st, versionID, d.Advisory, d.Component)
	if err != nil {
		return store.VEXStatement{}, err
	}
	return st.SetVEX(ctx, actor, store.VEXStatement{
		DeviceVersionID: versionID, AdvisoryID: f.Advisory, ComponentKey: f.ComponentKey,
		ComponentName: f.Component.Name, ComponentVersion: f.Component.Version, PURL: f.Component.PURL,
		Status: strings.TrimSpace(d.Status), Justification: strings.TrimSpace(d.Justification),
		ImpactStatement: d.ImpactStatement, ActionStatement: d.ActionStatement,
	})
}

// FindFinding returns the finding of a device version named by an advisory ID (or alias) and a
// component (package URL, component key or name; empty when only one component has the
// advisory). Not found and ambiguous are errors matching ErrInput (not found also
// store.ErrNotFound).
func FindFinding(ctx context.Context, st *store.Store, versionID int64, advisory, component string) (store.Finding, error) {
	advisory, component = strings.TrimSpace(advisory), strings.TrimSpace(component)
	if advisory == "" {
		return store.Finding{}, inputf("name the advisory (its ID or an alias such as a CVE)")
	}
	all, err := st.ListFindings(ctx, versionID, store.FindingFilter{Resolved: true})
	if err != nil {
		return store.Finding{}, err
	}
	var hits []store.Finding
	for _, f := range all {
		if slices.Contains(f.IDs(), advisory) {
			hits = append(hits, f)
		}
	}
	if len(hits) == 0 {
		return store.Finding{}, inputf("device version %d has no finding of %s: %w", versionID, advisory, store.ErrNotFound)
	}
	if component == "" {
		if len(hits) == 1 {
			return hits[0], nil
		}
		return store.Finding{}, inputf("%s affects %d components of device version %d; name one: %s", advisory, len(hits), versionID, componentList(hits))
	}
	key := vex.ComponentKey(component, "", "")
	var byName []store.Finding
	for _, f := range hits {
		if f.ComponentKey == key || f.ComponentKey == component || f.Component.PURL == component {
			return f, nil
		}
		if strings.EqualFold(f.Component.Name, component) {
			byName = append(byName, f)
		}
	}
	switch len(byName) {
	case 1:
		return byName[0], nil
	case 0:
		return store.Finding{}, inputf("device version %d has no finding of %s in %s (it has in %s): %w", versionID, advisory, component, componentList(hits), store.ErrNotFound)
	}
	return store.Finding{}, inputf("%s names %d components with findings of %s; give the package URL: %s", component, len(byName), advisory, componentList(byName))
}

func componentList(fs []store.Finding) string {
	var keys []string
	for _, f := range fs {
		keys = append(keys, f.ComponentKey)
	}
	return strings.Join(keys, ", ")
}

// Product is how a device version is named in VEX documents.
func Product(ctx context.Context, st *store.Store, versionID int64) (vex.Product, error) {
	v, err := st.DeviceVersion(ctx, versionID)
	if err != nil {
		return vex.Product{}, err
	}
	p, err := st.Product(ctx, v.ProductID)
	if err != nil {
		return vex.Product{}, err
	}
	return vex.Product{ID: vex.DeviceID(p.Name, v.Version), Name: p.Name, Version: v.Version, Supplier: p.Manufacturer}, nil
}

// VEXDocument is the VEX document of a device version: its decisions, with the aliases and
// summaries of their advisories (from the version's findings, else the advisory records).
func VEXDocument(ctx context.Context, st *store.Store, versionID int64) (*vex.Document, error) {
	prod, err := Product(ctx, st, versionID)
	if err != nil {
		return nil, err
	}
	list, err := st.ListVEX(ctx, versionID)
	if err != nil {
		return nil, err
	}
	fs, err := st.ListFindings(ctx, versionID, store.FindingFilter{Resolved: true})
	if err != nil {
		return nil, err
	}
	type fk struct{ advisory, key string }
	byKey := map[fk]store.Finding{}
	byAdvisory := map[string]store.Finding{}
	for _, f := range fs {
		byKey[fk{f.Advisory, f.ComponentKey}] = f
		byAdvisory[f.Advisory] = f
	}
	var missing []string
	for _, v := range list {
		if _, ok := byAdvisory[v.AdvisoryID]; !ok && !slices.Contains(missing, v.AdvisoryID) {
			missing = append(missing, v.AdvisoryID)
		}
	}
	infos, err := st.AdvisoryInfo(ctx, missing)
	if err != nil {
		return nil, err
	}
	doc := &vex.Document{Product: prod, Statements: []vex.Statement{}}
	for _, v := range list {
		s := v.Statement()
		f, ok := byKey[fk{v.AdvisoryID, v.ComponentKey}]
		if !ok {
			f, ok = byAdvisory[v.AdvisoryID]
		}
		if ok {
			s.Aliases, s.Description = f.Aliases, f.Summary
		} else if info, ok := infos[v.AdvisoryID]; ok {
			s.Aliases, s.Description = info.Aliases, info.Summary
		}
		if s.Component.PURL == "" && s.Component.Name == "" {
			s.Component.Name = v.ComponentKey
		}
		doc.Statements = append(doc.Statements, s)
	}
	return doc, nil
}

// ExportVEX writes the VEX document of a device version in format (vex.FormatOpenVEX,
// vex.FormatCycloneDX or vex.FormatCSAF).
func ExportVEX(ctx context.Context, st *store.Store, versionID int64, format string, o vex.Options) ([]byte, error) {
	if !slices.Contains(vex.FormatNames, format) {
		return nil, inputf("format %q: expected one of %s", format, strings.Join(vex.FormatNames, ", "))
	}
	doc, err := VEXDocument(ctx, st, versionID)
	if err != nil {
		return nil, err
	}
	if format == vex.FormatCSAF && len(doc.Statements) == 0 {
		return nil, inputf("device version %d has no VEX decisions; a CSAF VEX document needs at least one", versionID)
	}
	return vex.Encode(doc, format, o)
}

// VEXImportResult reports the import of a VEX document into a device version.
type VEXImportResult struct {
	Format     string          `json:"format"`
	Document   string          `json:"document,omitempty"` // the document's ID
	Statements int             `json:"statements"`         // statements read
	Applied    store.VEXImport `json:"applied"`
	// Matched counts the decisions applied to an existing finding; the others name a
	// component of the version without a finding of that vulnerability (stored all the same).
	Matched  int      `json:"matched"`
	Skipped  []string `json:"skipped,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

// ImportVEX applies the statements of a VEX document (see vex.Parse) to a device version, in
// one transaction:
//   - a statement naming a component applies to the version's finding of that component and
//     vulnerability (any of its IDs), stored under the finding's advisory and component key;
//     without such a finding it is stored as given when the version has the component (the
//     finding may appear later), and skipped when it has not;
//   - a statement naming only a product applies to every finding of the vulnerability in the
//     version (or, when the product is one of the version's components by package URL, to that
//     component's), and is skipped when there is none.
//
// Decisions keep their author and time where the format carries them; source (a file name)
// goes into their note.
func ImportVEX(ctx context.Context, st *store.Store, actor string, versionID int64, doc *vex.Document, source string) (VEXImportResult, error) {
	res := VEXImportResult{Format: doc.Format, Document: doc.ID, Statements: len(doc.Statements), Warnings: doc.Warnings}
	fs, err := st.ListFindings(ctx, versionID, store.FindingFilter{Resolved: true})
	if err != nil {
		return res, err
	}
	sboms, err := st.ListSBOMs(ctx, versionID)
	if err != nil {
		return res, err
	}
	keys := map[string]store.SBOMComponent{}
	for _, b := range sboms {
		comps, err := st.SBOMComponents(ctx, b.ID)
		if err != nil {
			return res, err
		}
		for _, c := range comps {
			keys[c.ComponentKey] = c
		}
	}
	note := "imported from " + cmp.Or(source, doc.Format+" document")
	if doc.ID != "" {
		note += " (" + doc.Format + " " + doc.ID + ")"
	}
	type pk struct{ advisory, key string }
	out := map[pk]store.VEXStatement{}
	matched := map[pk]bool{}
	var order []pk
	put := func(v store.VEXStatement, s vex.Statement) {
		v.DeviceVersionID, v.Status, v.Justification = versionID, string(s.Status), string(s.Justification)
		v.ImpactStatement, v.ActionStatement = s.ImpactStatement, s.ActionStatement
		v.Author, v.At, v.Note = cmp.Or(s.Author, doc.Author), s.Timestamp, note
		k := pk{v.AdvisoryID, v.ComponentKey}
		if old, ok := out[k]; ok && old.At.After(v.At) {
			return // the latest statement wins
		}
		if _, ok := out[k]; !ok {
			order = append(order, k)
		}
		out[k] = v
	}
	fromFinding := func(f store.Finding) store.VEXStatement {
		return store.VEXStatement{AdvisoryID: f.Advisory, ComponentKey: f.ComponentKey, ComponentName: f.Component.Name,
			ComponentVersion: f.Component.Version, PURL: f.Component.PURL}
	}
	device, err := Product(ctx, st, versionID)
	if err != nil {
		return res, err
	}
	for _, s := range doc.Statements {
		comp := s.Component
		if comp.IsZero() {
			p := cmp.Or(s.Product, doc.Product)
			var ok bool
			if comp, ok = productAsComponent(p, keys); !ok && !sameDevice(p, device) {
				res.Skipped = append(res.Skipped, fmt.Sprintf("%s (%s): about %s, which is neither this device nor one of its components",
					s.Vulnerability, s.Status, cmp.Or(p.Name, p.ID, "an unnamed product")))
				continue
			}
		}
		var hits []store.Finding
		for _, f := range fs {
			if !slices.ContainsFunc(f.IDs(), s.Names) {
				continue
			}
			if comp.IsZero() || comp.Same(vex.Component{PURL: f.Component.PURL, Name: f.Component.Name, Version: f.Component.Version}) || comp.Key() == f.ComponentKey {
				hits = append(hits, f)
			}
		}
		switch {
		case len(hits) > 0:
			for _, f := range hits {
				put(fromFinding(f), s)
				matched[pk{f.Advisory, f.ComponentKey}] = true
			}
		case comp.IsZero():
			res.Skipped = append(res.Skipped, fmt.Sprintf("%s (%s, whole product %s): the version has no finding of it", s.Vulnerability, s.Status, cmp.Or(s.Product.Name, s.Product.ID)))
		default:
			c, ok := keys[comp.Key()]
			if !ok {
				res.Skipped = append(res.Skipped, fmt.Sprintf("%s (%s, %s): the version has no such component", s.Vulnerability, s.Status, comp.Key()))
				continue
			}
			put(store.VEXStatement{AdvisoryID: s.Vulnerability, ComponentKey: c.ComponentKey, ComponentName: c.Name, ComponentVersion: c.Version, PURL: c.PURL}, s)
		}
	}
	list := make([]store.VEXStatement, 0, len(order))
	for _, k := range order {
		list = append(list, out[k])
		if matched[k] {
			res.Matched++
		}
	}
	res.Applied, err = st.ImportVEX(ctx, actor, versionID, list)
	return res, err
}

// productAsComponent finds the component of the version a statement's product names: by package
// URL (upstream projects name their package as the product), else by name and version.
func productAsComponent(p vex.Product, keys map[string]store.SBOMComponent) (vex.Component, bool) {
	if strings.HasPrefix(p.ID, "pkg:") {
		if c, ok := keys[vex.ComponentKey(p.ID, "", "")]; ok {
			return vex.Component{PURL: c.PURL, Name: c.Name, Version: c.Version}, true
		}
	}
	if p.Name == "" {
		return vex.Component{}, false
	}
	for _, c := range keys {
		if strings.EqualFold(c.Name, strings.TrimSpace(p.Name)) && (p.Version == "" || p.Version == c.Version) {
			return vex.Component{PURL: c.PURL, Name: c.Name, Version: c.Version}, true
		}
	}
	return vex.Component{}, false
}

// sameDevice reports whether a statement's product is the device (any of its versions: the
// user chose the version to apply the document to): same product name, given as the name or in
// the package URL Vigil gives devices.
func sameDevice(p, device vex.Product) bool {
	name := strings.TrimSpace(p.Name)
	if strings.HasPrefix(p.ID, "pkg:generic/") {
		if n, _ := vex.DeviceName(p.ID); n != "" {
			name = n
		}
	}
	if strings.EqualFold(name, device.Name) {
		return true
	}
	// A product named "InsuPump X2 2.1.0" (CSAF full product names carry the version).
	return device.Version != "" && strings.EqualFold(name, device.Name+" "+device.Version)
}
