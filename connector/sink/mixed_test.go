package sink_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tvmkafka/tvmkafka/connector/sink"
	"github.com/tvmkafka/tvmkafka/connector/tenable"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkatest"
)

// inboundRecord is one record of the mixed inbound stream and what must become
// of it: imported under fqdn, or dead-lettered with a reason containing reason.
type inboundRecord struct {
	key, fqdn, reason string
	value             []byte
}

// mixedInbound builds thousands of inbound records of every kind an upstream
// tool may produce. Keys starting aws-, azure- and gcp- carry assets of that
// provider.
func mixedInbound(t *testing.T) []inboundRecord {
	var out []inboundRecord
	valid := func(key string, i int, value []byte) {
		out = append(out, inboundRecord{key: key, fqdn: fmt.Sprintf("host-%05d.example.test", i), value: value})
	}
	invalid := func(key, reason string, value []byte) {
		out = append(out, inboundRecord{key: key, reason: reason, value: value})
	}
	// About 10 KB of installed software each, so each partition needs several
	// full requests.
	var software []string
	for j := range 200 {
		software = append(software, fmt.Sprintf(`"cpe:/a:vendor%03d:product%03d:%d.%d"`, j, j, j%7, j))
	}
	padding := `,"installed_software":[` + strings.Join(software, ",") + `]`
	for i := range 3000 {
		key := fmt.Sprintf("asset-%d", i)
		switch {
		case i%10 == 3:
			valid(key, i, avroAsset(t, i))
		case i%100 == 11:
			valid("aws-"+key, i, jsonAsset(i, fmt.Sprintf(`,"aws_ec2_instance_id":"i-%012x","aws_region":"eu-west-1"`, i)))
		case i%100 == 12:
			valid("azure-"+key, i, jsonAsset(i, fmt.Sprintf(`,"azure_vm_id":"vm-%d","azure_resource_id":"/subscriptions/s/vm-%d"`, i, i)))
		case i%100 == 13:
			valid("gcp-"+key, i, jsonAsset(i, fmt.Sprintf(`,"gcp_project_id":"p-%d","gcp_instance_id":"%d","gcp_zone":"europe-west1-b"`, i, i)))
		case i%100 == 21:
			invalid(key, "none of the attributes", []byte(`{"hostname":["no-identifier"],"operating_system":["Linux"]}`))
		case i%100 == 22:
			invalid(key, "", []byte{0xC3, 0x01, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0, 1, 2})
		case i%100 == 23:
			invalid(key, "", []byte(`{"fqdn":["truncated.example`))
		case i%100 == 24:
			invalid(key, "fqdn", []byte(`{"fqdn":"a-string-not-an-array.example"}`))
		case i%100 == 25:
			invalid(key, "", []byte(fmt.Sprintf(`{"fqdn":["mixed-%d.example"],"aws_ec2_instance_id":"i-1","gcp_project_id":"p"}`, i)))
		case i%100 == 26:
			invalid(key, "ipv4", []byte(`{"ipv4":["10.1.2.256"]}`))
		case i%100 == 27:
			invalid(key, "colour", []byte(`{"fqdn":["x.example"],"colour":"blue"}`))
		default:
			valid(key, i, jsonAsset(i, padding))
		}
	}
	// One asset larger than any request may be, valid otherwise.
	var huge []string
	for j := range 170000 {
		huge = append(huge, fmt.Sprintf(`"cpe:/a:vendor:product:%07d"`, j))
	}
	invalid("asset-huge", "more than an import request", jsonAsset(99999, `,"installed_software":[`+strings.Join(huge, ",")+`]`))
	if n := len(out[len(out)-1].value); n <= tenable.MaxImportBodyBytes {
		t.Fatalf("the huge asset has %d bytes, it must exceed a request", n)
	}
	return out
}

// providerPartition routes each cloud provider's assets to a partition of its
// own, the way an inventory tool per provider would, and the rest by key hash
// (FNV-1a, as Sarama-compatible producers choose it).
func providerPartition(key []byte, partitions int) int {
	for i, prefix := range []string{"aws-", "azure-", "gcp-"} {
		if bytes.HasPrefix(key, []byte(prefix)) {
			return i % partitions
		}
	}
	h := fnv.New32a()
	h.Write(key)
	p := int32(h.Sum32()) % int32(partitions)
	if p < 0 {
		p = -p
	}
	return int(p)
}

// exportImported runs a real asset export, as the source stage would, and
// returns the FQDN and source names of every asset from the import source.
func (h *sinkHarness) exportImported(ctx context.Context) map[string][]string {
	h.t.Helper()
	job, err := h.client.StartAssetExport(ctx, tenable.AssetExportRequest{ChunkSize: 4000,
		Filters: tenable.AssetFilters{Sources: []string{h.cfg.Source}}})
	if err != nil {
		h.t.Fatal(err)
	}
	var mu sync.Mutex
	out := map[string][]string{}
	_, err = h.client.FollowExport(ctx, job, tenable.FollowOptions{PollInitial: 20 * time.Millisecond, PollMax: 200 * time.Millisecond},
		func(ctx context.Context, chunk int) error {
			_, err := h.client.DownloadChunk(ctx, tenable.ExportAssets, job.UUID, chunk, func(record []byte) error {
				var a struct {
					FQDNs   []string `json:"fqdns"`
					Sources []struct {
						Name string `json:"name"`
					} `json:"sources"`
				}
				if err := json.Unmarshal(record, &a); err != nil {
					return err
				}
				var names []string
				for _, s := range a.Sources {
					names = append(names, s.Name)
				}
				mu.Lock()
				defer mu.Unlock()
				for _, f := range a.FQDNs {
					out[f] = names
				}
				return nil
			})
			return err
		})
	if err != nil {
		h.t.Fatal(err)
	}
	return out
}

