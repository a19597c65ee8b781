package kafkaio_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkatest"
)

// member runs one Membership in the background and records what it saw.
type member struct {
	name string
	m    *kafkaio.Membership
	stop context.CancelFunc
	done chan struct{}
	// hold keeps work running this long after its generation ended (or the
	// member was stopped), as a stream draining would.
	hold time.Duration

	mu   sync.Mutex
	gens []*kafkaio.Generation
	log  *eventLog
}

// eventLog orders what every member did, across members.
type eventLog struct {
	mu     sync.Mutex
	events []string
}

func (l *eventLog) add(format string, args ...any) {
	l.mu.Lock()
	l.events = append(l.events, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

func (l *eventLog) snapshot() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events)
}

func startMember(t *testing.T, brokers []string, group, topic, name string, hold time.Duration, log *eventLog) *member {
	t.Helper()
	m, err := kafkaio.JoinGroup(kafkaio.MembershipConfig{
		Connection: kafkaio.Connection{Brokers: brokers, ClientID: name}, GroupID: group, Topic: topic,
		SessionTimeout: 6 * time.Second, HeartbeatInterval: 200 * time.Millisecond, RebalanceTimeout: 20 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	mb := &member{name: name, m: m, stop: cancel, done: make(chan struct{}), hold: hold, log: log}
	go func() {
		defer close(mb.done)
		_ = m.Run(ctx, func(gen *kafkaio.Generation) {
			mb.mu.Lock()
			mb.gens = append(mb.gens, gen)
			mb.mu.Unlock()
			for _, p := range gen.Partitions {
				log.add("%s start %d", name, p)
			}
			select {
			case <-gen.Context().Done():
			case <-ctx.Done():
			}
			time.Sleep(mb.hold)
			for _, p := range gen.Partitions {
				log.add("%s stop %d", name, p)
			}
		}, nil)
	}()
	t.Cleanup(func() { cancel(); <-mb.done })
	return mb
}

// last returns the member's latest generation, or nil.
func (mb *member) last() *kafkaio.Generation {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	if len(mb.gens) == 0 {
		return nil
	}
	return mb.gens[len(mb.gens)-1]
}

// current returns the partitions of the member's live generation, or nil.
func (mb *member) current() []int {
	if g := mb.m.Live(); g != nil {
		return g.Partitions
	}
	return nil
}

// TestMembershipDividesPartitionsAndNeverOverlaps: a lone member holds every
// partition of the coordination topic; a second one joining takes half, round
// robin; when one leaves, the other holds them all again. Across the whole
// run, no partition starts on a member before the member that held it
// stopped its work, even when that work takes a while to stop.
func TestMembershipDividesPartitionsAndNeverOverlaps(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	topic := kafkatest.CreateTopic(t, brokers, 4, nil)
	group := kafkatest.UniqueName("membership")
	log := &eventLog{}

	a := startMember(t, brokers, group, topic, "a", 300*time.Millisecond, log)
	kafkatest.WaitFor(t, time.Minute, func() error {
		if got := a.current(); !slices.Equal(got, []int{0, 1, 2, 3}) {
			return fmt.Errorf("a alone holds %v, want every partition", got)
		}
		return nil
	})
	first := a.last()

	b := startMember(t, brokers, group, topic, "b", 0, log)
	kafkatest.WaitFor(t, time.Minute, func() error {
		pa, pb := a.current(), b.current()
		if len(pa) != 2 || len(pb) != 2 {
			return fmt.Errorf("a holds %v and b %v, want two each", pa, pb)
		}
		if all := slices.Sorted(slices.Values(append(slices.Clone(pa), pb...))); !slices.Equal(all, []int{0, 1, 2, 3}) {
			return fmt.Errorf("a holds %v and b %v, want every partition once", pa, pb)
		}
		return nil
	})
	if first.Context().Err() == nil || first.Err() == nil {
		t.Error("the generation before b joined should have ended")
	}
	if a.last().ID <= first.ID {
		t.Errorf("generation %d after %d: want a new one", a.last().ID, first.ID)
	}

	a.stop()
	<-a.done
	if a.m.Live() != nil {
		t.Error("a member that left holds a generation")
	}
	kafkatest.WaitFor(t, time.Minute, func() error {
		if got := b.current(); !slices.Equal(got, []int{0, 1, 2, 3}) {
			return fmt.Errorf("b holds %v after a left, want every partition", got)
		}
		return nil
	})

	// Replay the events: a partition starts only where nobody runs it.
	running := map[string]string{}
	for _, e := range log.snapshot() {
		var who, what string
		var p int
		if _, err := fmt.Sscanf(e, "%s %s %d", &who, &what, &p); err != nil {
			t.Fatal(err)
		}
		key := fmt.Sprint(p)
		switch what {
		case "start":
			if other, ok := running[key]; ok {
				t.Errorf("partition %d started on %s while %s still ran it; events %v", p, who, other, log.snapshot())
			}
			running[key] = who
		case "stop":
			delete(running, key)
		}
	}
}
