package sink_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tvmkafka/tvmkafka/connector/sink"
	"github.com/tvmkafka/tvmkafka/connector/tenable"
	"github.com/tvmkafka/tvmkafka/connector/tenablesim"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkatest"
	"github.com/tvmkafka/tvmkafka/pipeline/retry"
)

// newSinkHarnessOn is newSinkHarness on a broker of the test's own, whose
// topics inbound and dlq already exist.
func newSinkHarnessOn(t testing.TB, brokers []string, inbound, dlq string, adjust ...func(*tenablesim.Config)) *sinkHarness {
	t.Helper()
	simCfg := tenablesim.Config{Assets: 50, Seed: 31, AccessKey: "AK", SecretKey: "SK",
		QueueLatency: time.Millisecond, ChunkLatency: time.Millisecond, ImportLatency: 20 * time.Millisecond}
	for _, f := range adjust {
		f(&simCfg)
	}
	sim, err := tenablesim.New(simCfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	tc := tenable.DefaultConfig()
	tc.BaseURL, tc.AccessKey, tc.SecretKey, tc.Build, tc.Logger = srv.URL, "AK", "SK", "it", quietLog()
	tc.RetryInitial, tc.RetryMax, tc.MaxRetries = 20*time.Millisecond, 200*time.Millisecond, 3
	client, err := tenable.New(tc)
	if err != nil {
		t.Fatal(err)
	}
	cfg := sink.DefaultConfig()
	cfg.Linger = 200 * time.Millisecond
	cfg.JobPoll = 20 * time.Millisecond
	cfg.CommitEvery = 100 * time.Millisecond
	return &sinkHarness{t: t, sim: sim, simURL: srv.URL, client: client, brokers: brokers, inbound: inbound, dlq: dlq,
		group: kafkatest.UniqueName("sink"), cfg: cfg, importer: client, drain: 10 * time.Second}
}

// failCounter is a consumer that counts the errors its Fetch returned.
type failCounter struct {
	sink.Consumer
	failures atomic.Int64
}

func (c *failCounter) Fetch(ctx context.Context) (kafkaio.Record, error) {
	rec, err := c.Consumer.Fetch(ctx)
	if err != nil && ctx.Err() == nil {
		c.failures.Add(1)
	}
	return rec, err
}

// startSink runs the sink as `tvmkafka sink` without --once does: until ctx
// ends. done receives Run's error; consumer counts the fetch errors.
func (h *sinkHarness) startSink(ctx context.Context) (s *sink.Sink, consumer *failCounter, done <-chan error) {
	h.t.Helper()
	conn := kafkaio.Connection{Brokers: h.brokers}
	reader, err := kafkaio.NewGroupReader(kafkaio.GroupReaderConfig{Connection: conn, GroupID: h.group, Topic: h.inbound,
		Earliest: h.cfg.StartOffset == "earliest", SessionTimeout: h.cfg.SessionTimeout})
	if err != nil {
		h.t.Fatal(err)
	}
	pcfg := kafkaio.DefaultProducerConfig()
	pcfg.Connection, pcfg.BatchTimeout, pcfg.Logger = conn, time.Millisecond, quietLog()
	dlqW, err := kafkaio.NewProducer(pcfg)
	if err != nil {
		h.t.Fatal(err)
	}
	consumer = &failCounter{Consumer: reader}
	s, err = sink.New(sink.Options{Config: h.cfg, Topic: h.inbound, DeadLetterTopic: h.dlq, Consumer: consumer,
		Importer: h.importer, Decoder: sink.NewDecoder(nil), DeadLetters: dlqW, Logger: quietLog(), DrainTimeout: h.drain,
		ValueAt: func(ctx context.Context, topic string, partition int, offset int64) ([]byte, error) {
			return kafkaio.ValueAt(ctx, conn, topic, partition, offset)
		}})
	if err != nil {
		h.t.Fatal(err)
	}
	ch := make(chan error, 1)
	go func() {
		err := s.Run(ctx, nil)
		_ = reader.Close()
		_ = dlqW.Close()
		ch <- err
	}()
	return s, consumer, ch
}

// restartValues are inbound records from..to: JSON assets, and every 25th an
// invalid record (no identifier) for the dead-letter topic.
func restartValues(from, to int, invalid map[string]bool) [][]byte {
	var values [][]byte
	for i := from; i < to; i++ {
		if i%25 == 7 {
			v := fmt.Sprintf(`{"hostname":["no-identifier-%d"]}`, i)
			invalid[v] = true
			values = append(values, []byte(v))
			continue
		}
		values = append(values, jsonAsset(i, ""))
	}
	return values
}

// TestSinkRidesOutABrokerRestart stops the broker under a running sink while
// its imports are in flight and starts it again seconds later: the sink keeps
// running, imports every valid asset (those read before, during and after the
// outage), dead-letters the invalid records, never commits an offset ahead of
// an import, and commits to the end of the topic. It runs on the in-process
// broker and, with KAFKA_BROKERS set, on an Apache Kafka broker of its own.
func TestSinkRidesOutABrokerRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: simulator and a restartable Kafka broker")
	}
	for _, tc := range []struct {
		name   string
		broker func(testing.TB, ...string) *kafkatest.RestartableBroker
	}{
		{"in-process", kafkatest.NewRestartableBroker},
		{"apache-kafka", kafkatest.NewRestartableKafka},
	} {
		t.Run(tc.name, func(t *testing.T) { testSinkBrokerRestart(t, tc.broker) })
	}
}

