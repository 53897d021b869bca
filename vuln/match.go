package vuln

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/google/osv-scalibr/semantic"
)

// AffectedRow is a stored affected entry with the advisory it belongs to.
type AffectedRow struct {
	AdvisoryID string
	Affected
}

// AdvisoryInfo is what a finding reports about an advisory.
type AdvisoryInfo struct {
	ID            string
	Summary       string
	Aliases       []string
	Severity      Severity
	Informational string
	Modified      time.Time
	Published     *time.Time
	// Withdrawn is set for a withdrawn advisory: never matched, and never the source of the
	// severity of another advisory's finding.
	Withdrawn bool
}

// DB is the stored advisory data the matcher reads; *store.Store implements it.
type DB interface {
	// AffectedFor returns the affected entries of non-withdrawn advisories for these package
	// names (normalised with NormalizeName) in one ecosystem.
	AffectedFor(ctx context.Context, ecosystem string, names []string) ([]AffectedRow, error)
	// AdvisoryInfo returns the advisories with these IDs (IDs not stored are left out),
	// withdrawn ones too, marked so: the matcher asks for the alias records of matched
	// advisories as well, and leaves withdrawn ones out.
	AdvisoryInfo(ctx context.Context, ids []string) (map[string]AdvisoryInfo, error)
	// KEVFor and EPSSFor return the KEV entries and EPSS scores of these CVE IDs.
	KEVFor(ctx context.Context, cves []string) (map[string]KEVEntry, error)
	EPSSFor(ctx context.Context, cves []string) (map[string]EPSSScore, error)
}

// Component is an SBOM component to match.
type Component struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	PURL    string `json:"purl,omitempty"`
}

// Finding is one (component, vulnerability) pair. Advisories that describe the same
// vulnerability (their IDs and aliases overlap: GO-…, GHSA-…, CVE-…) make one finding.
type Finding struct {
	Component     Component `json:"component"`
	Ecosystem     string    `json:"ecosystem"`
	Advisory      string    `json:"advisory"`
	Aliases       []string  `json:"aliases"`
	Summary       string    `json:"summary,omitempty"`
	Informational string    `json:"informational,omitempty"` // RustSec: unmaintained, unsound, notice
	Severity      Severity  `json:"severity"`
	// SeveritySource is the record the severity was taken from when it is not Advisory's own:
	// another advisory merged into the finding, or an alias record (a GHSA-… or CVE-… record the
	// finding's advisories name as an alias that is stored but did not match this package, e.g.
	// a CVE record with commit ranges only). Empty when the severity is Advisory's own or unknown.
	SeveritySource string   `json:"severity_source,omitempty"`
	FixedIn        []string `json:"fixed_in"`
	KnownExploited bool     `json:"known_exploited"`
	// KEV holds the KEV catalog entries of the finding's CVEs (usually one).
	KEV []KEVEntry `json:"kev,omitempty"`
	// EPSS is the highest EPSS score among the finding's CVEs.
	EPSS *EPSSScore `json:"epss,omitempty"`
}

// Result is the outcome of [Match].
type Result struct {
	Findings []Finding
	// Components is the number of components given; Packages the distinct (ecosystem, name,
	// version) triples looked up; Duplicates the components that repeated one (syft lists a
	// package once per file it was found in); Unmatchable those without a package URL of a
	// supported type or without a version.
	Components, Packages, Duplicates, Unmatchable int
}

type pkgKey struct{ eco, name, version string }

// Match finds the advisories that affect comps.
func Match(ctx context.Context, db DB, comps []Component) (*Result, error) {
	return match(ctx, db, comps, newVersionCache())
}

