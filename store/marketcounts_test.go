package store

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// groupByCounts is the oracle for MarketStatusCounts: every assessment read back and counted in
// Go, the market being the upper-cased requirement ID up to its first '.'.
func groupByCounts(t testing.TB, s *Store) map[int64]map[string]map[string]int {
	t.Helper()
	rows, err := s.rdb.Query("SELECT device_version_id, requirement_id, status FROM assessments")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int64]map[string]map[string]int{}
	for rows.Next() {
		var (
			id      int64
			rid, st string
		)
		if err := rows.Scan(&id, &rid, &st); err != nil {
			t.Fatal(err)
		}
		mk, _, _ := strings.Cut(rid, ".")
		mk = strings.ToUpper(mk)
		if out[id] == nil {
			out[id] = map[string]map[string]int{}
		}
		if out[id][mk] == nil {
			out[id][mk] = map[string]int{}
		}
		out[id][mk][st]++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkCounts asserts that MarketStatusCounts equals the oracle and that the summary table holds
// no zero rows.
func checkCounts(t testing.TB, s *Store, when string) {
	t.Helper()
	got, err := s.MarketStatusCounts(ctx)
	if err != nil {
		t.Fatalf("%s: %v", when, err)
	}
	want := groupByCounts(t, s)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("%s: MarketStatusCounts differs from GROUP BY (-want +got):\n%s", when, diff)
	}
	if n := rawInt(t, s, "SELECT count(*) FROM assessment_counts WHERE n <= 0"); n != 0 {
		t.Errorf("%s: %d summary rows with a count of 0 or less", when, n)
	}
}

func TestMarketStatusCounts(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store, _ Config) {
		checkCounts(t, s, "empty")
		if got := must[map[int64]map[string]map[string]int](t)(s.MarketStatusCounts(ctx)); len(got) != 0 {
			t.Errorf("empty database: %v", got)
		}
		v1 := newVersion(t, s, "Pump", "1.0")
		v2 := newVersion(t, s, "Pump", "2.0")
		set := func(v DeviceVersion, rid, st string) {
			t.Helper()
			must[Assessment](t)(s.SetAssessment(ctx, "alice", Assessment{DeviceVersionID: v.ID, RequirementID: rid, Status: st}))
		}

		// Inserts, one at a time, in every market; "US." and "us." prefixes are one market; an
		// ID without a dot is its own market.
		set(v1, "us.fdca-524b.sbom", StatusMet)
		set(v1, "us.fdca-524b.plan", StatusMet)
		set(v1, "US.qmsr.design", StatusInProgress)
		set(v1, "eu.mdr.annex-i", StatusNotMet)
		set(v1, "ca.mdr.cyber", StatusNotApplicable)
		set(v1, "uk.psti.passwords", StatusNotStarted)
		set(v1, "nodot", StatusMet)
		set(v2, "us.fdca-524b.sbom", StatusInProgress)
		checkCounts(t, s, "after inserts")
		got := must[map[int64]map[string]map[string]int](t)(s.MarketStatusCounts(ctx))
		want := map[int64]map[string]map[string]int{
			v1.ID: {"US": {StatusMet: 2, StatusInProgress: 1}, "EU": {StatusNotMet: 1}, "CA": {StatusNotApplicable: 1},
				"UK": {StatusNotStarted: 1}, "NODOT": {StatusMet: 1}},
			v2.ID: {"US": {StatusInProgress: 1}},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("counts (-want +got):\n%s", diff)
		}

		// Status changes; the last US in-progress of v1 leaves, so its row goes.
		set(v1, "US.qmsr.design", StatusMet)
		set(v1, "eu.mdr.annex-i", StatusMet)
		checkCounts(t, s, "after status changes")
		if got := must[map[int64]map[string]map[string]int](t)(s.MarketStatusCounts(ctx)); got[v1.ID]["US"][StatusMet] != 3 || len(got[v1.ID]["US"]) != 1 {
			t.Errorf("v1 US after changes: %v", got[v1.ID]["US"])
		}

		// A change that keeps the status (owner only) leaves the counts alone; so does a no-op.
		must[Assessment](t)(s.SetAssessment(ctx, "bob", Assessment{DeviceVersionID: v1.ID, RequirementID: "nodot", Status: StatusMet, Owner: "QA", DueDate: "2030-01-02"}))
		set(v1, "nodot", StatusMet)
		checkCounts(t, s, "after owner change")

		// A batch mixing inserts, changes and no-ops.
		batch := []Assessment{
			{DeviceVersionID: v2.ID, RequirementID: "us.fdca-524b.sbom", Status: StatusMet},
			{DeviceVersionID: v2.ID, RequirementID: "eu.mdr.annex-i", Status: StatusNotMet},
			{DeviceVersionID: v2.ID, RequirementID: "eu.nis2.report", Status: StatusNotMet},
			{DeviceVersionID: v1.ID, RequirementID: "ca.mdr.cyber", Status: StatusNotApplicable}, // unchanged
			{DeviceVersionID: v1.ID, RequirementID: "uk.psti.passwords", Status: StatusMet},
		}
		if n := must[int](t)(s.SetAssessments(ctx, "alice", batch)); n != 4 {
			t.Errorf("SetAssessments changed %d, want 4", n)
		}
		checkCounts(t, s, "after SetAssessments")

		// A failing batch rolls the counts back with the assessments.
		_, err := s.SetAssessments(ctx, "alice", []Assessment{
			{DeviceVersionID: v2.ID, RequirementID: "uk.psti.passwords", Status: StatusMet},
			{DeviceVersionID: v2.ID, RequirementID: "uk.psti.updates", Status: "bogus"},
		})
		wantErr(t, err, ErrInvalid, "bad batch")
		checkCounts(t, s, "after failed batch")

		// Changes made outside the store's API: deletes, and updates that move an assessment
		// to another requirement (market) or version.
		rawExec(t, s, "DELETE FROM assessments WHERE device_version_id = ? AND requirement_id = ?", v1.ID, "nodot")
		checkCounts(t, s, "after delete")
		rawExec(t, s, "UPDATE assessments SET requirement_id = ? WHERE device_version_id = ? AND requirement_id = ?", "uk.moved", v2.ID, "eu.nis2.report")
		checkCounts(t, s, "after requirement move")
		rawExec(t, s, "UPDATE assessments SET device_version_id = ?, status = ? WHERE device_version_id = ? AND requirement_id = ?", v2.ID, StatusInProgress, v1.ID, "us.fdca-524b.plan")
		checkCounts(t, s, "after version move")
		rawExec(t, s, "UPDATE assessments SET status = ?", StatusNotStarted)
		checkCounts(t, s, "after bulk update")
		rawExec(t, s, "DELETE FROM assessments WHERE device_version_id = ?", v2.ID)
		checkCounts(t, s, "after bulk delete")
		if s.Dialect() == DialectPostgres {
			rawExec(t, s, "TRUNCATE assessments")
			checkCounts(t, s, "after truncate")
		}
		rawExec(t, s, "DELETE FROM assessments")
		checkCounts(t, s, "after deleting all")
		if n := rawInt(t, s, "SELECT count(*) FROM assessment_counts"); n != 0 {
			t.Errorf("%d summary rows left", n)
		}
		verifyOK(t, s)
	})
}

