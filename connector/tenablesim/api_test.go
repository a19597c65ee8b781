package tenablesim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestAuth(t *testing.T) {
	f := newFixture(t, Config{})
	cases := []struct {
		name   string
		header string
		want   int
	}{
		{"missing", "", 401},
		{"wrong secret", "accessKey=AK; secretKey=nope;", 401},
		{"wrong access", "accessKey=XX;secretKey=SK", 401},
		{"garbage", "AK SK", 401},
		{"extra member", "accessKey=AK; secretKey=SK; other=1", 401},
		{"spaces and trailing semicolon", "accessKey=AK; secretKey=SK;", 200},
		{"no spaces", "accessKey=AK;secretKey=SK", 200},
		{"no spaces, trailing semicolon", "accessKey=AK;secretKey=SK;", 200},
		{"spaces, no trailing semicolon", "accessKey=AK; secretKey=SK", 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := f.do("GET", "/vulns/export/status", "", "X-ApiKeys", tc.header)
			if r.status != tc.want {
				t.Fatalf("status %d, want %d: %s", r.status, tc.want, r.body)
			}
			if r.header.Get("X-Request-Uuid") == "" {
				t.Error("no X-Request-Uuid header")
			}
			if got := r.header.Get("Date"); got != "Mon, 05 Jan 2026 00:00:00 GMT" {
				t.Errorf("Date %q, want the tenant clock", got)
			}
			if tc.want == 401 && string(r.body) != `{"statusCode":401,"error":"Unauthorized","message":"Invalid credentials."}` {
				t.Errorf("401 body %s", r.body)
			}
		})
	}
	if r := f.do("GET", "/_sim/state", "", "X-ApiKeys", ""); r.status != 200 {
		t.Errorf("admin API needs no keys, got %d", r.status)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{AccessKey: "AK"},
		{AccessKey: "AK", SecretKey: "SK", Assets: -1},
		{AccessKey: "AK", SecretKey: "SK", Plugins: 10},
		{AccessKey: "AK", SecretKey: "SK", QueueLatency: -time.Second},
		{AccessKey: "AK", SecretKey: "SK", Faults: Faults{Rate429: 2}},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted an invalid config", cfg)
		}
	}
}

func truthKeys(t *testing.T, s *Server, kind, body string) []string {
	t.Helper()
	tr, err := s.Truth(kind, []byte(body))
	if err != nil {
		t.Fatalf("Truth(%s, %s): %v", kind, body, err)
	}
	if tr.Count != len(tr.Keys) {
		t.Fatalf("truth count %d != %d keys", tr.Count, len(tr.Keys))
	}
	return keyStrings(tr.Keys)
}