// match is Match with the parsed versions kept in vc (nil: parse every time; the tests compare).
func match(ctx context.Context, db DB, comps []Component, vc *versionCache) (*Result, error) {
	res := &Result{Components: len(comps), Findings: []Finding{}}
	type entry struct {
		comp Component
		pkg  Package
	}
	var order []pkgKey
	entries := map[pkgKey]entry{}
	names := map[string]map[string]bool{} // ecosystem -> names
	for _, c := range comps {
		pkg, ok := PackageOf(c.PURL)
		if !ok || pkg.Version == "" {
			res.Unmatchable++
			continue
		}
		k := pkgKey{pkg.Ecosystem, pkg.Name, pkg.Version}
		if _, dup := entries[k]; dup {
			res.Duplicates++
			continue
		}
		if c.Version == "" {
			c.Version = pkg.VersionPrefix + pkg.Version
		}
		entries[k] = entry{c, pkg}
		order = append(order, k)
		if names[pkg.Ecosystem] == nil {
			names[pkg.Ecosystem] = map[string]bool{}
		}
		names[pkg.Ecosystem][pkg.Name] = true
	}
	res.Packages = len(order)

	// Affected rows per (ecosystem, name).
	type ekey struct{ eco, name string }
	rows := map[ekey][]AffectedRow{}
	for _, eco := range sortedKeys(names) {
		list := sortedKeys(names[eco])
		got, err := db.AffectedFor(ctx, eco, list)
		if err != nil {
			return nil, err
		}
		for _, r := range got {
			k := ekey{eco, r.Name}
			rows[k] = append(rows[k], r)
		}
	}

	// Hits: package -> advisory -> the affected entries that matched.
	hits := map[pkgKey]map[string][]Affected{}
	ids := map[string]bool{}
	for _, k := range order {
		for _, r := range rows[ekey{k.eco, k.name}] {
			if !affectsVersion(vc, k.eco, k.version, r.Affected) {
				continue
			}
			if hits[k] == nil {
				hits[k] = map[string][]Affected{}
			}
			hits[k][r.AdvisoryID] = append(hits[k][r.AdvisoryID], r.Affected)
			ids[r.AdvisoryID] = true
		}
	}
	if len(ids) == 0 {
		return res, nil
	}
	infos, err := db.AdvisoryInfo(ctx, sortedKeys(ids))
	if err != nil {
		return nil, err
	}

	// One finding per group of merged advisories. A group whose primary has no CVSS score may
	// take its severity from an alias record: a stored advisory that a member names as an alias
	// but that is not in the group (the Go database's GO- records carry no CVSS; the GHSA- or
	// CVE- record of the same vulnerability often does, with affected entries for another
	// ecosystem, other package names or commit ranges only). Those not matched at all are read
	// with one more AdvisoryInfo call.
	type pending struct {
		k     pkgKey
		group []string
	}
	var groups []pending
	need := map[string]bool{}
	for _, k := range order {
		h := hits[k]
		if len(h) == 0 {
			continue
		}
		for _, group := range mergeAliases(h, infos) {
			sortGroup(group)
			groups = append(groups, pending{k, group})
			if infos[group[0]].Severity.Score != nil {
				continue
			}
			for _, id := range group {
				for _, a := range infos[id].Aliases {
					if !ids[a] {
						need[a] = true
					}
				}
			}
		}
	}
	var aliasInfos map[string]AdvisoryInfo
	if len(need) > 0 {
		if aliasInfos, err = db.AdvisoryInfo(ctx, sortedKeys(need)); err != nil {
			return nil, err
		}
	}
	sev := severityPicker{infos: infos, aliasInfos: aliasInfos}

	cves := map[string]bool{}
	for _, g := range groups {
		e := entries[g.k]
		s, src := sev.pick(g.group)
		f := buildFinding(e.comp, e.pkg, g.group, hits[g.k], infos, vc)
		f.Severity, f.SeveritySource = s, src
		// KEV and EPSS are looked up for the finding's advisory and aliases only. The OSV schema
		// defines "related" IDs (not read by Vigil) as different, if closely related,
		// vulnerabilities (distributions use them to point at upstream records), so a KEV entry
		// of a related CVE is no evidence that this one is exploited; osv-scanner's grouping uses
		// aliases only as well. Nor are the aliases of alias records followed: one level, as
		// the records write them.
		for _, id := range append([]string{f.Advisory}, f.Aliases...) {
			if IsCVE(id) {
				cves[id] = true
			}
		}
		res.Findings = append(res.Findings, f)
	}
	if len(cves) > 0 {
		list := sortedKeys(cves)
		kev, err := db.KEVFor(ctx, list)
		if err != nil {
			return nil, err
		}
		epss, err := db.EPSSFor(ctx, list)
		if err != nil {
			return nil, err
		}
		for i := range res.Findings {
			f := &res.Findings[i]
			for _, id := range append([]string{f.Advisory}, f.Aliases...) {
				if ke, ok := kev[id]; ok {
					f.KnownExploited = true
					f.KEV = append(f.KEV, ke)
				}
				if s, ok := epss[id]; ok && (f.EPSS == nil || s.Score > f.EPSS.Score) {
					s := s
					f.EPSS = &s
				}
			}
		}
	}
	slices.SortFunc(res.Findings, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.Component.Name, b.Component.Name), cmp.Compare(a.Component.Version, b.Component.Version),
			cmp.Compare(a.Component.PURL, b.Component.PURL), cmp.Compare(a.Advisory, b.Advisory))
	})
	return res, nil
}

