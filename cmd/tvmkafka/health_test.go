package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/tvmkafka/tvmkafka/connector/sink"
	"github.com/tvmkafka/tvmkafka/connector/tenable"
	"github.com/tvmkafka/tvmkafka/connector/tenablesim"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
	"github.com/tvmkafka/tvmkafka/pipeline/telemetry"
)

type healthAnswer struct {
	Status string  `json:"status"`
	Checks []check `json:"checks"`
}

type check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

func getHealth(t *testing.T, url string) (int, healthAnswer) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a healthAnswer
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatalf("%s: %q: %v", url, b, err)
	}
	return resp.StatusCode, a
}

// waitHealth polls url until it answers code (the probes run in the
// background) and returns that answer; it fails the test after a minute.
func waitHealth(t *testing.T, url string, code int) healthAnswer {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		got, a := getHealth(t, url)
		if got == code {
			return a
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never answered %d; last %d %+v", url, code, got, a)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func newKfake(t *testing.T) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testConfig is a connector configuration against an in-process cluster and
// Tenable VM at tenableURL, with the HTTP endpoint on a free port.
func testConfig(brokers []string, tenableURL string) config {
	cfg := defaultConfig()
	cfg.Kafka.Brokers = brokers
	cfg.Kafka.DialTimeout = 2 * time.Second
	cfg.Tenable.BaseURL, cfg.Tenable.AccessKey, cfg.Tenable.SecretKey = tenableURL, "AK", "SK"
	cfg.Tenable.MaxRetries = 0
	cfg.Topic.Partitions, cfg.Topic.ReplicationFactor = 1, 1
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.HTTP.ProbeEvery = 50 * time.Millisecond
	return cfg
}

func newSim(t *testing.T) *httptest.Server {
	t.Helper()
	sim, err := tenablesim.New(tenablesim.Config{Assets: 20, AccessKey: "AK", SecretKey: "SK"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	return srv
}

// TestReadyzFollowsKafkaAndTenable: /readyz turns ready once started with a
// broker that answers, back to 503 while Tenable refuses the keys, and to 503
// again when the broker goes away; each answer names the failing input.
func TestReadyzFollowsKafkaAndTenable(t *testing.T) {
	cluster := newKfake(t)
	defer cluster.Close()
	sim := newSim(t)
	var refuse atomic.Bool // Tenable answers 401, as to a revoked key
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if refuse.Load() {
			http.Error(w, `{"error":"Invalid Credentials"}`, http.StatusUnauthorized)
			return
		}
		sim.Config.Handler.ServeHTTP(w, r)
	}))
	defer front.Close()
	cfg := testConfig(cluster.ListenAddrs(), front.URL)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := newApp(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), roles{source: true, sink: true})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ready := "http://" + a.http.Addr() + "/readyz"
	if code, ans := getHealth(t, ready); code != 503 {
		t.Fatalf("before start-up is over: %d %+v", code, ans)
	}
	a.ready()
	ans := waitHealth(t, ready, 200)
	for _, want := range []string{"started", "kafka", "tenable", "group membership"} {
		if c, ok := checkOf(ans, want); !ok || !c.OK {
			t.Errorf("readiness input %q: %+v", want, ans)
		}
	}

	onlyFailing := func(ans healthAnswer, name string) {
		t.Helper()
		for _, c := range ans.Checks {
			if (c.Name == name) == c.OK {
				t.Errorf("only %s should fail: %+v", name, ans)
			}
		}
	}
	refuse.Store(true)
	if _, err := a.tenable.ListExports(ctx, tenable.ExportVulns); err == nil {
		t.Fatal("a refused key must fail the call")
	}
	code, ans := getHealth(t, ready)
	if code != 503 {
		t.Fatalf("Tenable refusing the keys: %d %+v", code, ans)
	}
	onlyFailing(ans, "tenable")
	refuse.Store(false)
	if _, err := a.tenable.ListExports(ctx, tenable.ExportVulns); err != nil {
		t.Fatal(err)
	}
	if code, ans := getHealth(t, ready); code != 200 {
		t.Fatalf("Tenable answering again: %d %+v", code, ans)
	}

	cluster.Close()
	onlyFailing(waitHealth(t, ready, 503), "kafka")

	cancel() // shutdown begins: not ready, whatever the inputs say
	deadline := time.Now().Add(time.Minute)
	for {
		_, ans := getHealth(t, ready)
		if c, _ := checkOf(ans, "started"); !c.OK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the signal, started must turn false: %+v", ans)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func checkOf(a healthAnswer, name string) (check, bool) {
	for _, c := range a.Checks {
		if c.Name == name {
			return c, true
		}
	}
	return check{}, false
}

// blockingConsumer's Fetch waits until released, as a quiet topic does.
type blockingConsumer struct {
	sink.Consumer
	release chan struct{}
}

func (c blockingConsumer) Fetch(ctx context.Context) (kafkaio.Record, error) {
	<-c.release
	return kafkaio.Record{}, nil
}

// TestSinkWaitingForRecordsIsNotAStall: a sink blocked in Fetch on a quiet
// topic stays alive however long it waits; once the fetch returned and
// nothing follows, it is stalled after the limit.
func TestSinkWaitingForRecordsIsNotAStall(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	beats := telemetry.NewBeats(clock)
	health := telemetry.NewHealth(beats, 10*time.Minute)
	alive := func() bool {
		for _, c := range health.Live() {
			if !c.OK {
				return false
			}
		}
		return true
	}
	c := beatingConsumer{blockingConsumer{release: make(chan struct{})}, beats.Heartbeat(beatSink)}
	fetched := make(chan struct{})
	go func() {
		_, _ = c.Fetch(context.Background())
		close(fetched)
	}()
	for !func() bool { // wait until Fetch marked the sink idle
		for _, ch := range health.Live() {
			if strings.HasPrefix(ch.Detail, "waiting") {
				return true
			}
		}
		return false
	}() {
		time.Sleep(time.Millisecond)
	}
	advance(time.Hour)
	if !alive() {
		t.Fatalf("waiting for records is not a stall: %+v", health.Live())
	}
	close(c.Consumer.(blockingConsumer).release)
	<-fetched
	advance(11 * time.Minute)
	if alive() {
		t.Fatalf("no fetch, commit or import for 11 minutes is a stall: %+v", health.Live())
	}
	i := beatingImporter{nopImporter{}, c.beat}
	if _, err := i.ImportJob(context.Background(), "job"); err != nil {
		t.Fatal(err)
	}
	if !alive() {
		t.Fatalf("an import job poll is progress: %+v", health.Live())
	}
}

type nopImporter struct{}

func (nopImporter) ImportAssetsBody(context.Context, []byte) (string, error) { return "job", nil }
func (nopImporter) ImportJob(context.Context, string) (tenable.ImportJob, error) {
	return tenable.ImportJob{}, nil
}

// TestSourceLoopBeatsAsItWorks: a stream's run loop beats at every plugin page
// and batch handed to Kafka (not only once per run), then waits idle for the
// next interval.
func TestSourceLoopBeatsAsItWorks(t *testing.T) {
	cluster := newKfake(t)
	defer cluster.Close()
	cfg := testConfig(cluster.ListenAddrs(), newSim(t).URL)
	cfg.HTTP.Addr = ""
	cfg.Source.PluginsPageSize = 100 // 1500 plugins: 15 pages
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := newApp(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), roles{source: true})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	src, err := a.newSource(ctx)
	if err != nil {
		t.Fatal(err)
	}
	beat := telemetry.Heartbeat("source.plugins")
	before := beat.Count()
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, []string{"plugins"}, func(string) time.Duration { return time.Hour }) }()
	deadline := time.Now().Add(time.Minute)
	for src.Checkpoint("plugins").Runs < 1 || !beat.Waiting() {
		if time.Now().After(deadline) {
			t.Fatalf("the plugins run did not finish and wait: %+v", src.Checkpoint("plugins"))
		}
		time.Sleep(10 * time.Millisecond)
	}
	// A run start, the idle wait's start, and at least one beat per page.
	if n := beat.Count() - before; n < 2+15 {
		t.Errorf("the loop beat %d times over a 15-page run; want a beat per page at least", n)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
