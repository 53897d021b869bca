package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-med/vigil/store"
	"github.com/vigil-med/vigil/vuln"
)

// Public feed locations used by `vigil vulndb sync` unless overridden.
const (
	// defaultOSVURL is osv.dev's bucket of per-ecosystem exports; {ecosystem} is replaced by the
	// (path-escaped) OSV ecosystem name.
	defaultOSVURL  = "https://osv-vulnerabilities.storage.googleapis.com/{ecosystem}/all.zip"
	defaultKEVURL  = "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"
	defaultEPSSURL = "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz"
)

// syncEcosystems are the OSV ecosystems `vulndb sync` fetches by default: those Vigil maps
// package URLs onto.
var syncEcosystems = []string{vuln.EcoGo, vuln.EcoPyPI, vuln.EcoCrates, vuln.EcoNpm, vuln.EcoMaven, vuln.EcoNuGet,
	vuln.EcoRubyGems, vuln.EcoPackagist, vuln.EcoHex, vuln.EcoPub, vuln.EcoSwiftURL, vuln.EcoActions}

// vulnDBFlags select the vulnerability database: a dedicated SQLite file (--db) or the
// application database (--data / --database-url).
type vulnDBFlags struct {
	dbFlags
	file    string
	created bool // open created the --db file
}

func (v *vulnDBFlags) register(cmd *cobra.Command) {
	v.dbFlags.register(cmd)
	cmd.Flags().StringVar(&v.file, "db", "", "vulnerability database file (SQLite) made by `vigil vulndb import`; default: the --data / --database-url database")
}

// open opens the database. create (import, sync): a missing --db file is created, and a --db
// file is a database of its own, migrated as needed; the application database must already be
// at this vigil's schema (run `vigil migrate`), except that an empty one is created. Without
// create (scan, stats) the database is opened read-only and never changed: a missing file is an
// error, and a schema other than this vigil's is refused rather than migrated (openReadOnly).
func (v *vulnDBFlags) open(ctx context.Context, create bool) (*store.Store, error) {
	if !create {
		if v.file != "" {
			return openReadOnly(ctx, store.Config{SQLiteFile: v.file}, v.file)
		}
		return openReadOnly(ctx, store.Config{DataDir: v.data, DatabaseURL: v.url}, "")
	}
	if v.file != "" {
		if fi, err := os.Stat(v.file); err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				return nil, usagef("--db %s: no such vulnerability database; create it with `vigil vulndb import PATH... --db %s`", v.file, v.file)
			}
			v.created = true
		} else if fi.IsDir() {
			return nil, usagef("--db %s: is a directory; expected a database file", v.file)
		}
		st, err := store.Open(ctx, store.Config{SQLiteFile: v.file})
		if err != nil {
			return nil, err
		}
		if err := st.Migrate(ctx); err != nil {
			v.discard(st)
			return nil, err
		}
		return st, nil
	}
	st, err := v.dbFlags.open(ctx, nil)
	if err != nil {
		return nil, err
	}
	cur, _, err := st.SchemaVersion(ctx)
	if err == nil {
		if cur == 0 {
			err = st.Migrate(ctx)
		} else {
			err = st.CheckSchema(ctx)
		}
	}
	if err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// discard closes st and, when open created the --db file, removes it again: a failed first
// import leaves no empty database behind.
func (v *vulnDBFlags) discard(st *store.Store) {
	st.Close()
	if v.created {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(v.file + suffix)
		}
	}
}

func (e *env) vulndbCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "vulndb",
		Short: "Load and inspect vulnerability data (OSV advisories, CISA KEV, FIRST EPSS) for `vigil scan`",
	}
	cmd.AddCommand(e.vulndbImportCmd(), e.vulndbSyncCmd(), e.vulndbStatsCmd())
	return cmd
}

// badFeed turns the readers' input errors into usage errors (exit 2).
func badFeed(err error) error {
	if err != nil && errors.Is(err, vuln.ErrBadInput) {
		return usageError{err}
	}
	return err
}

