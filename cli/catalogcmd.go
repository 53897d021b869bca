package cli

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/goccy/go-yaml"
	"github.com/spf13/cobra"

	"github.com/vigil-med/vigil/catalog"
	"github.com/vigil-med/vigil/period"
)

func (e *env) catalogCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "catalog",
		Short: "Browse and export the regulatory catalog",
	}
	cmd.AddCommand(e.catalogListCmd(), e.catalogShowCmd(), e.catalogExportCmd())
	return cmd
}

func (e *env) catalogListCmd() *cobra.Command {
	var format, market, control, search string
	cmd := &cobra.Command{
		Use:   "list [REGIME]",
		Short: "List regimes, or the requirements of one regime, a market, a control or a search",
		Example: `  vigil catalog list
  vigil catalog list eu.nis2
  vigil catalog list --control sbom
  vigil catalog list --market UK --search incident`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cat, err := loadCatalog()
			if err != nil {
				return err
			}
			if len(args) == 0 && market == "" && control == "" && search == "" {
				return e.listRegimes(cat, format)
			}
			reqs := cat.Requirements()
			if search != "" {
				reqs = cat.Search(search)
			}
			if len(args) == 1 {
				if _, ok := cat.Regime(args[0]); !ok {
					return usagef("unknown regime %q; expected one of %s", args[0], strings.Join(catalog.RegimeIDs, ", "))
				}
				reqs = keep(reqs, func(r *catalog.Requirement) bool { return r.Regime == args[0] })
			}
			if market != "" {
				mk := strings.ToUpper(market)
				if mk == "GB" {
					mk = "UK"
				}
				if !slices.Contains(catalog.Markets, mk) {
					return usagef("--market %q: expected one of US, CA, EU, UK", market)
				}
				reqs = keep(reqs, func(r *catalog.Requirement) bool {
					reg, _ := cat.Regime(r.Regime)
					return reg.Jurisdiction == mk
				})
			}
			if control != "" {
				ctl, ok := cat.Control(control)
				if !ok {
					return usagef("--control %q: expected a control ID (CO-01..CO-%02d) or key such as sbom", control, len(cat.Controls))
				}
				reqs = keep(reqs, func(r *catalog.Requirement) bool { return slices.Contains(r.ControlIDs(), ctl.ID) })
			}
			if format == "json" {
				out := make([]catalog.ExportRequirement, 0, len(reqs))
				exp := cat.Export()
				for _, reg := range exp.Regimes {
					for _, q := range reg.Requirements {
						if slices.ContainsFunc(reqs, func(r *catalog.Requirement) bool { return r.ID == q.ID }) {
							out = append(out, q)
						}
					}
				}
				return writeJSON(e.stdout, map[string]any{"schema": "vigil/requirements/v1", "catalog_version": cat.Version, "requirements": out})
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "REQUIREMENT\tTITLE\tCITATION\tCONTROLS")
			for _, r := range reqs {
				title := r.Title
				if r.Unverified() {
					title += " [UNVERIFIED]"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.ID, title, r.Citations[0], strings.Join(r.ControlIDs(), ","))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "%d requirement(s)\n", len(reqs))
			return nil
		},
	}
	formatFlag(cmd, &format, "table", "table", "json")
	cmd.Flags().StringVar(&market, "market", "", "only requirements of this market: US, CA, EU, UK")
	cmd.Flags().StringVar(&control, "control", "", "only requirements mapped to this control objective (ID or key)")
	cmd.Flags().StringVar(&search, "search", "", "only requirements whose text contains all these words")
	return cmd
}

func keep(reqs []*catalog.Requirement, f func(*catalog.Requirement) bool) []*catalog.Requirement {
	var out []*catalog.Requirement
	for _, r := range reqs {
		if f(r) {
			out = append(out, r)
		}
	}
	return out
}

