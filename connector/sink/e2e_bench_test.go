package sink_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tvmkafka/tvmkafka/connector/tenable"
	"github.com/tvmkafka/tvmkafka/connector/tenablesim"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkatest"
)

// cmdbAsset is an inbound asset as a CMDB would send it: identifiers, OS,
// addresses and a little installed software, about 1 KB of JSON.
func cmdbAsset(i int) []byte {
	var sw []string
	for j := range 12 {
		sw = append(sw, fmt.Sprintf(`"cpe:/a:vendor%d:product%d:%d.%d.%d"`, (i+j)%50, j, i%9, j, i%13))
	}
	return fmt.Appendf(nil, `{"fqdn":["srv-%06d.corp.example.com"],"ipv4":["10.%d.%d.%d"],"ipv6":["fd00::%x:%x"],`+
		`"mac_address":["02:00:%02x:%02x:%02x:01"],"netbios_name":"SRV%06d","hostname":["srv-%06d"],`+
		`"operating_system":["Microsoft Windows Server 2022 Standard"],"ssh_fingerprint":"SHA256:%064x",`+
		`"bios_uuid":"4c4c4544-%04x-%04x-8000-%012x","manufacturer_tpm_id":"tpm-%08x","installed_software":[%s]}`,
		i, (i>>16)&255, (i>>8)&255, i&255, i>>16, i&0xffff, (i>>16)&255, (i>>8)&255, i&255, i, i, i, i&0xffff, i>>16, i, i, strings.Join(sw, ","))
}

// BenchmarkSinkEndToEnd imports inbound assets from the real broker into the
// simulator with the sink, and reports inbound assets per second of the run,
// request bytes and how full the full requests were against the 5,000,000-byte
// limit. One op is one consumer group reading the whole topic.
//
// Run it with: make bench-e2e (or go test ./connector/sink -run '^$' -bench SinkEndToEnd -benchtime 1x).
func BenchmarkSinkEndToEnd(b *testing.B) {
	const assets, partitions = 100_000, 6
	h := newSinkHarness(b, partitions, func(c *tenablesim.Config) { c.ImportLatency = 100 * time.Millisecond })
	h.cfg.JobPoll = 50 * time.Millisecond
	h.cfg.CommitEvery = time.Second
	h.cfg.Linger = 5 * time.Second
	h.cfg.MaxRecords = 100_000 // let the 5 MB limit cut the requests
	h.drain = time.Minute

	// The broker keeps the inbound records LZ4-compressed, so the sink reads
	// and decompresses LZ4 batches as from a producer that compresses.
	h.inbound = kafkatest.CreateTopic(b, h.brokers, partitions, map[string]string{"compression.type": "lz4"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var inboundBytes int
	for start := 0; start < assets; start += 10_000 {
		recs := make([]kafkaio.Record, 0, 10_000)
		for i := start; i < min(start+10_000, assets); i++ {
			v := cmdbAsset(i)
			inboundBytes += len(v)
			recs = append(recs, kafkaio.Record{Topic: h.inbound, Key: fmt.Appendf(nil, "srv-%06d", i), Value: v})
		}
		kafkatest.Produce(b, h.brokers, recs...)
	}
	b.Logf("%d inbound assets, %d bytes (average %d)", assets, inboundBytes, inboundBytes/assets)

	for b.Loop() {
		b.StopTimer()
		h.group = fmt.Sprintf("bench-%d", time.Now().UnixNano())
		importsBefore := len(h.sim.Imports())
		b.StartTimer()
		start := time.Now()
		s, err := h.runOnce(ctx)
		if err != nil {
			b.Fatal(err)
		}
		wall := time.Since(start)
		b.StopTimer()
		st := s.Stats()
		if st.Imported != assets || st.DeadLettered != 0 {
			b.Fatalf("imported %d of %d assets, %d dead-lettered", st.Imported, assets, st.DeadLettered)
		}
		if st.RequestBytesMax >= tenable.MaxImportBodyBytes || len(h.sim.Imports())-importsBefore != st.Requests {
			b.Fatalf("largest request %d bytes; %d requests counted, the tenant saw %d",
				st.RequestBytesMax, st.Requests, len(h.sim.Imports())-importsBefore)
		}
		b.ReportMetric(float64(assets)/wall.Seconds(), "assets/s")
		b.ReportMetric(float64(st.Requests), "requests")
		b.ReportMetric(float64(st.RequestBytes)/1e6, "request-MB")
		b.ReportMetric(100*st.FullRequestFill(tenable.MaxImportBodyBytes), "full-fill-%")
		b.StartTimer()
	}
}
