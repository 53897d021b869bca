package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-med/vigil/internal/pgtest"
	"github.com/vigil-med/vigil/store"
	"github.com/vigil-med/vigil/vex"
)

// portfolioDB is a migrated application database with products and versions; args are the
// database flags to pass to vigil.
type portfolioDB struct {
	args []string
	cfg  store.Config
}

func newPortfolioDB(t *testing.T, postgres bool) portfolioDB {
	t.Helper()
	var p portfolioDB
	if postgres {
		dsn := pgtest.Fresh(t)
		p = portfolioDB{args: []string{"--database-url", dsn}, cfg: store.Config{DatabaseURL: dsn}}
	} else {
		dir := t.TempDir()
		p = portfolioDB{args: []string{"--data", dir}, cfg: store.Config{DataDir: dir}}
	}
	if r := vigil(t, append([]string{"migrate"}, p.args...)...); r.code != 0 {
		t.Fatalf("migrate: %s", r.stderr)
	}
	return p
}

// version adds a device version of product (created when missing) and returns its ID.
func (p portfolioDB) version(t *testing.T, product, version string) int64 {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, p.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ps, _ := st.ListProducts(ctx)
	var pid int64
	for _, x := range ps {
		if x.Name == product {
			pid = x.ID
		}
	}
	if pid == 0 {
		prod, err := st.CreateProduct(ctx, "setup@example.com", store.Product{Name: product, Manufacturer: "Acme Medical"})
		if err != nil {
			t.Fatal(err)
		}
		pid = prod.ID
	}
	v, err := st.CreateDeviceVersion(ctx, "setup@example.com", pid, version, "schema: vigil/device/v1\n")
	if err != nil {
		t.Fatal(err)
	}
	return v.ID
}

func (p portfolioDB) run(t *testing.T, args ...string) run {
	t.Helper()
	return vigil(t, append(args, p.args...)...)
}

