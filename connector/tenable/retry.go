package tenable

import (
	"context"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// retryPolicy is the backoff between attempts of one call: exponential from
// RetryInitial to RetryMax, at most MaxRetries retries, never shorter than the
// server's Retry-After, and never past the context deadline.
type retryPolicy struct {
	ctx               context.Context
	exp               *backoff.ExponentialBackOff
	clock             Clock
	maxRetries        int
	retries           int
	retryAfter        time.Duration // set by the failed attempt, read by NextBackOff
	stoppedByDeadline bool
}

var _ backoff.BackOffContext = (*retryPolicy)(nil)

func newRetryPolicy(ctx context.Context, cfg Config) *retryPolicy {
	exp := backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(cfg.RetryInitial),
		backoff.WithMaxInterval(cfg.RetryMax),
		backoff.WithMultiplier(2),
		backoff.WithRandomizationFactor(0.2),
		backoff.WithMaxElapsedTime(0), // bounded by attempts and the context instead
	)
	return &retryPolicy{ctx: ctx, exp: exp, clock: cfg.Clock, maxRetries: cfg.MaxRetries}
}

func (p *retryPolicy) Context() context.Context { return p.ctx }

func (p *retryPolicy) Reset() {
	p.exp.Reset()
	p.retries = 0
	p.retryAfter = 0
	p.stoppedByDeadline = false
}

func (p *retryPolicy) NextBackOff() time.Duration {
	if p.retries >= p.maxRetries {
		return backoff.Stop
	}
	p.retries++
	wait := p.exp.NextBackOff()
	if p.retryAfter > wait {
		wait = p.retryAfter
	}
	if deadline, ok := p.ctx.Deadline(); ok && p.clock.Now().Add(wait).After(deadline) {
		p.stoppedByDeadline = true
		return backoff.Stop
	}
	return wait
}

// Clock is the time source for retry and poll waits.
type Clock interface {
	Now() time.Time
	// After behaves like time.After.
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// clockTimer adapts a Clock to backoff's Timer.
type clockTimer struct {
	clock Clock
	c     <-chan time.Time
}

func (t *clockTimer) Start(d time.Duration) { t.c = t.clock.After(d) }
func (t *clockTimer) Stop()                 {}
func (t *clockTimer) C() <-chan time.Time   { return t.c }
func sleep(ctx context.Context, clock Clock, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-clock.After(d):
		return nil
	}
}
