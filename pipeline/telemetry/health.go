package telemetry

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tvmkafka/tvmkafka/pipeline/settings"
)

// Config is the HTTP endpoint's configuration. The tags declare each setting's
// environment variable (relative to its prefix, TVMKAFKA_HTTP_ in the binary),
// default and description.
type Config struct {
	// Addr serves /metrics, /healthz and /readyz; empty turns the endpoint off.
	Addr string `envconfig:"ADDR" desc:"serve /metrics (Prometheus), /healthz and /readyz here, e.g. :9464; empty: off"`
	// StallAfter is how long a loop may go without a heartbeat before /healthz
	// fails. It must exceed the longest step a loop takes without one: a
	// Tenable request with its retries, an import job poll, a Kafka
	// acknowledgement. Waiting for the next interval or for records is not a
	// stall.
	StallAfter time.Duration `envconfig:"STALL_AFTER" default:"10m" desc:"/healthz fails when a stream's or the sink's loop made no progress for this long"`
	// ProbeEvery is the interval of the readiness probes (Kafka metadata).
	ProbeEvery time.Duration `envconfig:"PROBE_EVERY" default:"15s" desc:"interval of the Kafka reachability probe behind /readyz"`
}

// Beat is the heartbeat of one long-running loop. A loop calls Beat at each
// iteration and each step of progress; around a wait it does not control (the
// next interval, the next inbound record) it calls Idle, so the wait is not
// taken for a stall. All methods are safe on a nil *Beat, which does nothing:
// code paths that run outside a loop (tests, one-off commands) need no beat.
type Beat struct {
	name  string
	now   func() time.Time
	last  atomic.Int64 // unix nanoseconds of the last beat
	idle  atomic.Int32 // waits in progress
	beats atomic.Int64
}

// Beat records progress now.
func (b *Beat) Beat() {
	if b == nil {
		return
	}
	b.last.Store(b.now().UnixNano())
	b.beats.Add(1)
}

// Idle marks the loop as waiting on purpose until the returned function is
// called, which beats. An idle loop is never reported stalled.
func (b *Beat) Idle() (done func()) {
	if b == nil {
		return func() {}
	}
	b.Beat()
	b.idle.Add(1)
	var once sync.Once
	return func() {
		once.Do(func() {
			b.idle.Add(-1)
			b.Beat()
		})
	}
}

// Name is the loop's name.
func (b *Beat) Name() string { return b.name }

// Count is how many times the loop beat (Idle and its end included).
func (b *Beat) Count() int64 { return b.beats.Load() }

// Waiting says whether the loop is idle on purpose right now.
func (b *Beat) Waiting() bool { return b.idle.Load() > 0 }

// Beats is a set of heartbeats by name.
type Beats struct {
	now   func() time.Time
	mu    sync.Mutex
	beats map[string]*Beat
}

// NewBeats returns an empty set; now is the clock (time.Now when nil).
func NewBeats(now func() time.Time) *Beats {
	if now == nil {
		now = time.Now
	}
	return &Beats{now: now, beats: map[string]*Beat{}}
}

// Heartbeat returns the beat of the named loop, creating it (as just beaten)
// on first use; a loop restarted under the same name gets the same beat.
func (bs *Beats) Heartbeat(name string) *Beat {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	if b, ok := bs.beats[name]; ok {
		return b
	}
	b := &Beat{name: name, now: bs.now}
	b.Beat()
	bs.beats[name] = b
	return b
}

// Remove forgets a loop that ended on purpose (a --once run that finished).
func (bs *Beats) Remove(name string) {
	bs.mu.Lock()
	delete(bs.beats, name)
	bs.mu.Unlock()
}

// Check is one line of a health or readiness answer.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// checks reports each loop: alive when it beat within stallAfter or is idle.
func (bs *Beats) checks(stallAfter time.Duration) []Check {
	bs.mu.Lock()
	all := make([]*Beat, 0, len(bs.beats))
	for _, b := range bs.beats {
		all = append(all, b)
	}
	bs.mu.Unlock()
	slices.SortFunc(all, func(a, b *Beat) int { return strings.Compare(a.name, b.name) })
	now := bs.now()
	out := make([]Check, 0, len(all))
	for _, b := range all {
		since := now.Sub(time.Unix(0, b.last.Load())).Round(time.Second)
		c := Check{Name: "loop " + b.name, OK: true, Detail: "last progress " + since.String() + " ago"}
		switch {
		case b.idle.Load() > 0:
			c.Detail = "waiting (" + c.Detail + ")"
		case since > stallAfter:
			c.OK = false
			c.Detail = "stalled: no progress for " + since.String() + " (limit " + stallAfter.String() + ")"
		}
		out = append(out, c)
	}
	return out
}

// defaultBeats are the heartbeats the process's loops register with Heartbeat
// and the Server reports.
var defaultBeats = NewBeats(nil)

