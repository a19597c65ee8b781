package source_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tvmkafka/tvmkafka/connector/source"
	"github.com/tvmkafka/tvmkafka/connector/tenablesim"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkatest"
	"github.com/tvmkafka/tvmkafka/schemas"
)

// checkHeaders asserts the headers every record carries.
func checkHeaders(t *testing.T, topic string, rs []record, recordType string, schema schemas.Name) {
	t.Helper()
	s, _ := schemas.Get(schema)
	fp := strconv.FormatUint(s.Fingerprint, 16)
	for _, r := range rs {
		h := r.headers
		if h[source.HeaderRecordType] != recordType || h[source.HeaderSchemaFingerprint] != fp || h[source.HeaderConnectorVersion] != "it" {
			t.Fatalf("%s record %s: headers %v", topic, r.key, h)
		}
		if recordType != "plugin" && (h[source.HeaderExportUUID] == "" || h[source.HeaderExportChunk] == "") {
			t.Fatalf("%s record %s lacks export headers: %v", topic, r.key, h)
		}
		if recordType == "plugin" && h[source.HeaderPluginsPage] == "" {
			t.Fatalf("plugin record %s lacks the page header: %v", r.key, h)
		}
		if len(r.value) < 10 || r.value[0] != 0xC3 || r.value[1] != 0x01 {
			t.Fatalf("%s record %s is not single-object encoded", topic, r.key)
		}
	}
}

// TestFullRunMatchesTruth: one run over a simulated tenant publishes exactly the
// records the simulator says the connector's exports hold, each once, with its
// headers, and leaves every watermark at the export time less the overlap.
func TestFullRunMatchesTruth(t *testing.T) {
	h := newHarness(t, tenablesim.Config{Assets: 300, Seed: 11, Plugins: 300})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := h.runOnce(ctx); err != nil {
		t.Fatalf("run: %v", err)
	}
	bodies := connectorBodies(time.Unix(1, 0))

	assets := h.read(h.topics.Assets, nil)
	active := h.truth(tenablesim.TruthAssets, bodies["assets.active"])
	deleted := h.truth(tenablesim.TruthAssets, bodies["assets.deleted"])
	terminated := h.truth(tenablesim.TruthAssets, bodies["assets.terminated"])
	if len(deleted) == 0 || len(terminated) == 0 {
		t.Fatal("the tenant should have deleted and terminated assets")
	}
	h.expectKeys("assets", union(active, deleted, terminated), keysOf(assets))
	checkHeaders(t, "assets", assets, "asset", schemas.NameAsset)
	for _, r := range assets {
		want := source.AssetActive
		if slices.Contains(deleted, r.key) {
			want = source.AssetDeleted
		} else if slices.Contains(terminated, r.key) {
			want = source.AssetTerminated
		}
		if got := r.headers[source.HeaderAssetState]; got != want {
			t.Errorf("asset %s has state %q, want %q", r.key, got, want)
		}
	}

	vulns := h.read(h.topics.Vulns, nil)
	h.expectKeys("vulns", h.truth(tenablesim.TruthVulns, bodies["vulns"]), keysOf(vulns))
	checkHeaders(t, "vulns", vulns, "vuln", schemas.NameVuln)

	compliance := h.read(h.topics.Compliance, nil)
	h.expectKeys("compliance", h.truth(tenablesim.TruthCompliance, bodies["compliance"]), keysOf(compliance))
	checkHeaders(t, "compliance", compliance, "compliance", schemas.NameCompliance)

	plugins := h.read(h.topics.Plugins, nil)
	h.expectKeys("plugins", h.truth(tenablesim.TruthPlugins, `{}`), keysOf(plugins))
	checkHeaders(t, "plugins", plugins, "plugin", schemas.NamePlugin)

	if dlq := h.read(h.topics.DeadLetter, nil); len(dlq) != 0 {
		t.Errorf("%d records were dead-lettered", len(dlq))
	}
	want := h.sim.Now().Add(-time.Hour)
	for _, name := range []string{"assets.active", "assets.deleted", "assets.terminated", "vulns", "compliance", "plugins"} {
		cp := h.checkpoints()[name]
		if !cp.Watermark.Equal(want) || cp.Export != nil || cp.Runs != 1 {
			t.Errorf("checkpoint %s = %+v, want watermark %v (tenant time less the 1h overlap), no export in flight, 1 run", name, cp, want)
		}
	}
}

