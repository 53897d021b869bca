package sbom

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"slices"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/vigil-med/vigil/internal/yamlfile"
)

// parseCycloneDXJSON reads a CycloneDX JSON document; inst is data decoded generically (with
// json.Number), as jsonschema.UnmarshalJSON does.
func parseCycloneDXJSON(name string, data []byte, inst any) (*Document, error) {
	obj, _ := inst.(map[string]any)
	if f, _ := obj["bomFormat"].(string); f != "CycloneDX" {
		return nil, &yamlfile.Error{File: name, Line: jsonLine(data, []string{"bomFormat"}), Field: "bomFormat",
			Msg: fmt.Sprintf("is %s; expected \"CycloneDX\"", describeJSON(obj["bomFormat"]))}
	}
	version, _ := obj["specVersion"].(string)
	if _, ok := cdxSchemaFiles[version]; !ok {
		return nil, &yamlfile.Error{File: name, Line: jsonLine(data, []string{"specVersion"}), Field: "specVersion",
			Msg: fmt.Sprintf("is %s; expected a CycloneDX version from \"1.2\" to \"1.7\" (1.0 and 1.1 have no JSON form)", describeJSON(obj["specVersion"]))}
	}
	if err := validateCycloneDX(name, data, version, inst); err != nil {
		return nil, err
	}
	var bom cdx.BOM
	if err := json.Unmarshal(data, &bom); err != nil {
		// The document is schema-valid, so this is cyclonedx-go modelling some part of the
		// specification differently (it does for 1.6 declarations and 1.7 patent assertions).
		// Read again with only the parts Vigil uses.
		bom = cdx.BOM{}
		pruned, merr := json.Marshal(pruneCycloneDX(inst))
		if merr != nil {
			return nil, jsonSyntaxError(name, data, err)
		}
		if err2 := json.Unmarshal(pruned, &bom); err2 != nil {
			e := jsonSyntaxError(name, data, err).(*yamlfile.Error)
			e.Msg = "the CycloneDX reader (cyclonedx-go) cannot read this schema-valid document: " + e.Msg
			return nil, e
		}
	}
	return fromCycloneDX(name, &bom, version, EncodingJSON)
}

func parseCycloneDXXML(name string, data []byte, ns string) (*Document, error) {
	version := strings.TrimPrefix(ns, "http://cyclonedx.org/schema/bom/")
	if _, ok := cdxSchemaFiles[version]; !ok {
		return nil, &yamlfile.Error{File: name, Line: 1, Field: "bom",
			Msg: fmt.Sprintf("CycloneDX %s is not supported; expected 1.2 to 1.7", version)}
	}
	var bom cdx.BOM
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	if err := dec.Decode(&bom); err != nil {
		return nil, xmlError(name, data, err)
	}
	// No pure-Go XSD validator exists, so the decoded BOM is re-encoded as JSON and held to the
	// JSON schema of the same version: the two encodings describe the same data model, and this
	// checks enumerations, patterns (hashes, serial number, timestamps), required fields and
	// licence choices as the decoder understood them. Elements the decoder does not know are
	// ignored rather than refused.
	bom.BOMFormat = "CycloneDX"
	bom.XMLNS = ""
	sv, err := parseSpecVersion(version)
	if err != nil {
		return nil, &yamlfile.Error{File: name, Msg: err.Error()}
	}
	bom.SpecVersion = sv
	js, err := json.Marshal(&bom)
	if err != nil {
		return nil, &yamlfile.Error{File: name, Msg: "CycloneDX XML could not be checked: " + err.Error()}
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		return nil, &yamlfile.Error{File: name, Msg: "CycloneDX XML could not be checked: " + err.Error()}
	}
	// XML Schema's normalizedString and token types fold line breaks and runs of spaces, which
	// pretty-printed XML is full of; the JSON patterns (e.g. "^(.*)$" for a description in 1.2)
	// do not allow line breaks. Collapse whitespace as the XSD would before validating.
	inst = collapseWhitespace(inst)
	if err := validateCycloneDX(name, js, version, inst); err != nil {
		// Line numbers refer to the JSON re-encoding, not to the XML: drop them.
		switch e := err.(type) {
		case *yamlfile.Error:
			e.Line = 0
		case yamlfile.Errors:
			for _, x := range e {
				x.Line = 0
			}
		}
		return nil, err
	}
	return fromCycloneDX(name, &bom, version, EncodingXML)
}