// Heartbeat returns the beat of the named loop in the process-wide set that
// /healthz reports, e.g. "source.vulns" or "sink".
func Heartbeat(name string) *Beat { return defaultBeats.Heartbeat(name) }

// RemoveHeartbeat forgets a loop that ended on purpose.
func RemoveHeartbeat(name string) { defaultBeats.Remove(name) }

type beatKey struct{}

// WithBeat returns ctx carrying b, so code deep in a loop (a chunk download, a
// status poll) beats the loop it runs in without knowing it.
func WithBeat(ctx context.Context, b *Beat) context.Context {
	return context.WithValue(ctx, beatKey{}, b)
}

// BeatFrom returns the beat ctx carries, or nil (whose methods do nothing).
func BeatFrom(ctx context.Context) *Beat {
	b, _ := ctx.Value(beatKey{}).(*Beat)
	return b
}

// Probe is a readiness input checked every interval in the background; the
// readiness answer reads its last result, so /readyz costs nothing.
type Probe struct {
	name  string
	check func(ctx context.Context) error
	mu    sync.Mutex
	err   error
	done  bool // checked at least once
}

func (p *Probe) run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		cctx, cancel := context.WithTimeout(ctx, every)
		err := p.check(cctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		p.mu.Lock()
		p.err, p.done = err, true
		p.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (p *Probe) result() Check {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case !p.done:
		return Check{Name: p.name, Detail: "not probed yet"}
	case p.err != nil:
		return Check{Name: p.name, Detail: p.err.Error()}
	}
	return Check{Name: p.name, OK: true}
}

// Health answers /healthz from the loops' heartbeats and /readyz from the
// start-up flag, the probes and the readiness checks.
type Health struct {
	beats      *Beats
	stallAfter time.Duration
	ready      atomic.Bool
	mu         sync.Mutex
	probes     []*Probe
	checks     []namedCheck
}

type namedCheck struct {
	name  string
	check func() error
}

// NewHealth returns the health of the loops in beats.
func NewHealth(beats *Beats, stallAfter time.Duration) *Health {
	return &Health{beats: beats, stallAfter: stallAfter}
}

// SetReady says whether start-up is over (and shutdown has not begun).
func (h *Health) SetReady(ready bool) { h.ready.Store(ready) }

// AddCheck adds a readiness input read at each request; check must be cheap
// (it reads a state kept elsewhere, such as the last answer of an API).
func (h *Health) AddCheck(name string, check func() error) {
	h.mu.Lock()
	h.checks = append(h.checks, namedCheck{name, check})
	h.mu.Unlock()
}

func (h *Health) addProbe(p *Probe) {
	h.mu.Lock()
	h.probes = append(h.probes, p)
	h.mu.Unlock()
}

// Live lists the loops; all must be alive.
func (h *Health) Live() []Check { return h.beats.checks(h.stallAfter) }

// Ready lists the readiness inputs; all must pass.
func (h *Health) Ready() []Check {
	out := []Check{{Name: "started", OK: h.ready.Load()}}
	if !out[0].OK {
		out[0].Detail = "starting or stopping"
	}
	h.mu.Lock()
	probes, checks := slices.Clone(h.probes), slices.Clone(h.checks)
	h.mu.Unlock()
	for _, p := range probes {
		out = append(out, p.result())
	}
	for _, c := range checks {
		r := Check{Name: c.name, OK: true}
		if err := c.check(); err != nil {
			r.OK, r.Detail = false, err.Error()
		}
		out = append(out, r)
	}
	return out
}

// answer is the JSON body of /healthz and /readyz.
type answer struct {
	Status string  `json:"status"` // ok or fail
	Checks []Check `json:"checks"`
}

func writeChecks(w http.ResponseWriter, checks []Check) {
	a := answer{Status: "ok", Checks: checks}
	code := http.StatusOK
	for _, c := range checks {
		if !c.OK {
			a.Status, code = "fail", http.StatusServiceUnavailable
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(a)
}

// LiveHandler serves /healthz: 200 when every loop made progress within the
// stall limit (or waits on purpose), 503 otherwise; the body lists each loop.
func (h *Health) LiveHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { writeChecks(w, h.Live()) })
}

// ReadyHandler serves /readyz: 200 when start-up is over and every readiness
// input passes, 503 otherwise; the body lists each input.
func (h *Health) ReadyHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { writeChecks(w, h.Ready()) })
}

// Validate refuses durations that cannot work: a zero stall limit fails every
// loop, a zero probe interval probes without pause.
func (c Config) Validate() error {
	var errs []error
	if c.StallAfter <= 0 {
		errs = append(errs, settings.Invalid("STALL_AFTER", "must be positive, got %v", c.StallAfter))
	}
	if c.ProbeEvery <= 0 {
		errs = append(errs, settings.Invalid("PROBE_EVERY", "must be positive, got %v", c.ProbeEvery))
	}
	return errors.Join(errs...)
}
