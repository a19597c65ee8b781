package source

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fastjson"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/tvmkafka/tvmkafka/connector/source/findingindex"
	"github.com/tvmkafka/tvmkafka/connector/tenable"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
	"github.com/tvmkafka/tvmkafka/pipeline/retry"
	"github.com/tvmkafka/tvmkafka/pipeline/state"
	"github.com/tvmkafka/tvmkafka/pipeline/telemetry"
	"github.com/tvmkafka/tvmkafka/schemas"
)

// Asset states, as carried by the asset record's state field and header.
const (
	AssetActive     = "ACTIVE"
	AssetDeleted    = "DELETED"
	AssetTerminated = "TERMINATED"
)

// runnable is one delta export of a stream with its own checkpoint.
type runnable interface {
	Name() string
	Run(ctx context.Context) error
}

// Options are what New needs.
type Options struct {
	Config  Config
	Topics  Topics
	API     Tenable
	Pub     Publisher
	Store   state.Store
	Wires   map[schemas.Name]Wire
	Version string
	Logger  *slog.Logger
	// Brokers are the Kafka brokers Pub writes to, named in errors when Kafka
	// fails a run.
	Brokers []string
	// FindingIndex is the finding index topic, needed when
	// Config.CloseOrphanedFindings is on: New rebuilds the index from it.
	FindingIndex findingindex.Log
	// Now is the local clock (tests); default time.Now. It only dates what the
	// connector reports about itself (the watermark age): watermarks and delta
	// starts come from Tenable's clock.
	Now func() time.Time
}

// Source runs the source streams.
type Source struct {
	deps    *deps
	streams map[string][]runnable
	closer  *closer // nil: closing orphaned findings is off

	mu    sync.Mutex
	owned map[string]bool // streams this process runs now
}

