package sink

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/tvmkafka/tvmkafka/connector/tenable"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
)

// fetched is a record with the partition epoch its completion must quote.
type fetched struct {
	msg   kafkaio.Record
	epoch int
}

// item is a validated record waiting in a batch.
type item struct {
	fetched
	asset Asset
}

// batch is the content of one import request.
type batch struct {
	items   []item
	cloud   Cloud
	started time.Time
	body    *BodyBuilder
	// full is set when the batch was cut because the next record would not fit.
	full bool
}

// partition processes one partition's records in order: a worker fills batches
// (one open batch per cloud provider, since a request never mixes them), and an
// importer sends the cut batches one after the other.
type partition struct {
	s     *Sink
	id    int
	ctx   context.Context
	in    chan fetched
	queue chan *batch
	open  map[Cloud]*batch
	// slots bounds batches between cut and done (PendingBatches).
	slots chan struct{}
	jobs  sync.WaitGroup // import jobs being followed
	done  chan struct{}
}

func newPartition(ctx context.Context, s *Sink, id int) *partition {
	p := &partition{s: s, id: id, ctx: ctx, in: make(chan fetched, 256), queue: make(chan *batch, s.cfg.PendingBatches),
		open: map[Cloud]*batch{}, slots: make(chan struct{}, s.cfg.PendingBatches), done: make(chan struct{})}
	importerDone := make(chan struct{})
	go p.importLoop(importerDone)
	go func() {
		p.work()
		close(p.queue)
		<-importerDone
		p.jobs.Wait()
		close(p.done)
	}()
	return p
}

// wait blocks until every batch of the partition is done or abandoned.
func (p *partition) wait() { <-p.done }

func (p *partition) work() {
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
			timer.Reset(max(time.Until(oldest.Add(p.s.cfg.Linger)), time.Millisecond))
		}
	}
}

func (p *partition) handle(f fetched) {
	var asset Asset
	err := p.s.retry(p.ctx, "decode inbound record", func() (bool, error) {
		var err error
		asset, err = p.s.opts.Decoder.Decode(p.ctx, f.msg.Value)
		var invalid *InvalidError
		return errors.As(err, &invalid), err
	})
	var invalid *InvalidError
	switch {
	case errors.As(err, &invalid):
		p.deadLetter(f, stageConvert, "InvalidAsset", invalid.Reason)
		return
	case err != nil: // the context ended while the registry was unreachable
		return
	}
	b := p.batchFor(asset.Cloud)
	if b != nil && !b.body.Fits(asset) {
		if !b.body.FitsEmpty(asset) {
			// It belongs in no request: the open batch may still fill up.
			p.deadLetterTooLarge(f, asset)
			return
		}
		b.full = true
		p.cut(b)
		b = nil
	}
	if b == nil {
		body, err := NewBodyBuilder(p.s.cfg.Source, p.s.cfg.MaxRequestBytes)
		if err != nil {
			p.s.fail(err)
			return
		}
		b = &batch{cloud: asset.Cloud, started: time.Now(), body: body}
		p.open[asset.Cloud] = b
	}
	if err := b.body.Add(asset); err != nil {
		// It does not fit even in an empty request.
		p.deadLetterTooLarge(f, asset)
		if b.body.Count() == 0 {
			delete(p.open, b.cloud)
		}
		return
	}
	b.items = append(b.items, item{fetched: f, asset: asset})
	if len(b.items) >= p.s.cfg.MaxRecords {
		p.cut(b)
	}
}

func (p *partition) deadLetterTooLarge(f fetched, asset Asset) {
	p.deadLetter(f, stageConvert, "AssetTooLarge", fmt.Sprintf("the asset needs %d bytes, more than an import request of at most %d bytes can hold",
		len(asset.JSON), p.s.cfg.MaxRequestBytes))
}

