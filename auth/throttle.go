package auth

import (
	"context"
	"time"
)

// FailureStore records failed logins; the database implements it so that every replica of the
// server sees the same counts.
type FailureStore interface {
	RecordLoginFailure(ctx context.Context, key string, at time.Time) error
	CountLoginFailures(ctx context.Context, key string, since time.Time) (int, error)
	ClearLoginFailures(ctx context.Context, key string) error
}

// Throttle limits password guessing per account and per client address.
type Throttle struct {
	Store     FailureStore
	Window    time.Duration // failures counted over this window
	PerUser   int           // failures allowed per account in the window
	PerClient int           // failures allowed per client address in the window
	Now       func() time.Time
}

// NewThrottle returns the default policy: 5 failures per account and 20 per address in 15 minutes.
func NewThrottle(s FailureStore) *Throttle {
	return &Throttle{Store: s, Window: 15 * time.Minute, PerUser: 5, PerClient: 20, Now: time.Now}
}

// Allowed reports whether another attempt may be made for this account from this address.
func (t *Throttle) Allowed(ctx context.Context, email, client string) (bool, error) {
	since := t.Now().Add(-t.Window)
	n, err := t.Store.CountLoginFailures(ctx, "user:"+email, since)
	if err != nil || n >= t.PerUser {
		return false, err
	}
	n, err = t.Store.CountLoginFailures(ctx, "ip:"+client, since)
	if err != nil {
		return false, err
	}
	return n < t.PerClient, nil
}

// Failed records a failed attempt.
func (t *Throttle) Failed(ctx context.Context, email, client string) error {
	now := t.Now()
	if err := t.Store.RecordLoginFailure(ctx, "user:"+email, now); err != nil {
		return err
	}
	return t.Store.RecordLoginFailure(ctx, "ip:"+client, now)
}

// Succeeded clears the account's failures.
func (t *Throttle) Succeeded(ctx context.Context, email string) error {
	return t.Store.ClearLoginFailures(ctx, "user:"+email)
}
