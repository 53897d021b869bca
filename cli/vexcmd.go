package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vigil-med/vigil/portfolio"
	"github.com/vigil-med/vigil/sbom"
	"github.com/vigil-med/vigil/vex"
	"github.com/vigil-med/vigil/vuln"
)

func (e *env) vexCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "vex",
		Short: "Record VEX decisions on findings and exchange them as OpenVEX, CycloneDX VEX or CSAF VEX",
		Long: `VEX (Vulnerability Exploitability eXchange) says, per vulnerability and component of a device
version, whether the device is affected: not_affected (with one of CISA's justifications and/or an
impact statement), affected (with an action statement), fixed or under_investigation. Decisions are
audited, carried forward to new versions whose component did not change, and exported for
customers and regulators.`,
	}
	cmd.AddCommand(e.vexSetCmd(), e.vexExportCmd(), e.vexImportCmd())
	return cmd
}

var justificationNames = func() []string {
	var out []string
	for _, j := range vex.Justifications {
		out = append(out, string(j))
	}
	return out
}()

func (e *env) vexSetCmd() *cobra.Command {
	var db dbFlags
	var version, author, format string
	var d portfolio.Decision
	cmd := &cobra.Command{
		Use:   "set --version ID --advisory ID --status STATUS [--component PURL]",
		Short: "Record the VEX decision on one finding of a device version",
		Long: `Record a VEX decision on a finding of a device version. --advisory takes any ID of the
vulnerability (GO-…, GHSA-…, CVE-…); --component the component's package URL, or its name when
that is unambiguous, and may be left out when the advisory hits one component of the version.

  not_affected         needs --justification and/or --impact (why the device is not affected)
  affected             needs --action (what users should do)
  fixed, under_investigation  take neither

Justifications (CISA): ` + strings.Join(justificationNames, ", ") + `.`,
		Example: `  vigil vex set --version 4 --advisory CVE-2022-27664 --component pkg:golang/golang.org/x/net@v0.0.0-20210610132358-84b48f89b13b \
      --status not_affected --justification vulnerable_code_not_in_execute_path --impact "The pump never starts an HTTP/2 server."
  vigil vex set --version "InsuPump X2@2.1.0" --advisory GO-2023-2102 --status affected --action "Update the app to 2.1.1."`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !vex.Status(d.Status).Valid() {
				return usagef("--status %q: expected one of not_affected, affected, fixed, under_investigation", d.Status)
			}
			st, err := openAppStore(e.ctx, &db)
			if err != nil {
				return err
			}
			defer st.Close()
			v, err := resolveVersion(e.ctx, st, version)
			if err != nil {
				return err
			}
			got, err := portfolio.SetVEX(e.ctx, st, author, v.ID, d)
			if err != nil {
				return inputErr(err)
			}
			if format == "json" {
				return writeJSON(e.stdout, got)
			}
			why := ""
			if got.Justification != "" {
				why = " (" + got.Justification + ")"
			}
			fmt.Fprintf(e.stdout, "%s in %s of %s %s: %s%s, by %s at %s\n", got.AdvisoryID, got.ComponentKey, v.ProductName, v.Version, got.Status, why, got.Author, got.At.Format("2006-01-02 15:04:05 MST"))
			return nil
		},
	}
	db.register(cmd)
	cmd.Flags().StringVar(&version, "version", "", "device version: ID or PRODUCT@VERSION (required)")
	cmd.Flags().StringVar(&d.Advisory, "advisory", "", "advisory or CVE ID (required)")
	cmd.Flags().StringVar(&d.Component, "component", "", "component: package URL or name")
	cmd.Flags().StringVar(&d.Status, "status", "", "not_affected|affected|fixed|under_investigation (required)")
	cmd.Flags().StringVar(&d.Justification, "justification", "", "for not_affected: "+strings.Join(justificationNames, "|"))
	cmd.Flags().StringVar(&d.ImpactStatement, "impact", "", "for not_affected: why the device is not affected")
	cmd.Flags().StringVar(&d.ActionStatement, "action", "", "for affected: what users should do")
	cmd.Flags().StringVar(&author, "author", defaultAuthor(), "who decides [VIGIL_AUTHOR]")
	for _, f := range []string{"version", "advisory", "status"} {
		_ = cmd.MarkFlagRequired(f)
	}
	formatFlag(cmd, &format, "text", "text", "json")
	return cmd
}

