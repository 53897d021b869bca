package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/vigil-med/vigil/sbom"
	"github.com/vigil-med/vigil/store"
	"github.com/vigil-med/vigil/vuln"
)

// openReadOnly opens a database that a command only reads (scan, impact, vulndb stats) with
// store.Config.ReadOnly: it works on a file the user cannot write, on read-only media, and
// never changes the database. It is not migrated: a schema other than this vigil's is a usage
// error (exit 2) saying what to do. file is the --db file, or "" for the application database
// of cfg.
func openReadOnly(ctx context.Context, cfg store.Config, file string) (*store.Store, error) {
	cfg.ReadOnly = true
	if file != "" {
		if fi, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
			return nil, usagef("--db %s: no such vulnerability database; create it with `vigil vulndb import PATH... --db %s`", file, file)
		} else if err != nil {
			return nil, usagef("--db %s: %v", file, err)
		} else if fi.IsDir() {
			return nil, usagef("--db %s: is a directory; expected a database file", file)
		}
	}
	st, err := store.Open(ctx, cfg)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && file == "" {
			return nil, usageError{fmt.Errorf("%w (is --data / VIGIL_DATA right? `vigil migrate` creates the database, `vigil vulndb import` loads advisories)", err)}
		}
		if file != "" && errors.Is(err, store.ErrInvalid) {
			return nil, usagef("--db %s: %w", file, err)
		}
		return nil, err
	}
	if err := st.CheckSchema(ctx); err != nil {
		st.Close()
		var se *store.SchemaError
		if !errors.As(err, &se) {
			return nil, err
		}
		return nil, usageError{schemaMismatch(se, file)}
	}
	return st, nil
}

// schemaMismatchError explains a schema mismatch of a database opened read-only; it matches
// store.ErrSchema.
type schemaMismatchError struct {
	msg string
	err *store.SchemaError
}

func (e *schemaMismatchError) Error() string { return e.msg }
func (e *schemaMismatchError) Unwrap() error { return e.err }

func schemaMismatch(se *store.SchemaError, file string) error {
	var msg string
	switch {
	case file == "" && se.Current < se.Latest:
		msg = se.Error() + " (this command only reads the database and does not migrate it)"
	case file == "":
		msg = se.Error()
	case se.Current == 0:
		msg = fmt.Sprintf("--db %s: not a vigil vulnerability database (no schema); load advisories into it with `vigil vulndb import PATH... --db %s`", file, file)
	case se.Current < se.Latest:
		msg = fmt.Sprintf("--db %s: the database schema is at version %d, this vigil needs %d; this command only reads the database and does not migrate it: "+
			"update the file (or a writable copy of it) with `vigil vulndb import PATH... --db %s` or `vigil vulndb sync --db %s`, which migrate it first",
			file, se.Current, se.Latest, file, file)
	default:
		msg = fmt.Sprintf("--db %s: the database schema is at version %d, newer than the %d this vigil knows: it was written by a newer vigil; upgrade vigil",
			file, se.Current, se.Latest)
	}
	return &schemaMismatchError{msg: msg, err: se}
}

// failOnLevels are the values of `scan --fail-on`.
var failOnLevels = []string{"critical", "high", "medium", "low", "kev", "any"}

// scanDoc is the `vigil scan --format json` document (contract section 6, vigil/scan/v1).
type scanDoc struct {
	Schema   string         `json:"schema"`
	SBOM     scanSBOM       `json:"sbom"`
	Findings []vuln.Finding `json:"findings"`
	Summary  scanSummary    `json:"summary"`
}

type scanSBOM struct {
	Format      string `json:"format"`
	SpecVersion string `json:"spec_version"`
	Components  int    `json:"components"`
	File        string `json:"file,omitempty"`
	Name        string `json:"name,omitempty"`
	Version     string `json:"version,omitempty"`
}

