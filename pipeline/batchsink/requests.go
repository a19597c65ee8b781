package batchsink

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
	"github.com/tvmkafka/tvmkafka/pipeline/retry"
)

// fetched is a record with the partition epoch its completion must quote and
// the bytes it holds of the in-flight budget.
type fetched struct {
	msg   kafkaio.Record
	epoch int
	cost  int64
}

// batch is the content of one request. Its records are kept for their
// offsets and, should they be dead-lettered, their original bytes; the
// converted items live only in the body (Body.Item gives them back).
type batch[T any] struct {
	items   []fetched
	group   string
	started time.Time
	body    Body[T]
	// full is set when the batch was cut because the next record would not fit.
	full bool
}

// requests turns fetched records into requests and delivers them. Records of
// every partition share the requests: one goroutine converts them in fetch
// order and fills batches (one open batch per group, since a request never
// mixes them), a submitter sends the cut batches one after the other, their
// jobs are followed concurrently, and a dead-letter goroutine publishes what
// can never be delivered, in order. Whatever request a record travels in, it
// is marked done in its own partition's offsets, so a partition is committed
// only up to its first record whose request (or dead letter) is not done.
type requests[T any] struct {
	s   *Sink[T]
	ctx context.Context
	cfg Config
	// in takes the fetched records, in fetch order; closing it flushes.
	in    chan fetched
	open  map[string]*batch[T]
	queue chan *batch[T]
	// slots bounds batches between cut and done (PendingBatches).
	slots chan struct{}
	// lastItems is the size of the last batch cut, the capacity a new one
	// starts with: growing a batch of tens of thousands of records copies it
	// over and over.
	lastItems int
	dead      chan deadLetter
	jobs      sync.WaitGroup // jobs being followed
	acks      sync.WaitGroup // dead letters waiting for Kafka's acknowledgement
	ended     chan struct{}
}

func newRequests[T any](ctx context.Context, s *Sink[T]) *requests[T] {
	r := &requests[T]{s: s, ctx: ctx, cfg: s.cfg, in: make(chan fetched, 1024), open: map[string]*batch[T]{},
		queue: make(chan *batch[T], s.cfg.PendingBatches), slots: make(chan struct{}, s.cfg.PendingBatches),
		dead: make(chan deadLetter, 256), ended: make(chan struct{})}
	submitted := make(chan struct{})
	deadDone := make(chan struct{})
	go func() {
		r.batchLoop()
		close(r.queue)
	}()
	go func() {
		defer close(submitted)
		r.submitLoop()
	}()
	go func() {
		defer close(deadDone)
		r.deadLetterLoop()
	}()
	go func() {
		<-submitted
		// Nothing but the jobs being followed can dead-letter now.
		r.jobs.Wait()
		close(r.dead)
		<-deadDone
		r.acks.Wait()
		close(r.ended)
	}()
	return r
}

// wait blocks until every batch is done or abandoned; close in first.
func (r *requests[T]) wait() { <-r.ended }

func (r *requests[T]) batchLoop() {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var armed time.Time // the start of the batch the timer is set for
	for {
		select {
		case f, ok := <-r.in:
			if !ok {
				r.flushAll()
				return
			}
			r.handle(f)
		case <-timer.C:
			armed = time.Time{}
			r.flushExpired()
		}
		// Arm the timer for the oldest open batch, unless it already is.
		var oldest time.Time
		for _, b := range r.open {
			if oldest.IsZero() || b.started.Before(oldest) {
				oldest = b.started
			}
		}
		if oldest.Equal(armed) {
			continue
		}
		timer.Stop()
		armed = oldest
		if !oldest.IsZero() {
			timer.Reset(max(time.Until(oldest.Add(r.cfg.Linger)), time.Millisecond))
		}
	}
}

// asRefusal returns err's *Refusal, if it is one.
func asRefusal(err error) (*Refusal, bool) {
	var r *Refusal
	ok := errors.As(err, &r)
	return r, ok
}

