package tenable

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// scriptedJob serves one export job: each status poll returns the next scripted
// status (the last one repeats), and chunks are served from a map.
type scriptedJob struct {
	mu       sync.Mutex
	statuses []string
	polls    int
	chunks   map[int]string
	fetched  []int
	cancels  int
}

func (s *scriptedJob) handler(t *testing.T) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		switch {
		case strings.HasSuffix(r.URL.Path, "/status"):
			i := min(s.polls, len(s.statuses)-1)
			s.polls++
			writeJSON(w, 200, s.statuses[i])
		case strings.HasSuffix(r.URL.Path, "/cancel"):
			s.cancels++
			writeJSON(w, 200, `{"status":"CANCELLED"}`)
		case strings.Contains(r.URL.Path, "/chunks/"):
			var id int
			fmt.Sscanf(r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:], "%d", &id)
			body, ok := s.chunks[id]
			if !ok {
				writeJSON(w, 404, `{"status":404,"message":"chunk not found"}`)
				return
			}
			s.fetched = append(s.fetched, id)
			w.Header().Set("Content-Type", "application/octet-stream")
			fmt.Fprint(w, body)
		default:
			t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
			w.WriteHeader(500)
		}
	}
}

func st(status string, available []int, extra string) string {
	ids := make([]string, len(available))
	for i, id := range available {
		ids[i] = fmt.Sprint(id)
	}
	return fmt.Sprintf(`{"status":%q,"chunks_available":[%s]%s}`, status, strings.Join(ids, ","), extra)
}

// collectChunks is a handler that records the chunk IDs it was given.
type collectChunks struct {
	mu  sync.Mutex
	ids []int
}

func (c *collectChunks) handle(ctx context.Context, id int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ids = append(c.ids, id)
	return nil
}

func (c *collectChunks) sorted() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Sorted(slices.Values(c.ids))
}

func TestFollowExportTerminalStates(t *testing.T) {
	tests := []struct {
		name        string
		kind        ExportKind
		statuses    []string
		done        []int
		wantHandled []int
		wantErr     error
	}{
		{
			name: "finished, chunks out of order with gaps",
			kind: ExportVulns,
			statuses: []string{
				st("QUEUED", nil, ""),
				st("PROCESSING", []int{7}, ""),
				st("PROCESSING", []int{7, 2}, ""),
				st("FINISHED", []int{7, 2, 11}, `,"total_chunks":4,"empty_chunks_count":1`),
			},
			wantHandled: []int{2, 7, 11},
		},
		{
			name:        "minimal asset status",
			kind:        ExportAssets,
			statuses:    []string{st("PROCESSING", nil, ""), st("FINISHED", []int{1, 2, 3}, "")},
			wantHandled: []int{1, 2, 3},
		},
		{
			name:        "compliance READY is in progress",
			kind:        ExportCompliance,
			statuses:    []string{`{"status":"PROCESSING"}`, st("READY", []int{1}, ""), st("READY", []int{1, 2}, ""), st("FINISHED", []int{1, 2, 3}, "")},
			wantHandled: []int{1, 2, 3},
		},
		{
			name:        "chunks done before a restart are skipped",
			kind:        ExportVulns,
			statuses:    []string{st("FINISHED", []int{1, 2, 3, 4}, "")},
			done:        []int{1, 3},
			wantHandled: []int{2, 4},
		},
		{
			name:        "finished with no data",
			kind:        ExportVulns,
			statuses:    []string{st("FINISHED", nil, `,"total_chunks":0`)},
			wantHandled: nil,
		},
		{
			name:        "error after some chunks",
			kind:        ExportVulns,
			statuses:    []string{st("PROCESSING", []int{1}, ""), st("ERROR", []int{1}, `,"reason":"The export request timed out. Try again."`)},
			wantHandled: []int{1},
			wantErr:     ErrExportFailed,
		},
		{
			name: "finished with failed and cancelled chunks",
			kind: ExportVulns,
			statuses: []string{st("FINISHED", []int{1, 2}, `,"chunks_failed":[3],"chunks_cancelled":[4,5],`+
				`"reason":"1 of 5 chunks failed to process. The remaining chunks are available for download."`)},
			wantHandled: []int{1, 2},
			wantErr:     ErrExportIncomplete,
		},
		{
			name:        "cancelled elsewhere",
			kind:        ExportAssets,
			statuses:    []string{st("PROCESSING", nil, ""), st("CANCELLED", []int{1}, "")},
			wantHandled: []int{1},
			wantErr:     ErrExportCancelled,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			job := &scriptedJob{statuses: tt.statuses}
			srv := serve(t, job.handler(t))
			c, _, _ := newTestClient(t, srv.URL)
			got := &collectChunks{}
			res, err := c.FollowExport(context.Background(), ExportJob{Kind: tt.kind, UUID: "job-1"}, FollowOptions{Done: tt.done}, got.handle)
			if tt.wantErr == nil && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %v does not match %v", err, tt.wantErr)
				}
				var exportErr *ExportError
				if !errors.As(err, &exportErr) || exportErr.UUID != "job-1" {
					t.Fatalf("want *ExportError for job-1, got %T %v", err, err)
				}
				if tt.wantErr == ErrExportIncomplete && (!slices.Equal(exportErr.ChunksFailed, []int{3}) || !slices.Equal(exportErr.ChunksCancelled, []int{4, 5}) || !strings.Contains(exportErr.Reason, "1 of 5")) {
					t.Errorf("failed/cancelled chunks and reason not surfaced: %+v", exportErr)
				}
			}
			if !slices.Equal(got.sorted(), tt.wantHandled) {
				t.Errorf("handled chunks %v, want %v", got.sorted(), tt.wantHandled)
			}
			if !slices.Equal(res.Handled, tt.wantHandled) {
				t.Errorf("result lists %v as handled, want %v", res.Handled, tt.wantHandled)
			}
		})
	}
}

