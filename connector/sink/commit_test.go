package sink_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tvmkafka/tvmkafka/connector/sink"
	"github.com/tvmkafka/tvmkafka/connector/tenable"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
)

// fakeConsumer hands out fixed records, then blocks; it records every commit.
type fakeConsumer struct {
	mu      sync.Mutex
	records []kafkaio.Record
	commits []map[int]int64
	changed chan struct{} // closed and replaced on every commit
}

func newFakeConsumer(records ...kafkaio.Record) *fakeConsumer {
	return &fakeConsumer{records: records, changed: make(chan struct{})}
}

func (c *fakeConsumer) Fetch(ctx context.Context) (kafkaio.Record, error) {
	c.mu.Lock()
	if len(c.records) > 0 {
		r := c.records[0]
		c.records = c.records[1:]
		c.mu.Unlock()
		return r, nil
	}
	c.mu.Unlock()
	<-ctx.Done()
	return kafkaio.Record{}, ctx.Err()
}

func (c *fakeConsumer) Commit(_ context.Context, next map[int]int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.commits = append(c.commits, maps.Clone(next))
	close(c.changed)
	c.changed = make(chan struct{})
	return nil
}

// waitCommit waits for a commit that cond accepts and returns every commit so far.
func (c *fakeConsumer) waitCommit(t *testing.T, what string, cond func(map[int]int64) bool) []map[int]int64 {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		c.mu.Lock()
		commits := append([]map[int]int64(nil), c.commits...)
		changed := c.changed
		c.mu.Unlock()
		for _, m := range commits {
			if cond(m) {
				return commits
			}
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("no commit %s; commits %v", what, commits)
		}
	}
}

// fakeImporter accepts every request but those holding "refuse", which it
// refuses as a whole (HTTP 400); the job of a body holding "hold" stays
// IN_PROGRESS until release is closed; a body holding "fail" ends in ERROR.
type fakeImporter struct {
	mu      sync.Mutex
	bodies  map[string]string
	release chan struct{}
	failed  chan string // job IDs as their ERROR is reported
}

func (f *fakeImporter) ImportAssetsBody(_ context.Context, body []byte) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if strings.Contains(string(body), "refuse") {
		return "", &tenable.APIError{Method: "POST", Path: "/import/assets", StatusCode: 400,
			Body: []byte(`{"statusCode":400,"error":"Bad Request","message":"invalid asset"}`)}
	}
	id := fmt.Sprintf("job-%d", len(f.bodies))
	f.bodies[id] = string(body)
	return id, nil
}

func (f *fakeImporter) ImportJob(ctx context.Context, id string) (tenable.ImportJob, error) {
	f.mu.Lock()
	body := f.bodies[id]
	f.mu.Unlock()
	job := tenable.ImportJob{JobID: id, Status: tenable.ImportComplete}
	switch {
	case strings.Contains(body, "fail"):
		job.Status, job.StatusMessage = tenable.ImportError, "Job failed by exceeding time limit"
		select {
		case f.failed <- id:
		default:
		}
	case strings.Contains(body, "hold"):
		select {
		case <-f.release:
		default:
			job.Status = tenable.ImportInProgress
		}
	}
	return job, nil
}

// heldPublisher blocks each dead-letter Send until the test answers it.
type heldPublisher struct {
	sends   chan []kafkaio.Record // a Send waiting for its answer
	answers chan error
}

