// Package kafkatest connects tests to the real Apache Kafka broker that `make test`
// starts (deploy/kafka-local), and gives each test a topic of its own.
//
// The broker address comes from KAFKA_BROKERS (comma-separated, default
// 127.0.0.1:19092). When no broker answers, a test is skipped, except under
// CI=true, where a missing broker fails the test: CI must never pass by skipping.
package kafkatest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// DefaultBrokers is where deploy/kafka-local/kafka.sh starts its broker.
const DefaultBrokers = "127.0.0.1:19092"

var (
	probeOnce sync.Once
	probeErr  error
)

// Brokers returns the broker addresses for an integration test, or ends the test:
// skipped when no broker runs, failed when CI=true and no broker runs.
func Brokers(tb testing.TB) []string {
	tb.Helper()
	brokers := brokerList()
	probeOnce.Do(func() { probeErr = probe(brokers) })
	if probeErr != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("integration test needs a Kafka broker at %s (CI=true forbids skipping): %v", strings.Join(brokers, ","), probeErr)
		}
		tb.Skipf("no Kafka broker at %s (start one with `make kafka-up`): %v", strings.Join(brokers, ","), probeErr)
	}
	return brokers
}

func brokerList() []string {
	v := os.Getenv("KAFKA_BROKERS")
	if v == "" {
		v = DefaultBrokers
	}
	var out []string
	for _, b := range strings.Split(v, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}

// probe asks the broker for its metadata, which only succeeds once it serves clients.
func probe(brokers []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 5 * time.Second}
	_, err := client.Metadata(ctx, &kafka.MetadataRequest{})
	return err
}

// UniqueName returns prefix followed by a random suffix, so tests sharing one broker never collide.
func UniqueName(prefix string) string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return prefix + "-" + hex.EncodeToString(b[:])
}

// invalidTopicChars are the characters Kafka refuses in topic names.
var invalidTopicChars = regexp.MustCompile(`[^A-Za-z0-9._-]`)

// CreateTopic creates a topic named after the test with the given partitions and
// topic configs (for example "cleanup.policy": "compact"); it is deleted when the test ends.
func CreateTopic(tb testing.TB, brokers []string, partitions int, configs map[string]string) string {
	tb.Helper()
	name := UniqueName(invalidTopicChars.ReplaceAllString(tb.Name(), "_"))
	if len(name) > 200 {
		name = name[len(name)-200:]
	}
	var entries []kafka.ConfigEntry
	for k, v := range configs {
		entries = append(entries, kafka.ConfigEntry{ConfigName: k, ConfigValue: v})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 20 * time.Second}
	resp, err := client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{
		Topic: name, NumPartitions: partitions, ReplicationFactor: 1, ConfigEntries: entries,
	}}})
	if err != nil {
		tb.Fatalf("create topic %s: %v", name, err)
	}
	if err := resp.Errors[name]; err != nil {
		tb.Fatalf("create topic %s: %v", name, err)
	}
	WaitFor(tb, 20*time.Second, func() error { return topicReady(brokers, name, partitions) })
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_, _ = client.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: []string{name}})
	})
	return name
}

// topicReady reports whether every partition of topic has a leader that answers.
func topicReady(brokers []string, topic string, partitions int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 5 * time.Second}
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return err
	}
	for _, t := range md.Topics {
		if t.Name != topic {
			continue
		}
		if t.Error != nil {
			return t.Error
		}
		if len(t.Partitions) != partitions {
			return fmt.Errorf("topic %s has %d of %d partitions", topic, len(t.Partitions), partitions)
		}
		var reqs []kafka.OffsetRequest
		for _, p := range t.Partitions {
			if p.Leader.Host == "" {
				return fmt.Errorf("partition %d of %s has no leader yet", p.ID, topic)
			}
			reqs = append(reqs, kafka.LastOffsetOf(p.ID))
		}
		// A leader in the metadata may still refuse requests for a moment.
		offs, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
		if err != nil {
			return err
		}
		for _, p := range offs.Topics[topic] {
			if p.Error != nil {
				return fmt.Errorf("partition %d of %s: %w", p.Partition, topic, p.Error)
			}
		}
		return nil
	}
	return fmt.Errorf("topic %s not in metadata yet", topic)
}

// WaitFor polls cond until it returns nil or the timeout passes, then fails the test
// with cond's last error. Tests wait on conditions, never on fixed sleeps.
func WaitFor(tb testing.TB, timeout time.Duration, cond func() error) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	delay := 20 * time.Millisecond
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("condition not met after %v: %v", timeout, err)
		}
		time.Sleep(delay)
		if delay < 500*time.Millisecond {
			delay *= 2
		}
	}
}