// The fields of a CycloneDX document that Vigil reads; pruneCycloneDX drops the others.
var (
	keepTop       = []string{"bomFormat", "specVersion", "serialNumber", "version", "metadata", "components", "services", "dependencies"}
	keepMetadata  = []string{"timestamp", "tools", "authors", "component", "manufacture", "manufacturer", "supplier"}
	keepComponent = []string{"bom-ref", "type", "supplier", "manufacturer", "author", "publisher", "group", "name", "version", "hashes", "licenses", "cpe", "purl", "properties", "components"}
	keepService   = []string{"bom-ref", "group", "name", "version"}
)

func pruneCycloneDX(inst any) any {
	keep := func(v any, fields []string) map[string]any {
		m, _ := v.(map[string]any)
		out := map[string]any{}
		for _, f := range fields {
			if x, ok := m[f]; ok {
				out[f] = x
			}
		}
		return out
	}
	var comp func(v any) any
	comp = func(v any) any {
		c := keep(v, keepComponent)
		if list, ok := c["components"].([]any); ok {
			for i := range list {
				list[i] = comp(list[i])
			}
		}
		return c
	}
	top := keep(inst, keepTop)
	if md, ok := top["metadata"]; ok {
		m := keep(md, keepMetadata)
		if c, ok := m["component"]; ok {
			m["component"] = comp(c)
		}
		if t, ok := m["tools"].(map[string]any); ok {
			for _, k := range []string{"components", "services"} {
				if list, ok := t[k].([]any); ok {
					for i := range list {
						list[i] = keep(list[i], []string{"type", "group", "name", "version", "supplier", "manufacturer"})
					}
				}
			}
		}
		top["metadata"] = m
	}
	if list, ok := top["components"].([]any); ok {
		for i := range list {
			list[i] = comp(list[i])
		}
	}
	if list, ok := top["services"].([]any); ok {
		for i := range list {
			list[i] = keep(list[i], keepService)
		}
	}
	return top
}

func collapseWhitespace(v any) any {
	switch x := v.(type) {
	case string:
		return strings.Join(strings.Fields(x), " ")
	case map[string]any:
		for k, e := range x {
			x[k] = collapseWhitespace(e)
		}
	case []any:
		for i, e := range x {
			x[i] = collapseWhitespace(e)
		}
	}
	return v
}

func parseSpecVersion(v string) (cdx.SpecVersion, error) {
	var sv cdx.SpecVersion
	err := sv.UnmarshalJSON([]byte(`"` + v + `"`))
	return sv, err
}

