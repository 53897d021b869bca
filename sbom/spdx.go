package sbom

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx"
	"github.com/spdx/tools-golang/spdx/v2/common"
	"github.com/spdx/tools-golang/tagvalue"

	"github.com/vigil-med/vigil/internal/yamlfile"
)

// SPDX versions read; older ones are converted to the 2.3 model by tools-golang.
var spdxVersions = map[string]string{"SPDX-2.1": "2.1", "SPDX-2.2": "2.2", "SPDX-2.3": "2.3"}

// parseSPDXJSON reads an SPDX JSON document whose spdxVersion is spdxVersion.
func parseSPDXJSON(name string, data []byte, spdxVersion any) (*Document, error) {
	v, _ := spdxVersion.(string)
	version, ok := spdxVersions[v]
	if !ok {
		return nil, &yamlfile.Error{File: name, Line: jsonLine(data, []string{"spdxVersion"}), Field: "spdxVersion",
			Msg: fmt.Sprintf("is %s; expected \"SPDX-2.2\" or \"SPDX-2.3\"", describeJSON(spdxVersion))}
	}
	var doc *spdx.Document
	var err error
	if v == "SPDX-2.3" {
		// The 2.3 model is the one Vigil reads: decode into it directly. spdxjson.Read would
		// decode the whole document once more into a map first, only to find its version.
		doc = new(spdx.Document)
		err = json.Unmarshal(data, doc)
	} else {
		doc, err = spdxjson.Read(bytes.NewReader(data))
	}
	if err != nil {
		return nil, spdxError(name, data, err)
	}
	return fromSPDX(name, doc, version, EncodingJSON)
}

func parseSPDXTagValue(name string, data []byte) (*Document, error) {
	version := ""
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "SPDXVersion:"); ok {
			version = strings.TrimSpace(v)
			break
		}
	}
	if _, ok := spdxVersions[version]; !ok {
		return nil, &yamlfile.Error{File: name, Line: lineOf(data, "SPDXVersion:"), Field: "SPDXVersion",
			Msg: fmt.Sprintf("is %q; expected SPDX-2.2 or SPDX-2.3", version)}
	}
	doc, err := tagvalue.Read(bytes.NewReader(data))
	snippets := 0
	if err != nil && strings.Contains(err.Error(), "unknown tag SnippetSPDXID") {
		var stripped []byte
		stripped, snippets = stripSnippets(data)
		doc, err = tagvalue.Read(bytes.NewReader(stripped))
	}
	if err != nil {
		return nil, spdxError(name, data, err)
	}
	out, err := fromSPDX(name, doc, spdxVersions[version], EncodingTagValue)
	if err == nil && snippets > 0 {
		out.Warnings = append(out.Warnings, fmt.Sprintf("%d snippet section(s) placed after a package were skipped (snippets are not used)", snippets))
	}
	return out, err
}

// lineOf returns the line of the first occurrence of s, or 0.
func lineOf(data []byte, s string) int {
	i := bytes.Index(data, []byte(s))
	if i < 0 {
		return 0
	}
	return lineAt(data, int64(i))
}

func spdxError(name string, data []byte, err error) error {
	if e, ok := jsonSyntaxError(name, data, err).(*yamlfile.Error); ok && !strings.HasPrefix(e.Msg, "invalid JSON: ") {
		return e
	}
	msg := err.Error()
	if strings.Contains(msg, "token too long") {
		msg = "a line is longer than 64 KiB"
	}
	return &yamlfile.Error{File: name, Msg: "not a valid SPDX document: " + msg}
}

