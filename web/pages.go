package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/vigil-med/vigil/applicability"
	"github.com/vigil-med/vigil/auth"
	"github.com/vigil-med/vigil/catalog"
	"github.com/vigil-med/vigil/profile"
	"github.com/vigil-med/vigil/readiness"
	"github.com/vigil-med/vigil/store"
)

// --- Portfolio dashboard ---

type dashboardPage struct {
	Base
	Rows             []heatRow
	Markets          []string
	Products         []store.Product
	SVG              heatmapSVG
	Devices          int
	Avg              float64
	Q                string
	Page, Pages      int
	First, Last      int
	PrevURL, NextURL string
}

type heatmapSVG struct {
	Width, Height int
	Rows          []svgRow
	Headers       []svgText
}

type svgRow struct {
	Y       int
	Label   string
	Href    string
	Cells   []svgCell
	Overall string
}

type svgCell struct {
	X, W, H  int
	Fill     string
	Text     string
	Title    string
	TextX    int
	OnMarket bool
}

const (
	svgLabelW = 300
	svgCellW  = 150
	svgCellH  = 34
	svgGap    = 4
	svgHead   = 30
)

// dashboardPageSize is how many device versions one dashboard page shows.
const dashboardPageSize = 50

func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) error {
	all, err := s.portfolio(r.Context())
	if err != nil {
		return err
	}
	products, err := s.store.ListProducts(r.Context())
	if err != nil {
		return err
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	rows := all
	if q != "" {
		rows = nil
		lq := strings.ToLower(q)
		for _, row := range all {
			if strings.Contains(strings.ToLower(row.Version.ProductName+" "+row.Version.Version), lq) {
				rows = append(rows, row)
			}
		}
	}
	p := dashboardPage{Base: s.base(r, "Portfolio", "dashboard"), Markets: catalog.Markets, Products: products, Devices: len(rows), Q: q}
	sum := 0.0
	for _, row := range rows {
		sum += row.Overall
	}
	if len(rows) > 0 {
		p.Avg = sum / float64(len(rows))
	}
	pages := max((len(rows)+dashboardPageSize-1)/dashboardPageSize, 1)
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	page = min(max(page, 1), pages)
	p.Page, p.Pages = page, pages
	if page > 1 {
		p.PrevURL = dashboardURL(q, page-1)
	}
	if page < pages {
		p.NextURL = dashboardURL(q, page+1)
	}
	rows = rows[(page-1)*dashboardPageSize : min(page*dashboardPageSize, len(rows))]
	p.Rows = rows
	p.First = (page-1)*dashboardPageSize + 1
	p.Last = p.First + len(rows) - 1

	svg := heatmapSVG{Width: svgLabelW + len(catalog.Markets)*(svgCellW+svgGap) + 90, Height: svgHead + len(rows)*(svgCellH+svgGap)}
	for i, mk := range catalog.Markets {
		svg.Headers = append(svg.Headers, svgText{X: svgLabelW + i*(svgCellW+svgGap) + svgCellW/2, Text: mk})
	}
	svg.Headers = append(svg.Headers, svgText{X: svgLabelW + len(catalog.Markets)*(svgCellW+svgGap) + 40, Text: "All"})
	pct := funcs["pct"].(func(float64) string)
	heat := funcs["heat"].(func(float64) string)
	for i, row := range rows {
		y := svgHead + i*(svgCellH+svgGap)
		sr := svgRow{Y: y, Label: row.Version.ProductName + " " + row.Version.Version, Href: fmt.Sprintf("/versions/%d", row.Version.ID), Overall: pct(row.Overall)}
		for j, c := range row.Cells {
			x := svgLabelW + j*(svgCellW+svgGap)
			cell := svgCell{X: x, W: svgCellW, H: svgCellH, TextX: x + svgCellW/2, OnMarket: c.OnMarket}
			if c.OnMarket {
				cell.Fill = heat(c.Percent)
				cell.Text = fmt.Sprintf("%s · %d/%d", pct(c.Percent), c.Met, c.Total)
				cell.Title = fmt.Sprintf("%s %s in %s: %s ready, %d of %d applicable requirements met", row.Version.ProductName, row.Version.Version, c.Market, pct(c.Percent), c.Met, c.Total)
			} else {
				cell.Fill = "#f0f2f5"
				cell.Text = "not on market"
				cell.Title = fmt.Sprintf("%s %s is not placed on the %s market", row.Version.ProductName, row.Version.Version, c.Market)
			}
			sr.Cells = append(sr.Cells, cell)
		}
		svg.Rows = append(svg.Rows, sr)
	}
	p.SVG = svg
	return s.render(w, http.StatusOK, "dashboard", p)
}

func dashboardURL(q string, page int) string {
	v := url.Values{}
	if q != "" {
		v.Set("q", q)
	}
	v.Set("page", strconv.Itoa(page))
	return "/?" + v.Encode()
}

type svgText struct {
	X    int
	Text string
}

// --- Products ---

type productPage struct {
	Base
	Product  store.Product
	Versions []store.DeviceVersion
	History  []store.AuditEntry
	Error    string
	Version  string
	Profile  string
}

func (s *Server) productByID(r *http.Request) (store.Product, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return store.Product{}, notFound("product")
	}
	return s.store.Product(r.Context(), id)
}

