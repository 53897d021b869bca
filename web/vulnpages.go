package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-med/vigil/auth"
	"github.com/vigil-med/vigil/portfolio"
	"github.com/vigil-med/vigil/sbom"
	"github.com/vigil-med/vigil/store"
	"github.com/vigil-med/vigil/vex"
)

// --- Findings of a device version, with triage ---

type findingsPage struct {
	Base
	V              store.DeviceVersion
	SBOMs          []store.SBOM
	Findings       []store.Finding
	Rating, Status string
	KEV            bool
	Ratings        []string
	VEXStatuses    []vex.Status
	Justifications []vex.Justification
	CanApprove     bool
	Error          string
	Counts         map[string]int
	Total          int
	// Findings are shown 100 at a time: Matching pass the filters, First–Last of them are shown
	// on Page of Pages. BackQuery (filters and page) brings a triage form back to this view.
	Matching, First, Last, Page, Pages int
	PrevURL, NextURL, BackQuery        string
}

// findingsPerPage is the size of a page of the findings table, whose rows carry triage forms.
const findingsPerPage = 100

var ratings = []string{"critical", "high", "medium", "low", "none", "unknown"}

func (s *Server) findingsView(w http.ResponseWriter, r *http.Request) error {
	return s.renderFindings(w, r, http.StatusOK, "")
}

