package kafkaio_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkatest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newFake(t *testing.T, topics ...string) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, topics...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func newProducer(t *testing.T, brokers []string, mutate ...func(*kafkaio.ProducerConfig)) *kafkaio.Producer {
	t.Helper()
	cfg := kafkaio.DefaultProducerConfig()
	cfg.Connection, cfg.Logger, cfg.MaxAttempts = kafkaio.Connection{Brokers: brokers}, quiet, 3
	for _, m := range mutate {
		m(&cfg)
	}
	p, err := kafkaio.NewProducer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func messages(topic string, n int, prefix string) []kafkaio.Record {
	out := make([]kafkaio.Record, n)
	for i := range out {
		out[i] = kafkaio.Record{Topic: topic, Key: []byte(fmt.Sprintf("%s-%d", prefix, i)), Value: []byte(strings.Repeat("v", 200))}
	}
	return out
}

// keyCounts counts the records of each key in recs.
func keyCounts(recs []kafkaio.Record) map[string]int {
	counts := map[string]int{}
	for _, r := range recs {
		counts[string(r.Key)]++
	}
	return counts
}

func TestMain(m *testing.M) { kafkatest.Main(m) }

func TestAckGroupWaitsForEveryMessage(t *testing.T) {
	c := newFake(t, "data")
	p := newProducer(t, c.ListenAddrs())
	ctx := context.Background()
	g1, g2 := kafkaio.NewAckGroup(), kafkaio.NewAckGroup()
	if err := p.Send(ctx, g1, messages("data", 500, "a")...); err != nil {
		t.Fatal(err)
	}
	if err := p.Send(ctx, g2, messages("data", 300, "b")...); err != nil {
		t.Fatal(err)
	}
	if err := g1.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if err := g2.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if st := p.Stats(); st.Acked != 800 || st.Failed != 0 {
		t.Errorf("stats %+v, want 800 acked", st)
	}
	var total int64
	for _, pi := range c.PartitionInfos("data") {
		total += pi.HighWatermark
	}
	if total != 800 {
		t.Errorf("broker holds %d messages, want 800", total)
	}
}

func TestEmptyAckGroupCompletes(t *testing.T) {
	g := kafkaio.NewAckGroup()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := g.Wait(ctx); err != nil {
		t.Fatalf("an empty group should complete at once: %v", err)
	}
}

func TestAckGroupReportsProduceFailure(t *testing.T) {
	c := newFake(t, "data")
	// A non-retryable error on every produce to the topic.
	c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: "data", Err: kerr.TopicAuthorizationFailed, Count: -1})
	p := newProducer(t, c.ListenAddrs())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	g := kafkaio.NewAckGroup()
	if err := p.Send(ctx, g, messages("data", 10, "x")...); err != nil {
		t.Fatal(err)
	}
	err := g.Wait(ctx)
	if err == nil {
		t.Fatal("want the produce failure reported by Wait")
	}
	if !strings.Contains(err.Error(), "produce to data") {
		t.Errorf("error should name the topic: %v", err)
	}
	if st := p.Stats(); st.Failed != 10 || st.Acked != 0 {
		t.Errorf("stats %+v, want 10 failed", st)
	}
}

// TestProducerRetriesTransientFailures: the broker refuses the first produce
// requests with a retriable error; the producer retries them, and when the
// group's Wait returns every record is in the topic, once, exactly the keys sent.
func TestProducerRetriesTransientFailures(t *testing.T) {
	c := newFake(t, "data")
	const refusals = 2
	fault := c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: "data", Err: kerr.NotLeaderForPartition, Count: refusals})
	p := newProducer(t, c.ListenAddrs(), func(cfg *kafkaio.ProducerConfig) { cfg.MaxAttempts = 5 })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	g := kafkaio.NewAckGroup()
	sent := messages("data", 20, "x")
	if err := p.Send(ctx, g, sent...); err != nil {
		t.Fatal(err)
	}
	if err := g.Wait(ctx); err != nil {
		t.Fatalf("two transient failures should be retried away: %v", err)
	}
	// What the broker holds the moment Wait returned: the fake's high
	// watermarks, read in-process, then the records below them.
	var stored int64
	for _, pi := range c.PartitionInfos("data") {
		stored += pi.HighWatermark
	}
	if stored != int64(len(sent)) {
		t.Fatalf("when Wait returned the topic held %d records, want all %d sent", stored, len(sent))
	}
	if hits := fault.Hits(); hits != refusals {
		t.Fatalf("the broker refused %d produce requests, want %d: the retry path was not exercised", hits, refusals)
	}
	counts := keyCounts(kafkatest.ReadTopic(t, c.ListenAddrs(), "data", nil))
	for _, r := range sent {
		if n := counts[string(r.Key)]; n != 1 {
			t.Errorf("key %s stored %d times, want once", r.Key, n)
		}
		delete(counts, string(r.Key))
	}
	if len(counts) != 0 {
		t.Errorf("the topic holds keys that were never sent: %v", counts)
	}
}

