// Command cmpfindings compares the findings of `vigil scan --format json` with those of
// `osv-scanner scan source --format json` for the same SBOM.
//
// Both outputs are normalised to sets of (ecosystem, package, version, vulnerability), where a
// vulnerability is the set of identifiers that name it: the advisory ID plus its aliases. Vigil
// merges advisories whose IDs/aliases overlap into one finding; osv-scanner lists each record and
// puts overlapping ones in one of its "groups". A Vigil finding and an osv-scanner group are the
// same vulnerability when they are on the same package and their identifier sets overlap.
//
// Package names and versions are compared as the OSV databases write them: Go versions without
// the leading "v" (and "+incompatible"), the Go standard library as "stdlib" without the "go"
// prefix, PyPI names per PEP 503, npm/NuGet/Packagist names in lower case.
//
// With -osvdb DIR (the osv-scanner offline database, DIR/osv-scalibr/<Ecosystem>/all.zip), the
// OSV records of one-sided findings are read to name the cause of each difference.
//
// Usage:
//
//	cmpfindings [-label NAME] [-osvdb DIR] [-v] VIGIL.json OSV.json
//
// The first output line starts with "SUMMARY"; the differences follow, grouped by package and
// cause. Exit status: 0 when the two sets are equal, 1 when they differ, 2 on bad input.
package main

