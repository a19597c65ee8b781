package source

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/tvmkafka/tvmkafka/connector/tenable"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
	"github.com/tvmkafka/tvmkafka/pipeline/retry"
	"github.com/tvmkafka/tvmkafka/pipeline/telemetry"
)

var (
	metricRecords     = telemetry.Counter("tvmkafka.source.records", "records handed to Kafka, by stream", "{record}")
	metricChunks      = telemetry.Counter("tvmkafka.source.chunks", "export chunks and plugin pages whose every record Kafka acknowledged, by stream", "{chunk}")
	metricExports     = telemetry.Counter("tvmkafka.source.exports", "exports by stream and outcome: complete, retried (Tenable failed it) or failed", "{export}")
	metricDeadLetters = telemetry.Counter("tvmkafka.source.dead_letters", "records that could not be encoded and went to the dead-letter topic", "{record}")
	metricExportTime  = telemetry.Duration("tvmkafka.source.export.duration", "time of one stream's export run, from request (or resumption) to the watermark saved, by stream and outcome")
)

func streamAttr(name string) metric.MeasurementOption {
	return metric.WithAttributes(attribute.String("stream", name))
}

// Tenable is what the source stages need from Tenable VM; *tenable.Client has it.
type Tenable interface {
	StartAssetExport(ctx context.Context, req tenable.AssetExportRequest) (tenable.ExportJob, error)
	StartVulnExport(ctx context.Context, req tenable.VulnExportRequest) (tenable.ExportJob, error)
	StartComplianceExport(ctx context.Context, req tenable.ComplianceExportRequest) (tenable.ExportJob, error)
	FollowExport(ctx context.Context, job tenable.ExportJob, opts tenable.FollowOptions, handle tenable.ChunkHandler) (tenable.ExportResult, error)
	CancelExport(ctx context.Context, kind tenable.ExportKind, uuid string) error
	DownloadChunk(ctx context.Context, kind tenable.ExportKind, uuid string, chunk int, fn tenable.RecordFunc) (int, error)
	ListPlugins(ctx context.Context, opts tenable.PluginListOptions, fn tenable.RecordFunc) (int, error)
}

var _ Tenable = (*tenable.Client)(nil)

// Publisher sends messages to Kafka and reports, per group, when all of them were
// acknowledged; *kafkaio.Producer is one.
type Publisher interface {
	Send(ctx context.Context, g *kafkaio.AckGroup, msgs ...kafkaio.Record) error
}

var _ Publisher = (*kafkaio.Producer)(nil)

// ErrKafka marks a run that failed because Kafka did not take its records or
// checkpoints (brokers down or unreachable, produce requests failing). The
// export stays in the checkpoint, so running the stream again resumes it; in
// Run, such failures are retried within the stream's interval.
var ErrKafka = errors.New("kafka did not acknowledge the write")

// kafkaError is a Kafka write failure marked with ErrKafka.
type kafkaError struct{ err error }

func (e *kafkaError) Error() string   { return "Kafka write failed: " + e.err.Error() }
func (e *kafkaError) Unwrap() []error { return []error{ErrKafka, e.err} }

// kafkaFailure marks err as a Kafka failure, unless ctx ended: then the run
// was stopped, and Kafka is not to blame.
func kafkaFailure(ctx context.Context, err error) error {
	if err == nil || ctx.Err() != nil || errors.Is(err, ErrKafka) {
		return err
	}
	return &kafkaError{err: err}
}

// sendBatch is how many messages are handed to the producer at once.
const sendBatch = 256

// deps are what every stream shares.
type deps struct {
	cfg     Config
	topics  Topics
	api     Tenable
	pub     Publisher
	cps     *checkpoints
	log     *slog.Logger
	version string
	now     func() time.Time
	brokers []string
}

// initialSince is the delta start of a stream's first run. A lookback is
// counted back from Tenable's clock, never the local one: a host clock ahead of
// Tenable's would ask for a delta starting in Tenable's future, which holds
// nothing, and that start would become the watermark.
func (d *deps) initialSince(ctx context.Context) (time.Time, error) {
	if d.cfg.InitialLookback <= 0 {
		// One second after the epoch: every record, and a time filter is still sent,
		// so Tenable's 30-day default window for unfiltered vuln exports never applies.
		return time.Unix(1, 0).UTC(), nil
	}
	now, err := d.tenableNow(ctx)
	if err != nil {
		return time.Time{}, fmt.Errorf("read Tenable's clock for the initial lookback: %w", err)
	}
	return now.Add(-d.cfg.InitialLookback).Truncate(time.Second), nil
}