// batchFor returns the open batch an asset of the given cloud provider joins, or
// nil. Only cloud attributes keep requests apart: an asset without any joins
// whichever batch is open (the oldest, so it is not kept waiting), and the first
// cloud asset adopts an open batch that holds none, so a partition of mostly
// cloud-less assets does not send one request more per provider it sees.
func (p *partition) batchFor(cloud Cloud) *batch {
	if b := p.open[cloud]; b != nil {
		return b
	}
	if cloud != CloudNone {
		b := p.open[CloudNone]
		if b != nil {
			delete(p.open, CloudNone)
			b.cloud = cloud
			p.open[cloud] = b
		}
		return b
	}
	var oldest *batch
	for _, b := range p.open {
		if oldest == nil || b.started.Before(oldest.started) {
			oldest = b
		}
	}
	return oldest
}

func (p *partition) flushExpired() {
	for _, b := range p.open {
		if time.Since(b.started) >= p.s.cfg.Linger {
			p.cut(b)
		}
	}
}

func (p *partition) flushAll() {
	for _, b := range p.open {
		p.cut(b)
	}
}

// cut closes a batch and queues it for import; it waits while PendingBatches
// batches of the partition are not done (backpressure on the fetch loop).
func (p *partition) cut(b *batch) {
	delete(p.open, b.cloud)
	select {
	case p.slots <- struct{}{}:
	case <-p.ctx.Done():
		return
	}
	p.queue <- b
}

func (p *partition) release() { <-p.slots }

// importLoop sends the partition's batches in order. With CommitOn=complete a
// batch is done when its job is COMPLETE; jobs are followed concurrently so the
// next request need not wait.
func (p *partition) importLoop(done chan<- struct{}) {
	defer close(done)
	for b := range p.queue {
		if p.ctx.Err() != nil {
			p.release()
			continue
		}
		p.submit(b.items, 0, b.full, p.release)
	}
}

// submit imports items, splitting them when Tenable refuses the request as a
// whole, so only the records it refuses are dead-lettered. finished runs once
// every item is done or abandoned.
// full tells a batch cut by size, whose fill the stats report.
func (p *partition) submit(items []item, resubmits int, full bool, finished func()) {
	body, err := p.body(items)
	if err != nil {
		p.s.fail(err)
		finished()
		return
	}
	var jobID string
	err = p.s.retry(p.ctx, "import request", func() (bool, error) {
		var err error
		jobID, err = p.s.opts.Importer.ImportAssetsBody(p.ctx, body)
		return err != nil && tenable.Classify(err) == tenable.Permanent, err
	})
	var apiErr *tenable.APIError
	switch {
	case err == nil:
	case errors.As(err, &apiErr) && refusesContent(apiErr.StatusCode):
		if len(items) == 1 {
			p.deadLetter(items[0].fetched, stageImport, "ImportRejected", fmt.Sprintf("Tenable refused the asset: %v", err))
			finished()
			return
		}
		// Narrow it down: halves that Tenable takes are imported, the rest split again.
		mid := len(items) / 2
		p.s.log.Warn("import request refused; splitting it to find the refused records",
			"partition", p.id, "records", len(items), "status", apiErr.StatusCode, "error", err)
		var wg sync.WaitGroup
		wg.Add(2)
		p.submit(items[:mid], resubmits, false, wg.Done)
		p.submit(items[mid:], resubmits, false, wg.Done)
		go func() { wg.Wait(); finished() }()
		return
	case p.ctx.Err() != nil:
		finished() // abandoned: not done, never committed, read again on restart
		return
	default:
		// Bad keys, missing permission: every request would fail the same way.
		p.s.fail(fmt.Errorf("import into Tenable VM: %w", err))
		finished()
		return
	}
	p.s.addStats(func(st *Stats) {
		st.Requests++
		st.RequestBytes += int64(len(body))
		st.RequestBytesMax = max(st.RequestBytesMax, len(body))
		if full {
			st.FullRequests++
			st.FullRequestBytes += int64(len(body))
		}
	})
	metricRequests.Add(p.ctx, 1)
	metricRequestBytes.Record(p.ctx, int64(len(body)))
	p.s.log.Info("import request accepted", "partition", p.id, "records", len(items), "bytes", len(body), "job", jobID)
	if p.s.cfg.CommitOn == "accepted" {
		p.markDone(items)
	}
	p.jobs.Add(1)
	go func() {
		defer p.jobs.Done()
		p.follow(jobID, items, resubmits, finished)
	}()
}

