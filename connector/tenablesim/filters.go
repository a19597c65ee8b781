package tenablesim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Export request bodies are parsed into queries: the validated, normalised
// filters of one export. A query answers both "what goes into this export" and
// the ground truth (Truth), so the two can never disagree.

// badRequest is a validation failure answered with 400.
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

func badf(format string, args ...any) error { return &badRequest{msg: fmt.Sprintf(format, args...)} }

// object is a JSON object whose members are decoded on demand.
type object map[string]json.RawMessage

func parseObject(raw []byte, what string) (object, error) {
	o := object{}
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return o, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&o); err != nil {
		return nil, badf("%s must be a JSON object: %v", what, err)
	}
	return o, nil
}

func isNull(r json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(r), []byte("null")) }

func (o object) int(k string) (int64, bool, error) {
	r, ok := o[k]
	if !ok || isNull(r) {
		return 0, false, nil
	}
	var n json.Number
	if err := json.Unmarshal(r, &n); err != nil {
		// Accept a numeric string, as old pyTenable sent num_assets: "50".
		var s string
		if json.Unmarshal(r, &s) == nil {
			if v, err := strconv.ParseInt(s, 10, 64); err == nil {
				return v, true, nil
			}
		}
		return 0, true, badf("%s must be an integer", k)
	}
	v, err := n.Int64()
	if err != nil {
		f, ferr := n.Float64()
		if ferr != nil || f != math.Trunc(f) {
			return 0, true, badf("%s must be an integer", k)
		}
		v = int64(f)
	}
	return v, true, nil
}

// unix reads a Unix-seconds filter and returns it in milliseconds.
func (o object) unix(k string) (int64, error) {
	v, ok, err := o.int(k)
	if err != nil || !ok {
		return 0, err
	}
	if v < 0 {
		return 0, badf("%s must be a Unix time in seconds", k)
	}
	return v * 1000, nil
}

func (o object) bool(k string) (*bool, error) {
	r, ok := o[k]
	if !ok || isNull(r) {
		return nil, nil
	}
	var b bool
	if err := json.Unmarshal(r, &b); err != nil {
		return nil, badf("%s must be a boolean", k)
	}
	return &b, nil
}

func (o object) str(k string) (string, error) {
	r, ok := o[k]
	if !ok || isNull(r) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(r, &s); err != nil {
		return "", badf("%s must be a string", k)
	}
	return s, nil
}

func (o object) strs(k string) ([]string, error) {
	r, ok := o[k]
	if !ok || isNull(r) {
		return nil, nil
	}
	var ss []string
	if err := json.Unmarshal(r, &ss); err != nil {
		return nil, badf("%s must be an array of strings", k)
	}
	return ss, nil
}

func (o object) ints(k string) ([]int64, error) {
	r, ok := o[k]
	if !ok || isNull(r) {
		return nil, nil
	}
	var ns []json.Number
	if err := json.Unmarshal(r, &ns); err != nil {
		return nil, badf("%s must be an array of integers", k)
	}
	out := make([]int64, len(ns))
	for i, n := range ns {
		v, err := n.Int64()
		if err != nil {
			return nil, badf("%s must be an array of integers", k)
		}
		out[i] = v
	}
	return out, nil
}

// onlyKnown refuses members that are not in known (and not tag.* when tags is true).
func (o object) onlyKnown(what string, tags bool, known ...string) error {
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if slices.Contains(known, k) || tags && strings.HasPrefix(k, "tag.") {
			continue
		}
		return badf("unknown %s property: %s", what, k)
	}
	return nil
}

// tagFilter is one "tag.<category>": [values] filter.
type tagFilter struct {
	category string
	values   []string
}

