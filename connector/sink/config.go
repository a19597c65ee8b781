package sink

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tvmkafka/tvmkafka/connector/tenable"
)

// Config tunes the sink. Tags name the environment variables (prefix
// TVMKAFKA_SINK_) and their defaults.
type Config struct {
	GroupID string `envconfig:"GROUP_ID" default:"tvmkafka-sink" desc:"consumer group of the inbound topic"`
	// Source names every import in Tenable VM ("Vendor Product", as Tenable recommends).
	Source string `envconfig:"SOURCE" default:"tvmkafka Kafka Connector" desc:"import source name shown in Tenable VM"`
	// MaxRequestBytes bounds each import body; it may be lowered, never raised
	// past Tenable's 5 MB.
	MaxRequestBytes int `envconfig:"MAX_REQUEST_BYTES" default:"5000000" desc:"import body stays strictly below this (at most 5000000)"`
	MaxRecords      int `envconfig:"MAX_RECORDS" default:"5000" desc:"most assets per import request (the 5 MB limit usually cuts first)"`
	// Linger sends a partial batch once its oldest record waited this long.
	Linger time.Duration `envconfig:"LINGER" default:"5s" desc:"send a partial batch after its first record waited this long"`
	// CommitOn: "complete" commits a record's offset once its import job is
	// COMPLETE (or its failure dead-lettered); "accepted" once Tenable returned an
	// import job UUID. "complete" survives a job that fails after acceptance.
	CommitOn string `envconfig:"COMMIT_ON" default:"complete" desc:"commit offsets when the import job is 'complete' or when it was 'accepted'"`
	// OnJobError: "resubmit" imports a batch whose job ended in ERROR again (up to
	// MaxResubmits times, then dead-letters it); "deadletter" dead-letters it at once.
	OnJobError   string        `envconfig:"ON_JOB_ERROR" default:"resubmit" desc:"import job in ERROR: 'resubmit' or 'deadletter' its records"`
	MaxResubmits int           `envconfig:"MAX_RESUBMITS" default:"2" desc:"resubmissions of a batch whose job failed before dead-lettering it"`
	JobPoll      time.Duration `envconfig:"JOB_POLL" default:"2s" desc:"interval of import job status polls"`
	// PendingBatches bounds the batches of one partition between cut and done.
	PendingBatches int    `envconfig:"PENDING_BATCHES" default:"4" desc:"batches per partition imported but not done before reading pauses"`
	StartOffset    string `envconfig:"START_OFFSET" default:"earliest" desc:"where a new consumer group starts: earliest or latest"`
	// RetryMax caps the wait between attempts when Tenable or the registry keep
	// failing; the sink never drops a record for a transient error.
	RetryMax time.Duration `envconfig:"RETRY_MAX" default:"1m" desc:"longest wait between retries of a failing import"`
	// CommitEvery is how often done offsets are committed.
	CommitEvery time.Duration `envconfig:"COMMIT_EVERY" default:"1s" desc:"interval of offset commits"`
	// SessionTimeout is how long the group waits for a member that stopped
	// heartbeating (a crash, a killed pod) before it hands that member's
	// partitions to another one, or to the same sink restarted.
	SessionTimeout time.Duration `envconfig:"SESSION_TIMEOUT" default:"30s" desc:"consumer group session timeout: how soon a crashed sink's partitions are reassigned"`
}

// DefaultConfig returns the defaults the envconfig tags declare.
func DefaultConfig() Config {
	return Config{GroupID: "tvmkafka-sink", Source: "tvmkafka Kafka Connector", MaxRequestBytes: tenable.MaxImportBodyBytes,
		MaxRecords: 5000, Linger: 5 * time.Second, CommitOn: "complete", OnJobError: "resubmit", MaxResubmits: 2,
		JobPoll: 2 * time.Second, PendingBatches: 4, StartOffset: "earliest", RetryMax: time.Minute, CommitEvery: time.Second,
		SessionTimeout: 30 * time.Second}
}

// Validate reports every problem, naming the environment variable.
func (c Config) Validate() error {
	var errs []error
	bad := func(env, format string, args ...any) {
		errs = append(errs, fmt.Errorf("TVMKAFKA_SINK_%s: %s", env, fmt.Sprintf(format, args...)))
	}
	if strings.TrimSpace(c.GroupID) == "" {
		bad("GROUP_ID", "must not be empty")
	}
	if strings.TrimSpace(c.Source) == "" {
		bad("SOURCE", "must not be empty")
	}
	if c.MaxRequestBytes > tenable.MaxImportBodyBytes {
		bad("MAX_REQUEST_BYTES", "%d is above Tenable's limit of %d bytes", c.MaxRequestBytes, tenable.MaxImportBodyBytes)
	}
	if c.MaxRequestBytes < 1024 {
		bad("MAX_REQUEST_BYTES", "%d leaves no room for an asset", c.MaxRequestBytes)
	}
	if c.MaxRecords < 1 {
		bad("MAX_RECORDS", "%d is below 1", c.MaxRecords)
	}
	if c.Linger <= 0 {
		bad("LINGER", "%v must be positive", c.Linger)
	}
	if c.CommitOn != "complete" && c.CommitOn != "accepted" {
		bad("COMMIT_ON", "%q is not complete or accepted", c.CommitOn)
	}
	if c.OnJobError != "resubmit" && c.OnJobError != "deadletter" {
		bad("ON_JOB_ERROR", "%q is not resubmit or deadletter", c.OnJobError)
	}
	if c.MaxResubmits < 0 {
		bad("MAX_RESUBMITS", "%d is negative", c.MaxResubmits)
	}
	if c.JobPoll <= 0 {
		bad("JOB_POLL", "%v must be positive", c.JobPoll)
	}
	if c.PendingBatches < 1 {
		bad("PENDING_BATCHES", "%d is below 1", c.PendingBatches)
	}
	if c.StartOffset != "earliest" && c.StartOffset != "latest" {
		bad("START_OFFSET", "%q is not earliest or latest", c.StartOffset)
	}
	// Kafka brokers refuse sessions outside group.min/max.session.timeout.ms
	// (6 s and 30 min by default); say so before the group join fails.
	if c.SessionTimeout < 6*time.Second || c.SessionTimeout > 30*time.Minute {
		bad("SESSION_TIMEOUT", "%v is outside the broker's default bounds of 6s to 30m", c.SessionTimeout)
	}
	if c.RetryMax <= 0 || c.CommitEvery <= 0 {
		errs = append(errs, errors.New("TVMKAFKA_SINK_RETRY_MAX and TVMKAFKA_SINK_COMMIT_EVERY must be positive"))
	}
	return errors.Join(errs...)
}