// TestSecondRunPublishesTheDelta: after the tenant changes, a second run publishes
// exactly what changed since the first run's watermark: new, fixed and reopened
// findings, updated, deleted and terminated assets, updated plugins.
func TestSecondRunPublishesTheDelta(t *testing.T) {
	h := newHarness(t, tenablesim.Config{Assets: 300, Seed: 12, Plugins: 200})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := h.runOnce(ctx); err != nil {
		t.Fatalf("first run: %v", err)
	}
	watermark := h.checkpoints()["vulns"].Watermark
	ends := map[string]map[int]int64{}
	for _, topic := range []string{h.topics.Assets, h.topics.Vulns, h.topics.Compliance, h.topics.Plugins} {
		ends[topic] = h.endOffsets(topic)
	}
	summary, err := h.sim.Advance(96 * time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("tenant changes: %d assets rescanned, %d new, %d deleted, %d terminated; findings %d new, %d fixed, %d reopened; %d plugins updated",
		summary.AssetsRescanned, summary.AssetsNew, summary.AssetsDeleted, summary.AssetsTerminated,
		summary.FindingsNew, summary.FindingsFixed, summary.FindingsReopened, summary.PluginsUpdated)
	if _, err := h.runOnce(ctx); err != nil {
		t.Fatalf("second run: %v", err)
	}
	bodies := connectorBodies(watermark)

	assets := h.read(h.topics.Assets, ends[h.topics.Assets])
	deleted := h.truth(tenablesim.TruthAssets, bodies["assets.deleted"])
	terminated := h.truth(tenablesim.TruthAssets, bodies["assets.terminated"])
	if len(deleted) == 0 || len(terminated) == 0 {
		t.Fatal("the tenant should have deleted and terminated assets in the delta")
	}
	h.expectKeys("asset delta", union(h.truth(tenablesim.TruthAssets, bodies["assets.active"]), deleted, terminated), keysOf(assets))
	states := map[string]int{}
	for _, r := range assets {
		states[r.headers[source.HeaderAssetState]]++
	}
	if states[source.AssetDeleted] != len(deleted) || states[source.AssetTerminated] != len(terminated) {
		t.Errorf("asset states in the delta %v, want %d deleted and %d terminated", states, len(deleted), len(terminated))
	}

	// Closures of the findings of the deleted and terminated assets are checked
	// by the closure tests; here, the records of the delta.
	vulns := withoutClosures(h.read(h.topics.Vulns, ends[h.topics.Vulns]))
	wantVulns := h.truth(tenablesim.TruthVulns, bodies["vulns"])
	h.expectKeys("vuln delta", wantVulns, keysOf(vulns))
	fixed := h.truth(tenablesim.TruthVulns, `{"num_assets":2000,"include_unlicensed":true,"filters":{"since":`+strconv.FormatInt(watermark.Unix(), 10)+`,"state":["FIXED"],"severity":["medium","high","critical"]}}`)
	if len(fixed) == 0 {
		t.Error("the delta should contain fixed findings")
	}
	allVulns := h.truth(tenablesim.TruthVulns, connectorBodies(time.Unix(1, 0))["vulns"])
	if len(wantVulns) >= len(allVulns) {
		t.Errorf("the delta (%d findings) should be smaller than everything (%d)", len(wantVulns), len(allVulns))
	}

	compliance := withoutClosures(h.read(h.topics.Compliance, ends[h.topics.Compliance]))
	h.expectKeys("compliance delta", h.truth(tenablesim.TruthCompliance, bodies["compliance"]), keysOf(compliance))

	plugins := h.read(h.topics.Plugins, ends[h.topics.Plugins])
	lastUpdated := watermark.Add(-24 * time.Hour).UTC().Format(time.DateOnly)
	h.expectKeys("plugin delta", h.truth(tenablesim.TruthPlugins, `{"last_updated":"`+lastUpdated+`"}`), keysOf(plugins))

	for name, cp := range h.checkpoints() {
		if want := h.sim.Now().Add(-time.Hour); !cp.Watermark.Equal(want) || cp.Runs != 2 {
			t.Errorf("checkpoint %s = %+v, want watermark %v after 2 runs", name, cp, want)
		}
	}
}

// TestFaultsLoseNothing: whatever Tenable does wrong, the run completes and every
// record is in Kafka.
func TestFaultsLoseNothing(t *testing.T) {
	// Decide here whether a cluster is available (and -short): a parent whose
	// every subtest skipped would report PASS having tested nothing.
	kafkatest.NeedsBroker(t)
	tests := []struct {
		name   string
		faults tenablesim.Faults
		during func(h *harness) // runs while the export is in progress
	}{
		{name: "export ends in ERROR", faults: tenablesim.Faults{ExportErrors: 1, ExportErrorAfterChunks: 1}},
		{name: "finished with failed chunks", faults: tenablesim.Faults{ChunkFailures: 1, ChunkFailureAfter: 1}},
		{name: "two exports in a row fail", faults: tenablesim.Faults{ExportErrors: 1, ChunkFailures: 1}},
		{name: "truncated chunk bodies", faults: tenablesim.Faults{TruncateChunks: 3}},
		{name: "429 storm", faults: tenablesim.Faults{Rate429: 0.3, RetryAfterSeconds: 1}},
		{name: "5xx burst", faults: tenablesim.Faults{Rate5xx: 0.25, RetryAfterSeconds: 1}},
		{name: "chunks expire mid-export", during: func(h *harness) { h.sim.ExpireChunks() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tenablesim.Config{Assets: 200, Seed: 13, ChunkLatency: 30 * time.Millisecond})
			h.cfg.VulnsNumAssets = 50 // several chunks, so faults can hit the middle of an export
			want := h.truth(tenablesim.TruthVulns, `{"num_assets":50,"include_unlicensed":true,"filters":{"since":1,"state":["OPEN","REOPENED","FIXED"],"severity":["medium","high","critical"]}}`)
			h.sim.SetFaults(tt.faults)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			if tt.during != nil {
				// Expire once the first chunk of the first export is checkpointed.
				go func() {
					for ctx.Err() == nil {
						if cp, ok := h.checkpoints()["vulns"]; ok && cp.Export != nil && len(cp.Export.ChunksDone) > 0 {
							tt.during(h)
							return
						}
						time.Sleep(5 * time.Millisecond)
					}
				}()
			}
			if _, err := h.runOnce(ctx, source.StreamVulns); err != nil {
				t.Fatalf("the run should survive %s: %v", tt.name, err)
			}
			got := keysOf(h.read(h.topics.Vulns, nil))
			h.expectKeys("vulns", want, distinct(got))
			cp := h.checkpoints()["vulns"]
			if cp.Export != nil || !cp.Watermark.Equal(h.sim.Now().Add(-time.Hour)) {
				t.Errorf("checkpoint after recovery: %+v", cp)
			}
			t.Logf("%d records published for %d distinct findings; exports requested: %d", len(got), len(want), h.sim.Stats().ExportsCreated["vulns"])
		})
	}
}