// errClockRead stops the one-page plugin listing tenableNow makes.
var errClockRead = errors.New("clock read")

// tenableNow reads Tenable's clock: the Date of the smallest answer the
// connector already relies on, a one-plugin page of the plugin list.
func (d *deps) tenableNow(ctx context.Context) (time.Time, error) {
	var at time.Time
	_, err := d.api.ListPlugins(ctx, tenable.PluginListOptions{Size: 1, OnPage: func(p tenable.PluginPage) error {
		at = p.ServerTime
		return errClockRead
	}}, func([]byte) error { return nil })
	if err != nil && !errors.Is(err, errClockRead) {
		return time.Time{}, err
	}
	if at.IsZero() {
		return time.Time{}, errors.New("tenable's answer carried no Date")
	}
	return at.UTC(), nil
}

// exportStream publishes one delta export (assets active/deleted/terminated,
// vulns, compliance) to one topic and keeps its checkpoint.
type exportStream struct {
	*deps
	name       string // checkpoint key and log name
	kind       tenable.ExportKind
	topic      string
	recordType string
	wire       Wire
	encoders   *encoderPool
	derived    map[string]string // caller-supplied schema fields, e.g. the asset state
	tombstones bool
	// keep, when set, decides whether a record is published (the echo filter).
	keep func(record []byte) bool
	// start requests the export of everything changed since the given time.
	start func(ctx context.Context, since time.Time) (tenable.ExportJob, error)
	// newTap, when set, returns the tap of one chunk (closures).
	newTap func() tap
}

// Name returns the stream's checkpoint key.
func (s *exportStream) Name() string { return s.name }

// retryableExport reports whether an export outcome is one that a new export of
// the same delta fixes: Tenable failed the export or lost chunks of it.
func retryableExport(err error) bool {
	return errors.Is(err, tenable.ErrExportFailed) || errors.Is(err, tenable.ErrExportIncomplete) ||
		errors.Is(err, tenable.ErrExportCancelled) || errors.Is(err, tenable.ErrChunkExpired) ||
		errors.Is(err, tenable.ErrQueueTimeout) || errors.Is(err, tenable.ErrExportExpired)
}

