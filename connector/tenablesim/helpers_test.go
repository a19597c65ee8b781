package tenablesim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

const testAuth = "accessKey=AK; secretKey=SK;"

// fixture is a simulator behind an httptest server.
type fixture struct {
	t   *testing.T
	sim *Server
	srv *httptest.Server
}

func newFixture(t *testing.T, cfg Config) *fixture {
	t.Helper()
	if cfg.AccessKey == "" {
		cfg.AccessKey, cfg.SecretKey = "AK", "SK"
	}
	if cfg.Assets == 0 {
		cfg.Assets = 200
	}
	if cfg.QueueLatency == 0 {
		cfg.QueueLatency = time.Millisecond
	}
	if cfg.ChunkLatency == 0 {
		cfg.ChunkLatency = time.Millisecond
	}
	if cfg.ImportLatency == 0 {
		cfg.ImportLatency = 5 * time.Millisecond
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &fixture{t: t, sim: s, srv: srv}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %.300s", err, r.body)
	}
	return m
}

func (f *fixture) do(method, path, body string, headers ...string) response {
	f.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.srv.URL+path, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("X-ApiKeys", testAuth)
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return response{resp.StatusCode, resp.Header, b}
}

// export starts an export and returns its UUID.
func (f *fixture) export(kind, body string) string {
	f.t.Helper()
	path := map[string]string{"assets": "/assets/export", "assets-v2": "/assets/v2/export", "vulns": "/vulns/export", "compliance": "/compliance/export"}[kind]
	r := f.do("POST", path, body)
	if r.status != 200 {
		f.t.Fatalf("POST %s %s: %d %s", path, body, r.status, r.body)
	}
	return r.json(f.t)["export_uuid"].(string)
}

func jobBase(kind string) string {
	if kind == "assets-v2" {
		return "assets"
	}
	return kind
}

func (f *fixture) status(kind, uuid string) map[string]any {
	f.t.Helper()
	r := f.do("GET", "/"+jobBase(kind)+"/export/"+uuid+"/status", "")
	if r.status != 200 {
		f.t.Fatalf("status: %d %s", r.status, r.body)
	}
	return r.json(f.t)
}

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (f *fixture) waitStatus(kind, uuid string, want ...string) map[string]any {
	f.t.Helper()
	var st map[string]any
	waitFor(f.t, kind+" export "+strings.Join(want, "/"), func() bool {
		st = f.status(kind, uuid)
		return slices.Contains(want, st["status"].(string))
	})
	return st
}

func ints(v any) []int {
	var out []int
	for _, x := range v.([]any) {
		out = append(out, int(x.(float64)))
	}
	return out
}

// records downloads every available chunk of a finished export, in chunk id order.
func (f *fixture) records(kind, uuid string) []json.RawMessage {
	f.t.Helper()
	st := f.waitStatus(kind, uuid, "FINISHED")
	ids := ints(st["chunks_available"])
	slices.Sort(ids)
	var all []json.RawMessage
	for _, id := range ids {
		all = append(all, f.chunk(kind, uuid, id)...)
	}
	return all
}

func (f *fixture) chunk(kind, uuid string, id int) []json.RawMessage {
	f.t.Helper()
	r := f.do("GET", "/"+jobBase(kind)+"/export/"+uuid+"/chunks/"+itoa(id), "")
	if r.status != 200 {
		f.t.Fatalf("chunk %d: %d %s", id, r.status, r.body)
	}
	var recs []json.RawMessage
	if err := json.Unmarshal(r.body, &recs); err != nil {
		f.t.Fatalf("chunk %d is not a JSON array: %v", id, err)
	}
	return recs
}

func itoa(i int) string { return strconv.Itoa(i) }

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// keyOf computes the truth key of a rendered record.
func keyOf(t *testing.T, kind string, rec json.RawMessage) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(rec, &m); err != nil {
		t.Fatal(err)
	}
	switch kind {
	case "assets", "assets-v2":
		return string(mustJSON(m["id"]))
	case "vulns":
		a, p, port := m["asset"].(map[string]any), m["plugin"].(map[string]any), m["port"].(map[string]any)
		return string(mustJSON([]any{a["uuid"], p["id"], port["port"], port["protocol"]}))
	case "compliance":
		return string(mustJSON([]any{m["asset_uuid"], m["check_id"]}))
	}
	t.Fatalf("unknown kind %s", kind)
	return ""
}

func keyStrings(keys []json.RawMessage) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		var v any
		_ = json.Unmarshal(k, &v)
		out[i] = string(mustJSON(v))
	}
	return out
}

func decode(t *testing.T, rec json.RawMessage) map[string]any {
	t.Helper()
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(rec))
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func newTestHTTP(t *testing.T, s *Server) *httptest.Server {
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv
}
