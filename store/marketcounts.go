package store

import (
	"context"
	"fmt"
	"strings"
)

// MarketStatusCounts returns, for every device version with stored assessments, the number of
// assessments per market and status. The market is the jurisdiction prefix of the requirement ID
// ("us", "ca", "eu", "uk"), upper-cased. One grouped query serves the portfolio dashboard.
func (s *Store) MarketStatusCounts(ctx context.Context) (map[int64]map[string]map[string]int, error) {
	rows, err := s.query(ctx, `SELECT device_version_id, substr(requirement_id, 1, 2) AS market, status, count(*)
		FROM assessments GROUP BY device_version_id, substr(requirement_id, 1, 2), status`)
	if err != nil {
		return nil, fmt.Errorf("store: market status counts: %w", err)
	}
	defer rows.Close()
	out := map[int64]map[string]map[string]int{}
	for rows.Next() {
		var (
			id         int64
			market, st string
			n          int
		)
		if err := rows.Scan(&id, &market, &st, &n); err != nil {
			return nil, fmt.Errorf("store: market status counts: %w", err)
		}
		byMarket := out[id]
		if byMarket == nil {
			byMarket = map[string]map[string]int{}
			out[id] = byMarket
		}
		mk := strings.ToUpper(market)
		if byMarket[mk] == nil {
			byMarket[mk] = map[string]int{}
		}
		byMarket[mk][st] = n
	}
	return out, rows.Err()
}
