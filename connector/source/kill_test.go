package source_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tvmkafka/tvmkafka/cmd/tvmkafka/clitest"
	"github.com/tvmkafka/tvmkafka/connector/source"
	"github.com/tvmkafka/tvmkafka/connector/tenablesim"
)

// connectorEnv is the environment of a `tvmkafka source` process on the harness.
func (h *harness) connectorEnv() []string {
	env := append(os.Environ(),
		"TVMKAFKA_TENABLE_URL="+h.simURL, "TVMKAFKA_TENABLE_ACCESS_KEY=AK-it", "TVMKAFKA_TENABLE_SECRET_KEY=SK-it",
		"TVMKAFKA_KAFKA_BROKERS="+strings.Join(h.brokers, ","), "TVMKAFKA_TOPIC_CREATE=false",
		"TVMKAFKA_TOPIC_ASSETS="+h.topics.Assets, "TVMKAFKA_TOPIC_VULNS="+h.topics.Vulns,
		"TVMKAFKA_TOPIC_COMPLIANCE="+h.topics.Compliance, "TVMKAFKA_TOPIC_PLUGINS="+h.topics.Plugins,
		"TVMKAFKA_TOPIC_SOURCE_DLQ="+h.topics.DeadLetter, "TVMKAFKA_TOPIC_STATE="+h.state, "TVMKAFKA_TOPIC_FINDING_INDEX="+h.index,
		"TVMKAFKA_SOURCE_POLL_INITIAL=20ms", "TVMKAFKA_SOURCE_POLL_MAX=200ms", "TVMKAFKA_SOURCE_PROGRESS_EVERY=1s",
		fmt.Sprintf("TVMKAFKA_SOURCE_VULNS_NUM_ASSETS=%d", h.cfg.VulnsNumAssets),
	)
	return env
}

// TestKillMidExportResumesIt kills the connector with SIGKILL in the middle of an
// export and starts it again: the restarted connector resumes the same export
// (no second export is requested), publishes only the chunks that were not yet
// acknowledged, and nothing is missing.
func TestKillMidExportResumesIt(t *testing.T) {
	h := newHarness(t, tenablesim.Config{Assets: 400, Seed: 21, ChunkLatency: 50 * time.Millisecond})
	h.cfg.VulnsNumAssets = 50
	want := h.truth(tenablesim.TruthVulns, `{"num_assets":50,"include_unlicensed":true,"filters":{"since":1,"state":["OPEN","REOPENED","FIXED"],"severity":["medium","high","critical"]}}`)
	// Slow chunk downloads, so the process dies with chunks done and chunks to go.
	h.sim.SetFaults(tenablesim.Faults{SlowChunks: 1000, SlowChunkDelay: 250 * time.Millisecond})
	bin := clitest.Binary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	first := exec.CommandContext(ctx, bin, "source", "--once", "--streams", "vulns")
	first.Env = h.connectorEnv()
	var firstLog bytes.Buffer
	first.Stdout, first.Stderr = &firstLog, &firstLog
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	h.killWhen(t, first, &firstLog, "vulns", time.Minute, func(cp source.Checkpoint) bool {
		return cp.Export != nil && len(cp.Export.ChunksDone) >= 2
	})
	atKill := h.checkpoints()["vulns"] // what the killed process had durably recorded
	if atKill.Export == nil || atKill.Export.UUID == "" {
		t.Fatalf("the checkpoint should hold the export in flight: %+v", atKill)
	}
	if !atKill.Watermark.IsZero() {
		t.Fatalf("the watermark moved before the export completed: %+v", atKill)
	}
	ends := h.endOffsets(h.topics.Vulns)

	h.sim.SetFaults(tenablesim.Faults{})
	second := exec.CommandContext(ctx, bin, "source", "--once", "--streams", "vulns")
	second.Env = h.connectorEnv()
	out, err := second.CombinedOutput()
	if err != nil {
		t.Fatalf("restarted connector failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "resuming the export of an interrupted run") {
		t.Errorf("the restart should resume the export; log:\n%s", out)
	}
	if n := h.sim.Stats().ExportsCreated["vulns"]; n != 1 {
		t.Errorf("%d vuln exports were requested, want 1: the restart must resume, not duplicate", n)
	}
	all := keysOf(h.read(h.topics.Vulns, nil))
	h.expectKeys("vulns after restart", want, distinct(all))

	// The restart republished nothing that was acknowledged before the kill:
	// exactly the records of the chunks not checkpointed then.
	after := h.read(h.topics.Vulns, ends)
	if wantAfter := len(want) - atKill.Export.Records; len(after) != wantAfter {
		t.Errorf("after the restart %d records were published, want %d (%d total less %d in the %d chunks done before the kill)",
			len(after), wantAfter, len(want), atKill.Export.Records, len(atKill.Export.ChunksDone))
	}
	for _, r := range after {
		if r.headers[source.HeaderExportUUID] != atKill.Export.UUID {
			t.Fatalf("a record of the restart came from export %s, want the resumed %s", r.headers[source.HeaderExportUUID], atKill.Export.UUID)
		}
	}
	cp := h.checkpoints()["vulns"]
	if cp.Export != nil || !cp.Watermark.Equal(atKill.Export.RequestedAt.Add(-time.Hour)) || cp.Runs != 1 {
		t.Errorf("final checkpoint %+v, want the watermark at the export's request time less 1h", cp)
	}
	t.Logf("killed with %d of the export's chunks done (%d records); restart published %d records",
		len(atKill.Export.ChunksDone), atKill.Export.Records, len(after))
}
