package kafkaio

import (
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
