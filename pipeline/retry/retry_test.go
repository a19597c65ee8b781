package retry

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// fakeClock records every wait and moves its time by it at once.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

var errBoom = errors.New("boom")

func TestDoAttempts(t *testing.T) {
	for _, tc := range []struct {
		name       string
		maxRetries int
		failures   int // attempts that fail before one succeeds
		wantCalls  int
		wantErr    bool
	}{
		{"zero retries means one attempt", 0, 5, 1, true},
		{"three retries means four attempts", 3, 10, 4, true},
		{"success on the third attempt", 5, 2, 3, false},
		{"unlimited until success", Unlimited, 40, 41, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			calls := 0
			err := Do(context.Background(), Policy{Initial: time.Second, Max: time.Minute, MaxRetries: tc.maxRetries, Clock: clock},
				func(context.Context) error {
					calls++
					if calls <= tc.failures {
						return errBoom
					}
					return nil
				}, nil)
			if calls != tc.wantCalls {
				t.Errorf("calls = %d, want %d", calls, tc.wantCalls)
			}
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				var stopped *StoppedError
				if !errors.As(err, &stopped) || stopped.Attempts != tc.wantCalls || !errors.Is(err, errBoom) {
					t.Errorf("err = %#v, want a StoppedError after %d attempts wrapping the failure", err, tc.wantCalls)
				}
			}
			if len(clock.waits) != calls-1 {
				t.Errorf("%d waits for %d calls", len(clock.waits), calls)
			}
		})
	}
}

func TestExponentialWaitsDoubleWithinJitter(t *testing.T) {
	clock := newFakeClock()
	_ = Do(context.Background(), Policy{Initial: time.Second, Max: 8 * time.Second, MaxRetries: 6, Clock: clock},
		func(context.Context) error { return errBoom }, nil)
	want := []time.Duration{1, 2, 4, 8, 8, 8}
	if len(clock.waits) != len(want) {
		t.Fatalf("waits %v", clock.waits)
	}
	for i, w := range want {
		nominal := w * time.Second
		lo, hi := time.Duration(float64(nominal)*0.8)-time.Millisecond, time.Duration(float64(nominal)*1.2)+time.Millisecond
		if clock.waits[i] < lo || clock.waits[i] > hi {
			t.Errorf("wait %d = %v, want %v ±20%%", i, clock.waits[i], nominal)
		}
	}
}

// A server-given delay is honoured as given: it neither compounds with the
// exponential sequence nor advances it.
func TestRetryAfterIsHonouredAsGiven(t *testing.T) {
	clock := newFakeClock()
	calls := 0
	_ = Do(context.Background(), Policy{Initial: 100 * time.Millisecond, Max: time.Minute, MaxRetries: 5, Clock: clock},
		func(context.Context) error {
			calls++
			if calls <= 4 {
				return After(errBoom, time.Second)
			}
			return errBoom // no Retry-After: back to the exponential sequence, from its start
		}, nil)
	if len(clock.waits) != 5 {
		t.Fatalf("waits %v", clock.waits)
	}
	for i, w := range clock.waits[:4] {
		if w < time.Second || w > 1100*time.Millisecond {
			t.Errorf("wait %d after Retry-After: 1 = %v, want 1s to 1.1s", i, w)
		}
	}
	if w := clock.waits[4]; w < 80*time.Millisecond || w > 120*time.Millisecond {
		t.Errorf("first exponential wait after Retry-After waits = %v, want 100ms ±20%%", w)
	}
}

func TestPermanentStopsAtOnce(t *testing.T) {
	calls := 0
	err := Do(context.Background(), Policy{Initial: time.Second, MaxRetries: 5, Clock: newFakeClock()},
		func(context.Context) error { calls++; return Permanent(errBoom) }, nil)
	if calls != 1 || err != errBoom {
		t.Fatalf("calls %d err %v, want 1 call and the error itself", calls, err)
	}
}

func TestDeadlineStopsBeforeAWaitPastIt(t *testing.T) {
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(time.Hour))
	defer cancel()
	// A Retry-After far beyond the deadline: waiting it out could only fail.
	err := Do(ctx, Policy{Initial: time.Second, MaxRetries: Unlimited, Clock: RealClock},
		func(context.Context) error { return After(errBoom, 10*365*24*time.Hour) }, nil)
	var stopped *StoppedError
	if !errors.As(err, &stopped) || !stopped.Deadline || stopped.Attempts != 1 {
		t.Fatalf("err = %v, want a deadline stop after one attempt", err)
	}
}

func TestMaxElapsed(t *testing.T) {
	clock := newFakeClock()
	calls := 0
	err := Do(context.Background(), Policy{Initial: time.Second, Max: time.Second, Jitter: -1, MaxRetries: Unlimited, MaxElapsed: 10 * time.Second, Clock: clock},
		func(context.Context) error { calls++; return errBoom }, nil)
	var stopped *StoppedError
	if !errors.As(err, &stopped) || calls != 11 {
		t.Fatalf("calls %d err %v, want 11 attempts one second apart within 10s", calls, err)
	}
}

func TestCancelledContextEndsTheWait(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err := Do(ctx, Policy{Initial: time.Hour, MaxRetries: Unlimited},
		func(context.Context) error { calls++; cancel(); return errBoom }, nil)
	if !errors.Is(err, context.Canceled) || calls != 1 {
		t.Fatalf("calls %d err %v, want context.Canceled after one call", calls, err)
	}
}

func TestNotifySeesEachFailure(t *testing.T) {
	var seen []int
	_ = Do(context.Background(), Policy{Initial: time.Second, MaxRetries: 2, Clock: newFakeClock()},
		func(context.Context) error { return errBoom }, func(err error, attempt int, wait time.Duration) {
			if !errors.Is(err, errBoom) || wait <= 0 {
				t.Errorf("notify(%v, %d, %v)", err, attempt, wait)
			}
			seen = append(seen, attempt)
		})
	if len(seen) != 2 || seen[0] != 1 || seen[1] != 2 {
		t.Fatalf("notified attempts %v, want [1 2]", seen)
	}
}

func TestScheduleResets(t *testing.T) {
	s := NewSchedule(Policy{Initial: time.Second, Max: 4 * time.Second, Jitter: -1})
	got := []time.Duration{s.Next(), s.Next(), s.Next(), s.Next()}
	s.Reset()
	got = append(got, s.Next())
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second, time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("waits %v, want %v", got, want)
		}
	}
}

func TestScheduleMultiplier(t *testing.T) {
	s := NewSchedule(Policy{Initial: 2 * time.Second, Max: 30 * time.Second, Multiplier: 1.5, Jitter: -1})
	want := []time.Duration{2 * time.Second, 3 * time.Second, 4500 * time.Millisecond, 6750 * time.Millisecond,
		10125 * time.Millisecond, 15187500 * time.Microsecond, 22781250 * time.Microsecond, 30 * time.Second, 30 * time.Second}
	for i, w := range want {
		if got := s.Next(); got != w {
			t.Errorf("wait %d = %v, want %v", i, got, w)
		}
	}
	s.Reset()
	if got := s.Next(); got != 2*time.Second {
		t.Errorf("after Reset: %v, want 2s", got)
	}
}
