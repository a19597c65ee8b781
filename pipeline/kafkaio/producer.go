package kafkaio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/compress"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"golang.org/x/sync/semaphore"

	"github.com/tvmkafka/tvmkafka/pipeline/settings"
	"github.com/tvmkafka/tvmkafka/pipeline/telemetry"
)

var (
	metricProduced = telemetry.Counter("tvmkafka.kafka.messages", "messages whose produce request ended, by topic and outcome (acked or failed)", "{message}")
	metricBytes    = telemetry.Counter("tvmkafka.kafka.acked_bytes", "bytes of messages Kafka acknowledged", "By")
)

// ProducerConfig tunes the producer. The tags declare each setting's
// environment variable (relative to its prefix, TVMKAFKA_KAFKA_ in the binary),
// default and description; DefaultProducerConfig returns those defaults, and
// NewProducer refuses a zero where none makes sense instead of replacing it.
type ProducerConfig struct {
	// Connection is embedded so its variables sit beside the producer's
	// (TVMKAFKA_KAFKA_BROKERS next to TVMKAFKA_KAFKA_BATCH_SIZE).
	Connection
	Compression string `envconfig:"COMPRESSION" default:"lz4" desc:"none, gzip, snappy, lz4 or zstd"`
	BatchSize   int    `envconfig:"BATCH_SIZE" default:"1000" desc:"most messages per partition batch"`
	// BatchBytes defaults to Kafka's default message.max.bytes.
	BatchBytes int64 `envconfig:"BATCH_BYTES" default:"1048576" desc:"most bytes per partition batch"`
	// BatchTimeout defaults well below kafka-go's 1s, which would hold every
	// chunk's tail back for a second.
	BatchTimeout time.Duration `envconfig:"BATCH_TIMEOUT" default:"20ms" desc:"flush a partial batch after this long"`
	// MaxInFlightBytes bounds the bytes handed to Kafka but not yet acknowledged;
	// Send blocks beyond it, so a fast export cannot exhaust memory. The
	// garbage collector lets the heap grow to about twice what is live, so
	// this bound counts about double in the peak memory while Kafka is the
	// slower side (32 MiB gave 123 MB on a long export into a busy broker).
	// 16 MiB, some four thousand findings or a few batches per partition,
	// still covers a round trip of 100 ms at more than the connector writes.
	MaxInFlightBytes int64 `envconfig:"MAX_IN_FLIGHT_BYTES" default:"16777216" desc:"bytes sent but not yet acknowledged before publishing waits"`
	// MaxAttempts is how often kafka-go tries a batch before failing it.
	MaxAttempts int `envconfig:"MAX_ATTEMPTS" default:"10" desc:"tries of a produce request before its records fail"`
	// WriteTimeout bounds one produce request.
	WriteTimeout time.Duration `envconfig:"WRITE_TIMEOUT" default:"30s" desc:"timeout of one produce request"`
	// Logger receives writer warnings; default slog.Default().
	Logger *slog.Logger `ignored:"true"`
}

// DefaultProducerConfig returns the defaults the tags declare.
func DefaultProducerConfig() ProducerConfig {
	var c ProducerConfig
	if err := settings.Defaults(&c); err != nil {
		panic(err) // the tags are constants; a test covers them
	}
	return c
}

// ParseCompression maps a codec name to kafka-go's codec.
func ParseCompression(name string) (kafka.Compression, error) {
	switch strings.ToLower(name) {
	case "", "none":
		return 0, nil
	case "gzip":
		return kafka.Compression(compress.Gzip), nil
	case "snappy":
		return kafka.Compression(compress.Snappy), nil
	case "lz4":
		return kafka.Compression(compress.Lz4), nil
	case "zstd":
		return kafka.Compression(compress.Zstd), nil
	}
	return 0, fmt.Errorf("compression %q is not none, gzip, snappy, lz4 or zstd", name)
}

