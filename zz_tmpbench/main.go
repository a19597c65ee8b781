package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/tvmkafka/tvmkafka/schemas"
)

func main() {
	topic := os.Args[1]
	brokers := []string{"127.0.0.1:19092"}
	client := &kafka.Client{Addr: kafka.TCP(brokers...)}
	ctx := context.Background()
	if _, err := client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{Topic: topic, NumPartitions: 3, ReplicationFactor: 1}}}); err != nil {
		panic(err)
	}
	time.Sleep(2 * time.Second)
	vuln, _ := schemas.Get(schemas.NameVuln)
	data, _ := os.ReadFile("pipeline/kafkatest/testdata/j1-vuln-export-records-2022.json")
	var f struct{ Payload []json.RawMessage }
	json.Unmarshal(data, &f)
	tr := vuln.NewTranscoder()
	w := &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: topic, RequiredAcks: kafka.RequireAll, Balancer: &kafka.Hash{}, BatchTimeout: 10 * time.Millisecond, BatchSize: 1000}
	var msgs []kafka.Message
	for i := range 50000 {
		record := []byte(fmt.Sprintf(`{"asset":{"uuid":"00000000-0000-0000-0000-%012d"},`, i))
		record = append(record, f.Payload[i%len(f.Payload)][1:]...)
		value, key, err := tr.Transcode(schemas.AppendSingleObjectHeader(nil, vuln), record, nil)
		if err != nil {
			panic(err)
		}
		msgs = append(msgs, kafka.Message{Key: key, Value: value})
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		panic(err)
	}
	w.Close()
	for _, s := range schemas.All() {
		os.WriteFile("/tmp/schemadir/"+s.Name.String()+".avsc", []byte(s.Text), 0o644)
	}
}
