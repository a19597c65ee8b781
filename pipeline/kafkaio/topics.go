package kafkaio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"

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
	client, err := conn.Client()
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
	return errors.Join(errs...)
}
