package source_test

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tvmkafka/tvmkafka/cmd/tvmkafka/clitest"
	"github.com/tvmkafka/tvmkafka/connector/source"
	"github.com/tvmkafka/tvmkafka/connector/source/findingindex"
	"github.com/tvmkafka/tvmkafka/connector/tenablesim"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkatest"
	"github.com/tvmkafka/tvmkafka/pipeline/state"
	"github.com/tvmkafka/tvmkafka/schemas"
)

// goneAsset is an asset deleted or terminated between two runs.
type goneAsset struct {
	reason   string // the tvm.closed_reason expected
	closedAt string // the tvm.closed_at expected
}

// withoutClosures drops closure tombstones from rs.
func withoutClosures(rs []record) []record {
	var out []record
	for _, r := range rs {
		if r.value == nil && r.headers[source.HeaderClosedReason] != "" {
			continue
		}
		out = append(out, r)
	}
	return out
}

// assetIDs lists the assets an asset export with this body holds.
func (h *harness) assetIDs(body string) map[string]bool {
	out := map[string]bool{}
	for _, k := range h.truth(tenablesim.TruthAssets, body) {
		out[k] = true
	}
	return out
}

// advanceUntilGone moves the simulator's clock until at least minDeleted
// assets live now were deleted and minTerminated terminated.
func (h *harness) advanceUntilGone(minDeleted, minTerminated int) map[string]goneAsset {
	h.t.Helper()
	live := h.assetIDs(`{"chunk_size":4000}`)
	for range 40 {
		if _, err := h.sim.Advance(5 * 24 * time.Hour); err != nil {
			h.t.Fatal(err)
		}
		gone := map[string]goneAsset{}
		nd, nt := 0, 0
		for id := range live {
			af, ok := h.sim.AssetFindings(id)
			switch {
			case !ok:
				h.t.Fatalf("asset %s vanished from the simulator", id)
			case af.DeletedAt != nil:
				gone[id] = goneAsset{"asset_deleted", af.DeletedAt.UTC().Format("2006-01-02T15:04:05.000Z07:00")}
				nd++
			case af.TerminatedAt != nil:
				gone[id] = goneAsset{"asset_terminated", af.TerminatedAt.UTC().Format("2006-01-02T15:04:05.000Z07:00")}
				nt++
			}
		}
		if nd >= minDeleted && nt >= minTerminated {
			h.t.Logf("%d assets deleted and %d terminated at %s", nd, nt, h.sim.State().Now.Format(time.RFC3339))
			return gone
		}
	}
	h.t.Fatalf("fewer than %d deleted and %d terminated assets after 200 days", minDeleted, minTerminated)
	return nil
}

// findingState reads the lifecycle fields of a finding record.
func findingState(t *testing.T, schema schemas.Name, value []byte) (open bool) {
	t.Helper()
	s, _ := schemas.Get(schema)
	native, _, err := s.Codec.NativeFromBinary(value[10:]) // after the single-object header
	if err != nil {
		t.Fatalf("decode %s: %v", schema, err)
	}
	field := func(name string) string {
		switch v := native.(map[string]any)[name].(type) {
		case string:
			return v
		case map[string]any:
			if s, ok := v["string"].(string); ok {
				return s
			}
		}
		return ""
	}
	state := field("state")
	if schema == schemas.NameCompliance && state == "" {
		return field("status") != "PASSED"
	}
	return state != "FIXED"
}

// openBefore returns, per topic, the keys of the gone assets whose last record
// before the offsets ends was open, and those whose last record was FIXED.
func (h *harness) openBefore(topic string, schema schemas.Name, ends map[int]int64, gone map[string]goneAsset) (open, fixed map[string]bool) {
	h.t.Helper()
	last := map[string]record{}
	for _, r := range h.read(topic, nil) {
		if r.offset < ends[r.part] {
			last[r.key] = r
		}
	}
	open, fixed = map[string]bool{}, map[string]bool{}
	for k, r := range last {
		asset, _, _ := strings.Cut(k, "|")
		if _, ok := gone[asset]; !ok || r.value == nil {
			continue
		}
		if findingState(h.t, schema, r.value) {
			open[k] = true
		} else {
			fixed[k] = true
		}
	}
	return open, fixed
}

