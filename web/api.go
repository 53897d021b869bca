package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/vigil-med/vigil/applicability"
	"github.com/vigil-med/vigil/auth"
	"github.com/vigil-med/vigil/profile"
	"github.com/vigil-med/vigil/readiness"
	"github.com/vigil-med/vigil/store"
)

// page is the envelope of every list response.
type page[T any] struct {
	Items  []T `json:"items"`
	Total  int `json:"total"`
	Limit  int `json:"limit"`
	Offset int `json:"offset"`
}

// paginate slices items by the limit (default 50, at most 500) and offset query parameters.
func paginate[T any](r *http.Request, items []T) (page[T], error) {
	q := r.URL.Query()
	limit, offset := 50, 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return page[T]{}, errStatus(http.StatusBadRequest, "limit must be a whole number from 1 to 500")
		}
		limit = n
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return page[T]{}, errStatus(http.StatusBadRequest, "offset must be a whole number, 0 or more")
		}
		offset = n
	}
	p := page[T]{Total: len(items), Limit: limit, Offset: offset, Items: []T{}}
	if offset < len(items) {
		p.Items = items[offset:min(offset+limit, len(items))]
	}
	return p, nil
}

// writePage writes one page of items (see paginate) as JSON.
func writePage[T any](w http.ResponseWriter, r *http.Request, items []T) error {
	pg, err := paginate(r, items)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, pg)
}

// decodeBody reads a JSON request body strictly (unknown fields are errors), at most 2 MiB.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		return errStatus(http.StatusUnsupportedMediaType, "send the body as application/json")
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 2<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errStatus(http.StatusBadRequest, "invalid JSON body: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errStatus(http.StatusBadRequest, "invalid JSON body: more than one value")
	}
	return nil
}

func (s *Server) apiListProducts(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.store.ListProducts(r.Context())
	if err != nil {
		return err
	}
	return writePage(w, r, ps)
}

func (s *Server) apiCreateProduct(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name         string `json:"name"`
		Manufacturer string `json:"manufacturer"`
		Description  string `json:"description"`
	}
	if err := decodeBody(w, r, &in); err != nil {
		return err
	}
	p, err := s.store.CreateProduct(r.Context(), currentUser(r).Email, store.Product{Name: in.Name, Manufacturer: in.Manufacturer, Description: in.Description})
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/products/%d", p.ID))
	return writeJSON(w, http.StatusCreated, p)
}

