package source

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
	"github.com/tvmkafka/tvmkafka/pipeline/retry"
	"github.com/tvmkafka/tvmkafka/pipeline/telemetry"
)

// Replicas share the streams through a coordination group: partition i of the
// coordination topic stands for Table[i], and a stream runs on the replica its
// partition is assigned to (see kafkaio.Membership).

// CoordinationPartitions is the partition count of the coordination topic:
// one per stream of Table.
var CoordinationPartitions = len(Table)

// StreamOfPartition names the stream a coordination partition stands for, or
// "" for a partition past the end of Table.
func StreamOfPartition(p int) string {
	if p < 0 || p >= len(Table) {
		return ""
	}
	return Table[p].Name
}

var (
	metricOwnershipChanges = telemetry.Counter("tvmkafka.source.ownership_changes",
		"streams this replica took over (acquired) or gave up (released) in a rebalance of the coordination group", "{change}")
	// ownership is what the stream_owned gauge reports; one Source runs in a process.
	ownership ownedStreams
)

func init() {
	telemetry.Gauge("tvmkafka.source.stream_owned",
		"1 for each stream this replica runs, 0 for each it leaves to other replicas; summed over replicas, 0 means nobody exports the stream", "",
		ownership.observe)
}

// ownedStreams are the streams this process was asked to run, each with
// whether it runs it now, and the replica's name.
type ownedStreams struct {
	mu      sync.Mutex
	replica string
	streams map[string]bool
}

func (o *ownedStreams) set(replica string, names []string, owned bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.streams == nil {
		o.streams = map[string]bool{}
	}
	if replica != "" {
		o.replica = replica
	}
	for _, n := range names {
		o.streams[n] = owned
	}
}

func (o *ownedStreams) observe(_ context.Context, obs metric.Float64Observer) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for name, owned := range o.streams {
		v := 0.0
		if owned {
			v = 1
		}
		obs.Observe(v, metric.WithAttributes(attribute.String("stream", name), attribute.String("replica", o.replica)))
	}
	return nil
}

// own records whether this process runs the named streams now.
func (s *Source) own(names []string, owned bool) {
	s.mu.Lock()
	for _, n := range names {
		if owned {
			s.owned[n] = true
		} else {
			delete(s.owned, n)
		}
	}
	s.mu.Unlock()
	ownership.set("", names, owned)
}

func (s *Source) ownedNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.owned))
	for n := range s.owned {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Owned lists the streams this process runs now, sorted.
func (s *Source) Owned() []string { return s.ownedNames() }

// RunGroup runs, of the named streams, those the coordination group assigns
// to this replica, each on its interval, until ctx ends; replica names this
// process in logs and metrics. In each generation of the group it:
//
//   - re-reads the checkpoints of the streams it was given from the state
//     store, so a stream taken over resumes where its last owner stopped;
//   - runs a stream whose export is in flight at once, and any other when its
//     interval since the last completed run has passed, so a rebalance causes
//     no extra run;
//   - writes every checkpoint under the generation (see ErrFenced), and stops
//     every stream when the generation ends, before the group can hand the
//     stream to another replica.
//
// When ctx ends, the exports in progress drain as with Run, then the replica
// leaves the group and its streams move to the others at once.
func (s *Source) RunGroup(ctx context.Context, m *kafkaio.Membership, replica string, names []string, interval func(stream string) time.Duration) error {
	ownership.set(replica, names, false)
	var held []string // the streams of the previous generation
	return m.Run(ctx, func(gen *kafkaio.Generation) {
		var mine []string
		for _, p := range gen.Partitions {
			if n := StreamOfPartition(p); n != "" && slices.Contains(names, n) {
				mine = append(mine, n)
			}
		}
		for _, n := range mine {
			if !slices.Contains(held, n) {
				metricOwnershipChanges.Add(ctx, 1, metric.WithAttributes(attribute.String("stream", n), attribute.String("change", "acquired")))
			}
		}
		for _, n := range held {
			if !slices.Contains(mine, n) {
				metricOwnershipChanges.Add(ctx, 1, metric.WithAttributes(attribute.String("stream", n), attribute.String("change", "released")))
			}
		}
		held = mine
		s.deps.log.Info("coordination group: streams assigned", "replica", replica, "generation", gen.ID,
			"member", gen.MemberID, "streams", strings.Join(mine, ","))
		s.runGeneration(ctx, gen, mine, interval)
	}, func(err error) {
		s.deps.log.Warn("coordination group: joining failed; trying again", "replica", replica, "error", err)
	})
}

// runGeneration runs the given streams for one generation and returns once
// they all stopped: when the generation ends, or when ctx ends and they drained.
func (s *Source) runGeneration(ctx context.Context, gen *kafkaio.Generation, streams []string, interval func(string) time.Duration) {
	if len(streams) == 0 {
		<-gen.Context().Done()
		return
	}
	// The streams stop with ctx (a shutdown: exports drain) or with the
	// generation (lost ownership: nothing more is written, see stopWithFence).
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(gen.Context(), cancel)()
	runCtx = withFence(runCtx, &fence{generation: gen.ID, held: gen.Context()})

	var cpNames []string
	for _, n := range streams {
		for _, r := range s.streams[n] {
			cpNames = append(cpNames, r.Name())
		}
	}
	// Nothing runs before the checkpoints are the store's: Kafka down at a
	// takeover is waited out, for as long as the generation lasts.
	err := retry.Do(runCtx, retry.Policy{Initial: time.Second, Max: 30 * time.Second, MaxRetries: retry.Unlimited}, func(ctx context.Context) error {
		err := s.deps.cps.reload(ctx, cpNames)
		if err != nil && ctx.Err() == nil {
			s.deps.log.Warn("coordination group: reading the checkpoints of the streams taken over failed; trying again",
				"streams", strings.Join(streams, ","), "error", err)
		}
		return err
	}, nil)
	if err != nil {
		return
	}
	s.own(streams, true)
	defer s.own(streams, false)
	var wg sync.WaitGroup
	for _, name := range streams {
		first := s.firstWait(name, interval(name), time.Now())
		wg.Go(func() {
			// The heartbeat leaves with the stream: /healthz watches the
			// streams this replica runs.
			defer telemetry.RemoveHeartbeat("source." + name)
			s.loop(runCtx, name, interval, first)
		})
	}
	wg.Wait()
}

// firstWait is how long a stream taken over waits before its first run: not
// at all when an export is in flight, it never completed a run, or its last
// run did not finish every export; otherwise until its interval since the
// last completed run has passed.
func (s *Source) firstWait(name string, every time.Duration, now time.Time) time.Duration {
	parts := s.streams[name]
	if len(parts) == 0 {
		return 0
	}
	var last time.Time // when the stream's last run completed: its last export's last write
	for i, r := range parts {
		cp := s.deps.cps.get(r.Name())
		if cp.Runs == 0 || cp.Export != nil || len(cp.Abandoned) > 0 || cp.UpdatedAt.IsZero() {
			return 0
		}
		if i > 0 && cp.UpdatedAt.Before(last) {
			return 0 // an earlier export completed after this one: that run stopped half way
		}
		last = cp.UpdatedAt
	}
	return max(0, last.Add(every).Sub(now))
}

// CheckCoordinationTopic checks that the coordination topic has a partition
// for every stream.
func CheckCoordinationTopic(partitions int, topic string) error {
	if partitions < CoordinationPartitions {
		return fmt.Errorf("the coordination topic %s has %d partitions, and needs one per stream (%d: %s); delete it to have it created again, or add partitions",
			topic, partitions, CoordinationPartitions, strings.Join(StreamNames, ", "))
	}
	return nil
}
