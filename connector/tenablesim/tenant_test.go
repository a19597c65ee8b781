package tenablesim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestImport(t *testing.T) {
	f := newFixture(t, Config{Assets: 100, ImportLatency: 50 * time.Millisecond})
	existing := f.sim.t.assets[3]
	bad := []struct {
		body string
		want int
		msg  string
	}{
		{`{"source":"cmdb","assets":[{"fqdn":["a.example.com"]},{"hostname":["x"]}]}`, 400, "assets[1]"},
		{`{"source":"cmdb","assets":[{"fqdn":["a.example.com"],"colour":"blue"}]}`, 400, "colour"},
		{`{"source":"cmdb","assets":[{"fqdn":"a.example.com"}]}`, 400, "fqdn"},
		{`{"source":"cmdb","assets":[{"ipv4":["10.1.1.1"],"netbios_name":["X"]}]}`, 400, "netbios_name"},
		{`{"source":"cmdb","assets":[{"servicenow_sysid":"abc","ipv4":["10.1.1.1"]}]}`, 400, "servicenow_sysid"},
		{fmt.Sprintf(`{"source":"cmdb","assets":[{"mac_address":%s}]}`, mustJSON(slices.Repeat([]string{"00:11:22:33:44:55"}, 101))), 400, "mac_address"},
		{`{"assets":[{"fqdn":["a.example.com"]}]}`, 400, "source"},
		{`{"source":"cmdb","assets":[]}`, 400, "assets"},
		{`{"source":"cmdb","assets":[{"fqdn":["a.example.com"]}],"extra":1}`, 400, "extra"},
	}
	for _, tc := range bad {
		r := f.do("POST", "/import/assets", tc.body)
		if r.status != tc.want || !strings.Contains(string(r.body), tc.msg) {
			t.Errorf("import %.70s: %d %s, want %d naming %q", tc.body, r.status, r.body, tc.want, tc.msg)
		}
	}
	big := `{"source":"cmdb","assets":[{"fqdn":["` + strings.Repeat("a", 5_000_000) + `"]}]}`
	if r := f.do("POST", "/import/assets", big); r.status != 413 || r.json(t)["statusCode"] != 413.0 {
		t.Errorf("oversized import: %d %s", r.status, r.body)
	}

	body := fmt.Sprintf(`{"source":"cmdb","assets":[
		{"fqdn":["new-host.example.com"],"ipv4":["10.250.1.9"],"operating_system":["Linux"],"servicenow_sys_id":"0123456789abcdef0123456789abcdef"},
		{"ipv4":[%q],"hostname":["renamed"],"installed_software":["cpe:/a:vendor:product:1.0"]}]}`, existing.ipv4s[0])
	r := f.do("POST", "/import/assets", body)
	if r.status != 200 {
		t.Fatalf("import: %d %s", r.status, r.body)
	}
	jobID := r.json(t)["asset_import_job_uuid"].(string)
	job := f.do("GET", "/import/asset-jobs/"+jobID, "").json(t)
	if job["status"] != "IN_PROGRESS" || job["end_time"] != job["start_time"] || job["start_time"] != float64(f.sim.Now().UnixMilli()) {
		t.Fatalf("new import job %v", job)
	}
	waitFor(t, "import COMPLETE", func() bool { return f.do("GET", "/import/asset-jobs/"+jobID, "").json(t)["status"] == "COMPLETE" })
	job = f.do("GET", "/import/asset-jobs/"+jobID, "").json(t)
	if job["uploaded_assets"] != 2.0 || job["failed_assets"] != 0.0 || job["source"] != "cmdb" {
		t.Errorf("completed job %v", job)
	}
	var list struct {
		Jobs []map[string]any `json:"asset_import_jobs"`
	}
	if err := json.Unmarshal(f.do("GET", "/import/asset-jobs", "").body, &list); err != nil || len(list.Jobs) != 1 {
		t.Fatalf("job list %v %v", err, list)
	}

	// The imported assets appear in a later export, with the source.
	recs := f.records("assets", f.export("assets", `{"chunk_size":100,"filters":{"sources":["cmdb"]}}`))
	if len(recs) != 2 {
		t.Fatalf("%d assets with source cmdb, want 2", len(recs))
	}
	byID := map[string]map[string]any{}
	for _, rec := range recs {
		m := decode(t, rec)
		byID[m["id"].(string)] = m
		if !slices.ContainsFunc(m["sources"].([]any), func(s any) bool { return s.(map[string]any)["name"] == "cmdb" }) {
			t.Errorf("asset %s lacks source cmdb", m["id"])
		}
		if m["updated_at"] != isoMillis(f.sim.t.now) {
			t.Errorf("updated_at %v, want the tenant clock", m["updated_at"])
		}
	}
	upd := byID[existing.id]
	if upd == nil || !slices.Contains(upd["hostnames"].([]any), any("renamed")) || len(upd["sources"].([]any)) < 2 {
		t.Fatalf("existing asset not merged: %v", upd)
	}
	imp := f.sim.Imports()
	if len(imp) != 1 || len(imp[0].Created) != 1 || len(imp[0].Updated) != 1 || imp[0].Updated[0] != existing.id {
		t.Fatalf("imports %+v", imp)
	}
	created := byID[imp[0].Created[0]]
	if created["servicenow_sysid"] != "0123456789abcdef0123456789abcdef" || created["has_plugin_results"] != false {
		t.Errorf("created asset %v", created)
	}

	// Mixing cloud providers is accepted, then the job fails.
	r = f.do("POST", "/import/assets", `{"source":"clouds","assets":[{"fqdn":["a.example.com"],"aws_ec2_instance_id":"i-1"},{"fqdn":["b.example.com"],"azure_vm_id":"x"}]}`)
	if r.status != 200 {
		t.Fatalf("mixed import: %d %s", r.status, r.body)
	}
	jobID = r.json(t)["asset_import_job_uuid"].(string)
	waitFor(t, "import ERROR", func() bool { return f.do("GET", "/import/asset-jobs/"+jobID, "").json(t)["status"] == "ERROR" })
	job = f.do("GET", "/import/asset-jobs/"+jobID, "").json(t)
	if msg, _ := job["status_message"].(string); !strings.Contains(msg, "separately") || job["failed_assets"] != 2.0 {
		t.Errorf("mixed-cloud job %v", job)
	}
	if st := f.sim.Stats(); st.Imports != 2 || st.ImportBodyBytesMax <= 5_000_000 {
		t.Errorf("import stats %+v", st)
	}
}

