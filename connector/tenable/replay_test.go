package tenable

import (
	"context"
	stdjson "encoding/json"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// recordedExchange is one request/response pair of a recorded export flow.
type recordedExchange struct {
	Request     string         `json:"request"` // "METHOD URL"
	Status      int            `json:"status"`
	ContentType []string       `json:"content_type"`
	Response    jsontext.Value `json:"response"`
}

// replayServer answers like the recording did: the POST with its recorded answer,
// status polls with the recorded sequence (the last one repeats), chunks with the
// recorded chunk or the given records.
func replayServer(t *testing.T, flow []recordedExchange, chunks map[string]jsontext.Value) *sync.Map {
	t.Helper()
	hits := &sync.Map{}
	var mu sync.Mutex
	var statuses []recordedExchange
	var post recordedExchange
	for _, ex := range flow {
		method, url, _ := strings.Cut(ex.Request, " ")
		switch {
		case method == http.MethodPost:
			post = ex
		case strings.HasSuffix(url, "/status"):
			statuses = append(statuses, ex)
		case strings.Contains(url, "/chunks/"):
			if _, ok := chunks[url[strings.LastIndex(url, "/")+1:]]; !ok {
				chunks[url[strings.LastIndex(url, "/")+1:]] = ex.Response
			}
		}
	}
	polls := 0
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		n, _ := hits.LoadOrStore(r.Method+" "+r.URL.Path, new(int))
		*n.(*int)++
		switch {
		case r.Method == http.MethodPost:
			writeJSON(w, post.Status, string(post.Response))
		case strings.HasSuffix(r.URL.Path, "/status"):
			ex := statuses[min(polls, len(statuses)-1)]
			polls++
			writeJSON(w, ex.Status, string(ex.Response))
		case strings.Contains(r.URL.Path, "/chunks/"):
			body, ok := chunks[r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]]
			if !ok {
				writeJSON(w, 404, `{"message":"no such chunk"}`)
				return
			}
			w.Header().Set("Content-Type", "application/octet-stream")
			_, _ = w.Write(body)
		default:
			w.WriteHeader(404)
		}
	})
	hits.Store("url", srv.URL)
	return hits
}

// TestReplayRecordedFlows runs whole exports against recorded Tenable answers.
func TestReplayRecordedFlows(t *testing.T) {
	tests := []struct {
		name        string
		flow        string
		kind        ExportKind
		chunks      map[string]string // chunk id -> recorded file with its records
		start       func(c *Client) (ExportJob, error)
		wantUUID    string
		wantRecords int
	}{
		{
			name: "assets 2018", flow: "pytenable-cassette-asset-export-flow-2018.json", kind: ExportAssets,
			chunks: map[string]string{
				"1": "pytenable-cassette-asset-export-v1-records-2018.json",
				"2": "j1-asset-export-v1-records-2022.json",
				"3": "openapi-asset-export-v1-chunk-example.json",
			},
			start: func(c *Client) (ExportJob, error) {
				return c.StartAssetExport(context.Background(), AssetExportRequest{ChunkSize: 100})
			},
			wantUUID: "82662d3e-e653-46ce-a592-1f276b188c53", wantRecords: -1,
		},
		{
			name: "vulns 2022", flow: "j1-vuln-export-flow-2022.json", kind: ExportVulns,
			chunks: map[string]string{"1": "j1-vuln-export-records-2022.json"},
			start: func(c *Client) (ExportJob, error) {
				return c.StartVulnExport(context.Background(), VulnExportRequest{NumAssets: 50})
			},
			wantUUID: "f36739a5-d033-4ab5-b623-c97913251ac4", wantRecords: 2,
		},
		{
			name: "compliance 2021 (empty octet-stream chunk)", flow: "pytenable-cassette-compliance-export-flow-2021.json", kind: ExportCompliance,
			chunks: map[string]string{},
			start: func(c *Client) (ExportJob, error) {
				return c.StartComplianceExport(context.Background(), ComplianceExportRequest{NumFindings: 50})
			},
			wantUUID: "f4a5a5ef-9878-4e72-af70-2d346960669d", wantRecords: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var flow []recordedExchange
			if err := json.Unmarshal(recorded(t, tt.flow), &flow); err != nil {
				t.Fatal(err)
			}
			chunks := map[string]jsontext.Value{}
			want := 0
			for id, file := range tt.chunks {
				chunks[id] = recorded(t, file)
				// Counted with encoding/json, not with DecodeChunk: the expected
				// count must not come from the decoder under test.
				var recs []stdjson.RawMessage
				if err := stdjson.Unmarshal(chunks[id], &recs); err != nil {
					t.Fatalf("%s: payload is not a JSON array: %v", file, err)
				}
				want += len(recs)
			}
			if tt.wantRecords >= 0 {
				if len(tt.chunks) > 0 && want != tt.wantRecords {
					t.Fatalf("recorded chunks hold %d records, the test expects %d", want, tt.wantRecords)
				}
				want = tt.wantRecords
			}
			if len(tt.chunks) > 0 && want == 0 {
				t.Fatal("recorded chunks hold no records: the count would check nothing")
			}
			hits := replayServer(t, flow, chunks)
			url, _ := hits.Load("url")
			c, _, _ := newTestClient(t, url.(string))
			job, err := tt.start(c)
			if err != nil {
				t.Fatal(err)
			}
			if job.UUID != tt.wantUUID || job.Kind != tt.kind {
				t.Fatalf("job %+v, want %s", job, tt.wantUUID)
			}
			var records atomic.Int64
			res, err := c.FollowExport(context.Background(), job, FollowOptions{}, func(ctx context.Context, chunk int) error {
				_, err := c.DownloadChunk(ctx, job.Kind, job.UUID, chunk, func([]byte) error { records.Add(1); return nil })
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Status.Status != StateFinished {
				t.Errorf("final status %s", res.Status.Status)
			}
			if records.Load() != int64(want) {
				t.Errorf("records %d, want %d", records.Load(), want)
			}
			for _, id := range res.Handled {
				n, ok := hits.Load("GET " + chunkPath(job.Kind, job.UUID, id))
				if !ok || *n.(*int) != 1 {
					t.Errorf("chunk %d: want exactly one download", id)
				}
			}
		})
	}
}