// TestFollowExportHandsOutChunksBeforeFinished proves chunks are processed while
// the job still runs: the job only finishes once chunk 1 was handled.
func TestFollowExportHandsOutChunksBeforeFinished(t *testing.T) {
	var handled atomic.Bool
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if handled.Load() {
			writeJSON(w, 200, st("FINISHED", []int{1, 2}, ""))
			return
		}
		writeJSON(w, 200, st("PROCESSING", []int{1}, ""))
	})
	c, _, _ := newTestClient(t, srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := c.FollowExport(ctx, ExportJob{Kind: ExportVulns, UUID: "j"}, FollowOptions{}, func(ctx context.Context, id int) error {
		if id == 1 {
			handled.Store(true)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Handled, []int{1, 2}) {
		t.Errorf("handled %v, want [1 2]", res.Handled)
	}
}

func TestFollowExportPollSchedule(t *testing.T) {
	// Nothing new for six polls, then a chunk, then nothing for two, then done.
	statuses := []string{
		st("QUEUED", nil, ""), st("QUEUED", nil, ""), st("PROCESSING", nil, ""), st("PROCESSING", nil, ""),
		st("PROCESSING", nil, ""), st("PROCESSING", nil, ""), st("PROCESSING", nil, ""),
		st("PROCESSING", []int{1}, ""), st("PROCESSING", []int{1}, ""), st("PROCESSING", []int{1}, ""),
		st("FINISHED", []int{1}, ""),
	}
	job := &scriptedJob{statuses: statuses}
	srv := serve(t, job.handler(t))
	c, clock, _ := newTestClient(t, srv.URL)
	handler := func(ctx context.Context, id int) error { return nil }
	if _, err := c.FollowExport(context.Background(), ExportJob{Kind: ExportVulns, UUID: "j"}, FollowOptions{}, handler); err != nil {
		t.Fatal(err)
	}
	s := time.Second
	ms := time.Millisecond
	// 250ms growing by half toward the 30s cap, reset to 250ms when chunk 1 appeared.
	want := []time.Duration{250 * ms, 375 * ms, 562500 * time.Microsecond, 843750 * time.Microsecond, 1265625 * time.Microsecond,
		1898437500, 2847656250, 250 * ms, 375 * ms, 562500 * time.Microsecond}
	if got := clock.Waits(); !slices.Equal(got, want) {
		t.Errorf("poll waits\n got %v\nwant %v", got, want)
	}
	// The cap: many empty polls never wait more than 30s.
	job2 := &scriptedJob{statuses: append(slices.Repeat([]string{st("PROCESSING", nil, "")}, 20), st("FINISHED", nil, ""))}
	srv2 := serve(t, job2.handler(t))
	c2, clock2, _ := newTestClient(t, srv2.URL)
	if _, err := c2.FollowExport(context.Background(), ExportJob{Kind: ExportVulns, UUID: "j"}, FollowOptions{}, handler); err != nil {
		t.Fatal(err)
	}
	waits := clock2.Waits()
	if slices.Max(waits) != 30*s || waits[len(waits)-1] != 30*s {
		t.Errorf("waits %v should level off at 30s", waits)
	}
}

func TestFollowExportStopsOnHandlerError(t *testing.T) {
	job := &scriptedJob{statuses: []string{st("FINISHED", []int{1, 2, 3, 4, 5, 6}, "")}}
	srv := serve(t, job.handler(t))
	c, _, _ := newTestClient(t, srv.URL)
	boom := errors.New("boom")
	var calls atomic.Int32
	res, err := c.FollowExport(context.Background(), ExportJob{Kind: ExportVulns, UUID: "j"}, FollowOptions{Workers: 1}, func(ctx context.Context, id int) error {
		calls.Add(1)
		if id == 2 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("want the handler's error, got %v", err)
	}
	if calls.Load() != 2 || !slices.Equal(res.Handled, []int{1}) {
		t.Errorf("after the failure no chunk should be handed out: calls %d, handled %v", calls.Load(), res.Handled)
	}
}

func TestFollowExportBoundsConcurrency(t *testing.T) {
	ids := make([]int, 20)
	for i := range ids {
		ids[i] = i + 1
	}
	job := &scriptedJob{statuses: []string{st("FINISHED", ids, "")}}
	srv := serve(t, job.handler(t))
	c, _, _ := newTestClient(t, srv.URL)
	var cur, peak atomic.Int32
	_, err := c.FollowExport(context.Background(), ExportJob{Kind: ExportVulns, UUID: "j"}, FollowOptions{Workers: 3}, func(ctx context.Context, id int) error {
		n := cur.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(2 * time.Millisecond)
		cur.Add(-1)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if peak.Load() > 3 {
		t.Errorf("%d chunks handled at once, want at most 3", peak.Load())
	}
}

func TestFollowExportQueueTimeoutCancelsJob(t *testing.T) {
	job := &scriptedJob{statuses: []string{st("QUEUED", nil, "")}}
	srv := serve(t, job.handler(t))
	c, _, _ := newTestClient(t, srv.URL)
	_, err := c.FollowExport(context.Background(), ExportJob{Kind: ExportVulns, UUID: "j"}, FollowOptions{QueueTimeout: time.Minute}, func(context.Context, int) error { return nil })
	if !errors.Is(err, ErrQueueTimeout) {
		t.Fatalf("want ErrQueueTimeout, got %v", err)
	}
	if job.cancels != 1 {
		t.Errorf("the queued job should be cancelled once, got %d cancels", job.cancels)
	}
}

func TestFollowExportUnknownJob(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 404, `{"status":404,"message":"Job with UUID: j not found"}`)
	})
	c, _, _ := newTestClient(t, srv.URL)
	_, err := c.FollowExport(context.Background(), ExportJob{Kind: ExportAssets, UUID: "j"}, FollowOptions{}, func(context.Context, int) error { return nil })
	if !errors.Is(err, ErrExportExpired) || !errors.Is(err, ErrNotFound) {
		t.Fatalf("want ErrExportExpired wrapping a 404, got %v", err)
	}
}

func TestStartExportAdoptsRunningJob(t *testing.T) {
	tests := []struct {
		name        string
		kind        ExportKind
		start       func(*Client) (ExportJob, error)
		statusBody  string
		listBody    string
		wantCreated time.Time
	}{
		{
			name: "vulns: created from the status",
			kind: ExportVulns,
			start: func(c *Client) (ExportJob, error) {
				return c.StartVulnExport(context.Background(), VulnExportRequest{NumAssets: 50})
			},
			statusBody:  `{"uuid":"active-1","status":"PROCESSING","chunks_available":[],"created":1732582396387}`,
			wantCreated: time.UnixMilli(1732582396387).UTC(),
		},
		{
			name: "assets: created from the job list",
			kind: ExportAssets,
			start: func(c *Client) (ExportJob, error) {
				return c.StartAssetExport(context.Background(), AssetExportRequest{ChunkSize: 100})
			},
			statusBody:  `{"status":"PROCESSING","chunks_available":[]}`,
			listBody:    `{"exports":[{"uuid":"other","created":1},{"uuid":"active-1","status":"PROCESSING","filters":"{}","created":1616117580482}]}`,
			wantCreated: time.UnixMilli(1616117580482).UTC(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
				switch {
				case r.Method == http.MethodPost:
					writeJSON(w, 409, `{"active_job_id":"active-1","failure_reason":"The request could not be completed due to a conflict with the ongoing export"}`)
				case r.URL.Path == "/"+string(tt.kind)+"/export/active-1/status":
					writeJSON(w, 200, tt.statusBody)
				case r.URL.Path == "/"+string(tt.kind)+"/export/status":
					writeJSON(w, 200, tt.listBody)
				default:
					writeJSON(w, 404, `{}`)
				}
			})
			c, _, logs := newTestClient(t, srv.URL)
			job, err := tt.start(c)
			if err != nil {
				t.Fatal(err)
			}
			if !job.Adopted || job.UUID != "active-1" || job.Kind != tt.kind {
				t.Errorf("job = %+v, want adopted active-1", job)
			}
			if !job.RequestedAt.Equal(tt.wantCreated) {
				t.Errorf("RequestedAt = %v, want the adopted job's creation %v", job.RequestedAt, tt.wantCreated)
			}
			if !strings.Contains(logs.String(), "adopting") {
				t.Errorf("adoption should be logged: %s", logs.String())
			}
		})
	}
}

