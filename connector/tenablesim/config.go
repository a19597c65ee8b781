package tenablesim

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Config configures a simulated tenant. The zero value of every field but the
// keys selects a default.
type Config struct {
	// Assets is the number of assets generated (default 500).
	Assets int
	// Seed selects the tenant: the same seed gives the same data, byte for byte
	// (default 1).
	Seed int64
	// Plugins is the size of the plugin catalogue (default 1500, at least 100).
	Plugins int
	// AccessKey and SecretKey are the API keys every Tenable request must carry
	// in X-ApiKeys. Both are required.
	AccessKey, SecretKey string
	// Start is the tenant clock at start (default 2026-01-05T00:00:00Z).
	Start time.Time
	// QueueLatency is the real time a new export stays QUEUED (default 300ms).
	QueueLatency time.Duration
	// ChunkLatency is the real time between successive chunks becoming
	// available (default 50ms).
	ChunkLatency time.Duration
	// ImportLatency is the real time an import job stays IN_PROGRESS (default 300ms).
	ImportLatency time.Duration
	// MaxConcurrentExports is how many exports may run at once across all kinds
	// before POST …/export answers 429 (default 10, Tenable's documented limit).
	MaxConcurrentExports int
	// Faults are injected from the start; see SetFaults.
	Faults Faults
	// Logger receives one line per notable event (default: discard).
	Logger *slog.Logger
}

// DefaultStart is the tenant clock's default starting instant.
var DefaultStart = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

// Negative latencies are refused; zero selects the default, so a test that wants
// no latency at all passes a tiny positive one (time.Nanosecond).
func (c Config) withDefaults() (Config, error) {
	var errs []error
	if c.AccessKey == "" || c.SecretKey == "" {
		errs = append(errs, errors.New("access key and secret key are required"))
	}
	if c.Assets < 0 {
		errs = append(errs, fmt.Errorf("assets must not be negative (got %d)", c.Assets))
	}
	if c.Assets == 0 {
		c.Assets = 500
	}
	if c.Assets > 1_000_000 {
		errs = append(errs, fmt.Errorf("assets must be at most 1000000 (got %d)", c.Assets))
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Plugins == 0 {
		c.Plugins = 1500
	}
	if c.Plugins < 100 || c.Plugins > 200_000 {
		errs = append(errs, fmt.Errorf("plugins must be between 100 and 200000 (got %d)", c.Plugins))
	}
	if c.Start.IsZero() {
		c.Start = DefaultStart
	}
	c.Start = c.Start.UTC().Truncate(time.Millisecond)
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"queue latency", &c.QueueLatency, 300 * time.Millisecond},
		{"chunk latency", &c.ChunkLatency, 50 * time.Millisecond},
		{"import latency", &c.ImportLatency, 300 * time.Millisecond},
	} {
		if *d.v < 0 {
			errs = append(errs, fmt.Errorf("%s must not be negative (got %s)", d.name, *d.v))
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if c.MaxConcurrentExports < 0 {
		errs = append(errs, fmt.Errorf("max concurrent exports must not be negative (got %d)", c.MaxConcurrentExports))
	}
	if c.MaxConcurrentExports == 0 {
		c.MaxConcurrentExports = 10
	}
	if err := c.Faults.validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("tenablesim config: %w", errors.Join(errs...))
	}
	return c, nil
}

