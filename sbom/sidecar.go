package sbom

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/package-url/packageurl-go"

	"github.com/vigil-med/vigil/internal/yamlfile"
)

// SidecarSchema names the support sidecar format.
const SidecarSchema = "vigil/sbom-support/v1"

// Sidecar records, for SBOMs that cannot carry it, the FDA support data of their components: the
// level of support and the end-of-support date. It is a YAML (or JSON) file:
//
//	schema: vigil/sbom-support/v1
//	components:
//	  - purl: pkg:nuget/log4net@2.0.8          # match by package URL ...
//	    support: no-longer-maintained
//	    end_of_support: 2022-11-30
//	  - name: wolfSSL                          # ... or by name and version
//	    version: 4.8.1
//	    support: actively-maintained
//	    end_of_support: 2027-12-31
//	  - name: FatFs                            # no version: every version of FatFs
//	    support: actively-maintained
//	    note: maintainer publishes no end-of-support date
//
// A purl without a version matches every version of that package. support is one of
// actively-maintained, no-longer-maintained, abandoned, unknown; end_of_support is YYYY-MM-DD;
// note keeps a justification or remark. Other front ends (the web app) can record the same
// entries and apply them with Apply.
type Sidecar struct {
	Schema     string         `yaml:"schema" json:"schema"`
	Components []SupportEntry `yaml:"components" json:"components"`
}

// SupportEntry is one component's support data and how to find the component.
type SupportEntry struct {
	PURL         string `yaml:"purl,omitempty" json:"purl,omitempty"`
	Name         string `yaml:"name,omitempty" json:"name,omitempty"`
	Version      string `yaml:"version,omitempty" json:"version,omitempty"`
	Support      string `yaml:"support,omitempty" json:"support,omitempty"`
	EndOfSupport string `yaml:"end_of_support,omitempty" json:"end_of_support,omitempty"`
	Note         string `yaml:"note,omitempty" json:"note,omitempty"`

	line int // where the entry starts in its file, for messages
}

// ReadSidecar reads and validates the sidecar file at path.
func ReadSidecar(path string) (*Sidecar, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &yamlfile.Error{File: path, Msg: "cannot read the file: " + strings.TrimPrefix(err.Error(), "open "+path+": ")}
	}
	return ParseSidecar(path, data)
}

