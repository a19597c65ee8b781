package source_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tvmkafka/tvmkafka/connector/source"
	"github.com/tvmkafka/tvmkafka/connector/tenable"
	"github.com/tvmkafka/tvmkafka/connector/tenablesim"
)

// expiringAPI expires every chunk in the simulator once the first chunk was
// downloaded, while the export is still running, and can refuse cancels.
type expiringAPI struct {
	source.Tenable
	sim    *tenablesim.Server
	expire sync.Once
	// cancelFailures is how many CancelExport calls fail before one goes through.
	cancelFailures atomic.Int32
	firstExport    atomic.Value // string: the export whose chunks expired
}

func (a *expiringAPI) DownloadChunk(ctx context.Context, kind tenable.ExportKind, uuid string, chunk int, fn tenable.RecordFunc) (int, error) {
	n, err := a.Tenable.DownloadChunk(ctx, kind, uuid, chunk, fn)
	if err == nil {
		a.expire.Do(func() {
			a.firstExport.Store(uuid)
			a.sim.ExpireChunks()
		})
	}
	return n, err
}

func (a *expiringAPI) CancelExport(ctx context.Context, kind tenable.ExportKind, uuid string) error {
	if a.cancelFailures.Add(-1) >= 0 {
		return errors.New("injected: cancel did not reach Tenable")
	}
	return a.Tenable.CancelExport(ctx, kind, uuid)
}

// TestExpiredExportIsCancelledAndNeverAdoptedAgain expires the chunks of an
// export while it runs. The export is cancelled and a new one requested after
// a pause, never the expired one adopted again through Tenable's 409, even
// when the cancel fails and Tenable hands it back, in this run or the next:
// the stream recovers on its own and publishes every record.
func TestExpiredExportIsCancelledAndNeverAdoptedAgain(t *testing.T) {
	cases := []struct {
		name string
		// maxAttempts per run; cancelFailures is how many cancels fail first.
		maxAttempts, cancelFailures int
		// runs is how many runs it takes; all but the last fail.
		runs int
		// conflicts is how often Tenable answers 409 with the expired export.
		conflicts int
	}{
		{name: "cancelled, then a new export", maxAttempts: 3, runs: 1},
		{name: "cancel fails, handed back once, cancelled again", maxAttempts: 3, cancelFailures: 1, runs: 1, conflicts: 1},
		{name: "handed back to the next run", maxAttempts: 3, cancelFailures: 3, runs: 2, conflicts: 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// 8 chunks becoming available a second apart: the export still runs
			// for seconds after its first chunk expired them all, also on a busy
			// machine, so Tenable has it to hand back on 409.
			h := newHarness(t, tenablesim.Config{Assets: 400, Seed: 31, ChunkLatency: time.Second})
			h.cfg.VulnsNumAssets = 50
			h.cfg.MaxExportAttempts = tc.maxAttempts
			want := h.truth(tenablesim.TruthVulns, `{"num_assets":50,"include_unlicensed":true,"filters":{"since":1,"state":["OPEN","REOPENED","FIXED"],"severity":["medium","high","critical"]}}`)
			api := &expiringAPI{Tenable: h.client, sim: h.sim}
			api.cancelFailures.Store(int32(tc.cancelFailures))
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			for run := 1; run <= tc.runs; run++ {
				err := h.runWith(ctx, runSetup{api: api}, source.StreamVulns)
				if run < tc.runs {
					if err == nil {
						t.Fatalf("run %d should have run out of attempts", run)
					}
					cp := h.checkpoints()[source.StreamVulns]
					if first, _ := api.firstExport.Load().(string); !slices.Contains(cp.Abandoned, first) {
						t.Fatalf("the checkpoint should remember the expired export %s as abandoned: %+v", first, cp)
					}
					continue
				}
				if err != nil {
					t.Fatalf("run %d: %v", run, err)
				}
			}
			first, _ := api.firstExport.Load().(string)
			if first == "" {
				t.Fatal("no chunk was downloaded, so none expired: the test proves nothing")
			}

			got := distinct(keysOf(h.read(h.topics.Vulns, nil)))
			h.expectKeys("vulns after the expired export", want, got)
			cp := h.checkpoints()[source.StreamVulns]
			if cp.Export != nil || !cp.Watermark.Equal(h.sim.Now().Add(-h.cfg.Overlap)) || len(cp.Abandoned) != 0 {
				t.Errorf("checkpoint after the run: %+v; want the watermark at %s, no export in flight, none abandoned",
					cp, h.sim.Now().Add(-h.cfg.Overlap).Format(time.RFC3339))
			}
			st := h.sim.Stats()
			if n := st.Requests["POST /vulns/export/{uuid}/cancel"][200]; n != 1 {
				t.Errorf("the expired export was cancelled %d times; want once (cancel answers: %v)", n, st.Requests["POST /vulns/export/{uuid}/cancel"])
			}
			if st.Conflicts != tc.conflicts {
				t.Errorf("Tenable answered 409 %d times; want %d", st.Conflicts, tc.conflicts)
			}
			if n := st.ExportsCreated["vulns"]; n != 2 {
				t.Errorf("%d vulns exports were created; want 2, the expired one and its replacement", n)
			}
			// The chunks of the expired export are never asked for after the
			// first 404 of each: the export is not followed again.
			if n := st.Requests["GET /vulns/export/{uuid}/chunks/{chunk}"][404]; n > h.cfg.ChunkWorkers {
				t.Errorf("%d chunk downloads answered 404: the expired export was followed again", n)
			}
		})
	}
}