func TestFiltersMatchTruth(t *testing.T) {
	f := newFixture(t, Config{Assets: 120, Seed: 3})
	s := f.sim
	now := s.Now().Unix()
	week := now - 7*86400
	someAsset := s.t.assets[5]
	cloud := ""
	for _, a := range s.t.assets {
		if a.cloud == cloudAWS && a.live() {
			cloud = a.id
			break
		}
	}
	if cloud == "" {
		t.Fatal("the tenant should have a live AWS asset")
	}
	// Values for the filters that name one thing: a finding's scan and an
	// asset with compliance results and IPv6 addresses.
	var scan string
	var compAsset *asset
	for _, a := range s.t.assets {
		if a.live() && a.isLicensed && len(a.findings) > 0 && scan == "" {
			f := &a.findings[len(a.findings)/2]
			scan = scanUUID(s.w, int(f.sched), f.eventTime())
		}
		if a.live() && len(a.compliance) > 0 && len(a.ipv6s) > 0 && len(a.ipv4s) > 0 && compAsset == nil {
			compAsset = a
		}
	}
	if scan == "" || compAsset == nil {
		t.Fatal("the tenant should have findings and an asset with compliance results and IPv6 addresses")
	}
	var tagged *asset
	for _, a := range s.t.assets {
		if len(a.tags) > 1 && a.live() {
			tagged = a
			break
		}
	}
	tag := s.w.tagDefs[tagged.tags[0].def]
	tag2 := s.w.tagDefs[tagged.tags[1].def]
	var plugin *plugin
	for _, a := range s.t.assets {
		for _, fd := range a.findings {
			if p := s.t.plugins[fd.plugin]; p.sev >= 3 {
				plugin = p
			}
		}
		if plugin != nil {
			break
		}
	}
	cidr := someAsset.ipv4s[0][:strings.LastIndex(someAsset.ipv4s[0], ".")] + ".0/24"

	type check func(m map[string]any) bool
	str := func(m map[string]any, path ...string) string {
		var v any = m
		for _, p := range path {
			mm, ok := v.(map[string]any)
			if !ok {
				return ""
			}
			v = mm[p]
		}
		s, _ := v.(string)
		return s
	}
	since := func(ts string, min int64) bool {
		tm, err := time.Parse(time.RFC3339, ts)
		return err == nil && tm.Unix() >= min
	}
	cases := []struct {
		name, kind, body string
		check            check // a check of every record's fields, when given
		selective        bool  // the filter must drop something
	}{
		{"assets all", "assets", `{"chunk_size":100}`, func(m map[string]any) bool { return m["deleted_at"] == nil && m["terminated_at"] == nil }, false},
		{"assets updated_at", "assets", fmt.Sprintf(`{"chunk_size":100,"filters":{"updated_at":%d}}`, week), func(m map[string]any) bool { return since(m["updated_at"].(string), week) }, true},
		{"assets created_at", "assets", fmt.Sprintf(`{"chunk_size":100,"filters":{"created_at":%d}}`, now-200*86400), nil, true},
		{"assets is_deleted", "assets", `{"chunk_size":100,"filters":{"is_deleted":true}}`, func(m map[string]any) bool { return m["deleted_at"] != nil && m["deleted_by"] != nil }, true},
		{"assets deleted_at", "assets", `{"chunk_size":100,"filters":{"deleted_at":1}}`, func(m map[string]any) bool { return m["deleted_at"] != nil }, true},
		{"assets is_terminated", "assets", `{"chunk_size":100,"filters":{"is_terminated":true}}`, func(m map[string]any) bool { return m["terminated_at"] != nil }, true},
		{"assets terminated_at", "assets", `{"chunk_size":100,"filters":{"terminated_at":1}}`, func(m map[string]any) bool { return m["terminated_at"] != nil }, true},
		{"assets is_licensed false", "assets", `{"chunk_size":100,"filters":{"is_licensed":false}}`, nil, true},
		{"assets first_scan_time", "assets", fmt.Sprintf(`{"chunk_size":100,"filters":{"first_scan_time":%d}}`, now-100*86400), nil, true},
		{"assets last_authenticated_scan_time", "assets", fmt.Sprintf(`{"chunk_size":100,"filters":{"last_authenticated_scan_time":%d}}`, week), func(m map[string]any) bool { return m["last_authenticated_scan_date"] != nil }, true},
		{"assets last_assessed", "assets", fmt.Sprintf(`{"chunk_size":100,"filters":{"last_assessed":%d}}`, week), func(m map[string]any) bool { return since(m["last_scan_time"].(string), week) }, true},
		{"assets last_scan_id", "assets", fmt.Sprintf(`{"chunk_size":100,"filters":{"last_scan_id":%q}}`, lastScanID(s.w, someAsset)), func(m map[string]any) bool { return m["last_scan_id"] == lastScanID(s.w, someAsset) }, true},
		{"assets has_plugin_results", "assets", `{"chunk_size":100,"filters":{"has_plugin_results":true}}`, func(m map[string]any) bool { return m["has_plugin_results"] == true }, false},
		{"assets network_id", "assets", `{"chunk_size":100,"filters":{"network_id":"6b9a3c1e-8f0d-4c57-9b2a-1d7e5f3a9c40"}}`, func(m map[string]any) bool { return m["network_name"] == "DMZ" }, true},
		{"assets servicenow_sysid", "assets", `{"chunk_size":100,"filters":{"servicenow_sysid":true}}`, func(m map[string]any) bool { return m["servicenow_sysid"] != nil }, true},
		{"assets sources", "assets", `{"chunk_size":100,"filters":{"sources":["AWS","PVS"]}}`, func(m map[string]any) bool {
			return slices.ContainsFunc(m["sources"].([]any), func(x any) bool { n := x.(map[string]any)["name"]; return n == "AWS" || n == "PVS" })
		}, true},
		{"assets tag", "assets", fmt.Sprintf(`{"chunk_size":100,"filters":{"tag.%s":[%q]}}`, tag.key, tag.value), func(m map[string]any) bool {
			return slices.ContainsFunc(m["tags"].([]any), func(x any) bool { tm := x.(map[string]any); return tm["key"] == tag.key && tm["value"] == tag.value })
		}, true},
		{"assets tags AND", "assets", fmt.Sprintf(`{"chunk_size":100,"filters":{"tag.%s":[%q],"tag.%s":[%q,"nope"]}}`, tag.key, tag.value, tag2.key, tag2.value), func(m map[string]any) bool { return len(m["tags"].([]any)) >= 2 }, true},
		{"assets-v2 all", "assets-v2", `{"chunk_size":100}`, nil, false},
		{"assets-v2 since", "assets-v2", fmt.Sprintf(`{"chunk_size":100,"filters":{"since":%d}}`, now-3*86400), nil, true},
		{"assets-v2 types webapp", "assets-v2", `{"chunk_size":100,"filters":{"types":["webapp"]}}`, func(map[string]any) bool { return false }, false},
		{"vulns default window", "vulns", `{}`, nil, true},
		{"vulns since, all states", "vulns", `{"filters":{"since":1}}`, nil, false},
		{"vulns since state FIXED", "vulns", fmt.Sprintf(`{"filters":{"since":%d,"state":["fixed"]}}`, week), func(m map[string]any) bool { return m["state"] == "FIXED" && since(m["last_fixed"].(string), week) }, true},
		{"vulns since OPEN", "vulns", fmt.Sprintf(`{"filters":{"since":%d,"state":["OPEN","REOPENED"]}}`, week), func(m map[string]any) bool { return m["state"] != "FIXED" && since(m["last_found"].(string), week) }, true},
		{"vulns first_found", "vulns", fmt.Sprintf(`{"num_assets":50,"filters":{"first_found":%d,"state":["OPEN","REOPENED","FIXED"]}}`, now-60*86400), func(m map[string]any) bool { return since(m["first_found"].(string), now-60*86400) }, true},
		{"vulns last_seen alias", "vulns", fmt.Sprintf(`{"filters":{"last_seen":%d,"state":["OPEN"]}}`, week), func(m map[string]any) bool { return m["state"] == "OPEN" && since(m["last_found"].(string), week) }, true},
		{"vulns last_fixed", "vulns", fmt.Sprintf(`{"filters":{"last_fixed":%d,"state":["FIXED"]}}`, now-30*86400), func(m map[string]any) bool { return since(m["last_fixed"].(string), now-30*86400) }, true},
		{"vulns indexed_at", "vulns", fmt.Sprintf(`{"filters":{"indexed_at":%d}}`, week), func(m map[string]any) bool { return since(m["indexed"].(string), week) }, true},
		{"vulns severity", "vulns", `{"filters":{"since":1,"severity":["high","CRITICAL"]}}`, func(m map[string]any) bool { return m["severity"] == "high" || m["severity"] == "critical" }, true},
		{"vulns plugin_id", "vulns", fmt.Sprintf(`{"filters":{"since":1,"plugin_id":[%d]}}`, plugin.id), func(m map[string]any) bool { return int(m["plugin"].(map[string]any)["id"].(float64)) == plugin.id }, true},
		{"vulns plugin_family", "vulns", `{"filters":{"since":1,"plugin_family":["Port scanners"]}}`, func(m map[string]any) bool { return str(m, "plugin", "family") == "Port scanners" }, true},
		{"vulns plugin_type", "vulns", `{"filters":{"since":1,"plugin_type":"local"}}`, func(m map[string]any) bool { return str(m, "plugin", "type") == "local" }, true},
		{"vulns cidr_range", "vulns", fmt.Sprintf(`{"filters":{"since":1,"cidr_range":%q}}`, cidr), func(m map[string]any) bool { return strings.HasPrefix(str(m, "asset", "ipv4"), cidr[:len(cidr)-4]) }, true},
		{"vulns network_id", "vulns", `{"filters":{"since":1,"network_id":"d6797cf4-42b9-4cad-8591-9dd91c3f0fc3"}}`, func(m map[string]any) bool {
			return str(m, "asset", "network_id") == "d6797cf4-42b9-4cad-8591-9dd91c3f0fc3"
		}, true},
		{"vulns tag", "vulns", fmt.Sprintf(`{"filters":{"since":1,"tag.%s":[%q]}}`, tag.key, tag.value), nil, true},
		{"vulns source", "vulns", `{"filters":{"since":1,"source":["AGENT"]}}`, func(m map[string]any) bool { return m["source"] == "AGENT" }, true},
		{"vulns vpr_score", "vulns", `{"filters":{"since":1,"vpr_score":{"gte":7}}}`, func(m map[string]any) bool {
			v, _ := m["plugin"].(map[string]any)["vpr"].(map[string]any)
			return v != nil && v["score"].(float64) >= 7
		}, true},
		{"vulns cve_id", "vulns", fmt.Sprintf(`{"filters":{"since":1,"cve_id":[%q]}}`, plugin.cves[0]), func(m map[string]any) bool {
			return slices.Contains(m["plugin"].(map[string]any)["cve"].([]any), any(plugin.cves[0]))
		}, true},
		{"vulns include_unlicensed", "vulns", `{"include_unlicensed":true,"filters":{"since":1}}`, nil, false},
		{"vulns severity_modification_type", "vulns", `{"filters":{"since":1,"severity_modification_type":["RECASTED"]}}`, func(m map[string]any) bool {
			return m["severity_modification_type"] == "RECASTED" && m["recast_reason"] != nil
		}, true},
		{"vulns time_taken_to_fix", "vulns", `{"filters":{"since":1,"state":["FIXED"],"time_taken_to_fix":{"gte":604800}}}`, func(m map[string]any) bool { return m["state"] == "FIXED" }, true},
		{"compliance all", "compliance", `{}`, nil, false},
		{"compliance last_seen", "compliance", fmt.Sprintf(`{"filters":{"last_seen":%d}}`, week), func(m map[string]any) bool { return since(m["last_seen"].(string), week) }, true},
		{"compliance first_seen", "compliance", fmt.Sprintf(`{"filters":{"last_seen":1,"first_seen":%d}}`, now-90*86400), func(m map[string]any) bool { return since(m["first_seen"].(string), now-90*86400) }, true},
		{"compliance results", "compliance", `{"filters":{"compliance_results":["FAILED","WARNING"]}}`, func(m map[string]any) bool { return m["status"] == "FAILED" || m["status"] == "WARNING" }, true},
		{"compliance state", "compliance", `{"filters":{"state":["FIXED"]}}`, func(m map[string]any) bool { return m["state"] == "FIXED" && m["last_fixed"] != nil }, true},
		{"compliance plugin_id", "compliance", `{"filters":{"plugin_id":[21156]}}`, func(m map[string]any) bool { return m["plugin_id"].(float64) == 21156 }, true},
		{"compliance audit_file_name", "compliance", `{"filters":{"audit_file_name":"CIS_Ubuntu*"}}`, func(m map[string]any) bool { return strings.HasPrefix(m["audit_file"].(string), "CIS_Ubuntu") }, true},
		{"compliance tags", "compliance", fmt.Sprintf(`{"filters":{"tags":[{"category":%q,"values":[%q]}]}}`, tag.key, tag.value), nil, true},
		{"compliance since", "compliance", fmt.Sprintf(`{"filters":{"since":%d}}`, week), func(m map[string]any) bool { return since(m["indexed_at"].(string), week) }, true},

		{"assets is_licensed true", "assets", `{"chunk_size":100,"filters":{"is_licensed":true}}`, nil, true},
		{"assets is_deleted false", "assets", `{"chunk_size":100,"filters":{"is_deleted":false}}`, nil, false},
		{"assets is_terminated false", "assets", `{"chunk_size":100,"filters":{"is_terminated":false}}`, nil, false},
		{"assets has_plugin_results false", "assets", `{"chunk_size":100,"filters":{"has_plugin_results":false}}`, func(m map[string]any) bool { return m["has_plugin_results"] == false }, false},
		{"assets servicenow_sysid false", "assets", `{"chunk_size":100,"filters":{"servicenow_sysid":false}}`, func(m map[string]any) bool { return m["servicenow_sysid"] == nil }, true},
		{"assets sources AWS", "assets", `{"chunk_size":100,"filters":{"sources":["AWS"]}}`, nil, true},
		{"assets-v2 types host", "assets-v2", `{"chunk_size":100,"filters":{"types":["host"]}}`, nil, false},
		{"assets-v2 since and is_licensed", "assets-v2", fmt.Sprintf(`{"chunk_size":100,"filters":{"since":%d,"is_licensed":true}}`, now-10*86400), nil, true},
		{"vulns last_found", "vulns", fmt.Sprintf(`{"filters":{"last_found":%d,"state":["OPEN","REOPENED"]}}`, week), nil, true},
		{"vulns first_seen alias", "vulns", fmt.Sprintf(`{"filters":{"first_seen":%d,"state":["OPEN"]}}`, now-60*86400), nil, true},
		{"vulns resurfaced_date", "vulns", fmt.Sprintf(`{"filters":{"resurfaced_date":%d,"state":["OPEN","REOPENED","FIXED"]}}`, now-90*86400), nil, true},
		{"vulns time_taken_to_fix lte", "vulns", `{"filters":{"since":1,"state":["FIXED"],"time_taken_to_fix":{"lte":2592000}}}`, nil, true},
		{"vulns scan_uuid", "vulns", fmt.Sprintf(`{"filters":{"since":1,"scan_uuid":%q}}`, scan), nil, true},
		{"vulns vpr_score neq", "vulns", `{"filters":{"since":1,"vpr_score":{"neq":[6.7],"lt":8}}}`, nil, true},
		{"vulns vpr_score eq", "vulns", fmt.Sprintf(`{"filters":{"since":1,"vpr_score":{"eq":[%v,9.9]}}}`, plugin.vprScore), func(m map[string]any) bool {
			v, _ := m["plugin"].(map[string]any)["vpr"].(map[string]any)
			return v != nil && (v["score"] == plugin.vprScore || v["score"] == 9.9)
		}, true},
		{"vulns vpr_v2_score", "vulns", `{"filters":{"since":1,"vpr_v2_score":{"gt":5}}}`, nil, true},
		{"vulns cvss4_base_score", "vulns", `{"filters":{"since":1,"cvss4_base_score":{"gte":7,"lte":9}}}`, nil, true},
		{"vulns epss_score", "vulns", `{"filters":{"since":1,"epss_score":{"gte":1}}}`, nil, true},
		{"vulns epss_score low", "vulns", `{"filters":{"since":1,"epss_score":{"lt":0.5}}}`, nil, true},
		{"vulns exploit_maturity poc", "vulns", `{"filters":{"since":1,"exploit_maturity":["poc","unproven"]}}`, nil, true},
		{"vulns cve_category", "vulns", `{"filters":{"since":1,"cve_category":["cisa known exploitable","in the news"]}}`, nil, true},
		{"vulns exploit_maturity", "vulns", `{"filters":{"since":1,"exploit_maturity":["high","functional"]}}`, nil, true},
		{"vulns vpr_threat_intensity", "vulns", `{"filters":{"since":1,"vpr_threat_intensity":["very low","low"]}}`, nil, true},
		{"vulns include_unlicensed with tag", "vulns", fmt.Sprintf(`{"include_unlicensed":true,"filters":{"since":1,"tag.%s":[%q]}}`, tag.key, tag.value), nil, true},
		{"compliance asset", "compliance", fmt.Sprintf(`{"asset":[%q]}`, compAsset.id), func(m map[string]any) bool { return m["asset_uuid"] == compAsset.id }, true},
		{"compliance last_observed", "compliance", fmt.Sprintf(`{"filters":{"last_observed":%d}}`, week), nil, true},
		{"compliance indexed_at", "compliance", fmt.Sprintf(`{"filters":{"indexed_at":%d}}`, week), nil, true},
		{"compliance audit_name", "compliance", `{"filters":{"audit_name":"CIS Microsoft*"}}`, nil, true},
		{"compliance ipv4_addresses", "compliance", fmt.Sprintf(`{"filters":{"ipv4_addresses":[%q]}}`, compAsset.ipv4s[0]), nil, true},
		{"compliance ipv6_addresses", "compliance", fmt.Sprintf(`{"filters":{"ipv6_addresses":[%q]}}`, compAsset.ipv6s[0]), nil, true},
		{"compliance network_id", "compliance", fmt.Sprintf(`{"filters":{"network_id":%q}}`, networks[compAsset.network].id), nil, true},
		{"compliance state OPEN", "compliance", `{"filters":{"state":["open"],"compliance_results":["PASSED"]}}`, nil, true},
	}
	// Every filter the simulator implements is exercised by some case.
	used := map[string]bool{}
	for _, tc := range cases {
		var body struct {
			Filters map[string]any `json:"filters"`
		}
		if err := json.Unmarshal([]byte(tc.body), &body); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for k := range body.Filters {
			if strings.HasPrefix(k, "tag.") {
				k = "tag.*"
			}
			used[tc.kind+" "+k] = true
		}
		if strings.Contains(tc.body, `"asset":`) {
			used["compliance asset"] = true
		}
		if strings.Contains(tc.body, `"include_unlicensed":true`) {
			used["vulns include_unlicensed"] = true
		}
	}
	var unexercised []string
	for _, k := range append(slices.Clone(assetFilterNames), "tag.*") {
		if !used["assets "+k] {
			unexercised = append(unexercised, "assets "+k)
		}
	}
	for _, k := range []string{"since", "types"} {
		if !used["assets-v2 "+k] {
			unexercised = append(unexercised, "assets-v2 "+k)
		}
	}
	// Accepted but not modelled (nothing in the tenant carries them).
	ignored := []string{"weaponization", "initiative_id", "zero_day", "software_vulns_potential", "software_vulns_potential_reasons", "tags"}
	for _, k := range append(slices.Clone(vulnFilterNames), "tag.*", "include_unlicensed") {
		if !slices.Contains(ignored, k) && !used["vulns "+k] {
			unexercised = append(unexercised, "vulns "+k)
		}
	}
	for _, k := range []string{"asset", "last_seen", "first_seen", "last_observed", "indexed_at", "since", "audit_name", "audit_file_name",
		"compliance_results", "ipv4_addresses", "ipv6_addresses", "network_id", "plugin_id", "state", "tags"} {
		if !used["compliance "+k] {
			unexercised = append(unexercised, "compliance "+k)
		}
	}
	if len(unexercised) > 0 {
		t.Errorf("filters without a case: %v", unexercised)
	}

	// The reference must hold what is known to be there, or it checks nothing.
	if !slices.Contains(refKeys(t, s, "assets", `{"chunk_size":100,"filters":{"sources":["AWS"]}}`), string(mustJSON(cloud))) {
		t.Errorf("the reference misses AWS asset %s in an export of AWS-sourced assets", cloud)
	}

	totals := map[string]int{}
	for _, kind := range []string{"assets", "assets-v2", "vulns", "compliance"} {
		body := `{"filters":{"since":1}}`
		if strings.HasPrefix(kind, "assets") {
			body = `{"chunk_size":100}`
		} else if kind == "compliance" {
			body = `{}`
		}
		totals[kind] = len(refKeys(t, s, kind, body))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := refKeys(t, s, tc.kind, tc.body)
			uuid := f.export(tc.kind, tc.body)
			var got []string
			for _, rec := range f.records(tc.kind, uuid) {
				got = append(got, keyOf(t, tc.kind, rec))
				if tc.check != nil && !tc.check(decode(t, rec)) {
					t.Fatalf("record fails the filter: %.400s", rec)
				}
			}
			// Exact multiset equality: no key missing, none extra, none twice.
			slices.Sort(got)
			slices.Sort(want)
			if missing, extra := keyDiff(want, got); len(missing) > 0 || len(extra) > 0 || len(got) != len(want) {
				t.Fatalf("export differs from the reference: %d records, want %d; missing %v, extra %v", len(got), len(want), firstKeys(missing), firstKeys(extra))
			}
			// The admin truth endpoint answers the same.
			truth := truthKeys(t, s, tc.kind, tc.body)
			slices.Sort(truth)
			if !slices.Equal(truth, want) {
				missing, extra := keyDiff(want, truth)
				t.Fatalf("Truth differs from the reference: %d keys, want %d; missing %v, extra %v", len(truth), len(want), firstKeys(missing), firstKeys(extra))
			}
			if tc.selective && (len(want) == 0 || len(want) >= totals[tc.kind]) {
				t.Fatalf("filter is not selective here: %d of %d", len(want), totals[tc.kind])
			}
		})
	}
}

