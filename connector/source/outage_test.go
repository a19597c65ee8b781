package source_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tvmkafka/tvmkafka/connector/source"
	"github.com/tvmkafka/tvmkafka/connector/tenable"
	"github.com/tvmkafka/tvmkafka/connector/tenablesim"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkatest"
)

// newOutageHarness is a harness whose Kafka is a restartable in-process broker.
func newOutageHarness(t *testing.T, simCfg tenablesim.Config) (*harness, *kafkatest.RestartableBroker) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: simulator and an in-process broker")
	}
	topics := harnessTopics{Assets: "assets", Vulns: "vulns", Compliance: "compliance", Plugins: "plugins", DeadLetter: "dlq"}
	broker := kafkatest.NewRestartableBroker(t, topics.Assets, topics.Vulns, topics.Compliance, topics.Plugins, topics.DeadLetter, "state", "index")
	simCfg.AccessKey, simCfg.SecretKey = "AK-it", "SK-it"
	sim, err := tenablesim.New(simCfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	h := &harness{t: t, sim: sim, simURL: srv.URL, brokers: []string{broker.Addr()}, topics: topics, state: "state", index: "index",
		log: &syncLog{lines: make(chan string, 10000)}}
	h.cfg = source.DefaultConfig()
	h.cfg.PollInitial, h.cfg.PollMax = 10*time.Millisecond, 100*time.Millisecond
	h.cfg.ProgressEvery = time.Second
	tc := tenable.DefaultConfig()
	tc.BaseURL, tc.AccessKey, tc.SecretKey, tc.Build, tc.Logger = srv.URL, "AK-it", "SK-it", "it", h.logger()
	tc.RetryInitial, tc.RetryMax, tc.MaxRetries = 20*time.Millisecond, 500*time.Millisecond, 10
	h.client, err = tenable.New(tc)
	if err != nil {
		t.Fatal(err)
	}
	return h, broker
}

// outageSim exports 8 vulnerability chunks 300 ms apart, so the export is
// still running when the broker goes away after the first chunk.
var outageSim = tenablesim.Config{Assets: 400, Seed: 23, QueueLatency: 5 * time.Millisecond, ChunkLatency: 300 * time.Millisecond}

const outageTruthBody = `{"num_assets":50,"include_unlicensed":true,"filters":{"since":1,"state":["OPEN","REOPENED","FIXED"],"severity":["medium","high","critical"]}}`

// TestKafkaOutageIsRetriedWithinTheRound takes the broker away in the middle
// of an export of `run` and brings it back seconds later: the round resumes its
// export once Kafka is back and completes without waiting for the next
// interval (an hour), and every record is in the topic.
func TestKafkaOutageIsRetriedWithinTheRound(t *testing.T) {
	h, broker := newOutageHarness(t, outageSim)
	h.cfg.VulnsNumAssets = 50
	want := h.truth(tenablesim.TruthVulns, outageTruthBody)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// Two attempts per batch: kafka-go gives up on a stopped broker within a
	// second or two instead of tens of seconds, so the outage fails the run.
	src, closeSrc := h.newSource(ctx, runSetup{producerAttempts: 2})
	defer closeSrc()
	runCtx, cancelRun := context.WithCancel(ctx)
	runDone := make(chan error, 1)
	go func() {
		runDone <- src.Run(runCtx, []string{source.StreamVulns}, func(string) time.Duration { return time.Hour })
	}()
	var stopOnce sync.Once
	var runErr error
	stopRun := func() error {
		stopOnce.Do(func() { cancelRun(); runErr = <-runDone })
		return runErr
	}
	defer stopRun()
	logs := &logWatch{log: h.log}

	waitFor(t, time.Minute, "a first chunk acknowledged", func() bool {
		cp := src.Checkpoint(source.StreamVulns)
		return cp.Export != nil && len(cp.Export.ChunksDone) >= 1
	})
	broker.Stop()
	outage := time.Now()
	// Down long enough for the run to fail on it: kafka-go gives up and the
	// export's remaining chunks cannot be published.
	waitFor(t, time.Minute, "the run to fail on Kafka", func() bool {
		return logs.logged(`msg="export ended with an error"`)
	})
	time.Sleep(3 * time.Second)
	broker.Start()
	t.Logf("broker back after %v", time.Since(outage).Round(100*time.Millisecond))

	// Well within the hour the next round would start at.
	waitFor(t, time.Minute, "the round to complete after the outage", func() bool {
		return src.Checkpoint(source.StreamVulns).Runs == 1
	})
	if err := stopRun(); err != nil {
		t.Fatalf("run: %v", err)
	}

	got := distinct(keysOf(h.read(h.topics.Vulns, nil)))
	h.expectKeys("vulns after the outage", want, got)
	cp := h.checkpoints()[source.StreamVulns]
	if cp.Export != nil || cp.Runs != 1 || !cp.Watermark.Equal(h.sim.Now().Add(-h.cfg.Overlap)) {
		t.Errorf("stored checkpoint %+v; want one completed run, watermark %s", cp, h.sim.Now().Add(-h.cfg.Overlap).Format(time.RFC3339))
	}
	if n := h.sim.Stats().ExportsCreated["vulns"]; n != 1 {
		t.Errorf("%d exports were requested; want 1, resumed after the outage", n)
	}
}

// TestKafkaOutageFailsOnceNamingKafka: `--once` does not wait for Kafka; its
// error says Kafka failed and names the brokers, and the export stays in the
// checkpoint for the next run.
func TestKafkaOutageFailsOnceNamingKafka(t *testing.T) {
	h, broker := newOutageHarness(t, outageSim)
	h.cfg.VulnsNumAssets = 50
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	src, closeSrc := h.newSource(ctx, runSetup{producerAttempts: 2})
	defer closeSrc()
	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	go func() {
		for runCtx.Err() == nil {
			if cp := src.Checkpoint(source.StreamVulns); cp.Export != nil && len(cp.Export.ChunksDone) >= 1 {
				broker.Stop()
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	err := src.RunOnce(runCtx, []string{source.StreamVulns})
	if err == nil {
		t.Fatal("the run succeeded with the broker gone")
	}
	t.Logf("error: %v", err)
	if !errors.Is(err, source.ErrKafka) || !strings.Contains(err.Error(), "Kafka brokers: "+broker.Addr()) {
		t.Errorf("error %q should be a Kafka failure naming the brokers %s", err, broker.Addr())
	}
	if cp := src.Checkpoint(source.StreamVulns); cp.Export == nil || len(cp.Export.ChunksDone) == 0 || !cp.Watermark.IsZero() {
		t.Errorf("checkpoint %+v; want the export in flight kept for the next run", cp)
	}
}

// logWatch finds lines in the harness log.
type logWatch struct {
	log  *syncLog
	seen []string
}

// logged reports whether a line containing s was written so far.
func (w *logWatch) logged(s string) bool {
	for {
		select {
		case line := <-w.log.lines:
			w.seen = append(w.seen, line)
		default:
			for _, l := range w.seen {
				if strings.Contains(l, s) {
					return true
				}
			}
			return false
		}
	}
}
