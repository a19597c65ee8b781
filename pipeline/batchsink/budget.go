package batchsink

import (
	"context"
	"sync"

	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
)

// recordOverhead is what a record costs the sink beyond its key, value and
// headers: kafka-go's message and the sink's copy of it, its place in a batch
// and in the offset tracker, and their allocation slack.
const recordOverhead = 256

// budget caps the bytes held by records between their fetch and the moment
// they are done (delivered, or dead-lettered) or abandoned. The fetch loop
// takes a record's share before handing it on and waits while the budget is
// spent, so the sink's memory follows the budget, not the topic's size or
// the time the destination's jobs take.
type budget struct {
	mu    sync.Mutex
	limit int64
	used  int64
	// freed is closed, and replaced, when bytes are given back: waiters look again.
	freed chan struct{}
	// blocked, when set (tests), is told each time acquire starts waiting.
	blocked chan<- int64
}

func newBudget(limit int64) *budget {
	return &budget{limit: limit, freed: make(chan struct{})}
}

// acquire takes n bytes, waiting until they fit or ctx ends. A share larger
// than the whole budget is let through when nothing else is held, so one
// oversized record slows the sink down instead of stopping it.
func (b *budget) acquire(ctx context.Context, n int64) error {
	for {
		b.mu.Lock()
		if b.used == 0 || b.used+n <= b.limit {
			b.used += n
			b.mu.Unlock()
			return nil
		}
		freed, used := b.freed, b.used
		b.mu.Unlock()
		if b.blocked != nil {
			select {
			case b.blocked <- used:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		select {
		case <-freed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// adjust changes a share already taken, without waiting: a record whose
// request body share turned out larger (or smaller) than its reservation.
func (b *budget) adjust(n int64) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	b.used += n
	if n < 0 {
		close(b.freed)
		b.freed = make(chan struct{})
	}
	b.mu.Unlock()
}

// release gives n bytes back.
func (b *budget) release(n int64) { b.adjust(-n) }

// inUse is what is held now.
func (b *budget) inUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// recordCost is what a fetched record is charged on admission: its bytes and
// overhead, and as much again as its value for its share of a request body
// (adjusted to the real share once the record joins a body).
func recordCost(m *kafkaio.Record) int64 {
	n := recordOverhead + len(m.Key) + 2*len(m.Value)
	for _, h := range m.Headers {
		n += len(h.Key) + len(h.Value) + 32
	}
	return int64(n)
}
