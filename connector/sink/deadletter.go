package sink

import (
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
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
	stageConvert = "VALUE_CONVERTER"
	stageImport  = "TASK_PUT"
)

// deadLetter publishes a record that can never be imported, with the reason, and
// marks it done once the dead-letter topic holds it. Publishing is retried until
// it succeeds: a record is never dropped, and never committed before it is safe.
func (p *partition) deadLetter(f fetched, stage, exception, reason string) {
	msg := kafkaio.Record{
		Topic: p.s.opts.DeadLetterTopic,
		Key:   f.msg.Key,
		Value: f.msg.Value,
		Headers: append(slices.Clone(f.msg.Headers),
			kafkaio.Header{Key: HeaderDLQTopic, Value: []byte(f.msg.Topic)},
			kafkaio.Header{Key: HeaderDLQPartition, Value: []byte(strconv.Itoa(f.msg.Partition))},
			kafkaio.Header{Key: HeaderDLQOffset, Value: []byte(strconv.FormatInt(f.msg.Offset, 10))},
			kafkaio.Header{Key: HeaderDLQConnector, Value: []byte("tvmkafka-sink")},
			kafkaio.Header{Key: HeaderDLQTask, Value: []byte(strconv.Itoa(f.msg.Partition))},
			kafkaio.Header{Key: HeaderDLQStage, Value: []byte(stage)},
			kafkaio.Header{Key: HeaderDLQClass, Value: []byte("tvmkafka.sink")},
			kafkaio.Header{Key: HeaderDLQException, Value: []byte("tvmkafka." + exception)},
			kafkaio.Header{Key: HeaderDLQMessage, Value: []byte(reason)},
			kafkaio.Header{Key: HeaderDLQTimestampMs, Value: []byte(strconv.FormatInt(time.Now().UnixMilli(), 10))},
		),
	}
	publish := func() error {
		g := kafkaio.NewAckGroup()
		if err := p.s.opts.DeadLetters.Send(p.ctx, g, msg); err != nil {
			return err
		}
		return g.Wait(p.ctx)
	}
	// Enqueue now, so dead letters keep their partition's order, and wait for
	// Kafka's acknowledgement on the side, so a run of bad records does not cost
	// a round trip each. The offset tracker commits only past settled records.
	first := kafkaio.NewAckGroup()
	sent := p.s.opts.DeadLetters.Send(p.ctx, first, msg)
	p.jobs.Add(1)
	go func() {
		defer p.jobs.Done()
		err := sent
		if err == nil {
			err = first.Wait(p.ctx)
		}
		if err != nil && p.ctx.Err() == nil {
			err = p.s.retry(p.ctx, "dead-letter publish", func() (bool, error) {
				err := err
				if !errors.Is(err, kafkaio.ErrMessageTooLarge) || msg.Value == nil {
					err = publish()
				}
				if errors.Is(err, kafkaio.ErrMessageTooLarge) && msg.Value != nil {
					// Retrying cannot make the record smaller, and waiting would stall
					// the partition: publish the reason and the coordinates without
					// the value.
					p.s.log.Warn("dead-letter topic refused the record as too large: publishing it without its value",
						"topic", f.msg.Topic, "partition", f.msg.Partition, "offset", f.msg.Offset, "value_bytes", len(msg.Value))
					msg.Headers = append(msg.Headers, kafkaio.Header{Key: HeaderDLQValueDropped, Value: []byte(strconv.Itoa(len(msg.Value)))})
					msg.Value = nil
					err = publish()
				}
				return false, err
			})
		}
		if err != nil {
			return // the context ended: the record stays uncommitted and is read again
		}
		p.s.addStats(func(st *Stats) { st.DeadLettered++ })
		metricDeadLettered.Add(p.ctx, 1, attrs("stage", stage))
		p.s.log.Warn("record dead-lettered", "topic", f.msg.Topic, "partition", f.msg.Partition, "offset", f.msg.Offset,
			"dead_letter_topic", p.s.opts.DeadLetterTopic, "reason", reason)
		p.s.offsets.done(p.id, f.msg.Offset, f.epoch)
	}()
}
