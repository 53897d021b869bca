package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/vigil-med/vigil/auth"
	"github.com/vigil-med/vigil/store"
)

// --- Audit trail ---

type auditPage struct {
	Base
	Report  store.AuditReport
	Entries []store.AuditEntry
	Offset  int
	Next    int
	Prev    int
}

const auditPageSize = 50

func (s *Server) auditView(w http.ResponseWriter, r *http.Request) error {
	off, _ := strconv.Atoi(r.URL.Query().Get("offset"))
	off = max(off, 0)
	rep, err := s.store.VerifyAudit(r.Context())
	if err != nil {
		return err
	}
	es, err := s.store.AuditRecent(r.Context(), auditPageSize, off)
	if err != nil {
		return err
	}
	p := auditPage{Base: s.base(r, "Audit trail", "audit"), Report: rep, Entries: es, Offset: off, Prev: max(off-auditPageSize, 0), Next: -1}
	if len(es) == auditPageSize {
		p.Next = off + auditPageSize
	}
	return s.render(w, http.StatusOK, "audit", p)
}

// --- Users (admin) ---

type usersPage struct {
	Base
	Users []store.User
	Roles []auth.Role
	Error string
	Form  store.User
}

func (s *Server) usersView(w http.ResponseWriter, r *http.Request) error {
	return s.renderUsers(w, r, http.StatusOK, "", store.User{Role: string(auth.Editor)})
}

func (s *Server) renderUsers(w http.ResponseWriter, r *http.Request, status int, msg string, form store.User) error {
	us, err := s.store.ListUsers(r.Context())
	if err != nil {
		return err
	}
	return s.render(w, status, "users", usersPage{Base: s.base(r, "Users", "users"), Users: us, Roles: auth.Roles, Error: msg, Form: form})
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) error {
	form := store.User{Email: strings.TrimSpace(r.FormValue("email")), Name: strings.TrimSpace(r.FormValue("name")), Role: r.FormValue("role")}
	if !auth.Role(form.Role).Valid() {
		return s.renderUsers(w, r, http.StatusBadRequest, "Choose a role.", form)
	}
	hash, err := auth.HashPassword(r.FormValue("password"))
	if err != nil {
		return s.renderUsers(w, r, http.StatusBadRequest, err.Error(), form)
	}
	if _, err := s.store.CreateUser(r.Context(), currentUser(r).Email, form, hash); err != nil {
		if errors.Is(err, store.ErrInvalid) || errors.Is(err, store.ErrConflict) {
			_, msg := statusOf(err)
			return s.renderUsers(w, r, http.StatusBadRequest, msg, form)
		}
		return err
	}
	return redirect(w, r, "/admin/users", "User "+form.Email+" added.")
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("uid"), 10, 64)
	if err != nil {
		return notFound("user")
	}
	me := currentUser(r)
	if id == me.ID {
		return errStatus(http.StatusBadRequest, "you cannot change your own role or disable yourself; ask another administrator")
	}
	ctx := r.Context()
	if role := r.FormValue("role"); role != "" {
		if !auth.Role(role).Valid() {
			return errStatus(http.StatusBadRequest, "unknown role %q", role)
		}
		if _, err := s.store.SetUserRole(ctx, me.Email, id, role); err != nil {
			return err
		}
	}
	if d := r.FormValue("disabled"); d != "" {
		if _, err := s.store.SetUserDisabled(ctx, me.Email, id, d == "true"); err != nil {
			return err
		}
	}
	return redirect(w, r, "/admin/users", "User updated.")
}

// --- Account: API tokens ---

type accountPage struct {
	Base
	Tokens   []store.APIToken
	NewToken string
	Error    string
}

func (s *Server) accountView(w http.ResponseWriter, r *http.Request) error {
	return s.renderAccount(w, r, http.StatusOK, "", "")
}

func (s *Server) renderAccount(w http.ResponseWriter, r *http.Request, status int, newToken, msg string) error {
	ts, err := s.store.ListAPITokens(r.Context(), currentUser(r).ID)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return s.render(w, status, "account", accountPage{Base: s.base(r, "Account", "account"), Tokens: ts, NewToken: newToken, Error: msg})
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	name := strings.TrimSpace(r.FormValue("name"))
	if name == "" {
		return s.renderAccount(w, r, http.StatusBadRequest, "", "Give the token a name, such as the pipeline that uses it.")
	}
	tok, hash, err := auth.NewToken("vgl_")
	if err != nil {
		return err
	}
	u := currentUser(r)
	if _, err := s.store.CreateAPIToken(r.Context(), u.Email, u.ID, name, hash); err != nil {
		return err
	}
	// The token is shown once, in this response only.
	return s.renderAccount(w, r, http.StatusOK, tok, "")
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("tid"), 10, 64)
	if err != nil {
		return notFound("token")
	}
	u := currentUser(r)
	t, err := s.store.APIToken(r.Context(), id)
	if err != nil {
		return err
	}
	if t.UserID != u.ID && !auth.Role(u.Role).Can(auth.PermAdmin) {
		return notFound("token")
	}
	if err := s.store.RevokeAPIToken(r.Context(), u.Email, id); err != nil {
		return err
	}
	return redirect(w, r, "/account", "Token revoked.")
}
