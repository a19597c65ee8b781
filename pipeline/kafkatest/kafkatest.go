// Package kafkatest gives tests a Kafka cluster and a topic of their own.
//
// Brokers decides which cluster: the real Apache Kafka broker named by
// KAFKA_BROKERS (comma-separated; `make test` starts one and sets it), or, when
// KAFKA_BROKERS is unset, an in-process fake (franz-go's kfake) started once per
// test binary, so a plain `go test ./...` exercises every delivery guarantee.
// Under CI=true the real broker is required: a missing KAFKA_BROKERS or a broker
// that does not answer fails the test, never falls back to the fake. Packages
// that use Brokers call Main from their TestMain, which closes the fake at the
// end of the binary.
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
	"github.com/twmb/franz-go/pkg/kfake"
)

var (
	probeOnce sync.Once
	probeErr  error

	fakeMu      sync.Mutex
	fakeCluster *kfake.Cluster
	fakeClosed  bool
)

// Brokers returns the broker addresses for an integration test: the real
// broker of KAFKA_BROKERS, or the shared in-process fake when it is unset (see
// the package comment). It skips the test under -short (unit tests only), and
// fails it when KAFKA_BROKERS names a broker that does not answer, or when
// CI=true and KAFKA_BROKERS is unset.
func Brokers(tb testing.TB) []string {
	tb.Helper()
	if testing.Short() {
		tb.Skip("-short: unit tests only, no Kafka")
	}
	if brokers := brokerList(); len(brokers) > 0 {
		probeOnce.Do(func() { probeErr = probe(brokers) })
		if probeErr != nil {
			tb.Fatalf("no Kafka broker answers at KAFKA_BROKERS=%s (start one with `make kafka-up`, or unset KAFKA_BROKERS to test on the in-process fake): %v",
				strings.Join(brokers, ","), probeErr)
		}
		return brokers
	}
	if os.Getenv("CI") == "true" {
		tb.Fatal("CI=true runs the integration tests on a real Kafka broker, and KAFKA_BROKERS is unset (deploy/kafka-local/with-broker.sh sets it)")
	}
	return fakeBrokers(tb)
}

// NeedsBroker ends tb as Brokers would when no cluster is available (skipped
// under -short, failed when KAFKA_BROKERS does not answer). A parent test whose
// subtests each call Brokers calls it first, so the parent is skipped itself
// rather than passing with every subtest skipped.
func NeedsBroker(tb testing.TB) {
	tb.Helper()
	Brokers(tb)
}

// OnFake reports whether Brokers hands out the in-process fake (KAFKA_BROKERS
// unset) rather than a real broker.
func OnFake() bool { return len(brokerList()) == 0 }

// NeedsRealBroker returns Brokers(tb), or skips tb with why when the cluster is
// the in-process fake: for the few tests of broker behaviour the fake lacks
// (a broker restart, for instance). CI always has the real broker.
func NeedsRealBroker(tb testing.TB, why string) []string {
	tb.Helper()
	brokers := Brokers(tb)
	if OnFake() {
		tb.Skipf("needs a real Kafka broker (set KAFKA_BROKERS): %s", why)
	}
	return brokers
}

// Main runs the tests of a package that uses Brokers and closes the shared
// fake afterwards; call it from TestMain:
//
//	func TestMain(m *testing.M) { kafkatest.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	fakeMu.Lock()
	if fakeCluster != nil {
		fakeCluster.Close()
	}
	fakeClosed = true
	fakeMu.Unlock()
	os.Exit(code)
}

// fakeBrokers starts the shared fake cluster on first use: one broker, as
// deploy/kafka-local runs, so both clusters answer alike (one leader for
// every partition, replication factor 1).
func fakeBrokers(tb testing.TB) []string {
	tb.Helper()
	fakeMu.Lock()
	defer fakeMu.Unlock()
	if fakeClosed {
		tb.Fatal("the in-process Kafka fake is already closed (a test outlived kafkatest.Main)")
	}
	if fakeCluster == nil {
		c, err := kfake.NewCluster(kfake.NumBrokers(1))
		if err != nil {
			tb.Fatalf("start the in-process Kafka fake: %v", err)
		}
		fakeCluster = c
	}
	return fakeCluster.ListenAddrs()
}

// NewFakeCluster starts a fake cluster of the test's own, for injecting broker
// faults (kfake's Fault and ControlKey) that must not reach other tests; it is
// closed when the test ends. Its addresses are c.ListenAddrs(). Topics are
// created with CreateTopic, as on the shared cluster.
func NewFakeCluster(tb testing.TB, opts ...kfake.Opt) *kfake.Cluster {
	tb.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		tb.Fatalf("start a Kafka fake: %v", err)
	}
	tb.Cleanup(c.Close)
	return c
}

func brokerList() []string {
	var out []string
	for _, b := range strings.Split(os.Getenv("KAFKA_BROKERS"), ",") {
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
	client := newClient(brokers, 5*time.Second)
	defer client.close()
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
	// kafka-go's default transport, on purpose: a transport refreshes its
	// cached metadata when it creates a topic, so writers and clients on the
	// default transport (Transport unset) see the new topic at once.
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
	client := newClient(brokers, 5*time.Second)
	defer client.close()
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
