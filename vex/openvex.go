package vex

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	govex "github.com/openvex/go-vex/pkg/vex"
)

// encodeOpenVEX writes an OpenVEX 0.2.0 document: one statement per Vigil statement, naming the
// device as the product and the component as its subcomponent.
func encodeOpenVEX(d *Document, o Options) ([]byte, error) {
	now := o.now(d)
	doc := govex.VEX{
		Metadata: govex.Metadata{
			Context:   govex.ContextLocator(),
			ID:        o.ID,
			Author:    o.author(d),
			Timestamp: &now,
			Version:   1,
			Tooling:   o.Tool,
			Supplier:  d.Product.Supplier,
		},
		Statements: []govex.Statement{},
	}
	stmts := append([]Statement(nil), d.Statements...)
	sortStatements(stmts)
	for _, s := range stmts {
		p := cmp.Or(s.Product, d.Product)
		prod := govex.Product{Component: openvexComponent(cmp.Or(p.ID, p.Name), p.ID)}
		if !s.Component.IsZero() {
			prod.Subcomponents = []govex.Subcomponent{{Component: openvexComponent(s.Component.Key(), s.Component.PURL)}}
		}
		ts := s.Timestamp.UTC()
		st := govex.Statement{
			Vulnerability:   govex.Vulnerability{Name: govex.VulnerabilityID(s.Vulnerability), Description: s.Description},
			Timestamp:       &ts,
			Products:        []govex.Product{prod},
			Status:          govex.Status(s.Status),
			Justification:   govex.Justification(s.Justification),
			ImpactStatement: s.ImpactStatement,
			ActionStatement: s.ActionStatement,
		}
		for _, a := range s.Aliases {
			st.Vulnerability.Aliases = append(st.Vulnerability.Aliases, govex.VulnerabilityID(a))
		}
		if s.Author != "" {
			st.StatusNotes = "Decision by " + s.Author + "."
		}
		if err := st.Validate(); err != nil {
			return nil, fmt.Errorf("vex: openvex statement %s: %w", s.Vulnerability, err)
		}
		doc.Statements = append(doc.Statements, st)
	}
	if doc.ID == "" {
		if _, err := doc.GenerateCanonicalID(); err != nil {
			return nil, fmt.Errorf("vex: openvex: %w", err)
		}
	}
	var buf bytes.Buffer
	if err := doc.ToJSON(&buf); err != nil {
		return nil, fmt.Errorf("vex: openvex: %w", err)
	}
	return buf.Bytes(), nil
}

func openvexComponent(id, purl string) govex.Component {
	c := govex.Component{ID: id}
	if purl != "" {
		c.Identifiers = map[govex.IdentifierType]string{govex.PURL: purl}
	}
	return c
}

// parseOpenVEX reads OpenVEX 0.2.0 (and, through go-vex's compatibility readers, 0.0.1).
func parseOpenVEX(name string, data []byte) (*Document, error) {
	var head struct {
		Context string `json:"@context"`
	}
	_ = json.Unmarshal(data, &head)
	var (
		doc *govex.VEX
		err error
	)
	if strings.HasPrefix(head.Context, "https://openvex.dev/ns/v0.2") {
		doc, err = govex.Parse(data)
	} else {
		// go-vex reads older versions only from a file.
		doc, err = openLegacy(data)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: not a readable OpenVEX document: %v", name, err)
	}
	out := &Document{Format: FormatOpenVEX, ID: doc.ID, Author: doc.Author}
	if doc.Timestamp != nil {
		out.Timestamp = doc.Timestamp.UTC()
	}
	for i, st := range doc.Statements {
		vid := string(st.Vulnerability.Name)
		if vid == "" {
			vid = st.Vulnerability.ID
		}
		base := Statement{
			Vulnerability:   vid,
			Description:     st.Vulnerability.Description,
			Status:          Status(st.Status),
			Justification:   Justification(st.Justification),
			ImpactStatement: st.ImpactStatement,
			ActionStatement: st.ActionStatement,
			Author:          doc.Author,
			Timestamp:       out.Timestamp,
		}
		if st.Timestamp != nil {
			base.Timestamp = st.Timestamp.UTC()
		}
		if by, ok := strings.CutPrefix(st.StatusNotes, "Decision by "); ok {
			base.Author = strings.TrimSuffix(by, ".")
		}
		for _, a := range st.Vulnerability.Aliases {
			if string(a) != vid {
				base.Aliases = append(base.Aliases, string(a))
			}
		}
		where := fmt.Sprintf("statements[%d]", i)
		if len(st.Products) == 0 {
			out.Warnings = append(out.Warnings, where+": names no product; skipped")
			continue
		}
		for _, p := range st.Products {
			prod := Product{ID: cmp.Or(p.Identifiers[govex.PURL], p.ID)}
			if len(p.Subcomponents) == 0 {
				s := base
				s.Product = prod
				out.add(s, where)
				continue
			}
			for _, sc := range p.Subcomponents {
				s := base
				s.Product = prod
				s.Component = componentFromID(cmp.Or(sc.Identifiers[govex.PURL], sc.ID))
				out.add(s, where)
			}
		}
	}
	return out, nil
}

// componentFromID reads a component identifier: a package URL, or "name@version".
func componentFromID(id string) Component {
	id = strings.TrimSpace(id)
	if strings.HasPrefix(id, "pkg:") {
		c := Component{PURL: id}
		c.Name, c.Version = purlNameVersion(id)
		return c
	}
	name, version, _ := strings.Cut(id, "@")
	return Component{Name: name, Version: version}
}

// purlNameVersion extracts the name (with its namespace) and version of a package URL.
func purlNameVersion(purl string) (string, string) {
	rest := strings.TrimPrefix(purl, "pkg:")
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		rest = rest[:i]
	}
	var version string
	if i := strings.LastIndexByte(rest, '@'); i > strings.LastIndexByte(rest, '/') {
		rest, version = rest[:i], rest[i+1:]
	}
	_, path, _ := strings.Cut(strings.TrimLeft(rest, "/"), "/")
	return unescape(path), unescape(version)
}

func unescape(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			var c byte
			if _, err := fmt.Sscanf(s[i+1:i+3], "%02X", &c); err == nil {
				b.WriteByte(c)
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// add appends a statement read from a document, tidied, or records why it was skipped.
func (d *Document) add(s Statement, where string) {
	s.Vulnerability = strings.TrimSpace(s.Vulnerability)
	if s.Timestamp.IsZero() {
		s.Timestamp = d.Timestamp
	}
	if !s.Status.Valid() {
		d.Warnings = append(d.Warnings, fmt.Sprintf("%s: status %q is not a VEX status; skipped", where, s.Status))
		return
	}
	for _, n := range s.tidy() {
		d.Warnings = append(d.Warnings, fmt.Sprintf("%s (%s): %s", where, s.Vulnerability, n))
	}
	if err := s.Check(); err != nil {
		d.Warnings = append(d.Warnings, fmt.Sprintf("%s (%s): %v; skipped", where, s.Vulnerability, err))
		return
	}
	d.Statements = append(d.Statements, s)
}

func openLegacy(data []byte) (*govex.VEX, error) {
	dir, err := os.MkdirTemp("", "vigil-openvex-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	p := filepath.Join(dir, "doc.json")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		return nil, err
	}
	return govex.Open(p)
}