func (s *Server) productView(w http.ResponseWriter, r *http.Request) error {
	p, err := s.productByID(r)
	if err != nil {
		return err
	}
	vs, err := s.store.ListDeviceVersions(r.Context(), p.ID)
	if err != nil {
		return err
	}
	hist, err := s.store.AuditFor(r.Context(), "product", strconv.FormatInt(p.ID, 10), 50)
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "product", productPage{Base: s.base(r, p.Name, "dashboard"), Product: p, Versions: vs, History: hist})
}

type newProductPage struct {
	Base
	Error   string
	Product store.Product
}

func (s *Server) newProductForm(w http.ResponseWriter, r *http.Request) error {
	return s.render(w, http.StatusOK, "product_new", newProductPage{Base: s.base(r, "New product", "dashboard")})
}

func (s *Server) createProduct(w http.ResponseWriter, r *http.Request) error {
	in := store.Product{Name: strings.TrimSpace(r.FormValue("name")), Manufacturer: strings.TrimSpace(r.FormValue("manufacturer")), Description: strings.TrimSpace(r.FormValue("description"))}
	p, err := s.store.CreateProduct(r.Context(), currentUser(r).Email, in)
	if errors.Is(err, store.ErrInvalid) || errors.Is(err, store.ErrConflict) {
		_, msg := statusOf(err)
		return s.render(w, http.StatusBadRequest, "product_new", newProductPage{Base: s.base(r, "New product", "dashboard"), Error: msg, Product: in})
	}
	if err != nil {
		return err
	}
	return redirect(w, r, fmt.Sprintf("/products/%d", p.ID), "Product created. Add its first version with a device profile.")
}

// readProfileUpload takes the profile from a file field or a text area, validated.
func (s *Server) readProfileUpload(r *http.Request) (string, *profile.Profile, error) {
	var text string
	if f, hdr, err := r.FormFile("profile_file"); err == nil {
		defer f.Close()
		if hdr.Size > 1<<20 {
			return "", nil, errStatus(http.StatusRequestEntityTooLarge, "profile file is %d bytes; at most 1 MiB is accepted", hdr.Size)
		}
		b, err := io.ReadAll(io.LimitReader(f, 1<<20+1))
		if err != nil {
			return "", nil, err
		}
		text = string(b)
	} else {
		text = r.FormValue("profile")
	}
	if strings.TrimSpace(text) == "" {
		return "", nil, errStatus(http.StatusBadRequest, "no profile given: choose a file or paste the YAML")
	}
	p, err := profile.Parse("profile", []byte(text))
	if err != nil {
		return text, nil, errStatus(http.StatusBadRequest, "%s", err.Error())
	}
	return text, p, nil
}

func (s *Server) createVersion(w http.ResponseWriter, r *http.Request) error {
	prod, err := s.productByID(r)
	if err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, 2<<20)
	text, p, err := s.readProfileUpload(r)
	version := strings.TrimSpace(r.FormValue("version"))
	if err == nil && version == "" {
		version = p.Version
	}
	if err == nil && version == "" {
		err = errStatus(http.StatusBadRequest, "give a version (the profile has no version field)")
	}
	if err != nil {
		var he *httpError
		if errors.As(err, &he) {
			vs, _ := s.store.ListDeviceVersions(r.Context(), prod.ID)
			return s.render(w, he.status, "product", productPage{Base: s.base(r, prod.Name, "dashboard"), Product: prod, Versions: vs, Error: he.msg, Version: version, Profile: text})
		}
		return err
	}
	v, err := s.store.CreateDeviceVersion(r.Context(), currentUser(r).Email, prod.ID, version, text)
	if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrInvalid) {
		_, msg := statusOf(err)
		vs, _ := s.store.ListDeviceVersions(r.Context(), prod.ID)
		return s.render(w, http.StatusConflict, "product", productPage{Base: s.base(r, prod.Name, "dashboard"), Product: prod, Versions: vs, Error: msg, Version: version, Profile: text})
	}
	if err != nil {
		return err
	}
	return redirect(w, r, fmt.Sprintf("/versions/%d", v.ID), "Version "+v.Version+" created.")
}

// --- Device version page ---