func fromSPDX(name string, sd *spdx.Document, version, encoding string) (*Document, error) {
	doc := &Document{Format: FormatSPDX, SpecVersion: version, Encoding: encoding, Name: sd.DocumentName}
	if ci := sd.CreationInfo; ci != nil {
		for _, c := range ci.Creators {
			switch strings.ToLower(c.CreatorType) {
			case "tool":
				doc.Tools = appendName(doc.Tools, c.Creator)
			case "person", "organization":
				doc.Authors = appendName(doc.Authors, stripEmail(c.Creator))
			}
		}
		if ci.Created != "" {
			if t, err := time.Parse(time.RFC3339Nano, ci.Created); err == nil {
				doc.Timestamp = t
			} else {
				doc.Warnings = append(doc.Warnings, fmt.Sprintf("creationInfo.created %q is not a date-time such as 2024-05-01T12:00:00Z; treated as missing", ci.Created))
			}
		}
	}
	refs := map[string]bool{}
	var errs yamlfile.Errors
	for i, p := range sd.Packages {
		if p == nil {
			continue
		}
		ref := common.RenderElementID(p.PackageSPDXIdentifier)
		if p.PackageSPDXIdentifier == "" {
			ref = fmt.Sprintf("vigil:package-%d", i+1)
		}
		if refs[ref] {
			errs = append(errs, &yamlfile.Error{File: name, Field: fmt.Sprintf("packages[%d].SPDXID", i),
				Msg: fmt.Sprintf("%s is used twice; expected every SPDX identifier to be unique", ref)})
			continue
		}
		refs[ref] = true
		doc.Components = append(doc.Components, spdxPackage(p, ref))
	}
	if len(errs) > 0 {
		if len(errs) == 1 {
			return nil, errs[0]
		}
		return nil, errs
	}
	spdxRelationships(doc, sd, refs)
	if doc.Root != "" {
		for _, c := range doc.Components {
			if c.Ref == doc.Root {
				doc.Name, doc.Version = c.Name, c.Version
			}
		}
	}
	return doc, nil
}

// stripEmail turns "Jane Doe (jane@example.com)" into "Jane Doe"; an empty name keeps the e-mail.
func stripEmail(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndex(s, "("); i > 0 && strings.HasSuffix(s, ")") {
		if n := strings.TrimSpace(s[:i]); n != "" {
			return n
		}
	}
	return s
}

func spdxPackage(p *spdx.Package, ref string) Component {
	c := Component{
		Ref:     ref,
		Type:    strings.ToLower(strings.ReplaceAll(p.PrimaryPackagePurpose, "_", "-")),
		Name:    p.PackageName,
		Version: noAssertion(p.PackageVersion),
	}
	if s := p.PackageSupplier; s != nil && noAssertion(s.Supplier) != "" {
		c.Supplier = stripEmail(s.Supplier)
	} else if o := p.PackageOriginator; o != nil && noAssertion(o.Originator) != "" {
		c.Supplier = stripEmail(o.Originator)
	}
	var cpe22 string
	for _, r := range p.PackageExternalReferences {
		if r == nil {
			continue
		}
		switch strings.ToLower(r.RefType) {
		case "purl":
			if c.PURL == "" {
				c.PURL = strings.TrimSpace(r.Locator)
			}
		case "cpe23type":
			if c.CPE == "" {
				c.CPE = strings.TrimSpace(r.Locator)
			}
		case "cpe22type":
			if cpe22 == "" {
				cpe22 = strings.TrimSpace(r.Locator)
			}
		}
	}
	if c.CPE == "" {
		c.CPE = cpe22
	}
	for _, h := range p.PackageChecksums {
		c.Hashes = append(c.Hashes, Hash{Algorithm: string(h.Algorithm), Value: strings.TrimSpace(h.Value)})
	}
	// SPDX 2.3 added ValidUntilDate for the end of the supplier's support period, with FDA's
	// end-of-support date in mind. SPDX 2.x has no field for the level of support.
	if v := strings.TrimSpace(p.ValidUntilDate); v != "" {
		if d, ok := ParseSupportDate(v); ok {
			c.EndOfSupport = d
		} else {
			c.SupportNote = fmt.Sprintf("valid until %q", v)
		}
		c.SupportSource = "sbom"
	}
	for _, l := range []string{p.PackageLicenseConcluded, p.PackageLicenseDeclared} {
		if l = noAssertion(l); l != "" && l != "NONE" {
			c.Licenses = appendName(c.Licenses, l)
		}
	}
	return c
}

func noAssertion(s string) string {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "NOASSERTION") {
		return ""
	}
	return s
}

