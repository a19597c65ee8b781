package state

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkatest"
)

// TestKafkaStoreRoundTrip writes, overwrites and deletes keys on a compacted topic
// of a real broker; a fresh store (a restarted connector) loads the latest values.
func TestKafkaStoreRoundTrip(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	topic := kafkatest.CreateTopic(t, brokers, 1, map[string]string{"cleanup.policy": "compact"})
	conn := kafkaio.Connection{Brokers: brokers}
	pcfg := kafkaio.DefaultProducerConfig()
	pcfg.Connection, pcfg.Logger = conn, slog.New(slog.NewTextHandler(io.Discard, nil))
	p, err := kafkaio.NewProducer(pcfg)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	empty, err := NewKafkaStore(conn, topic, p).Load(ctx)
	if err != nil || len(empty) != 0 {
		t.Fatalf("a new topic should load empty: %v %v", empty, err)
	}
	s := NewKafkaStore(conn, topic, p)
	for i := range 5 {
		if err := s.Put(ctx, "vulns", []byte(fmt.Sprintf(`{"n":%d}`, i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Put(ctx, "assets.active", []byte(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "plugins", []byte(`{"p":1}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "plugins", nil); err != nil {
		t.Fatal(err)
	}
	got, err := NewKafkaStore(conn, topic, p).Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"vulns": `{"n":4}`, "assets.active": `{"a":1}`}
	if len(got) != len(want) {
		t.Fatalf("loaded %d keys %v, want %v", len(got), got, want)
	}
	for k, v := range want {
		if string(got[k]) != v {
			t.Errorf("%s = %s, want %s", k, got[k], v)
		}
	}
}

func TestMemoryStore(t *testing.T) {
	m := NewMemoryStore()
	ctx := context.Background()
	_ = m.Put(ctx, "a", []byte("1"))
	_ = m.Put(ctx, "b", []byte("2"))
	_ = m.Put(ctx, "a", nil)
	got, _ := m.Load(ctx)
	if len(got) != 1 || string(got["b"]) != "2" || m.Puts() != 3 {
		t.Fatalf("got %v after %d puts", got, m.Puts())
	}
}
