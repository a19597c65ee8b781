// Package retry is tvmkafka's one way to try an operation again: exponential
// backoff with jitter (cenkalti/backoff/v4) for failures that say nothing about
// when to come back, and the server's own delay, as given, for failures that do
// (HTTP Retry-After). The clock is injectable, so tests run waits on fake time.
//
// Every retry loop of the connector goes through Do: the Tenable client's
// requests, chunk downloads, export status polls, the sink's import retries and
// the Kafka consumer's temporary errors.
package retry

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// Clock is the time source of the waits.
type Clock interface {
	Now() time.Time
	// After behaves like time.After.
	After(d time.Duration) <-chan time.Time
}

// RealClock is the wall clock.
var RealClock Clock = realClock{}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Unlimited as Policy.MaxRetries retries until the operation succeeds, fails
// permanently, or the context ends.
const Unlimited = -1

// Policy says how often and how long to wait.
type Policy struct {
	// Initial is the first exponential wait; each further wait is Multiplier
	// times the one before, up to Max.
	Initial, Max time.Duration
	// Multiplier is the growth of the exponential waits (2 when zero or below 1).
	Multiplier float64
	// MaxRetries is how many times a failed attempt is tried again: 0 means one
	// attempt and no retry; Unlimited (negative) means no bound.
	MaxRetries int
	// MaxElapsed stops retrying once this much time has passed since the first
	// attempt (0: no bound).
	MaxElapsed time.Duration
	// Jitter randomizes each exponential wait by ±Jitter (0.2 when zero; a
	// negative value turns it off). A server-given delay only ever grows, by up
	// to a tenth, so that clients throttled together do not come back together.
	Jitter float64
	// Clock defaults to RealClock.
	Clock Clock
}

// Permanent marks err as not worth another attempt; Do returns err unwrapped.
func Permanent(err error) error { return backoff.Permanent(err) }

// afterError carries a server-given delay with the failure.
type afterError struct {
	err   error
	after time.Duration
}

func (e *afterError) Error() string { return e.err.Error() }
func (e *afterError) Unwrap() error { return e.err }

// After marks err as retryable after exactly d (Retry-After), instead of the
// exponential wait. d <= 0 leaves err as it is.
func After(err error, d time.Duration) error {
	if err == nil || d <= 0 {
		return err
	}
	return &afterError{err: err, after: d}
}

// AfterOf returns the server-given delay carried by err, if any.
func AfterOf(err error) (time.Duration, bool) {
	var a *afterError
	if errors.As(err, &a) {
		return a.after, true
	}
	return 0, false
}

// Notify is called before each wait with the failure and the wait.
type Notify func(err error, attempt int, wait time.Duration)

// StoppedError is returned when retrying stopped with the operation still
// failing: attempts or time were used up, or the next wait would pass the
// context's deadline. It wraps the last failure.
type StoppedError struct {
	Err      error
	Attempts int
	// Deadline is true when the context's deadline, not the policy, stopped it.
	Deadline bool
}

func (e *StoppedError) Error() string {
	if e.Deadline {
		return "giving up before the deadline: " + e.Err.Error()
	}
	return "giving up after " + strconv.Itoa(e.Attempts) + " attempts: " + e.Err.Error()
}
func (e *StoppedError) Unwrap() error { return e.Err }

// Do runs op until it succeeds, returns a Permanent error (returned unwrapped),
// the context ends (its error is returned), or the policy stops it (a
// *StoppedError wrapping the last failure).
func Do(ctx context.Context, p Policy, op func(ctx context.Context) error, notify Notify) error {
	s := newSchedule(ctx, p)
	attempts := 0
	wrapped := func() error {
		attempts++
		err := op(ctx)
		s.lastFail = err
		return err
	}
	bnotify := func(err error, wait time.Duration) {
		if notify != nil {
			notify(err, attempts, wait)
		}
	}
	err := backoff.RetryNotifyWithTimer(wrapped, s, bnotify, &clockTimer{clock: s.clock})
	if err == nil {
		return nil
	}
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return err
	}
	var perm *backoff.PermanentError
	if errors.As(err, &perm) {
		return perm.Err
	}
	if s.lastFail != nil && (s.stopped || s.deadline) {
		return &StoppedError{Err: s.lastFail, Attempts: attempts, Deadline: s.deadline}
	}
	return err
}

