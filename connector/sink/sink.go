package sink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/tvmkafka/tvmkafka/connector/tenable"
	"github.com/tvmkafka/tvmkafka/pipeline/batchsink"
	"github.com/tvmkafka/tvmkafka/pipeline/retry"
	"github.com/tvmkafka/tvmkafka/pipeline/telemetry"
)

var metrics = batchsink.Metrics{
	Fetched:      telemetry.Counter("tvmkafka.sink.records_fetched", "inbound records read", "{record}"),
	Done:         telemetry.Counter("tvmkafka.sink.records_imported", "inbound records whose import job completed", "{record}"),
	DeadLettered: telemetry.Counter("tvmkafka.sink.records_dead_lettered", "inbound records sent to the dead-letter topic, by stage", "{record}"),
	Requests:     telemetry.Counter("tvmkafka.sink.import_requests", "import requests Tenable accepted", "{request}"),
	RequestBytes: telemetry.Histogram("tvmkafka.sink.import_request_bytes", "size of accepted import requests", "By",
		100e3, 500e3, 1e6, 2e6, 3e6, 4e6, 4.5e6, 5e6),
	Jobs:     telemetry.Counter("tvmkafka.sink.import_jobs", "import jobs ended, by status (COMPLETE or ERROR)", "{job}"),
	JobItems: telemetry.Counter("tvmkafka.sink.job_assets", "assets of completed import jobs, by outcome (uploaded or failed) as Tenable reports them", "{asset}"),
	Commits:  telemetry.Counter("tvmkafka.sink.offset_commits", "offset commits", "{commit}"),
}

// Consumer is the consumer-group side of the inbound topic; *kafkaio.GroupReader has it.
type Consumer = batchsink.Consumer

// Publisher writes dead letters; *kafkaio.Producer has it.
type Publisher = batchsink.Publisher

// Importer is what the sink needs from Tenable VM; *tenable.Client has it.
type Importer interface {
	ImportAssetsBody(ctx context.Context, body []byte) (string, error)
	ImportJob(ctx context.Context, uuid string) (tenable.ImportJob, error)
}

var _ Importer = (*tenable.Client)(nil)

// Dead-letter headers, named as Kafka Connect names them, so tools that read
// Connect's dead-letter queues read these too.
const (
	HeaderDLQTopic        = batchsink.HeaderDLQTopic
	HeaderDLQPartition    = batchsink.HeaderDLQPartition
	HeaderDLQOffset       = batchsink.HeaderDLQOffset
	HeaderDLQConnector    = batchsink.HeaderDLQConnector
	HeaderDLQTask         = batchsink.HeaderDLQTask
	HeaderDLQStage        = batchsink.HeaderDLQStage
	HeaderDLQClass        = batchsink.HeaderDLQClass
	HeaderDLQException    = batchsink.HeaderDLQException
	HeaderDLQMessage      = batchsink.HeaderDLQMessage
	HeaderDLQTimestampMs  = batchsink.HeaderDLQTimestampMs
	HeaderDLQValueDropped = batchsink.HeaderDLQValueDropped
)

// Options are what New needs.
type Options struct {
	Config          Config
	Topic           string // the inbound topic
	DeadLetterTopic string
	Consumer        Consumer
	Importer        Importer
	Decoder         *Decoder
	DeadLetters     Publisher
	Logger          *slog.Logger
	// DrainTimeout bounds the final flush, import and commit after the context
	// ends; zero takes Config.DrainTimeout.
	DrainTimeout time.Duration
	// Clock times the waits between retries (the wall clock when nil).
	Clock retry.Clock
	// ValueAt reads an inbound record's value again, as the broker holds it, for
	// the dead letter of a record the consumer read with a nil value: the
	// consumer cannot tell an empty value from a null one, the dead-letter topic
	// must keep them apart. Wire it to kafkaio.ValueAt.
	ValueAt func(ctx context.Context, topic string, partition int, offset int64) ([]byte, error)
}

// Sink imports the assets of the inbound topic into Tenable VM.
//
// Records are decoded and validated as they arrive; those that can never be
// imported go to the dead-letter topic with the reason. The rest are gathered,
// whatever their partition, into import requests that fill up to the size
// limit and never mix cloud providers. Requests are sent in order; a record's
// offset is committed only once done (imported, or dead-lettered), and only up
// to its partition's first record that is not, whichever request that one
// travels in: nothing is committed that Tenable did not take.
type Sink struct {
	cfg  Config
	log  *slog.Logger
	core *batchsink.Sink[Asset]
	dest *assetImport
}

