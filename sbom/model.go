// Package sbom reads software bills of materials (CycloneDX JSON/XML, SPDX JSON/tag-value) into
// one domain model, and checks them against the NTIA minimum elements and FDA's additional
// expectations. Outside formats are parsed by their own libraries and converted at the edge.
package sbom

import "time"

// Document is a normalised SBOM.
type Document struct {
	File        string    `json:"file,omitempty"`
	Format      string    `json:"format"`            // "CycloneDX" or "SPDX"
	SpecVersion string    `json:"spec_version"`      // e.g. "1.6", "2.3"
	Encoding    string    `json:"encoding"`          // "json", "xml" or "tag-value"
	Name        string    `json:"name,omitempty"`    // subject (main component / document name)
	Version     string    `json:"version,omitempty"` // subject version, when known
	Authors     []string  `json:"authors,omitempty"` // who made the SBOM data (NTIA "author")
	Tools       []string  `json:"tools,omitempty"`   // tools that generated it, "name version"
	Timestamp   time.Time `json:"timestamp,omitempty"`
	Root        string    `json:"root,omitempty"` // Ref of the main component, when declared

	Components   []Component  `json:"components"`
	Dependencies []Dependency `json:"dependencies,omitempty"`

	// Warnings are things the reader noticed but did not refuse (e.g. a timestamp it could not
	// read, or SPDX relationships to elements that are not packages), for the quality report.
	Warnings []string `json:"warnings,omitempty"`
}

// Component is one software component.
type Component struct {
	Ref      string   `json:"ref"`            // bom-ref (CycloneDX) or SPDXID (SPDX); unique in the document
	Type     string   `json:"type,omitempty"` // library, application, framework, file, operating-system, ...
	Name     string   `json:"name"`
	Version  string   `json:"version,omitempty"`
	PURL     string   `json:"purl,omitempty"`
	CPE      string   `json:"cpe,omitempty"`
	Supplier string   `json:"supplier,omitempty"` // supplier / originator / publisher, as given
	Hashes   []Hash   `json:"hashes,omitempty"`
	Licenses []string `json:"licenses,omitempty"` // SPDX IDs or expressions
	// FDA premarket guidance V.A.4 asks, per component, for the level of support and the
	// end-of-support date. Read from the SBOM's own properties where present, or from a sidecar.
	Support      string `json:"support,omitempty"`        // SupportActive | SupportEnded | SupportAbandoned | SupportUnknown
	EndOfSupport string `json:"end_of_support,omitempty"` // YYYY-MM-DD
	// SupportNote keeps what the SBOM or sidecar said about support that is not a level or a
	// date: free text such as "Open source" where a date was expected, or a justification
	// (cdx:fda:justification) for a missing date.
	SupportNote string `json:"support_note,omitempty"`
	// SupportSource says where Support/EndOfSupport came from: "sbom" or "sidecar".
	SupportSource string `json:"support_source,omitempty"`
	// Parent is the Ref of the component this one is nested in (CycloneDX assemblies), if any.
	Parent string `json:"parent,omitempty"`
}

// Levels of support a component's maker gives (FDA premarket guidance V.A.4).
const (
	SupportActive    = "actively-maintained"
	SupportEnded     = "no-longer-maintained"
	SupportAbandoned = "abandoned"
	SupportUnknown   = "unknown"
)

// Hash is a component digest.
type Hash struct {
	Algorithm string `json:"alg"`
	Value     string `json:"value"`
}

// Dependency says that Ref depends directly on DependsOn.
type Dependency struct {
	Ref       string   `json:"ref"`
	DependsOn []string `json:"depends_on"`
}