type scanSummary struct {
	Findings       int            `json:"findings"`
	ByRating       map[string]int `json:"by_rating"`
	KnownExploited int            `json:"known_exploited"`
	// Packages is the number of distinct (ecosystem, name, version) looked up; Duplicates the
	// components that repeated one; Unmatchable those without a supported package URL and version.
	Packages    int `json:"packages"`
	Duplicates  int `json:"duplicates"`
	Unmatchable int `json:"unmatchable"`
	// HiddenByVEX counts the findings left out because the --vex document judged them
	// not_affected or fixed.
	HiddenByVEX int `json:"hidden_by_vex,omitempty"`
}

func (e *env) scanCmd() *cobra.Command {
	var db vulnDBFlags
	var format, failOn, vexFile string
	cmd := &cobra.Command{
		Use:   "scan SBOM",
		Short: "Match an SBOM's components against the vulnerability database",
		Long: `Match the components of an SBOM (CycloneDX or SPDX) against the advisories loaded with
` + "`vigil vulndb import`" + `. Components are identified by their package URL (golang, pypi, cargo, npm,
maven, nuget, gem, composer, hex, pub, swift, github); the Go standard library (std/stdlib@go1.x) is
matched against the Go database's "stdlib". Each (component, vulnerability) is reported once:
advisories whose IDs or aliases overlap (GO-…, GHSA-…, CVE-…) are merged, withdrawn advisories are
skipped, and findings carry the CVSS base score, the CISA KEV flag and the EPSS score of their CVEs.

The database is opened read-only and never changed, so it may be a file you cannot write or
on read-only media; it is not migrated either: a database of an older schema is refused, and
` + "`vigil vulndb import PATH... --db FILE`" + ` (on a writable copy) brings it up to date.

--fail-on exits 1 when a finding is at least that severe (critical, high, medium, low by CVSS
rating; kev: known exploited; any: any finding, including those without a score).`,
		Example: `  vigil scan device.cdx.json --db vulns.db
  vigil scan device.spdx.json --db vulns.db --format json --fail-on high`,
		Args: cobra.ExactArgs(1),
		PreRunE: func(cmd *cobra.Command, args []string) error {
			if failOn != "" && !slices.Contains(failOnLevels, failOn) {
				return usagef("--fail-on %q: expected one of %s", failOn, strings.Join(failOnLevels, ", "))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			doc, err := sbom.ParseFileInventory(args[0])
			if err != nil {
				return err
			}
			st, err := db.open(e.ctx, false)
			if err != nil {
				return err
			}
			defer st.Close()
			comps := make([]vuln.Component, 0, len(doc.Components))
			for _, c := range doc.Components {
				comps = append(comps, vuln.Component{Name: c.Name, Version: c.Version, PURL: c.PURL})
			}
			if n, err := st.AdvisoryCount(e.ctx); err != nil {
				return err
			} else if n == 0 {
				fmt.Fprintln(e.stderr, "vigil: warning: the vulnerability database holds no advisories; load them with `vigil vulndb import` or `vigil vulndb sync`")
			}
			start := time.Now()
			res, err := vuln.Match(e.ctx, st, comps)
			if err != nil {
				return err
			}
			hidden := 0
			if vexFile != "" {
				if res.Findings, hidden, err = applyVEX(vexFile, doc, res.Findings); err != nil {
					return err
				}
			}
			out := scanDoc{
				Schema:   "vigil/scan/v1",
				SBOM:     scanSBOM{Format: doc.Format, SpecVersion: doc.SpecVersion, Components: len(doc.Components), File: args[0], Name: doc.Name, Version: doc.Version},
				Findings: res.Findings,
				Summary: scanSummary{Findings: len(res.Findings), ByRating: map[string]int{}, Packages: res.Packages,
					Duplicates: res.Duplicates, Unmatchable: res.Unmatchable, HiddenByVEX: hidden},
			}
			for _, f := range res.Findings {
				out.Summary.ByRating[f.Severity.Rating]++
				if f.KnownExploited {
					out.Summary.KnownExploited++
				}
			}
			switch format {
			case "json":
				err = writeJSON(e.stdout, out)
			case "sarif":
				err = writeJSON(e.stdout, sarifOf(out))
			case "cyclonedx":
				err = writeJSON(e.stdout, cyclonedxVEXOf(out, time.Now()))
			default:
				err = writeScanTable(e.stdout, out)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "%s: %d components, %d packages looked up (%d duplicates, %d without a supported package URL), %d findings (%d known exploited) in %s\n",
				args[0], len(doc.Components), res.Packages, res.Duplicates, res.Unmatchable, len(res.Findings), out.Summary.KnownExploited, time.Since(start).Round(time.Millisecond))
			if vexFile != "" {
				fmt.Fprintf(e.stderr, "%s: %d findings hidden (not_affected or fixed in %s)\n", args[0], hidden, vexFile)
			}
			if n := failing(res.Findings, failOn); n > 0 {
				return failOnError{fmt.Sprintf("--fail-on %s: %d finding(s) met the threshold", failOn, n)}
			}
			return nil
		},
	}
	db.register(cmd)
	formatFlag(cmd, &format, "table", "table", "json", "sarif", "cyclonedx")
	cmd.Flags().StringVar(&vexFile, "vex", "", "VEX document (OpenVEX, CycloneDX or CSAF): hide the findings it judges not_affected or fixed")
	cmd.Flags().StringVar(&failOn, "fail-on", "", "exit 1 when a finding is at least this severe: "+strings.Join(failOnLevels, "|"))
	return cmd
}

// failing counts the findings that meet a --fail-on level.
func failing(fs []vuln.Finding, level string) int {
	n := 0
	for _, f := range fs {
		switch level {
		case "":
			return 0
		case "any":
			n++
		case "kev":
			if f.KnownExploited {
				n++
			}
		default:
			if r := vuln.RatingRank(f.Severity.Rating); r > 0 && r >= vuln.RatingRank(level) {
				n++
			}
		}
	}
	return n
}

func writeScanTable(w io.Writer, d scanDoc) error {
	hidden := ""
	if d.Summary.HiddenByVEX > 0 {
		hidden = fmt.Sprintf(" Hidden by the VEX document (not_affected or fixed): %d.", d.Summary.HiddenByVEX)
	}
	if len(d.Findings) == 0 {
		msg := "No known vulnerabilities"
		if d.Summary.HiddenByVEX > 0 {
			msg = "No open vulnerabilities"
		}
		_, err := fmt.Fprintf(w, "%s in %d components (%s %s).%s\n", msg, d.SBOM.Components, d.SBOM.Format, d.SBOM.SpecVersion, hidden)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COMPONENT\tVERSION\tADVISORY\tSEVERITY\tKEV\tEPSS\tFIXED IN\tALIASES")
	for _, f := range d.Findings {
		sev := f.Severity.Rating
		if f.Severity.Score != nil {
			sev += " " + strconv.FormatFloat(*f.Severity.Score, 'f', 1, 64)
		}
		if f.Informational != "" {
			sev = f.Informational
		}
		kev, epss := "", ""
		if f.KnownExploited {
			kev = "KEV"
		}
		if f.EPSS != nil {
			epss = strconv.FormatFloat(f.EPSS.Score*100, 'f', 2, 64) + "%"
		}
		fixed := "-"
		if len(f.FixedIn) > 0 {
			fixed = f.FixedIn[0]
			if len(f.FixedIn) > 1 {
				fixed += fmt.Sprintf(" (+%d)", len(f.FixedIn)-1)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f.Component.Name, f.Component.Version, f.Advisory, sev, kev, epss, fixed, strings.Join(f.Aliases, ", "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var parts []string
	for _, r := range []string{vuln.RatingCritical, vuln.RatingHigh, vuln.RatingMedium, vuln.RatingLow, vuln.RatingNone, vuln.RatingUnknown} {
		if n := d.Summary.ByRating[r]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, r))
		}
	}
	_, err := fmt.Fprintf(w, "\n%d findings (%s); %d known exploited.%s\n", d.Summary.Findings, strings.Join(parts, ", "), d.Summary.KnownExploited, hidden)
	return err
}

// advisoryURL is where an advisory can be read.
func advisoryURL(id string) string { return "https://osv.dev/vulnerability/" + id }

// sarifOf renders findings as SARIF 2.1.0: one rule per advisory, one result per finding.
func sarifOf(d scanDoc) map[string]any {
	type rule = map[string]any
	var rules []rule
	index := map[string]int{}
	var results []map[string]any
	for _, f := range d.Findings {
		i, ok := index[f.Advisory]
		if !ok {
			i = len(rules)
			index[f.Advisory] = i
			short := f.Summary
			if short == "" {
				short = f.Advisory
			}
			props := map[string]any{"tags": []string{"security", "vulnerability", f.Ecosystem}, "aliases": f.Aliases}
			if f.Severity.Score != nil {
				props["security-severity"] = strconv.FormatFloat(*f.Severity.Score, 'f', 1, 64)
			}
			if f.Severity.Vector != "" {
				props["cvss_vector"] = f.Severity.Vector
			}
			rules = append(rules, rule{
				"id":               f.Advisory,
				"name":             strings.ReplaceAll(f.Advisory, "-", ""),
				"shortDescription": map[string]any{"text": short},
				"helpUri":          advisoryURL(f.Advisory),
				"help":             map[string]any{"text": fmt.Sprintf("%s (aliases: %s). See %s", short, strings.Join(f.Aliases, ", "), advisoryURL(f.Advisory))},
				"properties":       props,
			})
		}
		level := "warning"
		switch f.Severity.Rating {
		case vuln.RatingCritical, vuln.RatingHigh:
			level = "error"
		case vuln.RatingLow, vuln.RatingNone:
			level = "note"
		}
		if f.KnownExploited {
			level = "error"
		}
		msg := fmt.Sprintf("%s %s is affected by %s", f.Component.Name, f.Component.Version, f.Advisory)
		if len(f.Aliases) > 0 {
			msg += " (" + strings.Join(f.Aliases, ", ") + ")"
		}
		if f.Summary != "" {
			msg += ": " + f.Summary
		}
		if len(f.FixedIn) > 0 {
			msg += ". Fixed in " + strings.Join(f.FixedIn, ", ")
		}
		if f.KnownExploited {
			msg += ". Listed in CISA KEV (known exploited)"
		}
		fp := sha256.Sum256([]byte(f.Component.PURL + "\x00" + f.Component.Name + "\x00" + f.Component.Version + "\x00" + f.Advisory))
		props := map[string]any{"known_exploited": f.KnownExploited, "fixed_in": f.FixedIn}
		if f.EPSS != nil {
			props["epss"] = f.EPSS.Score
		}
		loc := map[string]any{
			"physicalLocation": map[string]any{"artifactLocation": map[string]any{"uri": d.SBOM.File}},
			"logicalLocations": []map[string]any{{"name": cmpOr(f.Component.PURL, f.Component.Name+"@"+f.Component.Version), "kind": "package"}},
		}
		results = append(results, map[string]any{
			"ruleId":              f.Advisory,
			"ruleIndex":           i,
			"level":               level,
			"message":             map[string]any{"text": msg},
			"locations":           []map[string]any{loc},
			"partialFingerprints": map[string]any{"vigilFinding/v1": hex.EncodeToString(fp[:16])},
			"properties":          props,
		})
	}
	if rules == nil {
		rules = []rule{}
	}
	if results == nil {
		results = []map[string]any{}
	}
	return map[string]any{
		"$schema": "https://json.schemastore.org/sarif-2.1.0.json",
		"version": "2.1.0",
		"runs": []map[string]any{{
			"tool": map[string]any{"driver": map[string]any{
				"name": "vigil", "version": Version, "informationUri": "https://github.com/vigil-med/vigil", "rules": rules,
			}},
			"artifacts": []map[string]any{{"location": map[string]any{"uri": d.SBOM.File}}},
			"results":   results,
		}},
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// cyclonedxVEXOf renders findings as a CycloneDX 1.6 BOM with a vulnerabilities array (VEX
// style): one vulnerability per advisory, affecting the components listed in the same BOM.
func cyclonedxVEXOf(d scanDoc, now time.Time) map[string]any {
	var comps []map[string]any
	compRef := map[string]string{}
	refOf := func(c vuln.Component) string {
		key := c.PURL + "\x00" + c.Name + "\x00" + c.Version
		if r, ok := compRef[key]; ok {
			return r
		}
		r := c.PURL
		if r == "" {
			r = c.Name + "@" + c.Version
		}
		if slices.ContainsFunc(comps, func(m map[string]any) bool { return m["bom-ref"] == r }) {
			r = fmt.Sprintf("%s#%d", r, len(comps))
		}
		compRef[key] = r
		m := map[string]any{"type": "library", "bom-ref": r, "name": c.Name, "version": c.Version}
		if c.PURL != "" {
			m["purl"] = c.PURL
		}
		comps = append(comps, m)
		return r
	}
	type vul struct {
		f       vuln.Finding
		affects []map[string]any
	}
	var order []string
	vuls := map[string]*vul{}
	for _, f := range d.Findings {
		ref := refOf(f.Component)
		v, ok := vuls[f.Advisory]
		if !ok {
			v = &vul{f: f}
			vuls[f.Advisory] = v
			order = append(order, f.Advisory)
		}
		v.affects = append(v.affects, map[string]any{"ref": ref, "versions": []map[string]any{{"version": f.Component.Version, "status": "affected"}}})
	}
	var out []map[string]any
	for i, id := range order {
		v := vuls[id]
		f := v.f
		m := map[string]any{
			"bom-ref":  fmt.Sprintf("vuln-%d", i+1),
			"id":       id,
			"source":   map[string]any{"name": "OSV", "url": advisoryURL(id)},
			"affects":  v.affects,
			"analysis": map[string]any{"state": "in_triage"},
		}
		if f.Summary != "" {
			m["description"] = f.Summary
		}
		var refs []map[string]any
		for _, a := range f.Aliases {
			refs = append(refs, map[string]any{"id": a, "source": map[string]any{"name": "OSV", "url": advisoryURL(a)}})
		}
		if refs != nil {
			m["references"] = refs
		}
		rating := map[string]any{"severity": cdxSeverity(f.Severity.Rating)}
		if f.Severity.Score != nil {
			rating["score"] = *f.Severity.Score
			rating["vector"] = f.Severity.Vector
			switch {
			case strings.HasPrefix(f.Severity.Vector, "CVSS:3.1/"):
				rating["method"] = "CVSSv31"
			case strings.HasPrefix(f.Severity.Vector, "CVSS:3.0/"):
				rating["method"] = "CVSSv3"
			case strings.HasPrefix(f.Severity.Vector, "CVSS:4.0/"):
				rating["method"] = "CVSSv4"
			}
		}
		m["ratings"] = []map[string]any{rating}
		if len(f.FixedIn) > 0 {
			m["recommendation"] = "Upgrade to " + strings.Join(f.FixedIn, " or ") + "."
		}
		props := []map[string]any{{"name": "vigil:known_exploited", "value": strconv.FormatBool(f.KnownExploited)}}
		if f.EPSS != nil {
			props = append(props, map[string]any{"name": "vigil:epss", "value": strconv.FormatFloat(f.EPSS.Score, 'f', -1, 64)})
		}
		m["properties"] = props
		out = append(out, m)
	}
	if comps == nil {
		comps = []map[string]any{}
	}
	if out == nil {
		out = []map[string]any{}
	}
	return map[string]any{
		"bomFormat":    "CycloneDX",
		"specVersion":  "1.6",
		"serialNumber": "urn:uuid:" + uuid.NewString(),
		"version":      1,
		"metadata": map[string]any{
			"timestamp": now.UTC().Format(time.RFC3339),
			"tools":     map[string]any{"components": []map[string]any{{"type": "application", "name": "vigil", "version": Version}}},
		},
		"components":      comps,
		"vulnerabilities": out,
	}
}

func cdxSeverity(r string) string {
	switch r {
	case vuln.RatingCritical, vuln.RatingHigh, vuln.RatingMedium, vuln.RatingLow, vuln.RatingNone:
		return r
	}
	return "unknown"
}
