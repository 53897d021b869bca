package web

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/vigil-med/vigil/auth"
	"github.com/vigil-med/vigil/readiness"
	"github.com/vigil-med/vigil/store"
)

// allowedTypes are the sniffed content types accepted as evidence. HTML and executables are
// refused: evidence is downloaded by reviewers and must never run in their browser.
var allowedTypes = map[string]string{
	"application/pdf": "PDF",
	"image/png":       "PNG image",
	"image/jpeg":      "JPEG image",
	"image/gif":       "GIF image",
	"image/webp":      "WebP image",
	"text/plain":      "text (incl. JSON, CSV, YAML, SBOMs)",
	"text/xml":        "XML",
	"application/xml": "XML",
	"application/zip": "ZIP, DOCX or XLSX",
}

// AllowedEvidenceTypes describes accepted uploads for messages and the API document.
func AllowedEvidenceTypes() string {
	return "PDF, PNG, JPEG, GIF, WebP, plain text (JSON, CSV, YAML, SPDX/CycloneDX SBOMs), XML, ZIP (DOCX, XLSX)"
}

// sniff checks content against the allowed types and returns the type to store.
func sniff(data []byte, filename string) (string, error) {
	if len(data) == 0 {
		return "", errStatus(http.StatusBadRequest, "the file %q is empty; nothing was stored", filename)
	}
	ct := http.DetectContentType(data)
	base, _, _ := mime.ParseMediaType(ct)
	if _, ok := allowedTypes[base]; !ok {
		return "", errStatus(http.StatusUnsupportedMediaType, "the file %q looks like %s, which is not accepted as evidence; accepted: %s. Nothing was stored.", filename, base, AllowedEvidenceTypes())
	}
	if base == "text/plain" {
		switch strings.ToLower(filepath.Ext(filename)) {
		case ".json":
			return "application/json", nil
		case ".csv":
			return "text/csv", nil
		case ".yaml", ".yml":
			return "application/yaml", nil
		case ".md":
			return "text/markdown", nil
		}
	}
	if base == "application/zip" {
		switch strings.ToLower(filepath.Ext(filename)) {
		case ".docx":
			return "application/vnd.openxmlformats-officedocument.wordprocessingml.document", nil
		case ".xlsx":
			return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", nil
		}
	}
	return base, nil
}

// readUpload reads the "file" field within the size limit.
func (s *Server) readUpload(w http.ResponseWriter, r *http.Request) ([]byte, string, error) {
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxUploadBytes+64<<10)
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, "", errStatus(http.StatusRequestEntityTooLarge, "the upload is larger than the limit of %s; nothing was stored", humanBytes(s.cfg.MaxUploadBytes))
		}
		return nil, "", errStatus(http.StatusBadRequest, "expected a multipart form with a file field: %v", err)
	}
	f, hdr, err := r.FormFile("file")
	if err != nil {
		return nil, "", errStatus(http.StatusBadRequest, "choose a file to upload")
	}
	defer f.Close()
	if hdr.Size > s.cfg.MaxUploadBytes {
		return nil, "", errStatus(http.StatusRequestEntityTooLarge, "%q is %s; the limit is %s. Nothing was stored.", hdr.Filename, humanBytes(hdr.Size), humanBytes(s.cfg.MaxUploadBytes))
	}
	data, err := io.ReadAll(io.LimitReader(f, s.cfg.MaxUploadBytes+1))
	if err != nil {
		return nil, "", err
	}
	if int64(len(data)) > s.cfg.MaxUploadBytes {
		return nil, "", errStatus(http.StatusRequestEntityTooLarge, "%q exceeds the limit of %s; nothing was stored", hdr.Filename, humanBytes(s.cfg.MaxUploadBytes))
	}
	return data, filepath.Base(hdr.Filename), nil
}

func humanBytes(n int64) string { return funcs["bytes"].(func(int64) string)(n) }