func (s *Server) renderFindings(w http.ResponseWriter, r *http.Request, status int, errMsg string) error {
	ctx := r.Context()
	v, err := s.versionByID(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	sboms, err := s.store.ListSBOMs(ctx, v.ID)
	if err != nil {
		return err
	}
	all, err := s.store.ListFindings(ctx, v.ID, store.FindingFilter{})
	if err != nil {
		return err
	}
	q := r.URL.Query()
	p := findingsPage{Base: s.base(r, v.ProductName+" "+v.Version+" vulnerabilities", "dashboard"), V: v, SBOMs: sboms, Rating: q.Get("rating"), Status: q.Get("status"),
		KEV: q.Get("kev") == "1", Ratings: ratings, VEXStatuses: vex.Statuses, Justifications: vex.Justifications, Error: errMsg,
		CanApprove: auth.Role(currentUser(r).Role).Can(auth.PermApprove), Counts: map[string]int{}, Total: len(all)}
	for _, f := range all {
		st := store.StatusUntriaged
		if f.VEX != nil {
			st = f.VEX.Status
		}
		p.Counts[st]++
		if f.KnownExploited {
			p.Counts["kev"]++
		}
		if p.Rating != "" && f.Severity.Rating != p.Rating || p.KEV && !f.KnownExploited || p.Status != "" && st != p.Status {
			continue
		}
		p.Findings = append(p.Findings, f)
	}
	p.Matching = len(p.Findings)
	p.Pages = max(1, (p.Matching+findingsPerPage-1)/findingsPerPage)
	p.Page = 1
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n >= 1 {
		p.Page = min(n, p.Pages)
	}
	start := (p.Page - 1) * findingsPerPage
	end := min(start+findingsPerPage, p.Matching)
	p.Findings = p.Findings[start:end]
	p.First, p.Last = start+1, end
	view := func(page int) string {
		v := url.Values{}
		for _, k := range []string{"rating", "status", "kev"} {
			if x := q.Get(k); x != "" {
				v.Set(k, x)
			}
		}
		if page > 1 {
			v.Set("page", strconv.Itoa(page))
		}
		return v.Encode()
	}
	if p.Page > 1 {
		p.PrevURL = "?" + view(p.Page-1) + "#findings"
	}
	if p.Page < p.Pages {
		p.NextURL = "?" + view(p.Page+1) + "#findings"
	}
	p.BackQuery = view(p.Page)
	return s.render(w, status, "findings", p)
}

// uploadSBOM attaches an SBOM to a device version: parsed, scored, stored, findings refreshed.
func (s *Server) uploadSBOM(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	v, err := s.versionByID(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	data, filename, err := s.readUpload(w, r)
	if err != nil {
		return s.renderFindings(w, r, statusFor(err), msgFor(err))
	}
	if int64(len(data)) > sbom.MaxSize {
		return s.renderFindings(w, r, http.StatusRequestEntityTooLarge, "the SBOM is larger than the limit")
	}
	label := strings.TrimSpace(r.FormValue("label"))
	res, err := portfolio.ImportSBOM(ctx, s.store, currentUser(r).Email, v.ID, label, filename, data, r.FormValue("replace") == "1")
	if errors.Is(err, portfolio.ErrInput) || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrInvalid) {
		return s.renderFindings(w, r, http.StatusBadRequest, strings.TrimPrefix(err.Error(), "store: import sbom: "))
	}
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("Imported %s (%s %s, %d components, quality %d/100): %d open finding(s), %d new",
		res.SBOM.Filename, res.SBOM.Format, res.SBOM.SpecVersion, res.SBOM.Components, deref(res.SBOM.Quality), res.Findings.Open, len(res.Findings.New))
	if len(res.Carried) > 0 {
		msg += fmt.Sprintf("; %d VEX decision(s) carried forward from the previous version", len(res.Carried))
	}
	return redirect(w, r, fmt.Sprintf("/versions/%d/findings", v.ID), msg+".")
}

func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

func statusFor(err error) int {
	st, _ := statusOf(err)
	return st
}

func msgFor(err error) string {
	_, m := statusOf(err)
	return m
}

// setVEX records a triage decision on one finding. Marking a finding not affected or fixed is a
// sign-off: approvers only, as for requirements.
func (s *Server) setVEX(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	v, err := s.versionByID(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	d := portfolio.Decision{Advisory: r.FormValue("advisory"), Component: r.FormValue("component"), Status: r.FormValue("status"),
		Justification: r.FormValue("justification"), ImpactStatement: strings.TrimSpace(r.FormValue("impact")), ActionStatement: strings.TrimSpace(r.FormValue("action"))}
	// Keep only the fields the status takes (CISA minimum requirements for VEX): the form shows
	// them all.
	switch vex.Status(d.Status) {
	case vex.NotAffected:
		d.ActionStatement = ""
	case vex.Affected:
		d.Justification, d.ImpactStatement = "", ""
	default:
		d.Justification, d.ImpactStatement, d.ActionStatement = "", "", ""
	}
	u := currentUser(r)
	if (d.Status == string(vex.NotAffected) || d.Status == string(vex.Fixed)) && !auth.Role(u.Role).Can(auth.PermApprove) {
		return errStatus(http.StatusForbidden, "only approvers can mark a finding %s", d.Status)
	}
	if _, err := portfolio.SetVEX(ctx, s.store, u.Email, v.ID, d); err != nil {
		if errors.Is(err, portfolio.ErrInput) || errors.Is(err, store.ErrInvalid) {
			return s.renderFindings(w, r, http.StatusBadRequest, strings.TrimPrefix(strings.TrimPrefix(err.Error(), "store: "), "set vex: "))
		}
		return err
	}
	back := fmt.Sprintf("/versions/%d/findings", v.ID)
	if q := r.FormValue("back_query"); q != "" && !strings.ContainsAny(q, "/\\:") {
		back += "?" + q
	}
	return redirect(w, r, back, fmt.Sprintf("%s on %s: %s.", d.Advisory, d.Component, strings.ReplaceAll(d.Status, "_", " ")))
}

// --- SBOM detail: components and quality ---

type sbomPage struct {
	Base
	V          store.DeviceVersion
	SBOM       store.SBOM
	Components []componentRow
	Report     *sbom.Report
	Worst      []sbom.ComponentReport
	Error      string
	ErrorRef   string // the component a refused row form was for: its row is marked
	ErrorRow   int    // its row index, or -1
	HasSupport bool
	Unmatched  int
	Levels     []string
	Suppliers  []supplierCount
	Editable   int               // components whose support can be set (all but the primary one)
	RowLink    map[string]string // component ref -> link to its row (page and anchor)

	// The component table is paged and can be filtered: Query and Gap are the filters, Total
	// the SBOM's components, Matching those that pass the filters, Page of Pages the page shown.
	Query, Gap       string
	Total, Matching  int
	Page, Pages      int
	First, Last      int    // 1-based positions of the rows shown among the matching ones
	PrevURL, NextURL string // "" at the ends
	ViewQuery        string // the filters and page, for the row forms to come back to
	Gaps             []gapFilter
}

type gapFilter struct{ Value, Label string }

// sbomGapFilters are the component table's "missing" filters.
var sbomGapFilters = []gapFilter{{"", "any component"}, {"support", "no level of support"}, {"eos", "no end-of-support date"}, {"id", "no package URL or CPE"}}

// sbomRowsPerPage is the size of a page of the SBOM page's component table: a generated SBOM
// lists thousands of components, each row a form for editors.
const sbomRowsPerPage = 100

// sbomView is the view of the component table a request asks for (?q=, ?gap=, ?page=), as
// a query string, keeping only those keys.
func sbomViewQuery(q, gap string, page int) string {
	v := url.Values{}
	if q != "" {
		v.Set("q", q)
	}
	if gap != "" {
		v.Set("gap", gap)
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	return v.Encode()
}

// componentRow is one row of the SBOM page's component table: the stored component with its
// support data as it reads after the support file.
type componentRow struct {
	store.SBOMComponent
	Index        int
	Supplier     string
	Support      string
	EndOfSupport string
	Note         string
	Source       string // "sbom" or "sidecar"
	Primary      bool   // the device itself: FDA asks no support data of it
}

type supplierCount struct {
	Name  string
	Count int
}

func (s *Server) sbomByID(r *http.Request) (store.SBOM, error) {
	id, err := strconv.ParseInt(r.PathValue("sid"), 10, 64)
	if err != nil {
		return store.SBOM{}, notFound("SBOM")
	}
	return s.store.SBOM(r.Context(), id)
}

// sbomDoc parses a stored SBOM and applies its support sidecar, if any.
func (s *Server) sbomDoc(r *http.Request, b store.SBOM) (*sbom.Document, *sbom.Sidecar, []sbom.SupportEntry, error) {
	data, err := s.store.EvidenceBlob(r.Context(), b.SHA256)
	if err != nil {
		return nil, nil, nil, err
	}
	// The file was validated when it was imported; the lenient reader reads the same document
	// without the schema validation, which is most of the time on a large SBOM.
	doc, err := sbom.ParseLenient(b.Filename, data)
	if err != nil {
		return nil, nil, nil, errStatus(http.StatusUnprocessableEntity, "%s", err.Error())
	}
	side, err := s.store.SBOMSupport(r.Context(), b.ID)
	if err != nil || side == nil {
		return doc, nil, nil, err
	}
	sc, err := sbom.ParseSidecar("support.yaml", side)
	if err != nil {
		return doc, nil, nil, err
	}
	return doc, sc, sc.Apply(doc), nil
}

func (s *Server) sbomView(w http.ResponseWriter, r *http.Request) error {
	return s.renderSBOM(w, r, http.StatusOK, "")
}

func (s *Server) renderSBOM(w http.ResponseWriter, r *http.Request, status int, errMsg string) error {
	return s.renderSBOMWith(w, r, status, errMsg, "")
}

// renderSBOMWith renders the SBOM page; errRef marks the component row a refused form was for.
func (s *Server) renderSBOMWith(w http.ResponseWriter, r *http.Request, status int, errMsg, errRef string) error {
	ctx := r.Context()
	b, err := s.sbomByID(r)
	if err != nil {
		return err
	}
	v, err := s.store.DeviceVersion(ctx, b.DeviceVersionID)
	if err != nil {
		return err
	}
	comps, err := s.store.SBOMComponents(ctx, b.ID)
	if err != nil {
		return err
	}
	p := sbomPage{Base: s.base(r, b.Filename, "dashboard"), V: v, SBOM: b, Error: errMsg, ErrorRef: errRef, ErrorRow: -1, Levels: sbom.SupportLevels}
	for i, c := range comps {
		p.Components = append(p.Components, componentRow{SBOMComponent: c, Index: i})
	}
	doc, sc, unmatched, err := s.sbomDoc(r, b)
	if err != nil {
		if _, ok := err.(*httpError); !ok {
			return err
		}
		p.Error = err.Error()
	} else {
		p.HasSupport, p.Unmatched = sc != nil && len(sc.Components) > 0, len(unmatched)
		// Stored components are the document's, in order; refs are unique in a document.
		byRef := make(map[string]int, len(p.Components))
		for i, c := range p.Components {
			byRef[c.Ref] = i
		}
		if i, ok := byRef[errRef]; ok && errRef != "" {
			p.ErrorRow = i
		}
		suppliers := map[string]int{}
		for _, c := range doc.Components {
			i, ok := byRef[c.Ref]
			if !ok {
				continue
			}
			row := &p.Components[i]
			row.Supplier, row.Support, row.EndOfSupport, row.Note, row.Source = c.Supplier, c.Support, c.EndOfSupport, c.SupportNote, c.SupportSource
			row.Primary = c.Ref == doc.Root
			if !row.Primary {
				p.Editable++
				if sup := strings.TrimSpace(c.Supplier); sup != "" {
					suppliers[sup]++
				}
			}
		}
		for name, n := range suppliers {
			p.Suppliers = append(p.Suppliers, supplierCount{Name: name, Count: n})
		}
		slices.SortFunc(p.Suppliers, func(a, b supplierCount) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
		p.Report = sbom.Check(doc, sbom.CheckOptions{Now: s.now()})
		p.Worst = p.Report.Component[:min(len(p.Report.Component), 25)]
		p.RowLink = make(map[string]string, len(byRef))
		for ref, i := range byRef {
			p.RowLink[ref] = fmt.Sprintf("?%s#c-%d", sbomViewQuery("", "", i/sbomRowsPerPage+1), i)
		}
	}
	p.pageComponents(r)
	return s.render(w, status, "sbom", p)
}

// pageComponents filters the component table by the request's q and gap and keeps one page of
// it: the page asked for, else the one with the row a refused form was for.
func (p *sbomPage) pageComponents(r *http.Request) {
	p.Gaps = sbomGapFilters
	p.Query = strings.TrimSpace(r.URL.Query().Get("q"))
	p.Gap = r.URL.Query().Get("gap")
	if !slices.ContainsFunc(sbomGapFilters, func(g gapFilter) bool { return g.Value == p.Gap }) {
		p.Gap = ""
	}
	q := strings.ToLower(p.Query)
	p.Total = len(p.Components)
	rows := p.Components[:0:0]
	for _, c := range p.Components {
		if q != "" && !strings.Contains(strings.ToLower(c.Name+" "+c.Version+" "+c.PURL+" "+c.Supplier), q) {
			continue
		}
		switch p.Gap {
		case "support":
			if c.Primary || c.Support != "" {
				continue
			}
		case "eos":
			if c.Primary || c.EndOfSupport != "" {
				continue
			}
		case "id":
			if c.PURL != "" {
				continue
			}
		}
		rows = append(rows, c)
	}
	p.Matching = len(rows)
	p.Pages = max(1, (len(rows)+sbomRowsPerPage-1)/sbomRowsPerPage)
	p.Page = 1
	if n, err := strconv.Atoi(r.URL.Query().Get("page")); err == nil && n >= 1 {
		p.Page = min(n, p.Pages)
	} else if p.ErrorRow >= 0 {
		for i, c := range rows {
			if c.Index == p.ErrorRow {
				p.Page = i/sbomRowsPerPage + 1
			}
		}
	}
	start := (p.Page - 1) * sbomRowsPerPage
	end := min(start+sbomRowsPerPage, len(rows))
	p.Components = rows[start:end]
	p.First, p.Last = start+1, end
	if p.Page > 1 {
		p.PrevURL = "?" + sbomViewQuery(p.Query, p.Gap, p.Page-1) + "#components"
	}
	if p.Page < p.Pages {
		p.NextURL = "?" + sbomViewQuery(p.Query, p.Gap, p.Page+1) + "#components"
	}
	p.ViewQuery = sbomViewQuery(p.Query, p.Gap, p.Page)
}

// uploadSupport stores a support sidecar for an SBOM: the way to record level of support and
// end-of-support per component when the SBOM cannot carry them.
func (s *Server) uploadSupport(w http.ResponseWriter, r *http.Request) error {
	b, err := s.sbomByID(r)
	if err != nil {
		return err
	}
	data, filename, err := s.readUpload(w, r)
	if err != nil {
		return s.renderSBOM(w, r, statusFor(err), msgFor(err))
	}
	if _, err := sbom.ParseSidecar(filename, data); err != nil {
		return s.renderSBOM(w, r, http.StatusBadRequest, err.Error())
	}
	if err := s.store.SetSBOMSupport(r.Context(), currentUser(r).Email, b.ID, data); err != nil {
		return err
	}
	return redirect(w, r, fmt.Sprintf("/sboms/%d", b.ID), "Support information saved.")
}

// supportTemplate downloads a sidecar listing the SBOM's components (with what is already known),
// to fill in and upload again.
func (s *Server) supportTemplate(w http.ResponseWriter, r *http.Request) error {
	b, err := s.sbomByID(r)
	if err != nil {
		return err
	}
	doc, _, _, err := s.sbomDoc(r, b)
	if err != nil {
		return err
	}
	out, err := sbom.Template(doc).YAML()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/yaml")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", strings.TrimSuffix(b.Filename, ".json")+".support.yaml"))
	_, err = w.Write(out)
	return err
}

// --- Portfolio vulnerabilities: new findings and impact ---

type vulnsPage struct {
	Base
	Since    string
	New      []store.Finding // the newest newFindingsShown of NewTotal
	NewTotal int
	Query    string
	Impact   *store.Impact
	Error    string
	Versions int
}

// newFindingsShown bounds the new-findings table: the first import of advisories into a large
// portfolio makes every finding new. The API lists them all.
const newFindingsShown = 200

func (s *Server) vulnerabilitiesView(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	q := r.URL.Query()
	p := vulnsPage{Base: s.base(r, "Vulnerabilities", "vulns"), Since: q.Get("since"), Query: strings.TrimSpace(q.Get("advisory"))}
	since := s.now().AddDate(0, 0, -30)
	if p.Since != "" {
		t, err := time.Parse(time.DateOnly, p.Since)
		if err != nil {
			p.Error = "since: expected a date YYYY-MM-DD"
		} else {
			since = t
		}
	}
	p.Since = since.Format(time.DateOnly)
	nf, err := s.store.NewFindings(ctx, since)
	if err != nil {
		return err
	}
	p.New, p.NewTotal = nf[:min(len(nf), newFindingsShown)], len(nf)
	seen := map[int64]bool{}
	for _, f := range nf {
		seen[f.DeviceVersionID] = true
	}
	p.Versions = len(seen)
	if p.Query != "" {
		imp, err := s.store.Impact(ctx, p.Query)
		switch {
		case errors.Is(err, store.ErrNotFound):
			p.Error = fmt.Sprintf("no stored advisory has or names %q; load advisories with vigil vulndb import", p.Query)
		case err != nil:
			return err
		default:
			p.Impact = imp
		}
	}
	return s.render(w, http.StatusOK, "vulnerabilities", p)
}

// statusLabels for VEX statuses in templates.
func vexLabel(s string) string {
	if s == "" || s == store.StatusUntriaged {
		return "untriaged"
	}
	return strings.ReplaceAll(s, "_", " ")
}

func init() {
	funcs["vexLabel"] = vexLabel
	funcs["score"] = func(p *float64) string {
		if p == nil {
			return "–"
		}
		return strconv.FormatFloat(*p, 'f', 1, 64)
	}
	funcs["epss"] = func(p *float64) string {
		if p == nil {
			return "–"
		}
		return strconv.FormatFloat(*p*100, 'f', 1, 64) + "%"
	}
	funcs["contains"] = func(list []string, s string) bool { return slices.Contains(list, s) }
}
