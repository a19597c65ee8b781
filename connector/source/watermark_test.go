package source_test

import (
	"context"
	"testing"
	"time"

	"github.com/tvmkafka/tvmkafka/connector/source"
	"github.com/tvmkafka/tvmkafka/connector/tenable"
	"github.com/tvmkafka/tvmkafka/connector/tenablesim"
)

// hostAhead is how far the connector's local clock runs ahead of the tenant's
// in these tests: far enough that a watermark taken from it would skip
// everything Tenable changes for more than a year.
const hostAhead = 400 * 24 * time.Hour

// TestWatermarksComeFromTenablesClock runs every path that ends in a new
// watermark with the local clock far ahead of Tenable's, and checks that the
// watermark is Tenable's clock at the start of the data (the Date of the answer
// to the request or first page, or the adopted job's created) less the overlap.
func TestWatermarksComeFromTenablesClock(t *testing.T) {
	const later = 2 * time.Hour // tenant time passing between steps
	cases := []struct {
		name   string
		stream string
		// setup prepares the tenant and returns the runs to make, in order, and
		// the Tenable instant the watermark must be taken from (zero: when the
		// last run started). Every run but the last must fail; the tenant clock
		// moves on after each failed run.
		setup func(t *testing.T, h *harness) (runs []runSetup, start func() time.Time)
		// lookback is the initial lookback; the published keys are then checked
		// against the ground truth of that delta.
		lookback time.Duration
	}{
		{
			name: "plugins fresh", stream: source.StreamPlugins,
			setup: func(t *testing.T, h *harness) ([]runSetup, func() time.Time) {
				t0 := h.sim.Now()
				return []runSetup{{}}, func() time.Time { return t0 }
			},
		},
		{
			// The run before failed ahead of any page (a wrong key, 429s, a kill):
			// the paging is resumed, and starts at this run's first page.
			name: "plugins resumed before the first page", stream: source.StreamPlugins,
			setup: func(t *testing.T, h *harness) ([]runSetup, func() time.Time) {
				return []runSetup{{api: &faultyAPI{Tenable: h.client, listPluginsFails: true}}, {}},
					func() time.Time { return time.Time{} } // the last run's first page
			},
		},
		{
			name: "plugins resumed after the first page", stream: source.StreamPlugins,
			setup: func(t *testing.T, h *harness) ([]runSetup, func() time.Time) {
				h.cfg.PluginsPageSize = 100
				t0 := h.sim.Now()
				return []runSetup{{api: &faultyAPI{Tenable: h.client, pagesBeforeFailure: 1}}, {}},
					func() time.Time { return t0 }
			},
		},
		{
			name: "plugins first run with an initial lookback", stream: source.StreamPlugins, lookback: 72 * time.Hour,
			setup: func(t *testing.T, h *harness) ([]runSetup, func() time.Time) {
				t0 := h.sim.Now()
				return []runSetup{{}}, func() time.Time { return t0 }
			},
		},
		{
			name: "vulns fresh", stream: source.StreamVulns,
			setup: func(t *testing.T, h *harness) ([]runSetup, func() time.Time) {
				t0 := h.sim.Now()
				return []runSetup{{}}, func() time.Time { return t0 }
			},
		},
		{
			name: "vulns resumed", stream: source.StreamVulns,
			setup: func(t *testing.T, h *harness) ([]runSetup, func() time.Time) {
				h.cfg.VulnsNumAssets = 50
				t0 := h.sim.Now()
				return []runSetup{{api: &faultyAPI{Tenable: h.client, chunksBeforeFailure: 1}}, {}},
					func() time.Time { return t0 }
			},
		},
		{
			// An identical export is running when the connector asks: Tenable
			// answers 409 and the connector adopts it; it holds data up to its
			// creation, not up to the Date of the 409.
			name: "vulns adopted", stream: source.StreamVulns,
			setup: func(t *testing.T, h *harness) ([]runSetup, func() time.Time) {
				t0 := h.sim.Now()
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				incl := true
				job, err := h.client.StartVulnExport(ctx, tenable.VulnExportRequest{NumAssets: 2000, IncludeUnlicensed: &incl,
					Filters: tenable.VulnFilters{Since: time.Unix(1, 0), State: h.cfg.VulnsState, Severity: h.cfg.VulnsSeverity}})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := h.sim.Advance(later); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() {
					if h.sim.Stats().Conflicts == 0 {
						t.Errorf("export %s was not adopted: no 409 was answered", job.UUID)
					}
				})
				return []runSetup{{}}, func() time.Time { return t0 }
			},
		},
		{
			// The first export finishes with a failed chunk; the second one,
			// requested later, bounds the data.
			name: "vulns retried", stream: source.StreamVulns,
			setup: func(t *testing.T, h *harness) ([]runSetup, func() time.Time) {
				h.cfg.VulnsNumAssets = 50
				h.sim.SetFaults(tenablesim.Faults{ChunkFailures: 1, ChunkFailureAfter: 1})
				t0 := h.sim.Now()
				return []runSetup{{}}, func() time.Time { return t0 }
			},
		},
		{
			name: "vulns first run with an initial lookback", stream: source.StreamVulns, lookback: 72 * time.Hour,
			setup: func(t *testing.T, h *harness) ([]runSetup, func() time.Time) {
				t0 := h.sim.Now()
				return []runSetup{{}}, func() time.Time { return t0 }
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			simCfg := tenablesim.Config{Assets: 200, Seed: 77}
			if tc.name == "vulns adopted" {
				simCfg.QueueLatency = 2 * time.Second // still running when the connector asks
			}
			h := newHarness(t, simCfg)
			h.cfg.InitialLookback = tc.lookback
			runs, start := tc.setup(t, h)
			host := func() time.Time { return h.sim.Now().Add(hostAhead) }
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			var t1 time.Time
			for i, rs := range runs {
				rs.now = host
				last := i == len(runs)-1
				if last {
					t1 = h.sim.Now()
				}
				err := h.runWith(ctx, rs, tc.stream)
				switch {
				case !last && err == nil:
					t.Fatalf("run %d of %d should have failed", i+1, len(runs))
				case last && err != nil:
					t.Fatalf("last run: %v", err)
				}
				if !last {
					cp := h.checkpoints()[tc.stream]
					if cp.Export == nil || !cp.Watermark.IsZero() {
						t.Fatalf("after failed run %d, the checkpoint should hold the unfinished export and no watermark: %+v", i+1, cp)
					}
					if _, err := h.sim.Advance(later); err != nil {
						t.Fatal(err)
					}
				}
			}
			want := start()
			if want.IsZero() {
				want = t1 // the last run's first answer
			}
			want = want.Add(-h.cfg.Overlap)
			cp := h.checkpoints()[tc.stream]
			if cp.Export != nil || !cp.Watermark.Equal(want) {
				t.Fatalf("watermark %s (export in flight %+v); want Tenable's clock less the overlap, %s (the local clock is %s)",
					cp.Watermark.Format(time.RFC3339), cp.Export, want.Format(time.RFC3339),
					host().Format(time.RFC3339))
			}
			if tc.lookback > 0 {
				since := t1.Add(-tc.lookback)
				got := distinct(keysOf(h.read(topicOf(h, tc.stream), nil)))
				var truth []string
				if tc.stream == source.StreamPlugins {
					truth = h.truth(tenablesim.TruthPlugins, `{"last_updated":"`+since.Add(-24*time.Hour).Format(time.DateOnly)+`"}`)
				} else {
					truth = h.truth(tenablesim.TruthVulns, connectorBodies(since)[tc.stream])
				}
				if len(truth) == 0 {
					t.Fatalf("the ground truth of the last %v is empty: the test proves nothing", tc.lookback)
				}
				h.expectKeys("published since the lookback", truth, got)
			}
		})
	}
}

func topicOf(h *harness, stream string) string {
	switch stream {
	case source.StreamPlugins:
		return h.topics.Plugins
	case source.StreamVulns:
		return h.topics.Vulns
	}
	h.t.Fatalf("no topic for %s", stream)
	return ""
}
