package tenable

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestEveryRequestCarriesKeysAndUserAgent(t *testing.T) {
	var gotKeys, gotUA atomic.Value
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		gotKeys.Store(r.Header.Get("X-ApiKeys"))
		gotUA.Store(r.Header.Get("User-Agent"))
		writeJSON(w, 200, `{"export_uuid":"e1"}`)
	})
	c, _, _ := newTestClient(t, srv.URL)
	if _, err := c.StartVulnExport(context.Background(), VulnExportRequest{NumAssets: 50}); err != nil {
		t.Fatal(err)
	}
	if want := "accessKey=" + testAccessKey + "; secretKey=" + testSecretKey + ";"; gotKeys.Load() != want {
		t.Errorf("X-ApiKeys = %q, want %q", gotKeys.Load(), want)
	}
	uaPattern := regexp.MustCompile(`^Integration/1\.0 \(ACME; Widget; Build/1\.2\.3\) tvmkafka-tenable/1\.2\.3 \(Go/go[^;]+; ` +
		regexp.QuoteMeta(runtime.GOOS+"/"+runtime.GOARCH) + `\)$`)
	if ua := gotUA.Load().(string); !uaPattern.MatchString(ua) {
		t.Errorf("User-Agent %q does not follow Tenable's integration format", ua)
	}
}

// TestRetryByStatus drives one call through each status class: the number of
// attempts, the waits, the final error and its sentinel all follow from the status.
func TestRetryByStatus(t *testing.T) {
	tests := []struct {
		name         string
		status       int
		retryAfter   string
		failures     int // failures before success; -1 = always fail
		wantAttempts int
		wantClass    ErrorClass
		wantIs       error
		wantMinWait  time.Duration
		wantOK       bool
	}{
		{name: "400 is permanent", status: 400, failures: -1, wantAttempts: 1, wantClass: Permanent},
		{name: "401 is permanent", status: 401, failures: -1, wantAttempts: 1, wantClass: Permanent, wantIs: ErrUnauthorized},
		{name: "403 is permanent", status: 403, failures: -1, wantAttempts: 1, wantClass: Permanent, wantIs: ErrForbidden},
		{name: "404 is permanent", status: 404, failures: -1, wantAttempts: 1, wantClass: Permanent, wantIs: ErrNotFound},
		{name: "415 is permanent", status: 415, failures: -1, wantAttempts: 1, wantClass: Permanent},
		{name: "429 honours Retry-After", status: 429, retryAfter: "7", failures: 2, wantAttempts: 3, wantOK: true, wantMinWait: 7 * time.Second},
		{name: "429 without Retry-After backs off", status: 429, failures: 1, wantAttempts: 2, wantOK: true},
		{name: "500 is retried", status: 500, failures: 2, wantAttempts: 3, wantOK: true},
		{name: "502 is retried", status: 502, failures: 1, wantAttempts: 2, wantOK: true},
		{name: "503 honours Retry-After", status: 503, retryAfter: "12", failures: 1, wantAttempts: 2, wantOK: true, wantMinWait: 12 * time.Second},
		{name: "504 is retried", status: 504, failures: 1, wantAttempts: 2, wantOK: true},
		{name: "503 forever gives up after max retries", status: 503, failures: -1, wantAttempts: 6, wantClass: Retryable},
		{name: "429 forever gives up after max retries", status: 429, retryAfter: "1", failures: -1, wantAttempts: 6, wantClass: Throttled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var attempts atomic.Int32
			srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
				n := int(attempts.Add(1))
				if tt.failures < 0 || n <= tt.failures {
					if tt.retryAfter != "" {
						w.Header().Set("Retry-After", tt.retryAfter)
					}
					if tt.status == 429 {
						w.Header().Set("Content-Type", "text/html")
						w.WriteHeader(429)
						fmt.Fprint(w, "<html><head><title>429 Too Many Requests</title></head></html>")
						return
					}
					writeJSON(w, tt.status, fmt.Sprintf(`{"statusCode":%d,"error":"x","message":"status %d"}`, tt.status, tt.status))
					return
				}
				writeJSON(w, 200, `{"status":"FINISHED","chunks_available":[]}`)
			})
			c, clock, _ := newTestClient(t, srv.URL)
			_, err := c.ExportStatus(context.Background(), ExportAssets, "job")
			if got := int(attempts.Load()); got != tt.wantAttempts {
				t.Errorf("attempts = %d, want %d", got, tt.wantAttempts)
			}
			if tt.wantOK {
				if err != nil {
					t.Fatalf("want success after retries, got %v", err)
				}
			} else {
				if err == nil {
					t.Fatal("want an error")
				}
				if got := Classify(err); got != tt.wantClass {
					t.Errorf("Classify = %v, want %v (err %v)", got, tt.wantClass, err)
				}
				var apiErr *APIError
				if !errors.As(err, &apiErr) || apiErr.StatusCode != tt.status {
					t.Errorf("want *APIError with status %d, got %v", tt.status, err)
				}
				if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
					t.Errorf("error %v does not match %v", err, tt.wantIs)
				}
			}
			waits := clock.Waits()
			if len(waits) != tt.wantAttempts-1 {
				t.Errorf("waited %d times, want %d: %v", len(waits), tt.wantAttempts-1, waits)
			}
			for _, w := range waits {
				if w < tt.wantMinWait {
					t.Errorf("waited %v, want at least the Retry-After %v", w, tt.wantMinWait)
				}
			}
		})
	}
}

