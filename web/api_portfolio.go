package web

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-med/vigil/auth"
	"github.com/vigil-med/vigil/portfolio"
	"github.com/vigil-med/vigil/store"
	"github.com/vigil-med/vigil/vex"
	"github.com/vigil-med/vigil/vuln"
)

// REST API of portfolio vulnerability management: SBOMs of device versions, their findings,
// VEX decisions and documents, impact of an advisory across the portfolio, new findings.

// portfolioErr turns the domain's input errors into HTTP errors with their message.
func portfolioErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, portfolio.ErrInput) && errors.Is(err, store.ErrNotFound):
		return errStatus(http.StatusNotFound, "%s", strings.TrimSuffix(err.Error(), ": "+store.ErrNotFound.Error()))
	case errors.Is(err, portfolio.ErrInput):
		return errStatus(http.StatusBadRequest, "%s", err.Error())
	}
	return err
}

// apiUploadSBOM accepts multipart/form-data: file (CycloneDX or SPDX), label, replace=true.
func (s *Server) apiUploadSBOM(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	v, err := s.versionByID(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	data, filename, err := s.readUpload(w, r)
	if err != nil {
		return err
	}
	if len(data) == 0 {
		return errStatus(http.StatusBadRequest, "the file %q is empty; nothing was stored", filename)
	}
	replace, _ := strconv.ParseBool(r.FormValue("replace"))
	res, err := portfolio.ImportSBOM(ctx, s.store, currentUser(r).Email, v.ID, r.FormValue("label"), filename, data, replace)
	if err != nil {
		return portfolioErr(err)
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/versions/%d/sboms", v.ID))
	return writeJSON(w, http.StatusCreated, res)
}

func (s *Server) apiListSBOMs(w http.ResponseWriter, r *http.Request) error {
	v, err := s.versionByID(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	list, err := s.store.ListSBOMs(r.Context(), v.ID)
	if err != nil {
		return err
	}
	return writePage(w, r, list)
}

// findingFilter reads the filters of the findings list: severity (comma-separated ratings),
// kev (true/false), status (a VEX status or untriaged), resolved (true: include resolved).
func findingFilter(r *http.Request) (store.FindingFilter, error) {
	q := r.URL.Query()
	var f store.FindingFilter
	ratings := []string{vuln.RatingCritical, vuln.RatingHigh, vuln.RatingMedium, vuln.RatingLow, vuln.RatingNone, vuln.RatingUnknown}
	if v := q.Get("severity"); v != "" {
		for _, x := range strings.Split(v, ",") {
			x = strings.ToLower(strings.TrimSpace(x))
			if !slices.Contains(ratings, x) {
				return f, errStatus(http.StatusBadRequest, "severity %q: expected one or more of %s, comma-separated", x, strings.Join(ratings, ", "))
			}
			f.Ratings = append(f.Ratings, x)
		}
	}
	if v := q.Get("kev"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return f, errStatus(http.StatusBadRequest, "kev must be true or false")
		}
		f.KEV = &b
	}
	if v := q.Get("status"); v != "" {
		if v != store.StatusUntriaged && !vex.Status(v).Valid() {
			return f, errStatus(http.StatusBadRequest, "status %q: expected not_affected, affected, fixed, under_investigation or untriaged", v)
		}
		f.Status = v
	}
	if v := q.Get("resolved"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return f, errStatus(http.StatusBadRequest, "resolved must be true or false")
		}
		f.Resolved = b
	}
	return f, nil
}

func (s *Server) apiListFindings(w http.ResponseWriter, r *http.Request) error {
	v, err := s.versionByID(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	f, err := findingFilter(r)
	if err != nil {
		return err
	}
	list, err := s.store.ListFindings(r.Context(), v.ID, f)
	if err != nil {
		return err
	}
	return writePage(w, r, list)
}

// apiSetVEX records the VEX decision on one finding. not_affected and fixed close a finding:
// like requirement sign-offs, only approvers may set them.
func (s *Server) apiSetVEX(w http.ResponseWriter, r *http.Request) error {
	v, err := s.versionByID(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	var in portfolio.Decision
	if err := decodeBody(w, r, &in); err != nil {
		return err
	}
	u := currentUser(r)
	if vex.Status(in.Status).SignOff() && !auth.Role(u.Role).Can(auth.PermApprove) {
		return errStatus(http.StatusForbidden, "only approvers can set status %s", in.Status)
	}
	if !vex.Status(in.Status).Valid() {
		return errStatus(http.StatusBadRequest, "status %q: expected not_affected, affected, fixed or under_investigation", in.Status)
	}
	st, err := portfolio.SetVEX(r.Context(), s.store, u.Email, v.ID, in)
	if err != nil {
		return portfolioErr(err)
	}
	return writeJSON(w, http.StatusOK, st)
}

// apiExportVEX returns the VEX document of a device version: ?format=openvex (default),
// cyclonedx or csaf; &namespace= sets the CSAF publisher namespace.
func (s *Server) apiExportVEX(w http.ResponseWriter, r *http.Request) error {
	v, err := s.versionByID(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = vex.FormatOpenVEX
	}
	if !slices.Contains(vex.FormatNames, format) {
		return errStatus(http.StatusBadRequest, "format %q: expected one of %s", format, strings.Join(vex.FormatNames, ", "))
	}
	data, err := portfolio.ExportVEX(r.Context(), s.store, v.ID, format, vex.Options{Namespace: r.URL.Query().Get("namespace"), Tool: "vigil " + s.cfg.Version})
	if err != nil {
		return portfolioErr(err)
	}
	name := strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' {
			return c
		}
		return '-'
	}, v.ProductName+"-"+v.Version)
	w.Header().Set("Content-Type", vex.ContentType(format))
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s%s"`, name, vex.FileExtension(format)))
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(data)
	return err
}

type apiImpact struct {
	*store.Impact
	ElapsedMS float64 `json:"elapsed_ms"`
}

func (s *Server) apiImpact(w http.ResponseWriter, r *http.Request) error {
	imp, err := s.store.Impact(r.Context(), r.PathValue("aid"))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errStatus(http.StatusNotFound, "no stored advisory has or names %s", r.PathValue("aid"))
	case errors.Is(err, store.ErrInvalid):
		return errStatus(http.StatusBadRequest, "give an advisory or CVE ID")
	case err != nil:
		return err
	}
	return writeJSON(w, http.StatusOK, apiImpact{imp, float64(imp.Elapsed.Microseconds()) / 1000})
}

// apiNewFindings lists the open findings first seen since ?since= (RFC 3339; default: 7 days
// ago) across the portfolio: which device versions newly imported advisories or SBOMs affect.
func (s *Server) apiNewFindings(w http.ResponseWriter, r *http.Request) error {
	since := s.now().Add(-7 * 24 * time.Hour)
	if v := r.URL.Query().Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return errStatus(http.StatusBadRequest, "since %q: expected an RFC 3339 time such as 2026-01-31T00:00:00Z", v)
		}
		since = t
	}
	list, err := s.store.NewFindings(r.Context(), since)
	if err != nil {
		return err
	}
	return writePage(w, r, list)
}
