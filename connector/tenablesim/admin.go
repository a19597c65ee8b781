package tenablesim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Truth is the ground truth for one export request: what an export with the
// same body, made now, contains.
type Truth struct {
	// Count is the number of records.
	Count int `json:"count"`
	// Keys identify the records, in export order: an asset id (assets), an
	// [asset_uuid, plugin_id, port, protocol] array (vulns), an
	// [asset_uuid, check_id] array (compliance) or a plugin id (plugins). Each
	// is kept as its JSON text.
	Keys []json.RawMessage `json:"keys"`
	// Records are the records exactly as chunks render them; only filled when
	// the body has "include_records": true.
	Records json.RawMessage `json:"records,omitempty"`
}

// Truth kinds.
const (
	TruthAssets     = "assets"
	TruthAssetsV2   = "assets-v2"
	TruthVulns      = "vulns"
	TruthCompliance = "compliance"
	TruthPlugins    = "plugins"
)

// Truth answers which records an export of kind with this request body would
// hold at the current tenant clock. kind is assets, assets-v2, vulns,
// compliance or plugins (body {"last_updated":"YYYY-MM-DD"}). The body may
// carry "include_records": true (not a Tenable field) to get the records too.
// An invalid body gives the same error the export endpoint answers with 400.
func (s *Server) Truth(kind string, body []byte) (Truth, error) {
	top, err := parseObject(body, "request body")
	if err != nil {
		return Truth{}, err
	}
	withRecords := false
	if b, err := top.bool("include_records"); err != nil {
		return Truth{}, err
	} else if b != nil {
		withRecords = *b
	}
	delete(top, "include_records")
	body, _ = json.Marshal(top)
	if kind == TruthPlugins {
		return s.pluginTruth(top, withRecords)
	}
	var j *job
	switch kind {
	case TruthAssets:
		j, err = s.newJob(kindAssets, false, body)
	case TruthAssetsV2:
		j, err = s.newJob(kindAssets, true, body)
	case TruthVulns:
		j, err = s.newJob(kindVulns, false, body)
	case TruthCompliance:
		j, err = s.newJob(kindCompliance, false, body)
	default:
		return Truth{}, fmt.Errorf("truth: unknown kind %q (want assets, assets-v2, vulns, compliance or plugins)", kind)
	}
	if err != nil {
		return Truth{}, err
	}
	s.plan(j)
	t := Truth{Keys: []json.RawMessage{}}
	var recs bytes.Buffer
	for id, c := range j.chunks {
		t.Count += c.count
		switch j.kind {
		case kindAssets:
			for _, ai := range j.items[c.lo:c.hi] {
				t.Keys = append(t.Keys, appendString(nil, j.snap.assets[ai].id))
			}
		case kindVulns:
			for _, ai := range j.items[c.lo:c.hi] {
				a := j.snap.assets[ai]
				for fi := range a.findings {
					f := &a.findings[fi]
					if j.vq.matchFinding(s.w, j.mask, f) {
						k := appendString([]byte{'['}, a.id)
						k = append(k, ',')
						k = strconv.AppendInt(k, int64(j.snap.plugins[f.plugin].id), 10)
						k = append(k, ',')
						k = strconv.AppendUint(k, uint64(f.port), 10)
						k = append(k, ',', '"')
						k = append(k, protoNames[f.proto]...)
						t.Keys = append(t.Keys, append(k, '"', ']'))
					}
				}
			}
		case kindCompliance:
			for _, ref := range j.comp[c.lo:c.hi] {
				a := j.snap.assets[ref.asset]
				res := &a.compliance[ref.result]
				k := appendString([]byte{'['}, a.id)
				k = append(k, ',')
				k = appendString(k, s.w.checks[res.audit][res.check].checkID)
				t.Keys = append(t.Keys, append(k, ']'))
			}
		}
		if withRecords && c.count > 0 {
			var buf bytes.Buffer
			_ = s.renderChunk(context.Background(), &buf, j, id+1)
			inner := bytes.TrimSuffix(bytes.TrimPrefix(buf.Bytes(), []byte{'['}), []byte{']'})
			if len(inner) > 0 {
				if recs.Len() > 0 {
					recs.WriteByte(',')
				}
				recs.Write(inner)
			}
		}
	}
	if withRecords {
		t.Records = append(append([]byte{'['}, recs.Bytes()...), ']')
	}
	return t, nil
}