// TestSinkMixedInboundEndToEnd produces thousands of inbound records of every
// kind (JSON and Avro, assets of each cloud provider, records without
// identifiers, malformed bytes, wrong types, mixed providers, an asset larger
// than a request) to three partitions and runs the sink once: every valid
// asset is in the next asset export with the sink's import source, every
// invalid record is dead-lettered with its reason, no request reaches 5 MB, no
// request mixes providers, and the sink sends at most one request more per
// partition than the bytes need.
func TestSinkMixedInboundEndToEnd(t *testing.T) {
	const partitions = 3
	h := newSinkHarness(t, partitions)
	// The inbound topic takes records as large as a request (the application
	// creates it so); the dead-letter topic keeps Kafka's default of about 1 MB,
	// so the huge asset is dead-lettered without its value.
	h.inbound = kafkatest.CreateTopic(t, h.brokers, partitions, map[string]string{"max.message.bytes": "8388608"})
	h.cfg.MaxRecords = 100000
	h.cfg.Linger = time.Minute // only size and the catch-up cut batches
	records := mixedInbound(t)

	recs := make([]kafkaio.Record, len(records))
	for i, r := range records {
		recs[i] = kafkaio.Record{Topic: h.inbound, Partition: providerPartition([]byte(r.key), partitions), Key: []byte(r.key), Value: r.value}
	}
	kafkatest.ProducePartitioned(t, h.brokers, recs...)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	s, err := h.runOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// Every valid asset is in the next asset export, with the import source.
	exported := h.exportImported(ctx)
	var want, got []string
	for _, r := range records {
		if r.fqdn != "" {
			want = append(want, r.fqdn)
		}
	}
	for fqdn, sources := range exported {
		got = append(got, fqdn)
		if !slices.Contains(sources, h.cfg.Source) {
			t.Errorf("exported asset %s has sources %v, without the import source %q", fqdn, sources, h.cfg.Source)
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("the asset export holds %d imported assets, want the %d valid ones", len(got), len(want))
	}

	// Every invalid record is dead-lettered, with its reason.
	byOffset := map[string]kafkaio.Record{}
	for _, m := range kafkatest.ReadTopic(t, h.brokers, h.dlq, nil) {
		hd := kafkatest.HeaderMap(m)
		byOffset[hd[sink.HeaderDLQPartition]+"/"+hd[sink.HeaderDLQOffset]] = m
	}
	inbound := kafkatest.ReadTopic(t, h.brokers, h.inbound, nil)
	var invalid int
	for _, m := range inbound {
		i := slices.IndexFunc(records, func(r inboundRecord) bool { return r.key == string(m.Key) })
		r := records[i]
		dead, isDead := byOffset[fmt.Sprintf("%d/%d", m.Partition, m.Offset)]
		if r.fqdn != "" {
			if isDead {
				t.Errorf("valid record %s was dead-lettered: %s", r.key, kafkatest.HeaderMap(dead)[sink.HeaderDLQMessage])
			}
			continue
		}
		invalid++
		if !isDead {
			t.Errorf("invalid record %s (%.60q) is not in the dead-letter topic", r.key, r.value)
			continue
		}
		reason := kafkatest.HeaderMap(dead)[sink.HeaderDLQMessage]
		if reason == "" || !strings.Contains(reason, r.reason) {
			t.Errorf("record %s dead-lettered with reason %q, want one naming %q", r.key, reason, r.reason)
		}
		switch dropped := kafkatest.HeaderMap(dead)[sink.HeaderDLQValueDropped]; {
		case r.key == "asset-huge" && dropped != fmt.Sprint(len(r.value)):
			t.Errorf("the huge asset's dead letter should say its %d-byte value was dropped, header %q", len(r.value), dropped)
		case r.key != "asset-huge" && (dropped != "" || string(dead.Value) != string(r.value)):
			t.Errorf("dead letter of %s should carry the original value", r.key)
		}
	}
	if len(byOffset) != invalid || s.Stats().DeadLettered != invalid {
		t.Errorf("%d dead letters (stats %d), want the %d invalid records", len(byOffset), s.Stats().DeadLettered, invalid)
	}

	// Requests: below the limit, one provider each, no more than the bytes need
	// plus one partial request per partition.
	var requests, bodyBytes int
	for _, imp := range h.sim.Imports() {
		requests++
		bodyBytes += imp.BodyBytes
		if imp.BodyBytes >= tenable.MaxImportBodyBytes {
			t.Errorf("import %s had %d bytes, the limit is %d", imp.JobID, imp.BodyBytes, tenable.MaxImportBodyBytes)
		}
		if imp.Error != "" {
			t.Errorf("import %s failed: %s", imp.JobID, imp.Error)
		}
	}
	bound := (bodyBytes+tenable.MaxImportBodyBytes-1)/tenable.MaxImportBodyBytes + partitions
	if requests > bound {
		t.Errorf("%d import requests for %d body bytes over %d partitions: at most %d expected", requests, bodyBytes, partitions, bound)
	}
	if p := h.pending(); len(p) != 0 {
		t.Errorf("offsets not committed to the end: %v pending", p)
	}
	st := s.Stats()
	t.Logf("%d records: %d imported in %d requests (%d bytes, bound %d requests; %d full, filled to %.2f%%), %d dead-lettered",
		len(records), st.Imported, requests, bodyBytes, bound, st.FullRequests, 100*st.FullRequestFill(tenable.MaxImportBodyBytes), st.DeadLettered)
}
