package kafkaio

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// Ping asks the cluster for its broker list: one metadata request, the
// cheapest proof that a broker answers (with TLS and SASL, when configured).
func Ping(ctx context.Context, conn Connection) error {
	client, err := conn.client()
	if err != nil {
		return err
	}
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{}})
	if err != nil {
		return fmt.Errorf("kafka metadata from %v: %w", conn.Brokers, err)
	}
	if len(md.Brokers) == 0 {
		return fmt.Errorf("kafka metadata from %v: the cluster lists no broker", conn.Brokers)
	}
	return nil
}

// TopicInfo is what DescribeTopics learns of a topic.
type TopicInfo struct {
	Exists     bool
	Partitions int
	// Configs holds the values of the config names asked for, as the broker
	// reports them (its defaults included).
	Configs map[string]string
}

// DescribeTopics reads the partitions of each named topic and the values of
// the given topic configs (e.g. cleanup.policy). A topic that does not exist
// is reported with Exists false, not as an error.
func DescribeTopics(ctx context.Context, conn Connection, names []string, configs ...string) (map[string]TopicInfo, error) {
	client, err := conn.client()
	if err != nil {
		return nil, err
	}
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: names})
	if err != nil {
		return nil, fmt.Errorf("read topic metadata: %w", err)
	}
	out := make(map[string]TopicInfo, len(names))
	for _, n := range names {
		out[n] = TopicInfo{}
	}
	var resources []kafka.DescribeConfigRequestResource
	for _, t := range md.Topics {
		switch {
		case t.Error == nil:
			out[t.Name] = TopicInfo{Exists: true, Partitions: len(t.Partitions), Configs: map[string]string{}}
			resources = append(resources, kafka.DescribeConfigRequestResource{
				ResourceType: kafka.ResourceTypeTopic, ResourceName: t.Name, ConfigNames: configs})
		case errors.Is(t.Error, kafka.UnknownTopicOrPartition):
		default:
			return nil, fmt.Errorf("metadata of topic %s: %w", t.Name, t.Error)
		}
	}
	if len(configs) == 0 || len(resources) == 0 {
		return out, nil
	}
	resp, err := client.DescribeConfigs(ctx, &kafka.DescribeConfigsRequest{Resources: resources})
	if err != nil {
		return nil, fmt.Errorf("describe topic configs: %w", err)
	}
	for _, r := range resp.Resources {
		if r.Error != nil {
			return nil, fmt.Errorf("configs of topic %s: %w", r.ResourceName, r.Error)
		}
		info := out[r.ResourceName]
		for _, e := range r.ConfigEntries {
			info.Configs[e.ConfigName] = e.ConfigValue
		}
	}
	return out, nil
}

// ConsumerLag returns, per partition of topic, how many records lie between
// the group's committed offset (the partition's start when it committed none)
// and the partition's end: what the group has still to process.
func ConsumerLag(ctx context.Context, conn Connection, group, topic string) (map[int]int64, error) {
	ranges, committed, err := groupPosition(ctx, conn, group, topic, false)
	if err != nil {
		return nil, err
	}
	lag := map[int]int64{}
	for p, r := range ranges {
		from, ok := committed[p]
		if !ok || from < r.First {
			from = r.First
		}
		lag[p] = max(r.End-from, 0)
	}
	return lag, nil
}

// validateWait bounds a validate-only CreateTopics request, answer included.
const validateWait = 3 * time.Second

// ValidateCreateTopics asks the cluster whether it would create the topics
// (a CreateTopics request with validate-only set: nothing is created) and
// returns the refusal of each topic it would not create.
func ValidateCreateTopics(ctx context.Context, conn Connection, specs []TopicSpec) map[string]error {
	out := map[string]error{}
	client, err := conn.client()
	if err != nil {
		for _, s := range specs {
			out[s.Name] = err
		}
		return out
	}
	topics := make([]kafka.TopicConfig, len(specs))
	for i, s := range specs {
		topics[i] = kafka.TopicConfig{Topic: s.Name, NumPartitions: s.Partitions, ReplicationFactor: s.ReplicationFactor}
		for k, v := range s.Configs {
			topics[i].ConfigEntries = append(topics[i].ConfigEntries, kafka.ConfigEntry{ConfigName: k, ConfigValue: v})
		}
	}
	// After a CreateTopics answer, kafka-go waits for the topics to show up in
	// the metadata until the context ends, which validated-only topics never
	// do; a short deadline bounds that wait, and the answer is kept.
	vctx, cancel := context.WithTimeout(ctx, validateWait)
	defer cancel()
	resp, err := client.CreateTopics(vctx, &kafka.CreateTopicsRequest{Topics: topics, ValidateOnly: true})
	for _, s := range specs {
		switch {
		case err != nil:
			out[s.Name] = fmt.Errorf("validate creation: %w", err)
		case resp.Errors[s.Name] != nil && !errors.Is(resp.Errors[s.Name], kafka.TopicAlreadyExists):
			out[s.Name] = resp.Errors[s.Name]
		}
	}
	return out
}