func describeJSON(v any) string {
	switch x := v.(type) {
	case nil:
		return "missing"
	case string:
		return fmt.Sprintf("%q", x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// cdxReader converts one decoded CycloneDX BOM.
type cdxReader struct {
	name string
	doc  *Document
	seen map[string]bool // bom-refs already used
	n    int             // components seen, for synthetic refs
	errs yamlfile.Errors
}

func fromCycloneDX(name string, bom *cdx.BOM, version, encoding string) (*Document, error) {
	r := &cdxReader{name: name, seen: map[string]bool{}, doc: &Document{
		Format: FormatCycloneDX, SpecVersion: version, Encoding: encoding,
	}}
	doc := r.doc
	if md := bom.Metadata; md != nil {
		r.metadata(md)
	}
	if bom.Components != nil {
		doc.Components = slices.Grow(doc.Components, len(*bom.Components))
		for i := range *bom.Components {
			r.component(&(*bom.Components)[i], "", fmt.Sprintf("components[%d]", i))
		}
	}
	if bom.Services != nil {
		for i, s := range *bom.Services {
			r.ref(s.BOMRef, fmt.Sprintf("services[%d]", i))
		}
	}
	if bom.Dependencies != nil {
		for i, d := range *bom.Dependencies {
			if d.Ref == "" {
				r.errs = append(r.errs, &yamlfile.Error{File: name, Field: fmt.Sprintf("dependencies[%d].ref", i), Msg: "is missing; expected the bom-ref of the dependent component"})
				continue
			}
			dep := Dependency{Ref: d.Ref, DependsOn: []string{}}
			if d.Dependencies != nil {
				dep.DependsOn = append(dep.DependsOn, *d.Dependencies...)
			}
			doc.Dependencies = append(doc.Dependencies, dep)
		}
	}
	if len(r.errs) > 0 {
		if len(r.errs) == 1 {
			return nil, r.errs[0]
		}
		return nil, r.errs
	}
	return doc, nil
}

func (r *cdxReader) metadata(md *cdx.Metadata) {
	doc := r.doc
	if md.Timestamp != "" {
		if t, err := time.Parse(time.RFC3339Nano, md.Timestamp); err == nil {
			doc.Timestamp = t
		} else {
			doc.Warnings = append(doc.Warnings, fmt.Sprintf("metadata.timestamp %q is not an RFC 3339 date-time; treated as missing", md.Timestamp))
		}
	}
	if md.Authors != nil {
		for _, a := range *md.Authors {
			doc.Authors = appendName(doc.Authors, contactName(a))
		}
	}
	for _, org := range []*cdx.OrganizationalEntity{md.Manufacturer, md.Manufacture, md.Supplier} {
		if org != nil {
			doc.Authors = appendName(doc.Authors, orgName(org))
		}
	}
	if t := md.Tools; t != nil {
		if t.Tools != nil {
			for _, tool := range *t.Tools {
				doc.Tools = appendName(doc.Tools, joinNonEmpty(" ", tool.Vendor, tool.Name, tool.Version))
			}
		}
		if t.Components != nil {
			for _, c := range *t.Components {
				vendor := ""
				if c.Manufacturer != nil {
					vendor = c.Manufacturer.Name
				} else if c.Supplier != nil {
					vendor = c.Supplier.Name
				}
				doc.Tools = appendName(doc.Tools, joinNonEmpty(" ", vendor, joinNonEmpty("/", c.Group, c.Name), c.Version))
			}
		}
		if t.Services != nil {
			for _, s := range *t.Services {
				doc.Tools = appendName(doc.Tools, joinNonEmpty(" ", joinNonEmpty("/", s.Group, s.Name), s.Version))
			}
		}
	}
	if c := md.Component; c != nil {
		idx := len(doc.Components)
		doc.Root = r.component(c, "", "metadata.component")
		root := &doc.Components[idx]
		doc.Name, doc.Version = root.Name, root.Version
		// metadata.supplier/manufacturer name the supplier of the subject when it names none.
		if root.Supplier == "" {
			for _, org := range []*cdx.OrganizationalEntity{md.Supplier, md.Manufacturer, md.Manufacture} {
				if n := orgName(org); n != "" {
					root.Supplier = n
					break
				}
			}
		}
	}
}

// ref records a bom-ref and reports a duplicate: the specification requires bom-refs to be
// unique in a BOM, and dependencies would be ambiguous otherwise.
func (r *cdxReader) ref(ref, field string) {
	if ref == "" {
		return
	}
	if r.seen[ref] {
		r.errs = append(r.errs, &yamlfile.Error{File: r.name, Field: field + ".bom-ref",
			Msg: fmt.Sprintf("bom-ref %q is used twice; expected every bom-ref to be unique in the BOM", ref)})
		return
	}
	r.seen[ref] = true
}

// component appends c and its nested components (flattened, with Parent set) and returns c's ref.
func (r *cdxReader) component(c *cdx.Component, parent, field string) string {
	r.n++
	if c.BOMRef != "" && r.seen[c.BOMRef] {
		// Some generators list the subject both in metadata.component and in components. A
		// repeated bom-ref is tolerated when it describes the same thing; otherwise it is refused.
		for _, prev := range r.doc.Components {
			if prev.Ref == c.BOMRef && prev.Name == joinNonEmpty("/", c.Group, c.Name) &&
				prev.Version == strings.TrimSpace(c.Version) && prev.PURL == strings.TrimSpace(c.PackageURL) {
				r.doc.Warnings = append(r.doc.Warnings, fmt.Sprintf("%s repeats the component with bom-ref %q; read once", field, c.BOMRef))
				return c.BOMRef
			}
		}
	}
	r.ref(c.BOMRef, field)
	ref := c.BOMRef
	if ref == "" {
		// Components without a bom-ref cannot be named in dependencies; give them a stable,
		// document-unique ref so that findings can point at them.
		ref = fmt.Sprintf("vigil:component-%d", r.n)
		for r.seen[ref] {
			ref += "-"
		}
		r.seen[ref] = true
	}
	comp := Component{
		Ref:     ref,
		Type:    string(c.Type),
		Name:    joinNonEmpty("/", c.Group, c.Name),
		Version: strings.TrimSpace(c.Version),
		PURL:    strings.TrimSpace(c.PackageURL),
		CPE:     strings.TrimSpace(c.CPE),
		Parent:  parent,
	}
	switch {
	case c.Supplier != nil && orgName(c.Supplier) != "":
		comp.Supplier = orgName(c.Supplier)
	case c.Manufacturer != nil && orgName(c.Manufacturer) != "":
		comp.Supplier = orgName(c.Manufacturer)
	case c.Publisher != "":
		comp.Supplier = c.Publisher
	}
	if c.Hashes != nil {
		for _, h := range *c.Hashes {
			comp.Hashes = append(comp.Hashes, Hash{Algorithm: string(h.Algorithm), Value: strings.TrimSpace(h.Value)})
		}
	}
	if c.Licenses != nil {
		for _, l := range *c.Licenses {
			switch {
			case l.Expression != "":
				comp.Licenses = appendName(comp.Licenses, l.Expression)
			case l.License != nil && l.License.ID != "":
				comp.Licenses = appendName(comp.Licenses, l.License.ID)
			case l.License != nil && l.License.Name != "":
				comp.Licenses = appendName(comp.Licenses, l.License.Name)
			}
		}
	}
	if c.Properties != nil {
		props := make([][2]string, 0, len(*c.Properties))
		for _, p := range *c.Properties {
			props = append(props, [2]string{p.Name, p.Value})
		}
		applySupportProperties(&comp, props)
	}
	r.doc.Components = append(r.doc.Components, comp)
	if c.Components != nil {
		for i := range *c.Components {
			r.component(&(*c.Components)[i], ref, fmt.Sprintf("%s.components[%d]", field, i))
		}
	}
	return ref
}

func orgName(o *cdx.OrganizationalEntity) string {
	if o == nil {
		return ""
	}
	if n := strings.TrimSpace(o.Name); n != "" {
		return n
	}
	if o.Contact != nil {
		for _, c := range *o.Contact {
			if n := contactName(c); n != "" {
				return n
			}
		}
	}
	if o.URL != nil && len(*o.URL) > 0 {
		return strings.TrimSpace((*o.URL)[0])
	}
	return ""
}

func contactName(c cdx.OrganizationalContact) string {
	if n := strings.TrimSpace(c.Name); n != "" {
		return n
	}
	return strings.TrimSpace(c.Email)
}

func joinNonEmpty(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}

func appendName(list []string, s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return list
	}
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
