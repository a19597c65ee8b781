package sink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/tvmkafka/tvmkafka/connector/tenable"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
	"github.com/tvmkafka/tvmkafka/pipeline/telemetry"
)

var (
	metricFetched      = telemetry.Counter("tvmkafka.sink.records_fetched", "inbound records read", "{record}")
	metricImported     = telemetry.Counter("tvmkafka.sink.records_imported", "inbound records whose import job completed", "{record}")
	metricDeadLettered = telemetry.Counter("tvmkafka.sink.records_dead_lettered", "inbound records sent to the dead-letter topic, by stage", "{record}")
	metricRequests     = telemetry.Counter("tvmkafka.sink.import_requests", "import requests Tenable accepted", "{request}")
	metricRequestBytes = telemetry.Histogram("tvmkafka.sink.import_request_bytes", "size of accepted import requests", "By",
		100e3, 500e3, 1e6, 2e6, 3e6, 4e6, 4.5e6, 5e6)
	metricJobs      = telemetry.Counter("tvmkafka.sink.import_jobs", "import jobs ended, by status (COMPLETE or ERROR)", "{job}")
	metricJobAssets = telemetry.Counter("tvmkafka.sink.job_assets", "assets of completed import jobs, by outcome (uploaded or failed) as Tenable reports them", "{asset}")
	metricCommits   = telemetry.Counter("tvmkafka.sink.offset_commits", "offset commits", "{commit}")
)

func attrs(kv ...string) metric.MeasurementOption {
	a := make([]attribute.KeyValue, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		a = append(a, attribute.String(kv[i], kv[i+1]))
	}
	return metric.WithAttributes(a...)
}

// Consumer is the consumer-group side of the inbound topic; *kafkaio.GroupReader has it.
type Consumer interface {
	// Fetch returns the next record of an assigned partition.
	Fetch(ctx context.Context) (kafkaio.Record, error)
	// Commit commits, per partition, the offset of the next record to read.
	Commit(ctx context.Context, next map[int]int64) error
}

// Importer is what the sink needs from Tenable VM; *tenable.Client has it.
type Importer interface {
	ImportAssetsBody(ctx context.Context, body []byte) (string, error)
	ImportJob(ctx context.Context, uuid string) (tenable.ImportJob, error)
}

// Publisher writes dead letters; *kafkaio.Producer has it.
type Publisher interface {
	Send(ctx context.Context, g *kafkaio.AckGroup, msgs ...kafkaio.Record) error
}

var (
	_ Consumer  = (*kafkaio.GroupReader)(nil)
	_ Importer  = (*tenable.Client)(nil)
	_ Publisher = (*kafkaio.Producer)(nil)
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
	// DrainTimeout bounds the final flush, import and commit after the context ends.
	DrainTimeout time.Duration
}

// Sink imports the assets of the inbound topic into Tenable VM.
//
// Records are decoded and validated as they arrive; those that can never be
// imported go to the dead-letter topic with the reason. The rest are gathered per
// partition into import requests that stay below the size limit and never mix
// cloud providers. A partition's requests are sent in order, its records'
// offsets are committed only once done (imported, or dead-lettered), and only up
// to the first record that is not: nothing is committed that Tenable did not take.
type Sink struct {
	cfg     Config
	opts    Options
	log     *slog.Logger
	offsets *offsetTracker

	statsMu sync.Mutex
	stats   Stats

	mu         sync.Mutex
	partitions map[int]*partition
	fatal      error
	fatalOnce  sync.Once
	fatalCh    chan struct{}
}

