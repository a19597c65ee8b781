package source_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/tvmkafka/tvmkafka/connector/source"
	"github.com/tvmkafka/tvmkafka/connector/tenable"
	"github.com/tvmkafka/tvmkafka/connector/tenablesim"
	"github.com/tvmkafka/tvmkafka/schemas"
)

// TestEchoFilterSkipsAssetsOnlyTheSinkImported: with the sink's import source
// excluded, assets that exist only because tvmkafka imported them are not
// exported again; an existing asset the import merely updated still is.
func TestEchoFilterSkipsAssetsOnlyTheSinkImported(t *testing.T) {
	h := newHarness(t, tenablesim.Config{Assets: 60, Seed: 41})
	const importSource = "tvmkafka Kafka Connector"
	tr, err := h.sim.Truth(tenablesim.TruthAssets, []byte(`{"chunk_size":100,"include_records":true}`))
	if err != nil {
		t.Fatal(err)
	}
	var existing []struct {
		ID    string   `json:"id"`
		FQDNs []string `json:"fqdns"`
	}
	if err := json.Unmarshal(tr.Records, &existing); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(existing, func(a struct {
		ID    string   `json:"id"`
		FQDNs []string `json:"fqdns"`
	}) bool {
		return len(a.FQDNs) > 0
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	jobID, err := h.client.ImportAssets(ctx, importSource, []tenable.ImportAsset{
		{FQDN: []string{"only-imported-1.example.test"}},
		{FQDN: []string{"only-imported-2.example.test"}, IPv4: []string{"198.51.100.2"}},
		{FQDN: []string{existing[i].FQDNs[0]}}, // merges into an asset a scanner found
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.WaitImportJob(ctx, jobID, 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	imp := h.sim.Imports()[0]
	if len(imp.Created) != 2 || len(imp.Updated) != 1 || imp.Updated[0] != existing[i].ID {
		t.Fatalf("import created %v and updated %v", imp.Created, imp.Updated)
	}

	h.cfg.AssetsExcludeSources = []string{importSource}
	if _, err := h.runOnce(ctx, source.StreamAssets); err != nil {
		t.Fatal(err)
	}
	got := keysOf(h.read(h.topics.Assets, nil))
	for _, id := range imp.Created {
		if slices.Contains(got, id) {
			t.Errorf("asset %s exists only through the sink's import and was exported again", id)
		}
	}
	if !slices.Contains(got, existing[i].ID) {
		t.Errorf("asset %s, found by a scanner and updated by the import, must still be exported", existing[i].ID)
	}
	// The whole topic, unfiltered, must be exactly what a first run exports
	// (active, deleted and terminated assets) less the assets only the import
	// created: an unexpected key must show, not be filtered away.
	bodies := connectorBodies(time.Unix(1, 0))
	var want []string
	for _, k := range union(h.truth(tenablesim.TruthAssets, bodies["assets.active"]),
		h.truth(tenablesim.TruthAssets, bodies["assets.deleted"]),
		h.truth(tenablesim.TruthAssets, bodies["assets.terminated"])) {
		if !slices.Contains(imp.Created, k) {
			want = append(want, k)
		}
	}
	h.expectKeys("assets without the echo", want, got)
}

// TestTombstonesFollowDeletedAssets: with tombstones on, each deleted or
// terminated asset's record is followed by a null value for its key.
func TestTombstonesFollowDeletedAssets(t *testing.T) {
	h := newHarness(t, tenablesim.Config{Assets: 300, Seed: 42})
	h.cfg.AssetsTombstones = true
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := h.runOnce(ctx, source.StreamAssets); err != nil {
		t.Fatal(err)
	}
	gone := union(h.truth(tenablesim.TruthAssets, `{"chunk_size":4000,"filters":{"deleted_at":1}}`),
		h.truth(tenablesim.TruthAssets, `{"chunk_size":4000,"filters":{"terminated_at":1}}`))
	if len(gone) == 0 {
		t.Fatal("the tenant should have deleted or terminated assets")
	}
	byKey := map[string][]record{}
	for _, r := range h.read(h.topics.Assets, nil) {
		byKey[r.key] = append(byKey[r.key], r)
	}
	for key, rs := range byKey {
		slices.SortFunc(rs, func(a, b record) int { return int(a.offset - b.offset) })
		if slices.Contains(gone, key) {
			if len(rs) != 2 || rs[0].value == nil || rs[1].value != nil {
				t.Errorf("asset %s: want its record then a tombstone, got %d records", key, len(rs))
			}
			continue
		}
		if len(rs) != 1 || rs[0].value == nil {
			t.Errorf("live asset %s: want one record and no tombstone, got %d", key, len(rs))
		}
	}
}

// TestRegistryFraming: with registry IDs, values use the Confluent wire format
// and carry the ID header.
func TestRegistryFraming(t *testing.T) {
	h := newHarness(t, tenablesim.Config{Assets: 40, Seed: 43})
	h.wires = wires(t)
	ids := map[schemas.Name]int{schemas.NameAsset: 101, schemas.NameVuln: 102, schemas.NameCompliance: 103, schemas.NamePlugin: 104}
	for n, id := range ids {
		w := h.wires[n]
		w.RegistryID = id
		h.wires[n] = w
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := h.runOnce(ctx, source.StreamVulns, source.StreamPlugins); err != nil {
		t.Fatal(err)
	}
	for topic, id := range map[string]int{h.topics.Vulns: 102, h.topics.Plugins: 104} {
		rs := h.read(topic, nil)
		if len(rs) == 0 {
			t.Fatalf("%s is empty", topic)
		}
		for _, r := range rs {
			if r.value[0] != 0 || int(binary.BigEndian.Uint32(r.value[1:5])) != id || r.headers[source.HeaderSchemaID] != strconv.Itoa(id) {
				t.Fatalf("%s record %s: not framed with schema ID %d (headers %v)", topic, r.key, id, r.headers)
			}
			w, err := schemas.ParseWire(r.value)
			if err != nil || w.Kind != schemas.WireConfluent || w.SchemaID != id {
				t.Fatalf("ParseWire: %+v %v", w, err)
			}
		}
	}
}
