package source_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/tvmkafka/tvmkafka/connector/source"
	"github.com/tvmkafka/tvmkafka/connector/source/findingindex"
	"github.com/tvmkafka/tvmkafka/connector/tenable"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
	"github.com/tvmkafka/tvmkafka/pipeline/state"
)

// runSetup varies how a source is built on the harness.
type runSetup struct {
	api source.Tenable // nil: the harness client
	// now is the connector's local clock; nil: time.Now.
	now func() time.Time
	// producerAttempts bounds kafka-go's attempts per batch (0: default), so a
	// broker outage fails a run quickly.
	producerAttempts int
}

// newSource builds a source on the harness as `tvmkafka source` would, with
// its own producers; close releases them.
func (h *harness) newSource(ctx context.Context, rs runSetup) (src *source.Source, close func()) {
	h.t.Helper()
	conn := kafkaio.Connection{Brokers: h.brokers}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	pcfg := kafkaio.DefaultProducerConfig()
	pcfg.Connection, pcfg.Logger = conn, quiet
	if rs.producerAttempts > 0 {
		pcfg.MaxAttempts = rs.producerAttempts
	}
	pub, err := kafkaio.NewProducer(pcfg)
	if err != nil {
		h.t.Fatal(err)
	}
	pcfg.BatchTimeout = time.Millisecond
	stateW, err := kafkaio.NewProducer(pcfg)
	if err != nil {
		h.t.Fatal(err)
	}
	api := rs.api
	if api == nil {
		api = h.client
	}
	src, err = source.New(ctx, source.Options{
		Config: h.cfg, Topics: h.topics.source(), API: api, Pub: pub, Store: state.NewKafkaStore(conn, h.state, stateW),
		Wires: h.wireFormats(), Version: "it", Logger: h.logger(), Brokers: h.brokers, Now: rs.now,
		FindingIndex: findingindex.NewKafkaLog(conn, h.index, stateW),
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return src, func() { _ = pub.Close(); _ = stateW.Close() }
}

// runWith runs the source once with the given setup.
func (h *harness) runWith(ctx context.Context, rs runSetup, streams ...string) error {
	h.t.Helper()
	src, closeSrc := h.newSource(ctx, rs)
	defer closeSrc()
	return src.RunOnce(ctx, streams)
}

// errInjected is the failure the wrapped Tenable API below injects.
var errInjected = errors.New("injected failure")

// faultyAPI passes calls to the real client and fails some of them.
type faultyAPI struct {
	source.Tenable
	mu sync.Mutex
	// listPluginsFails fails ListPlugins before any page.
	listPluginsFails bool
	// pagesBeforeFailure, when > 0, fails the listing after that many pages
	// were handed over and acknowledged.
	pagesBeforeFailure int
	// chunksBeforeFailure, when > 0, fails chunk downloads after that many succeeded.
	chunksBeforeFailure int
	chunks              int
}

func (f *faultyAPI) ListPlugins(ctx context.Context, opts tenable.PluginListOptions, fn tenable.RecordFunc) (int, error) {
	if f.listPluginsFails {
		return 0, errInjected
	}
	if f.pagesBeforeFailure > 0 {
		inner := opts.OnPage
		pages := 0
		opts.OnPage = func(p tenable.PluginPage) error {
			if err := inner(p); err != nil {
				return err
			}
			if pages++; pages >= f.pagesBeforeFailure {
				return errInjected
			}
			return nil
		}
	}
	return f.Tenable.ListPlugins(ctx, opts, fn)
}

func (f *faultyAPI) DownloadChunk(ctx context.Context, kind tenable.ExportKind, uuid string, chunk int, fn tenable.RecordFunc) (int, error) {
	if f.chunksBeforeFailure > 0 {
		f.mu.Lock()
		f.chunks++
		fail := f.chunks > f.chunksBeforeFailure
		f.mu.Unlock()
		if fail {
			return 0, errInjected
		}
	}
	return f.Tenable.DownloadChunk(ctx, kind, uuid, chunk, fn)
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
