package kafkaio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/segmentio/kafka-go"
)

// TopicSpec is a topic to create when missing.
type TopicSpec struct {
	Name              string
	Partitions        int
	ReplicationFactor int
	// Configs are topic-level configs such as cleanup.policy=compact.
	Configs map[string]string
}

// EnsureTopics creates the topics that do not exist yet. Existing topics are left
// as they are (their partition count is logged when it differs from the spec).
func EnsureTopics(ctx context.Context, conn Connection, specs []TopicSpec, log *slog.Logger) error {
	client, err := conn.client()
	if err != nil {
		return err
	}
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.Name
	}
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: names})
	if err != nil {
		return fmt.Errorf("read topic metadata: %w", err)
	}
	existing := map[string]int{}
	for _, t := range md.Topics {
		if t.Error == nil {
			existing[t.Name] = len(t.Partitions)
		}
	}
	var create []kafka.TopicConfig
	for _, s := range specs {
		if n, ok := existing[s.Name]; ok {
			if n != s.Partitions {
				log.Info("topic exists with a different partition count; leaving it", "topic", s.Name, "partitions", n, "configured", s.Partitions)
			}
			continue
		}
		keys := make([]string, 0, len(s.Configs))
		for k := range s.Configs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var entries []kafka.ConfigEntry
		for _, k := range keys {
			entries = append(entries, kafka.ConfigEntry{ConfigName: k, ConfigValue: s.Configs[k]})
		}
		create = append(create, kafka.TopicConfig{
			Topic: s.Name, NumPartitions: s.Partitions, ReplicationFactor: s.ReplicationFactor, ConfigEntries: entries,
		})
	}
	if len(create) == 0 {
		return nil
	}
	resp, err := client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: create})
	if err != nil {
		return fmt.Errorf("create topics: %w", err)
	}
	var errs []error
	for _, t := range create {
		if err := resp.Errors[t.Topic]; err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
			errs = append(errs, fmt.Errorf("create topic %s: %w", t.Topic, err))
			continue
		}
		log.Info("created topic", "topic", t.Topic, "partitions", t.NumPartitions, "replication", t.ReplicationFactor)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return waitForLeaders(ctx, client, create)
}

// offsetsRefused names a partition that does not answer an end-offset request
// yet, or returns "".
func offsetsRefused(ctx context.Context, client *kafka.Client, topics []kafka.Topic) string {
	reqs := map[string][]kafka.OffsetRequest{}
	for _, t := range topics {
		for _, p := range t.Partitions {
			reqs[t.Name] = append(reqs[t.Name], kafka.LastOffsetOf(p.ID))
		}
	}
	offs, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: reqs})
	if err != nil {
		return err.Error()
	}
	for topic, parts := range offs.Topics {
		for _, p := range parts {
			if p.Error != nil {
				return fmt.Sprintf("%s/%d: %v", topic, p.Partition, p.Error)
			}
		}
	}
	return ""
}

// waitForLeaders returns once every partition of the created topics has a
// leader that answers. Right after CreateTopics the broker may still answer "not leader"
// (or not know the topic), and the first reads and writes would fail.
func waitForLeaders(ctx context.Context, client *kafka.Client, created []kafka.TopicConfig) error {
	want := map[string]int{}
	names := make([]string, 0, len(created))
	for _, t := range created {
		want[t.Topic] = t.NumPartitions
		names = append(names, t.Topic)
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: names})
		notReady := ""
		switch {
		case err != nil:
			notReady = err.Error()
		default:
			ready := 0
			for _, t := range md.Topics {
				ok := t.Error == nil && (want[t.Name] <= 0 || len(t.Partitions) == want[t.Name])
				for _, p := range t.Partitions {
					ok = ok && p.Error == nil && p.Leader.Host != ""
				}
				if ok {
					ready++
				} else if notReady == "" {
					notReady = "topic " + t.Name
				}
			}
			if ready == len(names) {
				// A leader in the metadata is not enough: the partition may still
				// refuse requests for a moment. Ask each one for its end offset.
				if notReady = offsetsRefused(ctx, client, md.Topics); notReady == "" {
					return nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("created topics have no partition leaders yet (%s): %w", notReady, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
