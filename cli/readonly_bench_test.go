package cli

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/vigil-med/vigil/sbom"
	"github.com/vigil-med/vigil/store"
	"github.com/vigil-med/vigil/vuln"
)

// BenchmarkScanOpen compares how `vigil scan --db` opens the vulnerability database: as it did
// before read-only opening (read-write, journal_mode=WAL, migrate) and as it does now
// (read-only, schema check; immutable when no other process has the file open, through the WAL
// when one has). "scan" adds the match of the SBOM's components, as `vigil scan` runs it.
//
// With VIGIL_BENCH_VULNDB=FILE (a database made by `vigil vulndb import`) and
// VIGIL_BENCH_SBOM=FILE it measures real data, for example
//
//	VIGIL_BENCH_VULNDB=/tmp/v.db VIGIL_BENCH_SBOM=../../shared/data/sboms/generated/prometheus-d15adb9-syft.cdx.json \
//	  go test ./cli -run '^$' -bench ScanOpen -count 10
//
// otherwise the test advisories and SBOM of testdata.
func BenchmarkScanOpen(b *testing.B) {
	ctx := context.Background()
	src, sbomFile := os.Getenv("VIGIL_BENCH_VULNDB"), os.Getenv("VIGIL_BENCH_SBOM")
	if sbomFile == "" {
		sbomFile = testSBOM
	}
	dir := b.TempDir()
	if src == "" {
		src = filepath.Join(dir, "src.db")
		var code int
		if code = Run(ctx, []string{"vulndb", "import", testOSVDir, testEPSS, "--db", src}, nil, discardW{}, discardW{}); code != 0 {
			b.Fatalf("import exit %d", code)
		}
	}
	data, err := os.ReadFile(src)
	if err != nil {
		b.Fatal(err)
	}
	doc, err := sbom.ParseFileInventory(sbomFile)
	if err != nil {
		b.Fatal(err)
	}
	comps := make([]vuln.Component, 0, len(doc.Components))
	for _, c := range doc.Components {
		comps = append(comps, vuln.Component{Name: c.Name, Version: c.Version, PURL: c.PURL})
	}
	copyDB := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			b.Fatal(err)
		}
		return p
	}
	before := func(p string) (*store.Store, error) { // the open of vulnDBFlags before read-only
		st, err := store.Open(ctx, store.Config{SQLiteFile: p})
		if err != nil {
			return nil, err
		}
		return st, st.Migrate(ctx)
	}
	after := func(p string) (*store.Store, error) { return openReadOnly(ctx, store.Config{SQLiteFile: p}, p) }
	rw, ro, live := copyDB("rw.db"), copyDB("ro.db"), copyDB("live.db")
	// live.db is held open by a writer, as the application database of a running server is:
	// its -wal and -shm exist, so the read-only open goes through the WAL.
	holder, err := store.Open(ctx, store.Config{SQLiteFile: live})
	if err != nil {
		b.Fatal(err)
	}
	defer holder.Close()

	for _, c := range []struct {
		name string
		open func(string) (*store.Store, error)
		file string
	}{{"readwrite-migrate", before, rw}, {"readonly-immutable", after, ro}, {"readonly-wal", after, live}} {
		for _, withScan := range []bool{false, true} {
			name := "open/" + c.name
			if withScan {
				name = "scan/" + c.name
			}
			b.Run(name, func(b *testing.B) {
				for b.Loop() {
					st, err := c.open(c.file)
					if err != nil {
						b.Fatal(err)
					}
					if withScan {
						if _, err := st.AdvisoryCount(ctx); err != nil {
							b.Fatal(err)
						}
						if _, err := vuln.Match(ctx, st, comps); err != nil {
							b.Fatal(err)
						}
					}
					if err := st.Close(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

type discardW struct{}

func (discardW) Write(p []byte) (int, error) { return len(p), nil }
