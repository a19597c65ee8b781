package source

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tvmkafka/tvmkafka/connector/tenable"
)

// progress reports a long export as it goes: chunks done of total, records, rate.
type progress struct {
	log       *slog.Logger
	stream    string
	exportID  string
	unit      string // what a chunk is called in logs: chunks, or pages for plugins
	started   time.Time
	chunks    atomic.Int64
	records   atomic.Int64
	mu        sync.Mutex
	status    tenable.ExportStatus
	done      chan struct{}
	closeOnce sync.Once
}

func newProgress(log *slog.Logger, stream, exportID string, chunksAlreadyDone int) *progress {
	p := &progress{log: log, stream: stream, exportID: exportID, unit: "chunks", started: time.Now(), done: make(chan struct{})}
	p.chunks.Store(int64(chunksAlreadyDone))
	return p
}

func (p *progress) setStatus(st tenable.ExportStatus) {
	p.mu.Lock()
	p.status = st
	p.mu.Unlock()
}

func (p *progress) chunkDone() { p.chunks.Add(1) }

// totalChunks is the best known total: Tenable's total_chunks minus the empty
// ones when reported, else the chunks seen so far.
func (p *progress) totalChunks() (int, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.status.TotalChunks != nil {
		total := *p.status.TotalChunks
		if p.status.EmptyChunksCount != nil {
			total -= *p.status.EmptyChunksCount
		}
		return total, true
	}
	return len(p.status.ChunksAvailable), p.status.Status.Terminal()
}

func (p *progress) attrs() []any {
	elapsed := time.Since(p.started)
	records := p.records.Load()
	total, known := p.totalChunks()
	p.mu.Lock()
	state := p.status.Status
	p.mu.Unlock()
	attrs := []any{"stream", p.stream}
	if p.exportID != "" {
		attrs = append(attrs, "export_uuid", p.exportID, "export_status", string(state))
	}
	done := p.chunks.Load()
	attrs = append(attrs, p.unit+"_done", done, "records", records, "elapsed", elapsed.Round(time.Second))
	switch {
	case p.unit != "chunks":
	case known && total > 0:
		attrs = append(attrs, "chunks_total", total, "percent", min(100, int(100*done/int64(total))))
		if left := int64(total) - done; done > 0 && left > 0 {
			// The chunks of one export are about the same size, so the time per
			// chunk so far is a fair guess at the time the rest will take.
			attrs = append(attrs, "eta", (elapsed / time.Duration(done) * time.Duration(left)).Round(time.Second))
		}
	case known:
		attrs = append(attrs, "chunks_total", total)
	default:
		attrs = append(attrs, "chunks_available", total,
			"chunks_total", "not reported by Tenable for this export until it finishes; no estimate")
	}
	if secs := elapsed.Seconds(); secs > 0 {
		attrs = append(attrs, "records_per_s", int64(float64(records)/secs))
	}
	return attrs
}

// run logs progress every interval until stop.
func (p *progress) run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			p.log.Info("export progress", p.attrs()...)
		case <-p.done:
			return
		case <-ctx.Done():
			return
		}
	}
}

func (p *progress) stop() { p.closeOnce.Do(func() { close(p.done) }) }

func (p *progress) finish(st tenable.ExportStatus, err error) {
	p.setStatus(st)
	p.stop()
	switch {
	case err != nil && errors.Is(err, context.Canceled):
		// A shutdown, not a failure: the checkpoint keeps the export in flight.
		p.log.Info("export stopped by shutdown; it resumes from its checkpoint at the next start", p.attrs()...)
		return
	case err != nil:
		p.log.Warn("export ended with an error", append(p.attrs(), "error", err)...)
		return
	}
	p.log.Info("export published", p.attrs()...)
}
