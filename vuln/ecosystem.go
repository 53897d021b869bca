package vuln

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// OSV ecosystem names Vigil maps package URLs onto.
const (
	EcoGo        = "Go"
	EcoPyPI      = "PyPI"
	EcoCrates    = "crates.io"
	EcoNpm       = "npm"
	EcoMaven     = "Maven"
	EcoNuGet     = "NuGet"
	EcoRubyGems  = "RubyGems"
	EcoPackagist = "Packagist"
	EcoHex       = "Hex"
	EcoPub       = "Pub"
	EcoSwiftURL  = "SwiftURL"
	EcoActions   = "GitHub Actions"
)

// purlEcosystems maps a package-URL type onto its OSV ecosystem.
var purlEcosystems = map[string]string{
	"golang":        EcoGo,
	"pypi":          EcoPyPI,
	"cargo":         EcoCrates,
	"npm":           EcoNpm,
	"maven":         EcoMaven,
	"nuget":         EcoNuGet,
	"gem":           EcoRubyGems,
	"composer":      EcoPackagist,
	"hex":           EcoHex,
	"pub":           EcoPub,
	"swift":         EcoSwiftURL,
	"githubactions": EcoActions,
	// syft writes GitHub Actions (workflow "uses:") as pkg:github/OWNER/REPO@REF. Advisories of
	// the GitHub Actions ecosystem name exactly such repositories, so the mapping is safe for
	// other GitHub purls too: a repository that is not an action has no such advisory.
	"github": EcoActions,
}

// PURL is a parsed package URL (purl-spec), as far as matching needs it.
type PURL struct {
	Type       string
	Namespace  string // decoded, "/"-separated
	Name       string // decoded
	Version    string // decoded
	Qualifiers url.Values
	Subpath    string
}

// ParsePURL parses "pkg:type/namespace/name@version?qualifiers#subpath".
func ParsePURL(s string) (PURL, error) {
	var p PURL
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), "pkg:")
	if !ok {
		return p, fmt.Errorf("package URL %q does not start with pkg:", s)
	}
	rest = strings.TrimLeft(rest, "/")
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		p.Subpath = strings.Trim(rest[i+1:], "/")
		rest = rest[:i]
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		q, err := url.ParseQuery(rest[i+1:])
		if err != nil {
			return p, fmt.Errorf("package URL %q: qualifiers: %v", s, err)
		}
		p.Qualifiers = q
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 && i > strings.LastIndexByte(rest, '/') {
		v, err := url.PathUnescape(rest[i+1:])
		if err != nil {
			return p, fmt.Errorf("package URL %q: version: %v", s, err)
		}
		p.Version = v
		rest = rest[:i]
	}
	typ, path, ok := strings.Cut(rest, "/")
	if !ok || typ == "" || path == "" {
		return p, fmt.Errorf("package URL %q: type and name required", s)
	}
	p.Type = strings.ToLower(typ)
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for i, seg := range segs {
		d, err := url.PathUnescape(seg)
		if err != nil {
			return p, fmt.Errorf("package URL %q: %v", s, err)
		}
		segs[i] = d
	}
	p.Name = segs[len(segs)-1]
	p.Namespace = strings.Join(segs[:len(segs)-1], "/")
	if p.Name == "" {
		return p, fmt.Errorf("package URL %q: empty name", s)
	}
	return p, nil
}

// Package is what a component is looked up by: an OSV ecosystem, the package name normalised
// for that ecosystem, and the version as the ecosystem's advisories write it.
type Package struct {
	Ecosystem string
	Name      string
	Version   string
	// VersionPrefix is what was stripped from the SBOM's version ("v" for Go modules, "go" for
	// the Go standard library); fixed versions are reported with it put back.
	VersionPrefix string
}

// PackageOf maps a package URL onto an OSV package. ok is false for purl types Vigil does not
// map (deb, rpm, apk, generic, ...): their advisories need the distribution release, which an
// SBOM rarely states reliably.
func PackageOf(purl string) (pkg Package, ok bool) {
	p, err := ParsePURL(purl)
	if err != nil {
		return pkg, false
	}
	eco, ok := purlEcosystems[p.Type]
	if !ok {
		return pkg, false
	}
	name := p.Name
	switch eco {
	case EcoMaven:
		if p.Namespace != "" {
			name = p.Namespace + ":" + p.Name
		}
	case EcoGo, EcoNpm, EcoPackagist, EcoSwiftURL, EcoActions:
		if p.Namespace != "" {
			name = p.Namespace + "/" + p.Name
		}
	}
	pkg = Package{Ecosystem: eco, Name: NormalizeName(eco, name), Version: p.Version}
	if eco == EcoGo {
		if pkg.Name == "std" || pkg.Name == "stdlib" {
			// The Go vulnerability database calls the standard library "stdlib" and writes its
			// versions without the "go" prefix that SBOM tools keep (std@go1.21.0).
			pkg.Name = "stdlib"
			if v, ok := strings.CutPrefix(pkg.Version, "go"); ok {
				pkg.Version, pkg.VersionPrefix = v, "go"
			}
		}
		if v, ok := strings.CutPrefix(pkg.Version, "v"); ok {
			pkg.Version, pkg.VersionPrefix = v, "v"
		}
		// Go modules with "+incompatible" are compared without it, as the Go database does.
		pkg.Version = strings.TrimSuffix(pkg.Version, "+incompatible")
	}
	return pkg, true
}

var pep503 = regexp.MustCompile(`[-_.]+`)

// NormalizeName is the lookup form of a package name in an ecosystem: PyPI names per PEP 503
// (lower case, runs of "-", "_", "." become "-"); NuGet, Packagist and npm names are
// case-insensitive and lower-cased; others are kept as they are.
func NormalizeName(ecosystem, name string) string {
	name = strings.TrimSpace(name)
	base, _, _ := strings.Cut(ecosystem, ":")
	switch base {
	case EcoPyPI:
		return pep503.ReplaceAllString(strings.ToLower(name), "-")
	case EcoNuGet, EcoPackagist, EcoNpm:
		return strings.ToLower(name)
	case EcoSwiftURL:
		n := strings.TrimPrefix(strings.TrimPrefix(name, "https://"), "http://")
		return strings.TrimSuffix(n, ".git")
	}
	return name
}
