package main

import (
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// otlpReceiver is an in-process OTLP/HTTP trace receiver: it decodes each
// protobuf export request and keeps the spans.
type otlpReceiver struct {
	mu    sync.Mutex
	spans []*tracepb.Span
}

func (r *otlpReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.URL.Path != "/v1/traces" || req.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "want protobuf on /v1/traces", http.StatusBadRequest)
		return
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var ex collectortrace.ExportTraceServiceRequest
	if err := proto.Unmarshal(body, &ex); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	for _, rs := range ex.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			r.spans = append(r.spans, ss.Spans...)
		}
	}
	r.mu.Unlock()
	out, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

func attr(s *tracepb.Span, key string) string {
	for _, a := range s.Attributes {
		if a.Key == key {
			if v := a.Value.GetStringValue(); v != "" {
				return v
			}
			return a.Value.String()
		}
	}
	return ""
}

// TestOneExportIsTraced runs the vulns and plugins streams once with
// OTEL_EXPORTER_OTLP_ENDPOINT set and checks what reaches the receiver: a span
// per export, per chunk (a child of its export's span), per plugin page, and a
// client span per request to Tenable VM.
func TestOneExportIsTraced(t *testing.T) {
	recv := &otlpReceiver{}
	collector := httptest.NewServer(recv)
	defer collector.Close()
	sim := newSim(t)
	cluster := newKfake(t)
	defer cluster.Close()
	checkEnv(t, sim.URL, strings.Join(cluster.ListenAddrs(), ","))
	t.Setenv("TVMKAFKA_SOURCE_PLUGINS_PAGE_SIZE", "500")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
	t.Setenv("OTEL_TRACES_EXPORTER", "")
	if out, err := runCLI(t, "source", "--once", "--streams", "vulns,plugins"); err != nil {
		t.Fatalf("source run: %v\n%s", err, out)
	}

	recv.mu.Lock()
	defer recv.mu.Unlock()
	byName := map[string][]*tracepb.Span{}
	byID := map[string]*tracepb.Span{}
	for _, s := range recv.spans {
		byName[s.Name] = append(byName[s.Name], s)
		byID[hex.EncodeToString(s.SpanId)] = s
	}
	exports := map[string]bool{}
	for _, s := range byName["tvmkafka.export"] {
		exports[attr(s, "stream")] = true
	}
	if !exports["vulns"] || !exports["plugins"] {
		t.Errorf("export spans for vulns and plugins, got streams %v", exports)
	}
	if len(byName["tvmkafka.chunk"]) == 0 || len(byName["tvmkafka.plugins.page"]) < 2 {
		t.Fatalf("want chunk spans and a span per plugin page (1500 plugins, 500 a page); got %d and %d; spans by name: %v",
			len(byName["tvmkafka.chunk"]), len(byName["tvmkafka.plugins.page"]), names(byName))
	}
	for _, c := range byName["tvmkafka.chunk"] {
		parent := byID[hex.EncodeToString(c.ParentSpanId)]
		if parent == nil || parent.Name != "tvmkafka.export" || attr(parent, "stream") != "vulns" {
			t.Errorf("chunk span %s is not a child of the vulns export span (parent %v)", c.SpanId, parent)
		}
	}
	if len(byName["POST"]) == 0 || len(byName["GET"]) == 0 {
		t.Errorf("want client spans per Tenable request; spans by name: %v", names(byName))
	}
	for _, s := range byName["GET"] {
		if s.Kind != tracepb.Span_SPAN_KIND_CLIENT || attr(s, "http.request.method") != "GET" || strings.Contains(attr(s, "url.full"), "?") {
			t.Errorf("client span %+v: want kind client, method attribute, no query in url.full", s)
			break
		}
	}
}

func names(m map[string][]*tracepb.Span) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		out[k] = len(v)
	}
	return out
}