// convert converts a record, retrying while the failure is transient (a
// schema registry that cannot be reached); the first attempt goes without
// the retry machinery, since nearly every record converts at once.
func (r *requests[T]) convert(f fetched) (value T, group string, err error) {
	value, group, err = r.s.opts.Converter.Convert(r.ctx, f.msg)
	if _, refused := asRefusal(err); err == nil || refused {
		return value, group, err
	}
	err = r.s.retry(r.ctx, "convert inbound record", func(ctx context.Context) error {
		var err error
		value, group, err = r.s.opts.Converter.Convert(ctx, f.msg)
		if _, refused := asRefusal(err); refused {
			return retry.Permanent(err)
		}
		return err
	})
	return value, group, err
}

func (r *requests[T]) handle(f fetched) {
	value, group, err := r.convert(f)
	if rf, ok := asRefusal(err); ok {
		r.deadLetter(f, rf)
		return
	}
	if err != nil { // the context ended while the registry was unreachable
		r.s.budget.release(f.cost)
		return
	}
	b := r.batchFor(group)
	if b != nil {
		before := b.body.Len()
		err := b.body.Add(value)
		if err == nil {
			r.added(b, f, b.body.Len()-before)
			return
		}
		if !errors.Is(err, ErrBodyFull) {
			// It belongs in no request: the open batch may still fill up.
			r.refuseItem(f, err)
			return
		}
		b.full = true
		r.cut(b)
	}
	body, err := r.s.opts.Destination.NewBody()
	if err != nil {
		r.s.fail(err)
		r.s.budget.release(f.cost)
		return
	}
	before := body.Len()
	if err := body.Add(value); err != nil {
		// It does not fit even in an empty request.
		r.refuseItem(f, err)
		return
	}
	b = &batch[T]{group: group, started: time.Now(), body: body, items: make([]fetched, 0, max(64, r.lastItems))}
	r.open[group] = b
	r.added(b, f, body.Len()-before)
}

// added records that f joined b's body, where it takes share bytes: its
// budget reservation (which counted its value's length for the share) is
// set to what the body really holds.
func (r *requests[T]) added(b *batch[T], f fetched, share int) {
	adjust := int64(share - len(f.msg.Value))
	f.cost += adjust
	r.s.budget.adjust(adjust)
	b.items = append(b.items, f)
	if len(b.items) >= r.cfg.MaxItems {
		r.cut(b)
	}
}

// refuseItem dead-letters a record its body refused.
func (r *requests[T]) refuseItem(f fetched, err error) {
	rf, ok := asRefusal(err)
	if !ok {
		rf = &Refusal{Stage: StageConvert, Exception: "ItemRefused", Reason: err.Error(), Err: err}
	}
	r.deadLetter(f, rf)
}

// batchFor returns the open batch an item of the given group joins, or nil.
// Only groups keep requests apart: an item of the empty group joins whichever
// batch is open (the oldest, so it is not kept waiting), and the first item of
// a group adopts an open batch that holds none, so a topic of mostly
// group-less items does not send one request more per group it sees.
func (r *requests[T]) batchFor(group string) *batch[T] {
	if b := r.open[group]; b != nil {
		return b
	}
	if group != "" {
		b := r.open[""]
		if b != nil {
			delete(r.open, "")
			b.group = group
			r.open[group] = b
		}
		return b
	}
	var oldest *batch[T]
	for _, b := range r.open {
		if oldest == nil || b.started.Before(oldest.started) {
			oldest = b
		}
	}
	return oldest
}

func (r *requests[T]) flushExpired() {
	for _, b := range r.open {
		if time.Since(b.started) >= r.cfg.Linger {
			r.cut(b)
		}
	}
}

func (r *requests[T]) flushAll() {
	for _, b := range r.open {
		r.cut(b)
	}
}

