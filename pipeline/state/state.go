// Package state keeps the connector's checkpoints (watermarks, exports in flight,
// chunks done) as keyed values on a compacted Kafka topic, so the connector itself
// stays stateless: any replica reads the latest value of each key at start.
package state

import (
	"context"
	"fmt"
	"maps"
	"sync"

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
	if err := s.producer.Send(ctx, g, kafkaio.Record{Topic: s.topic, Key: []byte(key), Value: value}); err != nil {
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
	values := map[string][]byte{}
	err := kafkaio.Scan(ctx, s.conn, s.topic, func(r kafkaio.Record) error {
		if r.Value == nil {
			delete(values, string(r.Key))
		} else {
			values[string(r.Key)] = r.Value
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load state topic %s: %w", s.topic, err)
	}
	return values, nil
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
