// Compliance export filters: parsing and matching results.

package tenablesim

import (
	"encoding/json"
	"path"
	"slices"
	"strings"
)

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
