package main

import (
	"context"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tvmkafka/tvmkafka/connector/source"
	"github.com/tvmkafka/tvmkafka/connector/tenablesim"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkatest"
)

// TestSourceOnceEndsWithATable: `source --once` against the simulator ends
// with a row per stream whose record count is what landed on its topic, with
// chunks (pages for plugins) and the new watermark.
func TestSourceOnceEndsWithATable(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	sim, err := tenablesim.New(tenablesim.Config{Assets: 40, Seed: 5, AccessKey: "ak", SecretKey: "sk"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	t.Setenv("TVMKAFKA_TENABLE_URL", srv.URL)
	t.Setenv("TVMKAFKA_TENABLE_ACCESS_KEY", "ak")
	t.Setenv("TVMKAFKA_TENABLE_SECRET_KEY", "sk")
	t.Setenv("TVMKAFKA_KAFKA_BROKERS", strings.Join(brokers, ","))
	t.Setenv("TVMKAFKA_TOPIC_PARTITIONS", "2")
	t.Setenv("TVMKAFKA_TOPIC_REPLICATION_FACTOR", "1")
	t.Setenv("TVMKAFKA_SOURCE_POLL_INITIAL", "50ms")
	t.Setenv("TVMKAFKA_SOURCE_POLL_MAX", "200ms")
	t.Setenv("TVMKAFKA_LOG_LEVEL", "warn")
	setTopicNames(t, kafkatest.UniqueName("table"))
	cfg, err := loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteTopics(t, brokers, allTopicSpecs(cfg)) })

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out syncBuffer
	if err := runCLIWith(ctx, &out, "source", "--once"); err != nil {
		t.Fatalf("source --once: %v\n%s", err, out.String())
	}
	row := regexp.MustCompile(`(?m)^\s*(\w+)\s+(\d+)\s+(\d+) (chunks?|pages?)\s+\S+\s+(\S+)\s*$`)
	rows := map[string][]string{}
	for _, m := range row.FindAllStringSubmatch(out.String(), -1) {
		rows[m[1]] = m[2:]
	}
	if !strings.Contains(out.String(), "CHUNKS/PAGES") {
		t.Errorf("no table header:\n%s", out.String())
	}
	for _, s := range source.Table {
		r, ok := rows[s.Name]
		if !ok {
			t.Errorf("no row for %s:\n%s", s.Name, out.String())
			continue
		}
		ranges, err := kafkaio.PartitionOffsets(ctx, kafkaio.Connection{Brokers: brokers}, cfg.Streams.Topic[s.Name])
		if err != nil {
			t.Fatal(err)
		}
		var onTopic int64
		for _, rg := range ranges {
			onTopic += rg.End - rg.First
		}
		if got, _ := strconv.ParseInt(r[0], 10, 64); got != onTopic || got == 0 {
			t.Errorf("%s: table says %d records, the topic holds %d", s.Name, got, onTopic)
		}
		if n, _ := strconv.Atoi(r[1]); n < 1 {
			t.Errorf("%s: %s %s", s.Name, r[1], r[2])
		}
		if wantUnit := map[bool]string{true: "page", false: "chunk"}[s.Runs == source.RunPages]; strings.TrimSuffix(r[2], "s") != wantUnit {
			t.Errorf("%s: unit %s, want %s", s.Name, r[2], wantUnit)
		}
		if _, err := time.Parse(time.RFC3339, r[3]); err != nil {
			t.Errorf("%s: watermark %q: %v", s.Name, r[3], err)
		}
	}
}
