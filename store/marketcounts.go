package store

import (
	"context"
	"fmt"
	"strings"
)

// MarketStatusCounts returns, for every device version with stored assessments, the number of
// assessments per market and status. The market is the jurisdiction prefix of the requirement ID
// (the text before its first '.': "us", "ca", "eu", "uk"), upper-cased. Only non-zero counts are
// present.
//
// It reads the assessment_counts summary table, which triggers on assessments keep equal to a
// GROUP BY over all assessments (migration 00002), so the portfolio dashboard does not scan every
// assessment. The query pivots the statuses into columns: one row per version and market.
func (s *Store) MarketStatusCounts(ctx context.Context) (map[int64]map[string]map[string]int, error) {
	rows, err := s.query(ctx, marketCountsQuery)
	if err != nil {
		return nil, fmt.Errorf("store: market status counts: %w", err)
	}
	defer rows.Close()
	out := map[int64]map[string]map[string]int{}
	var (
		lastID   int64
		byMarket map[string]map[string]int
		n        = make([]int64, len(Statuses))
		dest     = make([]any, 2+len(Statuses))
		id       int64
		market   string
	)
	dest[0], dest[1] = &id, &market
	for i := range n {
		dest[2+i] = &n[i]
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("store: market status counts: %w", err)
		}
		if byMarket == nil || id != lastID {
			if byMarket = out[id]; byMarket == nil {
				byMarket = make(map[string]map[string]int, 4)
				out[id] = byMarket
			}
			lastID = id
		}
		var m map[string]int
		for i, c := range n {
			if c <= 0 {
				continue
			}
			if m == nil {
				if m = byMarket[market]; m == nil {
					m = make(map[string]int, len(Statuses))
					byMarket[market] = m
				}
			}
			m[Statuses[i]] = int(c)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: market status counts: %w", err)
	}
	return out, nil
}

// marketCountsQuery: one row per version and market, one count column per status (in the order
// of Statuses).
var marketCountsQuery = func() string {
	var b strings.Builder
	b.WriteString("SELECT device_version_id, market")
	for _, st := range Statuses {
		fmt.Fprintf(&b, ", sum(CASE WHEN status = '%s' THEN n ELSE 0 END)", st)
	}
	b.WriteString(" FROM assessment_counts GROUP BY device_version_id, market")
	return b.String()
}()
