package vuln

import "github.com/google/osv-scalibr/semantic"

// versionCache memoises semantic.Parse per (ecosystem, version string), errors included, for the
// lifetime of one [Match] call: the component versions and every listed version and range event
// of the advisories are parsed once, not once per (package version, affected entry). It lives
// only as long as the call, so it holds at most the distinct version strings of the advisories
// and components that call looked at. semantic versions are values compared without being
// modified, so sharing one parse between comparisons is safe. A nil cache parses every time.
type versionCache struct {
	m map[verKey]parsedVersion
}

type verKey struct{ eco, s string }

type parsedVersion struct {
	v   semantic.Version
	err error
}

func newVersionCache() *versionCache { return &versionCache{m: map[verKey]parsedVersion{}} }

// parse is semantic.Parse of s in eco (a semantic ecosystem, see semanticEcosystem).
func (c *versionCache) parse(s, eco string) (semantic.Version, error) {
	if c == nil {
		return semantic.Parse(s, eco)
	}
	k := verKey{eco, s}
	if p, ok := c.m[k]; ok {
		return p.v, p.err
	}
	v, err := semantic.Parse(s, eco)
	c.m[k] = parsedVersion{v, err}
	return v, err
}
