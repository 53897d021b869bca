package store

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// seedAssessments inserts products × versionsPer device versions with perVersion assessments
// each, directly (no audit), and returns the number of versions.
func seedAssessments(tb testing.TB, s *Store, versions, perVersion int) {
	tb.Helper()
	now := time.Now()
	noErr(tb, s.Transact(ctx, func(tx *Tx) error {
		var pid int64
		for v := range versions {
			if v%100 == 0 {
				if err := tx.QueryRowContext(ctx, "INSERT INTO products (name, created_at, updated_at) VALUES (?, ?, ?) RETURNING id",
					fmt.Sprintf("product %d", v/100), now, now).Scan(&pid); err != nil {
					return err
				}
			}
			var vid int64
			if err := tx.QueryRowContext(ctx, "INSERT INTO device_versions (product_id, version, profile_yaml, created_at) VALUES (?, ?, ?, ?) RETURNING id",
				pid, fmt.Sprint(v), profileText, now).Scan(&vid); err != nil {
				return err
			}
			var q strings.Builder
			q.WriteString("INSERT INTO assessments (device_version_id, requirement_id, status, owner, justification, updated_at, updated_by) VALUES ")
			args := make([]any, 0, perVersion*7)
			for r := range perVersion {
				if r > 0 {
					q.WriteString(", ")
				}
				q.WriteString("(?, ?, ?, ?, ?, ?, ?)")
				args = append(args, vid, fmt.Sprintf("regime.%d.req-%d", r%20, r), Statuses[(r+v)%len(Statuses)], "owner", "", now, "seed")
			}
			if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
				return err
			}
		}
		return nil
	}))
	if s.Dialect() == DialectPostgres {
		rawExec(tb, s, "VACUUM ANALYZE assessments")
	} else {
		rawExec(tb, s, "ANALYZE")
	}
}

// BenchmarkAssessmentCounts: the dashboard query over 1,000 device versions × 300 assessments.
func BenchmarkAssessmentCounts(b *testing.B) {
	const versions, perVersion = 1000, 300
	for _, d := range testDBs() {
		b.Run(d.name, func(b *testing.B) {
			s := open(b, d.fresh(b))
			noErr(b, s.Migrate(ctx))
			seedAssessments(b, s, versions, perVersion)
			for b.Loop() {
				counts, err := s.AssessmentCountsByVersion(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if len(counts) != versions {
					b.Fatalf("%d versions counted", len(counts))
				}
			}
		})
	}
}

// TestAssessmentCountsScale runs the benchmark's data once as a test, so the query is checked
// (and timed loosely) on every run.
func TestAssessmentCountsScale(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	eachDB(t, func(t *testing.T, s *Store, _ Config) {
		const versions, perVersion = 1000, 300
		seedAssessments(t, s, versions, perVersion)
		start := time.Now()
		counts := must[map[int64]map[string]int](t)(s.AssessmentCountsByVersion(ctx))
		took := time.Since(start)
		total := 0
		for _, m := range counts {
			for _, n := range m {
				total += n
			}
		}
		if len(counts) != versions || total != versions*perVersion {
			t.Errorf("%d versions, %d assessments", len(counts), total)
		}
		for _, m := range counts {
			if len(m) != len(Statuses) || m[StatusMet] != perVersion/len(Statuses) {
				t.Errorf("counts %v", m)
				break
			}
		}
		t.Logf("%s: counts over %d assessments in %v", s.Dialect(), total, took)
		if took > 5*time.Second {
			t.Errorf("too slow: %v", took)
		}
	})
}
