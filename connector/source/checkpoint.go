package source

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/tvmkafka/tvmkafka/pipeline/state"
)

// Checkpoint is what a stream persists between runs, as JSON under its stream name.
type Checkpoint struct {
	Stream string `json:"stream"`
	// Watermark is where the next run's delta starts (the since / updated_at /
	// last_seen / last_updated it asks for). Zero: the stream never completed a run.
	Watermark time.Time `json:"watermark,omitzero"`
	// Export is the export in flight, kept until its run completes, so a restart
	// resumes it instead of requesting a duplicate or publishing chunks twice.
	Export *InFlight `json:"export,omitempty"`
	// Abandoned lists exports of the current delta that lost data (ERROR, failed
	// or expired chunks) and were cancelled: Tenable may still hand one back on
	// 409 while it runs, and it must never be adopted again.
	Abandoned []string `json:"abandoned_exports,omitempty"`
	// Runs counts completed runs.
	Runs      int       `json:"runs"`
	UpdatedAt time.Time `json:"updated_at"`
	Version   string    `json:"connector_version,omitempty"`
	// OwnerGeneration is the generation of the coordination group under which
	// the replica that wrote this checkpoint owned the stream (0: written
	// without the group, by `source --once` or a single process).
	OwnerGeneration int64 `json:"owner_generation,omitempty"`
}

// InFlight is an export (or, for plugins, a paging) that has not completed yet.
type InFlight struct {
	UUID string `json:"uuid,omitempty"`
	// Since is the delta start the export was requested with.
	Since time.Time `json:"since"`
	// RequestedAt is Tenable's clock when the export was requested; it becomes
	// the next watermark (less the overlap) once every record is acknowledged.
	RequestedAt time.Time `json:"requested_at,omitzero"`
	// ChunksDone lists chunks whose every record Kafka acknowledged.
	ChunksDone []int `json:"chunks_done,omitempty"`
	// PagesDone counts plugin pages fully acknowledged.
	PagesDone int `json:"pages_done,omitempty"`
	Records   int `json:"records"`
}

// checkpoints is the in-memory view of every stream's checkpoint, written through
// to the store.
type checkpoints struct {
	store   state.Store
	version string
	mu      sync.Mutex
	byName  map[string]Checkpoint
}

func loadCheckpoints(ctx context.Context, store state.Store, version string) (*checkpoints, error) {
	raw, err := store.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("load checkpoints: %w", err)
	}
	c := &checkpoints{store: store, version: version, byName: map[string]Checkpoint{}}
	for name, b := range raw {
		var cp Checkpoint
		if err := json.Unmarshal(b, &cp); err != nil {
			return nil, fmt.Errorf("checkpoint %q is not valid JSON: %w", name, err)
		}
		c.byName[name] = cp
	}
	return c, nil
}

func (c *checkpoints) get(name string) Checkpoint {
	c.mu.Lock()
	defer c.mu.Unlock()
	cp := cloneCheckpoint(c.byName[name])
	cp.Stream = name
	return cp
}

// cloneCheckpoint returns a copy of cp that shares no memory with it.
func cloneCheckpoint(cp Checkpoint) Checkpoint {
	if cp.Export != nil {
		e := *cp.Export
		e.ChunksDone = slices.Clone(e.ChunksDone)
		cp.Export = &e
	}
	cp.Abandoned = slices.Clone(cp.Abandoned)
	return cp
}

// reload reads the named checkpoints from the store again, replacing what
// this process held: a replica taking a stream over resumes from what the
// previous owner wrote last, not from what it read at start.
func (c *checkpoints) reload(ctx context.Context, names []string) error {
	raw, err := c.store.Load(ctx)
	if err != nil {
		return fmt.Errorf("reload checkpoints: %w", err)
	}
	fresh := map[string]Checkpoint{}
	for _, name := range names {
		b, ok := raw[name]
		if !ok {
			continue
		}
		var cp Checkpoint
		if err := json.Unmarshal(b, &cp); err != nil {
			return fmt.Errorf("checkpoint %q is not valid JSON: %w", name, err)
		}
		fresh[name] = cp
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, name := range names {
		if cp, ok := fresh[name]; ok {
			c.byName[name] = cp
		} else {
			delete(c.byName, name)
		}
	}
	return nil
}

// ErrFenced is a checkpoint write refused because the generation of the
// coordination group that gave this replica the stream ended: the stream may
// belong to another replica now, and only its owner writes its checkpoints.
var ErrFenced = errors.New("this replica no longer owns the stream")

// fence is the hold a stream's checkpoint writes are made under: one
// generation of the coordination group. It travels in the context, so the
// chunk workers' drain context (which outlives a cancelled run) carries it too.
type fence struct {
	generation int64
	held       context.Context // ends with the generation
}

type fenceKey struct{}

// fencedWriteWait bounds how long a write under a fence is awaited after its
// generation ended; the group's rebalance waits for it.
const fencedWriteWait = 10 * time.Second

func withFence(ctx context.Context, f *fence) context.Context {
	return context.WithValue(ctx, fenceKey{}, f)
}

func fenceFrom(ctx context.Context) *fence {
	f, _ := ctx.Value(fenceKey{}).(*fence)
	return f
}

// fenceHeld refuses a write (what names it) made under a generation of the
// coordination group that has ended; without a fence (source --once) every
// write goes through.
func fenceHeld(ctx context.Context, what string) error {
	if f := fenceFrom(ctx); f != nil && f.held.Err() != nil {
		return fmt.Errorf("%s not written: generation %d of the coordination group ended: %w", what, f.generation, ErrFenced)
	}
	return nil
}

// stopWithFence calls stop when the generation of ctx's fence ends, if it
// has one: work that outlives a shutdown to finish and checkpoint has nothing
// to finish once the stream is no longer this replica's.
func stopWithFence(ctx context.Context, stop func()) func() bool {
	if f := fenceFrom(ctx); f != nil {
		return context.AfterFunc(f.held, stop)
	}
	return func() bool { return false }
}

// put persists a checkpoint and returns once the store holds it. Under a
// fence (see withFence), it writes only while the fence's generation lasts,
// checked right before the write, and records the generation in the
// checkpoint.
func (c *checkpoints) put(ctx context.Context, cp Checkpoint) error {
	c.mu.Lock()
	defer c.mu.Unlock() // serialises writes, so the store sees them in order
	if err := fenceHeld(ctx, "checkpoint "+cp.Stream); err != nil {
		return err
	}
	if f := fenceFrom(ctx); f != nil {
		cp.OwnerGeneration = f.generation
	}
	cp.UpdatedAt = time.Now().UTC()
	cp.Version = c.version
	b, err := json.Marshal(cp)
	if err != nil {
		return fmt.Errorf("encode checkpoint %s: %w", cp.Stream, err)
	}
	wctx := ctx
	if fenceFrom(ctx) != nil {
		// Once sent, the write is awaited even if the generation ends now: a
		// write of this owner must not land after the next owner re-read the
		// checkpoints (the group waits for this replica to stop first).
		var cancel context.CancelFunc
		wctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), fencedWriteWait)
		defer cancel()
	}
	if err := c.store.Put(wctx, cp.Stream, b); err != nil {
		// The store is the state topic: a failed write is a Kafka failure.
		return fmt.Errorf("save checkpoint %s: %w", cp.Stream, kafkaFailure(ctx, err))
	}
	// Keep a copy: the caller goes on updating its export in flight (chunks
	// done, records) while get, the watermark gauge among its callers, reads
	// this one.
	c.byName[cp.Stream] = cloneCheckpoint(cp)
	return nil
}