// cut closes a batch and queues it for delivery; it waits while PendingBatches
// batches are not done (backpressure on the fetch loop).
func (r *requests[T]) cut(b *batch[T]) {
	delete(r.open, b.group)
	if b.full {
		r.lastItems = len(b.items) // a batch cut by linger says little of the next
	}
	select {
	case r.slots <- struct{}{}:
	case <-r.ctx.Done():
		r.free(b.items) // never done, so never committed
		return
	}
	r.queue <- b
}

func (r *requests[T]) release() { <-r.slots }

// submitLoop sends the batches in order. Unless CommitOnAccept, a batch is
// done when its job completed; jobs are followed concurrently so the next
// request need not wait.
func (r *requests[T]) submitLoop() {
	for b := range r.queue {
		if r.ctx.Err() != nil {
			r.free(b.items)
			r.release()
			continue
		}
		r.submit(b.items, b.body, 0, b.full, r.release)
	}
}

// free gives back the budget of records the sink no longer holds: their job
// completed, or the work is stopping and they are abandoned (uncommitted,
// read again on restart). Records that are dead-lettered give theirs back
// once the dead letter is settled.
func (r *requests[T]) free(items []fetched) {
	for _, it := range items {
		r.s.budget.release(it.cost)
	}
}

// build makes the body of the items from..to of parent; only the halves of a
// refused request need it, since a batch's body is built as it fills.
func (r *requests[T]) build(parent Body[T], from, to int) (Body[T], error) {
	b, err := r.s.opts.Destination.NewBody()
	if err != nil {
		return nil, err
	}
	for i := from; i < to; i++ {
		if err := b.Add(parent.Item(i)); err != nil {
			return nil, fmt.Errorf("build the body of part of a refused request: %w", err)
		}
	}
	return b, nil
}

// submit delivers items, whose body is body (item i is body.Item(i)),
// splitting them when the destination refuses the request as a whole, so only
// the records it refuses are dead-lettered. finished runs once every item is
// done or abandoned. full tells a batch cut by size, whose fill the stats
// report.
func (r *requests[T]) submit(items []fetched, body Body[T], resubmits int, full bool, finished func()) {
	data := body.Bytes()
	var jobID string
	err := r.s.retry(r.ctx, "submit request", func(ctx context.Context) error {
		var err error
		jobID, err = r.s.opts.Destination.Submit(ctx, data)
		if _, refused := asRefusal(err); refused {
			return retry.Permanent(err)
		}
		return err
	})
	refusal, refused := asRefusal(err)
	switch {
	case err == nil:
	case refused:
		if len(items) == 1 {
			r.deadLetter(items[0], refusal)
			finished()
			return
		}
		// Narrow it down: halves the destination takes are delivered, the rest split again.
		mid := len(items) / 2
		r.s.log.Warn("request refused; splitting it to find the refused records", "records", len(items), "error", err)
		halves := [][]fetched{items[:mid], items[mid:]}
		bodies := make([]Body[T], 2)
		for i, bounds := range [][2]int{{0, mid}, {mid, len(items)}} {
			if bodies[i], err = r.build(body, bounds[0], bounds[1]); err != nil {
				r.s.fail(err)
				r.free(items)
				finished()
				return
			}
		}
		var wg sync.WaitGroup
		wg.Add(2)
		r.submit(halves[0], bodies[0], resubmits, false, wg.Done)
		r.submit(halves[1], bodies[1], resubmits, false, wg.Done)
		go func() { wg.Wait(); finished() }()
		return
	case r.ctx.Err() != nil:
		r.free(items) // not done, never committed, read again on restart
		finished()
		return
	default:
		// Bad keys, missing permission: every request would fail the same way.
		r.s.fail(fmt.Errorf("deliver to the destination: %w", err))
		r.free(items)
		finished()
		return
	}
	r.s.addStats(func(st *Stats) {
		st.Requests++
		st.RequestBytes += int64(len(data))
		st.RequestBytesMax = max(st.RequestBytesMax, len(data))
		if full {
			st.FullRequests++
			st.FullRequestBytes += int64(len(data))
		}
	})
	m := &r.s.opts.Metrics
	add(r.ctx, m.Requests, 1)
	if m.RequestBytes != nil {
		m.RequestBytes.Record(r.ctx, int64(len(data)))
	}
	r.s.log.Info("request accepted", "records", len(items), "bytes", len(data), "job", jobID)
	if r.cfg.CommitOnAccept {
		r.markDone(items)
	}
	r.jobs.Add(1)
	go func() {
		defer r.jobs.Done()
		r.follow(jobID, items, body, resubmits, finished)
	}()
}

