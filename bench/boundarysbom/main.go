// Command boundarysbom writes a synthetic CycloneDX 1.6 SBOM per OSV database: one component for
// every (package, version) that sits on a boundary of an advisory — each introduced, fixed and
// last_affected version of its SEMVER/ECOSYSTEM ranges, and the first five versions it lists.
// Scanning such an SBOM with two scanners and diffing the findings exercises their range and
// name handling on every advisory of the database.
//
// Usage:
//
//	boundarysbom -o DIR golang=go.zip pypi=pypi.zip cargo=rustsec.zip
//
// writes DIR/boundary-golang.cdx.json, DIR/boundary-pypi.cdx.json, ... (package-URL type = zip).
package main

import (
	"archive/zip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

type record struct {
	Affected []struct {
		Package struct {
			Ecosystem string `json:"ecosystem"`
			Name      string `json:"name"`
		} `json:"package"`
		Ranges []struct {
			Type   string              `json:"type"`
			Events []map[string]string `json:"events"`
		} `json:"ranges"`
		Versions []string `json:"versions"`
	} `json:"affected"`
}

var ecosystems = map[string]string{"golang": "Go", "pypi": "PyPI", "cargo": "crates.io", "npm": "npm"}

type component struct {
	Type    string `json:"type"`
	BOMRef  string `json:"bom-ref"`
	Name    string `json:"name"`
	Version string `json:"version"`
	PURL    string `json:"purl"`
}

func purlOf(typ, name, version string) string {
	segs := strings.Split(name, "/")
	if typ != "golang" && typ != "npm" {
		segs = []string{name}
	}
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return "pkg:" + typ + "/" + strings.Join(segs, "/") + "@" + url.PathEscape(version)
}

func run(typ, zipPath, outDir string) (int, error) {
	eco, ok := ecosystems[typ]
	if !ok {
		return 0, fmt.Errorf("%s: unknown package-URL type (want golang, pypi, cargo or npm)", typ)
	}
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return 0, err
	}
	defer zr.Close()
	seen := map[string]bool{}
	var comps []component
	add := func(name, version string) {
		if typ == "golang" && name != "stdlib" {
			version = "v" + strings.TrimPrefix(version, "v")
		}
		p := purlOf(typ, name, version)
		if seen[p] {
			return
		}
		seen[p] = true
		comps = append(comps, component{Type: "library", Name: name, Version: version, PURL: p})
	}
	files := slices.Clone(zr.File)
	slices.SortFunc(files, func(a, b *zip.File) int { return strings.Compare(a.Name, b.Name) })
	for _, f := range files {
		if !strings.HasSuffix(f.Name, ".json") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return 0, err
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return 0, err
		}
		var r record
		if err := json.Unmarshal(data, &r); err != nil {
			return 0, fmt.Errorf("%s!%s: %v", zipPath, f.Name, err)
		}
		for _, a := range r.Affected {
			if a.Package.Ecosystem != eco || a.Package.Name == "" {
				continue
			}
			var vs []string
			for _, rg := range a.Ranges {
				if rg.Type != "SEMVER" && rg.Type != "ECOSYSTEM" {
					continue
				}
				for _, ev := range rg.Events {
					for k, v := range ev {
						if k != "limit" && v != "0" && v != "" {
							vs = append(vs, v)
						}
					}
				}
			}
			vs = append(vs, a.Versions[:min(5, len(a.Versions))]...)
			slices.Sort(vs)
			for _, v := range slices.Compact(vs) {
				add(a.Package.Name, v)
			}
		}
	}
	for i := range comps {
		comps[i].BOMRef = fmt.Sprintf("c%d", i+1)
	}
	doc := map[string]any{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
		"metadata":   map[string]any{"component": map[string]any{"type": "application", "bom-ref": "root", "name": "boundary-" + typ}},
		"components": comps}
	data, err := json.Marshal(doc)
	if err != nil {
		return 0, err
	}
	return len(comps), os.WriteFile(filepath.Join(outDir, "boundary-"+typ+".cdx.json"), data, 0o644)
}

func main() {
	out := flag.String("o", ".", "output directory")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: boundarysbom -o DIR TYPE=OSV.zip...   (TYPE: golang, pypi, cargo, npm)")
		os.Exit(2)
	}
	for _, arg := range flag.Args() {
		typ, path, ok := strings.Cut(arg, "=")
		if !ok {
			fmt.Fprintf(os.Stderr, "boundarysbom: %q: expected TYPE=OSV.zip\n", arg)
			os.Exit(2)
		}
		n, err := run(typ, path, *out)
		if err != nil {
			fmt.Fprintln(os.Stderr, "boundarysbom:", err)
			os.Exit(1)
		}
		fmt.Printf("boundary-%s.cdx.json: %d components\n", typ, n)
	}
}