func (p portfolioDB) statements(t *testing.T, versionID int64) []store.VEXStatement {
	t.Helper()
	st, err := store.Open(context.Background(), p.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	list, err := st.ListVEX(context.Background(), versionID)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// TestPortfolioCLI: SBOM import into a version, vulnerability import that reports the newly
// affected version, impact, VEX decisions, export in three formats and re-import, scan --vex and
// carry-forward to the next version.
func TestPortfolioCLI(t *testing.T) {
	for _, pg := range []bool{false, true} {
		name := "sqlite"
		if pg {
			name = "postgres"
		}
		t.Run(name, func(t *testing.T) {
			p := newPortfolioDB(t, pg)
			v1 := p.version(t, "InsuPump X2", "2.1.0")

			r := p.run(t, "sbom", "import", "--version", "InsuPump x2@2.1.0", "--label", "firmware", testSBOM, "--author", "ed@example.com")
			if r.code != 0 || !strings.Contains(r.stdout, `stored "firmware" SBOM device.cdx.json (CycloneDX 1.5, 3 components`) ||
				!strings.Contains(r.stdout, "findings: 0 open") || !strings.Contains(r.stderr, "no advisories") {
				t.Fatalf("sbom import: %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			if r := p.run(t, "sbom", "import", "--version", "1", testSBOM); r.code != 0 {
				t.Fatalf("second label: %s", r.stderr)
			}
			if r := p.run(t, "sbom", "import", "--version", "1", testSBOM); r.code != 2 || !strings.Contains(r.stderr, "already has an SBOM labelled") {
				t.Errorf("same label: %d %s", r.code, r.stderr)
			}
			if r := p.run(t, "sbom", "import", "--version", "99", testSBOM); r.code != 2 || !strings.Contains(r.stderr, "no such device version") {
				t.Errorf("unknown version: %d %s", r.code, r.stderr)
			}
			if r := p.run(t, "sbom", "import", "--version", "1", "--label", "bad", "testdata/vuln/osv/VIGIL-TEST-0001.json"); r.code != 2 || !strings.Contains(r.stderr, "VIGIL-TEST-0001.json") {
				t.Errorf("not an SBOM: %d %s", r.code, r.stderr)
			}

			// Advisories arrive: the import reports who is newly affected.
			r = p.run(t, "vulndb", "import", testOSVDir, kevFile(t))
			if r.code != 0 || !strings.Contains(r.stderr, "portfolio: findings of 1 device versions refreshed after the import: 2 new in 1 device versions") ||
				!strings.Contains(r.stderr, "InsuPump X2 2.1.0 (device version 1): VIGIL-TEST-0002 (golang.org/x/net), VIGIL-TEST-0001 (org.apache.logging.log4j/log4j-core)") {
				t.Fatalf("vulndb import: %d\n%s", r.code, r.stderr)
			}

			r = p.run(t, "impact", "CVE-2021-44228", "--format", "json")
			var imp struct {
				Schema   string
				Affected []store.ImpactEntry
			}
			if r.code != 0 || json.Unmarshal([]byte(r.stdout), &imp) != nil || imp.Schema != "vigil/impact/v1" || len(imp.Affected) != 1 ||
				imp.Affected[0].DeviceVersionID != v1 || !imp.Affected[0].KnownExploited || strings.Join(imp.Affected[0].Sources, ",") != "device,firmware" {
				t.Fatalf("impact json: %d %s %s", r.code, r.stdout, r.stderr)
			}
			r = p.run(t, "impact", "VIGIL-TEST-0002")
			if r.code != 0 || !strings.Contains(r.stdout, "1 device versions of 1 products affected (1 untriaged)") || !strings.Contains(r.stdout, "InsuPump X2  2.1.0") ||
				!strings.Contains(r.stdout, "v0.7.0") {
				t.Errorf("impact table: %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			if r := p.run(t, "impact", "CVE-1999-0001"); r.code != 2 {
				t.Errorf("unknown advisory: %d %s", r.code, r.stderr)
			}

			// Decisions.
			if r := p.run(t, "vex", "set", "--version", "1", "--advisory", "VIGIL-TEST-0001", "--status", "affected"); r.code != 2 || !strings.Contains(r.stderr, "action statement") {
				t.Errorf("affected without action: %d %s", r.code, r.stderr)
			}
			if r := p.run(t, "vex", "set", "--version", "1", "--advisory", "CVE-2099-0001", "--component", "left-pad", "--status", "fixed"); r.code != 2 || !strings.Contains(r.stderr, "no finding of CVE-2099-0001 in left-pad") {
				t.Errorf("wrong component: %d %s", r.code, r.stderr)
			}
			r = p.run(t, "vex", "set", "--version", "1", "--advisory", "CVE-2099-0001", "--component", "golang.org/x/net", "--status", "not_affected",
				"--justification", "vulnerable_code_not_in_execute_path", "--impact", "The pump never starts an HTTP/2 server.", "--author", "ann@example.com")
			if r.code != 0 || !strings.Contains(r.stdout, "VIGIL-TEST-0002 in pkg:golang/golang.org/x/net@v0.5.0 of InsuPump X2 2.1.0: not_affected (vulnerable_code_not_in_execute_path), by ann@example.com") {
				t.Fatalf("vex set: %d %s %s", r.code, r.stdout, r.stderr)
			}
			if r := p.run(t, "vex", "set", "--version", "1", "--advisory", "CVE-2021-44228", "--status", "affected", "--action", "Update to firmware 2.1.1.", "--author", "ben@example.com"); r.code != 0 {
				t.Fatalf("vex set affected: %s", r.stderr)
			}
			want := p.statements(t, v1)

			// Export in each format, re-import into the same version (nothing changes) and into
			// a version of another product (every decision arrives).
			dir := t.TempDir()
			for _, format := range vex.FormatNames {
				other := p.version(t, "Infusion Hub "+format, "1.0")
				if r := p.run(t, "sbom", "import", "--version", fmt.Sprint(other), testSBOM); r.code != 0 {
					t.Fatal(r.stderr)
				}
				file := filepath.Join(dir, "v1"+vex.FileExtension(format))
				r := p.run(t, "vex", "export", "--version", "1", "--format", format, "-o", file, "--namespace", "https://psirt.acme.example")
				if r.code != 0 {
					t.Fatalf("export %s: %s", format, r.stderr)
				}
				data, _ := os.ReadFile(file)
				if format == vex.FormatCSAF {
					if problems, err := vex.ValidateCSAF(data); err != nil || len(problems) > 0 {
						t.Errorf("CSAF export invalid: %v %v", err, problems)
					}
				}
				r = p.run(t, "vex", "import", "--version", "1", file)
				if r.code != 0 || !strings.Contains(r.stdout, "2 statements read; 0 decisions added, 0 updated, 2 unchanged") {
					t.Errorf("re-import %s: %d %s %s", format, r.code, r.stdout, r.stderr)
				}
				r = p.run(t, "vex", "import", "--version", fmt.Sprint(other), file, "--format", "json")
				var res struct{ Applied store.VEXImport }
				if r.code != 0 || json.Unmarshal([]byte(r.stdout), &res) != nil || res.Applied.Added+res.Applied.Updated != 2 {
					t.Errorf("import %s into another version: %d %s %s", format, r.code, r.stdout, r.stderr)
				}
				got := p.statements(t, other)
				if d := cmp.Diff(decisions(want), decisions(got)); d != "" {
					t.Errorf("%s round trip changed decisions (-want +got):\n%s", format, d)
				}

				// scan --vex hides what the document judges not affected.
				r = p.run(t, "scan", testSBOM, "--vex", file, "--format", "json")
				var out scanOut
				if r.code != 0 || json.Unmarshal([]byte(r.stdout), &out) != nil || len(out.Findings) != 1 || out.Findings[0].Advisory != "VIGIL-TEST-0001" ||
					!strings.Contains(r.stderr, "1 findings hidden (not_affected or fixed in") || !strings.Contains(r.stdout, `"hidden_by_vex": 1`) {
					t.Errorf("scan --vex %s: %d %s %s", format, r.code, r.stdout, r.stderr)
				}
				if r = p.run(t, "scan", testSBOM, "--vex", file); r.code != 0 || !strings.Contains(r.stdout, "Hidden by the VEX document (not_affected or fixed): 1.") {
					t.Errorf("scan --vex %s, table: %d %s", format, r.code, r.stdout)
				}
			}
			if r := p.run(t, "scan", testSBOM, "--vex", "testdata/vuln/osv/VIGIL-TEST-0001.json"); r.code != 2 || !strings.Contains(r.stderr, "--vex: testdata/vuln/osv/VIGIL-TEST-0001.json: neither OpenVEX") {
				t.Errorf("scan --vex with an OSV record: exit %d %s", r.code, r.stderr)
			}

			// Carry-forward: the next version with the same components inherits both decisions.
			p.version(t, "InsuPump X2", "2.2.0")
			r = p.run(t, "sbom", "import", "--version", "InsuPump X2@2.2.0", "--label", "firmware", testSBOM, "--format", "json")
			var imported store.SBOMImport
			if r.code != 0 || json.Unmarshal([]byte(r.stdout), &imported) != nil || len(imported.Carried) != 2 || imported.Carried[0].CarriedFrom != v1 {
				t.Errorf("carry forward: %d %s %s", r.code, r.stdout, r.stderr)
			}
			if r := p.run(t, "sbom", "refresh"); r.code != 0 || !strings.Contains(r.stdout, "5 device versions refreshed: 10 open findings, 0 new, 0 resolved") {
				t.Errorf("refresh: %d %s %s", r.code, r.stdout, r.stderr)
			}
			if r := p.run(t, "audit", "verify"); r.code != 0 {
				t.Errorf("audit: %s %s", r.stdout, r.stderr)
			}
		})
		if pg && os.Getenv(pgtest.EnvVar) == "" {
			break
		}
	}
}

type decision struct{ Advisory, Component, Status, Justification, Impact, Action string }

func decisions(list []store.VEXStatement) []decision {
	var out []decision
	for _, v := range list {
		out = append(out, decision{v.AdvisoryID, v.ComponentKey, v.Status, v.Justification, v.ImpactStatement, v.ActionStatement})
	}
	return out
}

// TestImpactTelegrafCLI: the telegraf v1.20.0 SBOM stored for a version, then the real Go
// database imported: the import reports the version with the 140 findings vigil scan finds, and
// vigil impact GO-2022-0969 lists it.
func TestImpactTelegrafCLI(t *testing.T) {
	goZip := sharedData(t, "osv/golang-vulndb-osv.zip")
	sb := sharedData(t, "sboms/generated/telegraf-v1.20.0-gomod-syft.cdx.json")
	p := newPortfolioDB(t, false)
	v := p.version(t, "Telemetry Gateway", "1.20.0")
	if r := p.run(t, "sbom", "import", "--version", "1", "--label", "firmware", sb); r.code != 0 {
		t.Fatalf("sbom import: %s", r.stderr)
	}
	r := p.run(t, "vulndb", "import", goZip)
	if r.code != 0 || !strings.Contains(r.stderr, "140 new in 1 device versions") || !strings.Contains(r.stderr, "Telemetry Gateway 1.20.0 (device version 1)") {
		t.Fatalf("vulndb import: %d %s", r.code, r.stderr)
	}
	r = p.run(t, "impact", "GO-2022-0969", "--format", "json")
	var imp store.Impact
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &imp) != nil || imp.DeviceVersions != 1 || imp.Affected[0].DeviceVersionID != v {
		t.Fatalf("impact: %d %s %s", r.code, r.stdout, r.stderr)
	}
	t.Log(strings.TrimSpace(r.stderr))
}