// ParseSidecar decodes a sidecar strictly (unknown fields, anchors and bad values are errors with
// file:line: field: messages) and validates every entry.
func ParseSidecar(name string, data []byte) (*Sidecar, error) {
	d, err := yamlfile.Parse(name, data)
	if err != nil {
		return nil, err
	}
	var s Sidecar
	if err := d.Decode(&s); err != nil {
		return nil, err
	}
	var errs yamlfile.Errors
	if s.Schema != SidecarSchema {
		errs = append(errs, d.Errorf("schema", "is %q; expected %q", s.Schema, SidecarSchema))
	}
	seen := map[string]string{}
	for i := range s.Components {
		e := &s.Components[i]
		p := fmt.Sprintf("components[%d]", i)
		e.line = d.Line(p)
		e.PURL, e.Name, e.Version = strings.TrimSpace(e.PURL), strings.TrimSpace(e.Name), strings.TrimSpace(e.Version)
		switch {
		case e.PURL == "" && e.Name == "":
			errs = append(errs, d.Errorf(p, "expected purl, or name (and optionally version), to find the component"))
		case e.PURL != "" && (e.Name != "" || e.Version != ""):
			errs = append(errs, d.Errorf(p, "give either purl or name/version, not both"))
		case e.PURL != "":
			if err := ValidPURL(e.PURL); err != nil {
				errs = append(errs, d.Errorf(p+".purl", "%q is not a valid package URL: %v", e.PURL, err))
			}
		}
		if e.Support != "" && !slices.Contains(SupportLevels, e.Support) {
			errs = append(errs, d.Errorf(p+".support", "is %q; expected one of %s", e.Support, strings.Join(SupportLevels, ", ")))
		}
		if e.EndOfSupport != "" {
			if date, ok := ParseSupportDate(e.EndOfSupport); ok && len(e.EndOfSupport) == len("2006-01-02") {
				e.EndOfSupport = date
			} else {
				errs = append(errs, d.Errorf(p+".end_of_support", "is %q; expected a date YYYY-MM-DD", e.EndOfSupport))
			}
		}
		if e.Support == "" && e.EndOfSupport == "" && e.Note == "" {
			errs = append(errs, d.Errorf(p, "expected at least one of support, end_of_support, note"))
		}
		key := e.key()
		if prev, ok := seen[key]; ok {
			errs = append(errs, d.Errorf(p, "matches the same components as %s; give each component once", prev))
		}
		seen[key] = p
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return &s, nil
}

func (e *SupportEntry) key() string {
	if e.PURL != "" {
		return "purl:" + canonicalPURL(e.PURL)
	}
	return "name:" + strings.ToLower(e.Name) + "@" + e.Version
}

// Matches reports whether the entry describes component c.
func (e *SupportEntry) Matches(c *Component) bool {
	if e.PURL != "" {
		if c.PURL == "" {
			return false
		}
		want, err1 := packageurl.FromString(e.PURL)
		got, err2 := packageurl.FromString(c.PURL)
		if err1 != nil || err2 != nil {
			return e.PURL == c.PURL
		}
		if want.Version == "" {
			got.Version = ""
		}
		want.Qualifiers, got.Qualifiers = nil, nil
		want.Subpath, got.Subpath = "", ""
		return want.ToString() == got.ToString()
	}
	if !strings.EqualFold(strings.TrimSpace(c.Name), e.Name) {
		return false
	}
	return e.Version == "" || strings.TrimSpace(c.Version) == e.Version
}

func canonicalPURL(s string) string {
	p, err := packageurl.FromString(s)
	if err != nil {
		return s
	}
	return p.ToString()
}

// Apply sets the support data of every component an entry matches, overriding what the SBOM
// said (the sidecar is the manufacturer's own, later statement). Entries with a version (or a
// purl version) win over version-less ones. It returns the entries that matched no component,
// which usually means the sidecar is out of date.
func (s *Sidecar) Apply(doc *Document) (unmatched []SupportEntry) {
	matched := make([]bool, len(s.Components))
	for i := range doc.Components {
		c := &doc.Components[i]
		best := -1
		for j := range s.Components {
			e := &s.Components[j]
			if !e.Matches(c) {
				continue
			}
			matched[j] = true
			if best < 0 || e.Specificity() > s.Components[best].Specificity() {
				best = j
			}
		}
		if best < 0 {
			continue
		}
		e := s.Components[best]
		if e.Support != "" {
			c.Support = e.Support
		}
		if e.EndOfSupport != "" {
			c.EndOfSupport = e.EndOfSupport
		}
		if e.Note != "" {
			c.SupportNote = e.Note
		} else if e.Support != "" && e.EndOfSupport != "" {
			c.SupportNote = "" // the SBOM's free text is superseded
		}
		c.SupportSource = "sidecar"
	}
	for j, ok := range matched {
		if !ok {
			unmatched = append(unmatched, s.Components[j])
		}
	}
	return unmatched
}

// Specificity ranks entries that match one component: the most specific wins (3: a package URL
// with a version; 2: a name and version; 1: a package URL without a version; 0: a name alone).
func (e *SupportEntry) Specificity() int {
	if e.PURL != "" {
		if p, err := packageurl.FromString(e.PURL); err == nil && p.Version != "" {
			return 3
		}
		return 1
	}
	if e.Version != "" {
		return 2
	}
	return 0
}

// Describe names the entry for messages: "components[3] (line 12): pkg:npm/x@1".
func (e *SupportEntry) Describe() string {
	what := e.PURL
	if what == "" {
		what = joinNonEmpty(" ", e.Name, e.Version)
	}
	if e.line > 0 {
		return fmt.Sprintf("line %d: %s", e.line, what)
	}
	return what
}

// Template returns a sidecar listing every component of doc (except the primary one) with the
// support data it has, for the user to complete: the quickest way to start one.
func Template(doc *Document) *Sidecar {
	s := &Sidecar{Schema: SidecarSchema, Components: []SupportEntry{}}
	seen := map[string]bool{}
	for _, c := range doc.Components {
		if c.Ref == doc.Root || (c.PURL == "" && strings.TrimSpace(c.Name) == "") {
			continue
		}
		e := SupportEntry{Support: c.Support, EndOfSupport: c.EndOfSupport, Note: c.SupportNote}
		if c.PURL != "" && ValidPURL(c.PURL) == nil {
			e.PURL = c.PURL
		} else {
			e.Name, e.Version = c.Name, c.Version
		}
		if e.Support == "" {
			e.Support = SupportUnknown
		}
		if seen[e.key()] {
			continue
		}
		seen[e.key()] = true
		s.Components = append(s.Components, e)
	}
	return s
}

// YAML renders the sidecar in its file format.
func (s *Sidecar) YAML() ([]byte, error) {
	return yaml.Marshal(s)
}
