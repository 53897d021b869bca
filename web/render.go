package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/vigil-med/vigil/auth"
	"github.com/vigil-med/vigil/store"
)

// Base is embedded in every page's data.
type Base struct {
	Title   string
	User    *store.User
	CSRF    string
	Flash   string
	Active  string // nav item
	Version string
}

// Can reports whether the viewer holds a permission (for showing or hiding controls).
func (b Base) Can(p string) bool {
	return b.User != nil && auth.Role(b.User.Role).Can(auth.Permission(p))
}

func (s *Server) base(r *http.Request, title, active string) Base {
	b := Base{Title: title, User: currentUser(r), CSRF: csrfToken(r), Active: active, Version: s.cfg.Version}
	if f := r.URL.Query().Get("flash"); f != "" && len(f) < 300 {
		b.Flash = f
	}
	return b
}

var funcs = template.FuncMap{
	"pct": func(v float64) string { return fmt.Sprintf("%.0f%%", math.Floor(v)) },
	"heat": func(v float64) string {
		// red (0) -> amber (50) -> green (100), readable with dark text.
		switch {
		case v >= 90:
			return "#3f9f5f"
		case v >= 70:
			return "#8cc06a"
		case v >= 50:
			return "#e8c547"
		case v >= 25:
			return "#ef9a4a"
		}
		return "#e06c5a"
	},
	"date": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"join":  strings.Join,
	"lower": strings.ToLower,
	"statusLabel": func(s string) string {
		if s == "" {
			return "not started"
		}
		return strings.ReplaceAll(s, "-", " ")
	},
	"add": func(a, b int) int { return a + b },
	"mul": func(a, b int) int { return a * b },
	"bytes": func(n int64) string {
		switch {
		case n >= 1<<20:
			return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
		case n >= 1<<10:
			return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
		}
		return fmt.Sprintf("%d B", n)
	},
	"market": func(m string) string {
		return map[string]string{"US": "United States", "CA": "Canada", "EU": "European Union", "UK": "United Kingdom"}[m]
	},
	"json": func(v any) string {
		b, _ := json.MarshalIndent(v, "", "  ")
		return string(b)
	},
	"truncate": func(n int, s string) string {
		if len([]rune(s)) <= n {
			return s
		}
		return string([]rune(s)[:n-1]) + "…"
	},
}

// parsePages parses layout.html together with each page template once, at start-up.
func parsePages() (map[string]*template.Template, error) {
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, f := range files {
		name := path.Base(f)
		if name == "layout.html" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFS, f)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", name, err)
		}
		pages[strings.TrimSuffix(name, ".html")] = t
	}
	return pages, nil
}

// render executes a page into a buffer first, so a template error never sends half a page.
func (s *Server) render(w http.ResponseWriter, status int, page string, data any) error {
	t, ok := s.pages[page]
	if !ok {
		return fmt.Errorf("no template %q", page)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", data); err != nil {
		return fmt.Errorf("render %s: %w", page, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

type errorPage struct {
	Base
	Status  int
	Message string
}

func (s *Server) renderError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	p := errorPage{Base: s.base(r, http.StatusText(status), ""), Status: status, Message: msg}
	if err := s.render(w, status, "error", p); err != nil {
		http.Error(w, msg, status)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	_ = writeJSON(w, status, map[string]any{"error": map[string]any{"status": status, "message": msg}})
}

// redirect after a successful form post, with a short message for the next page.
func redirect(w http.ResponseWriter, r *http.Request, to, flash string) error {
	return redirectTo(w, r, to, flash, "")
}

// redirectTo is redirect to a place in the page: #anchor (an element id) follows the query.
func redirectTo(w http.ResponseWriter, r *http.Request, to, flash, anchor string) error {
	if flash != "" {
		sep := "?"
		if strings.Contains(to, "?") {
			sep = "&"
		}
		to += sep + "flash=" + template.URLQueryEscaper(flash)
	}
	if anchor != "" {
		to += "#" + anchor
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}
