package sink

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tvmkafka/tvmkafka/connector/tenable"
	"github.com/tvmkafka/tvmkafka/pipeline/settings"
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
	// MaxRecords is high enough that the 5 MB limit cuts requests of assets
	// of 100 bytes or more: Tenable asks for few, full requests.
	MaxRecords int `envconfig:"MAX_RECORDS" default:"50000" desc:"most assets per import request (the 5 MB limit usually cuts first)"`
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
	JobPoll      time.Duration `envconfig:"JOB_POLL" default:"2s" desc:"longest interval between import job status polls (the first comes after 250ms, then each wait grows by half)"`
	// PendingBatches bounds the import requests between cut and done, over
	// all partitions (each holds up to 5 MB of assets and their records).
	PendingBatches int `envconfig:"PENDING_BATCHES" default:"8" desc:"import requests cut but not done before reading pauses"`
	// MaxInFlightBytes bounds the memory of the inbound records between their
	// fetch and the end of their import job (their bytes, about 256 bytes
	// each of bookkeeping, and their share of the request body): reading
	// pauses while it is reached. A full 5 MB request holds 11 to 16 MB of
	// it, so the default keeps two or three in flight; raise it when import
	// jobs take long and the sink waits for them.
	MaxInFlightBytes int64  `envconfig:"MAX_IN_FLIGHT_BYTES" default:"33554432" desc:"bytes of inbound records held between fetch and import (the sink's memory bound)"`
	StartOffset      string `envconfig:"START_OFFSET" default:"earliest" desc:"where a new consumer group starts: earliest or latest"`
	// RetryMax caps the wait between attempts when Tenable or the registry keep
	// failing; the sink never drops a record for a transient error.
	RetryMax time.Duration `envconfig:"RETRY_MAX" default:"1m" desc:"longest wait between retries of a failing import"`
	// CommitEvery is how often done offsets are committed.
	CommitEvery time.Duration `envconfig:"COMMIT_EVERY" default:"1s" desc:"interval of offset commits"`
	// SessionTimeout is how long the group waits for a member that stopped
	// heartbeating (a crash, a killed pod) before it hands that member's
	// partitions to another one, or to the same sink restarted.
	SessionTimeout time.Duration `envconfig:"SESSION_TIMEOUT" default:"30s" desc:"consumer group session timeout: how soon a crashed sink's partitions are reassigned (6s to 30m)"`
	// DrainTimeout bounds the final flush, imports and commit after SIGTERM;
	// keep it inside the pod's terminationGracePeriodSeconds.
	DrainTimeout time.Duration `envconfig:"DRAIN_TIMEOUT" default:"2m" desc:"on shutdown, how long the sink may flush, wait for its imports and commit"`
}

// DefaultConfig returns the defaults the envconfig tags declare.
func DefaultConfig() Config {
	var c Config
	if err := settings.Defaults(&c); err != nil {
		panic(err) // the tags are constants; a test covers them
	}
	return c
}

// Validate reports every problem, naming the environment variable. Zero
// resubmits means none; zero is refused for sizes, counts and intervals.
func (c Config) Validate() error {
	var errs []error
	bad := func(env, format string, args ...any) {
		errs = append(errs, fmt.Errorf("TVMKAFKA_SINK_%s %s", env, fmt.Sprintf(format, args...)))
	}
	if strings.TrimSpace(c.GroupID) == "" {
		bad("GROUP_ID", "must not be empty")
	}
	if strings.TrimSpace(c.Source) == "" {
		bad("SOURCE", "must not be empty")
	}
	// 1 KiB leaves room for the request envelope and one small asset; the top
	// is Tenable's limit.
	if c.MaxRequestBytes < 1024 || c.MaxRequestBytes > tenable.MaxImportBodyBytes {
		bad("MAX_REQUEST_BYTES", "must be between 1024 and %d (Tenable's limit), got %d", tenable.MaxImportBodyBytes, c.MaxRequestBytes)
	}
	for _, n := range []struct {
		env string
		v   int
	}{{"MAX_RECORDS", c.MaxRecords}, {"PENDING_BATCHES", c.PendingBatches}} {
		if n.v < 1 {
			bad(n.env, "must be at least 1, got %d", n.v)
		}
	}
	// Below the records of one full request, every request would wait for
	// Linger instead of filling up.
	if c.MaxInFlightBytes < 4*int64(c.MaxRequestBytes) {
		bad("MAX_IN_FLIGHT_BYTES", "must be at least 4 times TVMKAFKA_SINK_MAX_REQUEST_BYTES (%d), what the records of one full request may hold, got %d",
			4*int64(c.MaxRequestBytes), c.MaxInFlightBytes)
	}
	if c.MaxResubmits < 0 {
		bad("MAX_RESUBMITS", "must be at least 0 (0: dead-letter at once), got %d", c.MaxResubmits)
	}
	for _, d := range []struct {
		env string
		v   time.Duration
	}{{"LINGER", c.Linger}, {"JOB_POLL", c.JobPoll}, {"RETRY_MAX", c.RetryMax}, {"COMMIT_EVERY", c.CommitEvery}, {"DRAIN_TIMEOUT", c.DrainTimeout}} {
		if d.v <= 0 {
			bad(d.env, "must be positive, got %v", d.v)
		}
	}
	if c.CommitOn != "complete" && c.CommitOn != "accepted" {
		bad("COMMIT_ON", "%q is not complete or accepted", c.CommitOn)
	}
	if c.OnJobError != "resubmit" && c.OnJobError != "deadletter" {
		bad("ON_JOB_ERROR", "%q is not resubmit or deadletter", c.OnJobError)
	}
	if c.StartOffset != "earliest" && c.StartOffset != "latest" {
		bad("START_OFFSET", "%q is not earliest or latest", c.StartOffset)
	}
	// Kafka brokers refuse sessions outside group.min/max.session.timeout.ms
	// (6 s and 30 min by default); say so before the group join fails.
	if c.SessionTimeout < 6*time.Second || c.SessionTimeout > 30*time.Minute {
		bad("SESSION_TIMEOUT", "must be between 6s and 30m (the broker's default bounds), got %v", c.SessionTimeout)
	}
	return errors.Join(errs...)
}
