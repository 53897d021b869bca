package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/vigil-med/vigil/auth"
	"github.com/vigil-med/vigil/store"
)

const (
	sessionCookie = "vigil_session"
	preCookie     = "vigil_pre" // anti-CSRF cookie for forms shown before login
	csrfField     = "csrf_token"
	csrfHeader    = "X-CSRF-Token"
)

type ctxKey int

const (
	userKey ctxKey = iota
	csrfKey
	viaTokenKey
	routeKey
)

// currentUser returns the authenticated user, or nil.
func currentUser(r *http.Request) *store.User {
	u, _ := r.Context().Value(userKey).(*store.User)
	return u
}

func csrfToken(r *http.Request) string {
	t, _ := r.Context().Value(csrfKey).(string)
	return t
}

// csrfFor derives the CSRF token of a session from its secret cookie value: a page can only
// carry it if it was rendered for the holder of the session.
func csrfFor(sessionToken string) string {
	m := hmac.New(sha256.New, []byte(sessionToken))
	m.Write([]byte("vigil csrf v1"))
	return hex.EncodeToString(m.Sum(nil))
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// wrap applies authentication, CSRF and role checks to one route.
func (s *Server) wrap(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if h, ok := ctx.Value(routeKey).(*string); ok {
			*h = rt.Method + " " + rt.Pattern
		}
		var user *store.User
		viaToken := false
		if h := r.Header.Get("Authorization"); rt.API && strings.HasPrefix(h, "Bearer ") {
			u, err := s.store.APITokenUser(ctx, auth.HashToken(strings.TrimPrefix(h, "Bearer ")))
			if errors.Is(err, store.ErrNotFound) {
				s.fail(w, r, rt, errStatus(http.StatusUnauthorized, "invalid or revoked API token"))
				return
			}
			if err != nil {
				s.fail(w, r, rt, err)
				return
			}
			user, viaToken = &u, true
		} else if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
			u, err := s.store.SessionUser(ctx, auth.HashToken(c.Value), s.now())
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				s.fail(w, r, rt, err)
				return
			}
			if err == nil {
				user = &u
				ctx = context.WithValue(ctx, csrfKey, csrfFor(c.Value))
			}
		}
		if user != nil {
			ctx = context.WithValue(ctx, userKey, user)
		}
		ctx = context.WithValue(ctx, viaTokenKey, viaToken)
		r = r.WithContext(ctx)

		if rt.Perm != "" {
			if user == nil {
				if rt.API {
					s.fail(w, r, rt, errStatus(http.StatusUnauthorized, "authentication required: log in or send Authorization: Bearer <token>"))
				} else {
					http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				}
				return
			}
			if !auth.Role(user.Role).Can(rt.Perm) {
				s.fail(w, r, rt, errStatus(http.StatusForbidden, "your role (%s) may not do this; it needs the %q permission", user.Role, rt.Perm))
				return
			}
		}
		// CSRF: every state-changing request made with a cookie must carry the token of its session
		// (or, before login, the value of the pre-login cookie). Bearer-token calls carry no cookie
		// and cannot be forged by a browser.
		if !safeMethod(r.Method) && !viaToken {
			if !s.csrfValid(r, user != nil) {
				s.fail(w, r, rt, errStatus(http.StatusForbidden, "missing or invalid CSRF token; reload the page and try again"))
				return
			}
		}
		if err := rt.handler(w, r); err != nil {
			s.fail(w, r, rt, err)
		}
	})
}

func (s *Server) csrfValid(r *http.Request, loggedIn bool) bool {
	got := r.Header.Get(csrfHeader)
	if got == "" {
		// Multipart bodies are parsed by the handler; ParseMultipartForm is idempotent.
		if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
			if err := r.ParseMultipartForm(32 << 10); err != nil && !errors.Is(err, http.ErrNotMultipart) {
				return false
			}
		}
		got = r.FormValue(csrfField)
	}
	if got == "" {
		return false
	}
	if loggedIn {
		return hmac.Equal([]byte(got), []byte(csrfToken(r)))
	}
	c, err := r.Cookie(preCookie)
	return err == nil && c.Value != "" && hmac.Equal([]byte(got), []byte(c.Value))
}

// fail writes err as an HTML page or a JSON error, and logs internal errors.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, rt Route, err error) {
	status, msg := statusOf(err)
	if status >= 500 {
		s.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if rt.API || strings.HasPrefix(r.URL.Path, "/api/") {
		writeJSONError(w, status, msg)
		return
	}
	s.renderError(w, r, status, msg)
}

// clientIP is the remote address without port, for throttling.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