// Stats are running totals, for logs and tests.
type Stats struct {
	Fetched, Imported, DeadLettered int
	// Requests counts import requests Tenable accepted; RequestsSent counts
	// every import request made, refused and failed ones included.
	Requests, RequestsSent int
	// RequestBytes sums the bodies of accepted import requests; RequestBytesMax
	// is the largest.
	RequestBytes    int64
	RequestBytesMax int
	// FullRequests counts accepted requests of batches cut because the next
	// record would not fit, and FullRequestBytes sums their bodies: their
	// average against MaxRequestBytes is how well requests are filled.
	FullRequests                 int
	FullRequestBytes             int64
	JobsComplete, JobsError      int
	UploadedAssets, FailedAssets int
}

// FullRequestFill is the average size of full requests as a fraction of
// limit (0 when there were none).
func (s Stats) FullRequestFill(limit int) float64 {
	if s.FullRequests == 0 || limit <= 0 {
		return 0
	}
	return float64(s.FullRequestBytes) / float64(s.FullRequests) / float64(limit)
}

// New checks the options and returns a sink.
func New(opts Options) (*Sink, error) {
	if err := opts.Config.Validate(); err != nil {
		return nil, err
	}
	if opts.Topic == "" || opts.DeadLetterTopic == "" {
		return nil, errors.New("sink: inbound and dead-letter topics are required")
	}
	if opts.Consumer == nil || opts.Importer == nil || opts.Decoder == nil || opts.DeadLetters == nil {
		return nil, errors.New("sink: consumer, importer, decoder and dead-letter publisher are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	c := opts.Config
	resubmits := c.MaxResubmits
	if c.OnJobError == "deadletter" {
		resubmits = 0
	}
	if opts.DrainTimeout == 0 {
		opts.DrainTimeout = c.DrainTimeout
	}
	dest := &assetImport{importer: opts.Importer, source: c.Source, maxBytes: c.MaxRequestBytes}
	core, err := batchsink.New(batchsink.Options[Asset]{
		Config: batchsink.Config{MaxItems: c.MaxRecords, Linger: c.Linger, CommitOnAccept: c.CommitOn == "accepted",
			MaxResubmits: resubmits, JobPoll: c.JobPoll, PendingBatches: c.PendingBatches, MaxInFlightBytes: c.MaxInFlightBytes, RetryMax: c.RetryMax,
			CommitEvery: c.CommitEvery, DrainTimeout: opts.DrainTimeout},
		Topic:       opts.Topic,
		Consumer:    opts.Consumer,
		Converter:   &assetConverter{dec: opts.Decoder},
		Destination: dest,
		DeadLetters: batchsink.DeadLetters{Topic: opts.DeadLetterTopic, Publisher: opts.DeadLetters,
			Connector: "tvmkafka-sink", Class: "tvmkafka.sink", ExceptionPrefix: "tvmkafka."},
		Metrics: metrics,
		Logger:  opts.Logger,
		Clock:   opts.Clock,
		ValueAt: opts.ValueAt,
	})
	if err != nil {
		return nil, fmt.Errorf("sink: %w", err)
	}
	return &Sink{cfg: c, log: opts.Logger, core: core, dest: dest}, nil
}

// Stats returns the running totals.
func (s *Sink) Stats() Stats {
	st := s.core.Stats()
	return Stats{Fetched: st.Fetched, Imported: st.Done, DeadLettered: st.DeadLettered, Requests: st.Requests,
		RequestBytes: st.RequestBytes, RequestBytesMax: st.RequestBytesMax, FullRequests: st.FullRequests,
		FullRequestBytes: st.FullRequestBytes, JobsComplete: st.JobsComplete, JobsError: st.JobsFailed,
		UploadedAssets: st.ItemsOK, FailedAssets: st.ItemsFailed, RequestsSent: int(s.dest.sent.Load())}
}

// Run consumes until ctx ends or, when until is not nil, until every partition in
// it was read up to (not including) its offset. Then it flushes the partial
// batches, waits for their imports, commits, and returns. The error is nil only
// when every fetched record is done and committed.
func (s *Sink) Run(ctx context.Context, until map[int]int64) error {
	err := s.core.Run(ctx, until)
	st := s.Stats()
	s.log.Info("sink stopped", "fetched", st.Fetched, "imported", st.Imported, "dead_lettered", st.DeadLettered,
		"requests_sent", st.RequestsSent, "requests_accepted", st.Requests, "request_bytes", st.RequestBytes, "max_request_bytes", st.RequestBytesMax,
		"full_request_fill", fmt.Sprintf("%.3f", st.FullRequestFill(s.cfg.MaxRequestBytes)), "jobs_complete", st.JobsComplete, "jobs_error", st.JobsError)
	return err
}