// TestMarketStatusCountsRandom applies random batches and compares after each.
func TestMarketStatusCountsRandom(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store, _ Config) {
		var versions []DeviceVersion
		for i := range 3 {
			versions = append(versions, newVersion(t, s, "Device", fmt.Sprint(i)))
		}
		markets := []string{"us", "ca", "eu", "uk", "US"}
		r := rand.New(rand.NewPCG(1, 2))
		for round := range 15 {
			var batch []Assessment
			seen := map[string]bool{}
			for range 1 + r.IntN(25) {
				a := Assessment{
					DeviceVersionID: versions[r.IntN(len(versions))].ID,
					RequirementID:   fmt.Sprintf("%s.r%d", markets[r.IntN(len(markets))], r.IntN(8)),
					Status:          Statuses[r.IntN(len(Statuses))],
				}
				if !seen[a.key()] {
					seen[a.key()] = true
					batch = append(batch, a)
				}
			}
			if r.IntN(3) == 0 {
				must[Assessment](t)(s.SetAssessment(ctx, "alice", batch[0]))
			} else {
				must[int](t)(s.SetAssessments(ctx, "alice", batch))
			}
			if r.IntN(4) == 0 {
				rawExec(t, s, "DELETE FROM assessments WHERE device_version_id = ? AND requirement_id LIKE ?", versions[r.IntN(len(versions))].ID, markets[r.IntN(4)]+".%")
			}
			checkCounts(t, s, fmt.Sprintf("round %d", round))
		}
	})
}

