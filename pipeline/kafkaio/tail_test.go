package kafkaio_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
)

// TestTail: without Follow, Tail reads what each partition held when it
// began and returns; FromBeginning picks the start; with Follow it hands over
// records written later, until ctx ends or fn says stop.
func TestTail(t *testing.T) {
	c := newFake(t, "t")
	brokers := c.ListenAddrs()
	conn := kafkaio.Connection{Brokers: brokers}
	p := newProducer(t, brokers)
	send := func(prefix string, n int) {
		t.Helper()
		g := kafkaio.NewAckGroup()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := p.Send(ctx, g, messages("t", n, prefix)...); err != nil {
			t.Fatal(err)
		}
		if err := g.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	send("old", 30)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var keys []string
	collect := func(r kafkaio.Record) error { keys = append(keys, string(r.Key)); return nil }
	if err := kafkaio.Tail(ctx, conn, "t", kafkaio.TailOptions{FromBeginning: true}, collect); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 30 || len(slices.Compact(slices.Sorted(slices.Values(keys)))) != 30 {
		t.Fatalf("from the beginning: read %d records, want the 30 distinct ones: %v", len(keys), keys)
	}
	keys = nil
	if err := kafkaio.Tail(ctx, conn, "t", kafkaio.TailOptions{}, collect); err != nil || len(keys) != 0 {
		t.Fatalf("from the end without follow: %v, %d records", err, len(keys))
	}

	// Follow from the beginning: the old records, then those sent once they
	// were read; the tail stops when fn has seen enough.
	var followed []string
	caughtUp := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- kafkaio.Tail(ctx, conn, "t", kafkaio.TailOptions{FromBeginning: true, Follow: true}, func(r kafkaio.Record) error {
			followed = append(followed, string(r.Key))
			switch len(followed) {
			case 30:
				close(caughtUp)
			case 40:
				return kafkaio.ErrStopScan
			}
			return nil
		})
	}()
	select {
	case <-caughtUp:
	case err := <-done:
		t.Fatalf("follow ended early: %v", err)
	}
	send("new", 10)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("follow did not hand over the new records: %d read", len(followed))
	}
	for i, k := range followed {
		if want := i >= 30; (k[:3] == "new") != want {
			t.Errorf("record %d is %s", i, k)
		}
	}

	// After fn says stop, no other partition's record reaches it.
	calls := 0
	if err := kafkaio.Tail(ctx, conn, "t", kafkaio.TailOptions{FromBeginning: true}, func(kafkaio.Record) error { calls++; return kafkaio.ErrStopScan }); err != nil || calls != 1 {
		t.Errorf("stop at the first record: %v, fn called %d times", err, calls)
	}

	// An error of fn ends the tail with it.
	boom := errors.New("boom")
	if err := kafkaio.Tail(ctx, conn, "t", kafkaio.TailOptions{FromBeginning: true}, func(kafkaio.Record) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("want fn's error, got %v", err)
	}
	// Following ends without an error when ctx ends.
	short, cancelShort := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancelShort()
	if err := kafkaio.Tail(short, conn, "t", kafkaio.TailOptions{Follow: true}, func(kafkaio.Record) error { return nil }); err != nil {
		t.Errorf("follow ended by ctx: %v", err)
	}
}
