// Package batchsink is the machinery of a Kafka sink that delivers records in
// batches to a system that takes them as asynchronous jobs: it reads a topic in
// a consumer group, turns each record into an item (a Converter), gathers the
// items into request bodies that stay below a size limit, hands them to a
// Destination in order, follows their jobs, dead-letters what can
// never be delivered, and commits a partition's offsets only up to the first
// record that is not done (delivered, or dead-lettered and acknowledged).
//
// One request carries the records of every partition, in the order they were
// fetched, so requests fill up to the size limit however many partitions the
// topic has. Offsets are tracked record by record: a partition's offset moves
// only past records whose request was delivered (or that were dead-lettered),
// whichever requests they travelled in.
//
// Memory is bounded by Config.MaxInFlightBytes: each record holds a share of
// it from fetch until it is done or abandoned (its bytes, a fixed overhead and
// its part of a request body), and reading waits while the budget is spent.
// Converted items live only in their request body.
//
// A request the destination refuses as a whole is split in halves until only
// the refused records remain; a job that ends in failure is resubmitted up to
// a bound, then its records are dead-lettered. Transient failures are retried
// (pipeline/retry) and never drop a record.
package batchsink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
	"github.com/tvmkafka/tvmkafka/pipeline/retry"
)

// Consumer is the consumer-group side of the inbound topic; *kafkaio.GroupReader has it.
type Consumer interface {
	// Fetch returns the next record of an assigned partition. A retry.Permanent
	// error (a closed consumer, refused credentials) stops the sink; anything
	// else (a broker that went away) is retried.
	Fetch(ctx context.Context) (kafkaio.Record, error)
	// Commit commits, per partition, the offset of the next record to read.
	Commit(ctx context.Context, next map[int]int64) error
}

// Publisher writes dead letters; *kafkaio.Producer has it.
type Publisher interface {
	Send(ctx context.Context, g *kafkaio.AckGroup, msgs ...kafkaio.Record) error
}

var (
	_ Consumer  = (*kafkaio.GroupReader)(nil)
	_ Publisher = (*kafkaio.Producer)(nil)
)

// Converter is how a record becomes an item.
type Converter[T any] interface {
	// Convert decodes and validates rec. An error that is a *Refusal sends the
	// record to the dead-letter topic with its reason; any other error is
	// retried (a schema registry that cannot be reached, say). group keeps items
	// apart: one request holds items of one group, and the empty group joins any.
	//
	// Convert is called by one goroutine at a time, and the item is added to a
	// body before the next call and not kept: it may share memory the next
	// call overwrites.
	Convert(ctx context.Context, rec kafkaio.Record) (item T, group string, err error)
}

// Body is one request body being built; it knows its exact size.
type Body[T any] interface {
	// Add appends item. It returns ErrBodyFull when the item does not fit in
	// what is left (the body is then unchanged), and a *Refusal when it fits in
	// no body at all.
	Add(item T) error
	// Bytes is the complete body; the sink reads it only after the last Add.
	Bytes() []byte
	// Len is the body's length in bytes so far.
	Len() int
	// Count is the number of items in the body.
	Count() int
	// Item returns the i-th item added, as Add took it; it may share the
	// body's memory. The sink keeps items only in their body, and takes
	// them back from it to split a refused request.
	Item(i int) T
}

// ErrBodyFull is returned by Body.Add when the item does not fit in what is
// left of the body.
var ErrBodyFull = errors.New("request body is full")

// Destination is where batches go.
type Destination[T any] interface {
	// NewBody returns an empty body. An error stops the sink.
	NewBody() (Body[T], error)
	// Submit sends a complete body and returns the ID of the job that processes
	// it. A *Refusal error means the destination refused the content: the
	// request is split to find the refused records. A retry.Permanent error
	// (bad credentials) stops the sink. Anything else is retried, after the
	// delay of retry.After when the destination named one.
	Submit(ctx context.Context, body []byte) (jobID string, err error)
	// Job reports the state of a job. Errors are retried as Submit's, except
	// that a *Refusal is not expected.
	Job(ctx context.Context, jobID string) (JobStatus, error)
}

