package source

import (
	"strings"
	"testing"
	"time"
)

func TestDefaultConfigIsValid(t *testing.T) {
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Overlap != time.Hour || c.ChunkWorkers != 2 || c.MaxExportAttempts != 3 || c.DrainTimeout != time.Minute ||
		!c.VulnsIncludeUnlicensed || strings.Join(c.VulnsSeverity, ",") != "medium,high,critical" || c.PluginsPageSize != 1000 {
		t.Fatalf("DefaultConfig() = %+v", c)
	}
}

// TestZeroSettings: every setting in one of two classes. Where zero means
// something it is accepted and kept (a negative value is refused); where it
// means nothing it is refused, naming the variable and the value.
func TestZeroSettings(t *testing.T) {
	zeroMeans := []struct {
		env string
		set func(*Config, time.Duration)
	}{
		{"OVERLAP", func(c *Config, d time.Duration) { c.Overlap = d }},                  // watermark not moved back
		{"INITIAL_LOOKBACK", func(c *Config, d time.Duration) { c.InitialLookback = d }}, // everything
		{"QUEUE_TIMEOUT", func(c *Config, d time.Duration) { c.QueueTimeout = d }},       // wait for a queued export
		{"DRAIN_TIMEOUT", func(c *Config, d time.Duration) { c.DrainTimeout = d }},       // stop at once
	}
	for _, tt := range zeroMeans {
		t.Run(tt.env+"=0 kept", func(t *testing.T) {
			c := DefaultConfig()
			tt.set(&c, 0)
			if err := c.Validate(); err != nil {
				t.Fatalf("zero refused: %v", err)
			}
			tt.set(&c, -time.Second)
			want := "TVMKAFKA_SOURCE_" + tt.env + " must not be negative, got -1s"
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("-1s: got %v, want %q", err, want)
			}
		})
	}
	zeroRefused := []struct {
		env  string
		zero func(*Config)
		want string
	}{
		{"CHUNK_WORKERS", func(c *Config) { c.ChunkWorkers = 0 }, "TVMKAFKA_SOURCE_CHUNK_WORKERS must be between 1 and 8, got 0"},
		{"MAX_EXPORT_ATTEMPTS", func(c *Config) { c.MaxExportAttempts = 0 }, "TVMKAFKA_SOURCE_MAX_EXPORT_ATTEMPTS must be at least 1, got 0"},
		{"POLL_INITIAL", func(c *Config) { c.PollInitial = 0 }, "TVMKAFKA_SOURCE_POLL_INITIAL must be positive, got 0s"},
		{"POLL_MAX", func(c *Config) { c.PollMax = 0 }, "TVMKAFKA_SOURCE_POLL_MAX must be positive, got 0s"},
		{"PROGRESS_EVERY", func(c *Config) { c.ProgressEvery = 0 }, "TVMKAFKA_SOURCE_PROGRESS_EVERY must be positive, got 0s"},
		{"ASSETS_CHUNK_SIZE", func(c *Config) { c.AssetsChunkSize = 0 }, "TVMKAFKA_SOURCE_ASSETS_CHUNK_SIZE must be between 100 and 10000, got 0"},
		{"VULNS_NUM_ASSETS", func(c *Config) { c.VulnsNumAssets = 0 }, "TVMKAFKA_SOURCE_VULNS_NUM_ASSETS must be between 50 and 5000, got 0"},
		{"COMPLIANCE_NUM_FINDINGS", func(c *Config) { c.ComplianceNumFindings = 0 }, "TVMKAFKA_SOURCE_COMPLIANCE_NUM_FINDINGS must be between 50 and 10000, got 0"},
		{"PLUGINS_PAGE_SIZE", func(c *Config) { c.PluginsPageSize = 0 }, "TVMKAFKA_SOURCE_PLUGINS_PAGE_SIZE must be between 1 and 10000, got 0"},
		{"VULNS_SEVERITY", func(c *Config) { c.VulnsSeverity = nil }, "TVMKAFKA_SOURCE_VULNS_SEVERITY is empty"},
		{"VULNS_STATE", func(c *Config) { c.VulnsState = nil }, "TVMKAFKA_SOURCE_VULNS_STATE is empty"},
	}
	for _, tt := range zeroRefused {
		t.Run(tt.env+"=0 refused", func(t *testing.T) {
			c := DefaultConfig()
			tt.zero(&c)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
}