// keyDiff lists the keys of want not in got and of got not in want.
func keyDiff(want, got []string) (missing, extra []string) {
	w, g := map[string]bool{}, map[string]bool{}
	for _, k := range want {
		w[k] = true
	}
	for _, k := range got {
		g[k] = true
	}
	for _, k := range want {
		if !g[k] {
			missing = append(missing, k)
		}
	}
	for _, k := range got {
		if !w[k] {
			extra = append(extra, k)
		}
	}
	return missing, extra
}

func TestValidation(t *testing.T) {
	f := newFixture(t, Config{})
	cases := []struct {
		path, body string
		want       int
		msg        string
	}{
		{"/assets/export", `{"chunk_size":99}`, 400, "chunk_size"},
		{"/assets/export", `{"chunk_size":10001}`, 400, "chunk_size"},
		{"/assets/export", `{"chunk_size":2000,"include_resource_tags":true}`, 400, "include_resource_tags"},
		{"/assets/export", `{"chunk_size":100,"filters":{"bogus":1}}`, 400, "bogus"},
		{"/assets/export", `{"chunk_size":100,"filters":{"created_at":"yesterday"}}`, 400, "created_at"},
		{"/assets/export", `not json`, 400, "JSON"},
		{"/assets/v2/export", `{"chunk_size":100,"filters":{"types":["server"]}}`, 400, "types"},
		{"/assets/v2/export", `{"chunk_size":100,"filters":{"tag.Location":["Austin"]}}`, 400, "tag.Location"},
		{"/vulns/export", `{"filters":{"since":1,"first_found":2,"state":["OPEN"]}}`, 400, "since"},
		{"/vulns/export", `{"filters":{"since":1,"last_fixed":2,"state":["FIXED"]}}`, 400, "since"},
		{"/vulns/export", `{"filters":{"first_found":2}}`, 400, "state"},
		{"/vulns/export", `{"filters":{"last_found":2}}`, 400, "state"},
		{"/vulns/export", `{"filters":{"state":["CLOSED"]}}`, 400, "state"},
		{"/vulns/export", `{"filters":{"severity":["urgent"]}}`, 400, "severity"},
		{"/vulns/export", `{"filters":{"cidr_range":"10.0.0.0/99"}}`, 400, "cidr_range"},
		{"/vulns/export", `{"filters":{"vpr_score":{"eq":[5],"gt":3}}}`, 400, "eq"},
		{"/vulns/export", fmt.Sprintf(`{"filters":{"cve_id":%s}}`, mustJSON(make([]string, 201))), 400, "cve_id"},
		{"/compliance/export", `{"filters":{"first_seen":5}}`, 400, "first_seen"},
		{"/compliance/export", fmt.Sprintf(`{"asset":%s}`, mustJSON(make([]string, 201))), 400, "asset"},
		{"/compliance/export", `{"filters":{"compliance_results":["MAYBE"]}}`, 400, "compliance_results"},
		{"/compliance/export", ``, 415, "Unsupported"},
		{"/vulns/export", `{"num_assets":1}`, 200, ""},        // clamped
		{"/vulns/export", `{"num_assets":"60"}`, 200, ""},     // old pyTenable sent a string
		{"/compliance/export", `{"num_findings":1}`, 200, ""}, // clamped
		{"/compliance/export", `{}`, 200, ""},
	}
	for _, tc := range cases {
		r := f.do("POST", tc.path, tc.body)
		if r.status != tc.want || !strings.Contains(string(r.body), tc.msg) {
			t.Errorf("POST %s %.60s: %d %s, want %d mentioning %q", tc.path, tc.body, r.status, r.body, tc.want, tc.msg)
		}
		if tc.want == 400 {
			m := r.json(t)
			if m["statusCode"] != 400.0 || m["error"] != "Bad Request" {
				t.Errorf("400 body shape: %s", r.body)
			}
		}
	}
	// Clamping is visible in the status.
	uuid := f.export("vulns", `{"num_assets":1,"filters":{"since":7}}`)
	if st := f.status("vulns", uuid); st["num_assets_per_chunk"] != 50.0 {
		t.Errorf("num_assets 1 not clamped to 50: %v", st["num_assets_per_chunk"])
	}
	uuid = f.export("compliance", `{"num_findings":99999,"filters":{"since":7}}`)
	if st := f.status("compliance", uuid); st["num_findings"] != 10000.0 {
		t.Errorf("num_findings not clamped to 10000: %v", st["num_findings"])
	}
}