// mergeAliases groups the advisories that hit one package: two advisories are one vulnerability
// when their identifier sets (ID plus aliases) overlap, directly or through a third.
func mergeAliases(h map[string][]Affected, infos map[string]AdvisoryInfo) [][]string {
	ids := sortedKeys(h)
	parent := make([]int, len(ids))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	owner := map[string]int{} // identifier -> first advisory index naming it
	for i, id := range ids {
		for _, name := range append([]string{id}, infos[id].Aliases...) {
			if j, ok := owner[name]; ok {
				parent[find(i)] = find(j)
			} else {
				owner[name] = i
			}
		}
	}
	groups := map[int][]string{}
	var roots []int
	for i, id := range ids {
		r := find(i)
		if _, ok := groups[r]; !ok {
			roots = append(roots, r)
		}
		groups[r] = append(groups[r], id)
	}
	out := make([][]string, 0, len(roots))
	for _, r := range roots {
		out = append(out, groups[r])
	}
	return out
}

// idRank orders candidates for the primary advisory of a merged finding: the ecosystem's own
// database (GO-, PYSEC-, RUSTSEC-, ...) first, then GitHub's, then CVE.
func idRank(id string) int {
	switch {
	case strings.HasPrefix(id, "GHSA-"):
		return 1
	case strings.HasPrefix(id, "CVE-"):
		return 2
	}
	return 0
}

// sortGroup puts a group's advisories in primary order: idRank, then ID.
func sortGroup(ids []string) {
	slices.SortFunc(ids, func(a, b string) int { return cmp.Or(cmp.Compare(idRank(a), idRank(b)), cmp.Compare(a, b)) })
}

// severityPicker chooses the severity of a finding from its advisories and alias records.
type severityPicker struct {
	infos      map[string]AdvisoryInfo // the matched advisories
	aliasInfos map[string]AdvisoryInfo // stored alias records that matched nothing
}

type sevCandidate struct {
	id  string
	sev Severity
}

// pick returns the severity of the finding of group (sorted by sortGroup) and the ID of the
// record it came from when that is not the primary: the primary's CVSS score; else the highest
// score among the other members and the alias records (members first, each in primary order,
// so a tie goes to the member); else the most severe qualitative rating. Withdrawn alias
// records are left out.
func (p *severityPicker) pick(group []string) (Severity, string) {
	cands := []sevCandidate{{id: group[0], sev: p.infos[group[0]].Severity}}
	if cands[0].sev.Score == nil {
		for _, id := range group[1:] {
			cands = append(cands, sevCandidate{id: id, sev: p.infos[id].Severity})
		}
		seen := map[string]bool{}
		var aliases []string
		for _, id := range group {
			for _, a := range p.infos[id].Aliases {
				if !seen[a] && !slices.Contains(group, a) {
					seen[a] = true
					aliases = append(aliases, a)
				}
			}
		}
		sortGroup(aliases)
		for _, a := range aliases {
			if info, ok := p.infos[a]; ok { // matched another package: stored and live
				cands = append(cands, sevCandidate{id: a, sev: info.Severity})
			} else if info, ok := p.aliasInfos[a]; ok && !info.Withdrawn {
				cands = append(cands, sevCandidate{id: a, sev: info.Severity})
			}
		}
	}
	i := bestSeverity(cands)
	s := cands[i].sev
	if s.Rating == "" {
		s.Rating = RatingUnknown
	}
	if i == 0 {
		return s, ""
	}
	return s, cands[i].id
}

// bestSeverity is the index of the candidate whose severity is reported (see pick); 0 when
// none is better than the first.
func bestSeverity(cands []sevCandidate) int {
	best := 0
	if cands[0].sev.Score != nil {
		return 0
	}
	for i := 1; i < len(cands); i++ {
		s, b := cands[i].sev, cands[best].sev
		switch {
		case s.Score != nil && (b.Score == nil || *s.Score > *b.Score):
			best = i
		case b.Score == nil && s.Score == nil && RatingRank(s.Rating) > RatingRank(b.Rating):
			best = i
		}
	}
	return best
}

// buildFinding makes the finding of a group of merged advisories (sorted by sortGroup); the
// caller sets its severity.
func buildFinding(c Component, pkg Package, group []string, h map[string][]Affected, infos map[string]AdvisoryInfo, vc *versionCache) Finding {
	primary := infos[group[0]]
	f := Finding{Component: c, Ecosystem: pkg.Ecosystem, Advisory: group[0], Summary: primary.Summary,
		Informational: primary.Informational, FixedIn: []string{}}
	aliases := map[string]bool{}
	for _, id := range group {
		info := infos[id]
		aliases[id] = true
		for _, a := range info.Aliases {
			aliases[a] = true
		}
		if f.Summary == "" {
			f.Summary = info.Summary
		}
	}
	delete(aliases, f.Advisory)
	f.Aliases = sortedKeys(aliases)
	f.FixedIn = fixedVersions(vc, pkg, group, h)
	return f
}