type versionPage struct {
	Base
	V        store.DeviceVersion
	Profile  *profile.Profile
	Result   *applicability.Result
	Markets  []readiness.Market
	Regimes  []applicability.RegimeResult
	Rows     []reqRow
	Filter   reqFilter
	Options  filterOptions
	Total    int
	Evidence []store.Evidence
	Overall  float64
	Met      int
	Denom    int
}

type reqRow struct {
	Req        applicability.RequirementResult
	Market     string
	Status     string
	Owner      string
	Due        string
	Evidence   int
	Unverified bool
}

type reqFilter struct{ Market, Regime, Control, Status, Q string }

type filterOptions struct {
	Regimes  []applicability.RegimeResult
	Controls []*catalog.Control
	Statuses []string
}

func (s *Server) versionView(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	v, e, err := s.loadVersion(r)
	if err != nil {
		return err
	}
	as, err := s.store.Assessments(ctx, v.ID)
	if err != nil {
		return err
	}
	ev, err := s.store.ListEvidence(ctx, v.ID)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := reqFilter{Market: q.Get("market"), Regime: q.Get("regime"), Control: q.Get("control"), Status: q.Get("status"), Q: strings.TrimSpace(q.Get("q"))}
	p := versionPage{Base: s.base(r, v.ProductName+" "+v.Version, "dashboard"), V: v, Profile: e.profile, Result: e.result, Filter: f, Evidence: ev}
	p.Markets = readiness.Compute(s.cat, e.result, statusMap(as))
	p.Met, p.Denom, p.Overall = readiness.Summary(p.Markets)
	p.Regimes = e.result.Regimes
	p.Options = filterOptions{Controls: s.cat.Controls, Statuses: readiness.Statuses}
	for _, rr := range e.result.Regimes {
		if rr.Applies {
			p.Options.Regimes = append(p.Options.Regimes, rr)
		}
	}
	evCount := evidenceCounts(s.cat, ev)
	for _, req := range e.result.Requirements {
		if !req.Applies {
			continue
		}
		reg, _ := s.cat.Regime(req.Regime)
		a := as[req.ID]
		st := a.Status
		if st == "" {
			st = readiness.NotStarted
		}
		row := reqRow{Req: req, Market: reg.Jurisdiction, Status: st, Owner: a.Owner, Due: a.DueDate, Evidence: evCount(req), Unverified: req.Unverified}
		p.Total++
		if !f.matches(row) {
			continue
		}
		p.Rows = append(p.Rows, row)
	}
	return s.render(w, http.StatusOK, "version", p)
}

func (f reqFilter) matches(row reqRow) bool {
	if f.Market != "" && row.Market != f.Market {
		return false
	}
	if f.Regime != "" && row.Req.Regime != f.Regime {
		return false
	}
	if f.Control != "" && !slices.Contains(row.Req.Controls, f.Control) {
		return false
	}
	if f.Status != "" && row.Status != f.Status {
		return false
	}
	if f.Q != "" {
		hay := strings.ToLower(row.Req.ID + " " + row.Req.Title + " " + strings.Join(row.Req.Citations, " "))
		for _, w := range strings.Fields(strings.ToLower(f.Q)) {
			if !strings.Contains(hay, w) {
				return false
			}
		}
	}
	return true
}

// evidenceCounts returns a function counting the evidence that supports a requirement, directly or
// through one of its control objectives.
func evidenceCounts(cat *catalog.Catalog, ev []store.Evidence) func(applicability.RequirementResult) int {
	byReq := map[string]map[int64]bool{}
	byCtl := map[string]map[int64]bool{}
	for _, e := range ev {
		for _, l := range e.Links {
			m := byReq
			if l.Kind == store.LinkControl {
				m = byCtl
			}
			if m[l.TargetID] == nil {
				m[l.TargetID] = map[int64]bool{}
			}
			m[l.TargetID][e.ID] = true
		}
	}
	return func(q applicability.RequirementResult) int {
		seen := map[int64]bool{}
		for id := range byReq[q.ID] {
			seen[id] = true
		}
		for _, c := range q.Controls {
			for id := range byCtl[c] {
				seen[id] = true
			}
		}
		return len(seen)
	}
}

// --- Requirement page for one device version ---

type requirementPage struct {
	Base
	V          store.DeviceVersion
	Req        *catalog.Requirement
	Regime     *catalog.Regime
	Result     applicability.RequirementResult
	Assessment store.Assessment
	Status     string
	Evidence   []store.Evidence
	Controls   []ctlView
	History    []store.AuditEntry
	Statuses   []string
	EvTypes    []*catalog.EvidenceType
	Error      string
	CanApprove bool
}

type ctlView struct {
	Control *catalog.Control
	Mapping string
	Others  []otherReq
}

type otherReq struct {
	ID, Title, Market, Status string
	Applies                   bool
}

func (s *Server) requirementView(w http.ResponseWriter, r *http.Request) error {
	return s.renderRequirement(w, r, http.StatusOK, "")
}

