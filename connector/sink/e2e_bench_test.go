package sink_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/tvmkafka/tvmkafka/cmd/tvmkafka/clitest"
	"github.com/tvmkafka/tvmkafka/connector/tenable"
	"github.com/tvmkafka/tvmkafka/connector/tenablesim"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkatest"
)

// smallAsset is a lean inbound asset, about 160 bytes of JSON: identifiers and
// an OS, as an inventory script would send it.
func smallAsset(i int) []byte {
	return fmt.Appendf(nil, `{"fqdn":["host-%06d.corp.example.com"],"ipv4":["10.%d.%d.%d"],"netbios_name":"HOST%06d",`+
		`"mac_address":["02:00:%02x:%02x:%02x:01"],"operating_system":["Ubuntu 24.04"]}`,
		i, (i>>16)&255, (i>>8)&255, i&255, i, (i>>16)&255, (i>>8)&255, i&255)
}

// BenchmarkSinkEndToEnd imports 100,000 inbound assets from the real broker
// into the simulator (in the benchmark's process) with `tvmkafka sink --once`
// (its own process, with the default batching settings), and reports:
//
//	assets/s       inbound assets per second of the sink's wall time, start-up included
//	cpu-us/asset   the sink's user+system CPU per asset (getrusage)
//	peak-RSS-MB    the sink's peak resident memory
//	requests       import requests the simulator received
//	fill-%         the average size of every request but the smallest (the
//	               last, partial one) against the 5,000,000-byte limit, and
//	min-fill-%     the smallest of them
//
// Run it with: make bench-e2e (or go test ./connector/sink -run '^$' -bench SinkEndToEnd -benchtime 1x).
// BENCH_TVMKAFKA_BIN runs another build of tvmkafka instead of this tree's;
// BENCH_SINK_ASSETS imports another number of assets.
func BenchmarkSinkEndToEnd(b *testing.B) {
	const partitions = 6
	assets := 100_000
	if n, err := strconv.Atoi(os.Getenv("BENCH_SINK_ASSETS")); err == nil && n > 0 {
		assets = n // to see the peak RSS stay where it is on a larger topic
	}
	for _, form := range []struct {
		name  string
		value func(int) []byte
	}{{"assets=cmdb", clitest.CMDBAsset}, {"assets=small", smallAsset}} {
		b.Run(form.name, func(b *testing.B) {
			h := newSinkHarness(b, partitions, func(c *tenablesim.Config) { c.ImportLatency = 100 * time.Millisecond })
			// The broker keeps the inbound records LZ4-compressed, so the sink
			// reads and decompresses LZ4 batches as from a producer that compresses.
			h.inbound = kafkatest.CreateTopic(b, h.brokers, partitions, map[string]string{"compression.type": "lz4"})
			var inboundBytes int
			for start := 0; start < assets; start += 10_000 {
				recs := make([]kafkaio.Record, 0, 10_000)
				for i := start; i < min(start+10_000, assets); i++ {
					v := form.value(i)
					inboundBytes += len(v)
					recs = append(recs, kafkaio.Record{Topic: h.inbound, Key: fmt.Appendf(nil, "srv-%06d", i), Value: v})
				}
				kafkatest.Produce(b, h.brokers, recs...)
			}
			b.Logf("%d inbound assets, %d bytes (average %d)", assets, inboundBytes, inboundBytes/assets)
			bin := os.Getenv("BENCH_TVMKAFKA_BIN")
			if bin == "" {
				bin = clitest.Binary(b)
			}
			for b.Loop() {
				h.group = fmt.Sprintf("bench-%d", time.Now().UnixNano())
				importsBefore := len(h.sim.Imports())
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
				cmd := exec.CommandContext(ctx, bin, "sink", "--once")
				cmd.Env = append(h.sinkEnv(), "TVMKAFKA_SINK_LINGER=5s", "TVMKAFKA_SINK_COMMIT_EVERY=1s", "TVMKAFKA_LOG_LEVEL=warn")
				cmd.Stderr = os.Stderr
				use, err := clitest.Measure(cmd)
				cancel()
				if err != nil {
					b.Fatalf("sink: %v", err)
				}
				wall, cpu, peak := use.Wall, use.CPU, use.PeakRSS
				imports := h.sim.Imports()[importsBefore:]
				var sizes []int
				imported := 0
				for _, imp := range imports {
					sizes = append(sizes, imp.BodyBytes)
					imported += imp.Assets
				}
				if imported != assets || slices.Max(sizes) >= tenable.MaxImportBodyBytes {
					b.Fatalf("%d assets imported of %d, in requests of %v bytes", imported, assets, sizes)
				}
				slices.Sort(sizes)
				full := sizes[1:]
				var fill float64
				for _, n := range full {
					fill += float64(n)
				}
				if len(full) > 0 {
					fill /= float64(len(full)) * tenable.MaxImportBodyBytes
					b.ReportMetric(100*float64(full[0])/tenable.MaxImportBodyBytes, "min-fill-%")
				}
				b.ReportMetric(float64(assets)/wall.Seconds(), "assets/s")
				b.ReportMetric(float64(cpu.Nanoseconds())/1e3/float64(assets), "cpu-us/asset")
				b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MB")
				b.ReportMetric(float64(len(imports)), "requests")
				b.ReportMetric(100*fill, "fill-%")
			}
		})
	}
}
