// Package web is Vigil's HTTP face: server-rendered pages for teams, the REST API for scripts, and
// the operational endpoints (/healthz, /metrics). Every route declares the permission it needs, and
// one middleware chain enforces sessions, API tokens, CSRF protection and roles.
package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/vigil-med/vigil/auth"
	"github.com/vigil-med/vigil/catalog"
	"github.com/vigil-med/vigil/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config holds the server settings that come from flags and VIGIL_* variables.
type Config struct {
	MaxUploadBytes int64         // largest evidence file accepted
	SessionTTL     time.Duration // lifetime of a login session
	SecureCookies  bool          // mark cookies Secure (set when served over HTTPS)
	Version        string
}

// Server serves pages and the API over one store.
type Server struct {
	cfg      Config
	store    *store.Store
	cat      *catalog.Catalog
	log      *slog.Logger
	pages    map[string]*template.Template
	throttle *auth.Throttle
	metrics  *metrics
	routes   []Route
	mux      *http.ServeMux
	now      func() time.Time

	setupHash string // hash of the one-time setup token while no user exists
}

// Route is one entry of the route table; tests walk it for every role.
type Route struct {
	Method  string
	Pattern string
	Perm    auth.Permission // "" = public
	API     bool            // JSON API route (bearer token or session)
	handler func(w http.ResponseWriter, r *http.Request) error
}

// New builds a server. It does not listen; use Handler.
func New(cfg Config, st *store.Store, cat *catalog.Catalog, log *slog.Logger) (*Server, error) {
	if cfg.MaxUploadBytes <= 0 {
		cfg.MaxUploadBytes = 25 << 20
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if log == nil {
		log = slog.Default()
	}
	s := &Server{cfg: cfg, store: st, cat: cat, log: log, now: time.Now, metrics: newMetrics()}
	s.throttle = auth.NewThrottle(st)
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	s.pages = pages
	s.routes = s.routeTable()
	s.mux = http.NewServeMux()
	for _, rt := range s.routes {
		s.mux.Handle(rt.Method+" "+rt.Pattern, s.wrap(rt))
	}
	static, _ := fs.Sub(staticFS, "static")
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", cacheStatic(http.FileServerFS(static))))
	return s, nil
}

// Routes returns the route table.
func (s *Server) Routes() []Route { return s.routes }

// Handler returns the root handler with security headers, request logging and metrics.
func (s *Server) Handler() http.Handler {
	cop := http.NewCrossOriginProtection()
	return s.observe(securityHeaders(cop.Handler(s.mux)))
}

// SetSetupToken arms the one-time first-admin setup link (only while the user table is empty).
func (s *Server) SetSetupToken(hash string) { s.setupHash = hash }

func cacheStatic(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		h.ServeHTTP(w, r)
	})
}

// httpError carries a status and a message safe to show the user.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func errStatus(status int, format string, args ...any) error {
	return &httpError{status: status, msg: fmt.Sprintf(format, args...)}
}

func notFound(what string) error { return errStatus(http.StatusNotFound, "%s not found", what) }

// statusOf maps an error to an HTTP status and a public message; internal details go to the log only.
func statusOf(err error) (int, string) {
	var he *httpError
	switch {
	case errors.As(err, &he):
		return he.status, he.msg
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, "not found"
	case errors.Is(err, store.ErrConflict):
		return http.StatusConflict, "conflict: " + publicMsg(err)
	case errors.Is(err, store.ErrInvalid):
		return http.StatusBadRequest, "invalid input: " + publicMsg(err)
	case errors.Is(err, context.Canceled):
		return 499, "request cancelled"
	}
	return http.StatusInternalServerError, "internal error"
}

// publicMsg keeps the last, user-facing part of a store validation error.
func publicMsg(err error) string {
	msg := err.Error()
	for _, sentinel := range []error{store.ErrConflict, store.ErrInvalid} {
		msg = strings.TrimSuffix(strings.TrimSuffix(msg, sentinel.Error()), ": ")
	}
	if i := strings.LastIndex(msg, ": "); i >= 0 && len(msg)-i < 200 {
		return msg[i+2:]
	}
	return msg
}
