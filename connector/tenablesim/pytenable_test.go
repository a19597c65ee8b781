package tenablesim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The cross-check keys and the User-Agent pyTenable builds from
// TenableIO(vendor='tvmkafka', product='cross-check', build='test').
const (
	xcheckAccessKey = "xcheck-access-key"
	xcheckSecretKey = "xcheck-secret-key"
	xcheckUserAgent = "Integration/1.0 (tvmkafka; cross-check; Build/test)"
	xcheckSource    = "tvmkafka-xcheck"
	// pyTenableTimeout bounds one run of the Python script. A clean run takes a
	// few seconds; the faults run sleeps one Retry-After second per 429 and one
	// second per truncated chunk.
	pyTenableTimeout = 2 * time.Minute
)

// TestPyTenableCrossCheck has pyTenable, Tenable's own Python client, drive the
// simulator through every workflow tvmkafka uses: asset exports (v1 and v2),
// vuln exports (pyTenable's defaults: num_assets 500, include_unlicensed, no
// time filter so the 30-day window; and since with every state), compliance
// exports, plugin paging and an asset import round trip. For every export the
// records pyTenable yields must be exactly the simulator's ground truth for the
// body pyTenable sent. A second run repeats a vuln export while the simulator
// answers 429 (with Retry-After) and truncates chunk bodies, the faults
// pyTenable is documented to survive; it must still get every record.
//
// Known pyTenable divergences this test does not hold against the simulator:
// it never treats CANCELLED as terminal (an externally cancelled export would
// poll forever), ignores chunks_failed and chunks_cancelled, does not retry
// 500, and echoes X-Tio-Last-Request-Uuid only from a response header of that
// name, which Tenable (and the simulator) send as X-Request-Uuid.
func TestPyTenableCrossCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("the pyTenable cross-check runs a Python client for several seconds; skipped with -short")
	}
	py := pyTenablePython(t)

	sim, err := New(Config{
		Assets: 300, Seed: 20260105, AccessKey: xcheckAccessKey, SecretKey: xcheckSecretKey,
		QueueLatency: time.Millisecond, ChunkLatency: time.Millisecond, ImportLatency: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	capt := newXcheckCapture(sim)
	ts := httptest.NewServer(capt)
	t.Cleanup(ts.Close)

	t.Run("full", func(t *testing.T) { pyTenableFull(t, py, ts.URL, sim, capt) })
	t.Run("faults", func(t *testing.T) { pyTenableFaults(t, py, ts.URL, sim, capt) })
}

func pyTenableFull(t *testing.T, py, url string, sim *Server, capt *xcheckCapture) {
	now := sim.Now()
	since := now.Add(-7 * 24 * time.Hour).Unix()
	lastSeen := now.Add(-14 * 24 * time.Hour).Unix()
	pluginsUpdated := now.AddDate(0, -6, 0).Format(time.DateOnly)
	res := runPyTenable(t, py, url, "full", "--since", fmt.Sprint(since), "--last-seen", fmt.Sprint(lastSeen),
		"--plugins-updated", pluginsUpdated)

	if len(res.LogWarnings) > 0 {
		t.Errorf("pyTenable logged warnings or errors against a fault-free simulator: %+v", res.LogWarnings)
	}

	// Every export: pyTenable's records are exactly the truth for the body it sent.
	wantExports := []struct{ name, kind string }{
		{"assets_v1", TruthAssets}, {"assets_v2", TruthAssetsV2}, {"vulns_default", TruthVulns},
		{"vulns_since", TruthVulns}, {"compliance_default", TruthCompliance},
		{"compliance_last_seen", TruthCompliance}, {"assets_after_import", TruthAssets},
	}
	got := map[string]pyExport{}
	for _, e := range res.Exports {
		got[e.Name] = e
	}
	bodies := map[string]map[string]any{}
	for _, w := range wantExports {
		e, ok := got[w.name]
		if !ok {
			t.Errorf("%s: missing from pyTenable's output", w.name)
			continue
		}
		c, ok := capt.export(e.ExportUUID)
		if !ok {
			t.Errorf("%s: export %s was never created by a POST the test saw", w.name, e.ExportUUID)
			continue
		}
		if c.kind != w.kind {
			t.Errorf("%s: pyTenable posted to the %s export, want %s", w.name, c.kind, w.kind)
		}
		if e.Status != "FINISHED" {
			t.Errorf("%s: pyTenable's iterator ended with status %q, want FINISHED", w.name, e.Status)
		}
		if c.truth.Count == 0 {
			t.Errorf("%s: the truth is empty, the comparison would prove nothing (body %s)", w.name, c.body)
		}
		compareKeys(t, w.name, e.Count, e.Keys, c.truth)
		var body map[string]any
		if err := json.Unmarshal(c.body, &body); err != nil {
			t.Fatalf("%s: pyTenable's body is not a JSON object: %v: %s", w.name, err, c.body)
		}
		bodies[w.name] = body
		t.Logf("%-20s %6d records  %5.2fs  body %s", w.name, e.Count, e.Seconds, c.body)
	}

	// The bodies carry pyTenable's defaults, which differ from Tenable's.
	if b := bodies["assets_v1"]; b != nil && num(b["chunk_size"]) != 1000 {
		t.Errorf("assets_v1: chunk_size %v, want pyTenable's default 1000", b["chunk_size"])
	}
	if b := bodies["vulns_default"]; b != nil {
		if num(b["num_assets"]) != 500 || b["include_unlicensed"] != true {
			t.Errorf("vulns_default: num_assets %v, include_unlicensed %v; want pyTenable's defaults 500 and true",
				b["num_assets"], b["include_unlicensed"])
		}
		filters, _ := b["filters"].(map[string]any)
		for _, f := range []string{"since", "first_found", "first_seen", "last_found", "last_seen", "last_fixed", "indexed_at"} {
			if _, ok := filters[f]; ok {
				t.Errorf("vulns_default: pyTenable sent time filter %s, the 30-day default window is not exercised", f)
			}
		}
	}
	if b := bodies["vulns_since"]; b != nil {
		filters, _ := b["filters"].(map[string]any)
		if num(filters["since"]) != float64(since) || fmt.Sprint(filters["state"]) != "[OPEN REOPENED FIXED]" {
			t.Errorf("vulns_since: filters %v, want since %d and the three states upper-cased", filters, since)
		}
	}
	if b := bodies["compliance_last_seen"]; b != nil {
		filters, _ := b["filters"].(map[string]any)
		if num(filters["last_seen"]) != float64(lastSeen) || num(b["num_findings"]) != 500 {
			t.Errorf("compliance_last_seen: body %v, want last_seen %d and num_findings 500", b, lastSeen)
		}
	}

	// Plugins: pyTenable pages with size 1000 from page 1 and stops at total_count.
	wantPlugins := map[string]string{"plugins_all": "1970-01-01", "plugins_updated": pluginsUpdated}
	counts := map[string]int{}
	for _, p := range res.Plugins {
		lu, ok := wantPlugins[p.Name]
		if !ok {
			t.Errorf("unexpected plugin listing %s", p.Name)
			continue
		}
		truth, ok := capt.plugins(lu)
		if !ok {
			t.Errorf("%s: pyTenable never asked for last_updated=%s (asked: %v)", p.Name, lu, capt.pluginQueries())
			continue
		}
		if p.TotalCount != truth.Count {
			t.Errorf("%s: total_count %d, want %d", p.Name, p.TotalCount, truth.Count)
		}
		compareKeys(t, p.Name, p.Count, p.Keys, truth)
		counts[p.Name] = p.Count
		t.Logf("%-20s %6d plugins  %5.2fs  last_updated=%s", p.Name, p.Count, p.Seconds, lu)
	}
	if len(counts) != 2 || counts["plugins_updated"] == 0 || counts["plugins_updated"] >= counts["plugins_all"] {
		t.Errorf("plugin counts %v: want both listings, the last_updated one non-empty and smaller", counts)
	}
	var wantQueries []string
	for _, name := range []string{"plugins_all", "plugins_updated"} {
		for page := 1; (page-1)*1000 < counts[name]; page++ {
			wantQueries = append(wantQueries, fmt.Sprintf("last_updated=%s&page=%d&size=1000", wantPlugins[name], page))
		}
	}
	if q := capt.pluginQueries(); !slices.Equal(q, wantQueries) {
		t.Errorf("plugin queries %q, want %q", q, wantQueries)
	}

	checkImport(t, sim, capt, res, got)

	// Every request came from pyTenable with the standard User-Agent, and none
	// of them was answered with an error.
	st := sim.Stats()
	if len(st.UserAgents) == 0 {
		t.Error("the simulator saw no User-Agent")
	}
	for _, ua := range st.UserAgents {
		if !strings.HasPrefix(ua, xcheckUserAgent+" pyTenable/") {
			t.Errorf("User-Agent %q does not start with %q", ua, xcheckUserAgent+" pyTenable/")
		}
	}
	for route, byStatus := range st.Requests {
		for code, n := range byStatus {
			if code >= 400 || route == "unmatched" {
				t.Errorf("%s answered %d %d times to pyTenable", route, code, n)
			}
		}
	}
	t.Logf("pyTenable %s; User-Agent %q; script %.2fs", res.PyTenableVersion, st.UserAgents, res.Seconds)
}

// checkImport asserts the asset import round trip: the request pyTenable sent,
// the job it polled to COMPLETE, what the simulator merged, and that the asset
// export made afterwards shows the import source on both assets.
func checkImport(t *testing.T, sim *Server, capt *xcheckCapture, res pyResult, exports map[string]pyExport) {
	t.Helper()
	imp := res.Import
	if imp == nil {
		t.Fatal("pyTenable's output has no import")
	}
	bodies := capt.importBodies()
	if len(bodies) != 1 {
		t.Fatalf("saw %d POST /import/assets, want 1", len(bodies))
	}
	var body struct {
		Source string           `json:"source"`
		Assets []map[string]any `json:"assets"`
	}
	if err := json.Unmarshal(bodies[0], &body); err != nil || body.Source != xcheckSource || len(body.Assets) != 2 {
		t.Errorf("import body %s (%v): want source %s and 2 assets", bodies[0], err, xcheckSource)
	}
	job := imp.Job
	if job["job_id"] != imp.JobUUID || job["status"] != "COMPLETE" || num(job["uploaded_assets"]) != 2 ||
		num(job["failed_assets"]) != 0 || job["source"] != xcheckSource {
		t.Errorf("import job as pyTenable last saw it: %v", job)
	}
	recs := sim.Imports()
	if len(recs) != 1 {
		t.Fatalf("simulator recorded %d imports, want 1: %+v", len(recs), recs)
	}
	r := recs[0]
	if r.JobID != imp.JobUUID || r.Source != xcheckSource || r.Assets != 2 || r.Error != "" ||
		len(r.Created) != 1 || !slices.Equal(r.Updated, []string{imp.UpdateTarget}) {
		t.Fatalf("import record %+v: want job %s, 1 asset created and %s (FQDN %s) updated",
			r, imp.JobUUID, imp.UpdateTarget, imp.UpdateFQDN)
	}
	if !slices.Equal(imp.NewAssetIDs, r.Created) {
		t.Errorf("pyTenable found the imported FQDN on assets %v, the simulator created %v", imp.NewAssetIDs, r.Created)
	}
	want := slices.Sorted(slices.Values([]string{r.Created[0], r.Updated[0]}))
	if !slices.Equal(imp.IDsWithSource, want) {
		t.Errorf("assets with source %s in pyTenable's export after the import: %v, want %v", xcheckSource, imp.IDsWithSource, want)
	}
	if before, after := exports["assets_v1"].Count, exports["assets_after_import"].Count; after != before+1 {
		t.Errorf("asset export had %d assets before the import and %d after, want one more", before, after)
	}
	t.Logf("import job %s COMPLETE after %d polls: created %v, updated %v", imp.JobUUID, imp.Polls, r.Created, r.Updated)
}

func pyTenableFaults(t *testing.T, py, url string, sim *Server, capt *xcheckCapture) {
	before := sim.Stats()
	// pyTenable survives both: restfly retries 429 after Retry-After seconds,
	// and a body cut short of its Content-Length fails in the HTTP library,
	// which restfly retries as a connection error. It does not retry 500, and
	// it gives up on a chunk that stays undecodable (returning no records for
	// it with only a warning), so neither is injected here.
	sim.SetFaults(Faults{Rate429: 0.2, RetryAfterSeconds: 1, TruncateChunks: 2})
	t.Cleanup(func() { sim.SetFaults(Faults{}) })
	res := runPyTenable(t, py, url, "faults", "--num-assets", "50")
	left := sim.Faults()
	sim.SetFaults(Faults{})

	if len(res.Exports) != 1 {
		t.Fatalf("pyTenable reported %d exports, want 1", len(res.Exports))
	}
	e := res.Exports[0]
	c, ok := capt.export(e.ExportUUID)
	if !ok || c.kind != TruthVulns {
		t.Fatalf("export %s: not a vulns export the test saw created (%+v)", e.ExportUUID, c)
	}
	if len(c.truth.Keys) == 0 {
		t.Fatal("the truth is empty, the comparison would prove nothing")
	}
	compareKeys(t, "vulns_faults", e.Count, e.Keys, c.truth)
	t.Logf("vulns_faults %d records in %.2fs, body %s", e.Count, e.Seconds, c.body)

	if left.TruncateChunks != 0 {
		t.Errorf("%d truncated chunk downloads were never served; the export had too few chunks", left.TruncateChunks)
	}
	after := sim.Stats()
	served429 := 0
	for route, byStatus := range after.Requests {
		for code, n := range byStatus {
			n -= before.Requests[route][code]
			switch {
			case n == 0 || code < 400:
			case code == http.StatusTooManyRequests:
				served429 += n
			default:
				t.Errorf("%s answered %d %d times", route, code, n)
			}
		}
	}
	if served429 == 0 {
		t.Error("no 429 was served; the fault run proved nothing about retries")
	}
	if after.MaxRetryCount < 1 {
		t.Errorf("pyTenable never sent X-Tio-Retry-Count (max %d)", after.MaxRetryCount)
	}
	for _, w := range res.LogWarnings {
		if strings.Contains(w.Message, "empty chunk") || strings.Contains(w.Message, "invalid chunk") {
			t.Errorf("pyTenable dropped or re-read a chunk: %s", w.Message)
		}
	}
	transportRetries := 0
	for _, w := range res.LogWarnings {
		if strings.Contains(w.Message, "IncompleteRead") {
			transportRetries++
		}
	}
	t.Logf("served %d 429s and %d truncated chunks; pyTenable logged %d warnings (%d transport-error retries), script %.2fs",
		served429, 2-left.TruncateChunks, len(res.LogWarnings), transportRetries, res.Seconds)
}

// ---- running the Python side ----

// pyTenablePython returns the interpreter named by TVMKAFKA_TEST_PYTHON (the
// Makefile exports the virtualenv's, after make py-deps) once it has imported
// pyTenable. Without it the test is skipped, except in CI, where it must run.
func pyTenablePython(t *testing.T) string {
	t.Helper()
	unusable := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...)
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s (CI=true: the pyTenable cross-check must run; make py-deps)", msg)
		}
		t.Skipf("%s; run the tests through make (make py-deps) or set it to a Python with pyTenable 1.9.1", msg)
	}
	py := os.Getenv("TVMKAFKA_TEST_PYTHON")
	if py == "" {
		unusable("TVMKAFKA_TEST_PYTHON is not set")
	}
	if _, err := os.Stat(py); err != nil {
		unusable("TVMKAFKA_TEST_PYTHON=%q: %v", py, err)
	}
	// Importing tenable.io also catches a broken install: pyTenable 1.9.1
	// declares restfly>=1.5.1 but imports restfly 1.x APIs (APISession,
	// restfly.errors) that restfly 2 removed, so restfly must be pinned to 1.x.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, py, "-c", "import tenable, tenable.io; print(tenable.__version__)").CombinedOutput()
	if err != nil {
		unusable("%s cannot import pyTenable: %v\n%s\n", py, err, bytes.TrimSpace(out))
	}
	t.Logf("pyTenable %s (%s)", strings.TrimSpace(string(out)), py)
	return py
}