func TestBackoffGrowsExponentially(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 502, `{}`) })
	c, clock, _ := newTestClient(t, srv.URL, func(c *Config) { c.RetryInitial = time.Second; c.RetryMax = 8 * time.Second })
	_, err := c.ExportStatus(context.Background(), ExportVulns, "job")
	if err == nil {
		t.Fatal("want error")
	}
	waits := clock.Waits()
	// Base schedule 1, 2, 4, 8, 8 seconds with +-20% jitter.
	base := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second}
	if len(waits) != len(base) {
		t.Fatalf("waits = %v, want %d of them", waits, len(base))
	}
	for i, w := range waits {
		lo, hi := time.Duration(float64(base[i])*0.79), time.Duration(float64(base[i])*1.21)
		if w < lo || w > hi {
			t.Errorf("wait %d = %v, want within [%v, %v]", i, w, lo, hi)
		}
	}
}

func TestRetriesCarryRetryCountAndLastRequestUUID(t *testing.T) {
	var counts, lastUUIDs []string
	var n atomic.Int32
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		counts = append(counts, r.Header.Get("X-Tio-Retry-Count"))
		lastUUIDs = append(lastUUIDs, r.Header.Get("X-Tio-Last-Request-Uuid"))
		i := n.Add(1)
		if i <= 2 {
			w.Header().Set("X-Request-Uuid", fmt.Sprintf("req-%d", i))
			writeJSON(w, 503, `{}`)
			return
		}
		writeJSON(w, 200, `{"status":"QUEUED"}`)
	})
	c, _, _ := newTestClient(t, srv.URL)
	if _, err := c.ExportStatus(context.Background(), ExportVulns, "job"); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(counts, ","); got != ",1,2" {
		t.Errorf("X-Tio-Retry-Count per attempt = %q, want \",1,2\"", got)
	}
	if got := strings.Join(lastUUIDs, ","); got != ",req-1,req-2" {
		t.Errorf("X-Tio-Last-Request-Uuid per attempt = %q, want \",req-1,req-2\"", got)
	}
}