func (e *env) listRegimes(cat *catalog.Catalog, format string) error {
	if format == "json" {
		type row struct {
			ID           string `json:"id"`
			Title        string `json:"title"`
			Jurisdiction string `json:"jurisdiction"`
			Force        string `json:"force"`
			Version      string `json:"version"`
			Effective    string `json:"effective"`
			Requirements int    `json:"requirements"`
		}
		var rows []row
		for _, r := range cat.Regimes {
			rows = append(rows, row{r.ID, r.Title, r.Jurisdiction, r.Force, r.Version, r.Effective, len(r.Requirements)})
		}
		return writeJSON(e.stdout, map[string]any{"schema": "vigil/regimes/v1", "catalog_version": cat.Version, "regimes": rows})
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "REGIME\tMARKET\tFORCE\tVERSION\tEFFECTIVE\tREQS\tTITLE")
	total := 0
	for _, r := range cat.Regimes {
		total += len(r.Requirements)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", r.ID, r.Jurisdiction, r.Force, r.Version, r.Effective, len(r.Requirements), r.ShortTitle)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "catalog %s: %d regimes, %d requirements, %d control objectives\n", cat.Version, len(cat.Regimes), total, len(cat.Controls))
	return nil
}

func (e *env) catalogShowCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show a regime, a requirement, a control objective (CO-05 or sbom) or an evidence type",
		Example: `  vigil catalog show us.fdca-524b.sbom
  vigil catalog show CO-05
  vigil catalog show eu.nis2 --format json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cat, err := loadCatalog()
			if err != nil {
				return err
			}
			id := args[0]
			exp := cat.Export()
			var obj any
			var text func(w io.Writer)
			if r, ok := cat.Regime(id); ok {
				for _, er := range exp.Regimes {
					if er.ID == r.ID {
						obj = er
					}
				}
				text = func(w io.Writer) { showRegime(w, r) }
			} else if q, ok := cat.Requirement(id); ok {
				for _, er := range exp.Regimes {
					for _, eq := range er.Requirements {
						if eq.ID == q.ID {
							obj = eq
						}
					}
				}
				text = func(w io.Writer) { showRequirement(w, cat, q) }
			} else if ctl, ok := cat.Control(id); ok {
				for _, ec := range exp.Controls {
					if ec.ID == ctl.ID {
						obj = ec
					}
				}
				text = func(w io.Writer) { showControl(w, cat, ctl) }
			} else if ev, ok := cat.EvidenceType(id); ok {
				obj = ev
				text = func(w io.Writer) { showEvidence(w, cat, ev) }
			} else {
				hint := ""
				if m := cat.Search(strings.NewReplacer(".", " ", "-", " ").Replace(id)); len(m) > 0 {
					hint = "; did you mean " + m[0].ID + "?"
				}
				return usagef("no regime, requirement, control or evidence type %q%s", id, hint)
			}
			switch format {
			case "json":
				return writeJSON(e.stdout, obj)
			case "yaml":
				out, err := yaml.MarshalWithOptions(obj, yaml.UseLiteralStyleIfMultiline(true))
				if err != nil {
					return err
				}
				_, err = e.stdout.Write(out)
				return err
			}
			bw := bufio.NewWriter(e.stdout)
			text(bw)
			return bw.Flush()
		},
	}
	formatFlag(cmd, &format, "text", "text", "json", "yaml")
	return cmd
}

func para(w io.Writer, label, text string) {
	text = strings.Join(strings.Fields(text), " ")
	if text == "" {
		return
	}
	fmt.Fprintf(w, "%s:\n", label)
	line := "  "
	for _, word := range strings.Fields(text) {
		if len(line)+len(word) > 100 {
			fmt.Fprintln(w, line)
			line = "  "
		}
		line += word + " "
	}
	fmt.Fprintln(w, strings.TrimRight(line, " "))
}

func showRegime(w io.Writer, r *catalog.Regime) {
	fmt.Fprintf(w, "%s — %s\n", r.ID, r.Title)
	fmt.Fprintf(w, "Issuer: %s\nJurisdiction: %s   Force: %s   Version: %s   Effective: %s\nSource: %s\nConfidence: %s\n\n",
		r.Issuer, r.Jurisdiction, r.Force, r.Version, r.Effective, r.Source, r.Confidence)
	para(w, "Summary", r.Summary)
	para(w, "Scope", r.Scope)
	if len(r.History) > 0 {
		fmt.Fprintln(w, "Versions:")
		for _, h := range r.History {
			fmt.Fprintf(w, "  %-10s %-10s %-11s %s\n", h.Version, h.Date, h.Status, h.Title)
		}
		fmt.Fprintf(w, "  %-10s %-10s %-11s %s\n", r.Version, r.Effective, "current", r.Title)
	}
	for _, n := range r.Notes {
		label := "Note"
		if n.Unverified {
			label = "UNVERIFIED"
		}
		para(w, label, n.Text)
	}
	fmt.Fprintf(w, "\nRequirements (%d):\n", len(r.Requirements))
	for _, q := range r.Requirements {
		fmt.Fprintf(w, "  %-55s %s\n", q.ID, q.Title)
	}
}

func showRequirement(w io.Writer, cat *catalog.Catalog, q *catalog.Requirement) {
	reg, _ := cat.Regime(q.Regime)
	fmt.Fprintf(w, "%s — %s\n", q.ID, q.Title)
	fmt.Fprintf(w, "Regime: %s (%s, %s)\n", reg.ID, reg.ShortTitle, reg.Force)
	if q.Group != "" {
		fmt.Fprintf(w, "Section: %s\n", q.Group)
	}
	if q.Unverified() {
		fmt.Fprintln(w, "Confidence: UNVERIFIED")
	} else {
		fmt.Fprintf(w, "Confidence: %s\n", q.Confidence)
	}
	fmt.Fprintln(w)
	para(w, "Summary", q.Summary)
	para(w, "Note", q.Note)
	fmt.Fprintln(w, "Citations:")
	for _, c := range q.Citations {
		fmt.Fprintf(w, "  %s\n", c)
	}
	fmt.Fprintln(w, "Evidence expected:")
	for _, k := range q.Evidence {
		ev, _ := cat.EvidenceType(k)
		fmt.Fprintf(w, "  %-32s %s\n", k, ev.Title)
	}
	if q.When != nil {
		fmt.Fprintln(w, "Applies only when:")
		out, _ := yaml.Marshal(q.When)
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
	if q.Clock != nil {
		fmt.Fprintln(w, "Clock:")
		fmt.Fprintf(w, "  Trigger:   %s\n", strings.Join(strings.Fields(q.Clock.Trigger), " "))
		fmt.Fprintf(w, "  Recipient: %s\n", q.Clock.Recipient)
		for _, d := range q.Clock.Deadlines {
			when := strings.Join(strings.Fields(d.Note), " ")
			if d.Within != "" {
				p, _ := period.Parse(d.Within)
				when = fmt.Sprintf("within %s (%s, %s) from %s", p.Human(), d.Within, d.Calendar, d.From)
				if d.CalendarName != "" {
					when += ", " + d.CalendarName + " holidays"
				}
			}
			fmt.Fprintf(w, "  - %s: %s\n", d.Obligation, when)
		}
	}
	fmt.Fprintln(w, "Control objectives, and the same objective in other markets:")
	for _, ref := range q.Controls {
		ctl, _ := cat.Control(ref.ID)
		fmt.Fprintf(w, "  %s %s (%s)\n", ctl.ID, ctl.Title, ref.Mapping)
		for _, mk := range catalog.Markets {
			if mk == reg.Jurisdiction {
				continue
			}
			var ids []string
			for _, o := range ctl.Requirements {
				if oreg, _ := cat.Regime(o.Regime); oreg.Jurisdiction == mk {
					ids = append(ids, o.ID)
				}
			}
			if len(ids) == 0 {
				continue
			}
			more := ""
			if len(ids) > 4 {
				more = fmt.Sprintf(" and %d more (vigil catalog show %s)", len(ids)-4, ctl.ID)
				ids = ids[:4]
			}
			fmt.Fprintf(w, "      %s: %s%s\n", mk, strings.Join(ids, ", "), more)
		}
	}
}

func showControl(w io.Writer, cat *catalog.Catalog, ctl *catalog.Control) {
	fmt.Fprintf(w, "%s (%s) — %s\n\n", ctl.ID, ctl.Key, ctl.Title)
	para(w, "Objective", ctl.Description)
	if len(ctl.Standards) > 0 {
		fmt.Fprintf(w, "Standards: %s\n", strings.Join(ctl.Standards, "; "))
	}
	fmt.Fprintf(w, "\nRequirements it serves (%d):\n", len(ctl.Requirements))
	for _, mk := range catalog.Markets {
		for _, q := range ctl.Requirements {
			reg, _ := cat.Regime(q.Regime)
			if reg.Jurisdiction != mk {
				continue
			}
			mapping := ""
			for _, ref := range q.Controls {
				if ref.ID == ctl.ID {
					mapping = ref.Mapping
				}
			}
			fmt.Fprintf(w, "  %-3s %-55s %-9s %s\n", mk, q.ID, mapping, q.Citations[0])
		}
	}
}

func showEvidence(w io.Writer, cat *catalog.Catalog, ev *catalog.EvidenceType) {
	fmt.Fprintf(w, "%s — %s\n", ev.Key, ev.Title)
	para(w, "Description", ev.Description)
	fmt.Fprintln(w, "Requirements that expect it:")
	for _, q := range cat.Requirements() {
		if slices.Contains(q.Evidence, ev.Key) {
			fmt.Fprintf(w, "  %s\n", q.ID)
		}
	}
}

func (e *env) catalogExportCmd() *cobra.Command {
	var format, out string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Export the whole catalog as JSON, YAML, CSV or an OSCAL 1.0.6 catalog",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cat, err := loadCatalog()
			if err != nil {
				return err
			}
			w := e.stdout
			var f *os.File
			if out != "" && out != "-" {
				f, err = os.Create(out)
				if err != nil {
					return err
				}
				w = f
			}
			switch format {
			case "yaml":
				err = cat.WriteYAML(w)
			case "csv":
				err = cat.WriteCSV(w)
			case "oscal":
				err = cat.WriteOSCAL(w)
			default:
				err = cat.WriteJSON(w)
			}
			if f != nil {
				if cerr := f.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					os.Remove(out)
				}
			}
			return err
		},
	}
	formatFlag(cmd, &format, "json", "json", "yaml", "csv", "oscal")
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to this file instead of stdout")
	return cmd
}