// Run exports the delta since the stream's watermark, publishes every record,
// and advances the watermark once Kafka acknowledged them all. An export in
// flight from an earlier, interrupted run is resumed. ctx cancellation stops
// taking new chunks; chunks in progress get DrainTimeout to finish.
//
// An export that lost data (ERROR, failed or expired chunks) is cancelled and
// remembered, then the delta is requested again after a backoff wait, up to
// MaxExportAttempts exports per run. Remembering it matters: Tenable answers a
// new request with 409 and the identical export while it still runs, and
// adopting that one again would spend every attempt on chunks that are gone.
func (s *exportStream) Run(ctx context.Context) (err error) {
	ctx, end := telemetry.Track(ctx, "tvmkafka.export", metricExportTime, attribute.String("stream", s.name))
	defer func() { end(err) }()
	cp := s.cps.get(s.name)
	since := cp.Watermark
	if since.IsZero() {
		var err error
		if since, err = s.initialSince(ctx); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	work, stopWork := s.workContext(ctx)
	defer stopWork()
	// The status poll bounds space the attempts too: both pace requests to the
	// same export workflow.
	backoff := retry.NewSchedule(retry.Policy{Initial: s.cfg.PollInitial, Max: s.cfg.PollMax})
	var lastErr error
	for attempt := 1; attempt <= s.cfg.MaxExportAttempts; attempt++ {
		if attempt > 1 {
			wait := backoff.Next()
			s.log.Info("requesting the export again after a pause", "stream", s.name, "attempt", attempt,
				"max_attempts", s.cfg.MaxExportAttempts, "next_attempt", time.Now().Add(wait).Format(time.RFC3339Nano))
			if err := retry.Wait(ctx, nil, wait); err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
		}
		job, done, err := s.jobFor(ctx, &cp, since)
		if errors.Is(err, errAbandonedAdopted) {
			lastErr = err
			s.log.Warn("Tenable handed back an export this stream abandoned; not adopting it",
				"stream", s.name, "export_uuid", job.UUID, "attempt", attempt, "max_attempts", s.cfg.MaxExportAttempts)
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		err = s.follow(ctx, work, job, done, &cp)
		if err == nil {
			metricExports.Add(work, 1, metric.WithAttributes(attribute.String("stream", s.name), attribute.String("outcome", "complete")))
			return s.complete(work, &cp)
		}
		if ctx.Err() != nil || !retryableExport(err) {
			metricExports.Add(work, 1, metric.WithAttributes(attribute.String("stream", s.name), attribute.String("outcome", "failed")))
			// The export stays in the checkpoint: the next run resumes it.
			return fmt.Errorf("%s: export %s: %w", s.name, job.UUID, err)
		}
		lastErr = err
		metricExports.Add(work, 1, metric.WithAttributes(attribute.String("stream", s.name), attribute.String("outcome", "retried")))
		s.log.Warn("export did not deliver all its data; cancelling it and requesting it again",
			"stream", s.name, "export_uuid", job.UUID, "attempt", attempt, "max_attempts", s.cfg.MaxExportAttempts, "error", err)
		if err := s.abandon(work, &cp, job); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	return fmt.Errorf("%s: gave up after %d exports; the watermark stays at %s: %w", s.name, s.cfg.MaxExportAttempts, since.Format(time.RFC3339), lastErr)
}

// maxAbandoned bounds the abandoned exports a checkpoint remembers; a run
// abandons at most MaxExportAttempts, and the list empties when a run completes.
const maxAbandoned = 32

// errAbandonedAdopted: Tenable answered a new export request with an export
// this stream had abandoned.
var errAbandonedAdopted = errors.New("tenable handed back an export that lost data")

// abandon cancels an export that lost data and records it in the checkpoint,
// so that it is never adopted again, in this run or the next.
func (s *exportStream) abandon(ctx context.Context, cp *Checkpoint, job tenable.ExportJob) error {
	s.cancelExport(ctx, job.UUID)
	if !slices.Contains(cp.Abandoned, job.UUID) {
		cp.Abandoned = append(cp.Abandoned, job.UUID)
		if n := len(cp.Abandoned); n > maxAbandoned {
			cp.Abandoned = slices.Delete(cp.Abandoned, 0, n-maxAbandoned)
		}
	}
	cp.Export = nil // the watermark stays: the new export covers the same delta
	return s.cps.put(ctx, *cp)
}

// cancelExport frees Tenable's export slot, so that a new request of the same
// delta starts a new export instead of drawing a 409. Cancelling an export that
// already ended is no error; any other failure is logged, and the abandoned
// list still keeps the export from being adopted.
func (s *exportStream) cancelExport(ctx context.Context, uuid string) {
	if err := s.api.CancelExport(ctx, s.kind, uuid); err != nil {
		s.log.Warn("cancelling an export that lost data failed", "stream", s.name, "export_uuid", uuid, "error", err)
		return
	}
	s.log.Info("cancelled an export that lost data", "stream", s.name, "export_uuid", uuid)
}

// workContext is the context chunk handlers run in: it outlives ctx by
// DrainTimeout, so a shutdown lets chunks in progress finish and checkpoint;
// but not a lost ownership of the stream (see stopWithFence).
func (s *exportStream) workContext(ctx context.Context) (context.Context, func()) {
	work, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(s.cfg.DrainTimeout, cancel)
		context.AfterFunc(work, func() { t.Stop() })
	})
	unfence := stopWithFence(ctx, cancel)
	return work, func() { stop(); unfence(); cancel() }
}

// jobFor returns the export to follow: the one in flight from an interrupted run,
// or a new one (Tenable hands back an identical running export on 409).
func (s *exportStream) jobFor(ctx context.Context, cp *Checkpoint, since time.Time) (tenable.ExportJob, []int, error) {
	if e := cp.Export; e != nil && e.UUID != "" && e.Since.Equal(since) {
		s.log.Info("resuming the export of an interrupted run", "stream", s.name, "export_uuid", e.UUID, "chunks_done", len(e.ChunksDone))
		return tenable.ExportJob{Kind: s.kind, UUID: e.UUID, RequestedAt: e.RequestedAt}, e.ChunksDone, nil
	}
	job, err := s.start(ctx, since)
	if err != nil {
		return job, nil, fmt.Errorf("request export: %w", err)
	}
	if job.Adopted && slices.Contains(cp.Abandoned, job.UUID) {
		// Still running: the cancel of an earlier attempt failed or did not take
		// yet. Cancel it again and let the caller wait before the next request.
		s.cancelExport(ctx, job.UUID)
		return job, nil, fmt.Errorf("export %s: %w", job.UUID, errAbandonedAdopted)
	}
	requestedAt := job.RequestedAt
	if requestedAt.IsZero() {
		// An adopted export of unknown age may hold data from before its creation
		// only; not advancing the watermark is the safe choice.
		requestedAt = since
	}
	cp.Export = &InFlight{UUID: job.UUID, Since: since, RequestedAt: requestedAt}
	if err := s.cps.put(ctx, *cp); err != nil {
		return job, nil, err
	}
	s.log.Info("export requested", "stream", s.name, "export_uuid", job.UUID, "adopted", job.Adopted,
		"since", since.Format(time.RFC3339), "requested_at", requestedAt.Format(time.RFC3339))
	return job, nil, nil
}

// follow hands every chunk of the job to the chunk publisher and records each
// acknowledged chunk in the checkpoint.
func (s *exportStream) follow(ctx, work context.Context, job tenable.ExportJob, done []int, cp *Checkpoint) error {
	prog := newProgress(s.log, s.name, job.UUID, len(done))
	defer prog.stop()
	go prog.run(work, s.cfg.ProgressEvery)
	var mu sync.Mutex // guards cp while chunk workers finish concurrently
	opts := tenable.FollowOptions{
		Workers: s.cfg.ChunkWorkers, Done: done, PollInitial: s.cfg.PollInitial, PollMax: s.cfg.PollMax,
		QueueTimeout: s.cfg.QueueTimeout,
		OnStatus: func(st tenable.ExportStatus) {
			prog.setStatus(st)
			telemetry.BeatFrom(ctx).Beat() // waiting on Tenable is progress: each poll is a step
		},
	}
	res, err := s.api.FollowExport(ctx, job, opts, func(_ context.Context, chunk int) error {
		n, err := s.publishChunk(work, job, chunk, prog)
		if err != nil {
			return err
		}
		prog.chunkDone()
		metricChunks.Add(work, 1, streamAttr(s.name))
		mu.Lock()
		defer mu.Unlock()
		cp.Export.ChunksDone = append(cp.Export.ChunksDone, chunk)
		slices.Sort(cp.Export.ChunksDone)
		cp.Export.Records += n
		return s.cps.put(work, *cp)
	})
	prog.finish(res.Status, err)
	return err
}

// publishChunk streams one chunk into Kafka and returns once every record of it
// was acknowledged.
func (s *exportStream) publishChunk(ctx context.Context, job tenable.ExportJob, chunk int, prog *progress) (int, error) {
	group := kafkaio.NewAckGroup()
	headers := []kafkaio.Header{
		{Key: HeaderRecordType, Value: []byte(s.recordType)},
		s.wire.header(),
		{Key: HeaderExportUUID, Value: []byte(job.UUID)},
		{Key: HeaderExportChunk, Value: []byte(strconv.Itoa(chunk))},
		{Key: HeaderConnectorVersion, Value: []byte(s.version)},
	}
	if st := s.derived["state"]; st != "" {
		headers = append(headers, kafkaio.Header{Key: HeaderAssetState, Value: []byte(st)})
	}
	pub := newChunkPublisher(ctx, s.deps, s.name, group, s.topic, headers, s.encoders, s.derived)
	pub.tombstones = s.tombstones
	pub.keep = s.keep
	pub.prog = prog
	if s.newTap != nil {
		pub.tap = s.newTap()
	}
	n, err := s.api.DownloadChunk(ctx, job.Kind, job.UUID, chunk, pub.add)
	if err == nil {
		err = pub.send()
	}
	if err != nil {
		return n, fmt.Errorf("publish chunk %d: %w", chunk, err)
	}
	if err := group.Wait(ctx); err != nil {
		return n, fmt.Errorf("chunk %d: %w", chunk, kafkaFailure(ctx, err))
	}
	if pub.tap != nil {
		if err := ackTap(ctx, pub.tap); err != nil {
			return n, fmt.Errorf("chunk %d: %w", chunk, err)
		}
	}
	return pub.published, nil
}

// complete advances the watermark after a fully acknowledged export.
func (s *exportStream) complete(ctx context.Context, cp *Checkpoint) error {
	e := cp.Export
	next := e.RequestedAt.Add(-s.cfg.Overlap)
	if next.Before(e.Since) {
		next = e.Since // never move backwards: the overlap only widens the next delta
	}
	cp.Watermark = next.UTC()
	cp.Export = nil
	cp.Abandoned = nil // a new delta: no export of the old one can match it
	cp.Runs++
	if err := s.cps.put(ctx, *cp); err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	s.log.Info("watermark advanced", "stream", s.name, "records", e.Records, "chunks", len(e.ChunksDone),
		"watermark", cp.Watermark.Format(time.RFC3339))
	return nil
}

// chunkPublisher turns the records of one chunk (or plugin page) into messages.
type chunkPublisher struct {
	*deps
	ctx        context.Context // the RecordFunc carries none
	stream     string
	group      *kafkaio.AckGroup
	topic      string
	headers    []kafkaio.Header
	encoders   *encoderPool
	derived    map[string]string
	tombstones bool
	keep       func([]byte) bool
	prog       *progress // counts records as they are handed to Kafka
	tap        tap       // sees each record published (closures); nil: none
	batch      []kafkaio.Record
	slab       slab
	published  int
	skipped    int
	deadLetter int
}

func newChunkPublisher(ctx context.Context, d *deps, stream string, g *kafkaio.AckGroup, topic string, headers []kafkaio.Header, enc *encoderPool, derived map[string]string) *chunkPublisher {
	return &chunkPublisher{ctx: ctx, deps: d, stream: stream, group: g, topic: topic, headers: headers, encoders: enc, derived: derived,
		batch: make([]kafkaio.Record, 0, sendBatch)}
}

// add is the RecordFunc for one record.
func (p *chunkPublisher) add(record []byte) error {
	if p.keep != nil && !p.keep(record) {
		p.skipped++
		return nil
	}
	enc := p.encoders.get()
	value, key, err := enc.encodeTo(&p.slab, record, p.derived)
	if err != nil {
		p.encoders.put(enc)
		return p.deadLetterRecord(record, err)
	}
	msg := kafkaio.Record{Topic: p.topic, Key: p.slab.copy(key), Value: value, Headers: p.headers}
	p.batch = append(p.batch, msg)
	if p.tombstones {
		p.batch = append(p.batch, kafkaio.Record{Topic: p.topic, Key: msg.Key, Headers: p.headers})
	}
	if p.tap != nil {
		p.tap.record(p, msg.Key, enc.tc)
	}
	p.encoders.put(enc)
	p.published++
	if len(p.batch) >= sendBatch {
		return p.send()
	}
	return nil
}

// deadLetterRecord publishes a record that could not be encoded, raw, with the
// reason, instead of stopping the stream or dropping it.
func (p *chunkPublisher) deadLetterRecord(record []byte, cause error) error {
	p.deadLetter++
	metricDeadLetters.Add(p.ctx, 1, streamAttr(p.stream))
	p.log.Warn("record could not be encoded; sending it to the dead-letter topic", "topic", p.topics.DeadLetter, "target_topic", p.topic, "error", cause)
	headers := append(slices.Clone(p.headers), kafkaio.Header{Key: HeaderError, Value: []byte(cause.Error())},
		kafkaio.Header{Key: "tvm.target_topic", Value: []byte(p.topic)})
	p.batch = append(p.batch, kafkaio.Record{Topic: p.topics.DeadLetter, Value: p.slab.copy(record), Headers: headers})
	if len(p.batch) >= sendBatch {
		return p.send()
	}
	return nil
}

func (p *chunkPublisher) send() error {
	if len(p.batch) == 0 {
		return nil
	}
	// The writer keeps the messages; hand it this slice and start a new one.
	batch := p.batch
	p.batch = make([]kafkaio.Record, 0, sendBatch)
	if p.prog != nil {
		p.prog.records.Add(int64(len(batch)))
	}
	metricRecords.Add(p.ctx, int64(len(batch)), streamAttr(p.stream))
	telemetry.BeatFrom(p.ctx).Beat()
	return kafkaFailure(p.ctx, p.pub.Send(p.ctx, p.group, batch...))
}
