package tenable_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/tvmkafka/tvmkafka/connector/tenable"
	"github.com/tvmkafka/tvmkafka/connector/tenablesim"
)

// simTenant starts a simulated tenant and a client for it.
func simTenant(t *testing.T, cfg tenablesim.Config) (*tenablesim.Server, *tenable.Client) {
	t.Helper()
	cfg.AccessKey, cfg.SecretKey = "AK-sim", "SK-sim"
	if cfg.Assets == 0 {
		cfg.Assets = 120
	}
	if cfg.QueueLatency == 0 {
		cfg.QueueLatency = time.Millisecond
	}
	cfg.ChunkLatency = time.Millisecond
	cfg.ImportLatency = time.Millisecond
	sim, err := tenablesim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	tc := tenable.DefaultConfig()
	tc.BaseURL, tc.AccessKey, tc.SecretKey, tc.Build = srv.URL, "AK-sim", "SK-sim", "test"
	tc.RetryInitial, tc.RetryMax, tc.MaxRetries = 10*time.Millisecond, 200*time.Millisecond, 8
	c, err := tenable.New(tc)
	if err != nil {
		t.Fatal(err)
	}
	return sim, c
}

// exportAll follows a job to the end and returns the identity key of every record.
func exportAll(t *testing.T, c *tenable.Client, job tenable.ExportJob) ([]string, tenable.ExportResult, error) {
	t.Helper()
	var mu sync.Mutex
	var keys []string
	res, err := c.FollowExport(context.Background(), job, tenable.FollowOptions{PollInitial: 5 * time.Millisecond, PollMax: 50 * time.Millisecond},
		func(ctx context.Context, chunk int) error {
			_, err := c.DownloadChunk(ctx, job.Kind, job.UUID, chunk, func(rec []byte) error {
				k, err := recordKey(job.Kind, rec)
				if err != nil {
					return err
				}
				mu.Lock()
				keys = append(keys, k)
				mu.Unlock()
				return nil
			})
			return err
		})
	slices.Sort(keys)
	return keys, res, err
}

func recordKey(kind tenable.ExportKind, rec []byte) (string, error) {
	switch kind {
	case tenable.ExportAssets:
		var a struct {
			ID string `json:"id"`
		}
		err := json.Unmarshal(rec, &a)
		return a.ID, err
	case tenable.ExportVulns:
		var v struct {
			Asset struct {
				UUID string `json:"uuid"`
			} `json:"asset"`
			Plugin struct {
				ID int64 `json:"id"`
			} `json:"plugin"`
			Port struct {
				Port     int    `json:"port"`
				Protocol string `json:"protocol"`
			} `json:"port"`
		}
		err := json.Unmarshal(rec, &v)
		return fmt.Sprintf("%s|%d|%d|%s", v.Asset.UUID, v.Plugin.ID, v.Port.Port, v.Port.Protocol), err
	default:
		var c struct {
			AssetUUID string `json:"asset_uuid"`
			CheckID   string `json:"check_id"`
		}
		err := json.Unmarshal(rec, &c)
		return c.AssetUUID + "|" + c.CheckID, err
	}
}

// truthKeys asks the simulator which records an export with this body holds.
func truthKeys(t *testing.T, sim *tenablesim.Server, kind string, req any) []string {
	t.Helper()
	body, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := sim.Truth(kind, body)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, raw := range tr.Keys {
		var parts []any
		if err := json.Unmarshal(raw, &parts); err != nil {
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				t.Fatalf("truth key %s", raw)
			}
			keys = append(keys, s)
			continue
		}
		strs := make([]string, len(parts))
		for i, p := range parts {
			strs[i] = fmt.Sprint(p)
		}
		keys = append(keys, strings.Join(strs, "|"))
	}
	slices.Sort(keys)
	return keys
}

