package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vigil-med/vigil/portfolio"
	"github.com/vigil-med/vigil/sbom"
	"github.com/vigil-med/vigil/store"
	"github.com/vigil-med/vigil/vuln"
)

func (e *env) sbomImportCmd() *cobra.Command {
	var db dbFlags
	var version, label, author, format string
	var replace bool
	cmd := &cobra.Command{
		Use:   "import --version ID FILE",
		Short: "Store an SBOM for a device version and compute its findings",
		Long: `Store an SBOM (CycloneDX or SPDX, as vigil sbom check reads them) for a device version in the
database. A version may have several SBOMs, one per --label (firmware, mobile app, cloud service,
...); its findings are computed over all of them by the matcher of vigil scan, against the
advisories loaded with vigil vulndb import, and are kept up to date when advisories change. VEX
decisions made on earlier versions of the same product are carried forward to components that did
not change. --version takes the device version ID or PRODUCT@VERSION.`,
		Example: `  vigil sbom import --version 4 --label firmware pump-fw.cdx.json
  vigil sbom import --version "InsuPump X2@2.1.0" --label "mobile app" app.spdx.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return usagef("%s: %v", args[0], err)
			}
			if len(data) > sbom.MaxSize {
				return usagef("%s: %d bytes; at most %d are accepted", args[0], len(data), sbom.MaxSize)
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
			if n, err := st.AdvisoryCount(e.ctx); err == nil && n == 0 {
				fmt.Fprintln(e.stderr, "vigil: warning: the database holds no advisories, so no findings; load them with `vigil vulndb import` (findings are then computed)")
			}
			res, err := portfolio.ImportSBOM(e.ctx, st, author, v.ID, label, filepath.Base(args[0]), data, replace)
			if err != nil {
				return inputErr(err)
			}
			if format == "json" {
				return writeJSON(e.stdout, struct {
					Schema string `json:"schema"`
					store.SBOMImport
				}{"vigil/sbom-import/v1", res})
			}
			b := res.SBOM
			q := "-"
			if b.Quality != nil {
				q = fmt.Sprint(*b.Quality)
			}
			verb := "stored"
			if res.Replaced != nil {
				verb = "replaced"
			}
			fmt.Fprintf(e.stdout, "%s %q SBOM %s (%s %s, %d components, quality %s) as SBOM %d of %s %s (device version %d)\n",
				verb, b.Label, b.Filename, b.Format, b.SpecVersion, b.Components, q, b.ID, v.ProductName, v.Version, v.ID)
			f := res.Findings
			byRating := map[string]int{}
			for _, n := range f.New {
				byRating[n.Severity.Rating]++
			}
			var parts []string
			for _, r := range []string{vuln.RatingCritical, vuln.RatingHigh, vuln.RatingMedium, vuln.RatingLow, vuln.RatingNone, vuln.RatingUnknown} {
				if n := byRating[r]; n > 0 {
					parts = append(parts, fmt.Sprintf("%d %s", n, r))
				}
			}
			newText := fmt.Sprintf("%d new", len(f.New))
			if len(parts) > 0 {
				newText += " (" + strings.Join(parts, ", ") + ")"
			}
			fmt.Fprintf(e.stdout, "findings: %d open, %s, %d resolved\n", f.Open, newText, f.Resolved)
			if len(res.Carried) > 0 {
				from := map[int64]bool{}
				for _, c := range res.Carried {
					from[c.CarriedFrom] = true
				}
				fmt.Fprintf(e.stdout, "VEX: %d decisions carried forward from %d earlier versions (unchanged components)\n", len(res.Carried), len(from))
			}
			return nil
		},
	}
	db.register(cmd)
	cmd.Flags().StringVar(&version, "version", "", "device version: ID or PRODUCT@VERSION (required)")
	cmd.Flags().StringVar(&label, "label", store.DefaultSBOMLabel, "what part of the device the SBOM describes (firmware, mobile app, cloud service, ...)")
	cmd.Flags().BoolVar(&replace, "replace", false, "replace the version's SBOM of the same label")
	cmd.Flags().StringVar(&author, "author", defaultAuthor(), "who imports it, for the audit trail [VIGIL_AUTHOR]")
	_ = cmd.MarkFlagRequired("version")
	formatFlag(cmd, &format, "text", "text", "json")
	return cmd
}

func (e *env) sbomRefreshCmd() *cobra.Command {
	var db dbFlags
	var version string
	cmd := &cobra.Command{
		Use:   "refresh [--version ID]",
		Short: "Recompute the findings of stored SBOMs against the advisories in the database",
		Long: `Recompute the findings of one device version, or of every version with a stored SBOM, against
the advisories now in the database. vigil vulndb import and sync do this for what they change;
run it when they could not (they say so).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := openAppStore(e.ctx, &db)
			if err != nil {
				return err
			}
			defer st.Close()
			var ids []int64
			if version != "" {
				v, err := resolveVersion(e.ctx, st, version)
				if err != nil {
					return err
				}
				ids = []int64{v.ID}
			}
			res, err := st.RefreshFindings(e.ctx, store.ActorSystem, ids)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "%d device versions refreshed: %d open findings, %d new, %d resolved\n", res.Versions, res.Open, len(res.New), res.Resolved)
			e.reportRefresh(res, "now")
			return nil
		},
	}
	db.register(cmd)
	cmd.Flags().StringVar(&version, "version", "", "device version: ID or PRODUCT@VERSION (default: all with SBOMs)")
	return cmd
}