type pyExport struct {
	Name       string            `json:"name"`
	ExportUUID string            `json:"export_uuid"`
	Status     string            `json:"status"`
	Count      int               `json:"count"`
	Keys       []json.RawMessage `json:"keys"`
	Seconds    float64           `json:"seconds"`
}

type pyPlugins struct {
	Name       string            `json:"name"`
	Count      int               `json:"count"`
	TotalCount int               `json:"total_count"`
	Keys       []json.RawMessage `json:"keys"`
	Seconds    float64           `json:"seconds"`
}

type pyImport struct {
	JobUUID       string         `json:"job_uuid"`
	Job           map[string]any `json:"job"`
	Polls         int            `json:"polls"`
	Source        string         `json:"source"`
	UpdateTarget  string         `json:"update_target"`
	UpdateFQDN    string         `json:"update_fqdn"`
	NewAssetIDs   []string       `json:"new_asset_ids"`
	IDsWithSource []string       `json:"ids_with_source"`
}

type pyResult struct {
	Scenario         string      `json:"scenario"`
	PyTenableVersion string      `json:"pytenable_version"`
	Seconds          float64     `json:"seconds"`
	Exports          []pyExport  `json:"exports"`
	Plugins          []pyPlugins `json:"plugins"`
	Import           *pyImport   `json:"import"`
	LogWarnings      []struct {
		Logger  string `json:"logger"`
		Level   string `json:"level"`
		Message string `json:"message"`
	} `json:"log_warnings"`
}

