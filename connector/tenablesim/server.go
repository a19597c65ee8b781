package tenablesim

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Server is a simulated Tenable VM tenant. It is safe for concurrent use.
type Server struct {
	cfg     Config
	log     *slog.Logger
	w       *world
	mux     *http.ServeMux
	realNow func() time.Time

	mu         sync.Mutex // guards everything below
	t          *tenant
	step       int64
	jobs       []*job
	jobByID    map[string]*job
	jobSeq     uint64
	imports    []*importJob
	importByID map[string]*importJob
	faults     Faults
	faultRNG   *rand.Rand

	reqSeq atomic.Uint64
	stats  statsState
}

// New validates cfg and generates the tenant.
func New(cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	start := cfg.Start.UnixMilli()
	t, w := genTenant(cfg.Seed, cfg.Assets, cfg.Plugins, start)
	s := &Server{
		cfg: cfg, log: cfg.Logger, w: w, t: t, realNow: time.Now,
		jobByID: map[string]*job{}, importByID: map[string]*importJob{},
		faults:   cfg.Faults.withDefaults(),
		faultRNG: rand.New(rand.NewPCG(uint64(cfg.Seed), 0xfa017)),
	}
	s.stats.init()
	s.mux = s.routes()
	return s, nil
}

// Now returns the tenant clock. It only moves with Advance.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.UnixMilli(s.t.now).UTC()
}

// SetFaults replaces the injected faults (counters restart from the new values).
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f.withDefaults()
}

// Faults returns the faults in force, with the one-shot counters that are left.
func (s *Server) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// Handler serves the Tenable API and, under /_sim/, the admin API.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

func (s *Server) routes() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("POST /assets/export", s.handleExportCreate(kindAssets, false))
	m.HandleFunc("POST /assets/v2/export", s.handleExportCreate(kindAssets, true))
	m.HandleFunc("GET /assets/export/status", s.handleJobList(kindAssets))
	m.HandleFunc("GET /assets/export/{uuid}/status", s.handleStatus(kindAssets))
	m.HandleFunc("GET /assets/export/{uuid}/chunks/{chunk}", s.handleChunk(kindAssets))
	m.HandleFunc("POST /assets/export/{uuid}/cancel", s.handleCancel(kindAssets))
	m.HandleFunc("POST /vulns/export", s.handleExportCreate(kindVulns, false))
	m.HandleFunc("GET /vulns/export/status", s.handleJobList(kindVulns))
	m.HandleFunc("GET /vulns/export/{uuid}/status", s.handleStatus(kindVulns))
	m.HandleFunc("GET /vulns/export/{uuid}/chunks/{chunk}", s.handleChunk(kindVulns))
	m.HandleFunc("POST /vulns/export/{uuid}/cancel", s.handleCancel(kindVulns))
	m.HandleFunc("POST /compliance/export", s.handleExportCreate(kindCompliance, false))
	m.HandleFunc("GET /compliance/export/status", s.handleJobList(kindCompliance))
	m.HandleFunc("GET /compliance/export/{uuid}/status", s.handleStatus(kindCompliance))
	m.HandleFunc("GET /compliance/export/{uuid}/chunks/{chunk}", s.handleChunk(kindCompliance))
	m.HandleFunc("POST /compliance/export/{uuid}/cancel", s.handleCancel(kindCompliance))
	m.HandleFunc("GET /plugins/plugin", s.handlePlugins)
	m.HandleFunc("POST /import/assets", s.handleImport)
	m.HandleFunc("GET /import/asset-jobs", s.handleImportJobs)
	m.HandleFunc("GET /import/asset-jobs/{uuid}", s.handleImportJob)

	m.HandleFunc("GET /_sim/state", s.handleSimState)
	m.HandleFunc("POST /_sim/advance", s.handleSimAdvance)
	m.HandleFunc("GET /_sim/faults", s.handleSimGetFaults)
	m.HandleFunc("PUT /_sim/faults", s.handleSimPutFaults)
	m.HandleFunc("POST /_sim/truth/{kind}", s.handleSimTruth)
	m.HandleFunc("GET /_sim/truth/plugins", s.handleSimTruthPlugins)
	m.HandleFunc("GET /_sim/truth/asset/{id}", s.handleSimAssetFindings)
	m.HandleFunc("GET /_sim/stats", s.handleSimStats)
	m.HandleFunc("POST /_sim/expire-chunks", s.handleSimExpire)
	m.HandleFunc("GET /_sim/imports", s.handleSimImports)
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeTenableError(w, http.StatusNotFound, "Not Found", "Not Found")
	})
	return m
}

