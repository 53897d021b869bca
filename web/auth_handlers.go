package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/vigil-med/vigil/auth"
	"github.com/vigil-med/vigil/store"
)

type loginPage struct {
	Base
	Next    string
	Email   string
	Error   string
	PreCSRF string
}

// preToken returns the pre-login anti-CSRF value, setting its cookie when absent.
func (s *Server) preToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(preCookie); err == nil && len(c.Value) >= 32 {
		return c.Value
	}
	tok, _, err := auth.NewToken("")
	if err != nil {
		return ""
	}
	http.SetCookie(w, &http.Cookie{Name: preCookie, Value: tok, Path: "/", HttpOnly: true, Secure: s.cfg.SecureCookies, SameSite: http.SameSiteStrictMode})
	return tok
}

func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	if u, err := url.Parse(next); err != nil || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return next
}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) error {
	if currentUser(r) != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return nil
	}
	p := loginPage{Base: s.base(r, "Log in", ""), Next: safeNext(r.URL.Query().Get("next")), PreCSRF: s.preToken(w, r)}
	if n, err := s.store.CountUsers(r.Context()); err == nil && n == 0 {
		p.Error = "No user exists yet. Use the one-time setup link printed on the server console, or run `vigil user add`."
	}
	return s.render(w, http.StatusOK, "login", p)
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	email := strings.ToLower(strings.TrimSpace(r.FormValue("email")))
	password := r.FormValue("password")
	next := safeNext(r.FormValue("next"))
	again := func(status int, msg string) error {
		p := loginPage{Base: s.base(r, "Log in", ""), Next: next, Email: email, Error: msg, PreCSRF: s.preToken(w, r)}
		return s.render(w, status, "login", p)
	}
	ok, err := s.throttle.Allowed(ctx, email, clientIP(r))
	if err != nil {
		return err
	}
	if !ok {
		s.metrics.loginFailures.Inc()
		return again(http.StatusTooManyRequests, "Too many failed attempts. Wait 15 minutes and try again.")
	}
	u, hash, err := s.store.UserCredentials(ctx, email)
	switch {
	case errors.Is(err, store.ErrNotFound):
		auth.VerifyDummy(password)
	case err != nil:
		return err
	}
	if err != nil || u.Disabled || hash == "" || auth.VerifyPassword(hash, password) != nil {
		s.metrics.loginFailures.Inc()
		if ferr := s.throttle.Failed(ctx, email, clientIP(r)); ferr != nil {
			return ferr
		}
		s.log.InfoContext(ctx, "login failed", "email", email, "client", clientIP(r))
		return again(http.StatusUnauthorized, "Email or password is wrong, or the account is disabled.")
	}
	if err := s.throttle.Succeeded(ctx, email); err != nil {
		return err
	}
	if err := s.startSession(w, r, u); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "login", "user", u.Email)
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

func (s *Server) startSession(w http.ResponseWriter, r *http.Request, u store.User) error {
	tok, hash, err := auth.NewToken("")
	if err != nil {
		return err
	}
	if err := s.store.CreateSession(r.Context(), hash, u.ID, s.now().Add(s.cfg.SessionTTL)); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: tok, Path: "/", HttpOnly: true, Secure: s.cfg.SecureCookies,
		SameSite: http.SameSiteLaxMode, MaxAge: int(s.cfg.SessionTTL.Seconds()),
	})
	return nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := s.store.DeleteSession(r.Context(), auth.HashToken(c.Value)); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.cfg.SecureCookies})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

type setupPage struct {
	Base
	Token   string
	PreCSRF string
	Error   string
	Email   string
	Name    string
}

// setupForm serves the one-time first-admin page behind the token printed on the console.
func (s *Server) setupForm(w http.ResponseWriter, r *http.Request) error {
	tok := r.URL.Query().Get("token")
	if err := s.checkSetup(r, tok); err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "setup", setupPage{Base: s.base(r, "Set up Vigil", ""), Token: tok, PreCSRF: s.preToken(w, r)})
}

func (s *Server) checkSetup(r *http.Request, tok string) error {
	n, err := s.store.CountUsers(r.Context())
	if err != nil {
		return err
	}
	if n > 0 || s.setupHash == "" || tok == "" || auth.HashToken(tok) != s.setupHash {
		return errStatus(http.StatusNotFound, "this setup link is not valid (it works once, while no user exists)")
	}
	return nil
}

func (s *Server) setup(w http.ResponseWriter, r *http.Request) error {
	tok := r.FormValue("token")
	if err := s.checkSetup(r, tok); err != nil {
		return err
	}
	email := strings.ToLower(strings.TrimSpace(r.FormValue("email")))
	name := strings.TrimSpace(r.FormValue("name"))
	again := func(msg string) error {
		return s.render(w, http.StatusBadRequest, "setup", setupPage{Base: s.base(r, "Set up Vigil", ""), Token: tok, PreCSRF: s.preToken(w, r), Error: msg, Email: email, Name: name})
	}
	if r.FormValue("password") != r.FormValue("password2") {
		return again("The two passwords differ.")
	}
	hash, err := auth.HashPassword(r.FormValue("password"))
	if err != nil {
		return again(err.Error())
	}
	u, err := s.store.CreateUser(r.Context(), store.ActorSystem, store.User{Email: email, Name: name, Role: string(auth.Admin)}, hash)
	if errors.Is(err, store.ErrInvalid) || errors.Is(err, store.ErrConflict) {
		_, msg := statusOf(err)
		return again(msg)
	}
	if err != nil {
		return err
	}
	s.setupHash = ""
	if err := s.startSession(w, r, u); err != nil {
		return err
	}
	return redirect(w, r, "/", "Welcome. You are the first administrator.")
}