// TestMarketCountsMigration: migration 00002 backfills the summary table from the assessments
// stored under schema version 1, and its down migration leaves version 1 intact.
func TestMarketCountsMigration(t *testing.T) {
	for _, d := range testDBs() {
		t.Run(d.name, func(t *testing.T) {
			s := open(t, d.fresh(t))
			p, err := s.provider()
			noErr(t, err)
			_, err = p.UpTo(ctx, 1)
			noErr(t, err)
			if cur := must[int64](t)(p.GetDBVersion(ctx)); cur != 1 {
				t.Fatalf("schema version %d, want 1", cur)
			}
			// Assessments written by a version-1 vigil.
			var versions []DeviceVersion
			for i := range 4 {
				versions = append(versions, newVersion(t, s, "Legacy", fmt.Sprint(i)))
			}
			var batch []Assessment
			for i, v := range versions {
				for j := range 40 {
					batch = append(batch, Assessment{DeviceVersionID: v.ID, RequirementID: fmt.Sprintf("%s.req-%d", []string{"us", "ca", "eu", "uk"}[j%4], j),
						Status: Statuses[(i+j*j)%len(Statuses)]})
				}
			}
			must[int](t)(s.SetAssessments(ctx, "alice", batch))
			want := groupByCounts(t, s)

			noErr(t, s.Migrate(ctx))
			noErr(t, s.CheckSchema(ctx))
			checkCounts(t, s, "after migrating to 2")
			if got := must[map[int64]map[string]map[string]int](t)(s.MarketStatusCounts(ctx)); len(got) != len(versions) || cmp.Diff(want, got) != "" {
				t.Fatalf("backfilled counts differ:\n%s", cmp.Diff(want, got))
			}
			// The triggers work on the backfilled rows.
			must[Assessment](t)(s.SetAssessment(ctx, "alice", Assessment{DeviceVersionID: versions[0].ID, RequirementID: "us.req-0", Status: StatusNotMet}))
			checkCounts(t, s, "after a change")

			// Down to 1 and up again: the table is rebuilt from the assessments.
			_, err = p.DownTo(ctx, 1)
			noErr(t, err)
			must[Assessment](t)(s.SetAssessment(ctx, "alice", Assessment{DeviceVersionID: versions[1].ID, RequirementID: "eu.req-2", Status: StatusMet}))
			noErr(t, s.Migrate(ctx))
			checkCounts(t, s, "after down and up")

			// Migration 00001 is untouched: audit_log is still append-only.
			if _, err := s.wdb.Exec("UPDATE audit_log SET actor = 'mallory'"); err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("audit_log update: %v", err)
			}
			if _, err := s.wdb.Exec("DELETE FROM audit_log"); err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("audit_log delete: %v", err)
			}
			verifyOK(t, s)
		})
	}
}

// BenchmarkMarketStatusCounts: the dashboard's counts over 1,000 device versions x 300
// assessments in four markets (up to 20,000 summary rows).
func BenchmarkMarketStatusCounts(b *testing.B) {
	const versions, perVersion = 1000, 300
	markets := []string{"us", "ca", "eu", "uk"}
	for _, d := range testDBs() {
		b.Run(d.name, func(b *testing.B) {
			s := open(b, d.fresh(b))
			noErr(b, s.Migrate(ctx))
			now := time.Now()
			noErr(b, s.Transact(ctx, func(tx *Tx) error {
				var pid int64
				if err := tx.QueryRowContext(ctx, "INSERT INTO products (name, created_at, updated_at) VALUES (?, ?, ?) RETURNING id", "p", now, now).Scan(&pid); err != nil {
					return err
				}
				for v := range versions {
					var vid int64
					if err := tx.QueryRowContext(ctx, "INSERT INTO device_versions (product_id, version, profile_yaml, created_at) VALUES (?, ?, ?, ?) RETURNING id",
						pid, fmt.Sprint(v), profileText, now).Scan(&vid); err != nil {
						return err
					}
					var q strings.Builder
					q.WriteString("INSERT INTO assessments (device_version_id, requirement_id, status, updated_at, updated_by) VALUES ")
					args := make([]any, 0, perVersion*5)
					for r := range perVersion {
						if r > 0 {
							q.WriteString(", ")
						}
						q.WriteString("(?, ?, ?, ?, ?)")
						args = append(args, vid, fmt.Sprintf("%s.req-%d", markets[r%len(markets)], r), Statuses[(r/4+v)%len(Statuses)], now, "seed")
					}
					if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
						return err
					}
				}
				return nil
			}))
			if s.Dialect() == DialectPostgres {
				rawExec(b, s, "VACUUM ANALYZE assessment_counts")
			} else {
				rawExec(b, s, "ANALYZE")
			}
			if n := rawInt(b, s, "SELECT count(*) FROM assessment_counts"); n != int64(versions*len(markets)*len(Statuses)) {
				b.Fatalf("%d summary rows", n)
			}
			for b.Loop() {
				counts, err := s.MarketStatusCounts(ctx)
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