func (p *heldPublisher) Send(ctx context.Context, _ *kafkaio.AckGroup, msgs ...kafkaio.Record) error {
	select {
	case p.sends <- msgs:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-p.answers:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// immediateClock lets retries go on at once.
type immediateClock struct{}

func (immediateClock) Now() time.Time { return time.Now() }
func (immediateClock) After(time.Duration) <-chan time.Time {
	c := make(chan time.Time, 1)
	c <- time.Now()
	return c
}

func fakeRecord(partition int, offset int64, value string) kafkaio.Record {
	return kafkaio.Record{Topic: "inbound", Partition: partition, Offset: offset, Value: []byte(value)}
}

// runFakeSink runs a sink on the fakes until it read offsets 0..n-1 of each partition.
func runFakeSink(t *testing.T, cfg sink.Config, c *fakeConsumer, imp *fakeImporter, pub sink.Publisher, until map[int]int64) chan error {
	t.Helper()
	cfg.JobPoll, cfg.CommitEvery = time.Millisecond, 5*time.Millisecond
	s, err := sink.New(sink.Options{Config: cfg, Topic: "inbound", DeadLetterTopic: "dlq", Consumer: c, Importer: imp,
		Decoder: sink.NewDecoder(nil), DeadLetters: pub, Logger: quietLog(), DrainTimeout: 5 * time.Second, Clock: immediateClock{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	done := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		done <- s.Run(ctx, until)
	}()
	t.Cleanup(func() {
		cancel()
		<-finished
	})
	return done
}

// TestSinkCommitsFailedJobsOnlyOnceDeadLettered: import jobs Tenable accepted
// but that end in ERROR (dead-lettered at once, or after the resubmissions)
// are not committed until the dead-letter topic acknowledged their records,
// while another partition's imports are committed meanwhile.
func TestSinkCommitsFailedJobsOnlyOnceDeadLettered(t *testing.T) {
	for _, tc := range []struct {
		name       string
		onJobError string
		resubmits  int
	}{
		{"deadletter", "deadletter", 0},
		{"resubmits exhausted", "resubmit", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := sink.DefaultConfig()
			cfg.OnJobError, cfg.MaxResubmits = tc.onJobError, tc.resubmits
			// Partition 0's two records fill one request, partition 1's goes in the next.
			cfg.MaxRecords = 2
			c := newFakeConsumer(
				fakeRecord(0, 0, `{"fqdn":["fail-1.example"]}`),
				fakeRecord(0, 1, `{"fqdn":["fail-2.example"]}`),
				fakeRecord(1, 0, `{"fqdn":["hold-1.example"]}`),
			)
			imp := &fakeImporter{bodies: map[string]string{}, release: make(chan struct{}), failed: make(chan string, 10)}
			pub := &heldPublisher{sends: make(chan []kafkaio.Record), answers: make(chan error)}
			done := runFakeSink(t, cfg, c, imp, pub, map[int]int64{0: 2, 1: 1})

			// Partition 0's job was accepted and ended in ERROR: its records
			// wait for the dead-letter topic.
			first := <-pub.sends
			// Partition 1's import completes now, after partition 0's was
			// accepted: the commit that carries it must not carry partition 0.
			close(imp.release)
			commits := c.waitCommit(t, "of partition 1", func(m map[int]int64) bool { return m[1] == 1 })
			for _, m := range commits {
				if _, ok := m[0]; ok {
					t.Fatalf("partition 0 committed (%v) before its dead letters were acknowledged; commits %v", m, commits)
				}
			}
			if got := string(first[0].Value); got != `{"fqdn":["fail-1.example"]}` {
				t.Errorf("first dead letter %q", got)
			}
			pub.answers <- nil
			second := <-pub.sends
			pub.answers <- nil
			if got := string(second[0].Value); got != `{"fqdn":["fail-2.example"]}` {
				t.Errorf("second dead letter %q", got)
			}
			c.waitCommit(t, "of partition 0 once dead-lettered", func(m map[int]int64) bool { return m[0] == 2 })
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestSinkCommitsPartitionsSpanningRequests: requests carry records of several
// partitions. Request A holds records of partitions 0 and 1 and is not
// delivered (its job fails, or Tenable refuses one of its records), request B
// holds later records of both and one of partition 2, and is imported. Neither
// partition 0 nor 1 is committed past A's undelivered records while B's
// partition 2 is, until their dead letters are acknowledged.
func TestSinkCommitsPartitionsSpanningRequests(t *testing.T) {
	for _, tc := range []struct {
		name  string
		first string // the first record of request A, partition 0 offset 0
		// held are the partitions whose first record is not done until the
		// dead letters are acknowledged, and dead how many dead letters come.
		held []int
		dead int
	}{
		// The whole of A is dead-lettered: partitions 0 and 1 wait.
		{"job of the spanning request fails", `{"fqdn":["fail-p0-0.example"]}`, []int{0, 1}, 4},
		// Splitting A leaves one refused record of partition 0; partition 1's
		// records of A are imported with the halves.
		{"spanning request refused", `{"fqdn":["refuse-p0-0.example"]}`, []int{0}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := sink.DefaultConfig()
			cfg.OnJobError, cfg.MaxRecords = "deadletter", 4
			c := newFakeConsumer(
				// Request A.
				fakeRecord(0, 0, tc.first),
				fakeRecord(1, 0, `{"fqdn":["a-p1-0.example"]}`),
				fakeRecord(0, 1, `{"fqdn":["a-p0-1.example"]}`),
				fakeRecord(1, 1, `{"fqdn":["a-p1-1.example"]}`),
				// Request B.
				fakeRecord(0, 2, `{"fqdn":["b-p0-2.example"]}`),
				fakeRecord(1, 2, `{"fqdn":["b-p1-2.example"]}`),
				fakeRecord(2, 0, `{"fqdn":["b-p2-0.example"]}`),
				fakeRecord(0, 3, `{"fqdn":["b-p0-3.example"]}`),
			)
			imp := &fakeImporter{bodies: map[string]string{}, release: make(chan struct{}), failed: make(chan string, 10)}
			pub := &heldPublisher{sends: make(chan []kafkaio.Record), answers: make(chan error)}
			done := runFakeSink(t, cfg, c, imp, pub, map[int]int64{0: 4, 1: 3, 2: 1})

			first := <-pub.sends // A's first dead letter, held
			// B completed: its partition 2 record is committed; the commits so
			// far must not move the held partitions.
			commits := c.waitCommit(t, "of partition 2", func(m map[int]int64) bool { return m[2] == 1 })
			for _, m := range commits {
				for _, p := range tc.held {
					if _, ok := m[p]; ok {
						t.Fatalf("partition %d committed (%v) while a record of a request spanning partitions is not delivered; commits %v", p, m, commits)
					}
				}
			}
			if got := string(first[0].Value); got != tc.first {
				t.Errorf("first dead letter %q, want %q", got, tc.first)
			}
			pub.answers <- nil
			for range tc.dead - 1 {
				<-pub.sends
				pub.answers <- nil
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			last := map[int]int64{}
			for _, m := range c.commits {
				maps.Copy(last, m)
			}
			if want := map[int]int64{0: 4, 1: 3, 2: 1}; !maps.Equal(last, want) {
				t.Errorf("committed %v at the end, want %v", last, want)
			}
			spanning := 0
			for _, body := range imp.bodies {
				if strings.Contains(body, "-p0-") && strings.Contains(body, "-p1-") {
					spanning++
				}
			}
			if spanning == 0 {
				t.Errorf("no request carried records of two partitions: %v", imp.bodies)
			}
		})
	}
}

// TestSinkCommitsADeadLetterOnlyOnceAcknowledged: the dead-letter topic holds
// the produce of an invalid record and then fails it; the record's offset is
// not committed (while another partition's are), until a later attempt is
// acknowledged.
func TestSinkCommitsADeadLetterOnlyOnceAcknowledged(t *testing.T) {
	c := newFakeConsumer(
		fakeRecord(0, 0, `this is not JSON`),
		fakeRecord(1, 0, `{"fqdn":["hold-1.example"]}`),
		fakeRecord(1, 1, `{"fqdn":["hold-2.example"]}`),
	)
	imp := &fakeImporter{bodies: map[string]string{}, release: make(chan struct{}), failed: make(chan string, 10)}
	pub := &heldPublisher{sends: make(chan []kafkaio.Record), answers: make(chan error)}
	done := runFakeSink(t, sink.DefaultConfig(), c, imp, pub, map[int]int64{0: 1, 1: 2})

	<-pub.sends // held
	pub.answers <- errors.New("dead-letter topic: not enough replicas")
	<-pub.sends // the retry, held too
	close(imp.release)
	commits := c.waitCommit(t, "of partition 1", func(m map[int]int64) bool { return m[1] == 2 })
	for _, m := range commits {
		if _, ok := m[0]; ok {
			t.Fatalf("the dead-lettered record was committed (%v) before the dead-letter topic acknowledged it; commits %v", m, commits)
		}
	}
	pub.answers <- nil
	c.waitCommit(t, "of partition 0 once acknowledged", func(m map[int]int64) bool { return m[0] == 1 })
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// ackingPublisher acknowledges every dead letter and keeps it.
type ackingPublisher struct {
	mu   sync.Mutex
	msgs []kafkaio.Record
}

func (p *ackingPublisher) Send(_ context.Context, _ *kafkaio.AckGroup, msgs ...kafkaio.Record) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.msgs = append(p.msgs, msgs...)
	return nil
}

// sizedAsset is an inbound JSON value that decodes to an import asset of
// exactly size bytes.
func sizedAsset(t *testing.T, size int) string {
	t.Helper()
	const frame = `{"ipv4":["10.0.0.1"],"operating_system":[""]}`
	v := `{"ipv4":["10.0.0.1"],"operating_system":["` + strings.Repeat("x", size-len(frame)) + `"]}`
	a, err := sink.NewDecoder(nil).Decode(t.Context(), []byte(v))
	if err != nil || len(a.JSON) != size {
		t.Fatalf("asset of %d bytes: %v, %d bytes", size, err, len(a.JSON))
	}
	return v
}

// TestSinkBodySizeBoundary: through the whole sink, assets that take a request
// body to exactly 4,999,999 bytes are sent as one request; one byte more, or
// two, and the batch is cut before the last asset. An asset alone that would
// make a body of 5,000,000 bytes is dead-lettered, one byte less is imported.
func TestSinkBodySizeBoundary(t *testing.T) {
	envelope := len(`{"source":"tvmkafka Kafka Connector","assets":[]}`)
	const big = 1_000_000
	for _, tc := range []struct {
		name  string
		sizes func(target int) []int // asset sizes for a body of target bytes
		body  int
		want  []int // body sizes of the requests
		dead  int
	}{
		{"four and one, 4,999,999", nil, 4_999_999, []int{4_999_999}, 0},
		{"four and one, 5,000,000", nil, 5_000_000, []int{envelope + 4*big + 3, envelope + 5_000_000 - envelope - 4*big - 4}, 0},
		{"four and one, 5,000,001", nil, 5_000_001, []int{envelope + 4*big + 3, envelope + 5_000_001 - envelope - 4*big - 4}, 0},
		{"alone, 4,999,999", func(n int) []int { return []int{n - envelope} }, 4_999_999, []int{4_999_999}, 0},
		{"alone, 5,000,000", func(n int) []int { return []int{n - envelope} }, 5_000_000, nil, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sizes := []int{big, big, big, big, tc.body - envelope - 4*big - 4}
			if tc.sizes != nil {
				sizes = tc.sizes(tc.body)
			}
			var recs []kafkaio.Record
			for i, n := range sizes {
				recs = append(recs, fakeRecord(0, int64(i), sizedAsset(t, n)))
			}
			c := newFakeConsumer(recs...)
			imp := &fakeImporter{bodies: map[string]string{}, release: make(chan struct{}), failed: make(chan string, 10)}
			pub := &ackingPublisher{}
			if err := <-runFakeSink(t, sink.DefaultConfig(), c, imp, pub, map[int]int64{0: int64(len(recs))}); err != nil {
				t.Fatal(err)
			}
			var got []int
			for i := range len(imp.bodies) {
				got = append(got, len(imp.bodies[fmt.Sprintf("job-%d", i)]))
			}
			if !slices.Equal(got, tc.want) || len(pub.msgs) != tc.dead {
				t.Fatalf("requests of %v bytes and %d dead letters, want %v and %d", got, len(pub.msgs), tc.want, tc.dead)
			}
		})
	}
}