// runPyTenable runs testdata/pytenable_check.py against url and decodes its
// report; on any failure it shows the script's stderr.
func runPyTenable(t *testing.T, py, url string, args ...string) pyResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), pyTenableTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, append([]string{filepath.Join("testdata", "pytenable_check.py")}, args...)...)
	cmd.Env = append(os.Environ(), "TIO_URL="+url, "TIO_ACCESS_KEY="+xcheckAccessKey, "TIO_SECRET_KEY="+xcheckSecretKey,
		"NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost", "PYTHONDONTWRITEBYTECODE=1")
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	elapsed := time.Since(start)
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (after %s: %w)", err, elapsed.Round(time.Millisecond), ctx.Err())
		}
		t.Fatalf("pytenable_check.py %s: %v\nstderr:\n%s", strings.Join(args, " "), err, stderr.String())
	}
	var res pyResult
	dec := json.NewDecoder(&stdout)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&res); err != nil {
		t.Fatalf("pytenable_check.py %s: stdout is not its JSON report: %v\nstdout:\n%.2000s\nstderr:\n%s",
			args[0], err, stdout.String(), stderr.String())
	}
	if rest, _ := io.ReadAll(dec.Buffered()); len(bytes.TrimSpace(rest)) > 0 || len(bytes.TrimSpace(stdout.Bytes())) > 0 {
		t.Fatalf("pytenable_check.py %s printed more than its JSON report: %.500s%.500s", args[0], rest, stdout.Bytes())
	}
	if res.Scenario != args[0] {
		t.Fatalf("pytenable_check.py ran scenario %q, want %q", res.Scenario, args[0])
	}
	t.Logf("pytenable_check.py %s: %s (pyTenable %s)", args[0], elapsed.Round(time.Millisecond), res.PyTenableVersion)
	return res
}

