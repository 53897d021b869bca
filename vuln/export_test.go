package vuln

import "context"

// MatchUncached is Match without the version cache, for comparison in vuln_test.
func MatchUncached(ctx context.Context, db DB, comps []Component) (*Result, error) {
	return match(ctx, db, comps, nil)
}
