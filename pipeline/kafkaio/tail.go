package kafkaio

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
)

// TailOptions say where Tail starts and when it stops.
type TailOptions struct {
	// FromBeginning starts each partition at its first offset; otherwise at its
	// end, so only records written from then on are read.
	FromBeginning bool
	// Follow keeps reading new records until ctx ends; otherwise each partition
	// stops at the end offset it had when Tail began.
	Follow bool
}

// Tail reads every partition of topic, each in offset order, without a
// consumer group, and hands fn each record. Partitions are read concurrently,
// but fn is called by one goroutine at a time. fn returning ErrStopScan ends
// Tail without an error; any other error ends it with that error. Without
// Follow, Tail returns once every partition is read up to its end offset;
// with Follow, when ctx ends (returning nil then).
func Tail(ctx context.Context, conn Connection, topic string, opts TailOptions, fn func(Record) error) error {
	ranges, err := PartitionOffsets(ctx, conn, topic)
	if err != nil {
		return err
	}
	dialer, err := conn.dialer()
	if err != nil {
		return err
	}
	parent := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var mu sync.Mutex // serialises fn
	var wg sync.WaitGroup
	for p, rng := range ranges {
		start := rng.End
		if opts.FromBeginning {
			start = rng.First
		}
		if !opts.Follow && start >= rng.End {
			continue
		}
		wg.Go(func() {
			err := tailPartition(ctx, dialer, conn.Brokers, topic, p, start, rng.End, opts.Follow, func(r Record) error {
				mu.Lock()
				defer mu.Unlock()
				if ctx.Err() != nil {
					return ctx.Err() // another partition ended the tail
				}
				err := fn(r)
				if err != nil {
					// Before another partition's record can reach fn.
					cancel(err)
				}
				return err
			})
			if err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	if parent.Err() != nil {
		if opts.Follow {
			return nil // following ends when the caller says so
		}
		return fmt.Errorf("read topic %s: %w", topic, parent.Err())
	}
	if err := context.Cause(ctx); err != nil && !errors.Is(err, ErrStopScan) {
		return err
	}
	return nil
}

// tailPartition reads one partition from start; without follow, it stops
// before end.
func tailPartition(ctx context.Context, dialer *kafka.Dialer, brokers []string, topic string, partition int, start, end int64,
	follow bool, fn func(Record) error) error {
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: brokers, Topic: topic, Partition: partition, Dialer: dialer,
		MaxWait: 250 * time.Millisecond, MaxBytes: 16 << 20,
	})
	defer r.Close()
	if err := r.SetOffset(start); err != nil {
		return fmt.Errorf("topic %s partition %d: %w", topic, partition, err)
	}
	for {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil // ended by the caller or by another partition
			}
			return fmt.Errorf("read topic %s partition %d: %w", topic, partition, err)
		}
		if err := fn(fromMessage(&m)); err != nil {
			return err
		}
		// Compaction leaves gaps in offsets; the offset of the last record
		// before end may be lower than end-1, so also look at the high watermark.
		if !follow && (m.Offset >= end-1 || m.Offset+1 >= m.HighWaterMark) {
			return nil
		}
	}
}
