package kafkatest

import (
	"context"
	"testing"

	"github.com/segmentio/kafka-go"
)

// EndOffsets returns each partition's end offset (the offset the next record
// will get) of topic.
func EndOffsets(ctx context.Context, tb testing.TB, brokers []string, topic string) map[int]int64 {
	tb.Helper()
	client := &kafka.Client{Addr: kafka.TCP(brokers...)}
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil || len(md.Topics) != 1 || md.Topics[0].Error != nil {
		tb.Fatalf("metadata of %s: %v %+v", topic, err, md)
	}
	var reqs []kafka.OffsetRequest
	for _, p := range md.Topics[0].Partitions {
		reqs = append(reqs, kafka.LastOffsetOf(p.ID))
	}
	offs, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	if err != nil {
		tb.Fatalf("offsets of %s: %v", topic, err)
	}
	out := map[int]int64{}
	for _, p := range offs.Topics[topic] {
		if p.Error != nil {
			tb.Fatalf("offsets of %s/%d: %v", topic, p.Partition, p.Error)
		}
		out[p.Partition] = p.LastOffset
	}
	return out
}