func testSinkBrokerRestart(t *testing.T, newBroker func(testing.TB, ...string) *kafkatest.RestartableBroker) {
	const (
		partitions = kafkatest.RestartablePartitions
		before     = 300             // records produced before the outage
		after      = 150             // and after it
		outage     = 3 * time.Second // at least
	)
	began := time.Now()
	broker := newBroker(t, "inbound", "inbound-dlq")
	brokerUp := time.Since(began)
	// Slow import jobs and small requests: at the stop some jobs are complete
	// and committed, some accepted and running, some batches not sent yet.
	h := newSinkHarnessOn(t, broker.Brokers(), "inbound", "inbound-dlq", func(c *tenablesim.Config) { c.ImportLatency = 500 * time.Millisecond })
	h.cfg.MaxRecords, h.cfg.PendingBatches = 10, 2
	// kafka-go leaves the group when it cannot reach the coordinator and joins
	// again as a new member once the broker is back: the broker, which kept
	// the old member, waits for its session to expire before it assigns the
	// partitions, so the sink resumes a session timeout after the restart.
	// The shortest the broker allows keeps the test short.
	h.cfg.SessionTimeout = 6 * time.Second
	invalid := map[string]bool{}
	h.produce(restartValues(0, before, invalid)...)
	valid := before - len(invalid)
	fqdnOf := func(v []byte) string {
		if invalid[string(v)] {
			return ""
		}
		s := string(v)
		return s[strings.Index(s, "host-") : strings.Index(s, ".test")+5]
	}
	idx := h.indexTopic(fqdnOf)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	s, consumer, done := h.startSink(runCtx)
	exited := func() (error, bool) {
		select {
		case err := <-done:
			return err, true
		default:
			return nil, false
		}
	}

	// Watch, while the broker is up, that no offset is committed ahead of its
	// import; while it is down the offsets cannot be read, and nothing is
	// committed either.
	var (
		watchMu    sync.Mutex
		watchIdx   = idx
		violations []string
		checks     int
	)
	stopWatch := make(chan struct{})
	var watch sync.WaitGroup
	watch.Add(1)
	go func() {
		defer watch.Done()
		for {
			select {
			case <-stopWatch:
				return
			case <-time.After(50 * time.Millisecond):
			}
			watchMu.Lock()
			cur := watchIdx
			watchMu.Unlock()
			v, err := h.committedAheadOfImports(cur, partitions)
			watchMu.Lock()
			if err == nil {
				checks++
				violations = append(violations, v...)
			}
			watchMu.Unlock()
		}
	}()
	defer func() { close(stopWatch); watch.Wait() }()

	kafkatest.WaitFor(t, time.Minute, func() error {
		if err, ok := exited(); ok {
			t.Fatalf("the sink stopped before the outage: %v", err)
		}
		var sum int64
		for _, c := range h.committed(partitions) {
			sum += max(c, 0)
		}
		if st := s.Stats(); sum == 0 || st.Imported == 0 {
			return fmt.Errorf("nothing imported and committed yet (stats %+v)", st)
		}
		return nil
	})
	atStop := s.Stats()
	if atStop.Imported >= valid {
		t.Fatalf("every record was imported before the broker stopped (%+v): the test did not stop it mid-import", atStop)
	}
	stopping := time.Now()
	broker.Stop()
	stopped := time.Now()
	// Down for a few seconds, and until the consumer reported the outage: the
	// sink must ride out a fetch error, not only a pause. kafka-go reports a
	// partition it cannot reach after a few attempts, or a group it cannot
	// join after three (seconds apart).
	kafkatest.WaitFor(t, time.Minute, func() error {
		if err, ok := exited(); ok {
			t.Fatalf("the sink stopped (it must run through the outage): %v", err)
		}
		if n := consumer.failures.Load(); n == 0 || time.Since(stopped) < outage {
			return fmt.Errorf("%d fetch errors after %v", n, time.Since(stopped).Round(100*time.Millisecond))
		}
		return nil
	})
	failedAfter := time.Since(stopped)
	broker.Start()
	restarted := time.Now()
	t.Logf("broker stopped with %d of %d valid records imported (%d requests); down %v (stop took %v, first fetch error within %v, start %v)",
		atStop.Imported, valid, atStop.Requests, restarted.Sub(stopped).Round(100*time.Millisecond),
		stopped.Sub(stopping).Round(100*time.Millisecond), failedAfter.Round(100*time.Millisecond),
		restarted.Sub(stopped.Add(failedAfter)).Round(100*time.Millisecond))

	h.produce(restartValues(before, before+after, invalid)...)
	idx = h.indexTopic(fqdnOf)
	watchMu.Lock()
	watchIdx = idx
	watchMu.Unlock()
	want := idx.valid()
	ends := kafkatest.EndOffsets(ctx, t, h.brokers, h.inbound)

	kafkatest.WaitFor(t, time.Minute, func() error {
		if err, ok := exited(); ok {
			t.Fatalf("the sink stopped (it must run through the outage): %v", err)
		}
		if got := distinct(h.importedFQDNs()); !slices.Equal(got, want) {
			return fmt.Errorf("%d of %d valid assets imported", len(got), len(want))
		}
		committed, err := h.committedOffsets(partitions)
		if err != nil {
			return err
		}
		for p, end := range ends {
			if committed[p] != end {
				return fmt.Errorf("committed offsets %v, want the end offsets %v", committed, ends)
			}
		}
		return nil
	})
	caughtUp := time.Since(restarted)

	stopRun()
	if err := <-done; err != nil {
		t.Fatalf("the sink ended with an error: %v", err)
	}
	watchMu.Lock()
	if len(violations) > 0 {
		t.Errorf("%d times a record was committed ahead of its import, first %v", len(violations), violations[:min(len(violations), 10)])
	}
	nChecks := checks
	watchMu.Unlock()
	if committed := h.committed(partitions); !maps.Equal(committed, ends) {
		t.Errorf("committed offsets %v after the stop, want the end offsets %v", committed, ends)
	}
	if got := distinct(h.importedFQDNs()); !slices.Equal(got, want) {
		t.Errorf("imported %d distinct assets, want the %d valid ones", len(got), len(want))
	}
	deadValues := map[string]bool{}
	for _, m := range kafkatest.ReadTopic(t, h.brokers, h.dlq, nil) {
		deadValues[string(m.Value)] = true
	}
	for v := range invalid {
		if !deadValues[v] {
			t.Errorf("invalid record %s is not in the dead-letter topic", v)
		}
	}
	st := s.Stats()
	sent := 0
	for _, imp := range h.sim.Imports() {
		sent += imp.Assets
	}
	t.Logf("broker up in %v; caught up %v after the restart; %d records fetched for %d produced, %d assets sent for %d valid, %d requests, %d offset checks; total %v",
		brokerUp.Round(100*time.Millisecond), caughtUp.Round(100*time.Millisecond), st.Fetched, before+after,
		sent, len(want), st.Requests, nChecks, time.Since(began).Round(100*time.Millisecond))
}

