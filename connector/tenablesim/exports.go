package tenablesim

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// Export kinds.
const (
	kindAssets     = "assets"
	kindVulns      = "vulns"
	kindCompliance = "compliance"
)

// Export job states.
const (
	statusQueued     = "QUEUED"
	statusProcessing = "PROCESSING"
	statusReady      = "READY"
	statusFinished   = "FINISHED"
	statusCancelled  = "CANCELLED"
	statusError      = "ERROR"
)

var errorReasons = []string{
	"The export request timed out. Try again.",
	"An unexpected error occurred while processing the export. Try again later.",
	"The export could not be completed. If this issue persists, please contact support.",
}

// snapshot is the tenant as an export saw it when it was requested.
type snapshot struct {
	now     int64
	assets  []*asset
	plugins []*plugin
}

func (s *Server) snapshot() snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	return snapshot{now: s.t.now, assets: s.t.assets, plugins: s.t.plugins}
}

// compRef points at one compliance result of a snapshot.
type compRef struct {
	asset, result int32
}

// job is one export job. Its state is a pure function of the real time elapsed
// since it was created, so nothing runs in the background.
type job struct {
	kind      string
	v2        bool
	uuid      string
	created   int64 // tenant ms
	startReal time.Time
	key       string // kind + normalised request, for 409 detection

	aq *assetQuery
	vq *vulnQuery
	cq *compQuery

	snap     snapshot
	mask     []bool    // vulns: plugin filter
	items    []int32   // assets and vulns: asset indexes in snapshot order
	comp     []compRef // compliance: results in order
	chunks   []chunkPlan
	order    []int // processing order of the non-empty chunk ids
	empty    int
	perChunk int

	errorAfter, failAt int // fault scripts, -1 = none
	reason             string

	cancelled    bool
	cancelK      int
	cancelTenant int64
	expired      bool
}

type chunkPlan struct {
	lo, hi int // range of items (or comp)
	count  int // records
}

// jobState is a job's state at one instant.
type jobState struct {
	status                       string
	reason                       string
	available, failed, cancelled []int
	finished                     int
}

func (j *job) total() int { return len(j.chunks) }

func (s *Server) stateOf(j *job, now time.Time) jobState {
	n := len(j.order)
	elapsed := now.Sub(j.startReal)
	k := -1
	if elapsed >= s.cfg.QueueLatency {
		k = int((elapsed - s.cfg.QueueLatency) / s.cfg.ChunkLatency)
	}
	avail := func(m int) []int {
		m = max(0, min(m, n))
		out := slices.Clone(j.order[:m])
		return append([]int{}, out...)
	}
	st := jobState{}
	switch {
	case j.cancelled:
		st.status = statusCancelled
		st.available = avail(j.cancelK)
	case k < 0:
		st.status = statusQueued
		st.available = []int{}
	case j.errorAfter >= 0:
		if k > j.errorAfter {
			st.status, st.reason = statusError, j.reason
			st.available = avail(j.errorAfter)
		} else {
			st.status = statusProcessing
			st.available = avail(k)
		}
	case j.failAt >= 0 && k > j.failAt:
		st.status = statusFinished
		st.available = avail(j.failAt)
		st.failed = []int{j.order[j.failAt]}
		st.cancelled = slices.Clone(j.order[j.failAt+1:])
		st.reason = strconv.Itoa(len(st.failed)) + " of " + strconv.Itoa(j.total()) + " chunks failed to process. The remaining chunks are available for download."
	case k >= n:
		st.status = statusFinished
		st.available = avail(n)
	default:
		st.status = statusProcessing
		st.available = avail(k)
	}
	if st.status == statusProcessing && j.kind == kindCompliance && len(st.available) > 0 {
		st.status = statusReady
	}
	if st.failed == nil {
		st.failed = []int{}
	}
	if st.cancelled == nil {
		st.cancelled = []int{}
	}
	if k >= 0 || j.cancelled {
		st.finished = len(st.available) + len(st.failed)
		if k >= 0 {
			st.finished += j.empty
		}
	}
	return st
}

func terminal(status string) bool {
	return status == statusFinished || status == statusCancelled || status == statusError
}

// finishesAt estimates when a running job finishes, for Retry-After.
func (s *Server) finishesAt(j *job) time.Time {
	return j.startReal.Add(s.cfg.QueueLatency + time.Duration(len(j.order)+1)*s.cfg.ChunkLatency)
}

