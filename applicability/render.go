package applicability

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/vigil-med/vigil/catalog"
)

var marketTitles = map[string]string{"US": "United States", "CA": "Canada", "EU": "European Union", "UK": "United Kingdom"}

// WriteTable writes the human-readable verdict: one row per regime with its reason, then counts.
func WriteTable(w io.Writer, res *Result, width int) error {
	if width < 60 {
		width = 100
	}
	applies := 0
	for _, r := range res.Regimes {
		if r.Applies {
			applies++
		}
	}
	fmt.Fprintf(w, "%s", res.Device)
	if res.DeviceVersion != "" {
		fmt.Fprintf(w, " %s", res.DeviceVersion)
	}
	fmt.Fprintf(w, " — %s (catalog %s)\n", res.Manufacturer, res.CatalogVersion)
	fmt.Fprintf(w, "%d of %d regimes apply; %d requirements apply.\n\n", applies, len(res.Regimes), len(res.Applicable()))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "REGIME\tAPPLIES\tREQS\tWHY")
	indent := 0
	for _, r := range res.Regimes {
		indent = max(indent, len(r.ID))
	}
	why := width - indent - 20
	if why < 40 {
		why = 40
	}
	for _, r := range res.Regimes {
		mark := "no"
		if r.Applies {
			mark = "yes"
		}
		if r.Unclear {
			mark += "*"
		}
		reqs := "-"
		if r.Applies {
			reqs = fmt.Sprint(r.Requirements)
		}
		lines := wrap(r.Rationale, why)
		for i, l := range lines {
			if i == 0 {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.ID, mark, reqs, l)
			} else {
				fmt.Fprintf(tw, "\t\t\t%s\n", l)
			}
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, "\n* the law leaves part of this open; the reason says what to check.")
	return err
}

// wrap breaks text into lines of at most n runes at word boundaries.
func wrap(text string, n int) []string {
	var lines []string
	var cur strings.Builder
	for _, word := range strings.Fields(text) {
		if cur.Len() > 0 && cur.Len()+1+len(word) > n {
			lines = append(lines, cur.String())
			cur.Reset()
		}
		if cur.Len() > 0 {
			cur.WriteByte(' ')
		}
		cur.WriteString(word)
	}
	if cur.Len() > 0 {
		lines = append(lines, cur.String())
	}
	if len(lines) == 0 {
		lines = []string{""}
	}
	return lines
}

