package findingindex

import (
	"context"

	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
)

// Sender sends records and reports their acknowledgement by group;
// *kafkaio.Producer is one.
type Sender interface {
	Send(ctx context.Context, g *kafkaio.AckGroup, msgs ...kafkaio.Record) error
}

// KafkaLog is the index topic on Kafka.
type KafkaLog struct {
	conn  kafkaio.Connection
	topic string
	pub   Sender
}

var _ Log = (*KafkaLog)(nil)

// NewKafkaLog returns the index topic on conn, written through pub.
func NewKafkaLog(conn kafkaio.Connection, topic string, pub Sender) *KafkaLog {
	return &KafkaLog{conn: conn, topic: topic, pub: pub}
}

// Topic names the index topic.
func (l *KafkaLog) Topic() string { return l.topic }

// ReadFrom reads the topic from the given offsets to its end.
func (l *KafkaLog) ReadFrom(ctx context.Context, from map[int]int64, fn func(kafkaio.Record) error) (map[int]int64, error) {
	return kafkaio.ReadFrom(ctx, l.conn, l.topic, from, fn)
}

// Write publishes records and waits for Kafka to acknowledge them.
func (l *KafkaLog) Write(ctx context.Context, recs ...kafkaio.Record) error {
	for i := range recs {
		recs[i].Topic = l.topic
	}
	g := kafkaio.NewAckGroup()
	if err := l.pub.Send(ctx, g, recs...); err != nil {
		return err
	}
	return g.Wait(ctx)
}