func (s *Server) renderRequirement(w http.ResponseWriter, r *http.Request, status int, errMsg string) error {
	ctx := r.Context()
	v, err := s.versionByID(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	req, ok := s.cat.Requirement(r.PathValue("rid"))
	if !ok {
		return notFound("requirement " + r.PathValue("rid"))
	}
	e, err := s.evaluate(v)
	if err != nil {
		return err
	}
	reg, _ := s.cat.Regime(req.Regime)
	as, err := s.store.Assessments(ctx, v.ID)
	if err != nil {
		return err
	}
	ev, err := s.store.ListEvidence(ctx, v.ID)
	if err != nil {
		return err
	}
	hist, err := s.store.AuditFor(ctx, "assessment", fmt.Sprintf("%d/%s", v.ID, req.ID), 50)
	if err != nil {
		return err
	}
	u := currentUser(r)
	p := requirementPage{Base: s.base(r, req.Title, "dashboard"), V: v, Req: req, Regime: reg, Assessment: as[req.ID], History: hist,
		Statuses: readiness.Statuses, Error: errMsg, CanApprove: auth.Role(u.Role).Can(auth.PermApprove)}
	for _, q := range e.result.Requirements {
		if q.ID == req.ID {
			p.Result = q
		}
	}
	p.Status = p.Assessment.Status
	if p.Status == "" {
		p.Status = readiness.NotStarted
	}
	for _, k := range req.Evidence {
		if et, ok := s.cat.EvidenceType(k); ok {
			p.EvTypes = append(p.EvTypes, et)
		}
	}
	ctlIDs := req.ControlIDs()
	for _, x := range ev {
		for _, l := range x.Links {
			if (l.Kind == store.LinkRequirement && l.TargetID == req.ID) || (l.Kind == store.LinkControl && slices.Contains(ctlIDs, l.TargetID)) {
				p.Evidence = append(p.Evidence, x)
				break
			}
		}
	}
	for _, ref := range req.Controls {
		ctl, _ := s.cat.Control(ref.ID)
		cv := ctlView{Control: ctl, Mapping: ref.Mapping}
		for _, o := range ctl.Requirements {
			if o.ID == req.ID {
				continue
			}
			oreg, _ := s.cat.Regime(o.Regime)
			st := as[o.ID].Status
			if st == "" {
				st = readiness.NotStarted
			}
			cv.Others = append(cv.Others, otherReq{ID: o.ID, Title: o.Title, Market: oreg.Jurisdiction, Status: st, Applies: e.applies[o.ID]})
		}
		slices.SortStableFunc(cv.Others, func(a, b otherReq) int {
			if a.Applies != b.Applies {
				if a.Applies {
					return -1
				}
				return 1
			}
			return slices.Index(catalog.Markets, a.Market) - slices.Index(catalog.Markets, b.Market)
		})
		p.Controls = append(p.Controls, cv)
	}
	return s.render(w, status, "requirement", p)
}

// needsApproval reports whether moving to this status is a sign-off that only approvers may make.
func needsApproval(status string) bool {
	return status == readiness.Met || status == readiness.NotApplicable
}

func (s *Server) updateAssessment(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	v, err := s.versionByID(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	req, ok := s.cat.Requirement(r.PathValue("rid"))
	if !ok {
		return notFound("requirement")
	}
	e, err := s.evaluate(v)
	if err != nil {
		return err
	}
	if !e.applies[req.ID] {
		return errStatus(http.StatusBadRequest, "%s does not apply to this device version", req.ID)
	}
	u := currentUser(r)
	status := r.FormValue("status")
	if !slices.Contains(readiness.Statuses, status) {
		return s.renderRequirement(w, r, http.StatusBadRequest, "Choose a status.")
	}
	if needsApproval(status) && !auth.Role(u.Role).Can(auth.PermApprove) {
		return errStatus(http.StatusForbidden, "only approvers can mark a requirement %s", status)
	}
	if status == readiness.NotApplicable && strings.TrimSpace(r.FormValue("justification")) == "" {
		return s.renderRequirement(w, r, http.StatusBadRequest, "Marking a requirement not applicable needs a justification.")
	}
	a := store.Assessment{DeviceVersionID: v.ID, RequirementID: req.ID, Status: status, Owner: strings.TrimSpace(r.FormValue("owner")),
		Justification: strings.TrimSpace(r.FormValue("justification")), DueDate: strings.TrimSpace(r.FormValue("due_date"))}
	if _, err := s.store.SetAssessment(ctx, u.Email, a); err != nil {
		if errors.Is(err, store.ErrInvalid) {
			_, msg := statusOf(err)
			return s.renderRequirement(w, r, http.StatusBadRequest, msg)
		}
		return err
	}
	return redirect(w, r, fmt.Sprintf("/versions/%d/requirements/%s", v.ID, req.ID), "Saved.")
}
