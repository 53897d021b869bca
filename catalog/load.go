package catalog

import (
	"embed"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vigil-med/vigil/internal/yamlfile"
	"github.com/vigil-med/vigil/period"
)

//go:embed data/*.yaml
var embedded embed.FS

var (
	defaultOnce sync.Once
	defaultCat  *Catalog
	defaultErr  error
)

// Default returns the catalog embedded in this binary. It is loaded once.
func Default() (*Catalog, error) {
	defaultOnce.Do(func() {
		sub, err := fs.Sub(embedded, "data")
		if err != nil {
			defaultErr = err
			return
		}
		defaultCat, defaultErr = Load(sub)
	})
	return defaultCat, defaultErr
}

// MustDefault is Default for callers (tests, init of static tables) that cannot go on without it.
func MustDefault() *Catalog {
	c, err := Default()
	if err != nil {
		panic(err)
	}
	return c
}

type indexFile struct {
	CatalogVersion string   `yaml:"catalog_version"`
	Released       string   `yaml:"released"`
	Files          []string `yaml:"files"`
}

type controlsFile struct {
	Controls []*Control `yaml:"controls"`
}

type evidenceFile struct {
	Evidence []*EvidenceType `yaml:"evidence"`
}

// Load reads catalog.yaml, controls.yaml, evidence.yaml and every regime file listed in
// catalog.yaml from fsys, and checks every field and cross-reference. All problems found are
// returned together as yamlfile.Errors.
func Load(fsys fs.FS) (*Catalog, error) {
	var errs yamlfile.Errors
	add := func(err error) {
		if err == nil {
			return
		}
		if es, ok := err.(yamlfile.Errors); ok {
			errs = append(errs, es...)
			return
		}
		if e, ok := err.(*yamlfile.Error); ok {
			errs = append(errs, e)
			return
		}
		errs = append(errs, &yamlfile.Error{Msg: err.Error()})
	}

	var idx indexFile
	idxDoc, err := decodeFile(fsys, "catalog.yaml", &idx)
	if err != nil {
		return nil, err
	}
	c := &Catalog{
		Version:      idx.CatalogVersion,
		Released:     idx.Released,
		regimes:      map[string]*Regime{},
		requirements: map[string]*Requirement{},
		controls:     map[string]*Control{},
		evidence:     map[string]*EvidenceType{},
	}
	if !regexp.MustCompile(`^\d{4}\.\d{1,2}\.\d+$`).MatchString(idx.CatalogVersion) {
		add(idxDoc.Errorf("catalog_version", "expected YEAR.MONTH.PATCH such as 2026.11.0, found %q", idx.CatalogVersion))
	}
	if !isDate(idx.Released) {
		add(idxDoc.Errorf("released", "expected a date YYYY-MM-DD, found %q", idx.Released))
	}

	var cf controlsFile
	ctlDoc, err := decodeFile(fsys, "controls.yaml", &cf)
	if err != nil {
		return nil, err
	}
	for i, ctl := range cf.Controls {
		p := fmt.Sprintf("controls[%d]", i)
		switch {
		case !regexp.MustCompile(`^CO-\d{2}$`).MatchString(ctl.ID):
			add(ctlDoc.Errorf(p+".id", "expected an ID like CO-05, found %q", ctl.ID))
		case c.controls[ctl.ID] != nil:
			add(ctlDoc.Errorf(p+".id", "duplicate control ID %q", ctl.ID))
		}
		if !slugRe.MatchString(ctl.Key) {
			add(ctlDoc.Errorf(p+".key", "expected a lower-case slug, found %q", ctl.Key))
		}
		if strings.TrimSpace(ctl.Title) == "" {
			add(ctlDoc.Errorf(p+".title", "required"))
		}
		if strings.TrimSpace(ctl.Description) == "" {
			add(ctlDoc.Errorf(p+".description", "required"))
		}
		c.controls[ctl.ID] = ctl
	}
	c.Controls = cf.Controls

	var ef evidenceFile
	evDoc, err := decodeFile(fsys, "evidence.yaml", &ef)
	if err != nil {
		return nil, err
	}
	for i, ev := range ef.Evidence {
		p := fmt.Sprintf("evidence[%d]", i)
		if !slugRe.MatchString(ev.Key) {
			add(evDoc.Errorf(p+".key", "expected a lower-case slug, found %q", ev.Key))
		} else if c.evidence[ev.Key] != nil {
			add(evDoc.Errorf(p+".key", "duplicate evidence key %q", ev.Key))
		}
		if strings.TrimSpace(ev.Title) == "" {
			add(evDoc.Errorf(p+".title", "required"))
		}
		c.evidence[ev.Key] = ev
	}
	c.Evidence = ef.Evidence

	for i, name := range idx.Files {
		r, err := c.loadRegime(fsys, name)
		if err != nil {
			if _, statErr := fs.Stat(fsys, name); statErr != nil {
				add(idxDoc.Errorf(fmt.Sprintf("files[%d]", i), "listed file %s does not exist", name))
				continue
			}
			add(err)
			continue
		}
		if c.regimes[r.ID] != nil {
			add(idxDoc.Errorf(fmt.Sprintf("files[%d]", i), "regime %s is listed twice", r.ID))
			continue
		}
		c.regimes[r.ID] = r
		c.Regimes = append(c.Regimes, r)
	}
	for _, id := range RegimeIDs {
		if c.regimes[id] == nil && !hasErrFor(errs, id) && !slices.Contains(idx.Files, FileName(id)) {
			add(idxDoc.Errorf("files", "regime %s has no file (expected %s)", id, FileName(id)))
		}
	}
	// Regimes in contract order, whatever the file order.
	slices.SortStableFunc(c.Regimes, func(a, b *Regime) int {
		return slices.Index(RegimeIDs, a.ID) - slices.Index(RegimeIDs, b.ID)
	})
	for _, r := range c.Regimes {
		for _, req := range r.Requirements {
			for _, ref := range req.Controls {
				if ctl := c.controls[ref.ID]; ctl != nil {
					ctl.Requirements = append(ctl.Requirements, req)
				}
			}
		}
	}
	if len(c.Regimes) == len(RegimeIDs) {
		for i, ctl := range c.Controls {
			if len(ctl.Requirements) == 0 {
				add(ctlDoc.Errorf(fmt.Sprintf("controls[%d]", i), "control %s is not mapped by any requirement", ctl.ID))
			}
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

func hasErrFor(errs yamlfile.Errors, regimeID string) bool {
	for _, e := range errs {
		if path.Base(e.File) == FileName(regimeID) {
			return true
		}
	}
	return false
}

// FileName is the data file that holds a regime: the ID with '.' replaced by '-', plus .yaml.
func FileName(regimeID string) string { return strings.ReplaceAll(regimeID, ".", "-") + ".yaml" }

func decodeFile(fsys fs.FS, name string, v any) (*yamlfile.Doc, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, &yamlfile.Error{File: name, Msg: "cannot read: " + err.Error()}
	}
	doc, err := yamlfile.Parse(name, data)
	if err != nil {
		return nil, err
	}
	if err := doc.Decode(v); err != nil {
		return nil, err
	}
	return doc, nil
}

var (
	slugRe     = regexp.MustCompile(`^[a-z0-9]+(?:[.-][a-z0-9]+)*$`)
	reqSlugRe  = regexp.MustCompile(`^[a-z0-9]+(?:[.-][a-z0-9]+)*$`)
	jurisdicts = []string{"US", "CA", "EU", "UK"}
	forces     = []string{"statute", "regulation", "directive", "guidance", "standard"}
	confids    = []string{"verified", "secondary", "unverified"}
	statuses   = []string{"draft", "final", "superseded", "withdrawn", "proposed", "current", "expired"}
	mappings   = []string{"equal", "subset", "superset", "related"}
	calendars  = []string{"hours", "calendar-days", "working-days", "months", "none"}
	froms      = []string{"awareness", "initiation", "receipt", "notification", "measure-available", "request", "event", "placing-on-market", "certification"}
	calNames   = []string{"US-federal", "CA-federal", "UK-england-wales", "EU"}
)

func (c *Catalog) loadRegime(fsys fs.FS, name string) (*Regime, error) {
	var r Regime
	doc, err := decodeFile(fsys, name, &r)
	if err != nil {
		return nil, err
	}
	var errs yamlfile.Errors
	bad := func(p, format string, args ...any) { errs = append(errs, doc.Errorf(p, format, args...)) }
	required := func(p, v string) {
		if strings.TrimSpace(v) == "" {
			bad(p, "required; expected a non-empty value")
		}
	}

	switch {
	case !slices.Contains(RegimeIDs, r.ID):
		bad("id", "expected one of the contract regime IDs (%s), found %q", strings.Join(RegimeIDs, ", "), r.ID)
	case path.Base(name) != FileName(r.ID):
		bad("id", "regime %s must live in %s, not %s", r.ID, FileName(r.ID), path.Base(name))
	}
	required("title", r.Title)
	required("short_title", r.ShortTitle)
	required("issuer", r.Issuer)
	required("version", r.Version)
	required("summary", r.Summary)
	required("scope", r.Scope)
	if !slices.Contains(jurisdicts, r.Jurisdiction) {
		bad("jurisdiction", "expected one of %s, found %q", strings.Join(jurisdicts, ", "), r.Jurisdiction)
	} else if r.ID != "" && !strings.EqualFold(strings.SplitN(r.ID, ".", 2)[0], r.Jurisdiction) {
		bad("jurisdiction", "regime %s belongs to jurisdiction %s, found %q", r.ID, strings.ToUpper(strings.SplitN(r.ID, ".", 2)[0]), r.Jurisdiction)
	}
	if !slices.Contains(forces, r.Force) {
		bad("force", "expected one of %s, found %q", strings.Join(forces, ", "), r.Force)
	}
	if !isDate(r.Effective) {
		bad("effective", "expected a date YYYY-MM-DD, found %q", r.Effective)
	}
	if u, err := url.Parse(r.Source); err != nil || u.Scheme != "https" || u.Host == "" {
		bad("source", "expected an https:// URL of the official text, found %q", r.Source)
	}
	if !slices.Contains(confids, r.Confidence) {
		bad("confidence", "expected one of %s, found %q", strings.Join(confids, ", "), r.Confidence)
	}
	for i, n := range r.Notes {
		required(fmt.Sprintf("notes[%d].text", i), n.Text)
	}
	versions := map[string]bool{r.Version: true}
	for _, h := range r.History {
		versions[h.Version] = true
	}
	for i, h := range r.History {
		p := fmt.Sprintf("history[%d]", i)
		required(p+".version", h.Version)
		required(p+".title", h.Title)
		if !slices.Contains(statuses, h.Status) {
			bad(p+".status", "expected one of %s, found %q", strings.Join(statuses, ", "), h.Status)
		}
		if !isDate(h.Date) {
			bad(p+".date", "expected a date YYYY-MM-DD, found %q", h.Date)
		}
		if h.SupersededBy != "" && !versions[h.SupersededBy] {
			bad(p+".superseded_by", "expected a version listed in history or the current version %q, found %q", r.Version, h.SupersededBy)
		}
	}
	if len(r.Requirements) == 0 {
		bad("requirements", "expected at least one requirement")
	}
	for i, req := range r.Requirements {
		p := fmt.Sprintf("requirements[%d]", i)
		req.Regime = r.ID
		prefix := r.ID + "."
		switch {
		case !strings.HasPrefix(req.ID, prefix) || !reqSlugRe.MatchString(strings.TrimPrefix(req.ID, prefix)):
			bad(p+".id", "expected %s<slug> with a lower-case slug of letters, digits, '.' and '-', found %q", prefix, req.ID)
		case c.requirements[req.ID] != nil:
			bad(p+".id", "duplicate requirement ID %q", req.ID)
		default:
			c.requirements[req.ID] = req
		}
		required(p+".title", req.Title)
		required(p+".summary", req.Summary)
		if len(req.Citations) == 0 {
			bad(p+".citations", "expected at least one citation (document and section/article/clause)")
		}
		for j, cit := range req.Citations {
			required(fmt.Sprintf("%s.citations[%d]", p, j), cit)
		}
		if len(req.Evidence) == 0 {
			bad(p+".evidence", "expected at least one evidence type key from evidence.yaml")
		}
		for j, ev := range req.Evidence {
			if c.evidence[ev] == nil {
				bad(fmt.Sprintf("%s.evidence[%d]", p, j), "unknown evidence type %q; expected a key from evidence.yaml", ev)
			}
		}
		if len(req.ControlMap) == 0 {
			bad(p+".controls", "expected at least one control objective (CO-xx: mapping)")
		}
		for id, m := range req.ControlMap {
			if c.controls[id] == nil {
				bad(p+".controls."+id, "unknown control objective %q; expected an ID from controls.yaml", id)
			}
			if !slices.Contains(mappings, m) {
				bad(p+".controls."+id, "expected mapping %s, found %q", strings.Join(mappings, ", "), m)
			}
		}
		req.Controls = sortedRefs(req.ControlMap)
		if req.Confidence == "" {
			req.Confidence = r.Confidence
		} else if !slices.Contains(confids, req.Confidence) {
			bad(p+".confidence", "expected one of %s, found %q", strings.Join(confids, ", "), req.Confidence)
		}
		if req.Confidence == "unverified" && strings.TrimSpace(req.Note) == "" {
			bad(p+".note", "required when confidence is unverified: say what could not be confirmed")
		}
		if req.When != nil {
			errs = append(errs, checkConditions(doc, p+".when", req.When)...)
		}
		if req.Clock != nil {
			errs = append(errs, checkClock(doc, p+".clock", req.Clock)...)
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return &r, nil
}

// Enumerations of profile values that conditions may name.
var (
	USSubmissions = []string{"510k", "de-novo", "pma", "pdp", "hde", "exempt"}
	USClasses     = []string{"I", "II", "III"}
	CAClasses     = []string{"I", "II", "III", "IV"}
	EUClasses     = []string{"I", "Is", "Im", "Ir", "IIa", "IIb", "III"}
	IVDRClasses   = []string{"A", "As", "B", "C", "D"}
	UKClasses     = []string{"I", "Is", "Im", "IIa", "IIb", "III", "general", "self-test", "list-b", "list-a"}
	NIS2Cats      = []string{"essential", "important"}
)

func checkConditions(doc *yamlfile.Doc, p string, w *Conditions) yamlfile.Errors {
	var errs yamlfile.Errors
	check := func(field string, vals, allowed []string) {
		if vals != nil && len(vals) == 0 {
			errs = append(errs, doc.Errorf(p+"."+field, "expected a non-empty list"))
		}
		for i, v := range vals {
			if !slices.Contains(allowed, v) {
				errs = append(errs, doc.Errorf(fmt.Sprintf("%s.%s[%d]", p, field, i), "expected one of %s, found %q", strings.Join(allowed, ", "), v))
			}
		}
	}
	check("us_submission", w.USSubmission, USSubmissions)
	check("us_class", w.USClass, USClasses)
	check("ca_class", w.CAClass, CAClasses)
	check("eu_class", w.EUClass, EUClasses)
	check("ivdr_class", w.IVDRClass, IVDRClasses)
	check("uk_class", w.UKClass, UKClasses)
	check("nis2_category", w.NIS2Category, NIS2Cats)
	if reflect.ValueOf(*w).IsZero() {
		errs = append(errs, doc.Errorf(p, "expected at least one condition; remove an empty when"))
	}
	return errs
}

func checkClock(doc *yamlfile.Doc, p string, ck *Clock) yamlfile.Errors {
	var errs yamlfile.Errors
	bad := func(f, format string, args ...any) { errs = append(errs, doc.Errorf(f, format, args...)) }
	if strings.TrimSpace(ck.Trigger) == "" {
		bad(p+".trigger", "required: the event that starts the clock")
	}
	if strings.TrimSpace(ck.Recipient) == "" {
		bad(p+".recipient", "required: who receives the report")
	}
	if len(ck.Deadlines) == 0 {
		bad(p+".deadlines", "expected at least one deadline")
	}
	for i, d := range ck.Deadlines {
		q := fmt.Sprintf("%s.deadlines[%d]", p, i)
		if strings.TrimSpace(d.Obligation) == "" {
			bad(q+".obligation", "required")
		}
		if d.Within != "" {
			if _, err := period.Parse(d.Within); err != nil {
				bad(q+".within", "%v", err)
			}
		} else if strings.TrimSpace(d.Note) == "" {
			bad(q+".note", "required when within is empty: say what the timing is (without undue delay, in advance, ...)")
		}
		if !slices.Contains(calendars, d.Calendar) {
			bad(q+".calendar", "expected one of %s, found %q", strings.Join(calendars, ", "), d.Calendar)
		}
		if d.Within != "" && d.Calendar == "none" {
			bad(q+".calendar", "a deadline with a duration needs a counting calendar, not none")
		}
		if d.CalendarName != "" && d.Calendar != "working-days" {
			bad(q+".calendar_name", "only used with calendar: working-days")
		}
		if d.Calendar == "working-days" && !slices.Contains(calNames, d.CalendarName) {
			bad(q+".calendar_name", "working days need a holiday calendar: one of %s", strings.Join(calNames, ", "))
		}
		if !slices.Contains(froms, d.From) {
			bad(q+".from", "expected one of %s, found %q", strings.Join(froms, ", "), d.From)
		}
	}
	return errs
}

func isDate(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}