func TestAdvanceDeterminism(t *testing.T) {
	cfg := Config{Assets: 120, Seed: 11, AccessKey: "AK", SecretKey: "SK"}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := New(cfg)
	cfg.Seed = 12
	c, _ := New(cfg)
	bodies := map[string]string{
		TruthAssets: `{"chunk_size":100,"include_records":true}`, TruthAssetsV2: `{"chunk_size":100,"include_records":true}`,
		TruthVulns: `{"filters":{"since":1},"include_records":true}`, TruthCompliance: `{"include_records":true}`,
		TruthPlugins: `{"last_updated":"2020-01-01","include_records":true}`,
	}
	records := func(s *Server) map[string][]byte {
		out := map[string][]byte{}
		for kind, body := range bodies {
			tr, err := s.Truth(kind, []byte(body))
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(tr.Records) || tr.Count == 0 {
				t.Fatalf("%s truth records invalid or empty", kind)
			}
			out[kind] = tr.Records
		}
		return out
	}
	before := records(a)
	same(t, "before Advance", before, records(b), true)
	same(t, "different seeds", before, records(c), false)
	sa, err := a.Advance(24 * time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	sb, _ := b.Advance(24 * time.Hour)
	if sa.AssetsRescanned == 0 || sa.FindingsFixed == 0 || sa.FindingsNew == 0 || sa.FindingsSeen == 0 || len(sa.ChangedAssets) == 0 || sa.PluginsUpdated == 0 {
		t.Errorf("a day changed too little: %+v", summaryCounts(sa))
	}
	if !slices.Equal(sa.ChangedAssets, sb.ChangedAssets) || summaryCounts(sa) != summaryCounts(sb) {
		t.Fatal("Advance summaries differ between equal tenants")
	}
	after := records(a)
	same(t, "after Advance", after, records(b), true)
	if bytes.Equal(after[TruthVulns], before[TruthVulns]) {
		t.Error("Advance changed no vuln record")
	}
	if !a.Now().Equal(DefaultStart.Add(24 * time.Hour)) {
		t.Errorf("clock %s", a.Now())
	}
	// The same export over HTTP gives the same bytes on both tenants.
	fa, fb := &fixture{t: t, sim: a}, &fixture{t: t, sim: b}
	for _, fx := range []*fixture{fa, fb} {
		fx.srv = newTestHTTP(t, fx.sim)
	}
	ua, ub := fa.export("vulns", `{"num_assets":100,"filters":{"since":1}}`), fb.export("vulns", `{"num_assets":100,"filters":{"since":1}}`)
	fa.waitStatus("vulns", ua, "FINISHED")
	fb.waitStatus("vulns", ub, "FINISHED")
	if ca, cb := fa.do("GET", "/vulns/export/"+ua+"/chunks/1", ""), fb.do("GET", "/vulns/export/"+ub+"/chunks/1", ""); !bytes.Equal(ca.body, cb.body) || len(ca.body) < 1000 {
		t.Error("HTTP chunks differ between equal tenants")
	}
	// Every finding still satisfies first_found <= last_found and the FIXED rules.
	for _, as := range a.t.assets {
		for _, fd := range as.findings {
			if fd.firstFound > fd.lastFound || fd.indexed < fd.eventTime() ||
				fd.state == stateFixed && fd.lastFixed == 0 || fd.state == stateReopened && fd.resurfaced == 0 {
				t.Fatalf("inconsistent finding %+v", fd)
			}
		}
	}
	if _, err := a.Advance(0); err == nil {
		t.Error("Advance(0) accepted")
	}
}

type counts struct{ r, n, d, te, fs, fn, ff, fr, p, c int }

func summaryCounts(s AdvanceSummary) counts {
	return counts{s.AssetsRescanned, s.AssetsNew, s.AssetsDeleted, s.AssetsTerminated, s.FindingsSeen, s.FindingsNew, s.FindingsFixed, s.FindingsReopened, s.PluginsUpdated, s.ComplianceChanged}
}

func same(t *testing.T, what string, x, y map[string][]byte, want bool) {
	t.Helper()
	for kind := range bodiesOrder(x) {
		if got := bytes.Equal(x[kind], y[kind]); got != want {
			t.Errorf("%s: %s records equal = %v, want %v", what, kind, got, want)
		}
	}
}

func bodiesOrder(m map[string][]byte) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}

