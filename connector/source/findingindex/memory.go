package findingindex

import (
	"context"
	"sync"

	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
)

// MemoryLog is a Log in memory, one partition, for tests.
type MemoryLog struct {
	mu   sync.Mutex
	recs []kafkaio.Record
	// Fail, when set, fails every Write with it.
	Fail error
}

var _ Log = (*MemoryLog)(nil)

// Topic names the log.
func (m *MemoryLog) Topic() string { return "memory" }

// ReadFrom reads partition 0 from its offset.
func (m *MemoryLog) ReadFrom(ctx context.Context, from map[int]int64, fn func(kafkaio.Record) error) (map[int]int64, error) {
	m.mu.Lock()
	recs := m.recs[min(from[0], int64(len(m.recs))):]
	end := int64(len(m.recs))
	m.mu.Unlock()
	for _, r := range recs {
		if err := fn(r); err != nil {
			return nil, err
		}
	}
	return map[int]int64{0: end}, nil
}

// Write appends records.
func (m *MemoryLog) Write(ctx context.Context, recs ...kafkaio.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Fail != nil {
		return m.Fail
	}
	for _, r := range recs {
		r.Offset = int64(len(m.recs))
		m.recs = append(m.recs, r)
	}
	return nil
}

// Records returns what was written, in order.
func (m *MemoryLog) Records() []kafkaio.Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]kafkaio.Record(nil), m.recs...)
}
