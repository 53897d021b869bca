package vuln_test

import (
	"cmp"
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/osv-scalibr/semantic"
	"github.com/vigil-med/vigil/store"
	"github.com/vigil-med/vigil/vuln"
)

// memDB is an in-memory vuln.DB over parsed advisories, indexed by (ecosystem, name): it
// measures the matcher without SQL.
type memDB struct {
	advs     map[string]*vuln.Advisory
	affected map[[2]string][]vuln.AffectedRow
}

func newMemDB(advs []*vuln.Advisory) *memDB {
	db := &memDB{advs: map[string]*vuln.Advisory{}, affected: map[[2]string][]vuln.AffectedRow{}}
	for _, a := range advs {
		db.advs[a.ID] = a
		if a.Withdrawn != nil {
			continue
		}
		for _, af := range a.Affected {
			k := [2]string{af.Ecosystem, af.Name}
			db.affected[k] = append(db.affected[k], vuln.AffectedRow{AdvisoryID: a.ID, Affected: af})
		}
	}
	return db
}

func (db *memDB) AffectedFor(_ context.Context, eco string, names []string) ([]vuln.AffectedRow, error) {
	var out []vuln.AffectedRow
	for _, n := range names {
		out = append(out, db.affected[[2]string{eco, n}]...)
	}
	return out, nil
}

func (db *memDB) AdvisoryInfo(_ context.Context, ids []string) (map[string]vuln.AdvisoryInfo, error) {
	out := map[string]vuln.AdvisoryInfo{}
	for _, id := range ids {
		if a, ok := db.advs[id]; ok {
			out[id] = vuln.AdvisoryInfo{ID: id, Summary: a.Summary, Aliases: a.Aliases, Severity: a.Severity,
				Informational: a.Informational, Modified: a.Modified, Published: a.Published}
		}
	}
	return out, nil
}

func (db *memDB) KEVFor(context.Context, []string) (map[string]vuln.KEVEntry, error) {
	return map[string]vuln.KEVEntry{}, nil
}

func (db *memDB) EPSSFor(context.Context, []string) (map[string]vuln.EPSSScore, error) {
	return map[string]vuln.EPSSScore{}, nil
}

// readAdvisories reads an OSV feed (path relative to ../shared/data).
func readAdvisories(tb testing.TB, rel string) []*vuln.Advisory {
	tb.Helper()
	src, err := vuln.Detect(shared(tb, rel))
	if err != nil {
		tb.Fatal(err)
	}
	var out []*vuln.Advisory
	if err := vuln.ReadOSV(ctx, src, vuln.ReadOptions{}, func(a *vuln.Advisory) error {
		a.Raw, a.RawDeflate = nil, nil
		out = append(out, a)
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
	return out
}

// pypiComponents builds a large Python environment from the PyPA database: every PyPI package
// it names, at three versions the advisories themselves name (the 25th, 50th and 90th
// percentile of the package's listed, introduced and fixed versions in PEP 440 order), so that
// some components are hit and some are not, as in a real monorepo lock file. (There is no
// Python SBOM in shared/data.)
func pypiComponents(advs []*vuln.Advisory) []vuln.Component {
	versions := map[string]map[string]bool{}
	for _, a := range advs {
		for _, af := range a.Affected {
			if af.Ecosystem != vuln.EcoPyPI {
				continue
			}
			set := versions[af.Name]
			if set == nil {
				set = map[string]bool{}
				versions[af.Name] = set
			}
			for _, v := range af.Versions {
				set[v] = true
			}
			for _, r := range af.Ranges {
				for _, e := range r.Events {
					if v := cmp.Or(e.Introduced, e.Fixed, e.LastAffected); v != "" && v != "0" {
						set[v] = true
					}
				}
			}
		}
	}
	var comps []vuln.Component
	names := make([]string, 0, len(versions))
	for n := range versions {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		type pv struct {
			s string
			v semantic.Version
		}
		var list []pv
		for s := range versions[name] {
			if v, err := semantic.Parse(s, vuln.EcoPyPI); err == nil {
				list = append(list, pv{s, v})
			}
		}
		if len(list) == 0 {
			continue
		}
		slices.SortFunc(list, func(a, b pv) int {
			c, _ := a.v.Compare(b.v)
			return cmp.Or(c, cmp.Compare(a.s, b.s))
		})
		var picked []string
		for _, q := range []int{25, 50, 90} {
			if s := list[(len(list)-1)*q/100].s; !slices.Contains(picked, s) {
				picked = append(picked, s)
			}
		}
		for _, s := range picked {
			comps = append(comps, vuln.Component{Name: name, Version: s, PURL: "pkg:pypi/" + name + "@" + s})
		}
	}
	return comps
}

// BenchmarkMatchPyPI matches a large Python environment (every package of the PyPA database at
// three versions: 1,886 components) against the 2,661 PyPA advisories, many with long
// `versions` lists: once from memory (the matcher alone) and once from SQLite (as `vigil scan`).
func BenchmarkMatchPyPI(b *testing.B) {
	advs := readAdvisories(b, "osv/pypa-advisory-database-osv-json.zip")
	comps := pypiComponents(advs)
	dbs := []struct {
		name string
		db   func(b *testing.B) vuln.DB
	}{
		{"memory", func(*testing.B) vuln.DB { return newMemDB(advs) }},
		{"sqlite", func(b *testing.B) vuln.DB {
			return loadDB(b, store.Config{SQLiteFile: filepath.Join(b.TempDir(), "v.db")}, "osv/pypa-advisory-database-osv-json.zip")
		}},
	}
	for _, d := range dbs {
		b.Run(d.name, func(b *testing.B) {
			db := d.db(b)
			b.ReportAllocs()
			var n int
			for b.Loop() {
				res, err := vuln.Match(ctx, db, comps)
				if err != nil {
					b.Fatal(err)
				}
				n = len(res.Findings)
			}
			b.ReportMetric(float64(len(comps)), "components")
			b.ReportMetric(float64(n), "findings")
		})
	}
}