// plan computes which records the export holds and how they are chunked.
func (s *Server) plan(j *job) {
	switch j.kind {
	case kindAssets:
		for i, a := range j.snap.assets {
			if j.aq.match(s.w, a) {
				j.items = append(j.items, int32(i))
			}
		}
		j.perChunk = j.aq.chunkSize
		for lo := 0; lo < len(j.items); lo += j.perChunk {
			hi := min(lo+j.perChunk, len(j.items))
			j.chunks = append(j.chunks, chunkPlan{lo: lo, hi: hi, count: hi - lo})
		}
	case kindVulns:
		j.mask = j.vq.pluginMask(j.snap.plugins)
		for i, a := range j.snap.assets {
			if j.vq.matchAsset(s.w, a) {
				j.items = append(j.items, int32(i))
			}
		}
		j.perChunk = j.vq.numAssets
		for lo := 0; lo < len(j.items); lo += j.perChunk {
			hi := min(lo+j.perChunk, len(j.items))
			c := chunkPlan{lo: lo, hi: hi}
			for _, ai := range j.items[lo:hi] {
				a := j.snap.assets[ai]
				for fi := range a.findings {
					if j.vq.matchFinding(s.w, j.mask, &a.findings[fi]) {
						c.count++
					}
				}
			}
			j.chunks = append(j.chunks, c)
		}
	case kindCompliance:
		for i, a := range j.snap.assets {
			if !j.cq.matchAsset(s.w, a) {
				continue
			}
			for ri := range a.compliance {
				if j.cq.matchResult(&a.compliance[ri]) {
					j.comp = append(j.comp, compRef{int32(i), int32(ri)})
				}
			}
		}
		j.perChunk = j.cq.numFindings
		for lo := 0; lo < len(j.comp); lo += j.perChunk {
			hi := min(lo+j.perChunk, len(j.comp))
			j.chunks = append(j.chunks, chunkPlan{lo: lo, hi: hi, count: hi - lo})
		}
	}
}

// planOrder fixes the order in which the non-empty chunks become available:
// roughly ascending, never sorted, a permutation fixed by the job's identity.
func (s *Server) planOrder(j *job) {
	r := rand.New(rand.NewPCG(uint64(s.cfg.Seed), strHash(j.uuid)))
	for id, c := range j.chunks {
		if c.count == 0 {
			j.empty++
			continue
		}
		j.order = append(j.order, id+1)
	}
	for i := 0; i+1 < len(j.order); i++ {
		if r.IntN(3) == 0 {
			k := i + 1 + r.IntN(min(3, len(j.order)-i-1))
			j.order[i], j.order[k] = j.order[k], j.order[i]
		}
	}
}

// kindLabel names the export for stats ("assets-v2" for v2 asset exports).
func (j *job) kindLabel() string {
	if j.kind == kindAssets && j.v2 {
		return "assets-v2"
	}
	return j.kind
}

func (s *Server) handleExportCreate(kind string, v2 bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			writeBadRequest(w, "could not read the request body")
			return
		}
		if kind == kindCompliance && len(bytes.TrimSpace(body)) == 0 {
			writeTenableError(w, http.StatusUnsupportedMediaType, "Unsupported Media Type", "Unsupported Media Type")
			return
		}
		j, err := s.newJob(kind, v2, body)
		if err != nil {
			writeBadRequest(w, err.Error())
			return
		}
		s.plan(j) // outside the lock: the snapshot is immutable
		status, payload, retry := s.registerJob(j)
		switch status {
		case http.StatusConflict:
			s.stats.update(func(st *Stats) { st.Conflicts++ })
			writeJSON(w, status, payload)
		case http.StatusTooManyRequests:
			writeTooMany(w, retry)
		default:
			writeJSON(w, status, payload)
		}
	}
}

// newJob parses the request and plans the export against a fresh snapshot.
func (s *Server) newJob(kind string, v2 bool, body []byte) (*job, error) {
	snap := s.snapshot()
	j := &job{kind: kind, v2: v2, snap: snap, created: snap.now, errorAfter: -1, failAt: -1}
	var err error
	switch kind {
	case kindAssets:
		j.aq, err = parseAssetQuery(body, v2)
		if err == nil {
			j.key = kind + string(j.aq.canonical)
		}
	case kindVulns:
		j.vq, err = parseVulnQuery(body, snap.now)
		if err == nil {
			j.key = kind + string(j.vq.canonical)
		}
	case kindCompliance:
		j.cq, err = parseCompQuery(body)
		if err == nil {
			j.key = kind + string(j.cq.canonical)
		}
	}
	return j, err
}

