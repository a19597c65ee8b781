package source_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tvmkafka/tvmkafka/connector/source"
	"github.com/tvmkafka/tvmkafka/connector/source/findingindex"
	"github.com/tvmkafka/tvmkafka/connector/tenable"
	"github.com/tvmkafka/tvmkafka/connector/tenablesim"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkatest"
	"github.com/tvmkafka/tvmkafka/pipeline/state"
	"github.com/tvmkafka/tvmkafka/schemas"
)

// harness wires a simulated tenant, a Kafka cluster (kafkatest.Brokers: the
// real broker or the in-process fake) and the source stages, with topics of
// its own.
type harness struct {
	t       *testing.T
	sim     *tenablesim.Server
	simURL  string
	brokers []string
	topics  harnessTopics
	state   string
	index   string // the finding index topic
	cfg     source.Config
	client  *tenable.Client
	log     *syncLog
	wires   map[schemas.Name]source.Wire // nil: single-object encoding
}

// harnessTopics are the harness's own topics.
type harnessTopics struct{ Assets, Vulns, Compliance, Plugins, DeadLetter string }

func (t harnessTopics) source() source.Topics {
	return source.Topics{DeadLetter: t.DeadLetter, Stream: map[string]string{
		source.StreamAssets: t.Assets, source.StreamVulns: t.Vulns, source.StreamCompliance: t.Compliance, source.StreamPlugins: t.Plugins}}
}

type syncLog struct{ lines chan string }

func (l *syncLog) Write(p []byte) (int, error) {
	select {
	case l.lines <- string(p):
	default: // a test that does not read logs must not block
	}
	return len(p), nil
}

func newHarness(t *testing.T, simCfg tenablesim.Config) *harness {
	t.Helper()
	return newHarnessOn(t, kafkatest.Brokers(t), simCfg)
}

// newHarnessOn is newHarness on the given cluster, for a test that injects
// broker faults on a fake of its own (kafkatest.NewFakeCluster).
func newHarnessOn(t *testing.T, brokers []string, simCfg tenablesim.Config) *harness {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: simulator and Kafka broker")
	}
	simCfg.AccessKey, simCfg.SecretKey = "AK-it", "SK-it"
	if simCfg.QueueLatency == 0 {
		simCfg.QueueLatency = 5 * time.Millisecond
	}
	if simCfg.ChunkLatency == 0 {
		simCfg.ChunkLatency = 5 * time.Millisecond
	}
	sim, err := tenablesim.New(simCfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	h := &harness{t: t, sim: sim, simURL: srv.URL, brokers: brokers, log: &syncLog{lines: make(chan string, 10000)}}
	h.topics = harnessTopics{
		Assets:     kafkatest.CreateTopic(t, brokers, 3, map[string]string{"cleanup.policy": "compact"}),
		Vulns:      kafkatest.CreateTopic(t, brokers, 3, nil),
		Compliance: kafkatest.CreateTopic(t, brokers, 2, nil),
		Plugins:    kafkatest.CreateTopic(t, brokers, 1, nil),
		DeadLetter: kafkatest.CreateTopic(t, brokers, 1, nil),
	}
	h.state = kafkatest.CreateTopic(t, brokers, 1, map[string]string{"cleanup.policy": "compact"})
	h.index = kafkatest.CreateTopic(t, brokers, 1, map[string]string{"cleanup.policy": "compact"})
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
	return h
}

func (h *harness) logger() *slog.Logger {
	w := io.Writer(h.log)
	if testing.Verbose() {
		w = io.MultiWriter(w, os.Stderr)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func wires(t *testing.T) map[schemas.Name]source.Wire {
	t.Helper()
	out := map[schemas.Name]source.Wire{}
	for _, n := range []schemas.Name{schemas.NameAsset, schemas.NameVuln, schemas.NameCompliance, schemas.NamePlugin} {
		s, err := schemas.Get(n)
		if err != nil {
			t.Fatal(err)
		}
		out[n] = source.Wire{Schema: s}
	}
	return out
}

func (h *harness) wireFormats() map[schemas.Name]source.Wire {
	if h.wires != nil {
		return h.wires
	}
	return wires(h.t)
}

// runOnce runs the source once in-process, as `tvmkafka source --once` would.
func (h *harness) runOnce(ctx context.Context, streams ...string) (*source.Source, error) {
	h.t.Helper()
	conn := kafkaio.Connection{Brokers: h.brokers}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	pcfg := kafkaio.DefaultProducerConfig()
	pcfg.Connection, pcfg.Logger = conn, quiet
	pub, err := kafkaio.NewProducer(pcfg)
	if err != nil {
		h.t.Fatal(err)
	}
	defer pub.Close()
	pcfg.BatchTimeout = time.Millisecond
	stateW, err := kafkaio.NewProducer(pcfg)
	if err != nil {
		h.t.Fatal(err)
	}
	defer stateW.Close()
	src, err := source.New(ctx, source.Options{
		Config: h.cfg, Topics: h.topics.source(), API: h.client, Pub: pub, Store: state.NewKafkaStore(conn, h.state, stateW),
		Wires: h.wireFormats(), Version: "it", Logger: h.logger(), FindingIndex: findingindex.NewKafkaLog(conn, h.index, stateW),
	})
	if err != nil {
		h.t.Fatal(err)
	}
	if len(streams) == 0 {
		streams = source.StreamNames
	}
	return src, src.RunOnce(ctx, streams)
}

// checkpoints reads the state topic as a restarted connector would.
func (h *harness) checkpoints() map[string]source.Checkpoint {
	h.t.Helper()
	conn := kafkaio.Connection{Brokers: h.brokers}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	raw, err := state.NewKafkaStore(conn, h.state, nil).Load(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	out := map[string]source.Checkpoint{}
	for k, v := range raw {
		var cp source.Checkpoint
		if err := json.Unmarshal(v, &cp); err != nil {
			h.t.Fatal(err)
		}
		out[k] = cp
	}
	return out
}

// record is a message read back from a topic.
type record struct {
	key     string
	value   []byte
	headers map[string]string
	offset  int64
	part    int
}

// endOffsets returns each partition's end offset now.
func (h *harness) endOffsets(topic string) map[int]int64 {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return kafkatest.EndOffsets(ctx, h.t, h.brokers, topic)
}

// read returns the records of topic from the given offsets (nil: the start) to the end.
func (h *harness) read(topic string, from map[int]int64) []record {
	h.t.Helper()
	var out []record
	for _, r := range kafkatest.ReadTopic(h.t, h.brokers, topic, from) {
		out = append(out, record{key: string(r.Key), value: r.Value, headers: kafkatest.HeaderMap(r), offset: r.Offset, part: r.Partition})
	}
	return out
}

func keysOf(rs []record) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.key)
	}
	slices.Sort(out)
	return out
}

