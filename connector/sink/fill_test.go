package sink_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tvmkafka/tvmkafka/connector/tenable"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkatest"
)

// TestSinkFillsRequestsWhateverThePartitions: about 11 MB of small assets
// spread over the inbound topic's partitions are imported, with the default
// batching settings, in requests filled to at least 90 % of the 5,000,000-byte
// limit, all but the last; as few requests as the bytes need, however many
// partitions the topic has.
func TestSinkFillsRequestsWhateverThePartitions(t *testing.T) {
	brokers := needsBroker(t)
	const assets = 65_000
	for _, partitions := range []int{1, 6} {
		t.Run(fmt.Sprintf("partitions=%d", partitions), func(t *testing.T) {
			h := newSinkHarnessOn(t, brokers, kafkatest.CreateTopic(t, brokers, partitions, nil), kafkatest.CreateTopic(t, brokers, 1, nil))
			// Linger bounds how long a quiet topic waits; the test is not about
			// it, and a slow machine must not cut requests early.
			h.cfg.Linger = time.Minute
			recs := make([]kafkaio.Record, assets)
			var bytes int
			for i := range recs {
				v := smallAsset(i)
				bytes += len(v)
				recs[i] = kafkaio.Record{Topic: h.inbound, Key: fmt.Appendf(nil, "host-%06d", i), Value: v}
			}
			kafkatest.Produce(t, h.brokers, recs...)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			s, err := h.runOnce(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var sizes []int
			imported := 0
			for _, imp := range h.sim.Imports() {
				sizes = append(sizes, imp.BodyBytes)
				imported += imp.Assets
			}
			if imported != assets || s.Stats().Imported != assets {
				t.Fatalf("imported %d assets (the sink counts %d), want %d", imported, s.Stats().Imported, assets)
			}
			// Every request but the smallest (the rest at the end) is full.
			slices.Sort(sizes)
			want := bytes/tenable.MaxImportBodyBytes + 1
			if len(sizes) != want {
				t.Errorf("%d requests of %v bytes for %d bytes of assets, want %d", len(sizes), sizes, bytes, want)
			}
			for _, n := range sizes[1:] {
				if n < tenable.MaxImportBodyBytes*9/10 || n >= tenable.MaxImportBodyBytes {
					t.Errorf("a request of %d bytes, not between 90 %% and 100 %% of %d; requests %v", n, tenable.MaxImportBodyBytes, sizes)
				}
			}
		})
	}
}
