package batchsink

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
)

func TestBudgetAcquireWaitsForRoom(t *testing.T) {
	b := newBudget(100)
	blocked := make(chan int64)
	b.blocked = blocked
	ctx := t.Context()
	if err := b.acquire(ctx, 60); err != nil {
		t.Fatal(err)
	}
	if err := b.acquire(ctx, 40); err != nil { // exactly full
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() { got <- b.acquire(ctx, 30) }()
	if used := <-blocked; used != 100 {
		t.Fatalf("blocked with %d in use, want 100", used)
	}
	b.release(20) // not enough room yet: it waits again
	if used := <-blocked; used != 80 {
		t.Fatalf("blocked again with %d in use, want 80", used)
	}
	b.release(40)
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	if n := b.inUse(); n != 70 {
		t.Fatalf("in use %d, want 70", n)
	}
}

func TestBudgetAdmitsAnOversizedShareAlone(t *testing.T) {
	b := newBudget(100)
	if err := b.acquire(t.Context(), 500); err != nil {
		t.Fatalf("a share larger than the budget, with nothing held: %v", err)
	}
	b.blocked = make(chan int64, 1)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := b.acquire(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("acquire while the oversized share is held, context ended: %v", err)
	}
	b.release(500)
	if err := b.acquire(t.Context(), 100); err != nil {
		t.Fatal(err)
	}
}

// budgetConsumer hands out numbered records of a fixed size, and closes
// exhausted as it hands out the last one.
type budgetConsumer struct {
	mu        sync.Mutex
	next, end int
	value     int
	exhausted chan struct{}
}

func (c *budgetConsumer) Fetch(ctx context.Context) (kafkaio.Record, error) {
	c.mu.Lock()
	if c.next == c.end {
		c.mu.Unlock()
		<-ctx.Done()
		return kafkaio.Record{}, ctx.Err()
	}
	i := c.next
	c.next++
	if c.next == c.end {
		close(c.exhausted)
	}
	c.mu.Unlock()
	v := make([]byte, c.value)
	v[0] = byte('a' + i%7) // record i is refused when i%7 == 0 (see budgetConverter)
	return kafkaio.Record{Topic: "in", Partition: i % 3, Offset: int64(i / 3), Key: []byte(strconv.Itoa(i)), Value: v}, nil
}

func (c *budgetConsumer) handedOut() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.next
}

func (c *budgetConsumer) Commit(context.Context, map[int]int64) error { return nil }

type budgetConverter struct{}

func (budgetConverter) Convert(_ context.Context, rec kafkaio.Record) ([]byte, string, error) {
	if rec.Value[0] == 'a' {
		return nil, "", &Refusal{Stage: StageConvert, Exception: "Bad", Reason: "bad"}
	}
	return rec.Value, "", nil
}

// byteBody concatenates items; it never fills up.
type byteBody struct {
	buf   []byte
	items [][2]int
}

func (b *byteBody) Add(item []byte) error {
	b.items = append(b.items, [2]int{len(b.buf), len(b.buf) + len(item)})
	b.buf = append(b.buf, item...)
	return nil
}
func (b *byteBody) Bytes() []byte     { return b.buf }
func (b *byteBody) Len() int          { return len(b.buf) }
func (b *byteBody) Count() int        { return len(b.items) }
func (b *byteBody) Item(i int) []byte { return b.buf[b.items[i][0]:b.items[i][1]] }

// heldDestination accepts every request; its jobs complete once release is closed.
type heldDestination struct {
	release chan struct{}
}

func (d *heldDestination) NewBody() (Body[[]byte], error) { return &byteBody{}, nil }
func (d *heldDestination) Submit(_ context.Context, body []byte) (string, error) {
	return strconv.Itoa(len(body)), nil
}
func (d *heldDestination) Job(context.Context, string) (JobStatus, error) {
	select {
	case <-d.release:
		return JobStatus{Done: true, Status: "COMPLETE"}, nil
	default:
		return JobStatus{}, nil
	}
}

type nopPublisher struct{}

func (nopPublisher) Send(context.Context, *kafkaio.AckGroup, ...kafkaio.Record) error { return nil }

// TestSinkMemoryIsBoundedByTheInFlightBudget: while the destination's jobs do
// not end, the sink stops fetching once the records it holds reach
// MaxInFlightBytes, however many more the topic has; once they end, every
// record is done (delivered or dead-lettered) and every byte of the budget is
// given back.
func TestSinkMemoryIsBoundedByTheInFlightBudget(t *testing.T) {
	const limit, value, records = 64 << 10, 1000, 3000 // the topic holds 3 MB, the budget 64 KiB
	cons := &budgetConsumer{end: records, value: value, exhausted: make(chan struct{})}
	dest := &heldDestination{release: make(chan struct{})}
	s, err := New(Options[[]byte]{
		Config: Config{MaxItems: 10, Linger: time.Hour, MaxResubmits: 0, JobPoll: time.Millisecond,
			PendingBatches: 10_000, RetryMax: time.Second, CommitEvery: time.Hour, MaxInFlightBytes: limit},
		Topic: "in", Consumer: cons, Converter: budgetConverter{}, Destination: dest,
		DeadLetters: DeadLetters{Topic: "dlq", Publisher: nopPublisher{}},
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	blocked := make(chan int64)
	s.budget.blocked = blocked
	until := map[int]int64{0: records / 3, 1: records / 3, 2: records / 3}
	// A guard, not a measure: budget a sink fails to give back would stop
	// it for good; the test then fails instead of hanging.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, until) }()

	select {
	case used := <-blocked:
		if used > limit {
			t.Errorf("the fetch loop waits with %d bytes held, more than the %d of the budget", used, limit)
		}
	case <-cons.exhausted:
		cancel()
		close(dest.release)
		<-done
		t.Fatalf("the sink fetched all %d records (%d bytes) while no job ended; the budget is %d bytes",
			records, records*value, limit)
	}
	// The records fetched, but for the last (which may be waiting for room),
	// that were not refused are all held while no job ends, and each costs
	// at least its value twice (itself and its body share).
	n := cons.handedOut() - 1
	held := n - (n+6)/7
	if most := limit / (2 * value); held > most {
		t.Errorf("%d records held while no job ended, more than the %d the budget has room for", held, most)
	}

	go func() { // it may wait again, briefly, as the jobs end
		for range blocked {
		}
	}()
	defer close(blocked)
	close(dest.release)
	if err := <-done; err != nil {
		t.Fatalf("%v (%d bytes of the budget held)", err, s.budget.inUse())
	}
	st := s.Stats()
	if st.Done+st.DeadLettered != records || st.DeadLettered != (records+6)/7 {
		t.Errorf("done %d, dead-lettered %d, of %d records", st.Done, st.DeadLettered, records)
	}
	if n := s.budget.inUse(); n != 0 {
		t.Errorf("%d bytes of the budget still held after every record was done", n)
	}
}
