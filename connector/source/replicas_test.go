package source_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tvmkafka/tvmkafka/cmd/tvmkafka/clitest"
	"github.com/tvmkafka/tvmkafka/connector/source"
	"github.com/tvmkafka/tvmkafka/connector/tenablesim"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkatest"
)

// replica is one `tvmkafka run` process of a replicas test.
type replica struct {
	name string
	addr string // its HTTP endpoint
	cmd  *exec.Cmd
	log  *lockedBuffer
	done chan error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startReplica starts `tvmkafka run` as replica name of the group.
func (h *harness) startReplica(t *testing.T, ctx context.Context, name, coordination, group string) *replica {
	t.Helper()
	r := &replica{name: name, addr: clitest.FreeAddr(t), log: &lockedBuffer{}, done: make(chan error, 1)}
	r.cmd = exec.CommandContext(ctx, clitest.Binary(t), "run")
	r.cmd.Env = append(h.connectorEnv(),
		"TVMKAFKA_TOPIC_COORDINATION="+coordination, "TVMKAFKA_RUN_GROUP_ID="+group, "TVMKAFKA_RUN_REPLICA="+name,
		// A short session: a killed replica's streams move within seconds.
		"TVMKAFKA_RUN_SESSION_TIMEOUT=6s", "TVMKAFKA_RUN_HEARTBEAT_INTERVAL=500ms",
		"TVMKAFKA_HTTP_ADDR="+r.addr, "TVMKAFKA_SOURCE_DRAIN_TIMEOUT=5s")
	r.cmd.Stdout, r.cmd.Stderr = r.log, r.log
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.done <- r.cmd.Wait() }()
	t.Cleanup(func() {
		_ = r.cmd.Process.Kill()
		<-r.done
		if t.Failed() {
			t.Logf("log of replica %s:\n%s", name, r.log.String())
		}
	})
	return r
}

var ownedLine = regexp.MustCompile(`(?m)^tvmkafka_source_stream_owned\{([^}]*)\} (\S+)$`)
var labelRe = regexp.MustCompile(`(\w+)="([^"]*)"`)

