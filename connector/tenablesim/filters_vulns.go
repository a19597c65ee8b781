// Vulnerability export filters: parsing and matching findings, plugins and assets.

package tenablesim

import (
	"encoding/json"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

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