// WriteMarkdown writes a report for people: per market, each regime with its reason and, for the
// regimes that apply, the requirements with their citations and controls.
func WriteMarkdown(w io.Writer, cat *catalog.Catalog, res *Result) error {
	b := &strings.Builder{}
	title := res.Device
	if res.DeviceVersion != "" {
		title += " " + res.DeviceVersion
	}
	fmt.Fprintf(b, "# Regulatory applicability: %s\n\n", title)
	fmt.Fprintf(b, "Manufacturer: %s. Catalog version %s.", res.Manufacturer, res.CatalogVersion)
	if res.CyberDevice {
		b.WriteString(" The device is a **cyber device** under FD&C Act 524B(c).")
	}
	if res.NIS2Category != "" {
		fmt.Fprintf(b, " NIS2 entity category: **%s**.", res.NIS2Category)
	}
	b.WriteString("\n\n## Summary\n\n| Market | Regime | Applies | Requirements |\n|---|---|---|---|\n")
	for _, r := range res.Regimes {
		applies := "no"
		if r.Applies {
			applies = "**yes**"
		}
		if r.Unclear {
			applies += " (see notes)"
		}
		n := "–"
		if r.Applies {
			n = fmt.Sprint(r.Requirements)
		}
		fmt.Fprintf(b, "| %s | `%s` %s | %s | %s |\n", r.Jurisdiction, r.ID, mdEscape(r.ShortTitle), applies, n)
	}
	byRegime := map[string][]RequirementResult{}
	for _, q := range res.Requirements {
		byRegime[q.Regime] = append(byRegime[q.Regime], q)
	}
	for _, mk := range catalog.Markets {
		fmt.Fprintf(b, "\n## %s\n", marketTitles[mk])
		for _, r := range res.Regimes {
			if r.Jurisdiction != mk {
				continue
			}
			reg, _ := cat.Regime(r.ID)
			fmt.Fprintf(b, "\n### `%s` — %s\n\n", r.ID, mdEscape(reg.Title))
			fmt.Fprintf(b, "%s, %s, version %s (effective %s).\n\n", reg.Issuer, reg.Force, reg.Version, reg.Effective)
			verdict := "Does not apply."
			if r.Applies {
				verdict = "**Applies.**"
			}
			fmt.Fprintf(b, "%s %s\n\n", verdict, mdEscape(r.Rationale))
			if r.DutiesStart != "" {
				fmt.Fprintf(b, "Duties start: %s.\n\n", r.DutiesStart)
			}
			if len(r.Citations) > 0 {
				fmt.Fprintf(b, "Basis: %s.\n", mdEscape(strings.Join(r.Citations, "; ")))
			}
			for _, n := range reg.Notes {
				if n.Unverified {
					fmt.Fprintf(b, "\n> UNVERIFIED: %s\n", mdEscape(n.Text))
				}
			}
			if !r.Applies {
				continue
			}
			b.WriteString("\n| Requirement | Citations | Controls |\n|---|---|---|\n")
			var skipped []RequirementResult
			for _, q := range byRegime[r.ID] {
				if !q.Applies {
					skipped = append(skipped, q)
					continue
				}
				t := mdEscape(q.Title)
				if q.Unverified {
					t += " (UNVERIFIED)"
				}
				fmt.Fprintf(b, "| `%s` %s | %s | %s |\n", q.ID, t, mdEscape(strings.Join(q.Citations, "; ")), strings.Join(q.Controls, ", "))
			}
			if len(skipped) > 0 {
				fmt.Fprintf(b, "\nNot applicable to this device (%d):\n\n", len(skipped))
				for _, q := range skipped {
					fmt.Fprintf(b, "- `%s` %s: %s\n", q.ID, mdEscape(q.Title), mdEscape(q.Rationale))
				}
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

// WriteMatrixTable writes the control matrix as text: one block per control with the applicable
// clauses of each market.
func WriteMatrixTable(w io.Writer, m *Matrix) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "CONTROL\tTITLE\t%s\n", strings.Join(m.Markets, "\t"))
	for _, row := range m.Controls {
		counts := make([]string, len(m.Markets))
		for i, mk := range m.Markets {
			counts[i] = fmt.Sprint(len(row.Markets[mk]))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", row.ID, row.Title, strings.Join(counts, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	for _, row := range m.Controls {
		if row.Total == 0 {
			continue
		}
		fmt.Fprintf(w, "%s %s — one piece of evidence serves %d requirement(s):\n", row.ID, row.Title, row.Total)
		for _, mk := range m.Markets {
			for _, c := range row.Markets[mk] {
				fmt.Fprintf(w, "  %-3s %-48s %-9s %s\n", mk, c.Requirement, c.Mapping, strings.Join(c.Citations, "; "))
			}
		}
	}
	return nil
}

// WriteMatrixMarkdown writes the control matrix as a markdown report.
func WriteMatrixMarkdown(w io.Writer, m *Matrix) error {
	b := &strings.Builder{}
	fmt.Fprintf(b, "# Cross-market control matrix: %s\n\nCatalog version %s. Each row is a common control objective; the cells list the applicable requirements of each market that one piece of evidence for it serves.\n\n", m.Device, m.CatalogVersion)
	fmt.Fprintf(b, "| Control | %s |\n|---|%s\n", strings.Join(m.Markets, " | "), strings.Repeat("---|", len(m.Markets)))
	for _, row := range m.Controls {
		cells := make([]string, len(m.Markets))
		for i, mk := range m.Markets {
			var ids []string
			for _, c := range row.Markets[mk] {
				ids = append(ids, fmt.Sprintf("`%s` (%s)", c.Requirement, c.Mapping))
			}
			if len(ids) == 0 {
				cells[i] = "–"
			} else {
				cells[i] = strings.Join(ids, "<br>")
			}
		}
		fmt.Fprintf(b, "| **%s** %s | %s |\n", row.ID, mdEscape(row.Title), strings.Join(cells, " | "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
