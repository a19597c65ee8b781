package source_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tvmkafka/tvmkafka/connector/source"
	"github.com/tvmkafka/tvmkafka/connector/tenablesim"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkatest"
	"github.com/tvmkafka/tvmkafka/schemas"
	"github.com/tvmkafka/tvmkafka/schemas/schematest"
)

// truthRecords maps each record's key to the JSON the simulator serves for it.
func (h *harness) truthRecords(kind, body string, key func(map[string]any) string) map[string]json.RawMessage {
	h.t.Helper()
	var filter map[string]any
	if err := json.Unmarshal([]byte(body), &filter); err != nil {
		h.t.Fatal(err)
	}
	filter["include_records"] = true
	req, err := json.Marshal(filter)
	if err != nil {
		h.t.Fatal(err)
	}
	tr, err := h.sim.Truth(kind, req)
	if err != nil {
		h.t.Fatal(err)
	}
	var records []json.RawMessage
	if err := json.Unmarshal(tr.Records, &records); err != nil {
		h.t.Fatal(err)
	}
	out := map[string]json.RawMessage{}
	for _, r := range records {
		var m map[string]any
		if err := json.Unmarshal(r, &m); err != nil {
			h.t.Fatal(err)
		}
		out[key(m)] = r
	}
	return out
}

func path(m map[string]any, keys ...string) any {
	var v any = m
	for _, k := range keys {
		v = v.(map[string]any)[k]
	}
	return v
}

// TestRecordsDecodeIndependently reads everything a run published with a Kafka
// consumer nobody here wrote (confluent-kafka), decodes it with an Avro decoder
// nobody here wrote (fastavro), and compares every field with the JSON the
// simulated Tenable VM served.
func TestRecordsDecodeIndependently(t *testing.T) {
	h := newHarness(t, tenablesim.Config{Assets: 60, Seed: 44, Plugins: 150})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := h.runOnce(ctx); err != nil {
		t.Fatal(err)
	}
	bodies := connectorBodies(time.Unix(1, 0))
	byID := func(m map[string]any) string { return fmt.Sprint(m["id"]) }
	want := map[string]map[string]json.RawMessage{
		h.topics.Vulns: h.truthRecords(tenablesim.TruthVulns, bodies["vulns"], func(m map[string]any) string {
			return fmt.Sprintf("%v|%v|%v|%s", path(m, "asset", "uuid"), path(m, "plugin", "id"), path(m, "port", "port"),
				strings.ToUpper(fmt.Sprint(path(m, "port", "protocol"))))
		}),
		h.topics.Compliance: h.truthRecords(tenablesim.TruthCompliance, bodies["compliance"], func(m map[string]any) string {
			return fmt.Sprintf("%v|%v", m["asset_uuid"], m["check_id"])
		}),
		h.topics.Plugins: h.truthRecords(tenablesim.TruthPlugins, `{}`, byID),
	}
	assets := map[string]json.RawMessage{}
	states := map[string]string{}
	for stream, state := range map[string]string{"assets.active": source.AssetActive, "assets.deleted": source.AssetDeleted, "assets.terminated": source.AssetTerminated} {
		for k, v := range h.truthRecords(tenablesim.TruthAssets, bodies[stream], byID) {
			assets[k], states[k] = v, state
		}
	}
	want[h.topics.Assets] = assets

	schemaDir := kafkatest.WriteSchemas(t, t.TempDir())
	topics := []string{h.topics.Assets, h.topics.Vulns, h.topics.Compliance, h.topics.Plugins}
	dumped := kafkatest.DumpTopics(t, h.brokers, topics, schemaDir, nil)
	seen := map[string][]string{}
	for _, rec := range dumped {
		seen[rec.Topic] = append(seen[rec.Topic], rec.Key)
		tenableJSON, ok := want[rec.Topic][rec.Key]
		if !ok {
			t.Errorf("%s holds key %s, which the tenant does not", rec.Topic, rec.Key)
			continue
		}
		s, err := schemas.Get(schemas.Name(rec.Schema))
		if err != nil {
			t.Fatal(err)
		}
		var derived map[string]string
		if rec.Topic == h.topics.Assets {
			derived = map[string]string{"state": states[rec.Key]}
		}
		if diffs := schematest.Compare(s, tenableJSON, rec.Value, derived); len(diffs) > 0 {
			t.Errorf("%s record %s decoded by fastavro differs from Tenable's JSON:\n  %s", rec.Topic, rec.Key, strings.Join(diffs, "\n  "))
		}
	}
	// Each topic holds exactly the tenant's keys, each once.
	for _, topic := range topics {
		wantKeys := make([]string, 0, len(want[topic]))
		for k := range want[topic] {
			wantKeys = append(wantKeys, k)
		}
		if len(wantKeys) == 0 {
			t.Errorf("%s: the tenant holds no records, nothing is compared", topic)
		}
		h.expectKeys(topic, wantKeys, seen[topic])
		if got := seen[topic]; len(got) != len(distinct(slices.Sorted(slices.Values(got)))) {
			t.Errorf("%s: %d records for %d distinct keys", topic, len(got), len(distinct(slices.Sorted(slices.Values(got)))))
		}
	}
	t.Logf("decoded and compared %d records", len(dumped))
}