func TestJobStateMachine(t *testing.T) {
	f := newFixture(t, Config{Assets: 300, QueueLatency: 150 * time.Millisecond, ChunkLatency: 30 * time.Millisecond})
	uuid := f.export("compliance", `{"num_findings":50}`)
	if st := f.status("compliance", uuid); st["status"] != "QUEUED" || len(st["chunks_available"].([]any)) != 0 {
		t.Fatalf("new export: %v", st)
	}
	f.waitStatus("compliance", uuid, "PROCESSING")
	st := f.waitStatus("compliance", uuid, "READY")
	if n := len(st["chunks_available"].([]any)); n == 0 || n != int(st["chunks_available_count"].(float64)) {
		t.Fatalf("READY without chunks: %v", st)
	}
	f.chunk("compliance", uuid, ints(st["chunks_available"])[0])
	st = f.waitStatus("compliance", uuid, "FINISHED")
	avail := ints(st["chunks_available"])
	if !slices.Equal(sortedCopy(avail), seq(1, len(avail))) {
		t.Fatalf("chunks_available %v is not a permutation of 1..n", avail)
	}
	if slices.IsSorted(avail) {
		t.Errorf("chunks became available in order %v; Tenable makes no such promise and neither should the simulator", avail)
	}
	for _, k := range []string{"uuid", "status", "chunks_available", "chunks_failed", "chunks_cancelled", "chunks_available_count", "empty_chunks_count", "finished_chunks", "filters", "num_findings", "asset", "created"} {
		if _, ok := st[k]; !ok {
			t.Errorf("compliance status lacks %s", k)
		}
	}

	// Asset status is minimal; vuln status is full.
	au := f.export("assets", `{"chunk_size":100}`)
	if ast := f.waitStatus("assets", au, "FINISHED"); len(ast) != 2 {
		t.Errorf("asset status %v, want only status and chunks_available", ast)
	}
	vu := f.export("vulns", `{"filters":{"since":1}}`)
	vst := f.waitStatus("vulns", vu, "FINISHED")
	for _, k := range []string{"uuid", "status", "chunks_available", "chunks_failed", "chunks_cancelled", "total_chunks", "chunks_available_count", "empty_chunks_count", "finished_chunks", "filters", "num_assets_per_chunk", "created"} {
		if _, ok := vst[k]; !ok {
			t.Errorf("vuln status lacks %s", k)
		}
	}
	filters := vst["filters"].(map[string]any)
	if filters["first_found"] != 0.0 || filters["since"] != 1.0 {
		t.Errorf("vuln filters echo %v", filters)
	}
	if _, ok := filters["tags"].(map[string]any); !ok {
		t.Errorf("vuln filters echo without tags object: %v", filters)
	}

	// Job lists.
	var list struct {
		Exports []map[string]any `json:"exports"`
	}
	if err := json.Unmarshal(f.do("GET", "/assets/export/status", "").body, &list); err != nil || len(list.Exports) != 1 {
		t.Fatalf("asset job list: %v %v", err, list)
	}
	if fs, ok := list.Exports[0]["filters"].(string); !ok || !json.Valid([]byte(fs)) {
		t.Errorf("asset job list filters %v, want a JSON-encoded string", list.Exports[0]["filters"])
	}
	if err := json.Unmarshal(f.do("GET", "/vulns/export/status", "").body, &list); err != nil || len(list.Exports) != 1 || list.Exports[0]["chunks_available"] != nil {
		t.Fatalf("vuln job list: %v %v", err, list)
	}
	if err := json.Unmarshal(f.do("GET", "/compliance/export/status", "").body, &list); err != nil || len(list.Exports) != 1 {
		t.Fatalf("compliance job list: %v %v", err, list)
	}
}