// registerJob applies the duplicate and concurrency rules and starts the job.
func (s *Server) registerJob(j *job) (int, any, int) {
	now := s.realNow()
	s.mu.Lock()
	running, sameKind := 0, 1 // sameKind counts j itself
	var soonest time.Time
	for _, o := range s.jobs {
		st := s.stateOf(o, now)
		if terminal(st.status) {
			continue
		}
		if o.kindLabel() == j.kindLabel() {
			sameKind++
		}
		if o.key == j.key {
			s.mu.Unlock()
			return http.StatusConflict, map[string]string{"active_job_id": o.uuid,
				"failure_reason": "The request could not be completed due to a conflict with the ongoing export"}, 0
		}
		running++
		if f := s.finishesAt(o); soonest.IsZero() || f.Before(soonest) {
			soonest = f
		}
	}
	if running >= s.cfg.MaxConcurrentExports {
		s.mu.Unlock()
		return http.StatusTooManyRequests, nil, int(time.Until(soonest).Seconds()) + 1
	}
	s.jobSeq++
	j.uuid = uuidOf(uint64(s.cfg.Seed), domJob, s.jobSeq)
	j.startReal = now
	s.planOrder(j)
	if s.faults.ExportErrors > 0 {
		s.faults.ExportErrors--
		j.errorAfter = min(s.faults.ExportErrorAfterChunks, len(j.order))
		j.reason = errorReasons[s.jobSeq%uint64(len(errorReasons))]
	} else if s.faults.ChunkFailures > 0 && len(j.order) > 0 {
		s.faults.ChunkFailures--
		j.failAt = min(s.faults.ChunkFailureAfter, len(j.order)-1)
	}
	s.jobs = append(s.jobs, j)
	s.jobByID[j.uuid] = j
	s.mu.Unlock()
	s.stats.update(func(st *Stats) {
		st.ExportsCreated[j.kindLabel()]++
		st.MaxExportsRunning[j.kindLabel()] = max(st.MaxExportsRunning[j.kindLabel()], sameKind)
	})
	s.log.Debug("export created", "kind", j.kindLabel(), "export_uuid", j.uuid, "chunks", j.total(), "empty_chunks", j.empty)
	return http.StatusOK, map[string]string{"export_uuid": j.uuid}, 0
}

// lookup finds a job of the given kind.
func (s *Server) lookup(kind, uuid string) *job {
	s.mu.Lock()
	defer s.mu.Unlock()
	if j := s.jobByID[uuid]; j != nil && j.kind == kind {
		return j
	}
	return nil
}

func writeJobNotFound(w http.ResponseWriter, kind, uuid string) {
	if kind == kindCompliance {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "Export '" + uuid + "' does not exist"})
		return
	}
	b := appendIntField([]byte{'{'}, "status", 404)
	b = appendStrField(b, "message", "Job with UUID: "+uuid+" not found")
	writeRawJSON(w, http.StatusNotFound, append(b, '}'))
}

func (s *Server) handleStatus(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		uuid := r.PathValue("uuid")
		j := s.lookup(kind, uuid)
		if j == nil {
			writeJobNotFound(w, kind, uuid)
			return
		}
		s.mu.Lock()
		st := s.stateOf(j, s.realNow())
		s.mu.Unlock()
		writeRawJSON(w, http.StatusOK, s.statusJSON(j, st, true))
	}
}

// statusJSON renders a job's status; full=false gives the job-list entry.
func (s *Server) statusJSON(j *job, st jobState, full bool) []byte {
	b := []byte{'{'}
	switch j.kind {
	case kindAssets:
		if !full {
			b = appendStrField(b, "uuid", j.uuid)
		}
		b = appendStrField(b, "status", st.status)
		b = appendOptStr(b, "reason", st.reason)
		if full {
			b = appendKey(b, "chunks_available")
			b = appendInts(b, st.available)
			if len(st.failed) > 0 {
				b = appendKey(b, "chunks_failed")
				b = appendInts(b, st.failed)
				b = appendKey(b, "chunks_cancelled")
				b = appendInts(b, st.cancelled)
			}
		} else {
			if st.status != statusError {
				b = appendIntField(b, "total_chunks", int64(j.total()))
			}
			b = appendStrField(b, "filters", j.aq.filtersJSON())
			if st.status == statusFinished {
				b = appendIntField(b, "finished_chunks", int64(st.finished))
			}
			b = appendIntField(b, "num_assets_per_chunk", int64(j.perChunk))
			b = appendIntField(b, "created", j.created)
		}
	case kindVulns, kindCompliance:
		b = appendStrField(b, "uuid", j.uuid)
		b = appendStrField(b, "status", st.status)
		b = appendOptStr(b, "reason", st.reason)
		if full {
			b = appendKey(b, "chunks_available")
			b = appendInts(b, st.available)
			b = appendKey(b, "chunks_failed")
			b = appendInts(b, st.failed)
			b = appendKey(b, "chunks_cancelled")
			b = appendInts(b, st.cancelled)
		}
		if j.kind == kindVulns {
			b = appendIntField(b, "total_chunks", int64(j.total()))
		}
		b = appendIntField(b, "chunks_available_count", int64(len(st.available)))
		b = appendIntField(b, "empty_chunks_count", int64(j.empty))
		b = appendIntField(b, "finished_chunks", int64(st.finished))
		b = appendKey(b, "filters")
		if j.kind == kindVulns {
			fb, _ := json.Marshal(j.vq.echo)
			b = append(b, fb...)
			b = appendIntField(b, "num_assets_per_chunk", int64(j.perChunk))
		} else {
			fb, _ := json.Marshal(j.cq.echo)
			b = append(b, fb...)
			b = appendIntField(b, "num_findings", int64(j.perChunk))
			b = appendStrArrayField(b, "asset", nonNil(j.cq.assets))
		}
		b = appendIntField(b, "created", j.created)
	}
	return append(b, '}')
}

