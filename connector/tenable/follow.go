package tenable

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/tvmkafka/tvmkafka/pipeline/retry"
)

// FollowOptions tune FollowExport. Zero values take the defaults.
type FollowOptions struct {
	// Workers is how many chunks are handled at once (default 2). Tenable asks
	// integrations not to multi-thread; a small pool keeps a download going while
	// the previous chunk is processed.
	Workers int
	// Done lists chunk IDs already handled, for example before a restart; they are
	// not handed out again.
	Done []int
	// PollInitial and PollMax bound the wait between status polls while no new
	// chunk appears: it starts at PollInitial (default 250ms), grows by half each time
	// and stops growing at PollMax (default 30s). A new chunk resets it. There is
	// no jitter: one follower polls one job, so there is no crowd to spread.
	PollInitial time.Duration
	PollMax     time.Duration
	// QueueTimeout cancels the job when it stays QUEUED longer (0: wait as long as
	// the context allows). Tenable jobs can queue for a long time when the
	// tenant's export slots are taken.
	QueueTimeout time.Duration
	// OnStatus, if set, sees every status polled (for progress reporting).
	OnStatus func(ExportStatus)
}

// defaultPollInitial is the first wait between status polls: short, so that a
// small export's chunks are taken within a fraction of a second of being ready;
// the waits then grow by half to PollMax, about a dozen polls to 30s.
const defaultPollInitial = 250 * time.Millisecond

// ChunkHandler processes one chunk, typically by calling DownloadChunk. It runs on
// one of the follower's workers; an error stops the follower.
type ChunkHandler func(ctx context.Context, chunk int) error

// ExportResult is what FollowExport saw.
type ExportResult struct {
	// Status is the last status polled.
	Status ExportStatus
	// Handled lists the chunk IDs handled successfully by this call, sorted.
	Handled []int
	// Polls counts the status requests made.
	Polls int
}

type chunkOutcome struct {
	chunk int
	err   error
}

// FollowExport polls the job and hands every chunk to handle as soon as it becomes
// available, without waiting for FINISHED. Chunk IDs are treated as a set (they
// appear out of order and with gaps). It returns when the job is terminal and every
// available chunk was handled, or on the first handler error.
//
// A job that ends in ERROR returns an *ExportError matching ErrExportFailed; one
// that finishes with failed or cancelled chunks, ErrExportIncomplete; a cancelled
// job, ErrExportCancelled. In every case the chunks that were available have been
// handled, and the result tells which.
func (c *Client) FollowExport(ctx context.Context, job ExportJob, opts FollowOptions, handle ChunkHandler) (ExportResult, error) {
	workers := opts.Workers
	if workers <= 0 {
		workers = 2
	}
	pollInitial, pollMax := opts.PollInitial, opts.PollMax
	if pollInitial <= 0 {
		pollInitial = defaultPollInitial
	}
	if pollMax <= 0 {
		pollMax = 30 * time.Second
	}
	if pollMax < pollInitial {
		pollMax = pollInitial
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var (
		res       ExportResult
		seen      = make(map[int]bool, len(opts.Done)) // handed out, handled or done before
		pending   []int
		inflight  int
		outcomes  = make(chan chunkOutcome)
		firstErr  error
		terminal  bool
		polls     = retry.NewSchedule(retry.Policy{Initial: pollInitial, Max: pollMax, Multiplier: 1.5, Jitter: -1})
		interval  time.Duration
		pollAt    <-chan time.Time
		queuedFor time.Duration
		started   = c.cfg.Clock.Now()
	)
	for _, id := range opts.Done {
		seen[id] = true
	}
	poll := func() error {
		st, err := c.ExportStatus(ctx, job.Kind, job.UUID)
		if err != nil {
			return err
		}
		res.Polls++
		res.Status = st
		if opts.OnStatus != nil {
			opts.OnStatus(st)
		}
		found := false
		for _, id := range st.ChunksAvailable {
			if !seen[id] {
				seen[id] = true
				pending = append(pending, id)
				found = true
			}
		}
		terminal = st.Status.Terminal()
		if found {
			polls.Reset()
		}
		interval = polls.Next()
		if st.Status == StateQueued && opts.QueueTimeout > 0 {
			queuedFor = c.cfg.Clock.Now().Sub(started)
			if queuedFor > opts.QueueTimeout {
				if err := c.CancelExport(context.WithoutCancel(ctx), job.Kind, job.UUID); err != nil {
					c.log.LogAttrs(ctx, slog.LevelWarn, "cancelling a queued export failed", slog.String("export_uuid", job.UUID), slog.String("error", err.Error()))
				}
				return fmt.Errorf("%s export %s queued for %v: %w", job.Kind, job.UUID, queuedFor.Round(time.Second), ErrQueueTimeout)
			}
		}
		return nil
	}

	if err := poll(); err != nil {
		return res, fmt.Errorf("follow %s export %s: %w", job.Kind, job.UUID, err)
	}
	for {
		for firstErr == nil && inflight < workers && len(pending) > 0 {
			id := pending[0]
			pending = pending[1:]
			inflight++
			go func() { outcomes <- chunkOutcome{chunk: id, err: handle(ctx, id)} }()
		}
		if inflight == 0 && (firstErr != nil || (terminal && len(pending) == 0)) {
			break
		}
		if !terminal && firstErr == nil && pollAt == nil {
			pollAt = c.cfg.Clock.After(interval)
		}
		select {
		case o := <-outcomes:
			inflight--
			if o.err != nil {
				if firstErr == nil {
					firstErr = fmt.Errorf("chunk %d: %w", o.chunk, o.err)
					cancel() // stop the other workers; they report back before we return
				}
				continue
			}
			res.Handled = append(res.Handled, o.chunk)
		case <-pollAt:
			pollAt = nil
			if err := poll(); err != nil && firstErr == nil {
				firstErr = err
				cancel()
			}
		case <-ctx.Done():
			if firstErr == nil {
				firstErr = ctx.Err()
			}
			pollAt = nil
			// Keep looping until the in-flight handlers, which see the same
			// cancelled context, have reported back.
			if inflight > 0 {
				o := <-outcomes
				inflight--
				if o.err == nil {
					res.Handled = append(res.Handled, o.chunk)
				}
			}
		}
	}
	slices.Sort(res.Handled)
	if firstErr != nil {
		return res, fmt.Errorf("follow %s export %s: %w", job.Kind, job.UUID, firstErr)
	}
	return res, terminalError(job, res.Status)
}

// terminalError turns a terminal status that lost data into an *ExportError.
func terminalError(job ExportJob, st ExportStatus) error {
	e := &ExportError{Kind: job.Kind, UUID: job.UUID, Status: st.Status, Reason: st.Reason,
		ChunksFailed: st.ChunksFailed, ChunksCancelled: st.ChunksCancelled}
	switch {
	case st.Status == StateError:
		e.sentinel = ErrExportFailed
	case st.Status == StateCancelled:
		e.sentinel = ErrExportCancelled
	case len(st.ChunksFailed) > 0 || len(st.ChunksCancelled) > 0:
		e.sentinel = ErrExportIncomplete
	default:
		return nil
	}
	return e
}