// failingConsumer returns errs from Fetch, one per call, before each record of
// its fakeConsumer.
type failingConsumer struct {
	*fakeConsumer
	mu   sync.Mutex
	errs []error
}

func (c *failingConsumer) Fetch(ctx context.Context) (kafkaio.Record, error) {
	c.mu.Lock()
	if len(c.errs) > 0 {
		err := c.errs[0]
		c.errs = c.errs[1:]
		c.mu.Unlock()
		return kafkaio.Record{}, err
	}
	c.mu.Unlock()
	return c.fakeConsumer.Fetch(ctx)
}

// TestSinkRetriesFetchErrors: the consumer's errors are retried, so a broker
// away for a moment delays the sink and loses nothing; a permanent one (a
// closed consumer, refused credentials) stops it with that error.
func TestSinkRetriesFetchErrors(t *testing.T) {
	refused := errors.New("failed to dial: failed to open connection to 127.0.0.1:9092: connect: connection refused")
	denied := errors.New("[29] Topic Authorization Failed")
	for _, tc := range []struct {
		name    string
		errs    []error
		wantErr error // nil: every record imported and committed
	}{
		{"transient", []error{refused, refused, refused}, nil},
		{"permanent", []error{refused, retry.Permanent(denied)}, denied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fc := newFakeConsumer(fakeRecord(0, 0, string(jsonAsset(0, ""))), fakeRecord(0, 1, string(jsonAsset(1, ""))),
				fakeRecord(0, 2, string(jsonAsset(2, ""))))
			c := &failingConsumer{fakeConsumer: fc, errs: tc.errs}
			imp := &fakeImporter{bodies: map[string]string{}, release: make(chan struct{})}
			cfg := sink.DefaultConfig()
			cfg.JobPoll, cfg.CommitEvery = time.Millisecond, 5*time.Millisecond
			s, err := sink.New(sink.Options{Config: cfg, Topic: "inbound", DeadLetterTopic: "dlq", Consumer: c, Importer: imp,
				Decoder: sink.NewDecoder(nil), DeadLetters: &heldPublisher{}, Logger: quietLog(), DrainTimeout: 5 * time.Second,
				Clock: immediateClock{}})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			err = s.Run(ctx, map[int]int64{0: 3})
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("the sink stopped on a transient fetch error: %v", err)
				}
				if st := s.Stats(); st.Imported != 3 {
					t.Errorf("stats %+v, want the 3 records imported", st)
				}
				fc.waitCommit(t, "of the 3 records", func(m map[int]int64) bool { return m[0] == 3 })
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Run returned %v, want the permanent error %v", err, tc.wantErr)
			}
		})
	}
}