// spdxRelationships turns the relationships between packages into dependency edges and finds
// the root (what the document DESCRIBES). CONTAINS counts as a dependency edge: NTIA's
// "dependency relationship" is that X is included in Y. Relationships naming files, snippets or
// other documents are left out (and counted in a warning).
func spdxRelationships(doc *Document, sd *spdx.Document, pkgs map[string]bool) {
	edges := map[string][]string{}
	var order []string
	add := func(from, to string) {
		if _, ok := edges[from]; !ok {
			order = append(order, from)
			edges[from] = nil
		}
		if to == "" {
			return
		}
		for _, x := range edges[from] {
			if x == to {
				return
			}
		}
		edges[from] = append(edges[from], to)
	}
	var described []string
	skipped := 0
	for _, r := range sd.Relationships {
		if r == nil {
			continue
		}
		a, b := elementRef(r.RefA), elementRef(r.RefB)
		typ := strings.ToUpper(strings.TrimSpace(r.Relationship))
		switch typ {
		case "DESCRIBES":
			if a == "SPDXRef-DOCUMENT" && pkgs[b] {
				described = append(described, b)
			}
			continue
		case "DESCRIBED_BY":
			if b == "SPDXRef-DOCUMENT" && pkgs[a] {
				described = append(described, a)
			}
			continue
		}
		var from, to string
		switch {
		case typ == "DEPENDS_ON" || typ == "CONTAINS" || typ == "STATIC_LINK" || typ == "DYNAMIC_LINK":
			from, to = a, b
		case typ == "CONTAINED_BY" || strings.HasSuffix(typ, "DEPENDENCY_OF"):
			from, to = b, a
		default:
			continue
		}
		special := func(s string) bool { return s == "NONE" || s == "NOASSERTION" }
		switch {
		case pkgs[from] && pkgs[to]:
			add(from, to)
		case pkgs[from] && special(to) && r.RefB.SpecialID == "NONE" && (typ == "DEPENDS_ON" || typ == "CONTAINS"):
			add(from, "") // "X DEPENDS_ON NONE": X is known to have no dependencies
		default:
			skipped++
		}
	}
	for _, from := range order {
		doc.Dependencies = append(doc.Dependencies, Dependency{Ref: from, DependsOn: append([]string{}, edges[from]...)})
	}
	if len(described) > 0 {
		doc.Root = described[0]
		if len(described) > 1 {
			doc.Warnings = append(doc.Warnings, fmt.Sprintf("the document DESCRIBES %d packages; %s is taken as the primary component", len(described), described[0]))
		}
	}
	if skipped > 0 {
		doc.Warnings = append(doc.Warnings, fmt.Sprintf("%d relationship(s) involving files, snippets or external documents were not used as dependencies", skipped))
	}
}

func elementRef(id common.DocElementID) string {
	switch {
	case id.SpecialID != "":
		return id.SpecialID
	case id.DocumentRefID != "":
		return "DocumentRef-" + string(id.DocumentRefID) + ":" + common.RenderElementID(id.ElementRefID)
	case id.ElementRefID != "":
		return common.RenderElementID(id.ElementRefID)
	}
	return ""
}

// stripSnippets removes snippet sections from an SPDX tag-value document. tools-golang reads a
// snippet only after a file section, but the SPDX examples (and other valid documents) put one
// after a package; Vigil does not use snippets, so when the reader refuses one it reads the
// document again without them. A snippet section runs from "SnippetSPDXID:" to the next tag
// that starts another section or stands alone (relationships, annotations, reviews).
func stripSnippets(data []byte) ([]byte, int) {
	var out bytes.Buffer
	n := 0
	inSnippet, inText := false, false
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if !inText {
			tag, _, _ := strings.Cut(strings.TrimSpace(line), ":")
			switch tag {
			case "SnippetSPDXID":
				inSnippet = true
				n++
			case "PackageName", "FileName", "LicenseID", "Relationship", "Annotator", "Reviewer", "SPDXVersion":
				inSnippet = false
			}
			if strings.Contains(line, "<text>") && !strings.Contains(line, "</text>") {
				inText = true
			}
		} else if strings.Contains(line, "</text>") {
			inText = false
		}
		if !inSnippet {
			out.WriteString(line)
		}
	}
	return out.Bytes(), n
}
