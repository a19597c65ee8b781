package kafkatest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/tvmkafka/tvmkafka/pipeline/kafkatest"
)

// TestBrokerRoundTrip proves the harness: an acks=all writer fills a new
// three-partition topic and a consumer group reads every message back and
// commits it, so the group's committed offsets reach each partition's end.
func TestBrokerRoundTrip(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	topic := kafkatest.CreateTopic(t, brokers, 3, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	const n = 300
	w := &kafka.Writer{
		Addr:         kafka.TCP(brokers...),
		Topic:        topic,
		RequiredAcks: kafka.RequireAll,
		Balancer:     &kafka.Hash{},
		BatchTimeout: 10 * time.Millisecond,
	}
	msgs := make([]kafka.Message, n)
	for i := range msgs {
		msgs[i] = kafka.Message{Key: []byte(fmt.Sprintf("key-%d", i)), Value: []byte(fmt.Sprintf("value-%d", i))}
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("close writer: %v", err)
	}

	group := kafkatest.UniqueName("harness")
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:        brokers,
		GroupID:        group,
		Topic:          topic,
		StartOffset:    kafka.FirstOffset,
		MaxWait:        100 * time.Millisecond,
		CommitInterval: 0, // synchronous commits, so a failed commit is an error here
	})
	defer r.Close()

	seen := map[string]string{}
	perPartition := map[int]int64{}
	for len(seen) < n {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatalf("fetch after %d messages: %v", len(seen), err)
		}
		if prev, dup := seen[string(m.Key)]; dup {
			t.Fatalf("key %s delivered twice (%s, %s)", m.Key, prev, m.Value)
		}
		seen[string(m.Key)] = string(m.Value)
		perPartition[m.Partition]++
		if err := r.CommitMessages(ctx, m); err != nil {
			t.Fatalf("commit: %v", err)
		}
	}
	for i := 0; i < n; i++ {
		if got, want := seen[fmt.Sprintf("key-%d", i)], fmt.Sprintf("value-%d", i); got != want {
			t.Fatalf("key-%d: got value %q, want %q", i, got, want)
		}
	}
	if len(perPartition) != 3 {
		t.Fatalf("messages landed on %d partitions, want all 3: %v", len(perPartition), perPartition)
	}

	client := &kafka.Client{Addr: kafka.TCP(brokers...)}
	offsets, err := client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: {0, 1, 2}}})
	if err != nil {
		t.Fatalf("offset fetch: %v", err)
	}
	for _, p := range offsets.Topics[topic] {
		if p.Error != nil {
			t.Fatalf("partition %d: %v", p.Partition, p.Error)
		}
		if p.CommittedOffset != perPartition[p.Partition] {
			t.Errorf("partition %d: committed offset %d, want %d (every message read)", p.Partition, p.CommittedOffset, perPartition[p.Partition])
		}
	}
}