// Faults are the errors the simulator injects. Rates apply to every Tenable
// endpoint (never to /_sim/); the counters are one-shots consumed in order, for
// deterministic tests.
type Faults struct {
	// Rate429 is the probability (0-1) that a request is answered 429 with
	// Retry-After: RetryAfterSeconds.
	Rate429 float64 `json:"rate_429"`
	// Rate5xx is the probability (0-1) of a 500, 502, 503 or 504; 503 carries
	// Retry-After.
	Rate5xx float64 `json:"rate_5xx"`
	// RetryAfterSeconds is the Retry-After of injected 429 and 503 (default 1).
	RetryAfterSeconds int `json:"retry_after_seconds"`
	// ExportErrors: the next N exports end in ERROR after
	// ExportErrorAfterChunks chunks became available.
	ExportErrors           int `json:"export_errors"`
	ExportErrorAfterChunks int `json:"export_error_after_chunks"`
	// ChunkFailures: the next N exports FINISH with one failed chunk, after
	// ChunkFailureAfter chunks became available; the chunks still queued behind
	// it are cancelled, and the status carries the "N of M chunks failed" reason.
	ChunkFailures     int `json:"chunk_failures"`
	ChunkFailureAfter int `json:"chunk_failure_after"`
	// TruncateChunks: the next N chunk downloads declare the full
	// Content-Length, send part of the body (cut inside a record) and close.
	TruncateChunks int `json:"truncate_chunks"`
	// MalformedRecords: the next N chunk downloads carry a first record that is
	// not well-formed JSON (a member whose value is a bare word), as a broken
	// serializer would write it; the chunk's structure and other records are intact.
	MalformedRecords int `json:"malformed_records"`
	// SlowChunks: the next N chunk downloads wait SlowChunkDelay before the body
	// (default 2s).
	SlowChunks     int           `json:"slow_chunks"`
	SlowChunkDelay time.Duration `json:"-"`
}

func (f Faults) validate() error {
	var errs []error
	if f.Rate429 < 0 || f.Rate429 > 1 || f.Rate5xx < 0 || f.Rate5xx > 1 {
		errs = append(errs, fmt.Errorf("fault rates must be between 0 and 1 (got 429: %v, 5xx: %v)", f.Rate429, f.Rate5xx))
	}
	if f.RetryAfterSeconds < 0 || f.ExportErrors < 0 || f.ExportErrorAfterChunks < 0 || f.ChunkFailures < 0 ||
		f.ChunkFailureAfter < 0 || f.TruncateChunks < 0 || f.MalformedRecords < 0 || f.SlowChunks < 0 || f.SlowChunkDelay < 0 {
		errs = append(errs, errors.New("fault counts and delays must not be negative"))
	}
	return errors.Join(errs...)
}

func (f Faults) withDefaults() Faults {
	if f.RetryAfterSeconds == 0 {
		f.RetryAfterSeconds = 1
	}
	if f.SlowChunkDelay == 0 {
		f.SlowChunkDelay = 2 * time.Second
	}
	return f
}

// faultsJSON is the wire form of Faults on /_sim/faults (durations as strings).
type faultsJSON struct {
	Rate429                float64 `json:"rate_429"`
	Rate5xx                float64 `json:"rate_5xx"`
	RetryAfterSeconds      int     `json:"retry_after_seconds"`
	ExportErrors           int     `json:"export_errors"`
	ExportErrorAfterChunks int     `json:"export_error_after_chunks"`
	ChunkFailures          int     `json:"chunk_failures"`
	ChunkFailureAfter      int     `json:"chunk_failure_after"`
	TruncateChunks         int     `json:"truncate_chunks"`
	MalformedRecords       int     `json:"malformed_records"`
	SlowChunks             int     `json:"slow_chunks"`
	SlowChunkDelay         string  `json:"slow_chunk_delay"`
}

func (f Faults) toJSON() faultsJSON {
	return faultsJSON{f.Rate429, f.Rate5xx, f.RetryAfterSeconds, f.ExportErrors, f.ExportErrorAfterChunks,
		f.ChunkFailures, f.ChunkFailureAfter, f.TruncateChunks, f.MalformedRecords, f.SlowChunks, f.SlowChunkDelay.String()}
}

func (j faultsJSON) faults() (Faults, error) {
	f := Faults{j.Rate429, j.Rate5xx, j.RetryAfterSeconds, j.ExportErrors, j.ExportErrorAfterChunks,
		j.ChunkFailures, j.ChunkFailureAfter, j.TruncateChunks, j.MalformedRecords, j.SlowChunks, 0}
	if j.SlowChunkDelay != "" {
		d, err := time.ParseDuration(j.SlowChunkDelay)
		if err != nil {
			return f, fmt.Errorf("slow_chunk_delay: %w", err)
		}
		f.SlowChunkDelay = d
	}
	return f, f.validate()
}
