package source_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tvmkafka/tvmkafka/connector/source"
	"github.com/tvmkafka/tvmkafka/connector/tenablesim"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkatest"
)

// groupRun is one replica's RunGroup in the background.
type groupRun struct {
	src  *source.Source
	stop context.CancelFunc
	done chan error
}

func (h *harness) runGroup(t *testing.T, src *source.Source, topic, group, replica string, names []string) *groupRun {
	t.Helper()
	m, err := kafkaio.JoinGroup(kafkaio.MembershipConfig{Connection: kafkaio.Connection{Brokers: h.brokers, ClientID: replica},
		GroupID: group, Topic: topic, SessionTimeout: 6 * time.Second, HeartbeatInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	g := &groupRun{src: src, stop: cancel, done: make(chan error, 1)}
	go func() {
		g.done <- src.RunGroup(ctx, m, replica, names, func(string) time.Duration { return time.Hour })
	}()
	t.Cleanup(func() { cancel(); <-g.done })
	return g
}

// TestTakeoverResumesFromTheLastOwnersCheckpoint: replica b is started (its
// checkpoints loaded) before replica a makes progress on the vulnerability
// export; when a stops, b takes the stream over and resumes a's export from
// the checkpoint a wrote last, re-read from the state topic: no second export,
// no 409, every finding on the topic, and the checkpoint carries b's
// generation.
func TestTakeoverResumesFromTheLastOwnersCheckpoint(t *testing.T) {
	h := newHarness(t, tenablesim.Config{Assets: 300, Seed: 33, ChunkLatency: 20 * time.Millisecond})
	h.cfg.VulnsNumAssets = 50
	h.cfg.DrainTimeout = 0 // a stops at once: b resumes with chunks to go
	want := h.truth(tenablesim.TruthVulns, `{"num_assets":50,"include_unlicensed":true,"filters":{"since":1,"state":["OPEN","REOPENED","FIXED"],"severity":["medium","high","critical"]}}`)
	h.sim.SetFaults(tenablesim.Faults{SlowChunks: 1000, SlowChunkDelay: 150 * time.Millisecond})
	topic := kafkatest.CreateTopic(h.t, h.brokers, source.CoordinationPartitions, nil)
	group := kafkatest.UniqueName("replicas")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	srcA, closeA := h.newSource(ctx, runSetup{})
	defer closeA()
	srcB, closeB := h.newSource(ctx, runSetup{}) // loads the checkpoints now: none yet
	defer closeB()
	a := h.runGroup(t, srcA, topic, group, "a", []string{source.StreamVulns})
	kafkatest.WaitFor(t, time.Minute, func() error {
		if cp := h.checkpoints()["vulns"]; cp.Export == nil || len(cp.Export.ChunksDone) < 2 {
			return errors.New("a has not checkpointed two chunks yet")
		}
		return nil
	})
	a.stop()
	if err := <-a.done; err != nil {
		t.Fatal(err)
	}
	a.done <- nil // for the cleanup
	atStop := h.checkpoints()["vulns"]
	if atStop.OwnerGeneration == 0 || atStop.Export == nil {
		t.Fatalf("a's last checkpoint %+v: want the export in flight, written under a generation", atStop)
	}
	if slices.Contains(srcA.Owned(), source.StreamVulns) {
		t.Error("a still reports owning vulns after it stopped")
	}

	h.sim.SetFaults(tenablesim.Faults{})
	b := h.runGroup(t, srcB, topic, group, "b", []string{source.StreamVulns})
	kafkatest.WaitFor(t, time.Minute, func() error {
		if cp := h.checkpoints()["vulns"]; cp.Runs != 1 {
			return fmt.Errorf("b has not completed the run: %+v", cp)
		}
		return nil
	})
	if !slices.Contains(b.src.Owned(), source.StreamVulns) {
		t.Error("b does not report owning vulns")
	}
	watch := &logWatch{log: h.log}
	if !watch.logged("resuming the export of an interrupted run") {
		t.Error("b should resume a's export")
	}
	st := h.sim.Stats()
	if st.ExportsCreated["vulns"] != 1 || st.Conflicts != 0 || st.MaxExportsRunning["vulns"] != 1 {
		t.Errorf("vuln exports created %d, conflicts %d, most running at once %d: want 1, 0, 1 (b resumes a's export)",
			st.ExportsCreated["vulns"], st.Conflicts, st.MaxExportsRunning["vulns"])
	}
	h.expectKeys("vulns after the takeover", want, distinct(keysOf(h.read(h.topics.Vulns, nil))))
	if cp := h.checkpoints()["vulns"]; cp.OwnerGeneration <= atStop.OwnerGeneration {
		t.Errorf("the final checkpoint was written under generation %d, want b's, after a's %d", cp.OwnerGeneration, atStop.OwnerGeneration)
	}
}