// importSources imports detected sources (named by names, which may differ from their paths)
// in one transaction and reports each feed on stderr.
func (e *env) importSources(st *store.Store, srcs []vuln.Source, names []string, skipInvalid bool) ([]store.FeedCounts, error) {
	lim := vuln.DefaultLimits
	counts, err := st.ImportVulnFeeds(e.ctx, store.ActorSystem, func(imp *store.VulnImport) error {
		for i, src := range srcs {
			if err := imp.Begin(names[i], string(src.Kind)); err != nil {
				return err
			}
			version := ""
			switch src.Kind {
			case vuln.KindOSV:
				opts := vuln.ReadOptions{Limits: lim, Prepare: imp.PrepareAdvisory}
				if skipInvalid {
					opts.OnInvalid = func(err error) {
						fmt.Fprintf(e.stderr, "vigil: skipped: %v\n", err)
						imp.Skip()
					}
				}
				if err := vuln.ReadOSV(e.ctx, src, opts, imp.Advisory); err != nil {
					return badFeed(err)
				}
			case vuln.KindKEV:
				cat, err := vuln.ReadKEV(src.Path, lim)
				if err != nil {
					return badFeed(err)
				}
				if err := imp.KEV(cat); err != nil {
					return err
				}
				version = cat.Version
			case vuln.KindEPSS:
				meta, err := vuln.ReadEPSS(src.Path, lim, imp.EPSS)
				if err != nil {
					return badFeed(err)
				}
				version = strings.TrimSpace(meta.ModelVersion + " " + meta.ScoreDate)
			}
			c, err := imp.End(version)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "%s (%s, %s): %d records: %d added, %d updated, %d unchanged, %d withdrawn", c.Source, c.Kind, layoutName(src), c.Records, c.Added, c.Updated, c.Unchanged, c.Withdrawn)
			if c.Skipped > 0 {
				fmt.Fprintf(e.stderr, ", %d skipped", c.Skipped)
			}
			fmt.Fprintf(e.stderr, " in %s (%.0f records/s)\n", c.Elapsed.Round(time.Millisecond), c.PerSecond())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	e.refreshPortfolio(st, counts)
	return counts, nil
}

func layoutName(src vuln.Source) string {
	if src.Gzip {
		return src.Layout + ".gz"
	}
	return src.Layout
}

func (e *env) printFeedCounts(format string, counts []store.FeedCounts) error {
	if format != "json" {
		return nil
	}
	type feed struct {
		store.FeedCounts
		Seconds float64 `json:"seconds"`
	}
	out := struct {
		Feeds []feed `json:"feeds"`
	}{Feeds: []feed{}}
	for _, c := range counts {
		out.Feeds = append(out.Feeds, feed{c, c.Elapsed.Seconds()})
	}
	return writeJSON(e.stdout, out)
}

func (e *env) vulndbImportCmd() *cobra.Command {
	var db vulnDBFlags
	var format string
	var skipInvalid bool
	cmd := &cobra.Command{
		Use:   "import PATH...",
		Short: "Load OSV advisories, the CISA KEV catalog and FIRST EPSS scores from files",
		Long: `Load vulnerability feeds from files. Each PATH is detected by its content:
  - an OSV zip as osv.dev publishes per ecosystem (<Ecosystem>/all.zip), or any zip of OSV JSON/YAML files;
  - a directory of OSV JSON or YAML files (searched recursively);
  - OSV JSON lines (one record per line), or one OSV record (JSON or YAML);
  - the CISA Known Exploited Vulnerabilities catalog (known_exploited_vulnerabilities.json);
  - a FIRST EPSS scores CSV (epss_scores-YYYY-MM-DD.csv[.gz]).
Files may be gzip-compressed. Running it again updates: advisories are replaced only when their
"modified" time or content changed. The whole import is one transaction: a bad record anywhere
(reported with its file and ID) leaves the database as it was, unless --skip-invalid is given.
With --db the file is created when absent.`,
		Example: `  vigil vulndb import golang-all.zip pypi-all.zip known_exploited_vulnerabilities.json epss_scores-current.csv.gz --db vulns.db`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			srcs := make([]vuln.Source, 0, len(args))
			for _, p := range args {
				src, err := vuln.Detect(p)
				if err != nil {
					return badFeed(err)
				}
				srcs = append(srcs, src)
			}
			return e.importInto(&db, srcs, args, skipInvalid, format)
		},
	}
	db.register(cmd)
	cmd.Flags().BoolVar(&skipInvalid, "skip-invalid", false, "pass over bad OSV records (each is reported on stderr) instead of stopping")
	formatFlag(cmd, &format, "text", "text", "json")
	return cmd
}

func (e *env) vulndbSyncCmd() *cobra.Command {
	var db vulnDBFlags
	var format, osvURL, kevURL, epssURL string
	var ecosystems []string
	var noKEV, noEPSS, skipInvalid bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "Download and load the OSV, CISA KEV and FIRST EPSS feeds",
		Long: `Download the feeds over HTTPS and load them as ` + "`vigil vulndb import`" + ` does, in one transaction:
the OSV export of each ecosystem (osv.dev's <Ecosystem>/all.zip), the CISA KEV catalog and the
current FIRST EPSS scores. Everything is downloaded (to a temporary directory, size-limited)
before anything is written. Default ecosystems: ` + strings.Join(syncEcosystems, ", ") + `.`,
		Example: `  vigil vulndb sync --db vulns.db --ecosystem Go --ecosystem PyPI
  vigil vulndb sync --osv-url https://mirror.example/osv/{ecosystem}/all.zip --no-epss`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(ecosystems) == 0 {
				ecosystems = syncEcosystems
			}
			type feed struct{ url, file, kind string }
			var feeds []feed
			for _, eco := range ecosystems {
				eco = strings.TrimSpace(eco)
				if eco == "" {
					return usagef("--ecosystem: empty name")
				}
				u := osvURL
				if strings.Contains(u, "{ecosystem}") {
					u = strings.ReplaceAll(u, "{ecosystem}", url.PathEscape(eco))
				} else {
					u = strings.TrimSuffix(u, "/") + "/" + url.PathEscape(eco) + "/all.zip"
				}
				feeds = append(feeds, feed{u, "osv-" + safeName(eco) + ".zip", string(vuln.KindOSV)})
			}
			if !noKEV {
				feeds = append(feeds, feed{kevURL, "kev.json", string(vuln.KindKEV)})
			}
			if !noEPSS {
				feeds = append(feeds, feed{epssURL, "epss.csv.gz", string(vuln.KindEPSS)})
			}
			for _, f := range feeds {
				if u, err := url.Parse(f.url); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
					return usagef("feed URL %q: expected an http(s) URL", f.url)
				}
			}
			dir, err := os.MkdirTemp("", "vigil-sync-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			client := &http.Client{Timeout: timeout}
			var srcs []vuln.Source
			var names []string
			for _, f := range feeds {
				path := filepath.Join(dir, f.file)
				start := time.Now()
				n, err := e.download(client, f.url, path, vuln.DefaultLimits.TotalBytes)
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stderr, "downloaded %s (%d bytes in %s)\n", f.url, n, time.Since(start).Round(time.Millisecond))
				src, err := vuln.Detect(path)
				if err != nil {
					return usagef("%s: %v", f.url, err)
				}
				if string(src.Kind) != f.kind {
					return usagef("%s: expected a %s feed, got %s", f.url, f.kind, src.Kind)
				}
				src.Path = path
				srcs = append(srcs, src)
				names = append(names, f.url)
			}
			return e.importInto(&db, srcs, names, skipInvalid, format)
		},
	}
	db.register(cmd)
	cmd.Flags().StringSliceVar(&ecosystems, "ecosystem", nil, "OSV ecosystem to fetch (repeatable; default: all Vigil maps)")
	cmd.Flags().StringVar(&osvURL, "osv-url", defaultOSVURL, "OSV export URL; {ecosystem} is replaced, else /<ecosystem>/all.zip is appended")
	cmd.Flags().StringVar(&kevURL, "kev-url", defaultKEVURL, "CISA KEV JSON URL")
	cmd.Flags().StringVar(&epssURL, "epss-url", defaultEPSSURL, "FIRST EPSS CSV (.csv or .csv.gz) URL")
	cmd.Flags().BoolVar(&noKEV, "no-kev", false, "do not fetch the KEV catalog")
	cmd.Flags().BoolVar(&noEPSS, "no-epss", false, "do not fetch EPSS scores")
	cmd.Flags().BoolVar(&skipInvalid, "skip-invalid", false, "pass over bad OSV records instead of stopping")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Minute, "time limit for each download")
	formatFlag(cmd, &format, "text", "text", "json")
	return cmd
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '_'
	}, s)
}

