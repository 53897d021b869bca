package store

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Roles, in order of decreasing power.
const (
	RoleAdmin    = "admin"
	RoleEditor   = "editor"
	RoleApprover = "approver"
	RoleViewer   = "viewer"
)

// Roles lists the valid user roles.
var Roles = []string{RoleAdmin, RoleEditor, RoleApprover, RoleViewer}

// Assessment statuses.
const (
	StatusNotStarted    = "not-started"
	StatusInProgress    = "in-progress"
	StatusMet           = "met"
	StatusNotMet        = "not-met"
	StatusNotApplicable = "not-applicable"
)

// Statuses lists the valid assessment statuses.
var Statuses = []string{StatusNotStarted, StatusInProgress, StatusMet, StatusNotMet, StatusNotApplicable}

// Evidence link target kinds.
const (
	LinkRequirement = "requirement"
	LinkControl     = "control"
)

// Length limits, in bytes.
const (
	maxShort = 200      // names, IDs, versions, filenames
	maxEmail = 254      // RFC 5321 path limit
	maxLong  = 64 << 10 // descriptions, justifications
	maxYAML  = 16 << 20 // profile text (the profile reader refuses more than 4 MiB)
	maxKey   = 512      // login throttling keys
	hashLen  = 64       // hex sha256
	hexChars = "0123456789abcdef"
)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

// text checks a free-text field: valid UTF-8, no NUL or other control characters except (when
// multiline) tab, CR and LF, at most max bytes. It returns s trimmed of surrounding space.
func text(field, s string, max int, required, multiline bool) (string, error) {
	s = strings.TrimSpace(s)
	if required && s == "" {
		return "", invalid("%s is required", field)
	}
	if len(s) > max {
		return "", invalid("%s is longer than %d bytes", field, max)
	}
	if !utf8.ValidString(s) {
		return "", invalid("%s is not valid UTF-8", field)
	}
	for _, r := range s {
		if r == '\t' || (multiline && (r == '\n' || r == '\r')) {
			continue
		}
		if unicode.IsControl(r) {
			return "", invalid("%s contains a control character", field)
		}
	}
	return s, nil
}

// ident checks an identifier such as a requirement or control ID: ASCII letters, digits and
// . _ - : / only.
func ident(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", invalid("%s is required", field)
	}
	if len(s) > maxShort {
		return "", invalid("%s is longer than %d bytes", field, maxShort)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("._-:/", c) >= 0) {
			return "", invalid("%s %q may hold only letters, digits and . _ - : /", field, s)
		}
	}
	return s, nil
}

// hexHash checks a lower-case hex sha256.
func hexHash(field, s string) error {
	if len(s) != hashLen {
		return invalid("%s must be 64 hex digits", field)
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(hexChars, s[i]) < 0 {
			return invalid("%s must be 64 lower-case hex digits", field)
		}
	}
	return nil
}

// normEmail lower-cases and checks an email address.
func normEmail(s string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(s))
	if e == "" {
		return "", invalid("email is required")
	}
	if len(e) > maxEmail || !utf8.ValidString(e) {
		return "", invalid("email %q is too long or not valid UTF-8", e)
	}
	at := strings.LastIndexByte(e, '@')
	if at <= 0 || at == len(e)-1 {
		return "", invalid("email %q must be local@domain", e)
	}
	for _, r := range e {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return "", invalid("email %q contains a space or control character", e)
		}
	}
	return e, nil
}

func validRole(r string) error {
	for _, x := range Roles {
		if r == x {
			return nil
		}
	}
	return invalid("role %q must be one of %s", r, strings.Join(Roles, ", "))
}

func validStatus(st string) error {
	for _, x := range Statuses {
		if st == x {
			return nil
		}
	}
	return invalid("status %q must be one of %s", st, strings.Join(Statuses, ", "))
}

func validDate(field, d string) (string, error) {
	d = strings.TrimSpace(d)
	if d == "" {
		return "", nil
	}
	t, err := time.Parse(dateLayout, d)
	if err != nil || t.Format(dateLayout) != d {
		return "", invalid("%s %q must be a date YYYY-MM-DD", field, d)
	}
	return d, nil
}

func validID(field string, id int64) error {
	if id <= 0 {
		return invalid("%s must be positive", field)
	}
	return nil
}

func validActor(actor string) (string, error) {
	return text("actor", actor, maxEmail, true, false)
}