func (o object) tagFilters() ([]tagFilter, error) {
	var out []tagFilter
	keys := make([]string, 0, len(o))
	for k := range o {
		if strings.HasPrefix(k, "tag.") {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		vals, err := o.strs(k)
		if err != nil {
			// A single string is accepted too.
			s, serr := o.str(k)
			if serr != nil {
				return nil, badf("%s must be an array of strings", k)
			}
			vals = []string{s}
		}
		out = append(out, tagFilter{category: strings.TrimPrefix(k, "tag."), values: vals})
	}
	return out, nil
}

// matchTags: AND across categories, OR across values.
func matchTags(w *world, a *asset, tfs []tagFilter) bool {
	for _, tf := range tfs {
		ok := false
		for _, t := range a.tags {
			d := &w.tagDefs[t.def]
			if (d.key == tf.category || strings.ReplaceAll(d.key, " ", "_") == tf.category) && slices.Contains(tf.values, d.value) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func tagEcho(tfs []tagFilter) map[string]any {
	m := map[string]any{}
	for _, tf := range tfs {
		m["tag."+tf.category] = tf.values
	}
	return m
}

// ---------------------------------------------------------------- assets

// assetQuery is a parsed asset export request (v1 or v2).
type assetQuery struct {
	v2        bool
	chunkSize int
	opts      exportOpts

	createdAt, updatedAt, terminatedAt, deletedAt int64
	firstScan, lastAuthScan, lastAssessed, since  int64
	isTerminated, isDeleted, isLicensed           *bool
	hasPluginResults, servicenow                  *bool
	lastScanID, networkID                         string
	sources, types                                []string
	tags                                          []tagFilter

	canonical []byte // normalised request, for duplicate detection and the job list
}

var assetFilterNames = []string{"created_at", "updated_at", "terminated_at", "is_terminated", "deleted_at", "is_deleted",
	"is_licensed", "first_scan_time", "last_authenticated_scan_time", "last_assessed", "last_scan_id",
	"has_plugin_results", "network_id", "servicenow_sysid", "sources"}

func parseAssetQuery(body []byte, v2 bool) (*assetQuery, error) {
	top, err := parseObject(body, "request body")
	if err != nil {
		return nil, err
	}
	if err := top.onlyKnown("request", false, "chunk_size", "include_open_ports", "include_resource_tags", "filters"); err != nil {
		return nil, err
	}
	q := &assetQuery{v2: v2, chunkSize: 1000}
	if n, ok, err := top.int("chunk_size"); err != nil {
		return nil, err
	} else if ok {
		q.chunkSize = int(n)
	}
	if b, err := top.bool("include_open_ports"); err != nil {
		return nil, err
	} else if b != nil {
		q.opts.openPorts = *b
	}
	if b, err := top.bool("include_resource_tags"); err != nil {
		return nil, err
	} else if b != nil {
		q.opts.resourceTags = *b
	}
	if q.chunkSize < 100 || q.chunkSize > 10000 {
		return nil, badf("chunk_size must be between 100 and 10000 (got %d)", q.chunkSize)
	}
	if q.opts.resourceTags && q.chunkSize > 1000 {
		return nil, badf("chunk_size must be at most 1000 with include_resource_tags (got %d)", q.chunkSize)
	}
	f, err := parseObject(top["filters"], "filters")
	if err != nil {
		return nil, err
	}
	known := assetFilterNames
	if v2 {
		known = append(slices.Clone(known), "since", "types")
	}
	if err := f.onlyKnown("filter", !v2, known...); err != nil {
		return nil, err
	}
	for _, t := range []struct {
		k string
		v *int64
	}{{"created_at", &q.createdAt}, {"updated_at", &q.updatedAt}, {"terminated_at", &q.terminatedAt},
		{"deleted_at", &q.deletedAt}, {"first_scan_time", &q.firstScan}, {"last_authenticated_scan_time", &q.lastAuthScan},
		{"last_assessed", &q.lastAssessed}, {"since", &q.since}} {
		if *t.v, err = f.unix(t.k); err != nil {
			return nil, err
		}
	}
	for _, t := range []struct {
		k string
		v **bool
	}{{"is_terminated", &q.isTerminated}, {"is_deleted", &q.isDeleted}, {"is_licensed", &q.isLicensed},
		{"has_plugin_results", &q.hasPluginResults}, {"servicenow_sysid", &q.servicenow}} {
		if *t.v, err = f.bool(t.k); err != nil {
			return nil, err
		}
	}
	if q.lastScanID, err = f.str("last_scan_id"); err != nil {
		return nil, err
	}
	if q.networkID, err = f.str("network_id"); err != nil {
		return nil, err
	}
	if q.sources, err = f.strs("sources"); err != nil {
		return nil, err
	}
	if q.types, err = f.strs("types"); err != nil {
		return nil, err
	}
	for _, t := range q.types {
		if t != "host" && t != "webapp" {
			return nil, badf("types must contain only host or webapp (got %q)", t)
		}
	}
	if !v2 {
		if q.tags, err = f.tagFilters(); err != nil {
			return nil, err
		}
	}
	echo := map[string]any{}
	for k, v := range f {
		echo[k] = v
	}
	q.canonical, _ = json.Marshal(map[string]any{"v2": v2, "chunk_size": q.chunkSize,
		"include_open_ports": q.opts.openPorts, "include_resource_tags": q.opts.resourceTags, "filters": echo})
	return q, nil
}

// filtersJSON is the echo of the filters in the asset job list (a JSON string there).
func (q *assetQuery) filtersJSON() string {
	var c struct {
		Filters json.RawMessage `json:"filters"`
	}
	_ = json.Unmarshal(q.canonical, &c)
	return string(c.Filters)
}

func boolIs(p *bool, v bool) bool { return p != nil && *p == v }

// match reports whether the asset is in the export.
func (q *assetQuery) match(w *world, a *asset) bool {
	wantDeleted := boolIs(q.isDeleted, true) || q.deletedAt > 0
	wantTerminated := boolIs(q.isTerminated, true) || q.terminatedAt > 0
	if a.deleted != 0 && !wantDeleted && q.since == 0 {
		return false
	}
	if a.terminated != 0 && !wantTerminated && q.since == 0 {
		return false
	}
	if wantDeleted && (a.deleted == 0 || a.deleted <= q.deletedAt) {
		return false
	}
	if wantTerminated && (a.terminated == 0 || a.terminated <= q.terminatedAt) {
		return false
	}
	if boolIs(q.isDeleted, false) && a.deleted != 0 || boolIs(q.isTerminated, false) && a.terminated != 0 {
		return false
	}
	if q.since > 0 && a.updated < q.since && a.deleted < q.since && a.terminated < q.since {
		return false
	}
	if len(q.types) > 0 && !slices.Contains(q.types, "host") {
		return false // every simulated asset is a host
	}
	if q.createdAt > 0 && a.created <= q.createdAt || q.updatedAt > 0 && a.updated <= q.updatedAt {
		return false
	}
	if q.firstScan > 0 && a.firstScan <= q.firstScan || q.lastAuthScan > 0 && a.lastAuthScan <= q.lastAuthScan {
		return false
	}
	if q.lastAssessed > 0 && a.lastScan <= q.lastAssessed {
		return false
	}
	if q.isLicensed != nil && a.isLicensed != *q.isLicensed || q.hasPluginResults != nil && a.hasPluginResults != *q.hasPluginResults {
		return false
	}
	if q.servicenow != nil && (a.servicenow != "") != *q.servicenow {
		return false
	}
	if q.lastScanID != "" && lastScanID(w, a) != q.lastScanID {
		return false
	}
	if q.networkID != "" && networks[a.network].id != q.networkID {
		return false
	}
	if len(q.sources) > 0 && !slices.ContainsFunc(a.sources, func(s assetSource) bool { return slices.Contains(q.sources, s.name) }) {
		return false
	}
	return matchTags(w, a, q.tags)
}

// ---------------------------------------------------------------- vulns

type scoreFilter struct {
	eq, neq          []float64
	gt, gte, lt, lte *float64
}

func (o object) score(k string) (*scoreFilter, error) {
	r, ok := o[k]
	if !ok || isNull(r) {
		return nil, nil
	}
	var raw struct {
		Eq, Neq          []float64
		Gt, Gte, Lt, Lte *float64
	}
	if err := json.Unmarshal(r, &raw); err != nil {
		return nil, badf("%s must be an object with eq, neq, gt, gte, lt or lte", k)
	}
	sf := &scoreFilter{raw.Eq, raw.Neq, raw.Gt, raw.Gte, raw.Lt, raw.Lte}
	if len(sf.eq) > 0 && (sf.gt != nil || sf.gte != nil || sf.lt != nil || sf.lte != nil) {
		return nil, badf("%s: eq cannot be combined with gt, gte, lt or lte", k)
	}
	return sf, nil
}

func (s *scoreFilter) match(v float64, present bool) bool {
	if s == nil {
		return true
	}
	if !present {
		return false
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	if len(s.eq) > 0 && !slices.ContainsFunc(s.eq, func(x float64) bool { return near(x, v) }) {
		return false
	}
	if slices.ContainsFunc(s.neq, func(x float64) bool { return near(x, v) }) {
		return false
	}
	return (s.gt == nil || v > *s.gt) && (s.gte == nil || v >= *s.gte) && (s.lt == nil || v < *s.lt) && (s.lte == nil || v <= *s.lte)
}

// vulnQuery is a parsed vuln export request.
type vulnQuery struct {
	numAssets         int
	includeUnlicensed bool

	since, firstFound, lastFound, lastFixed, indexedAt, resurfaced int64
	window                                                         int64 // default 30-day window start, 0 = none
	ttfGTE, ttfLTE                                                 *int64

	states   [3]bool
	sinceAll bool // since without state: OPEN/REOPENED seen plus FIXED fixed
	sevs     [5]bool
	sevGiven bool
	mods     [3]bool
	modGiven bool
	sources  []string

	pluginIDs, families, cves, maturity, intensity, categories []string
	pluginType, scanUUID, networkID                            string
	cidr                                                       *netip.Prefix
	tags                                                       []tagFilter
	vpr, vpr2, cvss4, epss                                     *scoreFilter

	canonical []byte
	echo      map[string]any
}

var vulnFilterNames = []string{"since", "first_found", "first_seen", "last_found", "last_seen", "last_fixed", "indexed_at",
	"resurfaced_date", "time_taken_to_fix", "state", "severity", "severity_modification_type", "plugin_id", "plugin_family",
	"plugin_type", "scan_uuid", "cidr_range", "network_id", "source", "vpr_score", "vpr_v2_score", "cvss4_base_score",
	"epss_score", "cve_id", "cve_category", "exploit_maturity", "vpr_threat_intensity", "weaponization", "initiative_id",
	"zero_day", "software_vulns_potential", "software_vulns_potential_reasons", "tags"}

func parseVulnQuery(body []byte, now int64) (*vulnQuery, error) {
	top, err := parseObject(body, "request body")
	if err != nil {
		return nil, err
	}
	if err := top.onlyKnown("request", false, "num_assets", "include_unlicensed", "include_software_vulns", "filters"); err != nil {
		return nil, err
	}
	q := &vulnQuery{numAssets: 50}
	if n, ok, err := top.int("num_assets"); err != nil {
		return nil, err
	} else if ok {
		q.numAssets = int(max(50, min(5000, n))) // clamped, as documented
	}
	if b, err := top.bool("include_unlicensed"); err != nil {
		return nil, err
	} else if b != nil {
		q.includeUnlicensed = *b
	}
	if _, err := top.bool("include_software_vulns"); err != nil {
		return nil, err
	}
	f, err := parseObject(top["filters"], "filters")
	if err != nil {
		return nil, err
	}
	if err := f.onlyKnown("filter", true, vulnFilterNames...); err != nil {
		return nil, err
	}
	echo := map[string]any{"since": 0, "first_found": 0, "last_found": 0, "last_fixed": 0, "first_seen": 0, "last_seen": 0, "indexed_at": 0}
	times := []struct {
		k string
		v *int64
	}{{"since", &q.since}, {"first_found", &q.firstFound}, {"last_found", &q.lastFound}, {"last_fixed", &q.lastFixed},
		{"indexed_at", &q.indexedAt}, {"resurfaced_date", &q.resurfaced}}
	for _, t := range times {
		if *t.v, err = f.unix(t.k); err != nil {
			return nil, err
		}
		echo[t.k] = *t.v / 1000
	}
	// first_seen and last_seen are aliases of first_found and last_found.
	for _, alias := range []struct {
		k string
		v *int64
	}{{"first_seen", &q.firstFound}, {"last_seen", &q.lastFound}} {
		v, err := f.unix(alias.k)
		if err != nil {
			return nil, err
		}
		if v > 0 {
			*alias.v = v
			echo[alias.k] = v / 1000
		}
	}
	if q.since > 0 && (q.firstFound > 0 || q.lastFound > 0 || q.lastFixed > 0) {
		return nil, badf("since cannot be combined with first_found, first_seen, last_found, last_seen or last_fixed")
	}
	states, err := f.strs("state")
	if err != nil {
		return nil, err
	}
	for _, s := range states {
		i := slices.Index(stateNames[:], strings.ToUpper(s))
		if i < 0 {
			return nil, badf("state must be OPEN, REOPENED or FIXED (got %q)", s)
		}
		q.states[i] = true
	}
	if len(states) > 0 {
		up := make([]string, 0, 3)
		for i, on := range q.states {
			if on {
				up = append(up, stateNames[i])
			}
		}
		echo["state"] = up
	}
	if len(states) == 0 && (q.firstFound > 0 || q.lastFound > 0 || q.lastFixed > 0) {
		return nil, badf("state is required with first_found, first_seen, last_found, last_seen or last_fixed")
	}
	if len(states) == 0 {
		q.states = [3]bool{true, true, false}
		if q.since > 0 {
			q.sinceAll = true
		}
	}
	if r, ok := f["time_taken_to_fix"]; ok && !isNull(r) {
		var rg struct{ Gte, Lte *int64 }
		if err := json.Unmarshal(r, &rg); err != nil {
			return nil, badf("time_taken_to_fix must be an object with gte and lte")
		}
		q.ttfGTE, q.ttfLTE = rg.Gte, rg.Lte
		echo["time_taken_to_fix"] = r
	}
	if q.since == 0 && q.firstFound == 0 && q.lastFound == 0 && q.lastFixed == 0 && q.indexedAt == 0 && q.resurfaced == 0 {
		q.window = now - 30*dayMs
	}
	sevs, err := f.strs("severity")
	if err != nil {
		return nil, err
	}
	for _, s := range sevs {
		i := slices.Index(severityNames[:], strings.ToLower(s))
		if i < 0 {
			return nil, badf("severity must be info, low, medium, high or critical (got %q)", s)
		}
		q.sevs[i], q.sevGiven = true, true
	}
	if len(sevs) > 0 {
		echo["severity"] = upper(sevs)
	}
	mods, err := f.strs("severity_modification_type")
	if err != nil {
		return nil, err
	}
	for _, s := range mods {
		i := slices.Index(modNames[:], s)
		if i < 0 {
			return nil, badf("severity_modification_type must be NONE, RECASTED or ACCEPTED (got %q)", s)
		}
		q.mods[i], q.modGiven = true, true
	}
	ids, err := f.ints("plugin_id")
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		q.pluginIDs = append(q.pluginIDs, strconv.FormatInt(id, 10))
	}
	if q.families, err = f.strs("plugin_family"); err != nil {
		return nil, err
	}
	if q.pluginType, err = f.str("plugin_type"); err != nil {
		return nil, err
	}
	if q.scanUUID, err = f.str("scan_uuid"); err != nil {
		return nil, err
	}
	if q.networkID, err = f.str("network_id"); err != nil {
		return nil, err
	}
	cidr, err := f.str("cidr_range")
	if err != nil {
		return nil, err
	}
	if cidr != "" {
		p, err := netip.ParsePrefix(cidr)
		if err != nil {
			return nil, badf("cidr_range is not a CIDR range: %q", cidr)
		}
		p = p.Masked()
		q.cidr = &p
	}
	if q.sources, err = f.strs("source"); err != nil {
		return nil, err
	}
	if q.cves, err = f.strs("cve_id"); err != nil {
		return nil, err
	}
	if len(q.cves) > 200 {
		return nil, badf("cve_id accepts at most 200 values (got %d)", len(q.cves))
	}
	for _, s := range []struct {
		k string
		v **scoreFilter
	}{{"vpr_score", &q.vpr}, {"vpr_v2_score", &q.vpr2}, {"cvss4_base_score", &q.cvss4}, {"epss_score", &q.epss}} {
		if *s.v, err = f.score(s.k); err != nil {
			return nil, err
		}
	}
	if q.maturity, err = f.strs("exploit_maturity"); err != nil {
		return nil, err
	}
	if q.intensity, err = f.strs("vpr_threat_intensity"); err != nil {
		return nil, err
	}
	if q.categories, err = f.strs("cve_category"); err != nil {
		return nil, err
	}
	for _, k := range []string{"weaponization", "software_vulns_potential_reasons"} {
		if _, err := f.strs(k); err != nil {
			return nil, err
		}
	}
	for _, k := range []string{"zero_day", "software_vulns_potential"} {
		if _, err := f.bool(k); err != nil {
			return nil, err
		}
	}
	if _, err := f.str("initiative_id"); err != nil {
		return nil, err
	}
	if q.tags, err = f.tagFilters(); err != nil {
		return nil, err
	}
	echo["tags"] = tagEcho(q.tags)
	for k, v := range f {
		if _, done := echo[k]; !done && !strings.HasPrefix(k, "tag.") {
			echo[k] = v
		}
	}
	q.echo = echo
	q.canonical, _ = json.Marshal(map[string]any{"num_assets": q.numAssets, "include_unlicensed": q.includeUnlicensed, "filters": echo})
	return q, nil
}

func upper(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ToUpper(s)
	}
	return out
}

// pluginMask evaluates the plugin-level filters once per plugin.
func (q *vulnQuery) pluginMask(plugins []*plugin) []bool {
	m := make([]bool, len(plugins))
	for i, p := range plugins {
		m[i] = q.matchPlugin(p)
	}
	return m
}

func (q *vulnQuery) matchPlugin(p *plugin) bool {
	if len(q.pluginIDs) > 0 && !slices.Contains(q.pluginIDs, strconv.Itoa(p.id)) {
		return false
	}
	if len(q.families) > 0 && !slices.Contains(q.families, p.family) {
		return false
	}
	if q.pluginType != "" && !strings.EqualFold(q.pluginType, p.typ) {
		return false
	}
	if !q.vpr.match(p.vprScore, p.vprScore > 0) || !q.vpr2.match(p.vpr2Score, p.vpr2Score > 0) {
		return false
	}
	if !q.cvss4.match(cvss4Score(p), p.v4 != nil) || !q.epss.match(p.epss, p.epss > 0) {
		return false
	}
	if len(q.cves) > 0 && !slices.ContainsFunc(p.cves, func(c string) bool {
		return slices.ContainsFunc(q.cves, func(x string) bool { return strings.EqualFold(x, c) })
	}) {
		return false
	}
	if len(q.maturity) > 0 && (p.vprScore == 0 || !slices.ContainsFunc(q.maturity, func(m string) bool {
		return strings.EqualFold(strings.ReplaceAll(m, "poc", "POC"), p.vprMaturity)
	})) {
		return false
	}
	if len(q.intensity) > 0 && (p.vprScore == 0 || !slices.ContainsFunc(q.intensity, func(m string) bool {
		return strings.EqualFold(strings.ReplaceAll(m, " ", "_"), p.vprIntensity)
	})) {
		return false
	}
	if len(q.categories) > 0 && !slices.ContainsFunc(q.categories, func(c string) bool {
		switch strings.ReplaceAll(strings.ToLower(c), "_", " ") {
		case "cisa known exploitable":
			return p.cisaKEV
		case "in the news":
			return p.inNews
		case "ransomware", "persistently exploited", "recent active exploitation":
			return p.malware
		case "top 50 vpr":
			return p.vprScore >= 9
		case "emerging threats":
			return p.vprIntensity == "HIGH" || p.vprIntensity == "VERY_HIGH"
		}
		return false
	}) {
		return false
	}
	return true
}

func cvss4Score(p *plugin) float64 {
	if p.v4 == nil {
		return 0
	}
	return p.v4.base
}

// matchAsset evaluates the asset-level filters. Findings of deleted or
// terminated assets are never exported.
func (q *vulnQuery) matchAsset(w *world, a *asset) bool {
	if !a.live() || !q.includeUnlicensed && !a.isLicensed {
		return false
	}
	if q.networkID != "" && networks[a.network].id != q.networkID {
		return false
	}
	if q.cidr != nil && !slices.ContainsFunc(a.ipv4s, func(s string) bool {
		ip, err := netip.ParseAddr(s)
		return err == nil && q.cidr.Contains(ip)
	}) {
		return false
	}
	return matchTags(w, a, q.tags)
}

// matchFinding evaluates the finding-level filters (plugin mask included).
func (q *vulnQuery) matchFinding(w *world, mask []bool, f *finding) bool {
	if !mask[f.plugin] {
		return false
	}
	switch {
	case q.sinceAll:
		if f.state == stateFixed {
			if f.lastFixed < q.since {
				return false
			}
		} else if f.lastFound < q.since {
			return false
		}
	case !q.states[f.state]:
		return false
	case q.since > 0:
		if f.state == stateFixed && f.lastFixed < q.since || f.state != stateFixed && f.lastFound < q.since {
			return false
		}
	}
	if q.window > 0 && f.lastFound < q.window && f.lastFixed < q.window {
		return false
	}
	if q.firstFound > 0 && f.firstFound < q.firstFound || q.lastFound > 0 && f.lastFound < q.lastFound {
		return false
	}
	if q.lastFixed > 0 && (f.lastFixed == 0 || f.lastFixed < q.lastFixed) {
		return false
	}
	if q.indexedAt > 0 && f.indexed < q.indexedAt || q.resurfaced > 0 && f.resurfaced < q.resurfaced {
		return false
	}
	if q.ttfGTE != nil || q.ttfLTE != nil {
		if f.state != stateFixed {
			return false
		}
		ttf := (f.lastFixed - f.firstFound) / 1000
		if q.ttfGTE != nil && ttf < *q.ttfGTE || q.ttfLTE != nil && ttf > *q.ttfLTE {
			return false
		}
	}
	if q.sevGiven && !q.sevs[f.sev] || q.modGiven && !q.mods[f.mod] {
		return false
	}
	if len(q.sources) > 0 && !slices.ContainsFunc(q.sources, func(s string) bool { return strings.EqualFold(s, findingSources[f.source]) }) {
		return false
	}
	if q.scanUUID != "" && scanUUID(w, int(f.sched), f.eventTime()) != q.scanUUID {
		return false
	}
	return true
}

// ---------------------------------------------------------------- compliance

type compQuery struct {
	numFindings int
	assets      []string

	lastSeen, firstSeen, lastObserved, indexedAt, since int64
	auditName, auditFile                                string
	results                                             [6]bool
	resultsGiven                                        bool
	states                                              [3]bool
	statesGiven                                         bool
	ipv4, ipv6                                          []string
	networkID                                           string
	pluginIDs                                           []int64
	tags                                                []tagFilter

	canonical []byte
	echo      map[string]any
}

func parseCompQuery(body []byte) (*compQuery, error) {
	top, err := parseObject(body, "request body")
	if err != nil {
		return nil, err
	}
	if err := top.onlyKnown("request", false, "num_findings", "asset", "filters"); err != nil {
		return nil, err
	}
	q := &compQuery{numFindings: 5000}
	if n, ok, err := top.int("num_findings"); err != nil {
		return nil, err
	} else if ok {
		q.numFindings = int(max(50, min(10000, n))) // clamped, as documented
	}
	if q.assets, err = top.strs("asset"); err != nil {
		return nil, err
	}
	if len(q.assets) > 200 {
		return nil, badf("asset accepts at most 200 asset UUIDs (got %d)", len(q.assets))
	}
	f, err := parseObject(top["filters"], "filters")
	if err != nil {
		return nil, err
	}
	if err := f.onlyKnown("filter", false, "last_seen", "first_seen", "last_observed", "indexed_at", "since", "audit_name",
		"audit_file_name", "compliance_results", "ipv4_addresses", "ipv6_addresses", "network_id", "plugin_id", "state", "tags"); err != nil {
		return nil, err
	}
	for _, t := range []struct {
		k string
		v *int64
	}{{"last_seen", &q.lastSeen}, {"first_seen", &q.firstSeen}, {"last_observed", &q.lastObserved}, {"indexed_at", &q.indexedAt}, {"since", &q.since}} {
		if *t.v, err = f.unix(t.k); err != nil {
			return nil, err
		}
	}
	if q.firstSeen > 0 && q.lastSeen == 0 {
		return nil, badf("first_seen is only valid together with last_seen")
	}
	if q.auditName, err = f.str("audit_name"); err != nil {
		return nil, err
	}
	if q.auditFile, err = f.str("audit_file_name"); err != nil {
		return nil, err
	}
	res, err := f.strs("compliance_results")
	if err != nil {
		return nil, err
	}
	for _, s := range res {
		i := slices.Index(compStatusNames[:], strings.ToUpper(s))
		if i < 0 {
			return nil, badf("compliance_results must be PASSED, FAILED, WARNING, SKIPPED, ERROR or UNKNOWN (got %q)", s)
		}
		q.results[i], q.resultsGiven = true, true
	}
	states, err := f.strs("state")
	if err != nil {
		return nil, err
	}
	for _, s := range states {
		i := slices.Index(stateNames[:], strings.ToUpper(s))
		if i < 0 {
			return nil, badf("state must be OPEN, REOPENED or FIXED (got %q)", s)
		}
		q.states[i], q.statesGiven = true, true
	}
	if q.ipv4, err = f.strs("ipv4_addresses"); err != nil {
		return nil, err
	}
	if q.ipv6, err = f.strs("ipv6_addresses"); err != nil {
		return nil, err
	}
	if q.networkID, err = f.str("network_id"); err != nil {
		return nil, err
	}
	if q.pluginIDs, err = f.ints("plugin_id"); err != nil {
		return nil, err
	}
	if r, ok := f["tags"]; ok && !isNull(r) {
		var tags []struct {
			Category string   `json:"category"`
			Values   []string `json:"values"`
		}
		if err := json.Unmarshal(r, &tags); err != nil {
			return nil, badf(`tags must be an array of {"category":…,"values":[…]}`)
		}
		for _, t := range tags {
			q.tags = append(q.tags, tagFilter{category: t.Category, values: t.Values})
		}
	}
	echo := map[string]any{}
	for k, v := range f {
		echo[k] = v
	}
	q.echo = echo
	q.canonical, _ = json.Marshal(map[string]any{"num_findings": q.numFindings, "asset": q.assets, "filters": echo})
	return q, nil
}

func (q *compQuery) matchAsset(w *world, a *asset) bool {
	if !a.live() || len(a.compliance) == 0 {
		return false
	}
	if len(q.assets) > 0 && !slices.Contains(q.assets, a.id) {
		return false
	}
	if q.networkID != "" && networks[a.network].id != q.networkID {
		return false
	}
	if len(q.ipv4) > 0 && !slices.ContainsFunc(a.ipv4s, func(s string) bool { return slices.Contains(q.ipv4, s) }) {
		return false
	}
	if len(q.ipv6) > 0 && !slices.ContainsFunc(a.ipv6s, func(s string) bool { return slices.Contains(q.ipv6, s) }) {
		return false
	}
	return matchTags(w, a, q.tags)
}

func (q *compQuery) matchResult(c *compResult) bool {
	au := &audits[c.audit]
	if q.lastSeen > 0 && c.lastSeen < q.lastSeen || q.firstSeen > 0 && c.firstSeen < q.firstSeen {
		return false
	}
	if q.lastObserved > 0 && c.lastObserved < q.lastObserved || q.indexedAt > 0 && c.indexed < q.indexedAt {
		return false
	}
	if q.since > 0 && c.indexed < q.since {
		return false
	}
	if q.resultsGiven && !q.results[c.status] || q.statesGiven && !q.states[c.state] {
		return false
	}
	if len(q.pluginIDs) > 0 && !slices.Contains(q.pluginIDs, int64(au.pluginID)) {
		return false
	}
	if q.auditFile != "" && !globMatch(q.auditFile, au.file) {
		return false
	}
	if q.auditName != "" && !globMatch(q.auditName, au.benchmark) && !globMatch(q.auditName, strings.TrimSuffix(au.file, ".audit")) {
		return false
	}
	return true
}

// globMatch matches a pattern with * wildcards, case-insensitively.
func globMatch(pattern, s string) bool {
	pattern = strings.ToLower(pattern)
	pattern = strings.NewReplacer("[", `\[`, "?", `\?`).Replace(pattern)
	ok, err := path.Match(pattern, strings.ToLower(s))
	return err == nil && ok
}