// owned returns the streams the replica reports owning on /metrics.
func (r *replica) owned() ([]string, error) {
	resp, err := http.Get("http://" + r.addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range ownedLine.FindAllStringSubmatch(string(b), -1) {
		labels := map[string]string{}
		for _, l := range labelRe.FindAllStringSubmatch(m[1], -1) {
			labels[l[1]] = l[2]
		}
		if labels["replica"] != r.name {
			return nil, fmt.Errorf("replica %s reports ownership as %q", r.name, labels["replica"])
		}
		if m[2] == "1" {
			out = append(out, labels["stream"])
		}
	}
	slices.Sort(out)
	return out, nil
}

// simStats reads the simulator's /_sim/stats.
func (h *harness) simStats(t *testing.T) (st struct {
	Conflicts         int            `json:"conflicts"`
	ExportsCreated    map[string]int `json:"exports_created"`
	MaxExportsRunning map[string]int `json:"max_exports_running"`
}) {
	t.Helper()
	resp, err := http.Get(h.simURL + "/_sim/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestReplicasShareStreams runs two and three `tvmkafka run` replicas on one
// coordination group. Each stream runs on exactly one of them. SIGKILL of
// the replica exporting vulnerabilities, in the middle of the export, moves
// the stream to a live replica, which resumes the export from its checkpoint:
// every finding reaches the topic, no second export is requested (no 409,
// never two vulnerability exports at once). With three replicas, SIGTERM of
// one then moves its streams to the last one, which runs none of them again
// before its interval.
func TestReplicasShareStreams(t *testing.T) {
	kafkatest.NeedsBroker(t)
	for _, n := range []int{2, 3} {
		t.Run(fmt.Sprintf("%d replicas", n), func(t *testing.T) { testReplicas(t, n) })
	}
}

func testReplicas(t *testing.T, n int) {
	h := newHarness(t, tenablesim.Config{Assets: 500, Seed: 41, ChunkLatency: 20 * time.Millisecond})
	h.cfg.VulnsNumAssets = 50
	want := h.truth(tenablesim.TruthVulns, `{"num_assets":50,"include_unlicensed":true,"filters":{"since":1,"state":["OPEN","REOPENED","FIXED"],"severity":["medium","high","critical"]}}`)
	// Slow chunk downloads, so the owner dies with chunks done and chunks to go.
	h.sim.SetFaults(tenablesim.Faults{SlowChunks: 100000, SlowChunkDelay: 300 * time.Millisecond})
	coordination := kafkatest.CreateTopic(t, h.brokers, source.CoordinationPartitions, nil)
	group := kafkatest.UniqueName("replicas")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	var replicas []*replica
	for i := range n {
		replicas = append(replicas, h.startReplica(t, ctx, fmt.Sprintf("r%d", i+1), coordination, group))
	}
	// ownerOf waits until exactly one of the replicas reports owning stream
	// and the others report not owning it.
	ownerOf := func(stream string, among []*replica) *replica {
		t.Helper()
		var owner *replica
		kafkatest.WaitFor(t, time.Minute, func() error {
			owner = nil
			for _, r := range among {
				got, err := r.owned()
				if err != nil {
					return err
				}
				if slices.Contains(got, stream) {
					if owner != nil {
						return fmt.Errorf("%s and %s both own %s", owner.name, r.name, stream)
					}
					owner = r
				}
			}
			if owner == nil {
				return fmt.Errorf("no replica owns %s", stream)
			}
			return nil
		})
		return owner
	}
	kafkatest.WaitFor(t, time.Minute, func() error {
		if cp := h.checkpoints()["vulns"]; cp.Export == nil || len(cp.Export.ChunksDone) < 2 {
			return fmt.Errorf("the vulnerability export has not checkpointed two chunks yet: %+v", cp.Export)
		}
		return nil
	})
	victim := ownerOf(source.StreamVulns, replicas)
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-victim.done
	victim.done <- nil                 // for the cleanup
	atKill := h.checkpoints()["vulns"] // what the killed owner had durably recorded
	if atKill.Export == nil || atKill.Runs != 0 {
		t.Fatalf("at the kill the checkpoint should hold the export in flight: %+v", atKill)
	}
	ends := h.endOffsets(h.topics.Vulns)
	live := slices.DeleteFunc(slices.Clone(replicas), func(r *replica) bool { return r == victim })
	h.sim.SetFaults(tenablesim.Faults{})

	kafkatest.WaitFor(t, 90*time.Second, func() error {
		cps := h.checkpoints()
		for _, st := range source.Table {
			for _, name := range st.Checkpoints() {
				if cps[name].Runs < 1 {
					return fmt.Errorf("%s has not completed a run: %+v", name, cps[name])
				}
			}
		}
		return nil
	})
	heir := ownerOf(source.StreamVulns, live)
	final := h.checkpoints()["vulns"]
	if final.Runs != 1 || final.OwnerGeneration <= atKill.OwnerGeneration {
		t.Errorf("final vulns checkpoint %+v: want one run, completed under a later generation than %d", final, atKill.OwnerGeneration)
	}
	h.expectKeys("vulns after the owner was killed", want, distinct(keysOf(h.read(h.topics.Vulns, nil))))
	// The heir resumed from the owner's last checkpoint, not from what it read
	// at its own start: it published exactly the chunks not done at the kill.
	after := h.read(h.topics.Vulns, ends)
	if wantAfter := len(want) - atKill.Export.Records; len(after) != wantAfter {
		t.Errorf("after the kill %d records were published, want %d (%d in all less %d in the %d chunks done before the kill)",
			len(after), wantAfter, len(want), atKill.Export.Records, len(atKill.Export.ChunksDone))
	}
	st := h.simStats(t)
	if st.Conflicts != 0 || st.ExportsCreated["vulns"] != 1 || st.MaxExportsRunning["vulns"] != 1 {
		t.Errorf("/_sim/stats: conflicts %d, vuln exports created %d, most running at once %d; want 0, 1, 1",
			st.Conflicts, st.ExportsCreated["vulns"], st.MaxExportsRunning["vulns"])
	}
	t.Logf("%s killed with %d chunks of the vulnerability export done; %s resumed it", victim.name, len(atKill.Export.ChunksDone), heir.name)
	if len(live) < 2 {
		return
	}

	// SIGTERM one replica: its streams move to the last one, without a new
	// export and before any interval passed.
	leaving, last := live[0], live[1]
	created := st.ExportsCreated
	if err := leaving.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-leaving.done; err != nil {
		t.Errorf("replica %s stopped with %v on SIGTERM", leaving.name, err)
	}
	leaving.done <- nil
	kafkatest.WaitFor(t, time.Minute, func() error {
		got, err := last.owned()
		if err != nil {
			return err
		}
		if !slices.Equal(got, slices.Sorted(slices.Values(source.StreamNames))) {
			return fmt.Errorf("%s owns %v after %s stopped, want every stream", last.name, got, leaving.name)
		}
		return nil
	})
	time.Sleep(2 * time.Second) // a stream that would run again at takeover has started by now
	if st := h.simStats(t); st.Conflicts != 0 || !equalCounts(st.ExportsCreated, created) {
		t.Errorf("after SIGTERM of %s: conflicts %d, exports created %v (before: %v); want no conflict and no new export",
			leaving.name, st.Conflicts, st.ExportsCreated, created)
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