func sortedCopy(s []int) []int { c := slices.Clone(s); slices.Sort(c); return c }

func seq(from, to int) []int {
	var out []int
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func TestEmptyChunks(t *testing.T) {
	f := newFixture(t, Config{Assets: 400, Seed: 5})
	// A high-severity local plugin hits few assets: most groups of 50 have none.
	var pid int
	counts := map[int]int{}
	for _, a := range f.sim.t.assets {
		for _, fd := range a.findings {
			p := f.sim.t.plugins[fd.plugin]
			if p.sev >= 3 && a.live() && a.isLicensed {
				counts[p.id]++
			}
		}
	}
	for id, n := range counts {
		if n >= 1 && n <= 3 && (pid == 0 || id < pid) {
			pid = id
		}
	}
	body := fmt.Sprintf(`{"num_assets":50,"filters":{"since":1,"plugin_id":[%d]}}`, pid)
	uuid := f.export("vulns", body)
	st := f.waitStatus("vulns", uuid, "FINISHED")
	total, empty := int(st["total_chunks"].(float64)), int(st["empty_chunks_count"].(float64))
	avail := ints(st["chunks_available"])
	if empty == 0 || total != len(avail)+empty || int(st["finished_chunks"].(float64)) != total {
		t.Fatalf("total %d, empty %d, available %v, finished %v", total, empty, avail, st["finished_chunks"])
	}
	n := 0
	for _, id := range avail {
		n += len(f.chunk("vulns", uuid, id))
	}
	if want := len(truthKeys(t, f.sim, "vulns", body)); n != want || n == 0 {
		t.Fatalf("%d records, truth %d", n, want)
	}
	// A chunk id that is empty is never listed but answers an empty array.
	for id := 1; id <= total; id++ {
		if !slices.Contains(avail, id) {
			if recs := f.chunk("vulns", uuid, id); len(recs) != 0 {
				t.Fatalf("empty chunk %d has %d records", id, len(recs))
			}
			break
		}
	}
}

func TestConflictAndConcurrencyLimit(t *testing.T) {
	f := newFixture(t, Config{MaxConcurrentExports: 2, QueueLatency: time.Minute})
	first := f.export("vulns", `{"filters":{"since":1}}`)
	r := f.do("POST", "/vulns/export", `{"filters":{"since":1}}`)
	if r.status != 409 {
		t.Fatalf("duplicate export: %d %s", r.status, r.body)
	}
	m := r.json(t)
	if m["active_job_id"] != first || m["failure_reason"] != "The request could not be completed due to a conflict with the ongoing export" {
		t.Fatalf("409 body %s", r.body)
	}
	// Same filters, different key order and case: still a duplicate.
	if r := f.do("POST", "/vulns/export", `{"num_assets":50,"filters":{"since":1}}`); r.status != 409 {
		t.Errorf("normalised duplicate: %d", r.status)
	}
	f.export("assets", `{"chunk_size":100}`)
	r = f.do("POST", "/compliance/export", `{}`)
	if r.status != 429 || r.header.Get("Retry-After") == "" || !strings.Contains(string(r.body), "<center>nginx</center>") {
		t.Fatalf("third export: %d %v %s", r.status, r.header, r.body)
	}
	// Cancelling one frees a slot.
	if r := f.do("POST", "/vulns/export/"+first+"/cancel", ""); r.status != 200 || string(r.body) != `{"status":"CANCELLED"}` {
		t.Fatalf("cancel: %d %s", r.status, r.body)
	}
	f.export("compliance", `{}`)
	if st := f.sim.Stats(); st.Conflicts != 2 || st.ExportsCreated["vulns"] != 1 || st.ExportsCreated["compliance"] != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestMaxExportsRunning: the stats keep, by kind, the most exports of that
// kind running at once, not how many were created.
func TestMaxExportsRunning(t *testing.T) {
	f := newFixture(t, Config{MaxConcurrentExports: 3, QueueLatency: time.Minute})
	a := f.export("vulns", `{"filters":{"since":1}}`)
	b := f.export("vulns", `{"filters":{"since":2}}`)
	f.export("assets", `{"chunk_size":100}`)
	for _, id := range []string{a, b} {
		if r := f.do("POST", "/vulns/export/"+id+"/cancel", ""); r.status != 200 {
			t.Fatalf("cancel: %d %s", r.status, r.body)
		}
	}
	f.export("vulns", `{"filters":{"since":3}}`)
	st := f.sim.Stats()
	if st.ExportsCreated["vulns"] != 3 || st.MaxExportsRunning["vulns"] != 2 || st.MaxExportsRunning["assets"] != 1 {
		t.Errorf("created %v, most running at once %v; want 3 vuln exports created, at most 2 (and 1 asset export) running at once",
			st.ExportsCreated, st.MaxExportsRunning)
	}
	r := f.do("GET", "/_sim/stats", "")
	if m := r.json(t); fmt.Sprint(m["max_exports_running"]) != "map[assets:1 vulns:2]" {
		t.Errorf("/_sim/stats max_exports_running = %v", m["max_exports_running"])
	}
}

func TestCancel(t *testing.T) {
	f := newFixture(t, Config{QueueLatency: time.Millisecond, ChunkLatency: 40 * time.Millisecond})
	for _, kind := range []string{"assets", "vulns", "compliance"} {
		body := map[string]string{"assets": `{"chunk_size":100}`, "vulns": `{"num_assets":50,"filters":{"since":1}}`, "compliance": `{"num_findings":50}`}[kind]
		uuid := f.export(kind, body)
		waitFor(t, "a chunk", func() bool { return len(f.status(kind, uuid)["chunks_available"].([]any)) > 0 })
		r := f.do("POST", "/"+kind+"/export/"+uuid+"/cancel", "")
		if r.status != 200 || string(r.body) != `{"status":"CANCELLED"}` {
			t.Fatalf("%s cancel: %d %s", kind, r.status, r.body)
		}
		st := f.status(kind, uuid)
		if st["status"] != "CANCELLED" {
			t.Fatalf("%s after cancel: %v", kind, st)
		}
		avail := ints(st["chunks_available"])
		f.chunk(kind, uuid, avail[0]) // completed chunks stay downloadable
		time.Sleep(100 * time.Millisecond)
		if got := ints(f.status(kind, uuid)["chunks_available"]); !slices.Equal(got, avail) {
			t.Errorf("%s: chunks kept coming after cancel: %v then %v", kind, avail, got)
		}
		r = f.do("POST", "/"+kind+"/export/"+uuid+"/cancel", "")
		wantBody := `{"status":400,"message":"Cannot cancel a completed job"}`
		if kind == "compliance" {
			wantBody = `{"error":"Cannot cancel finished export"}`
		}
		if r.status != 400 || string(r.body) != wantBody {
			t.Errorf("%s second cancel: %d %s", kind, r.status, r.body)
		}
		r = f.do("POST", "/"+kind+"/export/00000000-0000-4000-8000-000000000000/cancel", "")
		wantBody = `{"status":404,"message":"Job with UUID: 00000000-0000-4000-8000-000000000000 not found"}`
		if kind == "compliance" {
			wantBody = `{"error":"Export '00000000-0000-4000-8000-000000000000' does not exist"}`
		}
		if r.status != 404 || string(r.body) != wantBody {
			t.Errorf("%s unknown cancel: %d %s", kind, r.status, r.body)
		}
	}
}

func TestChunkAvailabilityAndExpiry(t *testing.T) {
	f := newFixture(t, Config{QueueLatency: time.Minute})
	uuid := f.export("vulns", `{"filters":{"since":1}}`)
	if r := f.do("GET", "/vulns/export/"+uuid+"/chunks/1", ""); r.status != 400 {
		t.Errorf("chunk of a queued export: %d %s", r.status, r.body)
	}
	if r := f.do("GET", "/vulns/export/"+uuid+"/chunks/999", ""); r.status != 404 {
		t.Errorf("unknown chunk: %d", r.status)
	}
	if r := f.do("GET", "/assets/export/"+uuid+"/status", ""); r.status != 404 {
		t.Errorf("vuln job under the asset path: %d", r.status)
	}

	for _, expire := range []string{"advance", "expire-chunks"} {
		t.Run(expire, func(t *testing.T) {
			g := newFixture(t, Config{Assets: 60})
			kinds := []string{"assets", "vulns", "compliance"}
			ids := map[string]string{}
			for _, k := range kinds {
				ids[k] = g.export(k, map[string]string{"assets": `{"chunk_size":100}`, "vulns": `{"filters":{"since":1}}`, "compliance": `{}`}[k])
				g.records(k, ids[k])
			}
			if expire == "advance" {
				if _, err := g.sim.Advance(25 * time.Hour); err != nil {
					t.Fatal(err)
				}
			} else if r := g.do("POST", "/_sim/expire-chunks", ""); r.status != 200 {
				t.Fatal(r.status)
			}
			for _, k := range kinds {
				r := g.do("GET", "/"+k+"/export/"+ids[k]+"/chunks/1", "")
				wantGone := k != "compliance" || expire == "expire-chunks" // compliance chunks last 3 days
				if wantGone && r.status != 404 || !wantGone && r.status != 200 {
					t.Errorf("%s chunk after %s: %d", k, expire, r.status)
				}
			}
			if expire == "advance" {
				if _, err := g.sim.Advance(48 * time.Hour); err != nil {
					t.Fatal(err)
				}
				if r := g.do("GET", "/compliance/export/"+ids["compliance"]+"/chunks/1", ""); r.status != 404 {
					t.Errorf("compliance chunk after 73 h: %d", r.status)
				}
			}
		})
	}
}

func TestDefaultWindow(t *testing.T) {
	f := newFixture(t, Config{Assets: 150})
	now := f.sim.Now()
	recs := f.records("vulns", f.export("vulns", `{}`))
	if len(recs) == 0 {
		t.Fatal("no findings in the last 30 days")
	}
	for _, rec := range recs {
		m := decode(t, rec)
		lf, _ := time.Parse(time.RFC3339, m["last_found"].(string))
		if now.Sub(lf) > 30*24*time.Hour {
			t.Fatalf("finding last found %s, outside the 30-day default window", lf)
		}
		if m["state"] == "FIXED" {
			t.Fatalf("default export holds a FIXED finding")
		}
	}
	if all := len(truthKeys(t, f.sim, "vulns", `{"filters":{"since":1,"state":["OPEN","REOPENED"]}}`)); all <= len(recs) {
		t.Errorf("window drops nothing: %d vs %d", len(recs), all)
	}
}

func TestFaults(t *testing.T) {
	f := newFixture(t, Config{Assets: 300, ChunkLatency: 2 * time.Millisecond})
	f.sim.SetFaults(Faults{ExportErrors: 1, ExportErrorAfterChunks: 2})
	uuid := f.export("vulns", `{"filters":{"since":1}}`)
	st := f.waitStatus("vulns", uuid, "ERROR")
	if !slices.Contains(errorReasons, st["reason"].(string)) || len(st["chunks_available"].([]any)) != 2 {
		t.Fatalf("ERROR status %v", st)
	}
	f.chunk("vulns", uuid, ints(st["chunks_available"])[0])
	// The script is used up: the next export finishes.
	f.waitStatus("vulns", f.export("vulns", `{"filters":{"since":2}}`), "FINISHED")

	f.sim.SetFaults(Faults{ChunkFailures: 1, ChunkFailureAfter: 1})
	uuid = f.export("vulns", `{"filters":{"since":3}}`)
	st = f.waitStatus("vulns", uuid, "FINISHED")
	failed, cancelled, avail := ints(st["chunks_failed"]), ints(st["chunks_cancelled"]), ints(st["chunks_available"])
	total := int(st["total_chunks"].(float64))
	if len(failed) != 1 || len(avail) != 1 || len(cancelled) != total-int(st["empty_chunks_count"].(float64))-2 {
		t.Fatalf("failed-chunk status %v", st)
	}
	if want := fmt.Sprintf("1 of %d chunks failed to process. The remaining chunks are available for download.", total); st["reason"] != want {
		t.Errorf("reason %q, want %q", st["reason"], want)
	}
	if r := f.do("GET", fmt.Sprintf("/vulns/export/%s/chunks/%d", uuid, failed[0]), ""); r.status != 404 {
		t.Errorf("failed chunk: %d", r.status)
	}

	// Truncated chunks break off inside a record.
	f.sim.SetFaults(Faults{TruncateChunks: 1})
	uuid = f.export("assets", `{"chunk_size":100}`)
	f.waitStatus("assets", uuid, "FINISHED")
	resp, err := http.DefaultClient.Do(authed(t, "GET", f.srv.URL+"/assets/export/"+uuid+"/chunks/1"))
	if err != nil {
		t.Fatal(err)
	}
	var recs []json.RawMessage
	decErr := json.NewDecoder(resp.Body).Decode(&recs)
	resp.Body.Close()
	if decErr == nil {
		t.Fatal("a truncated chunk decoded")
	}
	if resp.ContentLength <= 0 {
		t.Errorf("truncated chunk declared no Content-Length")
	}
	if len(f.chunk("assets", uuid, 1)) != 100 { // the next download is whole
		t.Error("second download not whole")
	}

	// A malformed record: the chunk is still an array, its first record is not JSON.
	f.sim.SetFaults(Faults{MalformedRecords: 1})
	r0 := f.do("GET", "/assets/export/"+uuid+"/chunks/1", "")
	if r0.status != 200 || !bytes.HasPrefix(r0.body, []byte("[{"+MalformedMember)) || json.Valid(r0.body) {
		t.Errorf("malformed-record chunk: %d %.80q", r0.status, r0.body)
	}
	if len(f.chunk("assets", uuid, 1)) != 100 { // the next download is whole
		t.Error("download after the malformed one not whole")
	}

	f.sim.SetFaults(Faults{Rate429: 1, RetryAfterSeconds: 7})
	r := f.do("GET", "/vulns/export/status", "")
	if r.status != 429 || r.header.Get("Retry-After") != "7" || r.header.Get("Content-Type") != "text/html" {
		t.Errorf("rate 429: %d %v", r.status, r.header)
	}
	if r := f.do("GET", "/_sim/state", ""); r.status != 200 {
		t.Errorf("faults hit the admin API: %d", r.status)
	}
	f.sim.SetFaults(Faults{Rate5xx: 1})
	seen := map[int]bool{}
	for range 40 {
		r := f.do("GET", "/vulns/export/status", "")
		seen[r.status] = true
		if r.status == 503 && r.header.Get("Retry-After") == "" {
			t.Error("503 without Retry-After")
		}
		if r.status == 500 && string(r.body) != `{"statusCode":500,"error":"Internal Server Error","message":"An internal server error occurred. Please wait a moment and try your request again."}` {
			t.Errorf("500 body %s", r.body)
		}
	}
	for _, code := range []int{500, 502, 503, 504} {
		if !seen[code] {
			t.Errorf("no %d among injected errors: %v", code, seen)
		}
	}
	f.sim.SetFaults(Faults{})
	if r := f.do("GET", "/vulns/export/status", "", "X-Tio-Retry-Count", "3", "User-Agent", "Integration/1.0 (Test; Sim; Build/1)"); r.status != 200 {
		t.Fatal(r.status)
	}
	st2 := f.sim.Stats()
	if st2.MaxRetryCount != 3 || !slices.Contains(st2.UserAgents, "Integration/1.0 (Test; Sim; Build/1)") || st2.Requests["GET /vulns/export/status"][429] != 1 {
		t.Errorf("stats %+v", st2)
	}
}

func authed(t *testing.T, method, url string) *http.Request {
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-ApiKeys", testAuth)
	return req
}

func TestSlowChunk(t *testing.T) {
	f := newFixture(t, Config{Faults: Faults{SlowChunks: 1, SlowChunkDelay: 150 * time.Millisecond}})
	uuid := f.export("assets", `{"chunk_size":100}`)
	f.waitStatus("assets", uuid, "FINISHED")
	if len(f.chunk("assets", uuid, 1)) != 100 || f.sim.Faults().SlowChunks != 0 {
		t.Fatal("slow chunk not served whole or not counted")
	}
}

// firstKeys shortens a key list for a message.
func firstKeys(keys []string) []string { return keys[:min(len(keys), 3)] }