func TestExportsAgainstSimulator(t *testing.T) {
	sim, c := simTenant(t, tenablesim.Config{Seed: 3})
	since := sim.Now().Add(-45 * 24 * time.Hour)
	tests := []struct {
		name      string
		truthKind string
		req       any
		start     func() (tenable.ExportJob, error)
	}{
		{"assets v1 all", tenablesim.TruthAssets, tenable.AssetExportRequest{ChunkSize: 100},
			func() (tenable.ExportJob, error) {
				return c.StartAssetExport(context.Background(), tenable.AssetExportRequest{ChunkSize: 100})
			}},
		{"assets v1 deleted", tenablesim.TruthAssets, tenable.AssetExportRequest{ChunkSize: 100, Filters: tenable.AssetFilters{DeletedAt: time.Unix(1, 0)}},
			func() (tenable.ExportJob, error) {
				return c.StartAssetExport(context.Background(), tenable.AssetExportRequest{ChunkSize: 100, Filters: tenable.AssetFilters{DeletedAt: time.Unix(1, 0)}})
			}},
		{"vulns since, all states", tenablesim.TruthVulns,
			tenable.VulnExportRequest{NumAssets: 50, Filters: tenable.VulnFilters{Since: since, State: []string{"OPEN", "REOPENED", "FIXED"}}},
			func() (tenable.ExportJob, error) {
				return c.StartVulnExport(context.Background(), tenable.VulnExportRequest{NumAssets: 50, Filters: tenable.VulnFilters{Since: since, State: []string{"OPEN", "REOPENED", "FIXED"}}})
			}},
		{"vulns severities", tenablesim.TruthVulns,
			tenable.VulnExportRequest{NumAssets: 50, Filters: tenable.VulnFilters{Since: time.Unix(1, 0), Severity: []string{"high", "critical"}, State: []string{"OPEN"}}},
			func() (tenable.ExportJob, error) {
				return c.StartVulnExport(context.Background(), tenable.VulnExportRequest{NumAssets: 50, Filters: tenable.VulnFilters{Since: time.Unix(1, 0), Severity: []string{"high", "critical"}, State: []string{"OPEN"}}})
			}},
		{"compliance last_seen", tenablesim.TruthCompliance,
			tenable.ComplianceExportRequest{NumFindings: 200, Filters: tenable.ComplianceFilters{LastSeen: time.Unix(1, 0)}},
			func() (tenable.ExportJob, error) {
				return c.StartComplianceExport(context.Background(), tenable.ComplianceExportRequest{NumFindings: 200, Filters: tenable.ComplianceFilters{LastSeen: time.Unix(1, 0)}})
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := truthKeys(t, sim, tt.truthKind, tt.req)
			if len(want) == 0 {
				t.Fatal("the simulated tenant should hold data for this export")
			}
			job, err := tt.start()
			if err != nil {
				t.Fatal(err)
			}
			if !job.RequestedAt.Equal(sim.Now()) {
				t.Errorf("RequestedAt %v, want the tenant clock %v (from the Date header)", job.RequestedAt, sim.Now())
			}
			got, res, err := exportAll(t, c, job)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Errorf("exported %d records, truth has %d", len(got), len(want))
			}
			if res.Status.Status != tenable.StateFinished {
				t.Errorf("status %s", res.Status.Status)
			}
		})
	}
	if ua := sim.Stats().UserAgents; len(ua) != 1 || !strings.HasPrefix(ua[0], "Integration/1.0 (tvmkafka; Kafka Connector; Build/test) tvmkafka-tenable/test") {
		t.Errorf("user agents seen by Tenable: %q", ua)
	}
}

