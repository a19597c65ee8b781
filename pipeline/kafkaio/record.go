package kafkaio

import (
	"context"
	"fmt"
	"io"
	"time"
	"unsafe"

	"github.com/segmentio/kafka-go"
)

// Header is a record header.
type Header struct {
	Key   string
	Value []byte
}

// Record is one Kafka record as the rest of tvmkafka sees it. On the way out,
// Topic names where it goes and Partition and Offset are ignored (the key picks
// the partition, murmur2 as the Java client does). On the way in, Topic,
// Partition and Offset say where it was read.
type Record struct {
	Topic     string
	Partition int
	Offset    int64
	Key       []byte
	// Value nil is a tombstone; an empty, non-nil Value is an empty value.
	Value   []byte
	Headers []Header
	// Time is the record's timestamp (set by the broker or producer on the way in;
	// zero on the way out lets the producer stamp it).
	Time time.Time
}

// ErrMessageTooLarge is returned (wrapped) when the broker refuses a record as
// larger than the topic's max.message.bytes.
var ErrMessageTooLarge error = kafka.MessageSizeTooLarge

// Header and kafka.Header must stay the same type in all but name: the
// conversion below is checked by the compiler, so that the slice casts in
// kafkaHeaders and fromKafkaHeaders stay sound.
var _ = kafka.Header(Header{})

// kafkaHeaders reuses the header slice as kafka-go's: records of one chunk share
// one header slice, so converting element by element would copy it per record.
func kafkaHeaders(h []Header) []kafka.Header {
	if h == nil {
		return nil
	}
	return unsafe.Slice((*kafka.Header)(unsafe.Pointer(unsafe.SliceData(h))), len(h))
}

func fromKafkaHeaders(h []kafka.Header) []Header {
	if h == nil {
		return nil
	}
	return unsafe.Slice((*Header)(unsafe.Pointer(unsafe.SliceData(h))), len(h))
}

func toMessage(r *Record) kafka.Message {
	return kafka.Message{Topic: r.Topic, Key: r.Key, Value: r.Value, Headers: kafkaHeaders(r.Headers), Time: r.Time}
}

func fromMessage(m *kafka.Message) Record {
	return Record{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset, Key: m.Key, Value: m.Value,
		Headers: fromKafkaHeaders(m.Headers), Time: m.Time}
}

// ValueAt reads the value of one record as the broker holds it: nil when it is
// null, empty and not nil when it is zero bytes long. Readers of kafka-go return
// nil for both, so a caller that must keep them apart (a dead-letter queue
// copies values byte for byte) asks again here for a value it read as nil.
func ValueAt(ctx context.Context, conn Connection, topic string, partition int, offset int64) ([]byte, error) {
	client, err := conn.client()
	if err != nil {
		return nil, err
	}
	res, err := client.Fetch(ctx, &kafka.FetchRequest{Topic: topic, Partition: partition, Offset: offset,
		MinBytes: 1, MaxBytes: 1 << 20, MaxWait: 100 * time.Millisecond})
	if err != nil {
		return nil, fmt.Errorf("fetch %s/%d@%d: %w", topic, partition, offset, err)
	}
	if res.Error != nil {
		return nil, fmt.Errorf("fetch %s/%d@%d: %w", topic, partition, offset, res.Error)
	}
	for {
		rec, err := res.Records.ReadRecord()
		if err != nil {
			return nil, fmt.Errorf("fetch %s/%d@%d: record not found: %w", topic, partition, offset, err)
		}
		if rec.Offset < offset {
			continue // a batch may start before the offset asked for
		}
		if rec.Offset > offset {
			return nil, fmt.Errorf("fetch %s/%d@%d: record not found (next is %d)", topic, partition, offset, rec.Offset)
		}
		if rec.Value == nil {
			return nil, nil
		}
		v, err := io.ReadAll(rec.Value)
		if err != nil {
			return nil, fmt.Errorf("fetch %s/%d@%d: %w", topic, partition, offset, err)
		}
		if v == nil {
			v = []byte{}
		}
		return v, nil
	}
}
