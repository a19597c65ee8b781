package batchsink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
	"github.com/tvmkafka/tvmkafka/pipeline/retry"
)

// fetched is a record with the partition epoch its completion must quote.
type fetched struct {
	msg   kafkaio.Record
	epoch int
}

// item is a converted record waiting in a batch.
type item[T any] struct {
	fetched
	value T
}

// batch is the content of one request.
type batch[T any] struct {
	items   []item[T]
	group   string
	started time.Time
	body    Body[T]
	// full is set when the batch was cut because the next record would not fit.
	full bool
}

// partitionDeps are what a partition needs from its sink, spelled out.
type partitionDeps[T any] struct {
	id          int
	cfg         Config
	log         *slog.Logger
	metrics     Metrics
	convert     Converter[T]
	dest        Destination[T]
	deadLetters DeadLetters
	valueAt     func(ctx context.Context, topic string, partition int, offset int64) ([]byte, error)
	// retry runs an operation until it succeeds, fails permanently, or ctx ends.
	retry func(ctx context.Context, what string, op func(context.Context) error) error
	// done marks a record done in the offset tracker.
	done func(partition int, offset int64, epoch int) bool
	// stats updates the running totals.
	stats func(func(*Stats))
	// fail stops the sink.
	fail func(error)
}

// partition processes one partition's records in order: a worker fills batches
// (one open batch per group, since a request never mixes them), and a
// submitter sends the cut batches one after the other.
type partition[T any] struct {
	partitionDeps[T]
	ctx   context.Context
	in    chan fetched
	queue chan *batch[T]
	open  map[string]*batch[T]
	// slots bounds batches between cut and done (PendingBatches).
	slots chan struct{}
	jobs  sync.WaitGroup // jobs and dead letters being followed
	ended chan struct{}
}

func newPartition[T any](ctx context.Context, deps partitionDeps[T]) *partition[T] {
	p := &partition[T]{partitionDeps: deps, ctx: ctx, in: make(chan fetched, 256), queue: make(chan *batch[T], deps.cfg.PendingBatches),
		open: map[string]*batch[T]{}, slots: make(chan struct{}, deps.cfg.PendingBatches), ended: make(chan struct{})}
	submitterDone := make(chan struct{})
	go p.submitLoop(submitterDone)
	go func() {
		p.work()
		close(p.queue)
		<-submitterDone
		p.jobs.Wait()
		close(p.ended)
	}()
	return p
}

// wait blocks until every batch of the partition is done or abandoned.
func (p *partition[T]) wait() { <-p.ended }

func (p *partition[T]) work() {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case f, ok := <-p.in:
			if !ok {
				p.flushAll()
				return
			}
			p.handle(f)
		case <-timer.C:
			p.flushExpired()
		}
		// Rearm for the oldest open batch.
		var oldest time.Time
		for _, b := range p.open {
			if oldest.IsZero() || b.started.Before(oldest) {
				oldest = b.started
			}
		}
		timer.Stop()
		if !oldest.IsZero() {
			timer.Reset(max(time.Until(oldest.Add(p.cfg.Linger)), time.Millisecond))
		}
	}
}

// asRefusal returns err's *Refusal, if it is one.
func asRefusal(err error) (*Refusal, bool) {
	var r *Refusal
	ok := errors.As(err, &r)
	return r, ok
}

func (p *partition[T]) handle(f fetched) {
	var (
		value T
		group string
	)
	err := p.retry(p.ctx, "convert inbound record", func(ctx context.Context) error {
		var err error
		value, group, err = p.convert.Convert(ctx, f.msg)
		if _, refused := asRefusal(err); refused {
			return retry.Permanent(err)
		}
		return err
	})
	if r, ok := asRefusal(err); ok {
		p.deadLetter(f, r)
		return
	}
	if err != nil { // the context ended while the registry was unreachable
		return
	}
	b := p.batchFor(group)
	if b != nil {
		err := b.body.Add(value)
		if err == nil {
			p.added(b, f, value)
			return
		}
		if !errors.Is(err, ErrBodyFull) {
			// It belongs in no request: the open batch may still fill up.
			p.refuseItem(f, err)
			return
		}
		b.full = true
		p.cut(b)
	}
	body, err := p.dest.NewBody()
	if err != nil {
		p.fail(err)
		return
	}
	if err := body.Add(value); err != nil {
		// It does not fit even in an empty request.
		p.refuseItem(f, err)
		return
	}
	b = &batch[T]{group: group, started: time.Now(), body: body}
	p.open[group] = b
	p.added(b, f, value)
}

