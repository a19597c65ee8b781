package telemetry

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock for heartbeats.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func probe(t *testing.T, h http.Handler) (int, answer) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	var a answer
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
		t.Fatalf("body %q: %v", rec.Body.String(), err)
	}
	return rec.Code, a
}

func checkNamed(a answer, name string) (Check, bool) {
	for _, c := range a.Checks {
		if c.Name == name {
			return c, true
		}
	}
	return Check{}, false
}

// TestHealthzFailsWhenALoopStalls: a loop that stops beating fails /healthz
// once the stall limit passed; one that waits on purpose (Idle) never does;
// beating again heals it.
func TestHealthzFailsWhenALoopStalls(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	beats := NewBeats(clock.now)
	h := NewHealth(beats, 10*time.Minute)
	vulns, sink := beats.Heartbeat("source.vulns"), beats.Heartbeat("sink")
	live := h.LiveHandler()

	steps := []struct {
		name    string
		do      func()
		code    int
		stalled string // the loop reported stalled, if any
	}{
		{"fresh loops", func() {}, 200, ""},
		{"within the limit", func() { clock.add(9 * time.Minute) }, 200, ""},
		{"sink beats, vulns does not", func() { sink.Beat(); clock.add(2 * time.Minute) }, 503, "loop source.vulns"},
		{"vulns beats again", func() { vulns.Beat() }, 200, ""},
		{"vulns idle for an hour", func() {
			done := vulns.Idle()
			sink.Beat()
			clock.add(time.Hour)
			sink.Beat()
			t.Cleanup(done)
		}, 200, ""},
		{"sink stalls", func() { clock.add(11 * time.Minute) }, 503, "loop sink"},
	}
	for _, s := range steps {
		s.do()
		code, a := probe(t, live)
		if code != s.code {
			t.Fatalf("%s: /healthz %d, want %d: %+v", s.name, code, s.code, a)
		}
		if len(a.Checks) != 2 {
			t.Fatalf("%s: want both loops listed, got %+v", s.name, a.Checks)
		}
		for _, c := range a.Checks {
			if want := c.Name != s.stalled; c.OK != want {
				t.Errorf("%s: %s ok=%v, want %v (%s)", s.name, c.Name, c.OK, want, c.Detail)
			}
		}
		if s.code == 503 && a.Status != "fail" {
			t.Errorf("%s: status %q", s.name, a.Status)
		}
	}
}

// TestIdleEndsWithTheWait: after Idle's done, the stall clock runs again.
func TestIdleEndsWithTheWait(t *testing.T) {
	clock := &fakeClock{t: time.Unix(0, 0)}
	beats := NewBeats(clock.now)
	b := beats.Heartbeat("loop")
	done := b.Idle()
	clock.add(time.Hour)
	done()
	done() // a second call changes nothing
	clock.add(2 * time.Minute)
	if code, a := probe(t, NewHealth(beats, time.Minute).LiveHandler()); code != 503 {
		t.Fatalf("a loop done waiting and silent past the limit must fail: %d %+v", code, a)
	}
}

// TestReadyzListsEveryInputAndTurnsBack: /readyz is 503 until start-up is
// over, 200 while every input passes, and 503 again when one fails.
func TestReadyzListsEveryInputAndTurnsBack(t *testing.T) {
	h := NewHealth(NewBeats(nil), time.Minute)
	var tenableErr error
	h.AddCheck("tenable", func() error { return tenableErr })
	h.AddCheck("group membership", func() error { return nil })
	ready := h.ReadyHandler()
	if code, _ := probe(t, ready); code != 503 {
		t.Fatalf("before SetReady: %d", code)
	}
	h.SetReady(true)
	code, a := probe(t, ready)
	if code != 200 || len(a.Checks) != 3 {
		t.Fatalf("ready: %d %+v", code, a)
	}
	tenableErr = errTest("refuses the API keys")
	code, a = probe(t, ready)
	c, ok := checkNamed(a, "tenable")
	if code != 503 || !ok || c.OK || c.Detail != "refuses the API keys" {
		t.Fatalf("failing input: %d %+v", code, a)
	}
	tenableErr = nil
	h.SetReady(false)
	if code, a := probe(t, ready); code != 503 {
		t.Fatalf("shutting down must not be ready: %d %+v", code, a)
	}
}

type errTest string

func (e errTest) Error() string { return string(e) }

// TestNilBeatDoesNothing: code outside a loop carries no beat and must not crash.
func TestNilBeatDoesNothing(t *testing.T) {
	var b *Beat
	b.Beat()
	b.Idle()()
	if BeatFrom(t.Context()) != nil {
		t.Fatal("a bare context carries no beat")
	}
}
