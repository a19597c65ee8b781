package source

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/tvmkafka/tvmkafka/connector/tenable"
	"github.com/tvmkafka/tvmkafka/pipeline/settings"
)

// Config tunes the source stages. Field tags name the environment variables
// (prefix TVMKAFKA_SOURCE_) and their defaults.
type Config struct {
	// Overlap is subtracted from each run's watermark, so findings Tenable indexes
	// late are caught by the next run (they are published twice at worst).
	Overlap time.Duration `envconfig:"OVERLAP" default:"1h" desc:"subtracted from each watermark to catch records Tenable indexes late"`
	// InitialLookback bounds the first run of a stream; 0 exports everything,
	// rather than Tenable's 30-day default for vulnerability exports.
	InitialLookback time.Duration `envconfig:"INITIAL_LOOKBACK" default:"0" desc:"first run exports this far back; 0: everything"`
	// ChunkWorkers is how many chunks of one export are downloaded and published at once.
	ChunkWorkers int `envconfig:"CHUNK_WORKERS" default:"2" desc:"chunks of one export downloaded and published at once (1-8)"`
	// MaxExportAttempts bounds how often an export that ended in ERROR, finished
	// with failed chunks or lost a chunk to expiry is submitted again in one run.
	MaxExportAttempts int `envconfig:"MAX_EXPORT_ATTEMPTS" default:"3" desc:"exports requested per run when Tenable fails one (ERROR, failed or expired chunks)"`
	// PollInitial and PollMax bound the wait between export status polls. The
	// first wait is short so that a small delta is not dominated by waiting for
	// Tenable to say its chunks are ready; the wait grows by half per empty poll.
	PollInitial time.Duration `envconfig:"POLL_INITIAL" default:"250ms" desc:"first wait between export status polls"`
	PollMax     time.Duration `envconfig:"POLL_MAX" default:"30s" desc:"longest wait between export status polls"`
	// QueueTimeout cancels and resubmits an export that stays QUEUED longer (0: no limit).
	QueueTimeout time.Duration `envconfig:"QUEUE_TIMEOUT" default:"0" desc:"cancel and resubmit an export QUEUED longer than this; 0: wait"`
	// ProgressEvery is the interval of progress log lines during an export.
	ProgressEvery time.Duration `envconfig:"PROGRESS_EVERY" default:"10s" desc:"interval of progress log lines during an export"`
	// DrainTimeout is how long chunks in progress may finish after shutdown was requested.
	DrainTimeout time.Duration `envconfig:"DRAIN_TIMEOUT" default:"60s" desc:"time chunks in progress get to finish after SIGTERM"`

	// CloseOrphanedFindings publishes a closure (a tombstone with the reason in
	// headers) for every open finding of an asset that is deleted or
	// terminated: Tenable drops those findings without ever fixing them.
	CloseOrphanedFindings bool `envconfig:"CLOSE_ORPHANED_FINDINGS" default:"true" desc:"close the open findings of deleted and terminated assets with tombstones (needs the finding index topic)"`

	AssetsChunkSize int `envconfig:"ASSETS_CHUNK_SIZE" default:"4000" desc:"assets per export chunk (100-10000)"`
	// AssetsTombstones also publishes a null value for the key of each deleted or
	// terminated asset, so compaction eventually removes it from a compacted topic.
	AssetsTombstones bool `envconfig:"ASSETS_TOMBSTONES" default:"false" desc:"also publish a null value for deleted and terminated assets"`
	// AssetsExcludeSources skips assets all of whose sources are in this list,
	// such as tvmkafka's own import source, to keep the sink's imports from
	// coming back as exports.
	AssetsExcludeSources []string `envconfig:"ASSETS_EXCLUDE_SOURCES" desc:"skip assets whose every source is listed (the sink's import source stops echo loops)"`

	VulnsNumAssets         int      `envconfig:"VULNS_NUM_ASSETS" default:"2000" desc:"assets per vulnerability export chunk (50-5000)"`
	VulnsIncludeUnlicensed bool     `envconfig:"VULNS_INCLUDE_UNLICENSED" default:"true" desc:"include findings of unlicensed assets"`
	VulnsSeverity          []string `envconfig:"VULNS_SEVERITY" default:"medium,high,critical" desc:"severities exported (info, low, medium, high, critical)"`
	VulnsState             []string `envconfig:"VULNS_STATE" default:"OPEN,REOPENED,FIXED" desc:"finding states exported (OPEN, REOPENED, FIXED)"`

	ComplianceNumFindings int `envconfig:"COMPLIANCE_NUM_FINDINGS" default:"5000" desc:"findings per compliance export chunk (50-10000)"`

	PluginsPageSize int `envconfig:"PLUGINS_PAGE_SIZE" default:"1000" desc:"plugins per page (1-10000)"`
}