func TestRetryStopsBeforeTheDeadline(t *testing.T) {
	var attempts atomic.Int32
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		attempts.Add(1)
		w.Header().Set("Retry-After", "30")
		writeJSON(w, 429, `{}`)
	})
	c, _, _ := newTestClient(t, srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := c.ExportStatus(ctx, ExportVulns, "job")
	if err == nil || !strings.Contains(err.Error(), "would pass the deadline") {
		t.Fatalf("want a deadline error, got %v", err)
	}
	if attempts.Load() != 1 {
		t.Errorf("attempts = %d, want 1: a 30s Retry-After cannot fit a 10s deadline", attempts.Load())
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 {
		t.Errorf("the last APIError should stay reachable, got %v", err)
	}
}

func TestNetworkErrorsAreRetried(t *testing.T) {
	var attempts atomic.Int32
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if attempts.Add(1) == 1 {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.(*net.TCPConn).SetLinger(0)
				_ = conn.Close() // a reset connection, no response
			}
			return
		}
		writeJSON(w, 200, `{"status":"FINISHED"}`)
	})
	c, _, _ := newTestClient(t, srv.URL)
	st, err := c.ExportStatus(context.Background(), ExportVulns, "job")
	if err != nil {
		t.Fatalf("want success after a reset connection, got %v", err)
	}
	if st.Status != StateFinished || attempts.Load() != 2 {
		t.Errorf("status %q after %d attempts, want FINISHED after 2", st.Status, attempts.Load())
	}
}

func TestAttemptTimeoutIsRetried(t *testing.T) {
	var attempts atomic.Int32
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if attempts.Add(1) == 1 {
			select { // hang past the client's per-attempt timeout
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		writeJSON(w, 200, `{"status":"FINISHED"}`)
	})
	c, _, _ := newTestClient(t, srv.URL, func(c *Config) { c.RequestTimeout = 200 * time.Millisecond })
	if _, err := c.ExportStatus(context.Background(), ExportVulns, "job"); err != nil {
		t.Fatalf("want success after a timed-out attempt, got %v", err)
	}
	if attempts.Load() != 2 {
		t.Errorf("attempts = %d, want 2", attempts.Load())
	}
}

func TestContextCancelStopsRetrying(t *testing.T) {
	var attempts atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		attempts.Add(1)
		cancel()
		writeJSON(w, 503, `{}`)
	})
	c, _, _ := newTestClient(t, srv.URL)
	_, err := c.ExportStatus(ctx, ExportVulns, "job")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	if attempts.Load() != 1 {
		t.Errorf("attempts = %d after cancel, want 1", attempts.Load())
	}
}