// Wait sleeps d on clock, or returns the context's error.
func Wait(ctx context.Context, clock Clock, d time.Duration) error {
	if clock == nil {
		clock = RealClock
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-clock.After(d):
		return nil
	}
}

// Schedule hands out the waits of a loop that is not an operation returning an
// error, such as polling a job until it finishes: Next returns the next
// exponential wait (capped at Max), Reset starts again from Initial.
type Schedule struct{ exp *backoff.ExponentialBackOff }

// NewSchedule returns the exponential waits of p (MaxRetries and MaxElapsed do
// not apply: the caller decides when to stop).
func NewSchedule(p Policy) *Schedule {
	return &Schedule{exp: newExponential(p)}
}

// Next returns the wait before the next attempt: Initial first, growing by
// Multiplier up to Max.
func (s *Schedule) Next() time.Duration { return s.exp.NextBackOff() }

// Reset starts again from the initial wait.
func (s *Schedule) Reset() { s.exp.Reset() }

func newExponential(p Policy) *backoff.ExponentialBackOff {
	jitter := p.Jitter
	switch {
	case jitter == 0:
		jitter = 0.2
	case jitter < 0:
		jitter = 0
	}
	initial, maxWait := p.Initial, p.Max
	if initial <= 0 {
		initial = 500 * time.Millisecond
	}
	if maxWait < initial {
		maxWait = initial
	}
	multiplier := p.Multiplier
	if multiplier < 1 {
		multiplier = 2
	}
	return backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(initial),
		backoff.WithMaxInterval(maxWait),
		backoff.WithMultiplier(multiplier),
		backoff.WithRandomizationFactor(jitter),
		backoff.WithMaxElapsedTime(0), // bounded by schedule.NextBackOff instead
	)
}

// schedule is the backoff.BackOff of one Do call.
type schedule struct {
	ctx        context.Context
	exp        *backoff.ExponentialBackOff
	clock      Clock
	maxRetries int
	maxElapsed time.Duration
	start      time.Time
	retries    int
	lastFail   error // the failure NextBackOff decides about
	stopped    bool  // the policy's bound stopped it
	deadline   bool  // the context's deadline stopped it
}

func newSchedule(ctx context.Context, p Policy) *schedule {
	clock := p.Clock
	if clock == nil {
		clock = RealClock
	}
	return &schedule{ctx: ctx, exp: newExponential(p), clock: clock, maxRetries: p.MaxRetries,
		maxElapsed: p.MaxElapsed, start: clock.Now()}
}

var _ backoff.BackOffContext = (*schedule)(nil)

func (s *schedule) Context() context.Context { return s.ctx }

func (s *schedule) Reset() {
	s.exp.Reset()
	s.retries = 0
	s.stopped, s.deadline = false, false
	s.start = s.clock.Now()
}

// NextBackOff is called by backoff after a failed attempt, which Do recorded
// in lastFail.
func (s *schedule) NextBackOff() time.Duration {
	if s.maxRetries >= 0 && s.retries >= s.maxRetries {
		s.stopped = true
		return backoff.Stop
	}
	var wait time.Duration
	if d, ok := AfterOf(s.lastFail); ok {
		// As the server asked, plus up to a tenth; the exponential sequence is
		// left where it was, so a Retry-After never compounds with it.
		wait = d + time.Duration(rand.Float64()*0.1*float64(d))
	} else {
		wait = s.exp.NextBackOff()
	}
	now := s.clock.Now()
	if s.maxElapsed > 0 && now.Add(wait).Sub(s.start) > s.maxElapsed {
		s.stopped = true
		return backoff.Stop
	}
	if deadline, ok := s.ctx.Deadline(); ok && now.Add(wait).After(deadline) {
		s.deadline = true
		return backoff.Stop
	}
	s.retries++
	return wait
}

// clockTimer adapts a Clock to backoff's Timer.
type clockTimer struct {
	clock Clock
	c     <-chan time.Time
}

func (t *clockTimer) Start(d time.Duration) { t.c = t.clock.After(d) }
func (t *clockTimer) Stop()                 {}
func (t *clockTimer) C() <-chan time.Time   { return t.c }