// Validate reports every problem with the producer settings. Zero is
// meaningless for every producer setting (kafka-go would read it as its own
// default), so it is refused.
func (c ProducerConfig) Validate() error {
	var errs []error
	if err := c.Connection.Validate(); err != nil {
		errs = append(errs, err)
	}
	if _, err := ParseCompression(c.Compression); err != nil {
		errs = append(errs, settings.Invalid("COMPRESSION", "%q is not none, gzip, snappy, lz4 or zstd", c.Compression))
	}
	positive := func(key string, v int64, show any) {
		if v <= 0 {
			errs = append(errs, settings.Invalid(key, "must be positive, got %v", show))
		}
	}
	positive("BATCH_SIZE", int64(c.BatchSize), c.BatchSize)
	positive("BATCH_BYTES", c.BatchBytes, c.BatchBytes)
	positive("BATCH_TIMEOUT", int64(c.BatchTimeout), c.BatchTimeout)
	positive("MAX_ATTEMPTS", int64(c.MaxAttempts), c.MaxAttempts)
	positive("WRITE_TIMEOUT", int64(c.WriteTimeout), c.WriteTimeout)
	if c.MaxInFlightBytes < c.BatchBytes {
		errs = append(errs, settings.Invalid("MAX_IN_FLIGHT_BYTES", "must be at least one batch (BATCH_BYTES %d), got %d", c.BatchBytes, c.MaxInFlightBytes))
	}
	return errors.Join(errs...)
}

// Producer writes messages with acks=all and reports, per AckGroup, when every
// message of the group has been acknowledged by the brokers or has failed.
// Delivery is at least once: a message may be written twice when a request is
// retried after the broker stored it but the answer was lost, so every message
// carries a stable key consumers can deduplicate on.
type Producer struct {
	w        *kafka.Writer
	inflight *semaphore.Weighted
	maxBytes int64
	log      *slog.Logger
	closed   atomic.Bool

	stats struct {
		acked, failed atomic.Int64
		ackedBytes    atomic.Int64
	}
}

// NewProducer starts a producer. Messages name their topic.
func NewProducer(cfg ProducerConfig) (*Producer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("kafka producer config: %w", err)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	transport, err := cfg.Connection.transport()
	if err != nil {
		return nil, err
	}
	codec, _ := ParseCompression(cfg.Compression)
	p := &Producer{inflight: semaphore.NewWeighted(cfg.MaxInFlightBytes), maxBytes: cfg.MaxInFlightBytes, log: cfg.Logger}
	p.w = &kafka.Writer{
		Addr: kafka.TCP(cfg.Connection.Brokers...),
		// Java-client compatible partitioning, so other producers of the same keys
		// agree on the partition.
		Balancer:     &kafka.Murmur2Balancer{Consistent: true},
		RequiredAcks: kafka.RequireAll,
		// Async with a completion callback: WriteMessages only enqueues, and every
		// message's outcome arrives in complete, where it is counted against its group.
		Async:        true,
		Completion:   p.complete,
		MaxAttempts:  cfg.MaxAttempts,
		BatchSize:    cfg.BatchSize,
		BatchBytes:   cfg.BatchBytes,
		BatchTimeout: cfg.BatchTimeout,
		WriteTimeout: cfg.WriteTimeout,
		Compression:  codec,
		Transport:    transport,
		ErrorLogger:  kafka.LoggerFunc(func(msg string, args ...any) { cfg.Logger.Warn("kafka writer: " + fmt.Sprintf(msg, args...)) }),
	}
	return p, nil
}

// pending travels with each message through the writer.
type pending struct {
	group *AckGroup
	size  int64
}

// Send enqueues records for their topics. It blocks while the bytes in flight
// exceed the configured bound, and returns an error only when the records could
// not be enqueued at all; delivery failures are reported by the group's Wait.
// Records of one partition are written in the order sent. Send copies the
// records it is given, but not the byte slices they point to: those must stay
// unchanged until the group's Wait returned.
func (p *Producer) Send(ctx context.Context, g *AckGroup, recs ...Record) error {
	if p.closed.Load() {
		return errors.New("kafka producer is closed")
	}
	scratch := messagePool.Get().(*[]kafka.Message)
	msgs := (*scratch)[:0]
	defer func() {
		clear(msgs) // drop references to the records' bytes
		*scratch = msgs[:0]
		messagePool.Put(scratch)
	}()
	for i := range recs {
		msgs = append(msgs, toMessage(&recs[i]))
		size := messageSize(msgs[i])
		if size > p.maxBytes {
			size = p.maxBytes // a single huge message still goes through, alone
		}
		if err := p.inflight.Acquire(ctx, size); err != nil {
			p.abandon(msgs[:i])
			return fmt.Errorf("wait for Kafka to acknowledge earlier messages: %w", err)
		}
		g.add()
		msgs[i].WriterData = &pending{group: g, size: size}
	}
	// With Async, the writer copies each message into its batches before it
	// returns, so the scratch slice can be reused.
	if err := p.w.WriteMessages(ctx, msgs...); err != nil {
		p.abandon(msgs)
		return fmt.Errorf("enqueue %d messages: %w", len(msgs), err)
	}
	return nil
}