func TestSimulatorDuplicateExportIsAdopted(t *testing.T) {
	// The first export stays queued: one that had finished before the second
	// request would not conflict with it.
	sim, c := simTenant(t, tenablesim.Config{Seed: 4, QueueLatency: time.Minute})
	req := tenable.VulnExportRequest{NumAssets: 50, Filters: tenable.VulnFilters{Since: time.Unix(1, 0), State: []string{"OPEN"}}}
	first, err := c.StartVulnExport(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.StartVulnExport(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if first.Adopted || !second.Adopted || second.UUID != first.UUID {
		t.Fatalf("first %+v second %+v: the duplicate should adopt the running export", first, second)
	}
	if second.RequestedAt.IsZero() {
		t.Error("an adopted export should carry its creation time")
	}
	if sim.Stats().Conflicts != 1 || sim.Stats().ExportsCreated["vulns"] != 1 {
		t.Errorf("stats %+v: one export, one conflict", sim.Stats())
	}
}

func TestSimulatorExpiredChunks(t *testing.T) {
	sim, c := simTenant(t, tenablesim.Config{Seed: 5})
	job, err := c.StartAssetExport(context.Background(), tenable.AssetExportRequest{ChunkSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	// Let the export finish, then move the tenant's clock past the 24 h expiry.
	if _, _, err := exportAll(t, c, job); err != nil {
		t.Fatal(err)
	}
	if _, err := sim.Advance(25 * time.Hour); err != nil {
		t.Fatal(err)
	}
	_, err = c.DownloadChunk(context.Background(), job.Kind, job.UUID, 1, func([]byte) error { return nil })
	if !errors.Is(err, tenable.ErrChunkExpired) {
		t.Fatalf("want ErrChunkExpired after 25 hours, got %v", err)
	}
}

func TestSimulatorFaults(t *testing.T) {
	tests := []struct {
		name    string
		faults  tenablesim.Faults
		wantErr error
	}{
		{"429 storm", tenablesim.Faults{Rate429: 0.4, RetryAfterSeconds: 1}, nil},
		{"5xx burst", tenablesim.Faults{Rate5xx: 0.4, RetryAfterSeconds: 1}, nil},
		{"truncated chunks", tenablesim.Faults{TruncateChunks: 3}, nil},
		{"export ends in ERROR", tenablesim.Faults{ExportErrors: 1, ExportErrorAfterChunks: 1}, tenable.ErrExportFailed},
		{"finished with failed chunks", tenablesim.Faults{ChunkFailures: 1, ChunkFailureAfter: 1}, tenable.ErrExportIncomplete},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim, c := simTenant(t, tenablesim.Config{Seed: 6})
			req := tenable.VulnExportRequest{NumAssets: 50, Filters: tenable.VulnFilters{Since: time.Unix(1, 0), State: []string{"OPEN", "REOPENED", "FIXED"}}}
			want := truthKeys(t, sim, tenablesim.TruthVulns, req)
			sim.SetFaults(tt.faults)
			job, err := c.StartVulnExport(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			got, res, err := exportAll(t, c, job)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("want %v, got %v", tt.wantErr, err)
				}
				if len(got) >= len(want) {
					t.Errorf("a failed export should lack data: got %d of %d", len(got), len(want))
				}
				var ee *tenable.ExportError
				if errors.As(err, &ee) && ee.Reason == "" {
					t.Error("the reason should be surfaced")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Errorf("with faults %+v: exported %d records, truth has %d (status %s)", tt.faults, len(got), len(want), res.Status.Status)
			}
			if tt.faults.Rate429 > 0 || tt.faults.Rate5xx > 0 {
				faulted := 0
				for _, byStatus := range sim.Stats().Requests {
					for status, n := range byStatus {
						if status == 429 || status >= 500 {
							faulted += n
						}
					}
				}
				if faulted == 0 {
					t.Fatal("no fault was injected; the test proves nothing")
				}
				if sim.Stats().MaxRetryCount == 0 {
					t.Error("retries should carry X-Tio-Retry-Count")
				}
			}
		})
	}
}

func TestSimulatorImportRoundTrip(t *testing.T) {
	sim, c := simTenant(t, tenablesim.Config{Seed: 7})
	ctx := context.Background()
	jobID, err := c.ImportAssets(ctx, "ACME CMDB", []tenable.ImportAsset{{FQDN: []string{"new-host.example.test"}, IPv4: []string{"192.0.2.77"}}})
	if err != nil {
		t.Fatal(err)
	}
	job, err := c.WaitImportJob(ctx, jobID, 5*time.Millisecond)
	if err != nil || job.Status != tenable.ImportComplete || job.UploadedAssets != 1 {
		t.Fatalf("job %+v err %v", job, err)
	}
	exp, err := c.StartAssetExport(ctx, tenable.AssetExportRequest{ChunkSize: 100, Filters: tenable.AssetFilters{Sources: []string{"ACME CMDB"}}})
	if err != nil {
		t.Fatal(err)
	}
	type asset struct {
		FQDNs []string `json:"fqdns"`
	}
	var found []asset
	_, err = c.FollowExport(ctx, exp, tenable.FollowOptions{PollInitial: 5 * time.Millisecond}, func(ctx context.Context, chunk int) error {
		_, err := c.DownloadChunk(ctx, exp.Kind, exp.UUID, chunk, func(rec []byte) error {
			var a asset
			err := json.Unmarshal(rec, &a)
			found = append(found, a)
			return err
		})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || !slices.Contains(found[0].FQDNs, "new-host.example.test") {
		t.Fatalf("the imported asset should come back in an export filtered on its source: %+v", found)
	}
	if len(sim.Imports()) != 1 {
		t.Errorf("simulator recorded %d imports", len(sim.Imports()))
	}
}

func TestSimulatorPlugins(t *testing.T) {
	sim, c := simTenant(t, tenablesim.Config{Seed: 8, Plugins: 250})
	truth, err := sim.Truth(tenablesim.TruthPlugins, []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	ids := map[int64]bool{}
	n, err := c.ListPlugins(context.Background(), tenable.PluginListOptions{Size: 40}, func(rec []byte) error {
		var p struct {
			ID int64 `json:"id"`
		}
		err := json.Unmarshal(rec, &p)
		if ids[p.ID] {
			t.Errorf("plugin %d listed twice", p.ID)
		}
		ids[p.ID] = true
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != truth.Count || len(ids) != truth.Count || truth.Count != 250 {
		t.Errorf("listed %d (%d distinct), truth %d", n, len(ids), truth.Count)
	}
}
