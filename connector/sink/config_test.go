package sink

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
	if c.MaxRequestBytes != 5000000 || c.MaxResubmits != 2 || c.SessionTimeout != 30*time.Second || c.Source != "tvmkafka Kafka Connector" {
		t.Fatalf("DefaultConfig() = %+v", c)
	}
}

// TestZeroSettings: zero resubmits means none and is kept; for every size,
// count and interval zero means nothing and is refused by name.
func TestZeroSettings(t *testing.T) {
	c := DefaultConfig()
	c.MaxResubmits = 0
	if err := c.Validate(); err != nil {
		t.Fatalf("MAX_RESUBMITS=0 refused: %v", err)
	}
	c.MaxResubmits = -1
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "TVMKAFKA_SINK_MAX_RESUBMITS must be at least 0") {
		t.Fatalf("MAX_RESUBMITS=-1: %v", err)
	}
	for _, tt := range []struct {
		zero func(*Config)
		want string
	}{
		{func(c *Config) { c.MaxRequestBytes = 0 }, "TVMKAFKA_SINK_MAX_REQUEST_BYTES must be between 1024 and 5000000 (Tenable's limit), got 0"},
		{func(c *Config) { c.MaxRecords = 0 }, "TVMKAFKA_SINK_MAX_RECORDS must be at least 1, got 0"},
		{func(c *Config) { c.PendingBatches = 0 }, "TVMKAFKA_SINK_PENDING_BATCHES must be at least 1, got 0"},
		{func(c *Config) { c.MaxInFlightBytes = 0 }, "TVMKAFKA_SINK_MAX_IN_FLIGHT_BYTES must be at least 4 times TVMKAFKA_SINK_MAX_REQUEST_BYTES (20000000)"},
		{func(c *Config) { c.MaxRequestBytes, c.MaxInFlightBytes = 1_000_000, 3_999_999 }, "TVMKAFKA_SINK_MAX_IN_FLIGHT_BYTES must be at least 4 times TVMKAFKA_SINK_MAX_REQUEST_BYTES (4000000), what the records of one full request may hold, got 3999999"},
		{func(c *Config) { c.Linger = 0 }, "TVMKAFKA_SINK_LINGER must be positive, got 0s"},
		{func(c *Config) { c.JobPoll = 0 }, "TVMKAFKA_SINK_JOB_POLL must be positive, got 0s"},
		{func(c *Config) { c.RetryMax = 0 }, "TVMKAFKA_SINK_RETRY_MAX must be positive, got 0s"},
		{func(c *Config) { c.CommitEvery = 0 }, "TVMKAFKA_SINK_COMMIT_EVERY must be positive, got 0s"},
		{func(c *Config) { c.SessionTimeout = 0 }, "TVMKAFKA_SINK_SESSION_TIMEOUT must be between 6s and 30m"},
		{func(c *Config) { c.DrainTimeout = 0 }, "TVMKAFKA_SINK_DRAIN_TIMEOUT must be positive, got 0s"},
	} {
		c := DefaultConfig()
		tt.zero(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("got %v, want %q", err, tt.want)
		}
	}
}