// TestExportFailingEveryTimeKeepsTheWatermark: when Tenable fails every attempt,
// the run fails and the watermark does not move past data that never arrived.
func TestExportFailingEveryTimeKeepsTheWatermark(t *testing.T) {
	h := newHarness(t, tenablesim.Config{Assets: 100, Seed: 14})
	h.cfg.MaxExportAttempts = 2
	h.sim.SetFaults(tenablesim.Faults{ExportErrors: 5})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := h.runOnce(ctx, source.StreamVulns)
	if err == nil {
		t.Fatal("want the run to fail")
	}
	cp := h.checkpoints()["vulns"]
	if !cp.Watermark.IsZero() || cp.Runs != 0 {
		t.Errorf("the watermark moved although no export succeeded: %+v", cp)
	}
	if n := h.sim.Stats().ExportsCreated["vulns"]; n != 2 {
		t.Errorf("%d exports requested, want MaxExportAttempts=2", n)
	}
}

// TestMalformedRecordIsDeadLettered: a record that is not well-formed JSON inside
// an otherwise sound chunk goes, raw and with the reason, to the dead-letter
// topic; every other record of the chunk and the export is published and the
// watermark moves (the record is accounted for, not lost).
func TestMalformedRecordIsDeadLettered(t *testing.T) {
	h := newHarness(t, tenablesim.Config{Assets: 120, Seed: 15})
	h.cfg.VulnsNumAssets = 50
	want := h.truth(tenablesim.TruthVulns, `{"num_assets":50,"include_unlicensed":true,"filters":{"since":1,"state":["OPEN","REOPENED","FIXED"],"severity":["medium","high","critical"]}}`)
	h.sim.SetFaults(tenablesim.Faults{MalformedRecords: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := h.runOnce(ctx, source.StreamVulns); err != nil {
		t.Fatalf("one malformed record should not fail the run: %v", err)
	}
	dlq := h.read(h.topics.DeadLetter, nil)
	if len(dlq) != 1 {
		t.Fatalf("%d dead-lettered records, want the malformed one", len(dlq))
	}
	bad := dlq[0]
	if !bytes.HasPrefix(bad.value, []byte("{"+tenablesim.MalformedMember)) || !strings.Contains(bad.headers[source.HeaderError], "invalid JSON") {
		t.Errorf("dead letter: value %.80q, reason %q", bad.value, bad.headers[source.HeaderError])
	}
	// The record without the broken member names the finding that must be missing.
	var f struct {
		Asset  struct{ UUID string } `json:"asset"`
		Plugin struct{ ID int }      `json:"plugin"`
		Port   struct {
			Port     int    `json:"port"`
			Protocol string `json:"protocol"`
		} `json:"port"`
	}
	if err := json.Unmarshal(bytes.Replace(bad.value, []byte(tenablesim.MalformedMember), nil, 1), &f); err != nil {
		t.Fatalf("dead letter is not the original record: %v", err)
	}
	badKey := fmt.Sprintf("%s|%d|%d|%s", f.Asset.UUID, f.Plugin.ID, f.Port.Port, strings.ToUpper(f.Port.Protocol))
	if !slices.Contains(want, badKey) {
		t.Fatalf("dead-lettered key %s is not in the export's truth", badKey)
	}
	got := distinct(keysOf(h.read(h.topics.Vulns, nil)))
	h.expectKeys("vulns", slices.DeleteFunc(slices.Clone(want), func(k string) bool { return k == badKey }), got)
	if cp := h.checkpoints()["vulns"]; cp.Export != nil || !cp.Watermark.Equal(h.sim.Now().Add(-time.Hour)) {
		t.Errorf("checkpoint: %+v", cp)
	}
}
