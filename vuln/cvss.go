package vuln

import (
	"fmt"
	"strings"

	cvss30 "github.com/pandatix/go-cvss/30"
	cvss31 "github.com/pandatix/go-cvss/31"
	cvss40 "github.com/pandatix/go-cvss/40"
)

// CVSSBaseScore parses a CVSS v3.0, v3.1 or v4.0 vector and returns its base score (for v4.0 the
// score of the metrics the vector gives: CVSS-B for a base-only vector).
func CVSSBaseScore(vector string) (float64, error) {
	v := strings.TrimSpace(vector)
	switch {
	case strings.HasPrefix(v, "CVSS:3.1/"):
		c, err := cvss31.ParseVector(v)
		if err != nil {
			return 0, fmt.Errorf("CVSS v3.1 vector %q: %w", v, err)
		}
		return c.BaseScore(), nil
	case strings.HasPrefix(v, "CVSS:3.0/"):
		c, err := cvss30.ParseVector(v)
		if err != nil {
			return 0, fmt.Errorf("CVSS v3.0 vector %q: %w", v, err)
		}
		return c.BaseScore(), nil
	case strings.HasPrefix(v, "CVSS:4.0/"):
		c, err := cvss40.ParseVector(v)
		if err != nil {
			return 0, fmt.Errorf("CVSS v4.0 vector %q: %w", v, err)
		}
		return c.Score(), nil
	}
	return 0, fmt.Errorf("%q is not a CVSS v3.0, v3.1 or v4.0 vector", v)
}
