package kafkaio

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
)

// MembershipConfig configures a member of a coordination group: replicas that
// divide the partitions of one topic between them, each partition standing for
// a piece of work (a source stream), and read no record of it.
type MembershipConfig struct {
	Connection Connection
	GroupID    string
	// Topic is the coordination topic; its partitions are what the group divides.
	Topic string
	// SessionTimeout is how long the group waits for a silent member (a killed
	// process) before it hands its partitions to the others (30s when zero).
	SessionTimeout time.Duration
	// HeartbeatInterval is how often a member tells the group it is alive, and
	// so how soon it learns of a rebalance (3s when zero, at most a third of
	// the session timeout).
	HeartbeatInterval time.Duration
	// RebalanceTimeout is how long a rebalance waits for the members to stop
	// their work and rejoin (30s when zero).
	RebalanceTimeout time.Duration
}

// Membership is this process's place in a coordination group. Partitions are
// spread over the members round robin. kafka-go ends a generation on every
// rebalance and waits for the work it started to return before this member
// rejoins, so a partition moves to another member only once the work of its
// previous owner stopped (or the rebalance timeout expelled that owner).
type Membership struct {
	cg    *kafka.ConsumerGroup
	group string

	mu   sync.Mutex
	live *Generation // nil between generations
}

// Generation is one generation of the group as this member sees it: its
// partitions, and a context that ends when the generation does.
type Generation struct {
	// ID is the group's generation number, as the coordinator assigned it.
	ID int64
	// MemberID is this member's ID in the group.
	MemberID string
	// Partitions are the coordination topic's partitions assigned to this
	// member in this generation, sorted.
	Partitions []int

	ctx context.Context
}

// Context ends when the generation ends: a rebalance, a lost session, or the
// member leaving the group. Its Err is then kafka.ErrGenerationEnded.
func (g *Generation) Context() context.Context { return g.ctx }

// Err is nil while the generation lasts, and says so once it ended.
func (g *Generation) Err() error {
	if g.ctx.Err() != nil {
		return fmt.Errorf("generation %d of the coordination group ended", g.ID)
	}
	return nil
}

// JoinGroup starts the membership; the first generation comes from Run. It
// reaches Kafka only in Run.
func JoinGroup(cfg MembershipConfig) (*Membership, error) {
	if cfg.GroupID == "" || cfg.Topic == "" {
		return nil, errors.New("a coordination group needs a group ID and a topic")
	}
	dialer, err := cfg.Connection.dialer()
	if err != nil {
		return nil, err
	}
	session := cfg.SessionTimeout
	if session <= 0 {
		session = 30 * time.Second
	}
	heartbeat := cfg.HeartbeatInterval
	if heartbeat <= 0 {
		heartbeat = 3 * time.Second
	}
	heartbeat = min(heartbeat, session/3)
	rebalance := cfg.RebalanceTimeout
	if rebalance <= 0 {
		rebalance = 30 * time.Second
	}
	cg, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
		ID:      cfg.GroupID,
		Brokers: cfg.Connection.Brokers,
		Dialer:  dialer,
		Topics:  []string{cfg.Topic},
		// Round robin spreads the partitions, one stream each, evenly; range
		// (kafka-go's first default) would too for one topic, but round robin
		// says the intent.
		GroupBalancers:    []kafka.GroupBalancer{kafka.RoundRobinGroupBalancer{}},
		SessionTimeout:    session,
		HeartbeatInterval: heartbeat,
		RebalanceTimeout:  rebalance,
		// A failed join is retried soon: until it succeeds, this member's
		// share of the work waits on the others' session timeouts.
		JoinGroupBackoff: min(time.Second, session/3),
		Timeout:          min(5*time.Second, session/2),
	})
	if err != nil {
		return nil, fmt.Errorf("coordination group %s: %w", cfg.GroupID, err)
	}
	return &Membership{cg: cg, group: cfg.GroupID}, nil
}

// Live returns the generation this member holds now, or nil between
// generations (joining, rebalancing, or Kafka unreachable).
func (m *Membership) Live() *Generation {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.live != nil && m.live.ctx.Err() != nil {
		return nil
	}
	return m.live
}

// Run joins the group and calls work once per generation, one at a time.
// work must return soon after gen.Context() ends: the member rejoins only
// then. When ctx ends, work may take the time it needs to finish (the
// generation still holds, and its heartbeats go on); once it returned, the
// member leaves the group, so its partitions move at once. A failure to join
// is passed to onError (nil: ignored) and retried; Run returns when ctx ends.
func (m *Membership) Run(ctx context.Context, work func(gen *Generation), onError func(error)) error {
	defer m.cg.Close()
	for {
		kg, err := m.cg.Next(ctx)
		if ctx.Err() != nil {
			if err == nil {
				// A generation arrived as the process stops: leave from inside
				// it, as below.
				m.leaveFrom(kg)
			}
			return nil
		}
		if err != nil {
			if errors.Is(err, kafka.ErrGroupClosed) {
				return err
			}
			if onError != nil {
				onError(fmt.Errorf("coordination group %s: %w", m.group, err))
			}
			continue // kafka-go backs off before the next join
		}
		finished := make(chan struct{})
		kg.Start(func(gctx context.Context) {
			defer close(finished)
			gen := &Generation{ID: int64(kg.ID), MemberID: kg.MemberID, Partitions: partitionsOf(kg), ctx: gctx}
			m.mu.Lock()
			m.live = gen
			m.mu.Unlock()
			work(gen)
			m.mu.Lock()
			m.live = nil
			m.mu.Unlock()
			if ctx.Err() != nil {
				// Close while the generation still runs, so kafka-go leaves the
				// group when this function returns, instead of joining the next
				// generation first.
				go m.cg.Close()
				<-gctx.Done()
			}
		})
		<-finished
		if ctx.Err() != nil {
			return nil
		}
	}
}

// leaveFrom leaves the group from inside a generation that arrived after ctx
// ended.
func (m *Membership) leaveFrom(kg *kafka.Generation) {
	done := make(chan struct{})
	kg.Start(func(gctx context.Context) {
		defer close(done)
		go m.cg.Close()
		<-gctx.Done()
	})
	<-done
}

func partitionsOf(kg *kafka.Generation) []int {
	var out []int
	for _, ps := range kg.Assignments {
		for _, p := range ps {
			out = append(out, p.ID)
		}
	}
	slices.Sort(out)
	return out
}

// Partitions returns the partition count of topic.
func Partitions(ctx context.Context, conn Connection, topic string) (int, error) {
	client, err := conn.client()
	if err != nil {
		return 0, err
	}
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return 0, fmt.Errorf("read metadata of topic %s: %w", topic, err)
	}
	for _, t := range md.Topics {
		if t.Name == topic {
			if t.Error != nil {
				return 0, fmt.Errorf("topic %s: %w", topic, t.Error)
			}
			return len(t.Partitions), nil
		}
	}
	return 0, fmt.Errorf("topic %s: %w", topic, kafka.UnknownTopicOrPartition)
}