// JobStatus is the state of a destination's job.
type JobStatus struct {
	// Done is true once the job ended.
	Done bool
	// Status names the final state in the destination's words (for logs and
	// the jobs metric): "COMPLETE", "ERROR".
	Status string
	// Failure is set when the job ended without delivering its items: they are
	// resubmitted (up to Config.MaxResubmits times) and then dead-lettered with
	// this reason.
	Failure *Refusal
	// ItemsOK and ItemsFailed are the destination's own count of what it did
	// with the items of a job that did not fail, for the stats.
	ItemsOK, ItemsFailed int
}

// Refusal is why a record can never be delivered; it travels to the
// dead-letter topic in the Connect error headers.
type Refusal struct {
	// Stage is StageConvert or StagePut.
	Stage string
	// Exception names the kind of failure (without the dead-letter prefix).
	Exception string
	// Reason is the human message.
	Reason string
	// Err is the underlying failure, if any.
	Err error
}

func (r *Refusal) Error() string { return r.Reason }
func (r *Refusal) Unwrap() error { return r.Err }

// Config tunes the machinery.
type Config struct {
	// MaxItems bounds the items of one request.
	MaxItems int
	// Linger sends a partial batch once its oldest record waited this long.
	Linger time.Duration
	// CommitOnAccept marks records done once the destination accepted their
	// request, instead of once their job completed.
	CommitOnAccept bool
	// MaxResubmits is how often the items of a failed job are submitted again
	// before they are dead-lettered (0: at once).
	MaxResubmits int
	// JobPoll is the interval of job status polls.
	JobPoll time.Duration
	// PendingBatches bounds the batches between cut and done; reading pauses
	// while that many are.
	PendingBatches int
	// MaxInFlightBytes bounds the memory of the records between fetch and
	// done: each holds its key, value and headers, a fixed overhead
	// (recordOverhead) and its share of a request body. Reading pauses while
	// the bound is reached, whatever the topic's size or the time jobs take;
	// it should hold a few full requests' records, or requests are cut by
	// Linger before they are full.
	MaxInFlightBytes int64
	// RetryMax caps the wait between attempts of a failing operation.
	RetryMax time.Duration
	// CommitEvery is how often done offsets are committed.
	CommitEvery time.Duration
	// DrainTimeout bounds the final flush, delivery and commit after the
	// context ends (2 minutes when zero).
	DrainTimeout time.Duration
}

// Metrics are the instruments the sink records into; nil ones are skipped.
type Metrics struct {
	Fetched, Done, DeadLettered, Requests metric.Int64Counter
	RequestBytes                          metric.Int64Histogram
	// Jobs counts ended jobs by "status"; JobItems the destination's own count
	// of items by "outcome" ("uploaded" or "failed").
	Jobs, JobItems metric.Int64Counter
	Commits        metric.Int64Counter
}

func add(ctx context.Context, c metric.Int64Counter, n int64, kv ...string) {
	if c == nil {
		return
	}
	if len(kv) == 0 { // per record: no attribute set to build
		c.Add(ctx, n)
		return
	}
	a := make([]attribute.KeyValue, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		a = append(a, attribute.String(kv[i], kv[i+1]))
	}
	c.Add(ctx, n, metric.WithAttributes(a...))
}

// Options are what New needs.
type Options[T any] struct {
	Config      Config
	Topic       string // the inbound topic, for error messages
	Consumer    Consumer
	Converter   Converter[T]
	Destination Destination[T]
	DeadLetters DeadLetters
	Metrics     Metrics
	Logger      *slog.Logger
	// Clock times the waits between retries (retry.RealClock when nil).
	Clock retry.Clock
	// ValueAt reads a record's value again as the broker holds it (nil: null;
	// empty: zero bytes), for dead letters of records the consumer returned
	// with a nil value, since some consumers cannot tell the two apart
	// (kafkaio.ValueAt). When nil, such dead letters carry a null value.
	ValueAt func(ctx context.Context, topic string, partition int, offset int64) ([]byte, error)
}