func TestSecretsNeverLoggedNorInErrors(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "1")
		writeJSON(w, 429, `{"message":"slow down"}`)
	})
	c, _, logs := newTestClient(t, srv.URL)
	_, err := c.ExportStatus(context.Background(), ExportVulns, "job")
	if err == nil {
		t.Fatal("want error")
	}
	for where, text := range map[string]string{"logs": logs.String(), "error": err.Error(), "LogValue": c.LogValue().String()} {
		if strings.Contains(text, testSecretKey) || strings.Contains(text, testAccessKey) {
			t.Errorf("%s leak an API key: %s", where, text)
		}
	}
	if !strings.Contains(logs.String(), "retrying") {
		t.Errorf("retries should be logged, logs: %s", logs.String())
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"30", 30 * time.Second},
		{"1.5", 1500 * time.Millisecond},
		{"0", 0},
		{"-3", 0},
		{"junk", 0},
		{"999999", maxRetryAfter},
		{now.Add(45 * time.Second).Format(http.TimeFormat), 45 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestAPIErrorMessages(t *testing.T) {
	tests := []struct {
		body string
		want string
	}{
		{`{"statusCode":401,"error":"Unauthorized","message":"Invalid credentials."}`, "Invalid credentials."},
		{`{"status":400,"message":"Cannot cancel a completed job"}`, "Cannot cancel a completed job"},
		{`{"error":"Cannot cancel finished export"}`, "Cannot cancel finished export"},
		{`{"active_job_id":"x","failure_reason":"conflict with the ongoing export"}`, "conflict with the ongoing export"},
		{`<html><body>429 Too Many Requests</body></html>`, "Too Many Requests"},
	}
	for _, tt := range tests {
		e := &APIError{Method: "GET", Path: "/p", StatusCode: 429, Body: []byte(tt.body)}
		if !strings.Contains(e.Error(), tt.want) {
			t.Errorf("Error() = %q, want it to contain %q", e.Error(), tt.want)
		}
	}
}

// TestRetryAfterIsNotCompounded: a server that keeps answering 429 with
// Retry-After: 1 is asked again after about one second each time (plus at most a
// tenth of jitter), not after a wait that grows with the exponential backoff.
func TestRetryAfterIsNotCompounded(t *testing.T) {
	const throttled = 4
	var attempts atomic.Int32
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if attempts.Add(1) <= throttled {
			w.Header().Set("Retry-After", "1")
			writeJSON(w, 429, `{"message":"slow down"}`)
			return
		}
		writeJSON(w, 200, `{"status":"FINISHED"}`)
	})
	c, clock, _ := newTestClient(t, srv.URL, func(c *Config) { c.RetryInitial = time.Second; c.RetryMax = time.Minute })
	if _, err := c.ExportStatus(context.Background(), ExportVulns, "job"); err != nil {
		t.Fatal(err)
	}
	waits := clock.Waits()
	if len(waits) != throttled {
		t.Fatalf("waits %v, want %d of them", waits, throttled)
	}
	for i, w := range waits {
		if w < time.Second || w > 1100*time.Millisecond {
			t.Errorf("wait %d = %v, want Retry-After 1s plus at most 10%% jitter (all waits %v)", i, w, waits)
		}
	}
}

// TestRedirectToAnotherOriginIsRefused: the keys go to the configured origin
// only. A redirect to another host or port is refused with an error naming it,
// and the other server never sees X-ApiKeys.
func TestRedirectToAnotherOriginIsRefused(t *testing.T) {
	for _, status := range []int{http.StatusFound, http.StatusTemporaryRedirect} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			var leaked atomic.Value
			var reached atomic.Bool
			other := serve(t, func(w http.ResponseWriter, r *http.Request) {
				reached.Store(true)
				leaked.Store(r.Header.Get("X-ApiKeys"))
				writeJSON(w, 200, `{"status":"FINISHED"}`)
			})
			srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, other.URL+r.URL.Path, status)
			})
			c, _, _ := newTestClient(t, srv.URL)
			_, err := c.ExportStatus(context.Background(), ExportVulns, "job")
			if reached.Load() {
				t.Errorf("the redirect was followed; X-ApiKeys sent there: %q", leaked.Load())
			}
			if !errors.Is(err, ErrCrossOriginRedirect) {
				t.Fatalf("want ErrCrossOriginRedirect, got %v", err)
			}
			if !strings.Contains(err.Error(), other.URL) {
				t.Errorf("error %q does not name the redirect target %s", err, other.URL)
			}
			if Classify(err) != Permanent {
				t.Errorf("a refused redirect is permanent, got %v", Classify(err))
			}
		})
	}
}

// TestRedirectWithinTheOriginKeepsTheKeys: a redirect to another path of the same
// origin is followed, with the keys.
func TestRedirectWithinTheOriginKeepsTheKeys(t *testing.T) {
	var keys atomic.Value
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/moved" {
			http.Redirect(w, r, "/moved", http.StatusFound)
			return
		}
		keys.Store(r.Header.Get("X-ApiKeys"))
		writeJSON(w, 200, `{"status":"FINISHED"}`)
	})
	c, _, _ := newTestClient(t, srv.URL)
	if _, err := c.ExportStatus(context.Background(), ExportVulns, "job"); err != nil {
		t.Fatal(err)
	}
	if got, _ := keys.Load().(string); !strings.Contains(got, testSecretKey) {
		t.Errorf("X-ApiKeys after a same-origin redirect = %q", got)
	}
}
