package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-med/vigil/portfolio"
	"github.com/vigil-med/vigil/store"
	"github.com/vigil-med/vigil/vuln"
)

// impactDoc is the `vigil impact --format json` document.
type impactDoc struct {
	Schema string `json:"schema"`
	*store.Impact
	ElapsedMS float64 `json:"elapsed_ms"`
}

func (e *env) impactCmd() *cobra.Command {
	var db dbFlags
	var format string
	cmd := &cobra.Command{
		Use:   "impact ADVISORY-ID",
		Short: "List the device versions a vulnerability affects, across the portfolio",
		Long: `Answer "who is hit by this vulnerability?" from the SBOMs stored for device versions (vigil sbom
import) and the advisories loaded with vigil vulndb import. The ID may be any of the
vulnerability's IDs (GO-…, GHSA-…, PYSEC-…, CVE-…): aliases are followed. Components are matched as
vigil scan matches them, and each affected component is listed with its device version, the
versions that fix it, the SBOMs that list it and its current VEX decision.`,
		Example: `  vigil impact CVE-2023-39325
  vigil impact GO-2022-0969 --format json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// Impact only reads: open read-only, so that it never changes the database.
			st, err := openReadOnly(e.ctx, store.Config{DataDir: db.data, DatabaseURL: db.url}, "")
			if err != nil {
				return err
			}
			defer st.Close()
			imp, err := st.Impact(e.ctx, args[0])
			if err != nil {
				return inputErr(err)
			}
			if format == "json" {
				err = writeJSON(e.stdout, impactDoc{Schema: "vigil/impact/v1", Impact: imp, ElapsedMS: float64(imp.Elapsed.Microseconds()) / 1000})
			} else {
				err = writeImpact(e.stdout, imp)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "%s: %d device versions of %d products affected (%d components); answered in %s\n",
				args[0], imp.DeviceVersions, imp.Products, len(imp.Affected), imp.Elapsed.Round(10*time.Microsecond))
			return nil
		},
	}
	db.register(cmd)
	formatFlag(cmd, &format, "table", "table", "json")
	return cmd
}

func writeImpact(w io.Writer, imp *store.Impact) error {
	title := imp.Query
	var others []string
	for _, id := range imp.IDs {
		if id != imp.Query {
			others = append(others, id)
		}
	}
	if len(others) > 0 {
		title += " (" + strings.Join(others, ", ") + ")"
	}
	if imp.Summary != "" {
		title += ": " + imp.Summary
	}
	fmt.Fprintln(w, title)
	sev := imp.Severity.Rating
	if imp.Severity.Score != nil {
		sev += " " + strconv.FormatFloat(*imp.Severity.Score, 'f', 1, 64)
	}
	kev := "no"
	if imp.KnownExploited {
		kev = "yes (CISA KEV)"
	}
	fmt.Fprintf(w, "severity %s; known exploited: %s\n", sev, kev)
	if len(imp.Withdrawn) > 0 {
		fmt.Fprintf(w, "withdrawn advisories (match nothing): %s\n", strings.Join(imp.Withdrawn, ", "))
	}
	if len(imp.Affected) == 0 {
		_, err := fmt.Fprintln(w, "\nNo stored device version is affected.")
		return err
	}
	var triage []string
	for _, st := range []string{store.StatusUntriaged, "affected", "under_investigation", "not_affected", "fixed"} {
		if n := imp.Triage[st]; n > 0 {
			triage = append(triage, fmt.Sprintf("%d %s", n, st))
		}
	}
	fmt.Fprintf(w, "%d device versions of %d products affected (%s):\n\n", imp.DeviceVersions, imp.Products, strings.Join(triage, ", "))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PRODUCT\tVERSION\tID\tCOMPONENT\tCOMPONENT VERSION\tFIXED IN\tVEX\tSBOM")
	for _, a := range imp.Affected {
		st := "-"
		if a.VEX != nil {
			st = a.VEX.Status
		}
		fixed := "-"
		if len(a.FixedIn) > 0 {
			fixed = a.FixedIn[0]
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", a.ProductName, a.Version, a.DeviceVersionID, a.Component.Name, a.Component.Version, fixed, st, strings.Join(a.Sources, ", "))
	}
	return tw.Flush()
}

// openAppStore opens the application database, which must be at this vigil's schema.
func openAppStore(ctx context.Context, db *dbFlags) (*store.Store, error) {
	st, err := db.open(ctx, nil)
	if err != nil {
		return nil, err
	}
	if err := st.CheckSchema(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// inputErr makes errors caused by what the user gave (unknown version or advisory, a file that
// cannot be read, an invalid decision) usage errors (exit 2).
func inputErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, portfolio.ErrInput) || errors.Is(err, vuln.ErrBadInput) {
		return usageError{err}
	}
	return err
}

// resolveVersion finds a device version by ID or as "PRODUCT@VERSION" (product name in any
// case).
func resolveVersion(ctx context.Context, st *store.Store, ref string) (store.DeviceVersion, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return store.DeviceVersion{}, usagef("--version: give a device version ID or PRODUCT@VERSION")
	}
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		v, err := st.DeviceVersion(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return v, usagef("--version %d: no such device version", id)
		}
		return v, err
	}
	i := strings.LastIndexByte(ref, '@')
	if i <= 0 {
		return store.DeviceVersion{}, usagef("--version %q: expected a device version ID or PRODUCT@VERSION", ref)
	}
	name, version := ref[:i], ref[i+1:]
	ps, err := st.ListProducts(ctx)
	if err != nil {
		return store.DeviceVersion{}, err
	}
	for _, p := range ps {
		if !strings.EqualFold(p.Name, name) {
			continue
		}
		vs, err := st.ListDeviceVersions(ctx, p.ID)
		if err != nil {
			return store.DeviceVersion{}, err
		}
		for _, v := range vs {
			if v.Version == version {
				return v, nil
			}
		}
		return store.DeviceVersion{}, usagef("--version %q: %s has no version %q", ref, p.Name, version)
	}
	return store.DeviceVersion{}, usagef("--version %q: no product named %q", ref, name)
}

// defaultAuthor is who CLI writes are recorded as without --author: $VIGIL_AUTHOR, else
// cli:<login name>.
func defaultAuthor() string {
	if a := strings.TrimSpace(os.Getenv("VIGIL_AUTHOR")); a != "" {
		return a
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "cli:" + u.Username
	}
	return "cli"
}

// refreshPortfolio refreshes the findings of the stored device versions that a vulnerability
// import can have changed and reports the device versions newly affected on stderr. It warns
// rather than fails: the import itself is committed.
func (e *env) refreshPortfolio(st *store.Store, counts []store.FeedCounts) {
	res, err := st.RefreshAfterVulnImport(e.ctx, store.ActorSystem, counts)
	if err != nil {
		fmt.Fprintf(e.stderr, "vigil: warning: the findings of stored device versions were not refreshed (%v); run `vigil sbom refresh`\n", err)
		return
	}
	e.reportRefresh(res, "after the import")
}

// reportRefresh prints a findings refresh: counts, then the device versions with new findings.
func (e *env) reportRefresh(res store.RefreshResult, when string) {
	if res.Versions == 0 {
		return
	}
	vs := res.NewVersions()
	fmt.Fprintf(e.stderr, "portfolio: findings of %d device versions refreshed %s: %d new in %d device versions, %d resolved, %d open\n",
		res.Versions, when, len(res.New), len(vs), res.Resolved, res.Open)
	const maxVersions, maxIDs = 20, 6
	for i, v := range vs {
		if i == maxVersions {
			fmt.Fprintf(e.stderr, "  … and %d more device versions (vigil impact ID, or GET /api/v1/findings/new)\n", len(vs)-maxVersions)
			break
		}
		var ids []string
		name := ""
		for _, f := range res.New {
			if f.DeviceVersionID != v {
				continue
			}
			name = f.ProductName + " " + f.Version
			if len(ids) < maxIDs {
				ids = append(ids, f.Advisory+" ("+f.Component.Name+")")
			} else if len(ids) == maxIDs {
				ids = append(ids, "…")
			}
		}
		fmt.Fprintf(e.stderr, "  %s (device version %d): %s\n", name, v, strings.Join(ids, ", "))
	}
}