// fixedVersions lists the fixed versions above the package's version in the matched ranges,
// lowest first (the first is the smallest upgrade that leaves the affected range), written the
// way the SBOM writes versions (Go: "v0.7.0", standard library: "go1.21.5").
func fixedVersions(vc *versionCache, pkg Package, group []string, h map[string][]Affected) []string {
	eco := semanticEcosystem(pkg.Ecosystem)
	v, err := vc.parse(pkg.Version, eco)
	if err != nil {
		return []string{}
	}
	seen := map[string]semantic.Version{}
	for _, id := range group {
		for _, af := range h[id] {
			for _, r := range af.Ranges {
				for _, e := range r.Events {
					if e.Fixed == "" {
						continue
					}
					if _, ok := seen[e.Fixed]; ok {
						continue
					}
					fv, err := vc.parse(e.Fixed, eco)
					if err != nil {
						continue
					}
					if c, err := fv.Compare(v); err == nil && c > 0 {
						seen[e.Fixed] = fv
					}
				}
			}
		}
	}
	out := sortedKeys(seen)
	slices.SortStableFunc(out, func(a, b string) int {
		c, _ := seen[a].Compare(seen[b])
		return c
	})
	for i := range out {
		out[i] = pkg.VersionPrefix + out[i]
	}
	return out
}

// semanticEcosystem is the ecosystem whose version rules apply: the base name before any ":"
// suffix, with GitHub Actions compared as SemVer (its refs are tags like v4.1.0).
func semanticEcosystem(eco string) string {
	base, _, _ := strings.Cut(eco, ":")
	if base == EcoActions {
		return EcoGo // plain SemVer, leading "v" allowed
	}
	return base
}

// AffectsVersion reports whether version (as the ecosystem writes it: Go without the leading
// "v") falls in af: listed in versions, or inside one of the SEMVER/ECOSYSTEM ranges.
func AffectsVersion(ecosystem, version string, af Affected) bool {
	return affectsVersion(nil, ecosystem, version, af)
}

// affectsVersion is AffectsVersion with parsed versions taken from vc (nil: parse each time).
func affectsVersion(vc *versionCache, ecosystem, version string, af Affected) bool {
	if slices.Contains(af.Versions, version) {
		return true
	}
	eco := semanticEcosystem(ecosystem)
	v, err := vc.parse(version, eco)
	if err != nil {
		return false // a version the ecosystem cannot order matches only an exact listing
	}
	for _, lv := range af.Versions {
		if p, err := vc.parse(lv, eco); err == nil {
			if c, err := v.Compare(p); err == nil && c == 0 {
				return true
			}
		}
	}
	for _, r := range af.Ranges {
		if rangeIncludes(vc, v, eco, r.Events) {
			return true
		}
	}
	return false
}

// rangeIncludes evaluates OSV range events as the OSV specification's algorithm does: events
// sorted by version ("introduced: 0" lowest), the last event at or below v decides, with
// last_affected inclusive; when the range has limit events, v must also be below one of them.
func rangeIncludes(vc *versionCache, v semantic.Version, eco string, events []Event) bool {
	type pe struct {
		e        Event
		ver      semantic.Version
		zero     bool
		infinite bool
	}
	list := make([]pe, 0, len(events))
	var limits []pe
	for _, e := range events {
		s := cmp.Or(e.Introduced, e.Fixed, e.LastAffected, e.Limit)
		x := pe{e: e}
		switch {
		case e.Introduced == "0":
			x.zero = true
		case e.Limit == "*":
			x.infinite = true
		default:
			p, err := vc.parse(s, eco)
			if err != nil {
				return false // cannot order the range: do not guess
			}
			x.ver = p
		}
		if e.Limit != "" {
			limits = append(limits, x)
			continue
		}
		list = append(list, x)
	}
	order := func(a, b pe) int {
		switch {
		case a.zero || b.zero:
			return cmp.Compare(boolInt(!a.zero), boolInt(!b.zero))
		}
		c, _ := a.ver.Compare(b.ver)
		return c
	}
	slices.SortStableFunc(list, order)
	affected := false
	for _, x := range list {
		var c int
		if !x.zero {
			c, _ = v.Compare(x.ver)
		}
		switch {
		case x.e.Introduced != "":
			if x.zero || c >= 0 {
				affected = true
			}
		case x.e.Fixed != "":
			if c >= 0 {
				affected = false
			}
		case x.e.LastAffected != "":
			if c > 0 {
				affected = false
			}
		}
	}
	if !affected || len(limits) == 0 {
		return affected
	}
	for _, l := range limits {
		if l.infinite {
			return true
		}
		if c, err := v.Compare(l.ver); err == nil && c < 0 {
			return true
		}
	}
	return false
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
