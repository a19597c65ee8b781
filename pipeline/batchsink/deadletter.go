package batchsink

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
	"github.com/tvmkafka/tvmkafka/pipeline/retry"
)

// Dead-letter headers, named as Kafka Connect names them, so tools that read
// Connect's dead-letter queues read these too.
const (
	HeaderDLQTopic       = "__connect.errors.topic"
	HeaderDLQPartition   = "__connect.errors.partition"
	HeaderDLQOffset      = "__connect.errors.offset"
	HeaderDLQConnector   = "__connect.errors.connector.name"
	HeaderDLQTask        = "__connect.errors.task.id"
	HeaderDLQStage       = "__connect.errors.stage"
	HeaderDLQClass       = "__connect.errors.class.name"
	HeaderDLQException   = "__connect.errors.exception.class.name"
	HeaderDLQMessage     = "__connect.errors.exception.message"
	HeaderDLQTimestampMs = "__connect.errors.timestamp" // when the record was dead-lettered, epoch milliseconds
	// HeaderDLQValueDropped is set, to the value's size in bytes, when the
	// dead-letter topic refused the record as too large and it was published
	// without its value: the original stays readable at the topic, partition and
	// offset the other headers name, for as long as the topic retains it.
	HeaderDLQValueDropped = "tvmkafka.dlq.value.dropped.bytes"
)

// Stages, in Connect's vocabulary: converting the value, or putting it into the
// target system.
const (
	StageConvert = "VALUE_CONVERTER"
	StagePut     = "TASK_PUT"
)

// DeadLetters says where and how records that can never be delivered are
// published.
type DeadLetters struct {
	Topic     string
	Publisher Publisher
	// Connector and Class fill the connector-name and class-name headers;
	// ExceptionPrefix is put before a Refusal's Exception.
	Connector, Class, ExceptionPrefix string
}

// deadLetter is a record to publish to the dead-letter topic, and why.
type deadLetter struct {
	f      fetched
	reason *Refusal
}

// deadLetter queues a record that can never be delivered for the dead-letter
// topic. It is marked done only once the dead-letter topic acknowledged it.
func (r *requests[T]) deadLetter(f fetched, reason *Refusal) {
	r.dead <- deadLetter{f: f, reason: reason}
}

// deadLetterLoop publishes the queued dead letters one after the other, so
// they keep the order they were found in, whatever goroutine found them.
func (r *requests[T]) deadLetterLoop() {
	for d := range r.dead {
		r.publishDeadLetter(d.f, d.reason)
	}
}

// publishDeadLetter publishes a record that can never be delivered, with the
// reason, and marks it done once the dead-letter topic holds it. Publishing is
// retried until it succeeds: a record is never dropped, and never committed
// before it is safe. Key, value and headers are the original's, byte for byte
// (an empty value stays empty, a null one null), with the error headers after
// them.
func (r *requests[T]) publishDeadLetter(f fetched, rf *Refusal) {
	dl := r.s.opts.DeadLetters
	value := f.msg.Value
	if value == nil && r.s.opts.ValueAt != nil {
		// The consumer may have read an empty value as nil: ask the broker. A
		// record the broker no longer has (retention) keeps the value as read.
		err := retry.Do(r.ctx, retry.Policy{Initial: 100 * time.Millisecond, Max: time.Second, MaxRetries: 5},
			func(ctx context.Context) error {
				var err error
				value, err = r.s.opts.ValueAt(ctx, f.msg.Topic, f.msg.Partition, f.msg.Offset)
				return err
			}, nil)
		if err != nil {
			if r.ctx.Err() != nil {
				r.s.budget.release(f.cost)
				return // the record stays uncommitted and is read again
			}
			r.s.log.Warn("could not read the value of a dead letter again; it is published as read (null)",
				"topic", f.msg.Topic, "partition", f.msg.Partition, "offset", f.msg.Offset, "error", err)
			value = nil
		}
	}
	msg := kafkaio.Record{
		Topic: dl.Topic,
		Key:   f.msg.Key,
		Value: value,
		Headers: append(slices.Clone(f.msg.Headers),
			kafkaio.Header{Key: HeaderDLQTopic, Value: []byte(f.msg.Topic)},
			kafkaio.Header{Key: HeaderDLQPartition, Value: []byte(strconv.Itoa(f.msg.Partition))},
			kafkaio.Header{Key: HeaderDLQOffset, Value: []byte(strconv.FormatInt(f.msg.Offset, 10))},
			kafkaio.Header{Key: HeaderDLQConnector, Value: []byte(dl.Connector)},
			kafkaio.Header{Key: HeaderDLQTask, Value: []byte(strconv.Itoa(f.msg.Partition))},
			kafkaio.Header{Key: HeaderDLQStage, Value: []byte(rf.Stage)},
			kafkaio.Header{Key: HeaderDLQClass, Value: []byte(dl.Class)},
			kafkaio.Header{Key: HeaderDLQException, Value: []byte(dl.ExceptionPrefix + rf.Exception)},
			kafkaio.Header{Key: HeaderDLQMessage, Value: []byte(rf.Reason)},
			kafkaio.Header{Key: HeaderDLQTimestampMs, Value: []byte(strconv.FormatInt(time.Now().UnixMilli(), 10))},
		),
	}
	publish := func(ctx context.Context) error {
		g := kafkaio.NewAckGroup()
		if err := dl.Publisher.Send(ctx, g, msg); err != nil {
			return err
		}
		return g.Wait(ctx)
	}
	// Enqueue now, so dead letters keep their partition's order, and wait for
	// Kafka's acknowledgement on the side, so a run of bad records does not cost
	// a round trip each. The offset tracker commits only past settled records.
	first := kafkaio.NewAckGroup()
	sent := dl.Publisher.Send(r.ctx, first, msg)
	r.acks.Add(1)
	go func() {
		defer r.acks.Done()
		err := sent
		if err == nil {
			err = first.Wait(r.ctx)
		}
		if err != nil && r.ctx.Err() == nil {
			err = r.s.retry(r.ctx, "dead-letter publish", func(ctx context.Context) error {
				err := err
				if !errors.Is(err, kafkaio.ErrMessageTooLarge) || msg.Value == nil {
					err = publish(ctx)
				}
				if errors.Is(err, kafkaio.ErrMessageTooLarge) && msg.Value != nil {
					// Retrying cannot make the record smaller, and waiting would stall
					// the partition: publish the reason and the coordinates without
					// the value.
					r.s.log.Warn("dead-letter topic refused the record as too large: publishing it without its value",
						"topic", f.msg.Topic, "partition", f.msg.Partition, "offset", f.msg.Offset, "value_bytes", len(msg.Value))
					msg.Headers = append(msg.Headers, kafkaio.Header{Key: HeaderDLQValueDropped, Value: []byte(strconv.Itoa(len(msg.Value)))})
					msg.Value = nil
					err = publish(ctx)
				}
				return err
			})
		}
		r.s.budget.release(f.cost)
		if err != nil {
			return // the context ended: the record stays uncommitted and is read again
		}
		r.s.addStats(func(st *Stats) { st.DeadLettered++ })
		add(r.ctx, r.s.opts.Metrics.DeadLettered, 1, "stage", rf.Stage)
		r.s.log.Warn("record dead-lettered", "topic", f.msg.Topic, "partition", f.msg.Partition, "offset", f.msg.Offset,
			"dead_letter_topic", dl.Topic, "reason", rf.Reason)
		r.s.offsets.done(f.msg.Partition, f.msg.Offset, f.epoch)
	}()
}