func (s *Server) pluginTruth(top object, withRecords bool) (Truth, error) {
	if err := top.onlyKnown("request", false, "last_updated"); err != nil {
		return Truth{}, err
	}
	lu, err := top.str("last_updated")
	if err != nil {
		return Truth{}, err
	}
	q, err := parsePluginQuery(lu, "", "")
	if err != nil {
		return Truth{}, err
	}
	t := Truth{Keys: []json.RawMessage{}}
	recs := []byte{'['}
	for _, p := range s.snapshot().plugins {
		if !q.match(p) {
			continue
		}
		t.Count++
		t.Keys = append(t.Keys, strconv.AppendInt(nil, int64(p.id), 10))
		if withRecords {
			if t.Count > 1 {
				recs = append(recs, ',')
			}
			recs = append(recs, p.apiFrag...)
		}
	}
	if withRecords {
		t.Records = append(recs, ']')
	}
	return t, nil
}

// State is the tenant at a glance, as GET /_sim/state shows it.
type State struct {
	Now    time.Time `json:"now"`
	Step   int64     `json:"step"`
	Seed   int64     `json:"seed"`
	Assets struct {
		Total      int            `json:"total"`
		Live       int            `json:"live"`
		Deleted    int            `json:"deleted"`
		Terminated int            `json:"terminated"`
		ByProfile  map[string]int `json:"by_profile"`
		BySource   map[string]int `json:"by_source"`
	} `json:"assets"`
	// Findings of live assets.
	Findings struct {
		Total      int            `json:"total"`
		ByState    map[string]int `json:"by_state"`
		BySeverity map[string]int `json:"by_severity"`
	} `json:"findings"`
	Compliance struct {
		Total    int            `json:"total"`
		ByStatus map[string]int `json:"by_status"`
		ByState  map[string]int `json:"by_state"`
	} `json:"compliance"`
	Plugins int `json:"plugins"`
	// Exports counts export jobs by kind and status.
	Exports map[string]map[string]int `json:"exports"`
	Imports int                       `json:"imports"`
}

// State summarises the tenant.
func (s *Server) State() State {
	now := s.realNow()
	s.mu.Lock()
	defer s.mu.Unlock()
	var st State
	st.Now, st.Step, st.Seed, st.Plugins, st.Imports = timeOf(s.t.now), s.step, s.cfg.Seed, len(s.t.plugins), len(s.imports)
	st.Assets.ByProfile, st.Assets.BySource = map[string]int{}, map[string]int{}
	st.Findings.ByState, st.Findings.BySeverity = map[string]int{}, map[string]int{}
	st.Compliance.ByStatus, st.Compliance.ByState = map[string]int{}, map[string]int{}
	for _, a := range s.t.assets {
		st.Assets.Total++
		switch {
		case a.deleted != 0:
			st.Assets.Deleted++
			continue
		case a.terminated != 0:
			st.Assets.Terminated++
			continue
		}
		st.Assets.Live++
		st.Assets.ByProfile[profiles[a.profile].name]++
		for _, src := range a.sources {
			st.Assets.BySource[src.name]++
		}
		for i := range a.findings {
			f := &a.findings[i]
			st.Findings.Total++
			st.Findings.ByState[stateNames[f.state]]++
			st.Findings.BySeverity[severityNames[f.sev]]++
		}
		for i := range a.compliance {
			c := &a.compliance[i]
			st.Compliance.Total++
			st.Compliance.ByStatus[compStatusNames[c.status]]++
			st.Compliance.ByState[stateNames[c.state]]++
		}
	}
	st.Exports = map[string]map[string]int{}
	for _, j := range s.jobs {
		m := st.Exports[j.kindLabel()]
		if m == nil {
			m = map[string]int{}
			st.Exports[j.kindLabel()] = m
		}
		m[s.stateOf(j, now).status]++
	}
	return st
}

