package kafkatest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/tvmkafka/tvmkafka/pipeline/kafkatest"
	"github.com/tvmkafka/tvmkafka/schemas"
)

// BenchmarkDumpTopics measures DumpTopics on a topic of 50,000 vuln findings
// (the sample findings with distinct asset UUIDs, about 2 KB of Avro each) in
// three partitions, the size of a large integration test.
func BenchmarkDumpTopics(b *testing.B) {
	const n = 50_000
	kafkatest.Python(b)
	brokers := kafkatest.Brokers(b)
	topic := kafkatest.CreateTopic(b, brokers, 3, nil)
	vuln, err := schemas.Get(schemas.NameVuln)
	if err != nil {
		b.Fatal(err)
	}
	samples := sampleRecords(b, "j1-vuln-export-records-2022.json")
	tr := vuln.NewTranscoder()
	w := &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: topic, RequiredAcks: kafka.RequireAll,
		Balancer: &kafka.Hash{}, BatchTimeout: 10 * time.Millisecond, BatchSize: 1000, Compression: kafka.Snappy}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var size int
	msgs := make([]kafka.Message, 0, 5000)
	for i := range n {
		record := []byte(fmt.Sprintf(`{"asset":{"uuid":"00000000-0000-0000-0000-%012d"},`, i))
		record = append(record, samples[i%len(samples)][1:]...)
		value, key, err := tr.Transcode(schemas.AppendSingleObjectHeader(nil, vuln), record, nil)
		if err != nil {
			b.Fatal(err)
		}
		size += len(value)
		msgs = append(msgs, kafka.Message{Key: key, Value: value})
		if len(msgs) == cap(msgs) || i == n-1 {
			if err := w.WriteMessages(ctx, msgs...); err != nil {
				b.Fatal(err)
			}
			msgs = msgs[:0]
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	schemaDir := kafkatest.WriteSchemas(b, b.TempDir())
	for b.Loop() {
		if got := kafkatest.DumpTopics(b, brokers, []string{topic}, schemaDir, nil); len(got) != n {
			b.Fatalf("dumped %d records, want %d", len(got), n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(size)/n, "value-bytes/record")
}
