package kafkaio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/tvmkafka/tvmkafka/pipeline/retry"
)

// GroupReaderConfig configures a consumer-group reader.
type GroupReaderConfig struct {
	Connection Connection
	GroupID    string
	Topic      string
	// Earliest starts a group without committed offsets at the first record
	// (otherwise at the end of the topic).
	Earliest bool
	// SessionTimeout: how long the group waits for a silent member before it
	// reassigns its partitions (30s when zero).
	SessionTimeout time.Duration
}

// GroupReader reads a topic as a member of a consumer group. Commits are
// synchronous, so a failed commit is an error the caller sees.
type GroupReader struct {
	r     *kafka.Reader
	topic string
}

// NewGroupReader joins the group on the topic; reading starts at the group's
// committed offsets.
func NewGroupReader(cfg GroupReaderConfig) (*GroupReader, error) {
	dialer, err := cfg.Connection.dialer()
	if err != nil {
		return nil, err
	}
	session := cfg.SessionTimeout
	if session == 0 {
		session = 30 * time.Second
	}
	start := kafka.LastOffset
	if cfg.Earliest {
		start = kafka.FirstOffset
	}
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:        cfg.Connection.Brokers,
		GroupID:        cfg.GroupID,
		Topic:          cfg.Topic,
		Dialer:         dialer,
		StartOffset:    start,
		CommitInterval: 0,
		MinBytes:       1,
		MaxBytes:       16 << 20,
		MaxWait:        500 * time.Millisecond,
		// A rebalance should not wait for a long heartbeat cycle.
		HeartbeatInterval: min(3*time.Second, session/3),
		SessionTimeout:    session,
		RebalanceTimeout:  30 * time.Second,
	})
	return &GroupReader{r: r, topic: cfg.Topic}, nil
}

// Fetch returns the next record of any partition assigned to this member. It
// blocks until one arrives or ctx ends.
//
// An error that retrying cannot fix (see fetchError) is marked
// retry.Permanent. Any other error, such as a broker that went away (kafka-go
// reports a partition it could not reach after a few attempts) or a group
// coordinator that moved, passes once Kafka is back: the caller fetches again,
// and the reader resumes where it was, or at the group's committed offsets
// after a rebalance, so no record is skipped.
func (g *GroupReader) Fetch(ctx context.Context) (Record, error) {
	m, err := g.r.FetchMessage(ctx)
	if err != nil {
		return Record{}, fetchError(err)
	}
	return fromMessage(&m), nil
}

// fetchError marks as retry.Permanent the fetch errors a retry cannot fix:
// a closed reader, and credentials or permissions the cluster refuses.
func fetchError(err error) error {
	var kerr kafka.Error
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrClosedPipe):
		return retry.Permanent(fmt.Errorf("the consumer is closed: %w", err))
	case errors.As(err, &kerr) && refused(kerr):
		return retry.Permanent(err)
	}
	return err
}

// refused reports whether the cluster refused this client's identity or
// permissions: the same request fails the same way until someone changes the
// configuration.
func refused(e kafka.Error) bool {
	switch e {
	case kafka.TopicAuthorizationFailed, kafka.GroupAuthorizationFailed, kafka.ClusterAuthorizationFailed,
		kafka.SASLAuthenticationFailed, kafka.UnsupportedSASLMechanism, kafka.IllegalSASLState:
		return true
	}
	return false
}

// Commit commits, for each partition, the offset of the next record to read.
func (g *GroupReader) Commit(ctx context.Context, next map[int]int64) error {
	if len(next) == 0 {
		return nil
	}
	msgs := make([]kafka.Message, 0, len(next))
	for p, off := range next {
		// kafka-go commits a message's offset plus one.
		msgs = append(msgs, kafka.Message{Topic: g.topic, Partition: p, Offset: off - 1})
	}
	return g.r.CommitMessages(ctx, msgs...)
}

// Close leaves the group.
func (g *GroupReader) Close() error { return g.r.Close() }

// PendingOffsets returns, for each partition of topic that holds records the
// group has not committed, the end offset to read up to (exclusive). Partitions
// the group is done with are left out; an empty map means nothing to read.
//
// Errors Kafka calls temporary (a partition whose leader is not known yet, as
// just after the topic was created) are retried for up to a minute.
func PendingOffsets(ctx context.Context, conn Connection, group, topic string, earliest bool) (map[int]int64, error) {
	var pending map[int]int64
	policy := retry.Policy{Initial: 100 * time.Millisecond, Max: 2 * time.Second, MaxRetries: retry.Unlimited, MaxElapsed: time.Minute}
	err := retry.Do(ctx, policy, func(ctx context.Context) error {
		var err error
		pending, err = pendingOffsets(ctx, conn, group, topic, earliest)
		if err != nil && !IsTemporary(err) {
			return retry.Permanent(err)
		}
		return err
	}, nil)
	if err != nil {
		return nil, err
	}
	return pending, nil
}

func pendingOffsets(ctx context.Context, conn Connection, group, topic string, earliest bool) (map[int]int64, error) {
	ranges, committed, err := groupPosition(ctx, conn, group, topic, true)
	if err != nil {
		return nil, err
	}
	pending := map[int]int64{}
	for p, r := range ranges {
		from, ok := committed[p]
		if !ok || from < 0 {
			if !earliest {
				continue // a new group starting at the end has nothing to catch up with
			}
			from = r.First
		}
		if r.End > from {
			pending[p] = r.End
		}
	}
	return pending, nil
}

// groupPosition returns the offset range of every partition of topic and the
// group's committed offset of each (-1, or absent, where it committed none).
// With strict, a partition whose committed offset cannot be read is an error;
// otherwise it counts as not committed.
func groupPosition(ctx context.Context, conn Connection, group, topic string, strict bool) (map[int]OffsetRange, map[int]int64, error) {
	ranges, err := PartitionOffsets(ctx, conn, topic)
	if err != nil {
		return nil, nil, err
	}
	client, err := conn.client()
	if err != nil {
		return nil, nil, err
	}
	parts := make([]int, 0, len(ranges))
	for p := range ranges {
		parts = append(parts, p)
	}
	fetched, err := client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: parts}})
	if err != nil {
		return nil, nil, fmt.Errorf("committed offsets of group %s: %w", group, err)
	}
	committed := map[int]int64{}
	for _, p := range fetched.Topics[topic] {
		if p.Error != nil {
			if strict {
				return nil, nil, fmt.Errorf("committed offset of %s/%d: %w", topic, p.Partition, p.Error)
			}
			continue
		}
		committed[p.Partition] = p.CommittedOffset
	}
	return ranges, committed, nil
}

// IsTemporary reports whether err is an error Kafka calls temporary: a
// partition without a leader yet, a coordinator loading, a rebalance.
func IsTemporary(err error) bool {
	var kerr kafka.Error
	return errors.As(err, &kerr) && kerr.Temporary()
}
