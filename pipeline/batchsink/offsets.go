package batchsink

import (
	"sort"
	"sync"
)

// offsetTracker knows, per partition, which fetched records are done (imported
// or dead-lettered) and so which offset may be committed: the one just past the
// longest run of done records from the start. Records finish out of order (import
// jobs complete in any order), and offsets are not contiguous integers (compaction
// and transaction markers leave gaps), so the tracker works on the offsets it was
// shown, in fetch order.
type offsetTracker struct {
	mu         sync.Mutex
	partitions map[int]*partitionOffsets
}

type partitionOffsets struct {
	// pending are the fetched offsets not yet committable, ascending, with their state.
	pending []pendingOffset
	// committable is the offset to commit (next to read), or -1 when nothing is.
	committable int64
	// committed is the last offset handed to the consumer group.
	committed int64
	// epoch changes when the partition was rewound (a rebalance handed it back
	// at an older offset); completions of an older epoch are ignored.
	epoch int
}

type pendingOffset struct {
	offset int64
	done   bool
}

func newOffsetTracker() *offsetTracker {
	return &offsetTracker{partitions: map[int]*partitionOffsets{}}
}

// fetched records a fetched offset and returns the partition epoch its completion
// must quote. An offset at or below one already seen means the partition was
// rewound: its pending state is dropped (those records are fetched again).
func (t *offsetTracker) fetched(partition int, offset int64) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.partitions[partition]
	if p == nil {
		p = &partitionOffsets{committable: -1, committed: -1}
		t.partitions[partition] = p
	}
	if n := len(p.pending); (n > 0 && offset <= p.pending[n-1].offset) || (n == 0 && p.committable >= 0 && offset < p.committable) {
		p.epoch++
		p.pending = p.pending[:0]
		p.committable = -1
	}
	p.pending = append(p.pending, pendingOffset{offset: offset})
	return p.epoch
}

// done marks a record finished. It reports whether the committable offset moved.
func (t *offsetTracker) done(partition int, offset int64, epoch int) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.partitions[partition]
	if p == nil || p.epoch != epoch {
		return false
	}
	i := sort.Search(len(p.pending), func(i int) bool { return p.pending[i].offset >= offset })
	if i == len(p.pending) || p.pending[i].offset != offset {
		return false
	}
	p.pending[i].done = true
	moved := false
	for len(p.pending) > 0 && p.pending[0].done {
		p.committable = p.pending[0].offset + 1
		p.pending = p.pending[1:]
		moved = true
	}
	return moved
}

// toCommit returns, per partition, the offset to commit when it moved since the
// last markCommitted.
func (t *offsetTracker) toCommit() map[int]int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[int]int64{}
	for id, p := range t.partitions {
		if p.committable > p.committed {
			out[id] = p.committable
		}
	}
	return out
}

// markCommitted records what the group now holds.
func (t *offsetTracker) markCommitted(partition int, offset int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p := t.partitions[partition]; p != nil && offset > p.committed {
		p.committed = offset
	}
}

// outstanding counts fetched records not done yet, over all partitions.
func (t *offsetTracker) outstanding() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, p := range t.partitions {
		for _, o := range p.pending {
			if !o.done {
				n++
			}
		}
	}
	return n
}
