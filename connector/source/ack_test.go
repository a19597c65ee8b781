package source_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tvmkafka/tvmkafka/connector/source"
	"github.com/tvmkafka/tvmkafka/connector/tenablesim"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkatest"
)

// TestNothingIsCheckpointedBeforeKafkaAcknowledges: Kafka holds back its answer
// to every produce request to the vulns topic and then refuses the records.
// The run fails naming the refusal, and neither the watermark nor any chunk's
// checkpoint moved: the state store records only what Kafka acknowledged.
func TestNothingIsCheckpointedBeforeKafkaAcknowledges(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: simulator and Kafka broker")
	}
	// Broker faults need the fake, one of this test's own, whatever KAFKA_BROKERS says.
	c := kafkatest.NewFakeCluster(t)
	h := newHarnessOn(t, c.ListenAddrs(), tenablesim.Config{Assets: 120, Seed: 16})
	h.cfg.VulnsNumAssets = 50 // several chunks
	vulns := h.topics.Vulns

	// An error no retry fixes, on every produce to the vulns topic...
	refused := c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: vulns, Err: kerr.TopicAuthorizationFailed, Count: -1})
	// ...answered only after a while, so a checkpoint written without waiting
	// for the answer would be written before the refusal arrives.
	const hold = 300 * time.Millisecond
	c.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		for _, tp := range req.(*kmsg.ProduceRequest).Topics {
			if tp.Topic == vulns {
				c.SleepControl(func() { time.Sleep(hold) })
				break
			}
		}
		return nil, nil, false // then the cluster answers: the fault refuses it
	})

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, err := h.runOnce(ctx, source.StreamVulns)
	if err == nil {
		t.Error("the run succeeded although Kafka acknowledged none of its records")
	} else if !strings.Contains(err.Error(), "produce to "+vulns) {
		t.Errorf("the run's error should name the refused produce: %v", err)
	}
	if refused.Hits() == 0 {
		t.Fatal("no produce request was refused: the fault did not apply")
	}
	cp := h.checkpoints()["vulns"]
	if !cp.Watermark.IsZero() || cp.Runs != 0 {
		t.Errorf("the watermark moved although Kafka acknowledged nothing: %+v", cp)
	}
	if cp.Export == nil {
		t.Fatalf("the export in flight should stay in the checkpoint for the next run: %+v", cp)
	}
	if len(cp.Export.ChunksDone) != 0 || cp.Export.Records != 0 {
		t.Errorf("chunks %v (%d records) were checkpointed although Kafka acknowledged none of their records",
			cp.Export.ChunksDone, cp.Export.Records)
	}
	for p, end := range h.endOffsets(vulns) {
		if end != 0 {
			t.Errorf("%s/%d holds %d records; the refused produce should have stored none", vulns, p, end)
		}
	}
	// The finding index learns only of acknowledged findings.
	for p, end := range h.endOffsets(h.index) {
		if end != 0 {
			t.Errorf("the finding index %s/%d holds %d records although Kafka acknowledged no finding", h.index, p, end)
		}
	}
}