// Sink delivers the records of a topic to a Destination.
type Sink[T any] struct {
	cfg     Config
	opts    Options[T]
	log     *slog.Logger
	offsets *offsetTracker
	budget  *budget

	statsMu sync.Mutex
	stats   Stats

	mu        sync.Mutex
	fatal     error
	fatalOnce sync.Once
	fatalCh   chan struct{}
}

// Stats are running totals, for logs and tests.
type Stats struct {
	// Fetched records; Done those whose job completed (or whose request was
	// accepted, with CommitOnAccept); DeadLettered those the dead-letter topic
	// acknowledged.
	Fetched, Done, DeadLettered int
	// Requests the destination accepted; RequestBytes sums their bodies,
	// RequestBytesMax is the largest.
	Requests        int
	RequestBytes    int64
	RequestBytesMax int
	// FullRequests counts accepted requests of batches cut because the next
	// record would not fit, and FullRequestBytes sums their bodies.
	FullRequests     int
	FullRequestBytes int64
	// JobsComplete and JobsFailed count ended jobs; ItemsOK and ItemsFailed are
	// the destination's count of items of completed jobs.
	JobsComplete, JobsFailed int
	ItemsOK, ItemsFailed     int
}

func (s *Sink[T]) addStats(f func(*Stats)) {
	s.statsMu.Lock()
	f(&s.stats)
	s.statsMu.Unlock()
}