func TestStartExportUsesServerDate(t *testing.T) {
	serverNow := time.Date(2026, 1, 5, 10, 30, 0, 0, time.UTC)
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", serverNow.Format(http.TimeFormat))
		writeJSON(w, 200, `{"export_uuid":"new-1"}`)
	})
	c, _, _ := newTestClient(t, srv.URL)
	job, err := c.StartComplianceExport(context.Background(), ComplianceExportRequest{NumFindings: 5000})
	if err != nil {
		t.Fatal(err)
	}
	if job.Adopted || job.UUID != "new-1" || !job.RequestedAt.Equal(serverNow) {
		t.Errorf("job = %+v, want new-1 requested at the server's %v", job, serverNow)
	}
}

func TestStartExportRefusesInvalidRequestsWithoutSending(t *testing.T) {
	var requests atomic.Int32
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) { requests.Add(1) })
	c, _, _ := newTestClient(t, srv.URL)
	if _, err := c.StartVulnExport(context.Background(), VulnExportRequest{NumAssets: 10}); err == nil {
		t.Fatal("want a validation error")
	}
	if requests.Load() != 0 {
		t.Errorf("an invalid request reached the server")
	}
}

func TestCancelExportToleratesFinishedJob(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 400, `{"status":400,"message":"Cannot cancel a completed job"}`)
	})
	c, _, _ := newTestClient(t, srv.URL)
	if err := c.CancelExport(context.Background(), ExportAssets, "j"); err != nil {
		t.Fatalf("cancelling a finished job should not fail: %v", err)
	}
}

func TestJobListFiltersAsString(t *testing.T) {
	j := ExportJobInfo{Filters: []byte(`"{\"is_deleted\":true}"`)}
	if got := string(j.FiltersJSON()); got != `{"is_deleted":true}` {
		t.Errorf("FiltersJSON = %s", got)
	}
	j = ExportJobInfo{Filters: []byte(`{"since":1}`)}
	if got := string(j.FiltersJSON()); got != `{"since":1}` {
		t.Errorf("FiltersJSON = %s", got)
	}
}