// refusesContent tells statuses that are about the request's content, which
// splitting can narrow down, from those about the caller (401, 403, 404).
func refusesContent(status int) bool {
	return status == http.StatusBadRequest || status == http.StatusRequestEntityTooLarge ||
		status == http.StatusUnprocessableEntity || status == http.StatusConflict
}

func (p *partition) body(items []item) ([]byte, error) {
	b, err := NewBodyBuilder(p.s.cfg.Source, p.s.cfg.MaxRequestBytes)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		if err := b.Add(it.asset); err != nil {
			return nil, fmt.Errorf("rebuild import body: %w", err)
		}
	}
	return b.Bytes(), nil
}

// follow polls an import job to its end and settles its records.
func (p *partition) follow(jobID string, items []item, resubmits int, finished func()) {
	var job tenable.ImportJob
	err := p.s.retry(p.ctx, "import job status", func() (bool, error) {
		for {
			var err error
			job, err = p.s.opts.Importer.ImportJob(p.ctx, jobID)
			if err != nil {
				return tenable.Classify(err) == tenable.Permanent, err
			}
			if job.Done() {
				return false, nil
			}
			select {
			case <-p.ctx.Done():
				return true, p.ctx.Err()
			case <-time.After(p.s.cfg.JobPoll):
			}
		}
	})
	if err != nil {
		if p.ctx.Err() == nil {
			p.s.log.Error("import job could not be followed", "job", jobID, "error", err)
		}
		finished()
		return
	}
	if job.Status == tenable.ImportComplete {
		p.s.addStats(func(st *Stats) {
			st.JobsComplete++
			st.UploadedAssets += job.UploadedAssets
			st.FailedAssets += job.FailedAssets
			st.Imported += len(items)
		})
		metricJobs.Add(p.ctx, 1, attrs("status", "COMPLETE"))
		metricImported.Add(p.ctx, int64(len(items)))
		metricJobAssets.Add(p.ctx, int64(job.UploadedAssets), attrs("outcome", "uploaded"))
		metricJobAssets.Add(p.ctx, int64(job.FailedAssets), attrs("outcome", "failed"))
		level := p.s.log.Info
		if job.FailedAssets > 0 {
			level = p.s.log.Warn
		}
		level("import job complete", "partition", p.id, "job", jobID, "uploaded_assets", job.UploadedAssets, "failed_assets", job.FailedAssets)
		if p.s.cfg.CommitOn == "complete" {
			p.markDone(items)
		}
		finished()
		return
	}
	p.s.addStats(func(st *Stats) { st.JobsError++ })
	metricJobs.Add(p.ctx, 1, attrs("status", "ERROR"))
	p.s.log.Warn("import job ended in ERROR", "partition", p.id, "job", jobID, "records", len(items), "message", job.StatusMessage, "resubmits", resubmits)
	if p.s.cfg.OnJobError == "resubmit" && resubmits < p.s.cfg.MaxResubmits {
		p.submit(items, resubmits+1, false, finished)
		return
	}
	for _, it := range items {
		p.deadLetter(it.fetched, stageImport, "ImportJobError", fmt.Sprintf("import job %s ended in ERROR: %s", jobID, job.StatusMessage))
	}
	finished()
}

func (p *partition) markDone(items []item) {
	for _, it := range items {
		p.s.offsets.done(p.id, it.msg.Offset, it.epoch)
	}
}
