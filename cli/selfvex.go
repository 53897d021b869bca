package cli

import (
	"fmt"
	"runtime/debug"
	"time"

	"github.com/vigil-med/vigil/vex"
)

// selfAssessment is Vigil's own decision about an advisory that matches one of its modules.
type selfAssessment struct {
	Advisory      string
	Aliases       []string
	Summary       string
	Module        string // the Go module the advisory names
	Justification vex.Justification
	Impact        string
	// Packages are the advisory's affected packages (the Go database's ecosystem_specific
	// imports): for vulnerable_code_not_present, TestSelfVEXClaims checks with `go list -deps`
	// that none of them is linked into vigil.
	Packages []string
	Date     time.Time
}

// selfAssessments are the advisories of Vigil's own SBOM (`vigil sbom self`) that Vigil has
// assessed as not affecting it. Each one that claims vulnerable_code_not_present names the
// packages it concerns, and a test keeps the claim true.
var selfAssessments = []selfAssessment{{
	Advisory: "GO-2026-5932",
	Summary:  "The golang.org/x/crypto/openpgp package is unmaintained, unsafe by design, and has known security issues",
	Module:   "golang.org/x/crypto", Justification: vex.VulnerableCodeNotPresent,
	Impact: "vigil uses golang.org/x/crypto only for argon2 password hashing (golang.org/x/crypto/argon2 and its blake2b dependency); " +
		"no golang.org/x/crypto/openpgp package is compiled into the binary.",
	Packages: []string{"golang.org/x/crypto/openpgp", "golang.org/x/crypto/openpgp/packet", "golang.org/x/crypto/openpgp/armor",
		"golang.org/x/crypto/openpgp/clearsign", "golang.org/x/crypto/openpgp/errors", "golang.org/x/crypto/openpgp/elgamal",
		"golang.org/x/crypto/openpgp/s2k"},
	Date: time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC),
}}

// selfVEX is the VEX document of this binary: the statements of selfAssessments whose module
// it links, about the module version it links.
func selfVEX() (*vex.Document, error) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return nil, fmt.Errorf("this binary carries no build information")
	}
	root, mainVersion := selfRoot(info)
	doc := &vex.Document{Author: "Vigil project", Product: vex.Product{ID: root, Name: "vigil", Version: mainVersion, Supplier: "Vigil project"}}
	for _, a := range selfAssessments {
		for _, m := range info.Deps {
			if m.Replace != nil {
				m = m.Replace
			}
			if m.Path != a.Module {
				continue
			}
			doc.Statements = append(doc.Statements, vex.Statement{
				Vulnerability: a.Advisory, Aliases: a.Aliases, Description: a.Summary,
				Product:   doc.Product,
				Component: vex.Component{PURL: "pkg:golang/" + m.Path + "@" + m.Version, Name: m.Path, Version: m.Version},
				Status:    vex.NotAffected, Justification: a.Justification, ImpactStatement: a.Impact,
				Author: "Vigil project", Timestamp: a.Date,
			})
			if doc.Timestamp.Before(a.Date) {
				doc.Timestamp = a.Date
			}
		}
	}
	return doc, nil
}