func appendInts(b []byte, vs []int) []byte {
	b = append(b, '[')
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(v), 10)
	}
	return append(b, ']')
}

func (s *Server) handleJobList(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		now := s.realNow()
		s.mu.Lock()
		var entries [][]byte
		for i := len(s.jobs) - 1; i >= 0 && len(entries) < 1000; i-- {
			j := s.jobs[i]
			if j.kind != kind {
				continue
			}
			st := s.stateOf(j, now)
			if kind == kindVulns && terminal(st.status) && j.created < s.t.now-3*dayMs {
				continue // the vuln list keeps completed jobs for three days only
			}
			entries = append(entries, s.statusJSON(j, st, false))
		}
		s.mu.Unlock()
		b := []byte(`{"exports":[`)
		b = append(b, bytes.Join(entries, []byte{','})...)
		b = append(b, "]}"...)
		writeRawJSON(w, http.StatusOK, b)
	}
}

func (s *Server) handleCancel(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		uuid := r.PathValue("uuid")
		now := s.realNow()
		s.mu.Lock()
		j := s.jobByID[uuid]
		if j == nil || j.kind != kind {
			s.mu.Unlock()
			writeJobNotFound(w, kind, uuid)
			return
		}
		st := s.stateOf(j, now)
		if terminal(st.status) {
			s.mu.Unlock()
			if kind == kindCompliance {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "Cannot cancel finished export"})
			} else {
				writeRawJSON(w, http.StatusBadRequest, []byte(`{"status":400,"message":"Cannot cancel a completed job"}`))
			}
			return
		}
		// Tenable finishes the chunk in progress and stops the rest.
		j.cancelK = len(st.available)
		if st.status != statusQueued && j.cancelK < len(j.order) {
			j.cancelK++
		}
		j.cancelled = true
		j.cancelTenant = s.t.now
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]string{"status": statusCancelled})
	}
}