// statusRecorder remembers the status code written.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// serveHTTP adds the common headers, authenticates Tenable requests, injects
// random faults and records statistics around the routed handler.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	_, pattern := s.mux.Handler(r)
	if pattern == "" || pattern == "/" {
		pattern = "unmatched"
	}
	h := w.Header()
	seq := s.reqSeq.Add(1)
	rh := hashOf(uint64(s.cfg.Seed), domRequest, seq)
	h.Set("X-Request-Uuid", hex32(rh))
	h.Set("X-Gateway-Site-Id", "service-sim-1")
	h.Set("Date", s.Now().Format(http.TimeFormat))
	rec := &statusRecorder{ResponseWriter: w}
	admin := strings.HasPrefix(r.URL.Path, "/_sim/")
	if !admin {
		s.stats.sawRequest(r)
	}
	defer func() { s.stats.count(pattern, rec.status) }()
	if admin {
		s.mux.ServeHTTP(rec, r)
		return
	}
	if !s.authorized(r.Header.Get("X-ApiKeys")) {
		writeTenableError(rec, http.StatusUnauthorized, "Unauthorized", "Invalid credentials.")
		return
	}
	if s.injectRandomFault(rec) {
		return
	}
	s.mux.ServeHTTP(rec, r)
}

// authorized checks X-ApiKeys: "accessKey=A; secretKey=S;" with or without the
// spaces and the trailing semicolon.
func (s *Server) authorized(header string) bool {
	var ak, sk string
	for part := range strings.SplitSeq(header, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			if strings.TrimSpace(part) != "" {
				return false
			}
			continue
		}
		switch strings.TrimSpace(k) {
		case "accessKey":
			ak = strings.TrimSpace(v)
		case "secretKey":
			sk = strings.TrimSpace(v)
		default:
			return false
		}
	}
	okA := subtle.ConstantTimeCompare([]byte(ak), []byte(s.cfg.AccessKey)) == 1
	okS := subtle.ConstantTimeCompare([]byte(sk), []byte(s.cfg.SecretKey)) == 1
	return okA && okS
}

// injectRandomFault answers the request with a random 429 or 5xx, if the dice say so.
func (s *Server) injectRandomFault(w http.ResponseWriter) bool {
	s.mu.Lock()
	f := s.faults
	roll429, roll5xx, which := 1.0, 1.0, 0
	if f.Rate429 > 0 || f.Rate5xx > 0 {
		roll429, roll5xx, which = s.faultRNG.Float64(), s.faultRNG.Float64(), s.faultRNG.IntN(4)
	}
	s.mu.Unlock()
	switch {
	case roll429 < f.Rate429:
		writeTooMany(w, f.RetryAfterSeconds)
		return true
	case roll5xx < f.Rate5xx:
		switch which {
		case 0:
			writeTenableError(w, http.StatusInternalServerError, "Internal Server Error", "An internal server error occurred. Please wait a moment and try your request again.")
		case 1:
			writeGatewayHTML(w, http.StatusBadGateway, "502 Bad Gateway")
		case 2:
			w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfterSeconds))
			writeTenableError(w, http.StatusServiceUnavailable, "Service Unavailable", "Service Unavailable. Please wait a moment and try your request again.")
		default:
			writeGatewayHTML(w, http.StatusGatewayTimeout, "504 Gateway Time-out")
		}
		return true
	}
	return false
}

// ---- response helpers ----

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, fmt.Sprintf(`{"error":%q}`, err.Error()), http.StatusInternalServerError)
		return
	}
	writeRawJSON(w, status, b)
}

