package tenablesim

import (
	"bytes"
	"encoding/json"
	"net"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The reference model: which records an export holds, worked out without the
// simulator's query code (filters.go, newJob, plan, Truth). Each filter is the
// rule of the Tenable API reference written out plainly, evaluated by a linear
// scan over the tenant model. It is deliberately slow and simple; where it and
// the simulator disagree, one of them misreads the documentation.
//
// What the model itself defines is read from it as data: the tables of names
// (states, severities, sources, networks), an asset's last scan and a
// finding's scan UUID (as records render them), the audit files.

// refRequest is an export request body read with encoding/json.
type refRequest struct {
	t       *testing.T
	top     map[string]any
	filters map[string]any
	used    map[string]bool // filters the reference evaluated
}

func newRefRequest(t *testing.T, body string) *refRequest {
	t.Helper()
	r := &refRequest{t: t, top: map[string]any{}, filters: map[string]any{}, used: map[string]bool{}}
	dec := json.NewDecoder(bytes.NewReader([]byte(body)))
	dec.UseNumber()
	if err := dec.Decode(&r.top); err != nil {
		t.Fatalf("reference: body %s: %v", body, err)
	}
	if f, ok := r.top["filters"].(map[string]any); ok {
		r.filters = f
	}
	return r
}

// has reports whether filter k is given, and marks it evaluated.
func (r *refRequest) has(k string) bool {
	_, ok := r.filters[k]
	if ok {
		r.used[k] = true
	}
	return ok
}

// ms reads a Unix-seconds filter as Unix milliseconds (the model's unit).
func (r *refRequest) ms(k string) int64 {
	n, err := r.filters[k].(json.Number).Int64()
	if err != nil {
		r.t.Fatalf("reference: %s: %v", k, err)
	}
	return n * 1000
}

func (r *refRequest) flag(k string) bool { return r.filters[k].(bool) }

func (r *refRequest) str(k string) string { return r.filters[k].(string) }

func (r *refRequest) strs(k string) []string {
	var out []string
	for _, v := range r.filters[k].([]any) {
		out = append(out, v.(string))
	}
	return out
}

func (r *refRequest) nums(k string) []float64 {
	var out []float64
	for _, v := range r.filters[k].([]any) {
		f, _ := v.(json.Number).Float64()
		out = append(out, f)
	}
	return out
}

func (r *refRequest) topBool(k string) bool {
	b, _ := r.top[k].(bool)
	return b
}

// done fails when the body holds a filter the reference did not evaluate: a
// case must never pass because a filter was silently ignored.
func (r *refRequest) done() {
	for k := range r.filters {
		if !r.used[k] {
			r.t.Fatalf("reference: filter %s is not implemented", k)
		}
	}
}

func anyIn(have, want []string) bool {
	for _, h := range have {
		if slices.Contains(want, h) {
			return true
		}
	}
	return false
}

func anyFold(have, want []string) bool {
	for _, h := range have {
		for _, w := range want {
			if strings.EqualFold(h, w) {
				return true
			}
		}
	}
	return false
}

// refTags: "tag.<category>": [values], AND across categories, OR across
// values. A category may also be written with "_" for " " (pyTenable's form).
func refTags(s *Server, a *asset, tags map[string][]string) bool {
	for category, values := range tags {
		found := false
		for _, at := range a.tags {
			d := s.w.tagDefs[at.def]
			if (d.key == category || strings.ReplaceAll(d.key, " ", "_") == category) && slices.Contains(values, d.value) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// v1Tags collects the tag.<category> filters.
func (r *refRequest) v1Tags() map[string][]string {
	out := map[string][]string{}
	for k := range r.filters {
		if cat, ok := strings.CutPrefix(k, "tag."); ok {
			r.used[k] = true
			out[cat] = r.strs(k)
		}
	}
	return out
}

// refScore: eq/neq lists, gt/gte/lt/lte bounds; a record without the score
// never matches.
func refScore(r *refRequest, k string, v float64, present bool) bool {
	if !r.has(k) {
		return true
	}
	if !present {
		return false
	}
	f := r.filters[k].(map[string]any)
	num := func(x any) float64 { n, _ := x.(json.Number).Float64(); return n }
	close := func(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }
	for op, arg := range f {
		switch op {
		case "eq":
			if !slices.ContainsFunc(arg.([]any), func(x any) bool { return close(num(x), v) }) {
				return false
			}
		case "neq":
			if slices.ContainsFunc(arg.([]any), func(x any) bool { return close(num(x), v) }) {
				return false
			}
		case "gt":
			if !(v > num(arg)) {
				return false
			}
		case "gte":
			if !(v >= num(arg)) {
				return false
			}
		case "lt":
			if !(v < num(arg)) {
				return false
			}
		case "lte":
			if !(v <= num(arg)) {
				return false
			}
		default:
			r.t.Fatalf("reference: %s.%s", k, op)
		}
	}
	return true
}

// refAssetKeys: §2.1 and §2.2 of the API reference.
func refAssetKeys(t *testing.T, s *Server, body string, v2 bool) []string {
	r := newRefRequest(t, body)
	tags := r.v1Tags()
	var out []string
	for _, a := range s.t.assets {
		deleted, terminated := a.deleted != 0, a.terminated != 0
		keep := true
		// An export holds live assets unless it asks for deleted or
		// terminated ones; v2's since also brings those changed since.
		asksDeleted := r.has("deleted_at") || r.has("is_deleted") && r.flag("is_deleted")
		asksTerminated := r.has("terminated_at") || r.has("is_terminated") && r.flag("is_terminated")
		if !r.has("since") && (deleted && !asksDeleted || terminated && !asksTerminated) {
			keep = false
		}
		if r.has("since") && a.updated < r.ms("since") && a.deleted < r.ms("since") && a.terminated < r.ms("since") {
			keep = false // not updated, deleted or terminated since
		}
		if r.has("types") && !slices.Contains(r.strs("types"), "host") {
			keep = false // every simulated asset is a host
		}
		if r.has("created_at") && !(a.created > r.ms("created_at")) {
			keep = false // created later than
		}
		if r.has("updated_at") && !(a.updated > r.ms("updated_at")) {
			keep = false
		}
		if r.has("deleted_at") && !(deleted && a.deleted > r.ms("deleted_at")) {
			keep = false
		}
		if r.has("terminated_at") && !(terminated && a.terminated > r.ms("terminated_at")) {
			keep = false
		}
		if r.has("is_deleted") && deleted != r.flag("is_deleted") {
			keep = false
		}
		if r.has("is_terminated") && terminated != r.flag("is_terminated") {
			keep = false
		}
		if r.has("is_licensed") && a.isLicensed != r.flag("is_licensed") {
			keep = false
		}
		if r.has("first_scan_time") && !(a.firstScan > r.ms("first_scan_time")) {
			keep = false
		}
		if r.has("last_authenticated_scan_time") && !(a.lastAuthScan > r.ms("last_authenticated_scan_time")) {
			keep = false
		}
		if r.has("last_assessed") && !(a.lastScan > r.ms("last_assessed")) {
			keep = false
		}
		if r.has("last_scan_id") && lastScanID(s.w, a) != r.str("last_scan_id") {
			keep = false
		}
		if r.has("has_plugin_results") && a.hasPluginResults != r.flag("has_plugin_results") {
			keep = false
		}
		if r.has("network_id") && networks[a.network].id != r.str("network_id") {
			keep = false
		}
		if r.has("servicenow_sysid") && (a.servicenow != "") != r.flag("servicenow_sysid") {
			keep = false
		}
		if r.has("sources") {
			var names []string
			for _, src := range a.sources {
				names = append(names, src.name)
			}
			if !anyIn(names, r.strs("sources")) { // case-sensitive, OR
				keep = false
			}
		}
		if !refTags(s, a, tags) {
			keep = false
		}
		if keep {
			out = append(out, string(mustJSON(a.id)))
		}
	}
	r.done()
	if v2 && len(tags) > 0 {
		t.Fatal("reference: v2 takes no tag filters")
	}
	return out
}

// refVulnKeys: §3.1 and §3.2 of the API reference.
func refVulnKeys(t *testing.T, s *Server, body string) []string {
	r := newRefRequest(t, body)
	tags := r.v1Tags()
	now := s.t.now
	states := []string{"OPEN", "REOPENED"} // state omitted: OPEN and REOPENED
	if r.has("state") {
		states = nil
		for _, st := range r.strs("state") {
			states = append(states, strings.ToUpper(st))
		}
	} else if r.has("since") {
		states = append(states, "FIXED") // since without state: fixes too
	}
	timeFilter := false
	for _, k := range []string{"since", "first_found", "first_seen", "last_found", "last_seen", "last_fixed", "indexed_at", "resurfaced_date"} {
		timeFilter = timeFilter || r.has(k)
	}
	var out []string
	for _, a := range s.t.assets {
		// Findings of live assets only; unlicensed ones only on request.
		if a.deleted != 0 || a.terminated != 0 || !a.isLicensed && !r.topBool("include_unlicensed") {
			continue
		}
		if r.has("network_id") && networks[a.network].id != r.str("network_id") {
			continue
		}
		if r.has("cidr_range") {
			_, cidr, err := net.ParseCIDR(r.str("cidr_range"))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(a.ipv4s, func(ip string) bool { return cidr.Contains(net.ParseIP(ip)) }) {
				continue
			}
		}
		if !refTags(s, a, tags) {
			continue
		}
		for i := range a.findings {
			f := &a.findings[i]
			p := s.t.plugins[f.plugin]
			state := stateNames[f.state]
			fixed := state == "FIXED"
			if !slices.Contains(states, state) {
				continue
			}
			if r.has("since") {
				// OPEN/REOPENED: last found on or after; FIXED: fixed on or after.
				if fixed && f.lastFixed < r.ms("since") || !fixed && f.lastFound < r.ms("since") {
					continue
				}
			}
			if !timeFilter && f.lastFound < now-30*86400_000 && f.lastFixed < now-30*86400_000 {
				continue // default: found or fixed within the last 30 days
			}
			if r.has("first_found") && f.firstFound < r.ms("first_found") || r.has("first_seen") && f.firstFound < r.ms("first_seen") {
				continue
			}
			if r.has("last_found") && f.lastFound < r.ms("last_found") || r.has("last_seen") && f.lastFound < r.ms("last_seen") {
				continue
			}
			if r.has("last_fixed") && (f.lastFixed == 0 || f.lastFixed < r.ms("last_fixed")) {
				continue
			}
			if r.has("indexed_at") && f.indexed < r.ms("indexed_at") {
				continue
			}
			if r.has("resurfaced_date") && (f.resurfaced == 0 || f.resurfaced < r.ms("resurfaced_date")) {
				continue
			}
			if r.has("time_taken_to_fix") {
				if !fixed {
					continue
				}
				ttf := (f.lastFixed - f.firstFound) / 1000
				rg := r.filters["time_taken_to_fix"].(map[string]any)
				if g, ok := rg["gte"].(json.Number); ok {
					if n, _ := g.Int64(); ttf < n {
						continue
					}
				}
				if l, ok := rg["lte"].(json.Number); ok {
					if n, _ := l.Int64(); ttf > n {
						continue
					}
				}
			}
			if r.has("severity") && !anyFold([]string{severityNames[f.sev]}, r.strs("severity")) {
				continue
			}
			if r.has("severity_modification_type") && !slices.Contains(r.strs("severity_modification_type"), modNames[f.mod]) {
				continue
			}
			if r.has("plugin_id") && !slices.Contains(r.nums("plugin_id"), float64(p.id)) {
				continue
			}
			if r.has("plugin_family") && !slices.Contains(r.strs("plugin_family"), p.family) {
				continue
			}
			if r.has("plugin_type") && !strings.EqualFold(r.str("plugin_type"), p.typ) {
				continue
			}
			if r.has("scan_uuid") && scanUUID(s.w, int(f.sched), f.eventTime()) != r.str("scan_uuid") {
				continue
			}
			if r.has("source") && !anyFold([]string{findingSources[f.source]}, r.strs("source")) {
				continue
			}
			cvss4 := 0.0
			if p.v4 != nil {
				cvss4 = p.v4.base
			}
			if !refScore(r, "vpr_score", p.vprScore, p.vprScore > 0) || !refScore(r, "vpr_v2_score", p.vpr2Score, p.vpr2Score > 0) ||
				!refScore(r, "cvss4_base_score", cvss4, p.v4 != nil) || !refScore(r, "epss_score", p.epss, p.epss > 0) {
				continue
			}
			if r.has("cve_id") && !anyFold(p.cves, r.strs("cve_id")) {
				continue
			}
			// Threat filters describe the VPR of the plugin: none without one.
			if r.has("exploit_maturity") && !(p.vprScore > 0 && anyFold([]string{p.vprMaturity}, r.strs("exploit_maturity"))) {
				continue
			}
			if r.has("vpr_threat_intensity") {
				var want []string
				for _, v := range r.strs("vpr_threat_intensity") {
					want = append(want, strings.ReplaceAll(v, " ", "_")) // "very high" is VERY_HIGH
				}
				if !(p.vprScore > 0 && anyFold([]string{p.vprIntensity}, want)) {
					continue
				}
			}
			if r.has("cve_category") {
				in := false
				for _, c := range r.strs("cve_category") {
					switch strings.ToLower(c) {
					case "cisa known exploitable":
						in = in || p.cisaKEV
					case "in the news":
						in = in || p.inNews
					case "ransomware", "persistently exploited", "recent active exploitation":
						in = in || p.malware
					case "top 50 vpr":
						in = in || p.vprScore >= 9
					case "emerging threats":
						in = in || p.vprIntensity == "HIGH" || p.vprIntensity == "VERY_HIGH"
					default:
						t.Fatalf("reference: cve_category %q", c)
					}
				}
				if !in {
					continue
				}
			}
			out = append(out, string(mustJSON([]any{a.id, p.id, f.port, protoNames[f.proto]})))
		}
	}
	r.done()
	return out
}

// wildcard matches a pattern whose only special character is *, ignoring case.
func wildcard(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile("(?i)^" + strings.Join(parts, ".*") + "$").MatchString(s)
}

// refComplianceKeys: §4 of the API reference.
func refComplianceKeys(t *testing.T, s *Server, body string) []string {
	r := newRefRequest(t, body)
	var assetIDs []string
	for _, v := range asSlice(r.top["asset"]) {
		assetIDs = append(assetIDs, v.(string))
	}
	tags := map[string][]string{}
	if r.has("tags") {
		for _, x := range r.filters["tags"].([]any) {
			m := x.(map[string]any)
			for _, v := range m["values"].([]any) {
				tags[m["category"].(string)] = append(tags[m["category"].(string)], v.(string))
			}
		}
	}
	var out []string
	for _, a := range s.t.assets {
		if a.deleted != 0 || a.terminated != 0 {
			continue
		}
		if len(assetIDs) > 0 && !slices.Contains(assetIDs, a.id) {
			continue
		}
		if r.has("network_id") && networks[a.network].id != r.str("network_id") {
			continue
		}
		if r.has("ipv4_addresses") && !anyIn(a.ipv4s, r.strs("ipv4_addresses")) {
			continue
		}
		if r.has("ipv6_addresses") && !anyIn(a.ipv6s, r.strs("ipv6_addresses")) {
			continue
		}
		if !refTags(s, a, tags) {
			continue
		}
		for i := range a.compliance {
			c := &a.compliance[i]
			au := audits[c.audit]
			if r.has("last_seen") && c.lastSeen < r.ms("last_seen") || r.has("first_seen") && c.firstSeen < r.ms("first_seen") {
				continue
			}
			if r.has("last_observed") && c.lastObserved < r.ms("last_observed") || r.has("indexed_at") && c.indexed < r.ms("indexed_at") {
				continue
			}
			if r.has("since") && c.indexed < r.ms("since") { // since is based on indexed_at
				continue
			}
			if r.has("compliance_results") && !anyFold([]string{compStatusNames[c.status]}, r.strs("compliance_results")) {
				continue
			}
			if r.has("state") && !anyFold([]string{stateNames[c.state]}, r.strs("state")) {
				continue
			}
			if r.has("plugin_id") && !slices.Contains(r.nums("plugin_id"), float64(au.pluginID)) {
				continue
			}
			if r.has("audit_file_name") && !wildcard(r.str("audit_file_name"), au.file) {
				continue
			}
			// An audit's name: its benchmark, or its file name without .audit.
			if r.has("audit_name") && !wildcard(r.str("audit_name"), au.benchmark) && !wildcard(r.str("audit_name"), strings.TrimSuffix(au.file, ".audit")) {
				continue
			}
			out = append(out, string(mustJSON([]any{a.id, s.w.checks[c.audit][c.check].checkID})))
		}
	}
	r.done()
	return out
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

// refKeys is the reference truth of an export of kind with this body.
func refKeys(t *testing.T, s *Server, kind, body string) []string {
	t.Helper()
	switch kind {
	case "assets":
		return refAssetKeys(t, s, body, false)
	case "assets-v2":
		return refAssetKeys(t, s, body, true)
	case "vulns":
		return refVulnKeys(t, s, body)
	case "compliance":
		return refComplianceKeys(t, s, body)
	}
	t.Fatalf("reference: unknown kind %s", kind)
	return nil
}
