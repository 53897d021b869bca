package cli

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/vigil-med/vigil/sbom"
)

func (e *env) sbomCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sbom",
		Short: "Read software bills of materials (CycloneDX, SPDX) and check them against NTIA and FDA",
	}
	cmd.AddCommand(e.sbomCheckCmd(), e.sbomSupportTemplateCmd(), e.sbomImportCmd(), e.sbomRefreshCmd(), e.sbomSelfCmd())
	return cmd
}

// defaultComponentRows is how many components the table lists without --all.
const defaultComponentRows = 20

func (e *env) sbomCheckCmd() *cobra.Command {
	var format, support string
	var failUnder int
	var all bool
	cmd := &cobra.Command{
		Use:   "check FILE",
		Short: "Check an SBOM for the NTIA minimum elements and FDA's support expectations",
		Long: `Reads a CycloneDX (JSON or XML, 1.2 to 1.7) or SPDX (JSON or tag-value, 2.2 and 2.3) SBOM and
checks it against the NTIA minimum elements (supplier, component name, version, unique identifier,
dependency relationships, author, timestamp) and FDA's additional expectations (level of support
and end-of-support date per component). A hash is recommended and a licence informational.

The score (0-100) is the weighted coverage of the elements: required elements weigh 10,
recommended ones 5, informational ones nothing. Known vulnerabilities are not assessed here: run
vigil scan.

Support data the SBOM does not carry can be given in a sidecar file (schema vigil/sbom-support/v1,
start one with "vigil sbom support-template FILE"); it overrides the SBOM's own values.

Exit codes: 0 checked, 1 the score is below --fail-under, 2 the file (or sidecar) was refused.`,
		Example: `  vigil sbom check device.cdx.json
  vigil sbom check device.spdx --support device-support.yaml --fail-under 80
  vigil sbom check device.cdx.json --format json`,
		Args: cobra.ExactArgs(1),
		PreRunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("fail-under") && (failUnder < 0 || failUnder > 100) {
				return usagef("--fail-under %d: expected a score from 0 to 100", failUnder)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			doc, err := sbom.ParseFile(args[0])
			if err != nil {
				return err
			}
			var unmatched []sbom.SupportEntry
			if support != "" {
				side, err := sbom.ReadSidecar(support)
				if err != nil {
					return err
				}
				unmatched = side.Apply(doc)
			}
			rep := sbom.Check(doc, sbom.CheckOptions{})
			for _, u := range unmatched {
				rep.Warnings = append(rep.Warnings, fmt.Sprintf("%s: sidecar entry (%s) matches no component", support, u.Describe()))
			}
			if format == "json" {
				if err := writeJSON(e.stdout, rep); err != nil {
					return err
				}
			} else {
				bw := bufio.NewWriter(e.stdout)
				writeSBOMReport(bw, rep, all)
				if err := bw.Flush(); err != nil {
					return err
				}
			}
			if cmd.Flags().Changed("fail-under") && rep.Score < failUnder {
				return failOnError{fmt.Sprintf("SBOM score %d is below --fail-under %d", rep.Score, failUnder)}
			}
			return nil
		},
	}
	formatFlag(cmd, &format, "table", "table", "json")
	cmd.Flags().StringVar(&support, "support", "", "sidecar file (vigil/sbom-support/v1) with support level and end-of-support per component")
	cmd.Flags().IntVar(&failUnder, "fail-under", 0, "exit 1 when the score is below this (0-100)")
	cmd.Flags().BoolVar(&all, "all", false, fmt.Sprintf("list every component with findings (default: the first %d)", defaultComponentRows))
	return cmd
}

func (e *env) sbomSupportTemplateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "support-template FILE",
		Short: "Print a support sidecar (vigil/sbom-support/v1) listing the SBOM's components, to complete",
		Long: `Prints a support sidecar for the SBOM: one entry per component (matched by purl, or by name and
version), with the level of support and end-of-support date the SBOM already gives, "unknown"
otherwise. Complete it and pass it to vigil sbom check --support.`,
		Example: `  vigil sbom support-template device.cdx.json > device-support.yaml`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			doc, err := sbom.ParseFile(args[0])
			if err != nil {
				return err
			}
			out, err := sbom.Template(doc).YAML()
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "# Support data for %s (%s). support: %s; end_of_support: YYYY-MM-DD.\n",
				args[0], strings.Join(strings.Fields(doc.Name+" "+doc.Version), " "), strings.Join(sbom.SupportLevels, " | "))
			_, err = e.stdout.Write(out)
			return err
		},
	}
}