// download fetches u into path, refusing more than maxBytes.
func (e *env) download(client *http.Client, u, path string, maxBytes int64) (int64, error) {
	req, err := http.NewRequestWithContext(e.ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, usagef("%s: %v", u, err)
	}
	req.Header.Set("User-Agent", "vigil/"+Version)
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("download %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("download %s: HTTP %s", u, resp.Status)
	}
	if resp.ContentLength > maxBytes {
		return 0, usagef("%s: %d bytes, more than the limit of %d", u, resp.ContentLength, maxBytes)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(f, io.LimitReader(resp.Body, maxBytes+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("download %s: %w", u, err)
	}
	if n > maxBytes {
		return n, usagef("%s: more than %d bytes, the download limit", u, maxBytes)
	}
	return n, nil
}

func (e *env) vulndbStatsCmd() *cobra.Command {
	var db vulnDBFlags
	var format string
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Count the advisories, KEV entries and EPSS scores in the database, and list the feeds",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := db.open(e.ctx, false)
			if err != nil {
				return err
			}
			defer st.Close()
			s, err := st.VulnStats(e.ctx)
			if err != nil {
				return err
			}
			if format == "json" {
				return writeJSON(e.stdout, s)
			}
			w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintf(w, "advisories\t%d\t(%d withdrawn, %d aliases)\n", s.Advisories, s.Withdrawn, s.Aliases)
			for _, eco := range s.Ecosystems {
				fmt.Fprintf(w, "  %s\t%d\t(%d packages)\n", eco.Ecosystem, eco.Advisories, eco.Packages)
			}
			fmt.Fprintf(w, "KEV entries\t%d\t\n", s.KEV)
			epss := ""
			if s.EPSSDate != "" {
				epss = "(scores of " + s.EPSSDate + ")"
			}
			fmt.Fprintf(w, "EPSS scores\t%d\t%s\n", s.EPSS, epss)
			w.Flush()
			if len(s.Feeds) > 0 {
				fmt.Fprintln(e.stdout, "\nfeeds:")
				w = tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				for _, f := range s.Feeds {
					fmt.Fprintf(w, "  %s\t%s\t%s\t%d records\timported %s\n", f.Kind, f.Source, f.Version, f.Records, f.ImportedAt.Format(time.RFC3339))
				}
				w.Flush()
			}
			return nil
		},
	}
	db.register(cmd)
	formatFlag(cmd, &format, "table", "table", "json")
	return cmd
}

// importInto opens (creating when needed) the vulnerability database, imports the sources in one
// transaction and prints the counts; a failed import into a new --db file leaves no file behind.
func (e *env) importInto(db *vulnDBFlags, srcs []vuln.Source, names []string, skipInvalid bool, format string) error {
	st, err := db.open(e.ctx, true)
	if err != nil {
		return err
	}
	counts, err := e.importSources(st, srcs, names, skipInvalid)
	if err != nil {
		db.discard(st)
		return err
	}
	if err := st.Close(); err != nil {
		return err
	}
	return e.printFeedCounts(format, counts)
}
