package kafkatest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
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

	committed := kafkatest.CommittedOffsets(t, brokers, group, topic)
	if len(committed) != 3 {
		t.Fatalf("committed offsets of %d partitions, want 3: %v", len(committed), committed)
	}
	for p, off := range committed {
		if off != perPartition[p] {
			t.Errorf("partition %d: committed offset %d, want %d (every message read)", p, off, perPartition[p])
		}
	}
}

// TestProduceAndReadTopic: records written with ProducePartitioned come back
// from ReadTopic on their partitions, in order, with keys, values, tombstones
// and headers as written; reading from given offsets returns only what follows.
func TestProduceAndReadTopic(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	topic := kafkatest.CreateTopic(t, brokers, 2, nil)
	var recs []kafkaio.Record
	for i := range 10 {
		r := kafkaio.Record{Topic: topic, Partition: i % 2, Key: fmt.Appendf(nil, "k%d", i), Value: fmt.Appendf(nil, "v%d", i),
			Headers: []kafkaio.Header{{Key: "n", Value: fmt.Appendf(nil, "%d", i)}, {Key: "origin", Value: []byte("test")}}}
		if i == 9 {
			r.Value = nil // a tombstone
		}
		recs = append(recs, r)
	}
	kafkatest.ProducePartitioned(t, brokers, recs...)
	got := kafkatest.ReadTopic(t, brokers, topic, nil)
	if len(got) != len(recs) {
		t.Fatalf("read %d records, want %d", len(got), len(recs))
	}
	// Partition 0 holds the even records, then partition 1 the odd ones.
	for j, g := range got {
		i := 2 * j
		if j >= 5 {
			i = 2*(j-5) + 1
		}
		want := recs[i]
		if g.Topic != topic || g.Partition != i%2 || g.Offset != int64(i/2) || string(g.Key) != string(want.Key) ||
			string(g.Value) != string(want.Value) || (want.Value == nil) != (g.Value == nil) {
			t.Errorf("record %d: got %s/%d@%d %q=%q, want %s/%d@%d %q=%q", i, g.Topic, g.Partition, g.Offset, g.Key, g.Value,
				topic, i%2, i/2, want.Key, want.Value)
		}
		if h := kafkatest.HeaderMap(g); h["n"] != fmt.Sprint(i) || h["origin"] != "test" || len(h) != 2 {
			t.Errorf("record %d: headers %v", i, h)
		}
	}
	tail := kafkatest.ReadTopic(t, brokers, topic, map[int]int64{0: 4, 1: 5})
	if keys := kafkatest.Keys(tail); len(keys) != 1 || keys[0] != "k8" {
		t.Errorf("from offsets 4 and 5 read %v, want [k8]", keys)
	}
}