// sample loads a payload from testdata.
func sample(t *testing.T, name string) json.RawMessage {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Payload json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s.Payload
}

func keysOf(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestRecordShapes(t *testing.T) {
	f := newFixture(t, Config{Assets: 200})
	// v1 assets: every key of the documented example, null-valued keys kept.
	var v1Sample []map[string]any
	_ = json.Unmarshal(sample(t, "openapi-asset-export-v1-chunk-example.json"), &v1Sample)
	v1 := f.records("assets", f.export("assets", `{"chunk_size":100,"include_open_ports":true,"include_resource_tags":true}`))
	sawNull, sawCloud := false, false
	for _, rec := range v1 {
		m := decode(t, rec)
		for _, k := range keysOf(v1Sample[0]) {
			if _, ok := m[k]; !ok {
				t.Fatalf("v1 asset lacks %s", k)
			}
		}
		if m["terminated_at"] == nil && m["azure_vm_id"] == nil {
			sawNull = true
		}
		if m["aws_ec2_instance_id"] != nil {
			sawCloud = true
			if len(m["resource_tags"].([]any)) == 0 {
				t.Error("cloud asset without resource_tags")
			}
		}
		for _, k := range []string{"ipv4s", "fqdns", "sources", "tags", "network_interfaces", "open_ports"} {
			if _, ok := m[k].([]any); !ok {
				t.Fatalf("v1 %s is not an array: %v", k, m[k])
			}
		}
	}
	if !sawNull || !sawCloud {
		t.Errorf("v1 records: null keys %v, cloud %v", sawNull, sawCloud)
	}
	// v2 assets: nested, empties omitted.
	for _, rec := range f.records("assets-v2", f.export("assets-v2", `{"chunk_size":100}`)) {
		m := decode(t, rec)
		for _, k := range []string{"id", "types", "network", "timestamps"} {
			if _, ok := m[k]; !ok {
				t.Fatalf("v2 asset lacks %s", k)
			}
		}
		if _, ok := m["ipv4s"]; ok {
			t.Fatal("v2 asset has flat ipv4s")
		}
		assertNoEmpties(t, "v2 asset", m)
	}
	// Vulns: asset fields are single strings, empties omitted, documented keys.
	var vSample []map[string]any
	_ = json.Unmarshal(sample(t, "openapi-vuln-export-chunk-example.json"), &vSample)
	uuid := f.export("vulns", `{"filters":{"since":1}}`)
	st := f.waitStatus("vulns", uuid, "FINISHED")
	r := f.do("GET", fmt.Sprintf("/vulns/export/%s/chunks/%d", uuid, ints(st["chunks_available"])[0]), "")
	if r.header.Get("Content-Type") != "application/octet-stream" {
		t.Errorf("vuln chunk Content-Type %q", r.header.Get("Content-Type"))
	}
	var vrecs []map[string]any
	if err := json.Unmarshal(r.body, &vrecs); err != nil {
		t.Fatal(err)
	}
	states := map[string]bool{}
	for _, m := range vrecs {
		a := m["asset"].(map[string]any)
		for _, k := range []string{"uuid", "ipv4", "fqdn", "hostname", "mac_address", "netbios_name", "device_type", "network_id"} {
			if v, ok := a[k]; ok {
				if _, isStr := v.(string); !isStr {
					t.Fatalf("vuln asset.%s is %T, want a string", k, v)
				}
			}
		}
		if _, ok := a["operating_system"].([]any); a["operating_system"] != nil && !ok {
			t.Fatal("vuln asset.operating_system is not an array")
		}
		for k := range m {
			if _, ok := vSample[0][k]; !ok && k != "last_fixed" && k != "recast_reason" && k != "recast_rule_uuid" {
				t.Fatalf("undocumented vuln key %s", k)
			}
		}
		p := m["plugin"].(map[string]any)
		for k := range p {
			if _, ok := vSample[0]["plugin"].(map[string]any)[k]; !ok && k != "metasploit_name" {
				t.Fatalf("undocumented plugin key %s", k)
			}
		}
		states[m["state"].(string)] = true
		assertNoEmpties(t, "vuln record", m)
		if m["state"] == "FIXED" && (m["last_fixed"] == nil || m["time_taken_to_fix"] == nil) {
			t.Fatal("FIXED without last_fixed / time_taken_to_fix")
		}
		if m["state"] == "REOPENED" && m["resurfaced_date"] == nil {
			t.Fatal("REOPENED without resurfaced_date")
		}
		ff, _ := time.Parse(time.RFC3339, m["first_found"].(string))
		lf, _ := time.Parse(time.RFC3339, m["last_found"].(string))
		if ff.After(lf) {
			t.Fatal("first_found after last_found")
		}
	}
	if len(states) != 3 {
		t.Errorf("states seen %v", states)
	}
	// Compliance: the OA example's keys, asset sub-object named asset.
	var cSample []map[string]any
	_ = json.Unmarshal(sample(t, "openapi-compliance-export-chunk-example.json"), &cSample)
	for _, rec := range f.records("compliance", f.export("compliance", `{}`))[:50] {
		m := decode(t, rec)
		for _, k := range keysOf(cSample[0]) {
			if _, ok := m[k]; !ok && k != "last_fixed" && k != "db_type" && k != "uname_output" {
				t.Fatalf("compliance record lacks %s", k)
			}
		}
		for _, k := range keysOf(cSample[0]["asset"].(map[string]any)) {
			if _, ok := m["asset"].(map[string]any)[k]; !ok {
				t.Fatalf("compliance asset lacks %s", k)
			}
		}
	}
	// Plugins: the real envelope and attribute keys.
	var page map[string]any
	if err := json.Unmarshal(f.do("GET", "/plugins/plugin?last_updated=2019-01-01&size=400&page=1", "").body, &page); err != nil {
		t.Fatal(err)
	}
	var real map[string]any
	_ = json.Unmarshal(sample(t, "pytenable-cassette-plugins-list-page.json"), &real)
	if !slices.Equal(keysOf(page), keysOf(real)) || !slices.Equal(keysOf(page["params"].(map[string]any)), keysOf(real["params"].(map[string]any))) {
		t.Fatalf("plugin page keys %v vs %v", keysOf(page), keysOf(real))
	}
	attrsReal := real["data"].(map[string]any)["plugin_details"].([]any)[0].(map[string]any)["attributes"].(map[string]any)
	found := false
	for _, item := range page["data"].(map[string]any)["plugin_details"].([]any) {
		attrs := item.(map[string]any)["attributes"].(map[string]any)
		if attrs["cvss3_vector"] == nil || attrs["has_patch"] != true {
			continue
		}
		found = true
		for _, k := range keysOf(attrsReal) {
			if _, ok := attrs[k]; !ok {
				t.Errorf("plugin attributes lack %s", k)
			}
		}
		if v := attrs["cvss_vector"].(map[string]any); v["AccessVector"] == nil || v["Confidentiality-Impact"] == nil {
			t.Errorf("cvss_vector not in the CamelCase form: %v", v)
		}
		break
	}
	if !found {
		t.Error("no plugin with CVSS on the first page")
	}
}

// assertNoEmpties fails on null values, empty strings and empty arrays/objects.
func assertNoEmpties(t *testing.T, what string, v any) {
	t.Helper()
	switch x := v.(type) {
	case nil:
		t.Fatalf("%s has a null value", what)
	case string:
		if x == "" {
			t.Fatalf("%s has an empty string", what)
		}
	case []any:
		if len(x) == 0 {
			t.Fatalf("%s has an empty array", what)
		}
		for _, e := range x {
			assertNoEmpties(t, what, e)
		}
	case map[string]any:
		if len(x) == 0 {
			t.Fatalf("%s has an empty object", what)
		}
		for k, e := range x {
			assertNoEmpties(t, what+"."+k, e)
		}
	}
}

func TestPluginPaging(t *testing.T) {
	f := newFixture(t, Config{Assets: 20, Plugins: 250})
	want := truthKeys(t, f.sim, TruthPlugins, `{"last_updated":"2025-01-01"}`)
	if len(want) == 0 || len(want) == 250 {
		t.Fatalf("last_updated selects %d of 250", len(want))
	}
	var got []string
	for page := 1; ; page++ {
		var resp struct {
			Data struct {
				Details []struct {
					ID         int            `json:"id"`
					Attributes map[string]any `json:"attributes"`
				} `json:"plugin_details"`
			} `json:"data"`
			Total int `json:"total_count"`
		}
		r := f.do("GET", fmt.Sprintf("/plugins/plugin?last_updated=2025-01-01&size=40&page=%d", page), "")
		if err := json.Unmarshal(r.body, &resp); err != nil {
			t.Fatal(err)
		}
		if resp.Total != len(want) {
			t.Fatalf("total_count %d, truth %d", resp.Total, len(want))
		}
		for _, d := range resp.Data.Details {
			got = append(got, fmt.Sprint(d.ID))
			if d.Attributes["plugin_modification_date"].(string) < "2025-01-01" {
				t.Fatalf("plugin %d modified %v", d.ID, d.Attributes["plugin_modification_date"])
			}
		}
		if len(resp.Data.Details) < 40 {
			break
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paged %d plugins, truth %d", len(got), len(want))
	}
	if r := f.do("GET", "/plugins/plugin?last_updated=yesterday", ""); r.status != 400 {
		t.Errorf("bad last_updated: %d", r.status)
	}
}

func TestAdminAPI(t *testing.T) {
	f := newFixture(t, Config{Assets: 50})
	st := f.do("GET", "/_sim/state", "").json(t)
	if st["assets"].(map[string]any)["total"] != 50.0 {
		t.Fatalf("state %v", st)
	}
	tr := f.do("POST", "/_sim/truth/vulns", `{"filters":{"since":1}}`).json(t)
	if tr["count"].(float64) == 0 || len(tr["keys"].([]any)) != int(tr["count"].(float64)) {
		t.Fatalf("truth %v", tr)
	}
	if k := tr["keys"].([]any)[0].([]any); len(k) != 4 {
		t.Fatalf("vuln key %v", k)
	}
	if r := f.do("POST", "/_sim/truth/vulns", `{"filters":{"first_found":1}}`); r.status != 400 {
		t.Errorf("invalid truth body: %d", r.status)
	}
	if r := f.do("GET", "/_sim/truth/plugins?last_updated=2024-06-01", ""); r.status != 200 || r.json(t)["count"].(float64) == 0 {
		t.Errorf("plugin truth: %d %s", r.status, r.body)
	}
	adv := f.do("POST", "/_sim/advance", `{"duration":"36h"}`).json(t)
	if adv["step"] != 1.0 || f.sim.Now() != DefaultStart.Add(36*time.Hour) {
		t.Fatalf("advance %v", adv)
	}
	if r := f.do("POST", "/_sim/advance", `{"hours":12}`); r.status != 200 || !f.sim.Now().Equal(DefaultStart.Add(48*time.Hour)) {
		t.Fatalf("advance hours: %d", r.status)
	}
	if r := f.do("PUT", "/_sim/faults", `{"truncate_chunks":2,"slow_chunk_delay":"3s"}`); r.status != 200 {
		t.Fatalf("put faults: %d %s", r.status, r.body)
	}
	if got := f.do("GET", "/_sim/faults", "").json(t); got["truncate_chunks"] != 2.0 || got["slow_chunk_delay"] != "3s" {
		t.Fatalf("faults %v", got)
	}
	if r := f.do("PUT", "/_sim/faults", `{"rate_429":5}`); r.status != 400 {
		t.Errorf("invalid faults accepted: %d", r.status)
	}
	stats := f.do("GET", "/_sim/stats", "").json(t)
	if stats["requests"].(map[string]any)["GET /_sim/state"].(map[string]any)["200"] != 1.0 {
		t.Errorf("stats %v", stats["requests"])
	}
	if r := f.do("GET", "/_sim/imports", ""); r.status != 200 || string(r.body) != `{"imports":[]}` {
		t.Errorf("imports %d %s", r.status, r.body)
	}
}
