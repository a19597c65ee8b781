package kafkaio

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// OffsetRange is what a partition holds: offsets from First up to End (exclusive).
type OffsetRange struct{ First, End int64 }

// PartitionOffsets returns the offset range of every partition of topic.
func PartitionOffsets(ctx context.Context, conn Connection, topic string) (map[int]OffsetRange, error) {
	client, err := conn.client()
	if err != nil {
		return nil, err
	}
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, fmt.Errorf("metadata of topic %s: %w", topic, err)
	}
	if len(md.Topics) != 1 || md.Topics[0].Error != nil {
		var terr error
		if len(md.Topics) == 1 {
			terr = md.Topics[0].Error
		}
		return nil, fmt.Errorf("topic %s: %w", topic, errors.Join(errors.New("not found"), terr))
	}
	var req []kafka.OffsetRequest
	for _, p := range md.Topics[0].Partitions {
		req = append(req, kafka.FirstOffsetOf(p.ID), kafka.LastOffsetOf(p.ID))
	}
	offs, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: req}})
	if err != nil {
		return nil, fmt.Errorf("offsets of topic %s: %w", topic, err)
	}
	out := map[int]OffsetRange{}
	for _, po := range offs.Topics[topic] {
		if po.Error != nil {
			return nil, fmt.Errorf("offsets of topic %s partition %d: %w", topic, po.Partition, po.Error)
		}
		out[po.Partition] = OffsetRange{First: po.FirstOffset, End: po.LastOffset}
	}
	return out, nil
}

// ErrStopScan, returned by a Scan callback, ends the scan without an error.
var ErrStopScan = errors.New("stop scan")

// Scan hands fn every record of topic that was written before Scan began,
// partition by partition, each in offset order. It needs no consumer group.
func Scan(ctx context.Context, conn Connection, topic string, fn func(Record) error) error {
	ranges, err := PartitionOffsets(ctx, conn, topic)
	if err != nil {
		return err
	}
	for p := 0; p < len(ranges); p++ {
		r, ok := ranges[p]
		if !ok || r.End <= r.First {
			continue
		}
		if err := scanPartition(ctx, conn, topic, p, r, fn); err != nil {
			if errors.Is(err, ErrStopScan) {
				return nil
			}
			return err
		}
	}
	return nil
}

func scanPartition(ctx context.Context, conn Connection, topic string, partition int, rng OffsetRange, fn func(Record) error) error {
	dialer, err := conn.dialer()
	if err != nil {
		return err
	}
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: conn.Brokers, Topic: topic, Partition: partition, Dialer: dialer,
		MaxWait: 100 * time.Millisecond, MaxBytes: 16 << 20,
	})
	defer r.Close()
	if err := r.SetOffset(rng.First); err != nil {
		return fmt.Errorf("topic %s partition %d: %w", topic, partition, err)
	}
	for {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			return fmt.Errorf("read topic %s partition %d: %w", topic, partition, err)
		}
		if err := fn(fromMessage(&m)); err != nil {
			return err
		}
		// Compaction leaves gaps in offsets; the high watermark covers them.
		if m.Offset >= rng.End-1 || m.Offset+1 >= m.HighWaterMark {
			return nil
		}
	}
}