func writeRawJSON(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeTenableError writes the {"statusCode","error","message"} error shape.
func writeTenableError(w http.ResponseWriter, status int, errText, msg string) {
	b := appendIntField([]byte{'{'}, "statusCode", int64(status))
	b = appendStrField(b, "error", errText)
	b = appendStrField(b, "message", msg)
	writeRawJSON(w, status, append(b, '}'))
}

func writeBadRequest(w http.ResponseWriter, msg string) {
	writeTenableError(w, http.StatusBadRequest, "Bad Request", msg)
}

// writeTooMany writes Tenable's 429: an nginx HTML page with Retry-After.
func writeTooMany(w http.ResponseWriter, retryAfter int) {
	w.Header().Set("Retry-After", strconv.Itoa(max(1, retryAfter)))
	writeGatewayHTML(w, http.StatusTooManyRequests, "429 Too Many Requests")
}

func writeGatewayHTML(w http.ResponseWriter, status int, title string) {
	body := "<html>\r\n<head><title>" + title + "</title></head>\r\n<body>\r\n<center><h1>" + title + "</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
	w.Header().Set("Content-Type", "text/html")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// ---- statistics ----

// Stats are counters of what clients did, for assertions in tests.
type Stats struct {
	// Requests counts responses by route pattern (e.g. "GET /vulns/export/{uuid}/status")
	// and status code. Admin (/_sim/) requests are included.
	Requests map[string]map[int]int `json:"requests"`
	// UserAgents are the distinct User-Agent values of Tenable requests, sorted.
	UserAgents []string `json:"user_agents"`
	// MaxRetryCount is the highest X-Tio-Retry-Count seen.
	MaxRetryCount int `json:"max_retry_count"`
	// ExportsCreated counts accepted exports by kind: assets, assets-v2, vulns, compliance.
	ExportsCreated map[string]int `json:"exports_created"`
	// Conflicts counts 409 answers to duplicate exports.
	Conflicts int `json:"conflicts"`
	// MaxExportsRunning is, by kind, the most exports of that kind ever
	// running (not yet finished, failed or cancelled) at once.
	MaxExportsRunning map[string]int `json:"max_exports_running"`
	// Imports counts accepted POST /import/assets requests.
	Imports int `json:"imports"`
	// ImportBodyBytesMax is the largest import request body seen (accepted or not).
	ImportBodyBytesMax int `json:"import_body_bytes_max"`
}

type statsState struct {
	mu sync.Mutex
	st Stats
	ua map[string]bool
}

func (s *statsState) init() {
	s.st = Stats{Requests: map[string]map[int]int{}, ExportsCreated: map[string]int{}, MaxExportsRunning: map[string]int{}}
	s.ua = map[string]bool{}
}

func (s *statsState) sawRequest(r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ua := r.UserAgent(); ua != "" {
		s.ua[ua] = true
	}
	if n, err := strconv.Atoi(r.Header.Get("X-Tio-Retry-Count")); err == nil && n > s.st.MaxRetryCount {
		s.st.MaxRetryCount = n
	}
}

func (s *statsState) count(route string, status int) {
	if status == 0 {
		status = http.StatusOK
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.st.Requests[route]
	if m == nil {
		m = map[int]int{}
		s.st.Requests[route] = m
	}
	m[status]++
}

func (s *statsState) update(f func(*Stats)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.st)
}

// Stats returns a copy of the request statistics.
func (s *Server) Stats() Stats {
	s.stats.mu.Lock()
	defer s.stats.mu.Unlock()
	out := s.stats.st
	out.Requests = map[string]map[int]int{}
	for k, v := range s.stats.st.Requests {
		m := map[int]int{}
		for c, n := range v {
			m[c] = n
		}
		out.Requests[k] = m
	}
	out.ExportsCreated = map[string]int{}
	for k, v := range s.stats.st.ExportsCreated {
		out.ExportsCreated[k] = v
	}
	out.MaxExportsRunning = maps.Clone(s.stats.st.MaxExportsRunning)
	out.UserAgents = make([]string, 0, len(s.stats.ua))
	for ua := range s.stats.ua {
		out.UserAgents = append(out.UserAgents, ua)
	}
	sortSlice(out.UserAgents, func(a, b string) bool { return a < b })
	return out
}
