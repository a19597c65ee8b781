package tenable

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
)

const (
	testAccessKey = "AK-test-access"
	testSecretKey = "SK-very-secret-value"
)

// fakeClock fires every wait at once and records the durations asked for, so
// retry and poll schedules can be asserted without sleeping.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Now()} // real "now", so context deadlines and the fake clock agree
}

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

func (c *fakeClock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newTestClient returns a client for srv with a fake clock and a log capture.
func newTestClient(t *testing.T, baseURL string, mutate ...func(*Config)) (*Client, *fakeClock, *syncBuffer) {
	t.Helper()
	clock := newFakeClock()
	logs := &syncBuffer{}
	cfg := DefaultConfig()
	cfg.BaseURL, cfg.AccessKey, cfg.SecretKey = baseURL, testAccessKey, testSecretKey
	cfg.Vendor, cfg.Product, cfg.Build = "ACME", "Widget", "1.2.3"
	cfg.RequestTimeout, cfg.Clock = 10*time.Second, clock
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, clock, logs
}

// serve starts an httptest server for h, closed when the test ends.
func serve(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// decodeMap decodes a JSON object record, numbers as float64.
func decodeMap(t testing.TB, rec []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(rec, &m); err != nil {
		t.Fatalf("record %.80s: %v", rec, err)
	}
	return m
}

// member walks the members of nested objects; nil when one is missing.
func member(v map[string]any, path ...string) any {
	var cur any = v
	for _, name := range path {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = obj[name]
	}
	return cur
}
