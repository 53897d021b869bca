package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/vigil-med/vigil/sbom"
	"github.com/vigil-med/vigil/store"
)

// Level of support and end-of-support date per component (FDA premarket guidance V.A.4), set
// on the SBOM page row by row (or for several components at once) instead of through the
// support file round trip. Either way the change is stored in the SBOM's support sidecar
// (vigil/sbom-support/v1), so the downloadable file, the quality check and the API agree.

// setComponentSupport handles the SBOM page's support forms. The row form sends one ref and
// sets the component's level and date as given (empty clears them from the support file). The
// bulk form (bulk=1) sends the refs of the ticked rows, or scope=supplier:NAME for every
// component of one supplier, and applies only the fields it fills in.
func (s *Server) setComponentSupport(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	b, err := s.sbomByID(r)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return errStatus(http.StatusBadRequest, "the form could not be read")
	}
	bulk := r.PostFormValue("bulk") == "1"
	field := func(name string) *string {
		vs, ok := r.PostForm[name]
		if !ok || len(vs) == 0 {
			return nil
		}
		v := strings.TrimSpace(vs[0])
		if bulk && v == "" {
			return nil // the bulk form leaves what it does not fill in
		}
		return &v
	}
	ch := store.ComponentSupport{Support: field("support"), EndOfSupport: field("end_of_support"), Note: field("note")}
	refs := r.PostForm["ref"]
	back := fmt.Sprintf("/sboms/%d", b.ID)
	// Come back to the page of the table the form was on, with its filters.
	if view, err := url.ParseQuery(r.PostFormValue("view")); err == nil {
		page, _ := strconv.Atoi(view.Get("page"))
		if q := sbomViewQuery(strings.TrimSpace(view.Get("q")), view.Get("gap"), page); q != "" {
			back += "?" + q
		}
	}
	anchor := ""
	if n, err := strconv.Atoi(r.PostFormValue("row")); err == nil && n >= 0 && !bulk {
		anchor = fmt.Sprintf("c-%d", n)
	}
	what := "the selected components"
	if bulk {
		anchor = "components"
		scope := r.PostFormValue("scope")
		if sup, ok := strings.CutPrefix(scope, "supplier:"); ok {
			doc, _, _, err := s.sbomDoc(r, b)
			if err != nil {
				return err
			}
			refs = nil
			for _, c := range doc.Components {
				if c.Ref != doc.Root && strings.TrimSpace(c.Supplier) == sup {
					refs = append(refs, c.Ref)
				}
			}
			what = "the components of " + sup
			if len(refs) == 0 {
				return s.renderSBOMSupportError(w, r, http.StatusBadRequest, "", fmt.Sprintf("No component of this SBOM has the supplier %q. Nothing was saved.", sup))
			}
		}
		if len(refs) == 0 {
			return s.renderSBOMSupportError(w, r, http.StatusBadRequest, "", "Tick the components to change (the box at the start of their row), or choose a supplier. Nothing was saved.")
		}
		if ch.Support == nil && ch.EndOfSupport == nil && ch.Note == nil {
			return s.renderSBOMSupportError(w, r, http.StatusBadRequest, "", "Choose a level of support or an end-of-support date to apply. Nothing was saved.")
		}
	} else if len(refs) != 1 || refs[0] == "" {
		return s.renderSBOMSupportError(w, r, http.StatusBadRequest, "", "The form names no component; reload the page and try again. Nothing was saved.")
	}
	if !bulk && ch.Support == nil && ch.EndOfSupport == nil {
		return s.renderSBOMSupportError(w, r, http.StatusBadRequest, refs[0], "Choose a level of support or an end-of-support date. Nothing was saved.")
	}
	res, err := s.store.SetComponentSupport(ctx, currentUser(r).Email, b.ID, refs, ch)
	if err != nil {
		errRef := ""
		if !bulk {
			errRef = refs[0]
		}
		if st, msg, ok := supportErr(err); ok {
			return s.renderSBOMSupportError(w, r, st, errRef, pageMsg(s.componentName(r, b.ID, errRef), msg))
		}
		return err
	}
	var flash string
	switch {
	case bulk:
		flash = fmt.Sprintf("Support set for %d of %d component(s) (%s)", res.Changed, len(res.Components), what)
	case res.Changed == 0:
		flash = fmt.Sprintf("No change to %s", nameVersion(res.Components[0]))
	default:
		c := res.Components[0]
		flash = fmt.Sprintf("%s: %s", nameVersion(c), supportSummary(c.Support, c.EndOfSupport))
	}
	if res.Quality != nil && res.Changed > 0 {
		flash += fmt.Sprintf("; quality %d/100", *res.Quality)
	}
	return redirectTo(w, r, back, flash+".", anchor)
}

// supportErr turns a refused change into a status and the store's message, or ok=false for
// internal errors.
func supportErr(err error) (status int, msg string, ok bool) {
	switch {
	case errors.Is(err, store.ErrInvalid):
		return http.StatusBadRequest, publicMsg(err), true
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, "that component is not in this SBOM (was the SBOM replaced?)", true
	}
	return 0, "", false
}

