package source

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkatest"
	"github.com/tvmkafka/tvmkafka/pipeline/state"
	"github.com/tvmkafka/tvmkafka/schemas"
)

// TestCheckpointWriteFencedByGeneration: under a live generation of the
// coordination group a checkpoint is written with the generation's ID; once a
// rebalance ended that generation, a write under it is refused with
// ErrFenced and the store is left as it was.
func TestCheckpointWriteFencedByGeneration(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	topic := kafkatest.CreateTopic(t, brokers, len(Table), nil)
	group := kafkatest.UniqueName("fence")
	join := func(ctx context.Context, name string, gens chan<- *kafkaio.Generation) chan struct{} {
		m, err := kafkaio.JoinGroup(kafkaio.MembershipConfig{Connection: kafkaio.Connection{Brokers: brokers, ClientID: name},
			GroupID: group, Topic: topic, SessionTimeout: 6 * time.Second, HeartbeatInterval: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = m.Run(ctx, func(gen *kafkaio.Generation) {
				select {
				case gens <- gen:
				default:
				}
				<-gen.Context().Done()
			}, nil)
		}()
		return done
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	gens := make(chan *kafkaio.Generation, 1)
	aDone := join(ctx, "a", gens)
	var first *kafkaio.Generation
	select {
	case first = <-gens:
	case <-ctx.Done():
		t.Fatal("no generation within a minute")
	}

	store := state.NewMemoryStore()
	cps, err := loadCheckpoints(ctx, store, "test")
	if err != nil {
		t.Fatal(err)
	}
	fenced := withFence(ctx, &fence{generation: first.ID, held: first.Context()})
	if err := cps.put(fenced, Checkpoint{Stream: "vulns", Runs: 1}); err != nil {
		t.Fatalf("a write under a live generation: %v", err)
	}
	raw, _ := store.Load(ctx)
	var written Checkpoint
	if err := json.Unmarshal(raw["vulns"], &written); err != nil {
		t.Fatal(err)
	}
	if written.OwnerGeneration != first.ID || written.Runs != 1 {
		t.Errorf("written %+v, want runs 1 and owner_generation %d", written, first.ID)
	}

	// A second member joins: the rebalance ends the first generation.
	bDone := join(ctx, "b", make(chan *kafkaio.Generation, 1))
	select {
	case <-first.Context().Done():
	case <-ctx.Done():
		t.Fatal("the generation did not end when a second member joined")
	}
	puts := store.Puts()
	err = cps.put(fenced, Checkpoint{Stream: "vulns", Runs: 2})
	if !errors.Is(err, ErrFenced) {
		t.Fatalf("a write after the generation ended: %v, want ErrFenced", err)
	}
	if store.Puts() != puts {
		t.Error("the refused write reached the store")
	}
	if got := cps.get("vulns"); got.Runs != 1 {
		t.Errorf("the refused write changed the checkpoint held: %+v", got)
	}
	// Without a fence (source --once) writes go through as before.
	if err := cps.put(ctx, Checkpoint{Stream: "plugins"}); err != nil {
		t.Fatal(err)
	}
	cancel()
	<-aDone
	<-bDone
}

// recordingTap counts the acknowledgements handed to it.
type recordingTap struct{ acks int }

func (r *recordingTap) record(*chunkPublisher, []byte, *schemas.Transcoder) {}
func (r *recordingTap) acked(context.Context) error                         { r.acks++; return nil }

// TestIndexUpdateFencedByGeneration: a chunk's finding-index update is made
// under the stream's fence like its checkpoint, so a replica whose generation
// ended does not write the index keys the next owner now writes.
func TestIndexUpdateFencedByGeneration(t *testing.T) {
	held, end := context.WithCancel(context.Background())
	ctx := withFence(context.Background(), &fence{generation: 7, held: held})
	tp := &recordingTap{}
	if err := ackTap(ctx, tp); err != nil || tp.acks != 1 {
		t.Fatalf("under a live generation: err %v, acks %d; want nil, 1", err, tp.acks)
	}
	end()
	if err := ackTap(ctx, tp); !errors.Is(err, ErrFenced) {
		t.Fatalf("after the generation ended: %v, want ErrFenced", err)
	}
	if tp.acks != 1 {
		t.Errorf("the index was updated after the generation ended (%d updates)", tp.acks)
	}
	if err := ackTap(context.Background(), tp); err != nil || tp.acks != 2 {
		t.Errorf("without a fence: err %v, acks %d; want nil, 2", err, tp.acks)
	}
}
