package auth

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestPasswordHashRoundTrip(t *testing.T) {
	h, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=3,p=2$") {
		t.Errorf("hash format %q", h)
	}
	if err := VerifyPassword(h, "correct horse battery staple"); err != nil {
		t.Errorf("right password rejected: %v", err)
	}
	if err := VerifyPassword(h, "correct horse battery stapl"); err != ErrMismatch {
		t.Errorf("wrong password: %v", err)
	}
	h2, _ := HashPassword("correct horse battery staple")
	if h == h2 {
		t.Error("two hashes of one password are equal: salt missing")
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=x$AA$AA", h[:len(h)-5] + "!!!!!"} {
		if VerifyPassword(bad, "x") == nil {
			t.Errorf("malformed hash %q accepted", bad)
		}
	}
}

func TestPasswordPolicy(t *testing.T) {
	if _, err := HashPassword("short"); err == nil {
		t.Error("short password accepted")
	}
}

func TestTokens(t *testing.T) {
	tok, hash, err := NewToken("vgl_")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, "vgl_") || len(tok) < 40 || HashToken(tok) != hash || strings.Contains(hash, tok) {
		t.Errorf("token %q hash %q", tok, hash)
	}
	tok2, _, _ := NewToken("vgl_")
	if tok == tok2 {
		t.Error("tokens repeat")
	}
}

func TestRoles(t *testing.T) {
	tests := []struct {
		role Role
		perm Permission
		want bool
	}{
		{Viewer, PermRead, true}, {Viewer, PermEdit, false}, {Viewer, PermApprove, false}, {Viewer, PermAdmin, false},
		{Editor, PermEdit, true}, {Editor, PermApprove, false}, {Editor, PermAdmin, false},
		{Approver, PermApprove, true}, {Approver, PermAdmin, false},
		{Admin, PermAdmin, true}, {Admin, PermApprove, true},
		{Role("root"), PermRead, false},
	}
	for _, tt := range tests {
		if got := tt.role.Can(tt.perm); got != tt.want {
			t.Errorf("%s can %s = %v, want %v", tt.role, tt.perm, got, tt.want)
		}
	}
}

type memFailures struct {
	mu sync.Mutex
	at map[string][]time.Time
}

func (m *memFailures) RecordLoginFailure(_ context.Context, key string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.at[key] = append(m.at[key], at)
	return nil
}

func (m *memFailures) CountLoginFailures(_ context.Context, key string, since time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, t := range m.at[key] {
		if !t.Before(since) {
			n++
		}
	}
	return n, nil
}

func (m *memFailures) ClearLoginFailures(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.at, key)
	return nil
}

func TestThrottle(t *testing.T) {
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	th := NewThrottle(&memFailures{at: map[string][]time.Time{}})
	th.Now = func() time.Time { return now }
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		ok, _ := th.Allowed(ctx, "a@x", "1.2.3.4")
		if !ok {
			t.Fatalf("attempt %d refused", i+1)
		}
		_ = th.Failed(ctx, "a@x", "1.2.3.4")
	}
	if ok, _ := th.Allowed(ctx, "a@x", "1.2.3.4"); ok {
		t.Error("sixth attempt within the window allowed")
	}
	if ok, _ := th.Allowed(ctx, "b@x", "1.2.3.4"); !ok {
		t.Error("another account from the same address refused after 5 failures")
	}
	now = now.Add(16 * time.Minute)
	if ok, _ := th.Allowed(ctx, "a@x", "1.2.3.4"); !ok {
		t.Error("attempt after the window refused")
	}
}
