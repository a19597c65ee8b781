package kafkaio

import (
	"context"
)

// ReadFrom hands fn every record of topic from the given offsets (a partition
// not listed, or listed below its first offset: from its first) up to the end
// offsets the partitions had when ReadFrom began, partition by partition, and
// returns those end offsets, so that the next call reads only what came since.
func ReadFrom(ctx context.Context, conn Connection, topic string, from map[int]int64, fn func(Record) error) (map[int]int64, error) {
	ranges, err := PartitionOffsets(ctx, conn, topic)
	if err != nil {
		return nil, err
	}
	ends := make(map[int]int64, len(ranges))
	for p := 0; p < len(ranges); p++ {
		r, ok := ranges[p]
		if !ok {
			continue
		}
		if start, ok := from[p]; ok && start > r.First {
			r.First = start
		}
		if r.First < r.End {
			if err := scanPartition(ctx, conn, topic, p, r, fn); err != nil {
				return nil, err
			}
		}
		ends[p] = r.End
	}
	return ends, nil
}