// Stats are running totals, for logs and tests.
type Stats struct {
	Fetched, Imported, DeadLettered, Requests int
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

func (s *Sink) addStats(f func(*Stats)) {
	s.statsMu.Lock()
	f(&s.stats)
	s.statsMu.Unlock()
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
	if opts.DrainTimeout <= 0 {
		opts.DrainTimeout = 2 * time.Minute
	}
	return &Sink{cfg: opts.Config, opts: opts, log: opts.Logger, offsets: newOffsetTracker(),
		partitions: map[int]*partition{}, fatalCh: make(chan struct{})}, nil
}

// Stats returns the running totals.
func (s *Sink) Stats() Stats {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	return s.stats
}

// fail stops the sink with a problem retrying cannot fix (bad API keys, say).
func (s *Sink) fail(err error) {
	s.fatalOnce.Do(func() {
		s.mu.Lock()
		s.fatal = err
		s.mu.Unlock()
		close(s.fatalCh)
	})
}

// Run consumes until ctx ends or, when until is not nil, until every partition in
// it was read up to (not including) its offset. Then it flushes the partial
// batches, waits for their imports, commits, and returns. The error is nil only
// when every fetched record is done and committed.
func (s *Sink) Run(ctx context.Context, until map[int]int64) error {
	// Work outlives ctx by the drain timeout, so a shutdown finishes what was read.
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	stopDrain := context.AfterFunc(ctx, func() { time.AfterFunc(s.opts.DrainTimeout, cancelWork) })
	defer stopDrain()
	go func() { // a fatal error ends the work at once
		select {
		case <-s.fatalCh:
			cancelWork()
		case <-work.Done():
		}
	}()

	commitDone := make(chan struct{})
	commitStop := make(chan struct{})
	go s.commitLoop(work, commitStop, commitDone)

	fetchErr := s.fetchLoop(ctx, work, until)

	s.mu.Lock()
	parts := make([]*partition, 0, len(s.partitions))
	for _, p := range s.partitions {
		parts = append(parts, p)
	}
	s.mu.Unlock()
	for _, p := range parts {
		close(p.in)
	}
	for _, p := range parts {
		p.wait()
	}
	close(commitStop)
	<-commitDone
	commitErr := s.commit(context.WithoutCancel(work))

	s.mu.Lock()
	fatal := s.fatal
	s.mu.Unlock()
	st := s.Stats()
	s.log.Info("sink stopped", "fetched", st.Fetched, "imported", st.Imported, "dead_lettered", st.DeadLettered,
		"requests", st.Requests, "request_bytes", st.RequestBytes, "max_request_bytes", st.RequestBytesMax,
		"full_request_fill", fmt.Sprintf("%.3f", st.FullRequestFill(s.cfg.MaxRequestBytes)), "jobs_complete", st.JobsComplete, "jobs_error", st.JobsError)
	if err := errors.Join(fatal, fetchErr, commitErr); err != nil {
		return err
	}
	if n := s.offsets.outstanding(); n > 0 {
		return fmt.Errorf("sink stopped with %d records not imported yet; they stay uncommitted and are read again on restart", n)
	}
	return nil
}

// fetchLoop reads records and hands them to their partition's worker.
func (s *Sink) fetchLoop(ctx, work context.Context, until map[int]int64) error {
	lastSeen := map[int]int64{}
	caughtUp := func() bool {
		for p, end := range until {
			if lastSeen[p] < end-1 {
				return false
			}
		}
		return true
	}
	fetchCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-s.fatalCh:
			cancel()
		case <-fetchCtx.Done():
		}
	}()
	if until != nil {
		for p := range until {
			lastSeen[p] = -1
		}
	}
	for {
		if until != nil && caughtUp() {
			return nil
		}
		m, err := s.opts.Consumer.Fetch(fetchCtx)
		if err != nil {
			if fetchCtx.Err() != nil {
				if ctx.Err() != nil && until != nil {
					return fmt.Errorf("stopped before catching up with the inbound topic: %w", ctx.Err())
				}
				return nil
			}
			return fmt.Errorf("fetch from %s: %w", s.opts.Topic, err)
		}
		s.addStats(func(st *Stats) { st.Fetched++ })
		metricFetched.Add(ctx, 1)
		if m.Offset > lastSeen[m.Partition] {
			lastSeen[m.Partition] = m.Offset
		}
		epoch := s.offsets.fetched(m.Partition, m.Offset)
		p := s.partition(work, m.Partition)
		select {
		case p.in <- fetched{msg: m, epoch: epoch}:
		case <-fetchCtx.Done():
			// Not handed over: never marked done, so never committed.
			return nil
		}
	}
}

func (s *Sink) partition(ctx context.Context, id int) *partition {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.partitions[id]
	if p == nil {
		p = newPartition(ctx, s, id)
		s.partitions[id] = p
	}
	return p
}

func (s *Sink) commitLoop(ctx context.Context, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(s.cfg.CommitEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if err := s.commit(ctx); err != nil {
				s.log.Warn("offset commit failed; will try again", "error", err)
			}
		case <-stop:
			return
		case <-ctx.Done():
			return
		}
	}
}

// commit hands the done offsets to the consumer group.
func (s *Sink) commit(ctx context.Context) error {
	offs := s.offsets.toCommit()
	if len(offs) == 0 {
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := s.opts.Consumer.Commit(cctx, offs); err != nil {
		return fmt.Errorf("commit offsets: %w", err)
	}
	for p, next := range offs {
		s.offsets.markCommitted(p, next)
	}
	metricCommits.Add(ctx, 1)
	s.log.Debug("offsets committed", "offsets", offs)
	return nil
}

// retry runs op until it succeeds, fails permanently, or ctx ends, waiting longer
// between attempts up to RetryMax; transient failures never drop a record.
func (s *Sink) retry(ctx context.Context, what string, op func() (permanent bool, err error)) error {
	wait := time.Second
	for attempt := 1; ; attempt++ {
		permanent, err := op()
		if err == nil || permanent {
			return err
		}
		s.log.Warn(what+" failed; trying again", "attempt", attempt, "wait", wait, "error", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w (last error: %v)", what, ctx.Err(), err)
		case <-time.After(wait):
		}
		wait = min(wait*2, s.cfg.RetryMax)
	}
}