import (
	"archive/zip"
	"cmp"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

type pkgKey struct{ Eco, Name, Version string }

func (k pkgKey) String() string { return k.Eco + "/" + k.Name + "@" + k.Version }

// unit is one vulnerability on one package, as one tool reports it.
type unit struct {
	Pkg     pkgKey
	Primary string          // Vigil: the finding's advisory; osv-scanner: the group's first record
	Records []string        // osv-scanner: the records of the group; Vigil: the advisory
	IDs     map[string]bool // every identifier: record IDs and aliases
	Info    string          // RustSec informational kind (unmaintained, unsound, notice)
	Origin  string          // Vigil: the component's package URL; osv-scanner: name@version
}

func (u unit) idList() []string {
	out := make([]string, 0, len(u.IDs))
	for id := range u.IDs {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

type vigilDoc struct {
	Schema   string `json:"schema"`
	Findings []struct {
		Component struct {
			Name    string `json:"name"`
			Version string `json:"version"`
			PURL    string `json:"purl"`
		} `json:"component"`
		Ecosystem     string   `json:"ecosystem"`
		Advisory      string   `json:"advisory"`
		Aliases       []string `json:"aliases"`
		Informational string   `json:"informational"`
	} `json:"findings"`
}

type osvDoc struct {
	Results *[]struct {
		Packages []struct {
			Package struct {
				Name      string `json:"name"`
				Version   string `json:"version"`
				Ecosystem string `json:"ecosystem"`
			} `json:"package"`
			Vulnerabilities []struct {
				ID        string  `json:"id"`
				Withdrawn *string `json:"withdrawn"`
				Affected  []struct {
					DatabaseSpecific struct {
						Informational string `json:"informational"`
					} `json:"database_specific"`
				} `json:"affected"`
			} `json:"vulnerabilities"`
			Groups []struct {
				IDs     []string `json:"ids"`
				Aliases []string `json:"aliases"`
			} `json:"groups"`
		} `json:"packages"`
	} `json:"results"`
}

var purlTypes = map[string]string{
	"golang": "Go", "pypi": "PyPI", "cargo": "crates.io", "npm": "npm", "maven": "Maven",
	"nuget": "NuGet", "gem": "RubyGems", "composer": "Packagist", "hex": "Hex", "pub": "Pub",
	"swift": "SwiftURL", "githubactions": "GitHub Actions", "github": "GitHub Actions",
}

var pep503 = regexp.MustCompile(`[-_.]+`)

func normName(eco, name string) string {
	switch eco {
	case "PyPI":
		return pep503.ReplaceAllString(strings.ToLower(name), "-")
	case "npm", "NuGet", "Packagist":
		return strings.ToLower(name)
	}
	return name
}

// norm puts an (ecosystem, name, version) into the form the OSV databases use.
func norm(eco, name, version string) pkgKey {
	if eco == "Go" {
		if name == "std" {
			name = "stdlib"
		}
		if name == "stdlib" {
			version = strings.TrimPrefix(version, "go")
		}
		version = strings.TrimSuffix(strings.TrimPrefix(version, "v"), "+incompatible")
	}
	return pkgKey{eco, normName(eco, name), version}
}

// fromPURL maps a package URL onto a pkgKey; ok is false for types without an OSV ecosystem.
func fromPURL(p string) (pkgKey, bool) {
	rest, ok := strings.CutPrefix(p, "pkg:")
	if !ok {
		return pkgKey{}, false
	}
	rest, _, _ = strings.Cut(rest, "#")
	rest, _, _ = strings.Cut(rest, "?")
	version := ""
	if i := strings.LastIndexByte(rest, '@'); i > strings.LastIndexByte(rest, '/') {
		version, _ = url.PathUnescape(rest[i+1:])
		rest = rest[:i]
	}
	typ, path, _ := strings.Cut(rest, "/")
	eco, ok := purlTypes[strings.ToLower(typ)]
	if !ok {
		return pkgKey{}, false
	}
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for i, s := range segs {
		if d, err := url.PathUnescape(s); err == nil {
			segs[i] = d
		}
	}
	name := strings.Join(segs, "/")
	if eco == "Maven" && len(segs) > 1 {
		name = strings.Join(segs[:len(segs)-1], "/") + ":" + segs[len(segs)-1]
	}
	return norm(eco, name, version), true
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	return nil
}

func loadVigil(path string) ([]unit, error) {
	var d vigilDoc
	if err := readJSON(path, &d); err != nil {
		return nil, err
	}
	if d.Schema != "vigil/scan/v1" {
		return nil, fmt.Errorf("%s: schema %q, expected vigil/scan/v1", path, d.Schema)
	}
	var out []unit
	for _, f := range d.Findings {
		k, ok := fromPURL(f.Component.PURL)
		if !ok {
			k = norm(f.Ecosystem, f.Component.Name, f.Component.Version)
		}
		u := unit{Pkg: k, Primary: f.Advisory, Records: []string{f.Advisory}, IDs: map[string]bool{f.Advisory: true},
			Info: f.Informational, Origin: f.Component.PURL}
		for _, a := range f.Aliases {
			u.IDs[a] = true
		}
		out = append(out, u)
	}
	return out, nil
}

// osvStats counts what osv-scanner printed before grouping.
type osvStats struct{ Packages, Records, Groups, Withdrawn, Informational int }

func loadOSV(path string) ([]unit, osvStats, error) {
	var d osvDoc
	var st osvStats
	if err := readJSON(path, &d); err != nil {
		return nil, st, err
	}
	if d.Results == nil {
		return nil, st, fmt.Errorf("%s: no \"results\": not osv-scanner JSON output", path)
	}
	var out []unit
	for _, r := range *d.Results {
		for _, p := range r.Packages {
			st.Packages++
			k := norm(p.Package.Ecosystem, p.Package.Name, p.Package.Version)
			info := map[string]string{}
			for _, v := range p.Vulnerabilities {
				st.Records++
				if v.Withdrawn != nil && *v.Withdrawn != "" {
					st.Withdrawn++
				}
				for _, a := range v.Affected {
					if a.DatabaseSpecific.Informational != "" {
						info[v.ID] = a.DatabaseSpecific.Informational
						st.Informational++
						break
					}
				}
			}
			for _, g := range p.Groups {
				st.Groups++
				u := unit{Pkg: k, Records: slices.Clone(g.IDs), IDs: map[string]bool{},
					Origin: p.Package.Name + "@" + p.Package.Version}
				if len(g.IDs) > 0 {
					u.Primary = g.IDs[0]
					u.Info = info[g.IDs[0]]
				}
				for _, id := range append(slices.Clone(g.IDs), g.Aliases...) {
					u.IDs[id] = true
				}
				out = append(out, u)
			}
		}
	}
	return out, st, nil
}

// osvRecord is what the cause analysis reads of an OSV record.
type osvRecord struct {
	ID        string `json:"id"`
	Withdrawn string `json:"withdrawn"`
	Affected  []struct {
		Package struct {
			Ecosystem string `json:"ecosystem"`
			Name      string `json:"name"`
		} `json:"package"`
		Ranges []struct {
			Type string `json:"type"`
		} `json:"ranges"`
		Versions []string `json:"versions"`
	} `json:"affected"`
}

// recordDB reads records from the offline database's zips on demand.
type recordDB struct {
	dir  string
	zips map[string]map[string]*zip.File // ecosystem -> "<ID>.json" -> entry
}

func (db *recordDB) record(eco, id string) *osvRecord {
	if db == nil {
		return nil
	}
	files, ok := db.zips[eco]
	if !ok {
		files = map[string]*zip.File{}
		db.zips[eco] = files
		// Kept open for the life of the process (a short-lived command).
		if zr, err := zip.OpenReader(filepath.Join(db.dir, "osv-scalibr", eco, "all.zip")); err == nil {
			for _, f := range zr.File {
				files[filepath.Base(f.Name)] = f
			}
		}
	}
	f := files[id+".json"]
	if f == nil {
		return nil
	}
	rc, err := f.Open()
	if err != nil {
		return nil
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return nil
	}
	var r osvRecord
	if json.Unmarshal(data, &r) != nil {
		return nil
	}
	return &r
}

// causes names the known reasons why only one tool reports u.
func causes(u unit, vigilSide bool, db *recordDB) []string {
	var out []string
	if u.Info != "" {
		out = append(out, "RustSec informational advisory ("+u.Info+")")
	}
	if !vigilSide {
		if len(out) == 0 {
			out = append(out, "unexplained")
		}
		return out
	}
	if u.Pkg.Eco == "Go" && u.Pkg.Name == "stdlib" && strings.Contains(u.Origin, "/std@") {
		out = append(out, "go-stdlib: the SBOM writes pkg:golang/std@go1.x; Vigil looks it up as the Go database's stdlib@1.x, osv-scanner as \"std\" (no advisories)")
	}
	if u.Pkg.Eco == "Go" && strings.ToLower(u.Pkg.Name) != u.Pkg.Name {
		out = append(out, "go-uppercase: the module path has capital letters; osv-scalibr derives a lower-cased package URL (github.com/foo) and osvutil.purlToName prefixes that namespace again onto the real name (github.com/foo/github.com/Foo/bar), so osv-scanner matches no advisory")
	}
	for _, id := range u.Records {
		r := db.record(u.Pkg.Eco, id)
		if r == nil {
			continue
		}
		for _, a := range r.Affected {
			if a.Package.Ecosystem != u.Pkg.Eco || normName(u.Pkg.Eco, a.Package.Name) != u.Pkg.Name {
				continue
			}
			if u.Pkg.Eco == "PyPI" && a.Package.Name != u.Pkg.Name && !slices.Contains(out, pypiNameCause) {
				out = append(out, pypiNameCause)
			}
			listed := slices.Contains(a.Versions, u.Pkg.Version)
			if !listed && len(a.Ranges) > 1 && a.Ranges[0].Type == "GIT" && !slices.Contains(out, gitFirstCause) {
				out = append(out, gitFirstCause)
			}
		}
	}
	if len(out) == 0 {
		out = append(out, "unexplained")
	}
	return out
}

const (
	pypiNameCause = "pypi-name: the record names the package in a non-normalised form (capitals, \".\" or \"_\"); osv-scanner normalises the SBOM's name but compares it with the record's name verbatim"
	gitFirstCause = "git-range-first: the record's GIT range comes before its ECOSYSTEM/SEMVER range and the version is not in its \"versions\" list; osv-scanner stops at the first range that is not ECOSYSTEM/SEMVER (rangeAffectsVersion returns false) and only matches listed versions"
)

func overlaps(a, b map[string]bool) bool {
	for id := range a {
		if b[id] {
			return true
		}
	}
	return false
}

func symDiff(a, b map[string]bool) (onlyA, onlyB []string) {
	for id := range a {
		if !b[id] {
			onlyA = append(onlyA, id)
		}
	}
	for id := range b {
		if !a[id] {
			onlyB = append(onlyB, id)
		}
	}
	slices.Sort(onlyA)
	slices.Sort(onlyB)
	return
}

// oneSided collects the findings only one tool reports, by cause and package.
type oneSided struct {
	byCause map[string]map[pkgKey][]string
	count   map[string]int
}

func (o *oneSided) add(cs []string, u unit) {
	if o.byCause == nil {
		o.byCause, o.count = map[string]map[pkgKey][]string{}, map[string]int{}
	}
	c := strings.Join(cs, "; ")
	if o.byCause[c] == nil {
		o.byCause[c] = map[pkgKey][]string{}
	}
	o.byCause[c][u.Pkg] = append(o.byCause[c][u.Pkg], strings.Join(u.Records, "+"))
	o.count[c]++
}

func (o *oneSided) print(side string, maxPkgs int) {
	var cs []string
	for c := range o.byCause {
		cs = append(cs, c)
	}
	slices.SortFunc(cs, func(a, b string) int { return cmp.Or(cmp.Compare(o.count[b], o.count[a]), cmp.Compare(a, b)) })
	for _, c := range cs {
		pk := o.byCause[c]
		fmt.Printf("  only %s: %d findings on %d packages — %s\n", side, o.count[c], len(pk), c)
		keys := make([]pkgKey, 0, len(pk))
		for k := range pk {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b pkgKey) int { return cmp.Compare(a.String(), b.String()) })
		for i, k := range keys {
			if maxPkgs > 0 && i == maxPkgs {
				fmt.Printf("      … and %d more packages\n", len(keys)-maxPkgs)
				break
			}
			ids := pk[k]
			slices.Sort(ids)
			more := ""
			if len(ids) > 6 {
				more = fmt.Sprintf(" … (%d)", len(ids))
				ids = ids[:6]
			}
			fmt.Printf("      %s: %s%s\n", k, strings.Join(ids, " "), more)
		}
	}
}

func main() {
	label := flag.String("label", "", "name printed in the summary line (default: the Vigil file)")
	osvdb := flag.String("osvdb", "", "osv-scanner offline database directory, to name the cause of differences")
	maxPkgs := flag.Int("max-packages", 8, "packages listed per cause (0: all)")
	verbose := flag.Bool("v", false, "also list the matched findings")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: cmpfindings [-label NAME] [-osvdb DIR] [-v] VIGIL.json OSV.json")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 2 {
		flag.Usage()
		os.Exit(2)
	}
	if *label == "" {
		*label = flag.Arg(0)
	}
	vig, err := loadVigil(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "cmpfindings:", err)
		os.Exit(2)
	}
	osv, st, err := loadOSV(flag.Arg(1))
	if err != nil {
		fmt.Fprintln(os.Stderr, "cmpfindings:", err)
		os.Exit(2)
	}
	var db *recordDB
	if *osvdb != "" {
		db = &recordDB{dir: *osvdb, zips: map[string]map[string]*zip.File{}}
	}

	// Duplicates: the same (package, primary advisory) reported twice by one tool.
	dups := func(us []unit) []string {
		var list []string
		seen := map[string]bool{}
		for _, u := range us {
			k := u.Pkg.String() + " " + u.Primary
			if seen[k] {
				list = append(list, k)
			}
			seen[k] = true
		}
		return list
	}
	vDup, oDup := dups(vig), dups(osv)

	byPkg := func(us []unit) map[pkgKey][]int {
		m := map[pkgKey][]int{}
		for i, u := range us {
			m[u.Pkg] = append(m[u.Pkg], i)
		}
		return m
	}
	vp, op := byPkg(vig), byPkg(osv)
	var detail, matched []string
	var equal, idDiff, grouping int
	var onlyV, onlyO oneSided
	nOnlyV, nOnlyO := 0, 0
	oMatched := make([]bool, len(osv))
	for _, u := range vig {
		var hits []int
		for _, j := range op[u.Pkg] {
			if overlaps(u.IDs, osv[j].IDs) {
				hits = append(hits, j)
			}
		}
		if len(hits) == 0 {
			nOnlyV++
			onlyV.add(causes(u, true, db), u)
			continue
		}
		for _, j := range hits {
			oMatched[j] = true
		}
		if len(hits) > 1 {
			grouping++
			var gs []string
			for _, j := range hits {
				gs = append(gs, strings.Join(osv[j].Records, "+"))
			}
			detail = append(detail, fmt.Sprintf("  grouping: %s: Vigil merges %s into one finding, osv-scanner has %d groups: %s",
				u.Pkg, strings.Join(u.idList(), " "), len(hits), strings.Join(gs, " | ")))
			continue
		}
		a, b := symDiff(u.IDs, osv[hits[0]].IDs)
		if len(a)+len(b) == 0 {
			equal++
			matched = append(matched, fmt.Sprintf("  same: %s %s", u.Pkg, strings.Join(u.idList(), " ")))
		} else {
			idDiff++
			detail = append(detail, fmt.Sprintf("  identifiers: %s %s: only Vigil %v, only osv-scanner %v", u.Pkg, u.Primary, a, b))
		}
	}
	for j, o := range osv {
		n := 0
		for _, i := range vp[o.Pkg] {
			if overlaps(vig[i].IDs, o.IDs) {
				n++
			}
		}
		if n > 1 {
			grouping++
			detail = append(detail, fmt.Sprintf("  grouping: %s: osv-scanner group %s overlaps %d Vigil findings", o.Pkg, strings.Join(o.Records, "+"), n))
		}
		if !oMatched[j] {
			nOnlyO++
			onlyO.add(causes(o, false, db), o)
		}
	}
	for _, d := range vDup {
		detail = append(detail, "  duplicate in Vigil's output: "+d)
	}
	for _, d := range oDup {
		detail = append(detail, "  duplicate in osv-scanner's output: "+d)
	}
	slices.Sort(detail)

	fmt.Printf("SUMMARY %s: vigil %d findings | osv-scanner %d records in %d groups on %d packages (%d withdrawn, %d informational) | same %d, identifiers differ %d, grouping differs %d, only vigil %d, only osv-scanner %d, duplicates %d/%d\n",
		*label, len(vig), st.Records, st.Groups, st.Packages, st.Withdrawn, st.Informational, equal, idDiff, grouping, nOnlyV, nOnlyO, len(vDup), len(oDup))
	onlyV.print("Vigil", *maxPkgs)
	onlyO.print("osv-scanner", *maxPkgs)
	for _, l := range detail {
		fmt.Println(l)
	}
	if *verbose {
		slices.Sort(matched)
		for _, l := range matched {
			fmt.Println(l)
		}
	}
	if idDiff+grouping+nOnlyV+nOnlyO+len(vDup)+len(oDup) > 0 {
		os.Exit(1)
	}
}
