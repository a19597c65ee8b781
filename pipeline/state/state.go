// Package state keeps the connector's checkpoints (watermarks, exports in flight,
// chunks done) as keyed values on a compacted Kafka topic, so the connector itself
// stays stateless: any replica reads the latest value of each key at start.
package state

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
)

// Store holds small values by key, durably.
type Store interface {
	// Load returns the latest value of every key.
	Load(ctx context.Context) (map[string][]byte, error)
	// Put stores value under key and returns once it is durable; a nil value
	// deletes the key.
	Put(ctx context.Context, key string, value []byte) error
}

// KafkaStore is a Store on a compacted topic. Put writes with acks=all and waits
// for the acknowledgement.
type KafkaStore struct {
	conn     kafkaio.Connection
	topic    string
	producer *kafkaio.Producer
}

var _ Store = (*KafkaStore)(nil)

// NewKafkaStore returns a store on topic, writing through producer.
func NewKafkaStore(conn kafkaio.Connection, topic string, producer *kafkaio.Producer) *KafkaStore {
	return &KafkaStore{conn: conn, topic: topic, producer: producer}
}

// Put stores a value and waits until Kafka acknowledged it.
func (s *KafkaStore) Put(ctx context.Context, key string, value []byte) error {
	g := kafkaio.NewAckGroup()
	if err := s.producer.Send(ctx, g, kafka.Message{Topic: s.topic, Key: []byte(key), Value: value}); err != nil {
		return fmt.Errorf("store state %s: %w", key, err)
	}
	if err := g.Wait(ctx); err != nil {
		return fmt.Errorf("store state %s: %w", key, err)
	}
	return nil
}

// Load reads every partition of the topic from its start to the end offset seen
// when Load began, keeping the last value of each key.
func (s *KafkaStore) Load(ctx context.Context) (map[string][]byte, error) {
	client, err := s.conn.Client()
	if err != nil {
		return nil, err
	}
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{s.topic}})
	if err != nil {
		return nil, fmt.Errorf("state topic %s metadata: %w", s.topic, err)
	}
	if len(md.Topics) != 1 || md.Topics[0].Error != nil {
		var terr error
		if len(md.Topics) == 1 {
			terr = md.Topics[0].Error
		}
		return nil, fmt.Errorf("state topic %s: %w", s.topic, errors.Join(errors.New("not found"), terr))
	}
	req := map[string][]kafka.OffsetRequest{}
	for _, p := range md.Topics[0].Partitions {
		req[s.topic] = append(req[s.topic], kafka.FirstOffsetOf(p.ID), kafka.LastOffsetOf(p.ID))
	}
	offs, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: req})
	if err != nil {
		return nil, fmt.Errorf("state topic %s offsets: %w", s.topic, err)
	}
	values := map[string][]byte{}
	for _, po := range offs.Topics[s.topic] {
		if po.Error != nil {
			return nil, fmt.Errorf("state topic %s partition %d: %w", s.topic, po.Partition, po.Error)
		}
		if po.LastOffset <= po.FirstOffset {
			continue
		}
		if err := s.readPartition(ctx, po.Partition, po.FirstOffset, po.LastOffset, values); err != nil {
			return nil, err
		}
	}
	return values, nil
}

func (s *KafkaStore) readPartition(ctx context.Context, partition int, first, end int64, into map[string][]byte) error {
	dialer, err := s.conn.Dialer()
	if err != nil {
		return err
	}
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: s.conn.Brokers, Topic: s.topic, Partition: partition, Dialer: dialer,
		MaxWait: 100 * time.Millisecond, MaxBytes: 16 << 20,
	})
	defer r.Close()
	if err := r.SetOffset(first); err != nil {
		return fmt.Errorf("state topic %s partition %d: %w", s.topic, partition, err)
	}
	for {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			return fmt.Errorf("read state topic %s partition %d: %w", s.topic, partition, err)
		}
		if m.Value == nil {
			delete(into, string(m.Key))
		} else {
			into[string(m.Key)] = m.Value
		}
		// Compaction leaves gaps in offsets; the high watermark covers them.
		if m.Offset >= end-1 || m.Offset+1 >= m.HighWaterMark {
			return nil
		}
	}
}

// MemoryStore is a Store in memory, for tests and the demo.
type MemoryStore struct {
	mu     sync.Mutex
	values map[string][]byte
	puts   int
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty in-memory store.
func NewMemoryStore() *MemoryStore { return &MemoryStore{values: map[string][]byte{}} }

// Load returns a copy of the values.
func (m *MemoryStore) Load(context.Context) (map[string][]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.values), nil
}

// Put stores or deletes a value.
func (m *MemoryStore) Put(_ context.Context, key string, value []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.puts++
	if value == nil {
		delete(m.values, key)
		return nil
	}
	m.values[key] = append([]byte(nil), value...)
	return nil
}

// Puts counts the Put calls so far.
func (m *MemoryStore) Puts() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.puts
}