func distinct(sorted []string) []string { return slices.Compact(slices.Clone(sorted)) }

// truth asks the simulator which keys an export with this body holds, in the
// connector's key format.
func (h *harness) truth(kind string, body string) []string {
	h.t.Helper()
	tr, err := h.sim.Truth(kind, []byte(body))
	if err != nil {
		h.t.Fatalf("truth %s %s: %v", kind, body, err)
	}
	var keys []string
	for _, raw := range tr.Keys {
		var parts []any
		if json.Unmarshal(raw, &parts) != nil {
			var single any
			_ = json.Unmarshal(raw, &single)
			parts = []any{single}
		}
		strs := make([]string, len(parts))
		for i, p := range parts {
			strs[i] = fmt.Sprint(p)
		}
		if kind == tenablesim.TruthVulns {
			strs[3] = strings.ToUpper(strs[3])
		}
		keys = append(keys, strings.Join(strs, "|"))
	}
	slices.Sort(keys)
	return keys
}

// connectorBodies are the export bodies the connector sends for a delta since t
// with default settings, for asking the simulator's ground truth.
func connectorBodies(since time.Time) map[string]string {
	s := since.Unix()
	active := `{"chunk_size":4000}`
	if s > 1 {
		active = fmt.Sprintf(`{"chunk_size":4000,"filters":{"updated_at":%d}}`, s)
	}
	return map[string]string{
		"assets.active":     active,
		"assets.deleted":    fmt.Sprintf(`{"chunk_size":4000,"filters":{"deleted_at":%d}}`, s),
		"assets.terminated": fmt.Sprintf(`{"chunk_size":4000,"filters":{"terminated_at":%d}}`, s),
		"vulns":             fmt.Sprintf(`{"num_assets":2000,"include_unlicensed":true,"filters":{"since":%d,"state":["OPEN","REOPENED","FIXED"],"severity":["medium","high","critical"]}}`, s),
		"compliance":        fmt.Sprintf(`{"num_findings":5000,"filters":{"last_seen":%d}}`, s),
	}
}

func union(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func diff(want, got []string) (missing, extra []string) {
	w, g := map[string]bool{}, map[string]bool{}
	for _, k := range want {
		w[k] = true
	}
	for _, k := range got {
		g[k] = true
	}
	for k := range w {
		if !g[k] {
			missing = append(missing, k)
		}
	}
	for k := range g {
		if !w[k] {
			extra = append(extra, k)
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	return missing, extra
}

func sample(ks []string) []string {
	if len(ks) > 5 {
		return ks[:5]
	}
	return ks
}

func (h *harness) expectKeys(what string, want, got []string) {
	h.t.Helper()
	missing, extra := diff(want, got)
	if len(missing) > 0 || len(extra) > 0 {
		h.t.Errorf("%s: %d keys missing (e.g. %v), %d unexpected (e.g. %v); want %d, got %d",
			what, len(missing), sample(missing), len(extra), sample(extra), len(want), len(got))
	}
}

// killWhen SIGKILLs proc, a running connector process, as soon as the
// checkpoint of export (e.g. "vulns", "assets.deleted") satisfies ready, and
// waits for it to end; it fails the test, with the process's log, when that
// has not happened within the given time.
func (h *harness) killWhen(t *testing.T, proc *exec.Cmd, log fmt.Stringer, export string, within time.Duration, ready func(source.Checkpoint) bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if cp, ok := h.checkpoints()[export]; ok && ready(cp) {
			break
		}
		if time.Now().After(deadline) {
			_ = proc.Process.Kill()
			t.Fatalf("the checkpoint of %s was not ready for the kill within %v; log:\n%s", export, within, log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := proc.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = proc.Wait()
}