// compareKeys asserts that pyTenable yielded each record of the truth exactly once.
func compareKeys(t *testing.T, what string, count int, keys []json.RawMessage, truth Truth) {
	t.Helper()
	got, want := keyStrings(keys), keyStrings(truth.Keys)
	if count != len(got) {
		t.Errorf("%s: pyTenable counted %d records but listed %d keys", what, count, len(got))
	}
	if truth.Count != len(want) {
		t.Errorf("%s: truth counts %d records but lists %d keys", what, truth.Count, len(want))
	}
	seen := map[string]int{}
	for _, k := range got {
		seen[k]++
	}
	var dups []string
	for k, n := range seen {
		if n > 1 {
			dups = append(dups, fmt.Sprintf("%s ×%d", k, n))
		}
	}
	if len(dups) > 0 {
		slices.Sort(dups)
		t.Errorf("%s: pyTenable yielded %d records more than once: %s", what, len(dups), firstFew(dups))
	}
	wantSet := map[string]bool{}
	for _, k := range want {
		wantSet[k] = true
	}
	var missing, extra []string
	for k := range wantSet {
		if seen[k] == 0 {
			missing = append(missing, k)
		}
	}
	for k := range seen {
		if !wantSet[k] {
			extra = append(extra, k)
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	if len(missing) > 0 || len(extra) > 0 || len(got) != len(want) {
		t.Errorf("%s: pyTenable got %d records, truth has %d; missing %d: %s; unexpected %d: %s",
			what, len(got), len(want), len(missing), firstFew(missing), len(extra), firstFew(extra))
	}
}

func firstFew(ss []string) string {
	if len(ss) > 5 {
		return strings.Join(ss[:5], ", ") + ", …"
	}
	return strings.Join(ss, ", ")
}

// num reads a JSON number (float64 after decoding into any); anything else is -1.
func num(v any) float64 {
	if f, ok := v.(float64); ok {
		return f
	}
	return -1
}

// ---- capturing what pyTenable sends ----

// xcheckCapture wraps the simulator's handler and records what pyTenable asked
// for: each accepted export with the exact body pyTenable sent and the truth
// for it, the plugin queries with their truth, and the import bodies. The
// truth is taken while pyTenable still waits for the answer to its POST, so
// it describes the same tenant as the export's snapshot even when a later
// import changes the tenant.
type xcheckCapture struct {
	sim  *Server
	next http.Handler

	mu        sync.Mutex
	exports   map[string]capturedExport // by export_uuid
	plugTruth map[string]Truth          // by last_updated
	plugQs    []string
	imports   [][]byte
}

type capturedExport struct {
	kind  string
	body  []byte
	truth Truth
}

var xcheckExportPaths = map[string]string{
	"/assets/export": TruthAssets, "/assets/v2/export": TruthAssetsV2,
	"/vulns/export": TruthVulns, "/compliance/export": TruthCompliance,
}

func newXcheckCapture(sim *Server) *xcheckCapture {
	return &xcheckCapture{sim: sim, next: sim.Handler(), exports: map[string]capturedExport{}, plugTruth: map[string]Truth{}}
}

func (c *xcheckCapture) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodPost && xcheckExportPaths[r.URL.Path] != "":
		c.serveExportCreate(w, r, xcheckExportPaths[r.URL.Path])
		return
	case r.Method == http.MethodPost && r.URL.Path == "/import/assets":
		body, ok := readBody(w, r)
		if !ok {
			return
		}
		c.mu.Lock()
		c.imports = append(c.imports, body)
		c.mu.Unlock()
	case r.Method == http.MethodGet && r.URL.Path == "/plugins/plugin":
		lu := r.URL.Query().Get("last_updated")
		c.mu.Lock()
		c.plugQs = append(c.plugQs, r.URL.Query().Encode())
		_, known := c.plugTruth[lu]
		c.mu.Unlock()
		if !known {
			truth, err := c.sim.Truth(TruthPlugins, mustJSON(map[string]string{"last_updated": lu}))
			if err != nil {
				http.Error(w, "cross-check: plugin truth: "+err.Error(), http.StatusInternalServerError)
				return
			}
			c.mu.Lock()
			c.plugTruth[lu] = truth
			c.mu.Unlock()
		}
	}
	c.next.ServeHTTP(w, r)
}