func (p *partition[T]) added(b *batch[T], f fetched, value T) {
	b.items = append(b.items, item[T]{fetched: f, value: value})
	if len(b.items) >= p.cfg.MaxItems {
		p.cut(b)
	}
}

// refuseItem dead-letters a record its body refused.
func (p *partition[T]) refuseItem(f fetched, err error) {
	r, ok := asRefusal(err)
	if !ok {
		r = &Refusal{Stage: StageConvert, Exception: "ItemRefused", Reason: err.Error(), Err: err}
	}
	p.deadLetter(f, r)
}

// batchFor returns the open batch an item of the given group joins, or nil.
// Only groups keep requests apart: an item of the empty group joins whichever
// batch is open (the oldest, so it is not kept waiting), and the first item of
// a group adopts an open batch that holds none, so a partition of mostly
// group-less items does not send one request more per group it sees.
func (p *partition[T]) batchFor(group string) *batch[T] {
	if b := p.open[group]; b != nil {
		return b
	}
	if group != "" {
		b := p.open[""]
		if b != nil {
			delete(p.open, "")
			b.group = group
			p.open[group] = b
		}
		return b
	}
	var oldest *batch[T]
	for _, b := range p.open {
		if oldest == nil || b.started.Before(oldest.started) {
			oldest = b
		}
	}
	return oldest
}

func (p *partition[T]) flushExpired() {
	for _, b := range p.open {
		if time.Since(b.started) >= p.cfg.Linger {
			p.cut(b)
		}
	}
}

func (p *partition[T]) flushAll() {
	for _, b := range p.open {
		p.cut(b)
	}
}

// cut closes a batch and queues it for delivery; it waits while PendingBatches
// batches of the partition are not done (backpressure on the fetch loop).
func (p *partition[T]) cut(b *batch[T]) {
	delete(p.open, b.group)
	select {
	case p.slots <- struct{}{}:
	case <-p.ctx.Done():
		return
	}
	p.queue <- b
}

func (p *partition[T]) release() { <-p.slots }

// submitLoop sends the partition's batches in order. Unless CommitOnAccept, a
// batch is done when its job completed; jobs are followed concurrently so the
// next request need not wait.
func (p *partition[T]) submitLoop(done chan<- struct{}) {
	defer close(done)
	for b := range p.queue {
		if p.ctx.Err() != nil {
			p.release()
			continue
		}
		p.submit(b.items, b.body.Bytes(), 0, b.full, p.release)
	}
}

// build makes the body of items; only the halves of a refused request need it,
// since a batch's body is built as it fills.
func (p *partition[T]) build(items []item[T]) ([]byte, error) {
	b, err := p.dest.NewBody()
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		if err := b.Add(it.value); err != nil {
			return nil, fmt.Errorf("build the body of part of a refused request: %w", err)
		}
	}
	return b.Bytes(), nil
}

