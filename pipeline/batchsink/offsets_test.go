package batchsink

import (
	"math/rand/v2"
	"testing"
)

func TestOffsetTrackerCommitsOnlyContiguousDone(t *testing.T) {
	tr := newOffsetTracker()
	// Offsets 10..14 with a gap (compaction): 10, 11, 13, 14.
	offs := []int64{10, 11, 13, 14}
	var epochs []int
	for _, o := range offs {
		epochs = append(epochs, tr.fetched(0, o))
	}
	steps := []struct {
		done int64
		want int64 // -1: nothing committable
	}{
		{13, -1}, // 10 and 11 are still pending
		{11, -1}, // 10 still pending
		{10, 14}, // 10, 11 and 13 done: next to read is 14
		{14, 15},
	}
	for _, s := range steps {
		tr.done(0, s.done, epochs[0])
		got, ok := tr.toCommit()[0]
		if s.want < 0 {
			if ok {
				t.Fatalf("after %d done: commit %d, want none", s.done, got)
			}
			continue
		}
		if got != s.want {
			t.Fatalf("after %d done: commit %d, want %d", s.done, got, s.want)
		}
		tr.markCommitted(0, got)
		if _, again := tr.toCommit()[0]; again {
			t.Fatal("a committed offset should not be offered again")
		}
	}
	if tr.outstanding() != 0 {
		t.Errorf("outstanding %d, want 0", tr.outstanding())
	}
}

func TestOffsetTrackerPartitionsAreIndependent(t *testing.T) {
	tr := newOffsetTracker()
	e0 := tr.fetched(0, 5)
	e1 := tr.fetched(1, 100)
	tr.fetched(1, 101)
	tr.done(1, 100, e1)
	tr.done(0, 5, e0)
	got := tr.toCommit()
	if got[0] != 6 || got[1] != 101 || len(got) != 2 {
		t.Fatalf("commit %v, want partition 0 at 6 and 1 at 101", got)
	}
}

// TestOffsetTrackerRewind: after a rebalance hands a partition back at an older
// offset, completions from before are ignored and nothing past the new position
// becomes committable until its records are done again.
func TestOffsetTrackerRewind(t *testing.T) {
	tr := newOffsetTracker()
	old := tr.fetched(0, 50)
	tr.fetched(0, 51)
	newEpoch := tr.fetched(0, 40) // rewound
	if newEpoch == old {
		t.Fatal("a rewind must start a new epoch")
	}
	if tr.done(0, 50, old) || tr.done(0, 51, old) {
		t.Fatal("completions of the old epoch must not count")
	}
	if _, ok := tr.toCommit()[0]; ok {
		t.Fatal("nothing is committable after a rewind")
	}
	tr.done(0, 40, newEpoch)
	if got := tr.toCommit()[0]; got != 41 {
		t.Fatalf("commit %d, want 41", got)
	}
}

// TestOffsetTrackerRandomOrder completes records in random order: the committed
// offset never passes a record that is not done.
func TestOffsetTrackerRandomOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 50 {
		tr := newOffsetTracker()
		n := 1 + r.IntN(200)
		offs := make([]int64, n)
		var next int64
		for i := range offs {
			next += 1 + int64(r.IntN(3))
			offs[i] = next
			tr.fetched(3, next)
		}
		done := map[int64]bool{}
		for _, i := range r.Perm(n) {
			tr.done(3, offs[i], 0)
			done[offs[i]] = true
			c, ok := tr.toCommit()[3]
			if !ok {
				continue
			}
			for _, o := range offs {
				if o < c && !done[o] {
					t.Fatalf("round %d: commit %d passes offset %d, which is not done", round, c, o)
				}
			}
			tr.markCommitted(3, c)
		}
		if c := tr.partitions[3].committable; c != offs[n-1]+1 {
			t.Fatalf("round %d: final commit %d, want %d", round, c, offs[n-1]+1)
		}
	}
}