func (s *Server) handleChunk(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		uuid := r.PathValue("uuid")
		now := s.realNow()
		s.mu.Lock()
		j := s.jobByID[uuid]
		if j == nil || j.kind != kind {
			s.mu.Unlock()
			writeJobNotFound(w, kind, uuid)
			return
		}
		id, err := strconv.Atoi(r.PathValue("chunk"))
		if err != nil || id < 1 || id > j.total() {
			s.mu.Unlock()
			writeTenableError(w, http.StatusNotFound, "Not Found", "Chunk "+r.PathValue("chunk")+" of export "+uuid+" does not exist")
			return
		}
		st := s.stateOf(j, now)
		ttl := dayMs
		if kind == kindCompliance {
			ttl = 3 * dayMs
		}
		expired := j.expired || s.t.now >= j.created+ttl
		if j.cancelled {
			expired = j.expired || s.t.now >= j.cancelTenant+3*dayMs
		}
		empty := j.chunks[id-1].count == 0 && st.status != statusQueued
		ready := slices.Contains(st.available, id) || empty
		var truncate, malformed, slow bool
		var delay time.Duration
		if ready && !expired {
			if s.faults.TruncateChunks > 0 {
				s.faults.TruncateChunks--
				truncate = true
			} else if s.faults.MalformedRecords > 0 && j.chunks[id-1].count > 0 {
				s.faults.MalformedRecords--
				malformed = true
			} else if s.faults.SlowChunks > 0 {
				s.faults.SlowChunks--
				slow, delay = true, s.faults.SlowChunkDelay
			}
		}
		s.mu.Unlock()
		switch {
		case expired:
			writeTenableError(w, http.StatusNotFound, "Not Found", "Chunk "+strconv.Itoa(id)+" of export "+uuid+" has expired")
			return
		case slices.Contains(st.failed, id) || slices.Contains(st.cancelled, id):
			writeTenableError(w, http.StatusNotFound, "Not Found", "Chunk "+strconv.Itoa(id)+" of export "+uuid+" is not available")
			return
		case !ready:
			writeBadRequest(w, "Chunk "+strconv.Itoa(id)+" of export "+uuid+" is not ready")
			return
		}
		if kind == kindAssets {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
		} else {
			w.Header().Set("Content-Type", "application/octet-stream")
		}
		if truncate {
			var buf bytes.Buffer
			_ = s.renderChunk(r.Context(), &buf, j, id)
			body := buf.Bytes()
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(body[:truncatePoint(body)])
			if f, ok := w.(http.Flusher); ok {
				f.Flush()
			}
			// Returning with fewer bytes than declared makes net/http close the
			// connection: the client sees the body end early.
			return
		}
		if malformed {
			var buf bytes.Buffer
			_ = s.renderChunk(r.Context(), &buf, j, id)
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(malformedFirstRecord(buf.Bytes()))
			return
		}
		w.WriteHeader(http.StatusOK)
		if slow {
			if f, ok := w.(http.Flusher); ok {
				f.Flush()
			}
			t := time.NewTimer(delay)
			select {
			case <-r.Context().Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		bw := bufio.NewWriterSize(w, 64<<10)
		if err := s.renderChunk(r.Context(), bw, j, id); err != nil {
			return
		}
		_ = bw.Flush()
	}
}

// MalformedMember is the member the malformed-records fault puts at the start of
// a chunk's first record: its value is a bare word, which is not JSON.
const MalformedMember = `"sim_malformed":not_json,`

// malformedFirstRecord breaks the first record of a rendered chunk (which starts
// with "[{") by inserting MalformedMember as its first member.
func malformedFirstRecord(body []byte) []byte {
	return slices.Concat(body[:2], []byte(MalformedMember), body[2:])
}

// truncatePoint cuts a chunk inside a record, never at its end.
func truncatePoint(body []byte) int {
	if len(body) <= 2 {
		return len(body) / 2
	}
	cut := len(body) / 2
	// Step forward to just after a '{' so the cut is certainly inside a record.
	if i := bytes.IndexByte(body[cut:], '{'); i >= 0 && cut+i+1 < len(body) {
		return cut + i + 1
	}
	return cut
}

// renderChunk streams chunk id of j as a JSON array into out.
func (s *Server) renderChunk(ctx context.Context, out io.Writer, j *job, id int) error {
	c := j.chunks[id-1]
	buf := make([]byte, 0, 64<<10)
	buf = append(buf, '[')
	n := 0
	flush := func() error {
		if len(buf) < 48<<10 {
			return nil
		}
		if _, err := out.Write(buf); err != nil {
			return err
		}
		buf = buf[:0]
		return ctx.Err()
	}
	sep := func() {
		if n > 0 {
			buf = append(buf, ',')
		}
		n++
	}
	switch j.kind {
	case kindAssets:
		for _, ai := range j.items[c.lo:c.hi] {
			sep()
			if j.v2 {
				buf = appendAssetV2(buf, s.w, j.snap.assets[ai], j.aq.opts)
			} else {
				buf = appendAssetV1(buf, s.w, j.snap.assets[ai], j.aq.opts)
			}
			if err := flush(); err != nil {
				return err
			}
		}
	case kindVulns:
		for _, ai := range j.items[c.lo:c.hi] {
			a := j.snap.assets[ai]
			for fi := range a.findings {
				f := &a.findings[fi]
				if !j.vq.matchFinding(s.w, j.mask, f) {
					continue
				}
				sep()
				buf = appendVulnRecord(buf, s.w, a, j.snap.plugins[f.plugin], f)
				if err := flush(); err != nil {
					return err
				}
			}
		}
	case kindCompliance:
		for _, ref := range j.comp[c.lo:c.hi] {
			a := j.snap.assets[ref.asset]
			sep()
			buf = appendComplianceRecord(buf, s.w, a, &a.compliance[ref.result])
			if err := flush(); err != nil {
				return err
			}
		}
	}
	buf = append(buf, ']')
	_, err := out.Write(buf)
	return err
}

// ExpireChunks makes every existing chunk expired: downloads answer 404.
func (s *Server) ExpireChunks() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, j := range s.jobs {
		j.expired = true
	}
}