// messagePool holds the scratch slices Send converts records into.
var messagePool = sync.Pool{New: func() any { s := make([]kafka.Message, 0, 256); return &s }}

// abandon settles messages that never reached the writer.
func (p *Producer) abandon(msgs []kafka.Message) {
	for _, m := range msgs {
		if pd, ok := m.WriterData.(*pending); ok {
			p.inflight.Release(pd.size)
			pd.group.done(errors.New("message not enqueued"))
		}
	}
}

func (p *Producer) complete(msgs []kafka.Message, err error) {
	if len(msgs) == 0 {
		return
	}
	var bytes int64
	for _, m := range msgs {
		if pd, ok := m.WriterData.(*pending); ok {
			bytes += pd.size
		}
	}
	// Count first and settle the groups after, so a caller whose Wait returned
	// sees these messages in Stats.
	outcome := "acked"
	if err != nil {
		outcome = "failed"
		p.stats.failed.Add(int64(len(msgs)))
		p.log.Warn("kafka produce failed", "topic", msgs[0].Topic, "messages", len(msgs), "error", err)
	} else {
		p.stats.acked.Add(int64(len(msgs)))
		p.stats.ackedBytes.Add(bytes)
		metricBytes.Add(context.Background(), bytes)
	}
	metricProduced.Add(context.Background(), int64(len(msgs)), metric.WithAttributes(
		attribute.String("topic", msgs[0].Topic), attribute.String("outcome", outcome)))
	for _, m := range msgs {
		pd, ok := m.WriterData.(*pending)
		if !ok {
			continue
		}
		p.inflight.Release(pd.size)
		if err != nil {
			pd.group.done(fmt.Errorf("produce to %s: %w", m.Topic, err))
		} else {
			pd.group.done(nil)
		}
	}
}

func messageSize(m kafka.Message) int64 {
	n := len(m.Key) + len(m.Value) + 64 // plus record overhead
	for _, h := range m.Headers {
		n += len(h.Key) + len(h.Value)
	}
	return int64(n)
}

// ProducerStats are running totals.
type ProducerStats struct {
	Acked, Failed, AckedBytes int64
}

// Stats returns running totals of acknowledged and failed messages.
func (p *Producer) Stats() ProducerStats {
	return ProducerStats{Acked: p.stats.acked.Load(), Failed: p.stats.failed.Load(), AckedBytes: p.stats.ackedBytes.Load()}
}

// Close flushes what is buffered, waits for every outcome, and releases the
// connections. Sends after Close fail.
func (p *Producer) Close() error {
	if p.closed.Swap(true) {
		return nil
	}
	if err := p.w.Close(); err != nil {
		return fmt.Errorf("close kafka producer: %w", err)
	}
	return nil
}

// AckGroup collects the outcomes of the messages sent with it: one Tenable chunk,
// one state update. Wait returns once every message was acknowledged (nil) or
// once they all settled with at least one failure (the first error).
type AckGroup struct {
	mu       sync.Mutex
	pending  int
	sealed   bool
	err      error
	finished chan struct{}
}

// NewAckGroup returns an empty group.
func NewAckGroup() *AckGroup { return &AckGroup{finished: make(chan struct{})} }

func (g *AckGroup) add() {
	g.mu.Lock()
	g.pending++
	g.mu.Unlock()
}

func (g *AckGroup) done(err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pending--
	if err != nil && g.err == nil {
		g.err = err
	}
	g.maybeFinish()
}

func (g *AckGroup) maybeFinish() {
	if g.sealed && g.pending == 0 {
		select {
		case <-g.finished:
		default:
			close(g.finished)
		}
	}
}

// Wait seals the group (no more Sends may use it) and waits for every outcome.
func (g *AckGroup) Wait(ctx context.Context) error {
	g.mu.Lock()
	g.sealed = true
	g.maybeFinish()
	g.mu.Unlock()
	select {
	case <-g.finished:
		g.mu.Lock()
		defer g.mu.Unlock()
		return g.err
	case <-ctx.Done():
		return fmt.Errorf("wait for Kafka acknowledgements: %w", ctx.Err())
	}
}

// Err returns the first failure seen so far, without waiting.
func (g *AckGroup) Err() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.err
}
