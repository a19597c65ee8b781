package kafkatest

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
)

// These helpers read and write with kafka-go directly, not through kafkaio, so
// a fault in the code under test cannot hide itself in the test's own view of
// the topics.

// ioTimeout bounds one helper call.
const ioTimeout = 60 * time.Second

// EndOffsets returns each partition's end offset (the offset the next record
// will get) of topic.
func EndOffsets(ctx context.Context, tb testing.TB, brokers []string, topic string) map[int]int64 {
	tb.Helper()
	client := newClient(brokers, 30*time.Second)
	defer client.close()
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

// ReadTopic returns the records of topic from the offsets in from (a partition
// missing from it: from its start) up to the end offsets at call time, ordered
// by partition and offset, with Topic, Partition, Offset, Key, Value (nil for
// a tombstone), Headers and Time set. It joins no consumer group.
func ReadTopic(tb testing.TB, brokers []string, topic string, from map[int]int64) []kafkaio.Record {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	ends := EndOffsets(ctx, tb, brokers, topic)
	var out []kafkaio.Record
	for _, p := range slices.Sorted(maps.Keys(ends)) {
		start, end := from[p], ends[p]
		if end <= start {
			continue
		}
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: p, MaxWait: 50 * time.Millisecond, MaxBytes: 16 << 20})
		if err := r.SetOffset(start); err != nil {
			tb.Fatalf("read %s/%d from %d: %v", topic, p, start, err)
		}
		for {
			m, err := r.ReadMessage(ctx)
			if err != nil {
				_ = r.Close()
				tb.Fatalf("read %s/%d (%d records read, end offset %d): %v", topic, p, len(out), end, err)
			}
			out = append(out, fromMessage(m))
			// Compaction leaves gaps in offsets; the high watermark covers them.
			if m.Offset >= end-1 || m.Offset+1 >= m.HighWaterMark {
				break
			}
		}
		_ = r.Close()
	}
	return out
}

// HeaderMap returns a record's headers by name (the last value of a repeated one).
func HeaderMap(r kafkaio.Record) map[string]string {
	out := make(map[string]string, len(r.Headers))
	for _, h := range r.Headers {
		out[h.Key] = string(h.Value)
	}
	return out
}

// Keys returns the records' keys, sorted, duplicates kept.
func Keys(rs []kafkaio.Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r.Key)
	}
	slices.Sort(out)
	return out
}

// Produce writes records with acks=all and returns once every one was
// acknowledged. Each goes to the partition its key picks, as kafkaio's producer
// and the Java client choose it (murmur2); Record.Partition is ignored.
func Produce(tb testing.TB, brokers []string, recs ...kafkaio.Record) {
	tb.Helper()
	produce(tb, brokers, &kafka.Murmur2Balancer{Consistent: true}, recs)
}

// ProducePartitioned writes records as Produce does, each to its Record.Partition.
func ProducePartitioned(tb testing.TB, brokers []string, recs ...kafkaio.Record) {
	tb.Helper()
	produce(tb, brokers, kafka.BalancerFunc(func(m kafka.Message, _ ...int) int { return m.Partition }), recs)
}

func produce(tb testing.TB, brokers []string, balancer kafka.Balancer, recs []kafkaio.Record) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	transport := &kafka.Transport{} // see client
	defer transport.CloseIdleConnections()
	w := &kafka.Writer{Addr: kafka.TCP(brokers...), RequiredAcks: kafka.RequireAll, Balancer: balancer,
		BatchTimeout: 5 * time.Millisecond, BatchSize: 1000, BatchBytes: 8 << 20, Transport: transport}
	defer w.Close()
	const batch = 5000 // WriteMessages holds a call's messages in memory until they are all acknowledged
	for len(recs) > 0 {
		n := min(batch, len(recs))
		msgs := make([]kafka.Message, n)
		for i, r := range recs[:n] {
			msgs[i] = kafka.Message{Topic: r.Topic, Partition: r.Partition, Key: r.Key, Value: r.Value, Time: r.Time}
			for _, h := range r.Headers {
				msgs[i].Headers = append(msgs[i].Headers, kafka.Header{Key: h.Key, Value: h.Value})
			}
		}
		if err := w.WriteMessages(ctx, msgs...); err != nil {
			tb.Fatalf("produce %d records: %v", n, err)
		}
		recs = recs[n:]
	}
}

// CommittedOffsets returns the offsets group committed for each partition of
// topic (-1: none committed).
func CommittedOffsets(tb testing.TB, brokers []string, group, topic string) map[int]int64 {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	parts := slices.Sorted(maps.Keys(EndOffsets(ctx, tb, brokers, topic)))
	client := newClient(brokers, 30*time.Second)
	defer client.close()
	resp, err := client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: parts}})
	if err == nil {
		err = resp.Error
	}
	if err != nil {
		tb.Fatalf("committed offsets of group %s on %s: %v", group, topic, err)
	}
	out := map[int]int64{}
	for _, p := range resp.Topics[topic] {
		if p.Error != nil {
			tb.Fatalf("committed offset of group %s on %s/%d: %v", group, topic, p.Partition, p.Error)
		}
		out[p.Partition] = p.CommittedOffset
	}
	return out
}

func fromMessage(m kafka.Message) kafkaio.Record {
	r := kafkaio.Record{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset, Key: m.Key, Value: m.Value, Time: m.Time}
	for _, h := range m.Headers {
		r.Headers = append(r.Headers, kafkaio.Header{Key: h.Key, Value: h.Value})
	}
	return r
}

// client is a kafka-go client with a transport of its own: the shared default
// transport caches topic metadata for seconds, so a topic created by another
// client (the code under test) could look missing to it.
type client struct {
	*kafka.Client
	transport *kafka.Transport
}

func newClient(brokers []string, timeout time.Duration) client {
	t := &kafka.Transport{}
	return client{Client: &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: timeout, Transport: t}, transport: t}
}

func (c client) close() { c.transport.CloseIdleConnections() }