// ImportRecord is one import as GET /_sim/imports shows it.
type ImportRecord struct {
	JobID     string   `json:"job_id"`
	Source    string   `json:"source"`
	Assets    int      `json:"assets"`
	BodyBytes int      `json:"body_bytes"`
	Error     string   `json:"error,omitempty"`
	Created   []string `json:"created"`
	Updated   []string `json:"updated"`
	StartTime int64    `json:"start_time"`
}

// Imports lists what was imported, oldest first.
func (s *Server) Imports() []ImportRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ImportRecord, 0, len(s.imports))
	for _, j := range s.imports {
		out = append(out, ImportRecord{JobID: j.id, Source: j.source, Assets: j.total, BodyBytes: j.bodyBytes, Error: j.errMsg,
			Created: nonNil(j.created), Updated: nonNil(j.updated), StartTime: j.start})
	}
	return out
}

// ---- admin handlers ----

func (s *Server) handleSimState(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.State())
}

func (s *Server) handleSimAdvance(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Hours    *float64 `json:"hours"`
		Duration string   `json:"duration"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": `body must be {"hours":N} or {"duration":"36h"}`})
		return
	}
	var d time.Duration
	switch {
	case req.Hours != nil:
		d = time.Duration(*req.Hours * float64(time.Hour))
	case req.Duration != "":
		var err error
		if d, err = time.ParseDuration(req.Duration); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
	default:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": `body must be {"hours":N} or {"duration":"36h"}`})
		return
	}
	sum, err := s.Advance(d)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, sum)
}

func (s *Server) handleSimGetFaults(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Faults().toJSON())
}

func (s *Server) handleSimPutFaults(w http.ResponseWriter, r *http.Request) {
	var fj faultsJSON
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fj); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	f, err := fj.faults()
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	s.SetFaults(f)
	writeJSON(w, http.StatusOK, s.Faults().toJSON())
}

func (s *Server) handleSimTruth(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	s.writeTruth(w, r.PathValue("kind"), body)
}

func (s *Server) handleSimTruthPlugins(w http.ResponseWriter, r *http.Request) {
	body, _ := json.Marshal(map[string]any{"last_updated": r.URL.Query().Get("last_updated"),
		"include_records": r.URL.Query().Get("include_records") == "true"})
	s.writeTruth(w, TruthPlugins, body)
}

func (s *Server) writeTruth(w http.ResponseWriter, kind string, body []byte) {
	t, err := s.Truth(kind, body)
	if err != nil {
		var br *badRequest
		if errors.As(err, &br) {
			writeBadRequest(w, err.Error())
		} else {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
		}
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (s *Server) handleSimStats(w http.ResponseWriter, r *http.Request) {
	st := s.Stats()
	// JSON object keys must be strings: status codes become "200".
	req := map[string]map[string]int{}
	for route, m := range st.Requests {
		req[route] = map[string]int{}
		for code, n := range m {
			req[route][strconv.Itoa(code)] = n
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"requests": req, "user_agents": st.UserAgents, "max_retry_count": st.MaxRetryCount,
		"exports_created": st.ExportsCreated, "conflicts": st.Conflicts, "imports": st.Imports,
		"import_body_bytes_max": st.ImportBodyBytesMax, "max_exports_running": st.MaxExportsRunning,
	})
}

func (s *Server) handleSimExpire(w http.ResponseWriter, r *http.Request) {
	s.ExpireChunks()
	writeJSON(w, http.StatusOK, map[string]bool{"expired": true})
}

func (s *Server) handleSimImports(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"imports": s.Imports()})
}