// DefaultConfig returns the defaults the envconfig tags declare.
func DefaultConfig() Config {
	var c Config
	if err := settings.Defaults(&c); err != nil {
		panic(err) // the tags are constants; a test covers them
	}
	return c
}

// Validate reports every problem, naming the environment variable. Zero is
// kept where it means something (no overlap, no lookback limit, no queue
// limit, no drain time) and refused where it does not (a worker count, a
// chunk size, a poll interval).
func (c Config) Validate() error {
	var errs []error
	bad := func(env string, format string, args ...any) {
		errs = append(errs, fmt.Errorf("TVMKAFKA_SOURCE_%s %s", env, fmt.Sprintf(format, args...)))
	}
	for _, d := range []struct {
		env string
		v   time.Duration
	}{{"OVERLAP", c.Overlap}, {"INITIAL_LOOKBACK", c.InitialLookback}, {"QUEUE_TIMEOUT", c.QueueTimeout}, {"DRAIN_TIMEOUT", c.DrainTimeout}} {
		if d.v < 0 {
			bad(d.env, "must not be negative, got %v", d.v)
		}
	}
	for _, d := range []struct {
		env string
		v   time.Duration
	}{{"POLL_INITIAL", c.PollInitial}, {"POLL_MAX", c.PollMax}, {"PROGRESS_EVERY", c.ProgressEvery}} {
		if d.v <= 0 {
			bad(d.env, "must be positive, got %v", d.v)
		}
	}
	if c.PollInitial > 0 && c.PollMax < c.PollInitial {
		bad("POLL_MAX", "must be at least TVMKAFKA_SOURCE_POLL_INITIAL (%v), got %v", c.PollInitial, c.PollMax)
	}
	// Tenable asks integrations not to multi-thread, hence the low worker bound.
	for _, r := range []struct {
		env    string
		v      int
		lo, hi int
	}{
		{"CHUNK_WORKERS", c.ChunkWorkers, 1, 8},
		{"MAX_EXPORT_ATTEMPTS", c.MaxExportAttempts, 1, math.MaxInt},
		{"ASSETS_CHUNK_SIZE", c.AssetsChunkSize, tenable.MinAssetChunkSize, tenable.MaxAssetChunkSize},
		{"VULNS_NUM_ASSETS", c.VulnsNumAssets, tenable.MinVulnNumAssets, tenable.MaxVulnNumAssets},
		{"COMPLIANCE_NUM_FINDINGS", c.ComplianceNumFindings, tenable.MinComplianceNumFindings, tenable.MaxComplianceNumFindings},
		{"PLUGINS_PAGE_SIZE", c.PluginsPageSize, 1, tenable.MaxPluginPageSize},
	} {
		switch {
		case r.hi == math.MaxInt && r.v < r.lo:
			bad(r.env, "must be at least %d, got %d", r.lo, r.v)
		case r.v < r.lo || r.v > r.hi:
			bad(r.env, "must be between %d and %d, got %d", r.lo, r.hi, r.v)
		}
	}
	for _, s := range c.VulnsSeverity {
		if !slices.Contains([]string{"info", "low", "medium", "high", "critical"}, strings.ToLower(s)) {
			bad("VULNS_SEVERITY", "%q is not info, low, medium, high or critical", s)
		}
	}
	if len(c.VulnsSeverity) == 0 {
		bad("VULNS_SEVERITY", "is empty: at least one severity is needed")
	}
	for _, s := range c.VulnsState {
		if !slices.Contains([]string{"OPEN", "REOPENED", "FIXED"}, strings.ToUpper(s)) {
			bad("VULNS_STATE", "%q is not OPEN, REOPENED or FIXED", s)
		}
	}
	if len(c.VulnsState) == 0 {
		bad("VULNS_STATE", "is empty: at least one state is needed")
	}
	return errors.Join(errs...)
}