// New loads the checkpoints and prepares every stream.
func New(ctx context.Context, opts Options) (*Source, error) {
	if err := opts.Config.Validate(); err != nil {
		return nil, err
	}
	if err := opts.Topics.validate(); err != nil {
		return nil, err
	}
	for _, st := range Table {
		if w, ok := opts.Wires[st.Schema]; !ok || w.Schema == nil {
			return nil, fmt.Errorf("no wire format for schema %s", st.Schema)
		}
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	cps, err := loadCheckpoints(ctx, opts.Store, opts.Version)
	if err != nil {
		return nil, err
	}
	d := &deps{cfg: opts.Config, topics: opts.Topics, api: opts.API, pub: opts.Pub, cps: cps,
		log: logger, version: opts.Version, now: now, brokers: slices.Clone(opts.Brokers)}
	s := &Source{deps: d, streams: map[string][]runnable{}, owned: map[string]bool{}}
	if opts.Config.CloseOrphanedFindings {
		if opts.FindingIndex == nil {
			return nil, errors.New("TVMKAFKA_SOURCE_CLOSE_ORPHANED_FINDINGS needs the finding index topic")
		}
		idx := findingindex.New(opts.FindingIndex)
		start := time.Now()
		if err := idx.Load(ctx); err != nil {
			return nil, err
		}
		st := idx.Stats()
		logger.Info("finding index rebuilt", "topic", opts.FindingIndex.Topic(), "assets", st.Assets,
			"open_findings", st.OpenFindings, "elapsed", time.Since(start).Round(time.Millisecond))
		s.closer = newCloser(d, idx)
	}
	for _, st := range Table {
		s.streams[st.Name] = s.runnables(st, opts.Wires[st.Schema])
	}
	telemetry.Gauge("tvmkafka.source.watermark_age", "time since each stream's watermark; it grows when runs fail", "s",
		func(_ context.Context, o metric.Float64Observer) error {
			// Only the streams this process runs: another replica's stream is
			// reported by that replica, and what this one read at start ages.
			for _, name := range s.ownedNames() {
				for _, r := range s.streams[name] {
					if cp := d.cps.get(r.Name()); !cp.Watermark.IsZero() {
						o.Observe(d.now().Sub(cp.Watermark).Seconds(), metric.WithAttributes(attribute.String("stream", r.Name())))
					}
				}
			}
			return nil
		})
	return s, nil
}

// Checkpoint returns the current checkpoint of a stream's export (e.g. "vulns",
// "assets.deleted").
func (s *Source) Checkpoint(name string) Checkpoint { return s.deps.cps.get(name) }

// ParseStreams checks a --streams list; empty means all.
func ParseStreams(list []string) ([]string, error) {
	if len(list) == 0 {
		return slices.Clone(StreamNames), nil
	}
	var out []string
	for _, n := range list {
		n = strings.TrimSpace(strings.ToLower(n))
		if n == "" {
			continue
		}
		if !slices.Contains(StreamNames, n) {
			return nil, fmt.Errorf("unknown stream %q (streams: %s)", n, strings.Join(StreamNames, ", "))
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no stream selected")
	}
	return out, nil
}

// RunOnce runs each named stream once, concurrently, and returns every failure.
// It returns nil only when every record was acknowledged and every checkpoint saved.
func (s *Source) RunOnce(ctx context.Context, names []string) error {
	s.own(names, true)
	var wg sync.WaitGroup
	errs := make([]error, len(names))
	for i, name := range names {
		wg.Go(func() { errs[i] = s.runStream(ctx, name) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// runStream runs the exports of one stream in order (the three asset exports
// one after the other, to stay gentle on Tenable's export slots).
func (s *Source) runStream(ctx context.Context, name string) error {
	parts, ok := s.streams[name]
	if !ok {
		return fmt.Errorf("unknown stream %q", name)
	}
	start := time.Now()
	for _, r := range parts {
		if err := r.Run(ctx); err != nil {
			if errors.Is(err, ErrKafka) {
				return fmt.Errorf("%w (Kafka brokers: %s)", err, s.brokerList())
			}
			return err
		}
	}
	s.deps.log.Info("stream run complete", "stream", name, "elapsed", time.Since(start).Round(time.Millisecond))
	return nil
}

func (s *Source) brokerList() string {
	if len(s.deps.brokers) == 0 {
		return "unknown"
	}
	return strings.Join(s.deps.brokers, ",")
}

// Kafka outage retries within a round: the first wait, and the longest.
const (
	kafkaRetryInitial = time.Second
	kafkaRetryMax     = time.Minute
)

// Run runs each named stream on its interval until ctx ends. A failed run is
// logged and retried at the next interval; its watermark has not moved. A run
// that failed because Kafka was unavailable is run again sooner, with backoff,
// for as long as the interval allows: it resumes its export, and an outage of
// minutes does not cost a whole interval.
//
// Run is for a process that owns every stream it is given; replicas that
// share the streams use RunGroup.
func (s *Source) Run(ctx context.Context, names []string, interval func(stream string) time.Duration) error {
	s.own(names, true)
	var wg sync.WaitGroup
	for _, name := range names {
		wg.Go(func() { s.loop(ctx, name, interval, 0) })
	}
	wg.Wait()
	return nil
}

// loop runs a stream after first, then on its interval, until ctx ends.
func (s *Source) loop(ctx context.Context, name string, interval func(stream string) time.Duration, first time.Duration) {
	// The stream's heartbeat: beaten by each run's polls and chunks (through
	// ctx), idle between runs; /healthz fails when it stops.
	beat := telemetry.Heartbeat("source." + name)
	ctx = telemetry.WithBeat(ctx, beat)
	wait := first
	for {
		if wait > 0 {
			s.deps.log.Info("stream runs next", "stream", name,
				"at", time.Now().Add(wait).Format(time.RFC3339), "in", wait.Round(time.Second))
			idle := beat.Idle()
			select {
			case <-ctx.Done():
				idle()
				return
			case <-time.After(wait):
			}
			idle()
		}
		beat.Beat()
		every := interval(name)
		s.round(ctx, name, time.Now().Add(every))
		if ctx.Err() != nil {
			return
		}
		wait = every
	}
}

// round runs a stream once, again after a Kafka failure while the next
// attempt would start before nextRound.
func (s *Source) round(ctx context.Context, name string, nextRound time.Time) {
	backoff := retry.NewSchedule(retry.Policy{Initial: kafkaRetryInitial, Max: kafkaRetryMax})
	for {
		err := s.runStream(ctx, name)
		if err == nil || ctx.Err() != nil {
			return
		}
		if !errors.Is(err, ErrKafka) {
			s.deps.log.Error("stream run failed; retrying at the next interval", "stream", name, "error", err)
			return
		}
		wait := backoff.Next()
		at := time.Now().Add(wait)
		if at.After(nextRound) {
			s.deps.log.Error("stream run failed: Kafka unavailable; retrying at the next interval", "stream", name,
				"brokers", s.brokerList(), "error", err)
			return
		}
		s.deps.log.Warn("stream run failed: Kafka unavailable; running it again", "stream", name,
			"brokers", s.brokerList(), "next_attempt", at.Format(time.RFC3339Nano), "error", err)
		if retry.Wait(ctx, nil, wait) != nil {
			return
		}
	}
}

// runnables builds the exports of one run of a Table stream, in order.
func (s *Source) runnables(st Stream, w Wire) []runnable {
	topic := s.deps.topics.Stream[st.Name]
	if st.Runs == RunPages {
		return []runnable{&pluginStream{deps: s.deps, topic: topic, wire: w, encoders: newEncoderPool(w)}}
	}
	cfg := s.deps.cfg
	out := make([]runnable, 0, len(st.exports))
	for i, e := range st.exports {
		name := st.Checkpoints()[i]
		r := &exportStream{deps: s.deps, name: name, kind: st.Kind, topic: topic, recordType: st.RecordType, wire: w,
			encoders: newEncoderPool(w), derived: e.derived}
		if e.tombstones != nil {
			r.tombstones = e.tombstones(cfg)
		}
		if e.filter != nil {
			r.keep = e.filter(cfg)
		}
		if s.closer != nil && s.closer.newTap(st, e) != nil {
			r.newTap = func() tap { return s.closer.newTap(st, e) }
		}
		start := e.start
		r.start = func(ctx context.Context, since time.Time) (tenable.ExportJob, error) {
			return start(ctx, s.deps.api, cfg, since)
		}
		out = append(out, r)
	}
	return out
}

// sourceFilter returns a keep function that drops assets every source of which
// is excluded (assets that exist in Tenable only because tvmkafka imported them).
func sourceFilter(excluded []string) func([]byte) bool {
	if len(excluded) == 0 {
		return nil
	}
	var pool fastjson.ParserPool
	return func(record []byte) bool {
		p := pool.Get()
		defer pool.Put(p)
		v, err := p.ParseBytes(record)
		if err != nil {
			return true // let the encoder report it
		}
		sources := v.GetArray("sources")
		if len(sources) == 0 {
			return true
		}
		for _, src := range sources {
			if !slices.Contains(excluded, string(src.GetStringBytes("name"))) {
				return true
			}
		}
		return false
	}
}

// pluginStream pages through the plugin list updated since its watermark.
type pluginStream struct {
	*deps
	topic    string
	wire     Wire
	encoders *encoderPool
}

func (s *pluginStream) Name() string { return StreamPlugins }

// Run publishes every plugin updated since the watermark, page by page; each
// fully acknowledged page is checkpointed, so an interrupted run resumes after it.
func (s *pluginStream) Run(ctx context.Context) (err error) {
	ctx, end := telemetry.Track(ctx, "tvmkafka.export", metricExportTime, attribute.String("stream", StreamPlugins))
	defer func() { end(err) }()
	cp := s.cps.get(StreamPlugins)
	since := cp.Watermark
	if since.IsZero() {
		var err error
		if since, err = s.initialSince(ctx); err != nil {
			return fmt.Errorf("plugins: %w", err)
		}
	}
	if cp.Export == nil || !cp.Export.Since.Equal(since) {
		// RequestedAt stays unknown until Tenable answers the first page.
		cp.Export = &InFlight{Since: since}
		if err := s.cps.put(ctx, cp); err != nil {
			return fmt.Errorf("plugins: %w", err)
		}
	}
	// last_updated has day granularity and means "after that day"; ask from the
	// day before the watermark so no plugin updated on the watermark day is missed.
	var lastUpdated time.Time
	if since.After(time.Unix(1, 0)) {
		lastUpdated = since.Add(-24 * time.Hour)
	}
	prog := newProgress(s.log, StreamPlugins, "", 0)
	prog.unit = "pages"
	defer prog.stop()
	go prog.run(ctx, s.cfg.ProgressEvery)
	page := cp.Export.PagesDone + 1
	group := kafkaio.NewAckGroup()
	headers := func(page int) []kafkaio.Header {
		return []kafkaio.Header{
			{Key: HeaderRecordType, Value: []byte("plugin")}, s.wire.header(),
			{Key: HeaderPluginsPage, Value: []byte(strconv.Itoa(page))},
			{Key: HeaderConnectorVersion, Value: []byte(s.version)},
		}
	}
	pub := newChunkPublisher(ctx, s.deps, StreamPlugins, group, s.topic, headers(page), s.encoders, nil)
	pub.prog = prog
	_, err = s.api.ListPlugins(ctx, tenable.PluginListOptions{
		LastUpdated: lastUpdated, Size: s.cfg.PluginsPageSize, Page: page,
		OnPage: func(p tenable.PluginPage) error {
			telemetry.BeatFrom(ctx).Beat()
			if err := pub.send(); err != nil {
				return err
			}
			if err := group.Wait(ctx); err != nil {
				return fmt.Errorf("plugins page %d: %w", p.Page, kafkaFailure(ctx, err))
			}
			prog.chunkDone()
			metricChunks.Add(ctx, 1, streamAttr(StreamPlugins))
			// The paging starts at Tenable's clock when it answered page 1, whether
			// page 1 came in this run or in the one that was interrupted after it.
			// A paging resumed before any page was done takes this run's page 1:
			// what an earlier version recorded then is the local clock, which may
			// run far ahead of Tenable's. No paging starts after Tenable's now.
			if !p.ServerTime.IsZero() && (cp.Export.PagesDone == 0 || cp.Export.RequestedAt.IsZero() || cp.Export.RequestedAt.After(p.ServerTime)) {
				cp.Export.RequestedAt = p.ServerTime.UTC()
			}
			cp.Export.PagesDone = p.Page
			cp.Export.Records += pub.published
			if err := s.cps.put(ctx, cp); err != nil {
				return err
			}
			group = kafkaio.NewAckGroup()
			pub = newChunkPublisher(ctx, s.deps, StreamPlugins, group, s.topic, headers(p.Page+1), s.encoders, nil)
			pub.prog = prog
			return nil
		},
	}, func(rec []byte) error { return pub.add(rec) })
	if err != nil {
		prog.finish(tenable.ExportStatus{}, err)
		return fmt.Errorf("plugins: %w", err)
	}
	prog.finish(tenable.ExportStatus{Status: tenable.StateFinished}, nil)
	e := cp.Export
	next := e.RequestedAt.Add(-s.cfg.Overlap)
	if e.RequestedAt.IsZero() || next.Before(e.Since) {
		next = e.Since // Tenable's clock unknown: stay, the next run repeats the delta
	}
	cp.Watermark, cp.Export = next, nil
	cp.Runs++
	if err := s.cps.put(ctx, cp); err != nil {
		return fmt.Errorf("plugins: %w", err)
	}
	s.log.Info("watermark advanced", "stream", StreamPlugins, "records", e.Records, "pages", e.PagesDone, "watermark", next.Format(time.RFC3339))
	return nil
}
