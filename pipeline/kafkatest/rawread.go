package kafkatest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tvmkafka/tvmkafka/pipeline/retry"
)

// ReadCommittedOffsets returns the offsets group committed for partitions 0 to
// partitions-1 of topic (-1: none committed), as CommittedOffsets does, but
// returns its error instead of failing the test: a goroutine that watches a
// group while the test runs may call it (only the test's own goroutine may
// stop the test). It reads with franz-go, independent of the code under test.
func ReadCommittedOffsets(ctx context.Context, brokers []string, group, topic string, partitions int) (map[int]int64, error) {
	var out map[int]int64
	// A broker just started or restarted answers COORDINATOR_NOT_AVAILABLE or
	// COORDINATOR_LOAD_IN_PROGRESS for a while: Kafka's retriable errors are
	// asked again until ctx ends.
	policy := retry.Policy{Initial: 50 * time.Millisecond, Max: time.Second, MaxRetries: retry.Unlimited}
	err := retry.Do(ctx, policy, func(ctx context.Context) error {
		var err error
		out, err = readCommittedOffsets(ctx, brokers, group, topic, partitions)
		if err != nil && !kerr.IsRetriable(err) {
			return retry.Permanent(err)
		}
		return err
	}, nil)
	return out, err
}

func readCommittedOffsets(ctx context.Context, brokers []string, group, topic string, partitions int) (map[int]int64, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return nil, fmt.Errorf("client for committed offsets of group %s: %w", group, err)
	}
	defer cl.Close()
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Group = group
	rt := kmsg.NewOffsetFetchRequestTopic()
	rt.Topic = topic
	for p := range partitions {
		rt.Partitions = append(rt.Partitions, int32(p))
	}
	req.Topics = append(req.Topics, rt)
	out := map[int]int64{}
	resp, err := req.RequestWith(ctx, cl)
	if err == nil {
		err = kerr.ErrorForCode(resp.ErrorCode)
	}
	if errors.Is(err, kerr.GroupIDNotFound) {
		// A group that does not exist yet committed nothing. Kafka answers
		// so for a group it never saw; kfake names the error.
		for p := range partitions {
			out[p] = -1
		}
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("committed offsets of group %s on %s: %w", group, topic, err)
	}
	for _, t := range resp.Topics {
		if t.Topic != topic {
			continue
		}
		for _, p := range t.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				return nil, fmt.Errorf("committed offset of group %s on %s/%d: %w", group, topic, p.Partition, err)
			}
			out[int(p.Partition)] = p.Offset
		}
	}
	if len(out) != partitions {
		return nil, fmt.Errorf("committed offsets of group %s on %s: %d of %d partitions answered", group, topic, len(out), partitions)
	}
	return out, nil
}
