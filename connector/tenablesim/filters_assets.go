// Asset export filters (v1 and v2): parsing and matching.

package tenablesim

import (
	"encoding/json"
	"slices"
)

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
