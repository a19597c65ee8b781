package tenable

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// recorded reads the payload of a recorded sample in testdata/recorded.
func recorded(t testing.TB, name string) jsontext.Value {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "recorded", name))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Payload jsontext.Value `json:"payload"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return f.Payload
}

func TestDecodeRecordedChunks(t *testing.T) {
	tests := []struct {
		file  string
		n     int
		check func(t *testing.T, records []jsontext.Value)
	}{
		{"j1-vuln-export-records-2022.json", 2, func(t *testing.T, rs []jsontext.Value) {
			v := decodeMap(t, rs[0])
			if member(v, "asset", "uuid") != "e6782de6-e520-4fa8-8ca9-49286d7fca2a" || member(v, "plugin", "id") != 159106.0 ||
				member(v, "plugin", "cvss3_base_score") != 9.8 {
				t.Errorf("vuln fields: %v", v["plugin"])
			}
			if indexed, _ := member(v, "indexed").(string); !strings.HasPrefix(indexed, "2022-") { // an ISO string here
				t.Errorf("indexed = %v", member(v, "indexed"))
			}
			if member(v, "plugin", "vpr", "score") != 7.4 {
				t.Errorf("vpr = %v", member(v, "plugin", "vpr"))
			}
		}},
		{"pytenable-cassette-vuln-export-records-2018.json", 3, func(t *testing.T, rs []jsontext.Value) {
			states := map[any]int{}
			for _, r := range rs {
				v := decodeMap(t, r)
				states[v["state"]]++
				if lastFixed, _ := v["last_fixed"].(string); v["state"] == "REOPENED" && !strings.HasPrefix(lastFixed, "2018-") {
					t.Errorf("the reopened finding keeps its last_fixed, got %v", v["last_fixed"])
				}
			}
			if states["OPEN"] != 2 || states["REOPENED"] != 1 {
				t.Errorf("states %v, want 2 OPEN and 1 REOPENED", states)
			}
		}},
		{"openapi-vuln-export-chunk-example.json", -1, func(t *testing.T, rs []jsontext.Value) {
			v := decodeMap(t, rs[0])
			if v["finding_id"] == "" || v["finding_id"] == nil || v["indexed"] == nil {
				t.Errorf("finding_id %v indexed %v", v["finding_id"], v["indexed"])
			}
		}},
		{"j1-asset-export-v1-records-2022.json", 2, func(t *testing.T, rs []jsontext.Value) {
			a := decodeMap(t, rs[0])
			if sources, _ := a["sources"].([]any); a["id"] == nil || len(sources) == 0 || a["created_at"] == nil {
				t.Errorf("asset: %v", a)
			}
		}},
		{"pytenable-cassette-asset-export-v1-records-2018.json", 3, func(t *testing.T, rs []jsontext.Value) {
			for _, r := range rs {
				if id, _ := decodeMap(t, r)["id"].(string); id == "" {
					t.Error("asset without id")
				}
			}
		}},
		{"openapi-asset-export-v1-chunk-example.json", -1, nil},
		{"openapi-asset-export-v2-chunk-example.json", -1, nil},
		{"openapi-compliance-export-chunk-example.json", -1, func(t *testing.T, rs []jsontext.Value) {
			c := decodeMap(t, rs[0])
			if c["asset_uuid"] == nil || c["check_id"] == nil || c["last_seen"] == nil {
				t.Errorf("compliance: %v", c)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			payload := recorded(t, tt.file)
			var records []jsontext.Value
			n, err := DecodeChunk(bytes.NewReader(payload), 0, func(r []byte) error {
				records = append(records, bytes.Clone(r))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if n != len(records) || (tt.n >= 0 && n != tt.n) || n == 0 {
				t.Fatalf("decoded %d records (%d handed over), want %d", n, len(records), tt.n)
			}
			if tt.check != nil {
				tt.check(t, records)
			}
		})
	}
}

func TestDecodeChunkErrors(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		wantN     int
		truncated bool
	}{
		{"empty array", `[]`, 0, false},
		{"cut inside a record", `[{"a":1},{"b":`, 1, true},
		{"cut between records", `[{"a":1},`, 1, true},
		{"cut before the bracket", `[{"a":1}`, 1, true},
		{"empty body", ``, 0, true},
		{"not an array", `{"a":1}`, 0, false},
		{"garbage", `[{"a":1},nope]`, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := DecodeChunk(strings.NewReader(tt.body), 0, func([]byte) error { return nil })
			if n != tt.wantN {
				t.Errorf("n = %d, want %d", n, tt.wantN)
			}
			if tt.body == "[]" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("want an error")
			}
			if got := errors.Is(err, errTruncatedChunk); got != tt.truncated {
				t.Errorf("truncated = %v, want %v (%v)", got, tt.truncated, err)
			}
		})
	}
}

// TestDownloadChunkResumesAfterTruncation cuts the body mid-record twice: every
// record reaches the callback exactly once, in order.
func TestDownloadChunkResumesAfterTruncation(t *testing.T) {
	var body bytes.Buffer
	body.WriteString("[")
	for i := range 50 {
		if i > 0 {
			body.WriteString(",")
		}
		fmt.Fprintf(&body, `{"n":%d,"pad":"%s"}`, i, strings.Repeat("x", 100))
	}
	body.WriteString("]")
	full := body.Bytes()
	cuts := []int{len(full) / 5, len(full) / 2}
	var attempts atomic.Int32
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		i := int(attempts.Add(1)) - 1
		w.Header().Set("Content-Type", "application/octet-stream")
		if i < len(cuts) {
			w.Header().Set("Content-Length", strconv.Itoa(len(full)))
			_, _ = w.Write(full[:cuts[i]]) // the connection closes short of Content-Length
			return
		}
		_, _ = w.Write(full)
	})
	c, _, logs := newTestClient(t, srv.URL)
	var seen []int
	n, err := c.DownloadChunk(context.Background(), ExportVulns, "e", 3, func(rec []byte) error {
		var v struct {
			N int `json:"n"`
		}
		if err := json.Unmarshal(rec, &v); err != nil {
			return err
		}
		seen = append(seen, v.N)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 50 || len(seen) != 50 {
		t.Fatalf("n = %d, records %d, want 50", n, len(seen))
	}
	for i, v := range seen {
		if v != i {
			t.Fatalf("record %d is %d: a record was repeated or skipped", i, v)
		}
	}
	if attempts.Load() != 3 || !strings.Contains(logs.String(), "broke off") {
		t.Errorf("attempts %d, want 3 with the retries logged", attempts.Load())
	}
}

func TestDownloadChunkFailures(t *testing.T) {
	boom := errors.New("consumer refused")
	tests := []struct {
		name    string
		handler http.HandlerFunc
		fn      RecordFunc
		wantIs  error
		wantMsg string
	}{
		{
			name:    "404 means expired",
			handler: func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 404, `{"message":"not found"}`) },
			wantIs:  ErrChunkExpired,
		},
		{
			name: "always truncated gives up",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "100")
				fmt.Fprint(w, `[{"a":1},`)
			},
			wantIs:  errTruncatedChunk,
			wantMsg: "unreadable after 4 attempts",
		},
		{
			name:    "callback error is returned, not retried",
			handler: func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `[{"a":1},{"a":2}]`) },
			fn:      func([]byte) error { return boom },
			wantIs:  boom,
		},
		{
			name:    "400 chunk not ready is permanent",
			handler: func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 400, `{"message":"chunk not ready"}`) },
			wantMsg: "chunk not ready",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var requests atomic.Int32
			srv := serve(t, func(w http.ResponseWriter, r *http.Request) { requests.Add(1); tt.handler(w, r) })
			c, _, _ := newTestClient(t, srv.URL)
			fn := tt.fn
			if fn == nil {
				fn = func([]byte) error { return nil }
			}
			_, err := c.DownloadChunk(context.Background(), ExportVulns, "e", 1, fn)
			if err == nil {
				t.Fatal("want an error")
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v does not match %v", err, tt.wantIs)
			}
			if tt.wantMsg != "" && !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not mention %q", err, tt.wantMsg)
			}
			if tt.wantIs == boom && requests.Load() != 1 {
				t.Errorf("a callback error must not trigger a new download, got %d requests", requests.Load())
			}
		})
	}
}

func TestListPluginsPages(t *testing.T) {
	realPage := recorded(t, "pytenable-cassette-plugins-list-page.json")
	var page struct {
		Data struct {
			Details []jsontext.Value `json:"plugin_details"`
		} `json:"data"`
	}
	if err := json.Unmarshal(realPage, &page); err != nil {
		t.Fatal(err)
	}
	all := page.Data.Details // 10 real plugins, served 4 per page
	const size = 4
	var queries []string
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		queries = append(queries, r.URL.RawQuery)
		p, _ := strconv.Atoi(r.URL.Query().Get("page"))
		lo, hi := min((p-1)*size, len(all)), min(p*size, len(all))
		items := make([]string, 0, size)
		for _, it := range all[lo:hi] {
			items = append(items, string(it))
		}
		// total_count first on odd pages, last on even ones: member order must not matter.
		if p%2 == 1 {
			fmt.Fprintf(w, `{"total_count":%d,"size":%d,"data":{"plugin_details":[%s]},"params":{"page":%d}}`, len(all), size, strings.Join(items, ","), p)
		} else {
			fmt.Fprintf(w, `{"data":{"plugin_details":[%s]},"size":%d,"params":{"page":%d},"total_count":%d}`, strings.Join(items, ","), size, p, len(all))
		}
	})
	c, _, _ := newTestClient(t, srv.URL)
	var ids []int64
	var pages []PluginPage
	n, err := c.ListPlugins(context.Background(), PluginListOptions{
		LastUpdated: time.Date(2019, 1, 1, 15, 0, 0, 0, time.UTC), Size: size,
		OnPage: func(p PluginPage) error { pages = append(pages, p); return nil },
	}, func(rec []byte) error {
		var p struct {
			ID         int64 `json:"id"`
			Attributes struct {
				PluginModificationDate string `json:"plugin_modification_date"`
			} `json:"attributes"`
		}
		if err := json.Unmarshal(rec, &p); err != nil {
			return err
		}
		if p.Attributes.PluginModificationDate == "" {
			t.Errorf("plugin %d without modification date", p.ID)
		}
		ids = append(ids, p.ID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 10 || len(ids) != 10 || len(pages) != 3 || pages[2].Seen != 10 || pages[2].Records != 2 {
		t.Fatalf("n %d, ids %d, pages %+v", n, len(ids), pages)
	}
	if ids[0] != 32 {
		t.Errorf("first plugin %d, want 32", ids[0])
	}
	if want := "last_updated=2019-01-01&page=1&size=4"; queries[0] != want {
		t.Errorf("query %q, want %q", queries[0], want)
	}
}

func TestListPluginsRejectsBadPageSize(t *testing.T) {
	c, _, _ := newTestClient(t, "http://127.0.0.1:1")
	if _, err := c.ListPlugins(context.Background(), PluginListOptions{Size: 10001}, func([]byte) error { return nil }); err == nil {
		t.Fatal("want an error for a page size over 10000")
	}
}

func TestImportAssets(t *testing.T) {
	var got ImportRequest
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/import/assets":
			if err := json.UnmarshalRead(r.Body, &got); err != nil {
				t.Error(err)
			}
			writeJSON(w, 200, `{"asset_import_job_uuid":"job-9"}`)
		case "/import/asset-jobs/job-9":
			writeJSON(w, 200, `{"job_id":"job-9","status":"COMPLETE","uploaded_assets":1,"start_time":1,"end_time":2}`)
		}
	})
	c, _, _ := newTestClient(t, srv.URL)
	uuid, err := c.ImportAssets(context.Background(), "ACME CMDB", []ImportAsset{{FQDN: []string{"a.example"}, IPv4: []string{"10.0.0.1"}, ServiceNowSysID: "abc"}})
	if err != nil || uuid != "job-9" {
		t.Fatalf("uuid %q err %v", uuid, err)
	}
	if got.Source != "ACME CMDB" || len(got.Assets) != 1 || got.Assets[0].ServiceNowSysID != "abc" {
		t.Errorf("server got %+v", got)
	}
	job, err := c.WaitImportJob(context.Background(), uuid, time.Millisecond)
	if err != nil || job.Status != ImportComplete || job.UploadedAssets != 1 {
		t.Errorf("job %+v err %v", job, err)
	}
	if _, err := c.ImportAssetsBody(context.Background(), make([]byte, MaxImportBodyBytes)); !errors.Is(err, ErrImportTooLarge) {
		t.Errorf("a 5,000,000-byte body must be refused before sending, got %v", err)
	}
}

func TestImportAssetWireNames(t *testing.T) {
	b, err := json.Marshal(ImportAsset{NetBIOSName: "HOST", MACAddress: []string{"00:11:22:33:44:55"}, ServiceNowSysID: "x", AWSEC2InstanceID: "i-1"})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"mac_address":["00:11:22:33:44:55"],"netbios_name":"HOST","servicenow_sys_id":"x","aws_ec2_instance_id":"i-1"}`
	if string(b) != want {
		t.Errorf("got %s\nwant %s", b, want)
	}
}

// TestDecodeChunkAcrossReads splits bodies whose records straddle every read
// boundary: escaped quotes and backslash runs, strings longer than the buffer,
// deep nesting, top-level scalars. Whatever the reads, the records are exactly
// those a full JSON decoder (jsontext) finds.
func TestDecodeChunkAcrossReads(t *testing.T) {
	long := strings.Repeat(`a\"b\\`, 30000) // 180 KB, longer than one read
	body := `[ {"s":"` + long + `","n":[1,[2,{"x":"]}"}]]} ,` +
		`{"q":"\\\\\\\"x","e":"\\"} , "top \" string",-12.5e3,true,null,[[[[]]]],` +
		`{"k":"` + strings.Repeat("z", 70000) + `\\"}` + "\n]"
	var want [][]byte
	if _, err := decodeArray(jsontext.NewDecoder(strings.NewReader(body)), 0, func(r []byte) error {
		want = append(want, bytes.Clone(r))
		return nil
	}); err != nil {
		t.Fatalf("the body itself is not valid: %v", err)
	}
	readers := map[string]func() io.Reader{
		"whole":    func() io.Reader { return strings.NewReader(body) },
		"one byte": func() io.Reader { return iotest.OneByteReader(strings.NewReader(body)) },
		"halves":   func() io.Reader { return iotest.HalfReader(strings.NewReader(body)) },
		"with EOF": func() io.Reader { return iotest.DataErrReader(strings.NewReader(body)) },
	}
	for name, reader := range readers {
		t.Run(name, func(t *testing.T) {
			var got [][]byte
			n, err := DecodeChunk(reader(), 0, func(r []byte) error {
				got = append(got, bytes.Clone(r))
				return nil
			})
			if err != nil || n != len(want) {
				t.Fatalf("n = %d, err %v; want %d records", n, err, len(want))
			}
			for i := range want {
				if !bytes.Equal(got[i], want[i]) {
					t.Errorf("record %d: got %.60q..., want %.60q...", i, got[i], want[i])
				}
			}
		})
	}
}

// TestDecodeChunkStructureErrors: structure the splitter itself refuses.
func TestDecodeChunkStructureErrors(t *testing.T) {
	for _, body := range []string{`[{"a":[1}]`, `[{"a":1}}]`, `[1,]`, `[{"a":1} {"b":2}]`, `[tru]`, `["\x"]`, `[` + strings.Repeat("[", splitMaxDepth+1)} {
		_, err := DecodeChunk(strings.NewReader(body), 0, func([]byte) error { return nil })
		if !errors.Is(err, errNotJSON) {
			t.Errorf("%.40q: err %v, want errNotJSON", body, err)
		}
	}
}
