package source

import (
	"context"
	"encoding/json"
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
	// Runs counts completed runs.
	Runs      int       `json:"runs"`
	UpdatedAt time.Time `json:"updated_at"`
	Version   string    `json:"connector_version,omitempty"`
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
	cp := c.byName[name]
	cp.Stream = name
	if cp.Export != nil {
		e := *cp.Export
		e.ChunksDone = slices.Clone(e.ChunksDone)
		cp.Export = &e
	}
	return cp
}

// put persists a checkpoint and returns once the store holds it.
func (c *checkpoints) put(ctx context.Context, cp Checkpoint) error {
	c.mu.Lock()
	defer c.mu.Unlock() // serialises writes, so the store sees them in order
	cp.UpdatedAt = time.Now().UTC()
	cp.Version = c.version
	b, err := json.Marshal(cp)
	if err != nil {
		return fmt.Errorf("encode checkpoint %s: %w", cp.Stream, err)
	}
	if err := c.store.Put(ctx, cp.Stream, b); err != nil {
		return fmt.Errorf("save checkpoint %s: %w", cp.Stream, err)
	}
	// Keep a copy: the caller goes on changing its export in flight while
	// get (the watermark gauge at each scrape, Source.Checkpoint) reads ours.
	if cp.Export != nil {
		e := *cp.Export
		e.ChunksDone = slices.Clone(e.ChunksDone)
		cp.Export = &e
	}
	c.byName[cp.Stream] = cp
	return nil
}