// expectClosures checks the records after ends: every key of open has a
// tombstone with the four closure headers, and no other key has one.
func (h *harness) expectClosures(topic, recordType string, ends map[int]int64, open, fixed map[string]bool, gone map[string]goneAsset) int {
	h.t.Helper()
	closed := map[string]bool{}
	for _, r := range h.read(topic, ends) {
		if r.value != nil {
			continue
		}
		asset, _, _ := strings.Cut(r.key, "|")
		switch {
		case fixed[r.key]:
			h.t.Errorf("%s: FIXED finding %s was closed", topic, r.key)
		case !open[r.key]:
			h.t.Errorf("%s: key %s, not an open finding of a gone asset, was tombstoned (headers %v)", topic, r.key, r.headers)
		}
		g := gone[asset]
		want := map[string]string{source.HeaderRecordType: recordType, source.HeaderClosedReason: g.reason,
			source.HeaderAssetUUID: asset, source.HeaderClosedAt: g.closedAt}
		for k, v := range want {
			if r.headers[k] != v {
				h.t.Errorf("%s: closure of %s has %s=%q, want %q", topic, r.key, k, r.headers[k], v)
			}
		}
		closed[r.key] = true
	}
	var missing []string
	for k := range open {
		if !closed[k] {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		h.t.Errorf("%s: %d of %d open findings of gone assets were not closed, e.g. %v", topic, len(missing), len(open), sample(missing))
	}
	return len(closed)
}

// closureCheck is the state of the finding topics before the second run.
type closureCheck struct {
	vulnEnds, compEnds  map[int]int64
	vulnOpen, vulnFixed map[string]bool
	compOpen, compFixed map[string]bool
	gone                map[string]goneAsset
}

func (h *harness) beforeClosures(gone map[string]goneAsset) closureCheck {
	c := closureCheck{vulnEnds: h.endOffsets(h.topics.Vulns), compEnds: h.endOffsets(h.topics.Compliance), gone: gone}
	c.vulnOpen, c.vulnFixed = h.openBefore(h.topics.Vulns, schemas.NameVuln, c.vulnEnds, gone)
	c.compOpen, c.compFixed = h.openBefore(h.topics.Compliance, schemas.NameCompliance, c.compEnds, gone)
	if len(c.vulnOpen) == 0 || len(c.compOpen) == 0 || len(c.vulnFixed) == 0 {
		h.t.Fatalf("the gone assets should have open vulns (%d), open compliance findings (%d) and fixed vulns (%d) on the topics",
			len(c.vulnOpen), len(c.compOpen), len(c.vulnFixed))
	}
	return c
}

func (h *harness) checkClosures(c closureCheck) {
	h.t.Helper()
	nv := h.expectClosures(h.topics.Vulns, "vuln", c.vulnEnds, c.vulnOpen, c.vulnFixed, c.gone)
	nc := h.expectClosures(h.topics.Compliance, "compliance", c.compEnds, c.compOpen, c.compFixed, c.gone)
	// The simulator agrees: every finding closed was one the asset had.
	for k := range c.vulnOpen {
		asset, _, _ := strings.Cut(k, "|")
		af, _ := h.sim.AssetFindings(asset)
		if len(af.Vulns) == 0 {
			h.t.Errorf("the simulator has no findings of %s", asset)
		}
	}
	h.t.Logf("%d gone assets: %d vuln and %d compliance findings closed; %d fixed vulns and %d resolved compliance findings left alone",
		len(c.gone), nv, nc, len(c.vulnFixed), len(c.compFixed))
}

// TestClosuresOfGoneAssets: a first run publishes findings; assets are then
// deleted and terminated; a second run (a new source, whose index is rebuilt
// from its topic) publishes a tombstone with the closure headers for every
// finding of those assets that was open on the topics, none for the fixed
// ones, and none for any other key.
func TestClosuresOfGoneAssets(t *testing.T) {
	h := newHarness(t, tenablesim.Config{Assets: 300, Seed: 31})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := h.runOnce(ctx); err != nil {
		t.Fatalf("first run: %v", err)
	}
	gone := h.advanceUntilGone(2, 1)
	c := h.beforeClosures(gone)
	if _, err := h.runOnce(ctx); err != nil {
		t.Fatalf("second run: %v", err)
	}
	h.checkClosures(c)

	// A third run closes nothing again: the index remembers the closures.
	ends := map[string]map[int]int64{h.topics.Vulns: h.endOffsets(h.topics.Vulns), h.topics.Compliance: h.endOffsets(h.topics.Compliance)}
	if _, err := h.runOnce(ctx); err != nil {
		t.Fatalf("third run: %v", err)
	}
	for topic, from := range ends {
		for _, r := range h.read(topic, from) {
			if r.value == nil {
				t.Errorf("%s: the third run tombstoned %s again", topic, r.key)
			}
		}
	}
}

// TestClosuresSurviveKill: the process is killed after some closures were
// published and before the deleted assets' watermark moved; a new process
// rebuilds the index from its topic and closes every finding still open.
func TestClosuresSurviveKill(t *testing.T) {
	h := newHarness(t, tenablesim.Config{Assets: 1000, Seed: 32})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	if _, err := h.runOnce(ctx); err != nil {
		t.Fatalf("first run: %v", err)
	}
	gone := h.advanceUntilGone(150, 1) // two chunks of 100 deleted assets at least
	c := h.beforeClosures(gone)
	before := h.checkpoints()["assets.deleted"]

	// One chunk at a time, each slow: the process dies with a chunk of deleted
	// assets closed and checkpointed, and the next one to go.
	h.sim.SetFaults(tenablesim.Faults{SlowChunks: 1000, SlowChunkDelay: 700 * time.Millisecond})
	bin := clitest.Binary(t)
	env := append(h.connectorEnv(), "TVMKAFKA_SOURCE_CHUNK_WORKERS=1", "TVMKAFKA_SOURCE_ASSETS_CHUNK_SIZE=100")
	first := exec.CommandContext(ctx, bin, "source", "--once", "--streams", "assets")
	first.Env = env
	var firstLog bytes.Buffer
	first.Stdout, first.Stderr = &firstLog, &firstLog
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	h.killWhen(t, first, &firstLog, "assets.deleted", 2*time.Minute, func(cp source.Checkpoint) bool {
		return cp.Export != nil && cp.Export.Since.Equal(before.Watermark) && len(cp.Export.ChunksDone) >= 1
	})
	atKill := h.checkpoints()["assets.deleted"]
	if !atKill.Watermark.Equal(before.Watermark) || atKill.Export == nil {
		t.Fatalf("the deleted assets' watermark moved before the kill: %+v, before %+v", atKill, before)
	}
	closedAtKill := 0
	for _, r := range h.read(h.topics.Vulns, c.vulnEnds) {
		if r.value == nil {
			closedAtKill++
		}
	}
	if closedAtKill == 0 || closedAtKill >= len(c.vulnOpen) {
		t.Fatalf("%d of %d closures were published before the kill; want some, not all", closedAtKill, len(c.vulnOpen))
	}

	h.sim.SetFaults(tenablesim.Faults{})
	second := exec.CommandContext(ctx, bin, "source", "--once", "--streams", "assets")
	second.Env = env
	out, err := second.CombinedOutput()
	if err != nil {
		t.Fatalf("restarted connector failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "finding index rebuilt") {
		t.Errorf("the restart should rebuild the finding index; log:\n%s", out)
	}
	h.checkClosures(c)
	t.Logf("killed with %d closures published", closedAtKill)
}

// TestUndecodableIndexStopsTheSource: an index record this build cannot read (a
// version from the future) stops the source at start, with an error naming the
// topic and the offset, instead of running without the closures it holds.
func TestUndecodableIndexStopsTheSource(t *testing.T) {
	h := newHarness(t, tenablesim.Config{Assets: 20, Seed: 33})
	good := findingindex.Encode(findingindex.Value{Kind: findingindex.KindCompliance, Checks: []string{"c"}})
	future := append([]byte{findingindex.Version + 1}, good[1:]...)
	kafkatest.Produce(t, h.brokers,
		kafkaio.Record{Topic: h.index, Key: findingindex.Key(findingindex.KindCompliance, "a"), Value: good},
		kafkaio.Record{Topic: h.index, Key: findingindex.Key(findingindex.KindCompliance, "b"), Value: future})
	conn := kafkaio.Connection{Brokers: h.brokers}
	pcfg := kafkaio.DefaultProducerConfig()
	pcfg.Connection, pcfg.Logger = conn, h.logger()
	pub, err := kafkaio.NewProducer(pcfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = source.New(ctx, source.Options{
		Config: h.cfg, Topics: h.topics.source(), API: h.client, Pub: pub, Store: state.NewKafkaStore(conn, h.state, pub),
		Wires: h.wireFormats(), Version: "it", Logger: h.logger(), FindingIndex: findingindex.NewKafkaLog(conn, h.index, pub),
	})
	want := "finding index topic " + h.index + " partition 0 offset 1"
	if !errors.Is(err, findingindex.ErrUndecodable) || !strings.Contains(err.Error(), want) {
		t.Fatalf("New = %v, want ErrUndecodable naming %q", err, want)
	}
	t.Log(err)
}