func (c *xcheckCapture) serveExportCreate(w http.ResponseWriter, r *http.Request, kind string) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	rec := httptest.NewRecorder()
	c.next.ServeHTTP(rec, r)
	if rec.Code == http.StatusOK {
		var resp struct {
			ExportUUID string `json:"export_uuid"`
		}
		err := json.Unmarshal(rec.Body.Bytes(), &resp)
		var truth Truth
		if err == nil {
			truth, err = c.sim.Truth(kind, body)
		}
		if err != nil {
			// A 500 is the one answer pyTenable does not retry: the test fails loudly.
			http.Error(w, "cross-check: "+err.Error(), http.StatusInternalServerError)
			return
		}
		c.mu.Lock()
		c.exports[resp.ExportUUID] = capturedExport{kind: kind, body: body, truth: truth}
		c.mu.Unlock()
	}
	maps.Copy(w.Header(), rec.Header())
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// readBody reads the request body and puts it back for the simulator.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "cross-check: read body: "+err.Error(), http.StatusBadRequest)
		return nil, false
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, true
}

func (c *xcheckCapture) export(uuid string) (capturedExport, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.exports[uuid]
	return e, ok
}

func (c *xcheckCapture) plugins(lastUpdated string) (Truth, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.plugTruth[lastUpdated]
	return t, ok
}

func (c *xcheckCapture) pluginQueries() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.plugQs)
}

func (c *xcheckCapture) importBodies() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.imports)
}