func writeSBOMReport(w io.Writer, r *sbom.Report, all bool) {
	subject := strings.TrimSpace(r.Name + " " + r.Version)
	if subject == "" {
		subject = "(not named)"
	}
	fmt.Fprintf(w, "SBOM:       %s (%s %s, %s)\n", r.File, r.Format, r.SpecVersion, r.Encoding)
	fmt.Fprintf(w, "Subject:    %s\n", subject)
	fmt.Fprintf(w, "Components: %d\n", r.Components)
	fmt.Fprintf(w, "Score:      %d/100   findings: %d required, %d recommended, %d informational\n\n",
		r.Score, r.Counts[sbom.SeverityRequired], r.Counts[sbom.SeverityRecommended], r.Counts[sbom.SeverityInformational])

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ELEMENT\tSEVERITY\tSOURCE\tCOVERAGE")
	for _, c := range r.Elements {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Title, c.Severity, c.Source, coverageText(c))
	}
	fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", "Known vulnerabilities", "required", "FDA premarket guidance V.A.4", r.Vulnerabilities)
	tw.Flush()

	// What to fix: one line per element, the elements costing most points first.
	type todo struct {
		elem, severity, fix string
		n                   int
		lost                float64
		msgs                []string
	}
	byElem := map[string]*todo{}
	var order []string
	note := func(f sbom.Finding, who string) {
		if f.Element == sbom.ElemVulnerabilities || f.Severity == sbom.SeverityInformational && f.Element != sbom.ElemEndOfSupport {
			return
		}
		t := byElem[f.Element+f.Severity]
		if t == nil {
			t = &todo{elem: f.Element, severity: f.Severity, fix: f.Fix}
			byElem[f.Element+f.Severity] = t
			order = append(order, f.Element+f.Severity)
		}
		t.n++
		if who != "" {
			if len(t.msgs) < 3 {
				t.msgs = append(t.msgs, who)
			}
		} else {
			t.msgs = append(t.msgs, f.Message)
		}
	}
	for _, f := range r.Document {
		note(f, "")
	}
	for _, cr := range r.Component {
		for _, f := range cr.Findings {
			note(f, strings.TrimSpace(cr.Name+" "+cr.Version))
		}
	}
	for _, c := range r.Elements {
		for _, sev := range []string{sbom.SeverityRequired, sbom.SeverityRecommended, sbom.SeverityInformational} {
			if t := byElem[c.Element+sev]; t != nil && sev == c.Severity && c.Total > 0 {
				t.lost = float64(c.Total-c.Present) / float64(c.Total)
			}
		}
	}
	rank := map[string]int{sbom.SeverityRequired: 0, sbom.SeverityRecommended: 1, sbom.SeverityInformational: 2}
	slices.SortStableFunc(order, func(a, b string) int {
		ta, tb := byElem[a], byElem[b]
		if rank[ta.severity] != rank[tb.severity] {
			return rank[ta.severity] - rank[tb.severity]
		}
		switch {
		case ta.lost > tb.lost:
			return -1
		case ta.lost < tb.lost:
			return 1
		}
		return 0
	})
	if len(order) > 0 {
		fmt.Fprintln(w, "\nWHAT TO FIX")
		for i, k := range order {
			t := byElem[k]
			var what string
			if t.n > 0 && len(t.msgs) > 0 && isComponentElem(t.elem) {
				what = fmt.Sprintf("%s: %d component(s), e.g. %s", t.elem, t.n, strings.Join(t.msgs, "; "))
			} else {
				what = t.elem + ": " + strings.Join(t.msgs, "; ")
			}
			fmt.Fprintf(w, "%2d. [%s] %s\n", i+1, t.severity, what)
			wrap(w, "Fix: "+t.fix, "    ", 100)
		}
	}

	if len(r.Component) > 0 {
		n := len(r.Component)
		// The components with the most required findings first, then recommended; else in
		// document order.
		shown := slices.Clone(r.Component)
		weight := func(cr sbom.ComponentReport) int {
			w := 0
			for _, f := range cr.Findings {
				switch f.Severity {
				case sbom.SeverityRequired:
					w += 100
				case sbom.SeverityRecommended:
					w++
				}
			}
			return w
		}
		slices.SortStableFunc(shown, func(a, b sbom.ComponentReport) int { return weight(b) - weight(a) })
		if !all && n > defaultComponentRows {
			shown = shown[:defaultComponentRows]
		}
		fmt.Fprintf(w, "\nCOMPONENTS WITH FINDINGS (%d of %d components", n, r.Components)
		if len(shown) < n {
			fmt.Fprintf(w, "; first %d shown, --all for every one, --format json for details", len(shown))
		}
		fmt.Fprintln(w, ")")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "COMPONENT\tVERSION\tMISSING OR WRONG")
		for _, cr := range shown {
			var probs []string
			for _, f := range cr.Findings {
				if f.Severity == sbom.SeverityInformational {
					continue
				}
				p := f.Element
				if f.Severity == sbom.SeverityRecommended {
					p += "?"
				}
				probs = append(probs, p)
			}
			if len(probs) == 0 {
				probs = append(probs, "(informational only)")
			}
			name := cr.Name
			if name == "" {
				name = cr.Ref
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", clip(name, 50), clip(orDash(cr.Version), 20), strings.Join(probs, ", "))
		}
		tw.Flush()
		fmt.Fprintln(w, "(element? = recommended, not required)")
	}
	if len(r.Warnings) > 0 {
		fmt.Fprintln(w, "\nNOTES")
		for _, n := range r.Warnings {
			fmt.Fprintf(w, "  - %s\n", n)
		}
	}
}

func isComponentElem(elem string) bool {
	switch elem {
	case sbom.ElemAuthor, sbom.ElemTimestamp, sbom.ElemDependencies, sbom.ElemVulnerabilities:
		return false
	}
	return true
}

func coverageText(c sbom.Coverage) string {
	if c.Total == 0 {
		return "n/a (no components)"
	}
	if c.Level == "document" && c.Element != sbom.ElemDependencies {
		if c.Present == 1 {
			return "yes"
		}
		return "MISSING"
	}
	s := fmt.Sprintf("%d/%d (%d%%)", c.Present, c.Total, c.Present*100/c.Total)
	if c.Element == sbom.ElemDependencies {
		s += " linked"
	}
	return s
}

func wrap(w io.Writer, text, indent string, width int) {
	line := indent
	for _, word := range strings.Fields(text) {
		if len(line)+len(word) > width && strings.TrimSpace(line) != "" {
			fmt.Fprintln(w, strings.TrimRight(line, " "))
			line = indent + "  "
		}
		line += word + " "
	}
	fmt.Fprintln(w, strings.TrimRight(line, " "))
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