func (e *env) vexExportCmd() *cobra.Command {
	var db dbFlags
	var version, format, out, author, namespace string
	cmd := &cobra.Command{
		Use:   "export --version ID --format openvex|cyclonedx|csaf",
		Short: "Write the VEX decisions of a device version as OpenVEX, CycloneDX VEX or CSAF 2.0 VEX",
		Long: `Write the VEX decisions of a device version: OpenVEX 0.2.0, CycloneDX 1.6 (a BOM with the device,
the components decided on and one vulnerability per decision), or CSAF 2.0 of category csaf_vex
(checked against the CSAF schema and the VEX profile's mandatory tests before it is written).
The device is named pkg:generic/<product>@<version>.`,
		Example: `  vigil vex export --version 4 --format csaf --namespace https://psirt.example.com -o pump-2.1.0.csaf.json`,
		Args:    cobra.NoArgs,
		PreRunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains(vex.FormatNames, format) {
				return usagef("--format %q: expected one of %s", format, strings.Join(vex.FormatNames, ", "))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := openAppStore(e.ctx, &db)
			if err != nil {
				return err
			}
			defer st.Close()
			v, err := resolveVersion(e.ctx, st, version)
			if err != nil {
				return err
			}
			data, err := portfolio.ExportVEX(e.ctx, st, v.ID, format, vex.Options{Author: author, Namespace: namespace, Tool: "vigil " + Version})
			if err != nil {
				return inputErr(err)
			}
			if out == "" {
				_, err = e.stdout.Write(data)
				return err
			}
			if err := os.WriteFile(out, data, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "wrote %s (%s, %d bytes)\n", out, format, len(data))
			return nil
		},
	}
	db.register(cmd)
	cmd.Flags().StringVar(&version, "version", "", "device version: ID or PRODUCT@VERSION (required)")
	cmd.Flags().StringVarP(&format, "format", "f", "", "openvex|cyclonedx|csaf (required)")
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to this file instead of stdout")
	cmd.Flags().StringVar(&author, "author", "", "document author / CSAF publisher (default: the product's manufacturer)")
	cmd.Flags().StringVar(&namespace, "namespace", "", "CSAF publisher namespace, a URL of the manufacturer's (default urn:vigil:publisher)")
	_ = cmd.MarkFlagRequired("version")
	_ = cmd.MarkFlagRequired("format")
	return cmd
}

func (e *env) vexImportCmd() *cobra.Command {
	var db dbFlags
	var version, author, format string
	cmd := &cobra.Command{
		Use:   "import --version ID FILE",
		Short: "Apply the statements of a VEX document (OpenVEX, CycloneDX or CSAF) to a device version",
		Long: `Read a VEX document (OpenVEX, CycloneDX VEX or CSAF VEX; the format is detected) and record its
statements as decisions of a device version, in one transaction. A statement about a component
applies to the version's finding of that component and vulnerability (by any of its IDs); a
statement about the whole product applies to every finding of the vulnerability in the version.
Statements that change nothing are left alone; what was skipped is reported.`,
		Example: `  vigil vex import --version 4 supplier-openvex.json`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			doc, err := vex.ReadFile(args[0])
			if err != nil {
				return usageError{err}
			}
			st, err := openAppStore(e.ctx, &db)
			if err != nil {
				return err
			}
			defer st.Close()
			v, err := resolveVersion(e.ctx, st, version)
			if err != nil {
				return err
			}
			res, err := portfolio.ImportVEX(e.ctx, st, author, v.ID, doc, filepath.Base(args[0]))
			if err != nil {
				return inputErr(err)
			}
			for _, w := range res.Warnings {
				fmt.Fprintf(e.stderr, "vigil: %s: %s\n", args[0], w)
			}
			for _, s := range res.Skipped {
				fmt.Fprintf(e.stderr, "vigil: %s: skipped %s\n", args[0], s)
			}
			if format == "json" {
				return writeJSON(e.stdout, res)
			}
			a := res.Applied
			fmt.Fprintf(e.stdout, "%s (%s): %d statements read; %d decisions added, %d updated, %d unchanged for %s %s; %d on findings of the version, %d skipped\n",
				args[0], res.Format, res.Statements, a.Added, a.Updated, a.Unchanged, v.ProductName, v.Version, res.Matched, len(res.Skipped))
			return nil
		},
	}
	db.register(cmd)
	cmd.Flags().StringVar(&version, "version", "", "device version: ID or PRODUCT@VERSION (required)")
	cmd.Flags().StringVar(&author, "author", defaultAuthor(), "who applies the document, for the audit trail [VIGIL_AUTHOR]")
	_ = cmd.MarkFlagRequired("version")
	formatFlag(cmd, &format, "text", "text", "json")
	return cmd
}

// applyVEX removes from findings those a VEX document judges not_affected or fixed for the
// scanned SBOM (see vex.Document.Decision) and returns the rest and how many were hidden.
func applyVEX(path string, doc *sbom.Document, findings []vuln.Finding) ([]vuln.Finding, int, error) {
	vd, err := vex.ReadFile(path)
	if err != nil {
		return nil, 0, usageError{fmt.Errorf("--vex: %w", err)}
	}
	subject := vex.Product{Name: doc.Name, Version: doc.Version}
	for _, c := range doc.Components {
		if c.Ref == doc.Root && c.PURL != "" {
			subject.ID = c.PURL
		}
	}
	kept := make([]vuln.Finding, 0, len(findings))
	hidden := 0
	for _, f := range findings {
		ids := append([]string{f.Advisory}, f.Aliases...)
		s := vd.Decision(ids, vex.Component{PURL: f.Component.PURL, Name: f.Component.Name, Version: f.Component.Version}, subject)
		if s != nil && s.Status.SignOff() {
			hidden++
			continue
		}
		kept = append(kept, f)
	}
	return kept, hidden, nil
}