// New checks the options and returns a sink.
func New[T any](opts Options[T]) (*Sink[T], error) {
	c := opts.Config
	if c.MaxItems < 1 || c.Linger <= 0 || c.MaxResubmits < 0 || c.JobPoll <= 0 || c.PendingBatches < 1 || c.RetryMax <= 0 || c.CommitEvery <= 0 ||
		c.MaxInFlightBytes < 1 {
		return nil, fmt.Errorf("batchsink: invalid configuration %+v", c)
	}
	if opts.Consumer == nil || opts.Converter == nil || opts.Destination == nil || opts.DeadLetters.Publisher == nil || opts.DeadLetters.Topic == "" {
		return nil, errors.New("batchsink: consumer, converter, destination and dead-letter topic and publisher are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Clock == nil {
		opts.Clock = retry.RealClock
	}
	if opts.Config.DrainTimeout <= 0 {
		opts.Config.DrainTimeout = 2 * time.Minute
	}
	return &Sink[T]{cfg: opts.Config, opts: opts, log: opts.Logger, offsets: newOffsetTracker(),
		budget: newBudget(opts.Config.MaxInFlightBytes), fatalCh: make(chan struct{})}, nil
}

// Stats returns the running totals.
func (s *Sink[T]) Stats() Stats {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	return s.stats
}

// fail stops the sink with a problem retrying cannot fix (bad API keys, say).
func (s *Sink[T]) fail(err error) {
	s.fatalOnce.Do(func() {
		s.mu.Lock()
		s.fatal = err
		s.mu.Unlock()
		close(s.fatalCh)
	})
}

// Run consumes until ctx ends or, when until is not nil, until every partition in
// it was read up to (not including) its offset. Then it flushes the partial
// batches, waits for their jobs, commits, and returns. The error is nil only
// when every fetched record is done and committed.
func (s *Sink[T]) Run(ctx context.Context, until map[int]int64) error {
	// Work outlives ctx by the drain timeout, so a shutdown finishes what was read.
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	stopDrain := context.AfterFunc(ctx, func() { time.AfterFunc(s.cfg.DrainTimeout, cancelWork) })
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

	r := newRequests(work, s)
	fetchErr := s.fetchLoop(ctx, until, r.in)
	close(r.in)
	r.wait()
	close(commitStop)
	<-commitDone
	commitErr := s.commit(context.WithoutCancel(work))

	s.mu.Lock()
	fatal := s.fatal
	s.mu.Unlock()
	if err := errors.Join(fatal, fetchErr, commitErr); err != nil {
		return err
	}
	if n := s.offsets.outstanding(); n > 0 {
		return fmt.Errorf("sink stopped with %d records not delivered yet; they stay uncommitted and are read again on restart", n)
	}
	return nil
}

// fetchLoop reads records and hands them, in fetch order, to the batching.
func (s *Sink[T]) fetchLoop(ctx context.Context, until map[int]int64, out chan<- fetched) error {
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
	for p := range until {
		lastSeen[p] = -1
	}
	for {
		if until != nil && caughtUp() {
			return nil
		}
		// A broker restart or a coordinator moving must not end the sink:
		// fetch again until Kafka is back, as long as the error is not
		// permanent (a closed consumer, refused credentials).
		// The first attempt goes without the retry machinery: nearly every
		// fetch succeeds, and it is paid per record. After a failure, the
		// retry loop fetches again (at once, then waiting longer each time).
		m, err := s.opts.Consumer.Fetch(fetchCtx)
		if err != nil && fetchCtx.Err() == nil {
			err = s.retry(fetchCtx, "fetch from "+s.opts.Topic, func(ctx context.Context) error {
				var err error
				m, err = s.opts.Consumer.Fetch(ctx)
				if err != nil && ctx.Err() != nil {
					return retry.Permanent(err) // stopping, not failing
				}
				return err
			})
		}
		if err != nil {
			if fetchCtx.Err() != nil {
				if ctx.Err() != nil && until != nil {
					return fmt.Errorf("stopped before catching up with the inbound topic: %w", ctx.Err())
				}
				return nil
			}
			return fmt.Errorf("fetch from %s: %w", s.opts.Topic, err)
		}
		// Wait for room before fetching more: the records held until they
		// are done are what the sink's memory is made of.
		cost := recordCost(&m)
		if s.budget.acquire(fetchCtx, cost) != nil {
			// Not handed over: never marked done, so never committed.
			if ctx.Err() != nil && until != nil {
				return fmt.Errorf("stopped before catching up with the inbound topic: %w", ctx.Err())
			}
			return nil
		}
		s.addStats(func(st *Stats) { st.Fetched++ })
		add(ctx, s.opts.Metrics.Fetched, 1)
		if m.Offset > lastSeen[m.Partition] {
			lastSeen[m.Partition] = m.Offset
		}
		epoch := s.offsets.fetched(m.Partition, m.Offset)
		select {
		case out <- fetched{msg: m, epoch: epoch, cost: cost}:
		case <-fetchCtx.Done():
			// Not handed over: never marked done, so never committed.
			return nil
		}
	}
}

func (s *Sink[T]) commitLoop(ctx context.Context, stop <-chan struct{}, done chan<- struct{}) {
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
func (s *Sink[T]) commit(ctx context.Context) error {
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
	add(ctx, s.opts.Metrics.Commits, 1)
	s.log.Debug("offsets committed", "offsets", offs)
	return nil
}

// retry runs op until it succeeds, fails permanently (retry.Permanent), or ctx
// ends, waiting longer between attempts up to RetryMax, or as long as the
// failure asked (retry.After); transient failures never drop a record.
func (s *Sink[T]) retry(ctx context.Context, what string, op func(ctx context.Context) error) error {
	p := retry.Policy{Initial: time.Second, Max: s.cfg.RetryMax, MaxRetries: retry.Unlimited, Clock: s.opts.Clock}
	return retry.Do(ctx, p, op, func(err error, attempt int, wait time.Duration) {
		s.log.Warn(what+" failed; trying again", "attempt", attempt, "wait", wait, "error", err)
	})
}