// pageMsg is a refusal as the page says it: naming the component, and that nothing was saved.
func pageMsg(name, msg string) string {
	if name != "" {
		msg = name + ": " + msg
	} else if msg != "" {
		msg = strings.ToUpper(msg[:1]) + msg[1:]
	}
	return msg + ". Nothing was saved."
}

func (s *Server) renderSBOMSupportError(w http.ResponseWriter, r *http.Request, status int, ref, msg string) error {
	return s.renderSBOMWith(w, r, status, msg, ref)
}

// componentName names a stored component of an SBOM for messages ("" when unknown).
func (s *Server) componentName(r *http.Request, sbomID int64, ref string) string {
	if ref == "" {
		return ""
	}
	comps, err := s.store.SBOMComponents(r.Context(), sbomID)
	if err != nil {
		return ""
	}
	for _, c := range comps {
		if c.Ref == ref {
			return strings.TrimSpace(c.Name + " " + c.Version)
		}
	}
	return ""
}

func nameVersion(c store.ComponentSupportChange) string {
	return strings.TrimSpace(c.Name + " " + c.Version)
}

// supportSummary says a component's support in words: "actively maintained until 2027-12-31".
func supportSummary(level, eos string) string {
	out := "no level of support"
	if level != "" {
		out = strings.ReplaceAll(level, "-", " ")
	}
	if eos != "" {
		out += " until " + eos
	} else {
		out += ", no end-of-support date"
	}
	return out
}

// --- REST API ---

// apiComponent is a component of a stored SBOM with its support data (after the support file).
type apiComponent struct {
	Ref           string `json:"ref"`
	Name          string `json:"name"`
	Version       string `json:"version,omitempty"`
	PURL          string `json:"purl,omitempty"`
	Supplier      string `json:"supplier,omitempty"`
	Primary       bool   `json:"primary,omitempty"`
	Support       string `json:"support,omitempty"`
	EndOfSupport  string `json:"end_of_support,omitempty"`
	SupportNote   string `json:"support_note,omitempty"`
	SupportSource string `json:"support_source,omitempty"`
}

func (s *Server) apiSBOMComponents(w http.ResponseWriter, r *http.Request) error {
	b, err := s.sbomByID(r)
	if err != nil {
		return err
	}
	doc, _, _, err := s.sbomDoc(r, b)
	if err != nil {
		return err
	}
	comps, err := s.store.SBOMComponents(r.Context(), b.ID)
	if err != nil {
		return err
	}
	byRef := make(map[string]*sbom.Component, len(doc.Components))
	for i := range doc.Components {
		byRef[doc.Components[i].Ref] = &doc.Components[i]
	}
	items := make([]apiComponent, 0, len(comps))
	for _, c := range comps {
		a := apiComponent{Ref: c.Ref, Name: c.Name, Version: c.Version, PURL: c.PURL}
		if d := byRef[c.Ref]; d != nil {
			a.Supplier, a.Primary, a.Support, a.EndOfSupport, a.SupportNote, a.SupportSource = d.Supplier, d.Ref == doc.Root, d.Support, d.EndOfSupport, d.SupportNote, d.SupportSource
		}
		items = append(items, a)
	}
	return writePage(w, r, items)
}

// apiComponentSupport is the response of a support change through the API.
type apiComponentSupport struct {
	store.ComponentSupportChange
	Quality       *int   `json:"quality,omitempty"`
	SupportSHA256 string `json:"support_sha256,omitempty"`
}

// apiSetComponentSupport sets one component's support data; {ref} is its bom-ref or SPDXID,
// percent-encoded. A field left out is kept; an empty one is cleared.
func (s *Server) apiSetComponentSupport(w http.ResponseWriter, r *http.Request) error {
	b, err := s.sbomByID(r)
	if err != nil {
		return err
	}
	var in struct {
		Support      *string `json:"support"`
		EndOfSupport *string `json:"end_of_support"`
		Note         *string `json:"note"`
	}
	if err := decodeBody(w, r, &in); err != nil {
		return err
	}
	ref := r.PathValue("ref")
	res, err := s.store.SetComponentSupport(r.Context(), currentUser(r).Email, b.ID, []string{ref},
		store.ComponentSupport{Support: in.Support, EndOfSupport: in.EndOfSupport, Note: in.Note})
	if err != nil {
		if st, msg, ok := supportErr(err); ok {
			if st == http.StatusNotFound {
				msg = fmt.Sprintf("SBOM %d has no component with ref %q", b.ID, ref)
			}
			return errStatus(st, "%s", msg)
		}
		return err
	}
	return writeJSON(w, http.StatusOK, apiComponentSupport{ComponentSupportChange: res.Components[0], Quality: res.Quality, SupportSHA256: res.SupportSHA256})
}

func init() {
	// levelLabel shows a support level in words: "actively maintained".
	funcs["levelLabel"] = func(s string) string { return strings.ReplaceAll(s, "-", " ") }
}