// uploadEvidence stores a file for a device version and links it to a requirement or to a control
// objective (which covers that objective's requirements in every market); it can also set the
// status of what it covers.
func (s *Server) uploadEvidence(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	v, e, err := s.loadVersion(r)
	if err != nil {
		return err
	}
	back := r.FormValue("back")
	fail := func(err error) error {
		var he *httpError
		if errors.As(err, &he) && r.FormValue("rid") != "" {
			r.SetPathValue("rid", r.FormValue("rid"))
			return s.renderRequirement(w, r, he.status, he.msg)
		}
		return err
	}
	data, filename, err := s.readUpload(w, r)
	if err != nil {
		return fail(err)
	}
	ct, err := sniff(data, filename)
	if err != nil {
		return fail(err)
	}
	target := r.FormValue("link")
	var link store.Link
	var covered []string
	switch {
	case strings.HasPrefix(target, "control:"):
		ctl, ok := s.cat.Control(strings.TrimPrefix(target, "control:"))
		if !ok {
			return fail(errStatus(http.StatusBadRequest, "unknown control objective"))
		}
		link = store.Link{Kind: store.LinkControl, TargetID: ctl.ID}
		for _, q := range ctl.Requirements {
			if e.applies[q.ID] {
				covered = append(covered, q.ID)
			}
		}
	case strings.HasPrefix(target, "requirement:"):
		id := strings.TrimPrefix(target, "requirement:")
		if !e.applies[id] {
			return fail(errStatus(http.StatusBadRequest, "requirement %s does not apply to this device version", id))
		}
		link = store.Link{Kind: store.LinkRequirement, TargetID: id}
		covered = []string{id}
	default:
		return fail(errStatus(http.StatusBadRequest, "choose what the evidence supports"))
	}
	setStatus := r.FormValue("set_status")
	u := currentUser(r)
	if setStatus != "" {
		if setStatus != readiness.InProgress && setStatus != readiness.Met {
			return fail(errStatus(http.StatusBadRequest, "status after upload must be in-progress or met"))
		}
		if needsApproval(setStatus) && !auth.Role(u.Role).Can(auth.PermApprove) {
			return fail(errStatus(http.StatusForbidden, "only approvers can mark requirements met; upload without changing the status, or ask an approver"))
		}
	}
	title := strings.TrimSpace(r.FormValue("title"))
	ev, err := s.store.AddEvidence(ctx, u.Email, store.EvidenceInput{DeviceVersionID: v.ID, Title: title, Filename: filename, ContentType: ct, Data: data, Links: []store.Link{link}})
	if err != nil {
		return fail(err)
	}
	s.metrics.evidenceBytes.Add(float64(len(data)))
	changed := 0
	if setStatus != "" {
		current, err := s.store.Assessments(ctx, v.ID)
		if err != nil {
			return err
		}
		var batch []store.Assessment
		for _, id := range covered {
			a := current[id]
			if a.Status == setStatus || (setStatus == readiness.InProgress && a.Status == readiness.Met) {
				continue
			}
			a.DeviceVersionID, a.RequirementID, a.Status = v.ID, id, setStatus
			if a.Justification == "" {
				a.Justification = fmt.Sprintf("Evidence #%d %q", ev.ID, ev.Title)
			}
			batch = append(batch, a)
		}
		if len(batch) > 0 {
			if changed, err = s.store.SetAssessments(ctx, u.Email, batch); err != nil {
				return err
			}
		}
	}
	if back == "" || !strings.HasPrefix(back, "/versions/") {
		back = fmt.Sprintf("/versions/%d", v.ID)
	}
	msg := fmt.Sprintf("Stored %q (%s) supporting %d requirement(s)", ev.Title, humanBytes(ev.Size), len(covered))
	if changed > 0 {
		msg += fmt.Sprintf("; %d marked %s", changed, setStatus)
	}
	return redirect(w, r, back, msg+".")
}

func (s *Server) downloadEvidence(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("eid"), 10, 64)
	if err != nil {
		return notFound("evidence")
	}
	ev, err := s.store.Evidence(r.Context(), id)
	if err != nil {
		return err
	}
	data, err := s.store.EvidenceBlob(r.Context(), ev.SHA256)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", ev.ContentType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": ev.Filename}))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "sandbox")
	w.Header().Set("Digest", "sha-256="+ev.SHA256)
	http.ServeContent(w, r, ev.Filename, ev.UploadedAt, bytes.NewReader(data))
	return nil
}
