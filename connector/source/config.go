package source

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tvmkafka/tvmkafka/connector/tenable"
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
	// PollInitial and PollMax bound the wait between export status polls.
	PollInitial time.Duration `envconfig:"POLL_INITIAL" default:"2s" desc:"first wait between export status polls"`
	PollMax     time.Duration `envconfig:"POLL_MAX" default:"30s" desc:"longest wait between export status polls"`
	// QueueTimeout cancels and resubmits an export that stays QUEUED longer (0: no limit).
	QueueTimeout time.Duration `envconfig:"QUEUE_TIMEOUT" default:"0" desc:"cancel and resubmit an export QUEUED longer than this; 0: wait"`
	// ProgressEvery is the interval of progress log lines during an export.
	ProgressEvery time.Duration `envconfig:"PROGRESS_EVERY" default:"10s" desc:"interval of progress log lines during an export"`
	// DrainTimeout is how long chunks in progress may finish after shutdown was requested.
	DrainTimeout time.Duration `envconfig:"DRAIN_TIMEOUT" default:"60s" desc:"time chunks in progress get to finish after SIGTERM"`

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
	return Config{
		Overlap: time.Hour, ChunkWorkers: 2, MaxExportAttempts: 3, PollInitial: 2 * time.Second, PollMax: 30 * time.Second,
		ProgressEvery: 10 * time.Second, DrainTimeout: time.Minute, AssetsChunkSize: 4000,
		VulnsNumAssets: 2000, VulnsIncludeUnlicensed: true, VulnsSeverity: []string{"medium", "high", "critical"},
		VulnsState: []string{"OPEN", "REOPENED", "FIXED"}, ComplianceNumFindings: 5000, PluginsPageSize: 1000,
	}
}

// Validate reports every problem, naming the environment variable.
func (c Config) Validate() error {
	var errs []error
	bad := func(env string, format string, args ...any) {
		errs = append(errs, fmt.Errorf("TVMKAFKA_SOURCE_%s: %s", env, fmt.Sprintf(format, args...)))
	}
	if c.Overlap < 0 {
		bad("OVERLAP", "%v is negative", c.Overlap)
	}
	if c.InitialLookback < 0 {
		bad("INITIAL_LOOKBACK", "%v is negative", c.InitialLookback)
	}
	if c.ChunkWorkers < 1 || c.ChunkWorkers > 8 {
		bad("CHUNK_WORKERS", "%d is outside 1-8 (Tenable asks integrations not to multi-thread)", c.ChunkWorkers)
	}
	if c.MaxExportAttempts < 1 {
		bad("MAX_EXPORT_ATTEMPTS", "%d is below 1", c.MaxExportAttempts)
	}
	if c.PollInitial <= 0 || c.PollMax < c.PollInitial {
		bad("POLL_INITIAL/POLL_MAX", "need 0 < initial (%v) <= max (%v)", c.PollInitial, c.PollMax)
	}
	if c.ProgressEvery <= 0 {
		bad("PROGRESS_EVERY", "%v must be positive", c.ProgressEvery)
	}
	if c.AssetsChunkSize < tenable.MinAssetChunkSize || c.AssetsChunkSize > tenable.MaxAssetChunkSize {
		bad("ASSETS_CHUNK_SIZE", "%d is outside %d-%d", c.AssetsChunkSize, tenable.MinAssetChunkSize, tenable.MaxAssetChunkSize)
	}
	if c.VulnsNumAssets < tenable.MinVulnNumAssets || c.VulnsNumAssets > tenable.MaxVulnNumAssets {
		bad("VULNS_NUM_ASSETS", "%d is outside %d-%d", c.VulnsNumAssets, tenable.MinVulnNumAssets, tenable.MaxVulnNumAssets)
	}
	for _, s := range c.VulnsSeverity {
		if !slices.Contains([]string{"info", "low", "medium", "high", "critical"}, strings.ToLower(s)) {
			bad("VULNS_SEVERITY", "%q is not info, low, medium, high or critical", s)
		}
	}
	if len(c.VulnsSeverity) == 0 {
		bad("VULNS_SEVERITY", "at least one severity is needed")
	}
	for _, s := range c.VulnsState {
		if !slices.Contains([]string{"OPEN", "REOPENED", "FIXED"}, strings.ToUpper(s)) {
			bad("VULNS_STATE", "%q is not OPEN, REOPENED or FIXED", s)
		}
	}
	if len(c.VulnsState) == 0 {
		bad("VULNS_STATE", "at least one state is needed")
	}
	if c.ComplianceNumFindings < tenable.MinComplianceNumFindings || c.ComplianceNumFindings > tenable.MaxComplianceNumFindings {
		bad("COMPLIANCE_NUM_FINDINGS", "%d is outside %d-%d", c.ComplianceNumFindings, tenable.MinComplianceNumFindings, tenable.MaxComplianceNumFindings)
	}
	if c.PluginsPageSize < 1 || c.PluginsPageSize > tenable.MaxPluginPageSize {
		bad("PLUGINS_PAGE_SIZE", "%d is outside 1-%d", c.PluginsPageSize, tenable.MaxPluginPageSize)
	}
	return errors.Join(errs...)
}

// Topics names the topics the sources write to.
type Topics struct {
	Assets     string `envconfig:"ASSETS" default:"tenable.vm.assets"`
	Vulns      string `envconfig:"VULNS" default:"tenable.vm.vulns"`
	Compliance string `envconfig:"COMPLIANCE" default:"tenable.vm.compliance"`
	Plugins    string `envconfig:"PLUGINS" default:"tenable.vm.plugins"`
	// DeadLetter receives records the connector could not encode, as raw JSON
	// with the reason in headers, so a malformed record neither stops a stream
	// nor disappears.
	DeadLetter string `envconfig:"SOURCE_DLQ" default:"tenable.vm.source.dlq"`
}

// DefaultTopics returns the default topic names.
func DefaultTopics() Topics {
	return Topics{Assets: "tenable.vm.assets", Vulns: "tenable.vm.vulns", Compliance: "tenable.vm.compliance",
		Plugins: "tenable.vm.plugins", DeadLetter: "tenable.vm.source.dlq"}
}
