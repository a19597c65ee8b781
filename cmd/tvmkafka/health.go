package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/tvmkafka/tvmkafka/connector/sink"
	"github.com/tvmkafka/tvmkafka/connector/tenable"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
	"github.com/tvmkafka/tvmkafka/pipeline/telemetry"
)

// Heartbeat names of the loops /healthz watches. The source streams beat as
// "source.<stream>" (connector/source registers them).
const beatSink = "sink"

// tenableAnswers keeps the last answer Tenable VM gave this process, as the
// readiness input "tenable": the client's own traffic is the probe, so
// readiness costs Tenable no request (its rate limits count per key).
type tenableAnswers struct {
	mu   sync.Mutex
	last error // nil: the last request was answered (or none was sent yet)
}

// wrap is the tenable.Config.WrapTransport hook.
func (t *tenableAnswers) wrap(next http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := next.RoundTrip(req)
		t.record(resp, err, req.Context())
		return resp, err
	})
}

func (t *tenableAnswers) record(resp *http.Response, err error, ctx context.Context) {
	var problem error
	switch {
	case err != nil && ctx.Err() != nil:
		return // our own cancellation (shutdown, a stall timeout) says nothing about Tenable
	case err != nil:
		problem = fmt.Errorf("unreachable: %w", err)
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		problem = fmt.Errorf("refuses the API keys (HTTP %d): check TVMKAFKA_TENABLE_ACCESS_KEY, TVMKAFKA_TENABLE_SECRET_KEY and the user's role", resp.StatusCode)
	case resp.StatusCode >= 500:
		problem = fmt.Errorf("failing: last answer HTTP %d", resp.StatusCode)
	}
	t.mu.Lock()
	t.last = problem
	t.mu.Unlock()
}

// check is the readiness input: the last answer was not a failure.
func (t *tenableAnswers) check() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.last
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// holdsGroupMembership is the readiness input of replica coordination: a
// replica is ready only while it holds its place in the coordination group
// (a live generation), whether or not that generation gave it any stream.
// Without the group (source --once, or TVMKAFKA_RUN_COORDINATE=false), m is
// nil and the input holds.
func holdsGroupMembership(m *kafkaio.Membership) error {
	if m == nil {
		return nil
	}
	if m.Live() == nil {
		return errors.New("not a member of the coordination group now: joining, rebalancing, or Kafka unreachable")
	}
	return nil
}

// watchHealth adds the readiness inputs of the roles to the HTTP endpoint:
// Kafka answering metadata requests, Tenable's last answer, group membership,
// and (with the sink) the consumer lag gauge, refreshed by the same probe.
func (a *app) watchHealth(answers *tenableAnswers, r roles) {
	if a.http == nil {
		return
	}
	conn := a.cfg.Kafka.Connection
	lag := &sinkLagNow
	a.http.AddProbe("kafka", func(ctx context.Context) error {
		if err := kafkaio.Ping(ctx, conn); err != nil {
			return err
		}
		if r.sink {
			// The lag is a metric, not a readiness input: a failure leaves the
			// last value and is not Kafka being unreachable.
			if l, err := kafkaio.ConsumerLag(ctx, conn, a.cfg.Sink.GroupID, a.cfg.Topic.Inbound); err == nil {
				lag.set(l)
			}
		}
		return nil
	})
	a.http.Health().AddCheck("tenable", answers.check)
	a.http.Health().AddCheck("group membership", func() error { return holdsGroupMembership(a.member.Load()) })
}

// The gauges of this file are created at init, like every other instrument,
// so the instrument list is complete before anything runs; they read
// process-wide state the commands fill.
var (
	sinkLagNow sinkLag
)

func init() {
	telemetry.Gauge("tvmkafka.sink.lag", "records of the inbound topic the sink's group has not committed yet, by partition", "{record}", sinkLagNow.observe)
}

// sinkLag is the last consumer lag the probe read.
type sinkLag struct {
	mu  sync.Mutex
	lag map[int]int64
}

func (l *sinkLag) set(m map[int]int64) {
	l.mu.Lock()
	l.lag = m
	l.mu.Unlock()
}

func (l *sinkLag) observe(_ context.Context, o metric.Float64Observer) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for p, n := range l.lag {
		o.Observe(float64(n), metric.WithAttributes(attribute.String("partition", strconv.Itoa(p))))
	}
	return nil
}

// beatingConsumer beats the sink's heartbeat at each fetch and commit. A fetch
// waits for records as long as the topic is quiet, so it counts as idle: the
// sink is stalled only when nothing fetches, commits or imports (a worker
// stuck, the fetch loop blocked behind it).
type beatingConsumer struct {
	sink.Consumer
	beat *telemetry.Beat
}

func (c beatingConsumer) Fetch(ctx context.Context) (kafkaio.Record, error) {
	done := c.beat.Idle()
	defer done()
	return c.Consumer.Fetch(ctx)
}

func (c beatingConsumer) Commit(ctx context.Context, next map[int]int64) error {
	c.beat.Beat()
	return c.Consumer.Commit(ctx, next)
}

// beatingImporter beats the sink's heartbeat at each import request and job
// poll, so a sink retrying through a Tenable outage is alive (and not ready).
type beatingImporter struct {
	sink.Importer
	beat *telemetry.Beat
}

func (i beatingImporter) ImportAssetsBody(ctx context.Context, body []byte) (job string, err error) {
	i.beat.Beat()
	defer i.beat.Beat()
	ctx, end := telemetry.Track(ctx, "tvmkafka.import.request", metricImportRequest)
	trace.SpanFromContext(ctx).SetAttributes(attribute.Int("tvmkafka.import.bytes", len(body)))
	defer func() { end(err) }()
	job, err = i.Importer.ImportAssetsBody(ctx, body)
	if err == nil {
		importStarted.Store(job, time.Now())
	}
	return job, err
}

func (i beatingImporter) ImportJob(ctx context.Context, uuid string) (tenable.ImportJob, error) {
	i.beat.Beat()
	defer i.beat.Beat()
	job, err := i.Importer.ImportJob(ctx, uuid)
	if err == nil && (job.Status == tenable.ImportComplete || job.Status == tenable.ImportError) {
		if start, ok := importStarted.LoadAndDelete(uuid); ok {
			metricImportJob.Record(ctx, time.Since(start.(time.Time)).Seconds(),
				metric.WithAttributes(attribute.String("status", string(job.Status))))
		}
	}
	return job, err
}