// firstJobPoll is how soon a job is first asked for its status: an import job
// of a few thousand assets is often done within a second, and the records
// it holds count against the in-flight budget until it is.
const firstJobPoll = 250 * time.Millisecond

// jobPolls is the waits between a job's status polls: firstJobPoll, growing
// by half to longest.
func jobPolls(longest time.Duration) *retry.Schedule {
	return retry.NewSchedule(retry.Policy{Initial: min(firstJobPoll, longest), Max: longest, Multiplier: 1.5, Jitter: -1})
}

// follow polls a job to its end and settles its records.
func (r *requests[T]) follow(jobID string, items []fetched, body Body[T], resubmits int, finished func()) {
	var job JobStatus
	polls := jobPolls(r.cfg.JobPoll)
	err := r.s.retry(r.ctx, "job status", func(ctx context.Context) error {
		for {
			var err error
			if job, err = r.s.opts.Destination.Job(ctx, jobID); err != nil {
				return err
			}
			if job.Done {
				return nil
			}
			if err := retry.Wait(ctx, nil, polls.Next()); err != nil {
				return retry.Permanent(err)
			}
		}
	})
	if err != nil {
		if r.ctx.Err() == nil {
			r.s.log.Error("job could not be followed", "job", jobID, "error", err)
		}
		r.free(items)
		finished()
		return
	}
	m := &r.s.opts.Metrics
	if job.Failure == nil {
		r.s.addStats(func(st *Stats) {
			st.JobsComplete++
			st.ItemsOK += job.ItemsOK
			st.ItemsFailed += job.ItemsFailed
			st.Done += len(items)
		})
		add(r.ctx, m.Jobs, 1, "status", job.Status)
		add(r.ctx, m.Done, int64(len(items)))
		add(r.ctx, m.JobItems, int64(job.ItemsOK), "outcome", "uploaded")
		add(r.ctx, m.JobItems, int64(job.ItemsFailed), "outcome", "failed")
		level := r.s.log.Info
		if job.ItemsFailed > 0 {
			level = r.s.log.Warn
		}
		level("job complete", "job", jobID, "status", job.Status, "items_ok", job.ItemsOK, "items_failed", job.ItemsFailed)
		if !r.cfg.CommitOnAccept {
			r.markDone(items)
		}
		r.free(items)
		finished()
		return
	}
	r.s.addStats(func(st *Stats) { st.JobsFailed++ })
	add(r.ctx, m.Jobs, 1, "status", job.Status)
	r.s.log.Warn("job failed", "job", jobID, "status", job.Status, "records", len(items),
		"reason", job.Failure.Reason, "resubmits", resubmits)
	if resubmits < r.cfg.MaxResubmits {
		r.submit(items, body, resubmits+1, false, finished)
		return
	}
	for _, it := range items {
		r.deadLetter(it, job.Failure)
	}
	finished()
}

// markDone marks each record of a delivered request done in its own
// partition's offsets; the tracker moves a partition's committable offset only
// over records all done, whatever other requests still hold earlier ones.
func (r *requests[T]) markDone(items []fetched) {
	for _, it := range items {
		r.s.offsets.done(it.msg.Partition, it.msg.Offset, it.epoch)
	}
}