// submit delivers items, whose body is body, splitting them when the
// destination refuses the request as a whole, so only the records it refuses
// are dead-lettered. finished runs once every item is done or abandoned.
// full tells a batch cut by size, whose fill the stats report.
func (p *partition[T]) submit(items []item[T], body []byte, resubmits int, full bool, finished func()) {
	var jobID string
	err := p.retry(p.ctx, "submit request", func(ctx context.Context) error {
		var err error
		jobID, err = p.dest.Submit(ctx, body)
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
			p.deadLetter(items[0].fetched, refusal)
			finished()
			return
		}
		// Narrow it down: halves the destination takes are delivered, the rest split again.
		mid := len(items) / 2
		p.log.Warn("request refused; splitting it to find the refused records",
			"partition", p.id, "records", len(items), "error", err)
		halves := [][]item[T]{items[:mid], items[mid:]}
		bodies := make([][]byte, 2)
		for i, h := range halves {
			if bodies[i], err = p.build(h); err != nil {
				p.fail(err)
				finished()
				return
			}
		}
		var wg sync.WaitGroup
		wg.Add(2)
		p.submit(halves[0], bodies[0], resubmits, false, wg.Done)
		p.submit(halves[1], bodies[1], resubmits, false, wg.Done)
		go func() { wg.Wait(); finished() }()
		return
	case p.ctx.Err() != nil:
		finished() // abandoned: not done, never committed, read again on restart
		return
	default:
		// Bad keys, missing permission: every request would fail the same way.
		p.fail(fmt.Errorf("deliver to the destination: %w", err))
		finished()
		return
	}
	p.stats(func(st *Stats) {
		st.Requests++
		st.RequestBytes += int64(len(body))
		st.RequestBytesMax = max(st.RequestBytesMax, len(body))
		if full {
			st.FullRequests++
			st.FullRequestBytes += int64(len(body))
		}
	})
	add(p.ctx, p.metrics.Requests, 1)
	if p.metrics.RequestBytes != nil {
		p.metrics.RequestBytes.Record(p.ctx, int64(len(body)))
	}
	p.log.Info("request accepted", "partition", p.id, "records", len(items), "bytes", len(body), "job", jobID)
	if p.cfg.CommitOnAccept {
		p.markDone(items)
	}
	p.jobs.Add(1)
	go func() {
		defer p.jobs.Done()
		p.follow(jobID, items, body, resubmits, finished)
	}()
}

// follow polls a job to its end and settles its records.
func (p *partition[T]) follow(jobID string, items []item[T], body []byte, resubmits int, finished func()) {
	var job JobStatus
	err := p.retry(p.ctx, "job status", func(ctx context.Context) error {
		for {
			var err error
			if job, err = p.dest.Job(ctx, jobID); err != nil {
				return err
			}
			if job.Done {
				return nil
			}
			if err := retry.Wait(ctx, nil, p.cfg.JobPoll); err != nil {
				return retry.Permanent(err)
			}
		}
	})
	if err != nil {
		if p.ctx.Err() == nil {
			p.log.Error("job could not be followed", "job", jobID, "error", err)
		}
		finished()
		return
	}
	if job.Failure == nil {
		p.stats(func(st *Stats) {
			st.JobsComplete++
			st.ItemsOK += job.ItemsOK
			st.ItemsFailed += job.ItemsFailed
			st.Done += len(items)
		})
		add(p.ctx, p.metrics.Jobs, 1, "status", job.Status)
		add(p.ctx, p.metrics.Done, int64(len(items)))
		add(p.ctx, p.metrics.JobItems, int64(job.ItemsOK), "outcome", "uploaded")
		add(p.ctx, p.metrics.JobItems, int64(job.ItemsFailed), "outcome", "failed")
		level := p.log.Info
		if job.ItemsFailed > 0 {
			level = p.log.Warn
		}
		level("job complete", "partition", p.id, "job", jobID, "status", job.Status, "items_ok", job.ItemsOK, "items_failed", job.ItemsFailed)
		if !p.cfg.CommitOnAccept {
			p.markDone(items)
		}
		finished()
		return
	}
	p.stats(func(st *Stats) { st.JobsFailed++ })
	add(p.ctx, p.metrics.Jobs, 1, "status", job.Status)
	p.log.Warn("job failed", "partition", p.id, "job", jobID, "status", job.Status, "records", len(items),
		"reason", job.Failure.Reason, "resubmits", resubmits)
	if resubmits < p.cfg.MaxResubmits {
		p.submit(items, body, resubmits+1, false, finished)
		return
	}
	for _, it := range items {
		p.deadLetter(it.fetched, job.Failure)
	}
	finished()
}

func (p *partition[T]) markDone(items []item[T]) {
	for _, it := range items {
		p.done(p.id, it.msg.Offset, it.epoch)
	}
}