// TestSendBlocksWhileInFlightBytesAreOverTheBound holds every produce answer back:
// once the in-flight bound is used up, Send waits (here until its context ends),
// and proceeds once the broker answers again.
func TestSendBlocksWhileInFlightBytesAreOverTheBound(t *testing.T) {
	c := newFake(t, "data")
	release := make(chan struct{})
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		c.SleepControl(func() { <-release })
		return nil, nil, false // then let the cluster answer normally
	})
	const bound = 1 << 20
	p := newProducer(t, c.ListenAddrs(), func(cfg *kafkaio.ProducerConfig) { cfg.MaxInFlightBytes = bound; cfg.BatchBytes = 512 << 10 })
	g := kafkaio.NewAckGroup()
	big := messages("data", 4, "big")
	for i := range big {
		big[i].Value = make([]byte, 300<<10) // 4 x 300 KiB > 1 MiB
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	err := p.Send(ctx, g, big...)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send should block past the in-flight bound, got %v", err)
	}
	close(release)
	wctx, wcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer wcancel()
	g2 := kafkaio.NewAckGroup()
	if err := p.Send(wctx, g2, big[:1]...); err != nil {
		t.Fatalf("after the broker answers, Send proceeds: %v", err)
	}
	if err := g2.Wait(wctx); err != nil {
		t.Fatal(err)
	}
}

// TestProducerAgainstRealBroker: every message of several groups reaches a real
// broker exactly as sent, and the groups complete only then.
func TestProducerAgainstRealBroker(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	topic := kafkatest.CreateTopic(t, brokers, 3, nil)
	p := newProducer(t, brokers, func(cfg *kafkaio.ProducerConfig) { cfg.Compression = "zstd" })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var groups []*kafkaio.AckGroup
	for i := range 5 {
		g := kafkaio.NewAckGroup()
		if err := p.Send(ctx, g, messages(topic, 400, fmt.Sprintf("g%d", i))...); err != nil {
			t.Fatal(err)
		}
		groups = append(groups, g)
	}
	for _, g := range groups {
		if err := g.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	counts := keyCounts(kafkatest.ReadTopic(t, brokers, topic, nil))
	if len(counts) != 2000 {
		t.Fatalf("found %d distinct keys, want 2000", len(counts))
	}
	for k, n := range counts {
		if n != 1 {
			t.Errorf("key %s stored %d times", k, n)
		}
	}
}

func TestEnsureTopicsAgainstRealBroker(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	name := kafkatest.UniqueName("ensure")
	conn := kafkaio.Connection{Brokers: brokers}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// A transport of its own: the default one caches topic metadata from before EnsureTopics.
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Transport: &kafka.Transport{}}
	spec := []kafkaio.TopicSpec{{Name: name, Partitions: 2, ReplicationFactor: 1, Configs: map[string]string{"cleanup.policy": "compact"}}}
	if err := kafkaio.EnsureTopics(ctx, conn, spec, quiet); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = client.DeleteTopics(context.Background(), &kafka.DeleteTopicsRequest{Topics: []string{name}})
	})
	if err := kafkaio.EnsureTopics(ctx, conn, spec, quiet); err != nil { // idempotent
		t.Fatalf("second EnsureTopics: %v", err)
	}
	cfgs, err := client.DescribeConfigs(ctx, &kafka.DescribeConfigsRequest{Resources: []kafka.DescribeConfigRequestResource{{
		ResourceType: kafka.ResourceTypeTopic, ResourceName: name, ConfigNames: []string{"cleanup.policy"},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := cfgs.Resources[0].ConfigEntries[0].ConfigValue; got != "compact" {
		t.Errorf("cleanup.policy = %q, want compact", got)
	}
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{name}})
	if err != nil || len(md.Topics) != 1 || len(md.Topics[0].Partitions) != 2 {
		t.Fatalf("metadata %+v err %v", md, err)
	}
}

// TestEnsureTopicsReturnsUsableTopics: the topics EnsureTopics created take
// offset requests at once; right after CreateTopics a broker may still answer
// "not leader for partition".
func TestEnsureTopicsReturnsUsableTopics(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	conn := kafkaio.Connection{Brokers: brokers}
	// A transport of its own: the default one caches topic metadata from before EnsureTopics.
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Transport: &kafka.Transport{}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for round := range 5 {
		var specs []kafkaio.TopicSpec
		var names []string
		for i := range 3 {
			name := kafkatest.UniqueName(fmt.Sprintf("usable-%d-%d", round, i))
			names = append(names, name)
			specs = append(specs, kafkaio.TopicSpec{Name: name, Partitions: 6, ReplicationFactor: 1})
		}
		t.Cleanup(func() { _, _ = client.DeleteTopics(context.Background(), &kafka.DeleteTopicsRequest{Topics: names}) })
		if err := kafkaio.EnsureTopics(ctx, conn, specs, quiet); err != nil {
			t.Fatal(err)
		}
		reqs := map[string][]kafka.OffsetRequest{}
		for _, name := range names {
			for p := range 6 {
				reqs[name] = append(reqs[name], kafka.LastOffsetOf(p))
			}
		}
		offs, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: reqs})
		if err != nil {
			t.Fatal(err)
		}
		for topic, parts := range offs.Topics {
			if len(parts) != 6 {
				t.Fatalf("%s: offsets of %d partitions, want 6", topic, len(parts))
			}
			for _, p := range parts {
				if p.Error != nil {
					t.Fatalf("round %d: %s/%d right after EnsureTopics: %v", round, topic, p.Partition, p.Error)
				}
			}
		}
	}
}