func (s *Server) apiProduct(w http.ResponseWriter, r *http.Request) error {
	p, err := s.productByID(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

func (s *Server) apiListVersions(w http.ResponseWriter, r *http.Request) error {
	p, err := s.productByID(r)
	if err != nil {
		return err
	}
	vs, err := s.store.ListDeviceVersions(r.Context(), p.ID)
	if err != nil {
		return err
	}
	return writePage(w, r, vs)
}

func (s *Server) apiCreateVersion(w http.ResponseWriter, r *http.Request) error {
	prod, err := s.productByID(r)
	if err != nil {
		return err
	}
	var in struct {
		Version string `json:"version"`
		Profile string `json:"profile"`
	}
	if err := decodeBody(w, r, &in); err != nil {
		return err
	}
	p, err := profile.Parse("profile", []byte(in.Profile))
	if err != nil {
		return errStatus(http.StatusBadRequest, "%s", err.Error())
	}
	if in.Version == "" {
		in.Version = p.Version
	}
	v, err := s.store.CreateDeviceVersion(r.Context(), currentUser(r).Email, prod.ID, in.Version, in.Profile)
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/versions/%d", v.ID))
	return writeJSON(w, http.StatusCreated, v)
}

type apiVersion struct {
	store.DeviceVersion
	Device      string                       `json:"device"`
	CyberDevice bool                         `json:"cyber_device"`
	Readiness   []readiness.Market           `json:"readiness"`
	Regimes     []applicability.RegimeResult `json:"regimes"`
}

func (s *Server) apiVersion(w http.ResponseWriter, r *http.Request) error {
	v, e, err := s.loadVersion(r)
	if err != nil {
		return err
	}
	as, err := s.store.Assessments(r.Context(), v.ID)
	if err != nil {
		return err
	}
	out := apiVersion{DeviceVersion: v, Device: e.result.Device, CyberDevice: e.result.CyberDevice, Readiness: readiness.Compute(s.cat, e.result, statusMap(as)), Regimes: e.result.Regimes}
	for i := range out.Readiness {
		out.Readiness[i].Gaps = nil
	}
	return writeJSON(w, http.StatusOK, out)
}

type apiRequirement struct {
	applicability.RequirementResult
	Status        string `json:"status"`
	Owner         string `json:"owner,omitempty"`
	Justification string `json:"justification,omitempty"`
	DueDate       string `json:"due_date,omitempty"`
}

func (s *Server) apiRequirements(w http.ResponseWriter, r *http.Request) error {
	v, e, err := s.loadVersion(r)
	if err != nil {
		return err
	}
	as, err := s.store.Assessments(r.Context(), v.ID)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	var items []apiRequirement
	for _, req := range e.result.Requirements {
		if !req.Applies {
			continue
		}
		a := as[req.ID]
		st := a.Status
		if st == "" {
			st = readiness.NotStarted
		}
		if f := q.Get("status"); f != "" && f != st {
			continue
		}
		if f := strings.ToLower(q.Get("market")); f != "" && !strings.HasPrefix(req.ID, f+".") {
			continue
		}
		if f := q.Get("regime"); f != "" && f != req.Regime {
			continue
		}
		items = append(items, apiRequirement{RequirementResult: req, Status: st, Owner: a.Owner, Justification: a.Justification, DueDate: a.DueDate})
	}
	return writePage(w, r, items)
}

func (s *Server) apiSetAssessment(w http.ResponseWriter, r *http.Request) error {
	v, e, err := s.loadVersion(r)
	if err != nil {
		return err
	}
	rid := r.PathValue("rid")
	if !e.applies[rid] {
		return errStatus(http.StatusNotFound, "requirement %s does not apply to device version %d", rid, v.ID)
	}
	var in struct {
		Status        string `json:"status"`
		Owner         string `json:"owner"`
		Justification string `json:"justification"`
		DueDate       string `json:"due_date"`
	}
	if err := decodeBody(w, r, &in); err != nil {
		return err
	}
	u := currentUser(r)
	if needsApproval(in.Status) && !auth.Role(u.Role).Can(auth.PermApprove) {
		return errStatus(http.StatusForbidden, "only approvers can set status %s", in.Status)
	}
	if in.Status == readiness.NotApplicable && strings.TrimSpace(in.Justification) == "" {
		return errStatus(http.StatusBadRequest, "status not-applicable needs a justification")
	}
	a, err := s.store.SetAssessment(r.Context(), u.Email, store.Assessment{DeviceVersionID: v.ID, RequirementID: rid, Status: in.Status, Owner: in.Owner, Justification: in.Justification, DueDate: in.DueDate})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, a)
}

func (s *Server) apiListEvidence(w http.ResponseWriter, r *http.Request) error {
	v, err := s.versionByID(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	ev, err := s.store.ListEvidence(r.Context(), v.ID)
	if err != nil {
		return err
	}
	return writePage(w, r, ev)
}

// apiUploadEvidence accepts multipart/form-data: file, optional title, and one or more link fields
// ("requirement:<id>" or "control:<CO-xx>").
func (s *Server) apiUploadEvidence(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	v, e, err := s.loadVersion(r)
	if err != nil {
		return err
	}
	data, filename, err := s.readUpload(w, r)
	if err != nil {
		return err
	}
	ct, err := sniff(data, filename)
	if err != nil {
		return err
	}
	var links []store.Link
	for _, l := range r.MultipartForm.Value["link"] {
		kind, id, _ := strings.Cut(l, ":")
		switch kind {
		case "requirement":
			if !e.applies[id] {
				return errStatus(http.StatusBadRequest, "link %q: requirement does not apply to this device version", l)
			}
			links = append(links, store.Link{Kind: store.LinkRequirement, TargetID: id})
		case "control":
			ctl, ok := s.cat.Control(id)
			if !ok {
				return errStatus(http.StatusBadRequest, "link %q: unknown control objective", l)
			}
			links = append(links, store.Link{Kind: store.LinkControl, TargetID: ctl.ID})
		default:
			return errStatus(http.StatusBadRequest, "link %q: expected requirement:<id> or control:<CO-xx>", l)
		}
	}
	if len(links) == 0 {
		return errStatus(http.StatusBadRequest, "give at least one link field: requirement:<id> or control:<CO-xx>")
	}
	ev, err := s.store.AddEvidence(ctx, currentUser(r).Email, store.EvidenceInput{DeviceVersionID: v.ID, Title: r.FormValue("title"), Filename: filename, ContentType: ct, Data: data, Links: links})
	if err != nil {
		return err
	}
	s.metrics.evidenceBytes.Add(float64(len(data)))
	w.Header().Set("Location", fmt.Sprintf("/api/v1/evidence/%d/content", ev.ID))
	return writeJSON(w, http.StatusCreated, ev)
}

func (s *Server) apiEvidence(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("eid"), 10, 64)
	if err != nil {
		return notFound("evidence")
	}
	ev, err := s.store.Evidence(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("evidence")
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ev)
}
