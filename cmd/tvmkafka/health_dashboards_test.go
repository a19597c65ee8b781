package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/otlptranslator"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.yaml.in/yaml/v3"

	"github.com/tvmkafka/tvmkafka/pipeline/telemetry"
)

// exportedMetrics returns every metric name /metrics can serve: tvmkafka's
// instruments under the names the Prometheus exporter gives them, and what the
// server serves beside them (Go runtime and process metrics), read from a real
// scrape. Most instruments are created at init; the source creates its
// watermark gauge when it starts, so a source is started first.
func exportedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	cluster := newKfake(t)
	defer cluster.Close()
	cfg := testConfig(cluster.ListenAddrs(), newSim(t).URL)
	cfg.HTTP.Addr = "" // one provider per process: the scrape below serves it
	a, err := newApp(context.Background(), cfg,
		slog.New(slog.NewTextHandler(io.Discard, nil)), roles{source: true, sink: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.newSource(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	namer := otlptranslator.NewMetricNamer("", otlptranslator.UnderscoreEscapingWithSuffixes)
	kinds := map[string]otlptranslator.MetricType{
		"counter": otlptranslator.MetricTypeMonotonicCounter, "histogram": otlptranslator.MetricTypeHistogram,
		"gauge": otlptranslator.MetricTypeGauge,
	}
	names := map[string]bool{}
	for _, in := range telemetry.Instruments() {
		name, err := namer.Build(otlptranslator.Metric{Name: in.Name, Unit: in.Unit, Type: kinds[in.Kind]})
		if err != nil {
			t.Fatalf("%s: %v", in.Name, err)
		}
		names[name] = true
		if in.Kind == "histogram" {
			names[name+"_bucket"], names[name+"_sum"], names[name+"_count"] = true, true, true
		}
	}

	srv, err := telemetry.Serve(telemetry.Config{Addr: "127.0.0.1:0"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	for name := range scrape(t, "http://"+srv.Addr()+"/metrics") {
		if strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_") {
			names[name] = true
		}
	}
	translationMatchesExporter(t, names)
	return names
}

// translationMatchesExporter records a counter, a histogram and a gauge on a
// provider of its own with the Prometheus exporter Serve uses, and checks that
// the exporter names them as the translation does.
func translationMatchesExporter(t *testing.T, translated map[string]bool) {
	t.Helper()
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		t.Fatal(err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))
	defer mp.Shutdown(context.Background())
	m := mp.Meter("translation")
	ctx := context.Background()
	h, _ := m.Float64Histogram("http.client.request.duration", metric.WithUnit("s"))
	h.Record(ctx, 0.1)
	c, _ := m.Int64Counter("tvmkafka.tenable.retries", metric.WithUnit("{request}"))
	c.Add(ctx, 1)
	_, _ = m.Float64ObservableGauge("tvmkafka.sink.lag", metric.WithUnit("{record}"),
		metric.WithFloat64Callback(func(_ context.Context, o metric.Float64Observer) error { o.Observe(1); return nil }))
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, f := range families {
		got[f.GetName()] = true
	}
	for _, want := range []string{"http_client_request_duration_seconds", "tvmkafka_tenable_retries_total", "tvmkafka_sink_lag"} {
		if !got[want] || !translated[want] {
			t.Fatalf("%s: exporter %v, translation %v (exporter names: %v)", want, got[want], translated[want], got)
		}
	}
}

// scrape returns the metric names of a Prometheus text exposition.
func scrape(t *testing.T, url string) map[string]bool {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	names := map[string]bool{}
	re := regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]`)
	for _, line := range strings.Split(string(body), "\n") {
		if m := re.FindStringSubmatch(line); m != nil {
			names[m[1]] = true
		}
	}
	return names
}

// metricRefs are the metric names a PromQL expression refers to: tokens
// shaped like the names the code exports, or the Prometheus built-in `up`.
func metricRefs(expr string) []string {
	var out []string
	for _, tok := range regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`).FindAllString(expr, -1) {
		for _, p := range []string{"tvmkafka_", "http_client_", "go_", "process_"} {
			if strings.HasPrefix(tok, p) {
				out = append(out, tok)
			}
		}
	}
	return out
}

const observability = "../../deploy/observability/"

// TestDashboardAndAlertsQueryExportedMetrics: every metric the Grafana
// dashboard and the Prometheus rules query is one the code exports, and the
// rules cover what an operator must be told.
func TestDashboardAndAlertsQueryExportedMetrics(t *testing.T) {
	exported := exportedMetrics(t)
	check := func(where, expr string) {
		refs := metricRefs(expr)
		if len(refs) == 0 && !strings.Contains(expr, "up{") {
			t.Errorf("%s: %q queries no tvmkafka metric", where, expr)
		}
		for _, m := range refs {
			if !exported[m] {
				t.Errorf("%s queries %s, which the code does not export", where, m)
			}
		}
	}

	raw, err := os.ReadFile(observability + "alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Expr        string            `yaml:"expr"`
				For         string            `yaml:"for"`
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	if err := dec.Decode(&rules); err != nil {
		t.Fatalf("alerts.yml: %v", err)
	}
	alerts := map[string]string{}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
				t.Errorf("rule %+v: want a name, a severity and a summary", r)
			}
			alerts[r.Alert] = r.Expr
			check("alert "+r.Alert, r.Expr)
		}
	}
	// What the rules must watch, by the metric that tells it.
	for concern, metric := range map[string]string{
		"watermark age per stream": "tvmkafka_source_watermark_age_seconds",
		"export failures":          "tvmkafka_source_exports_total",
		"dead-letter rate":         "tvmkafka_sink_records_dead_lettered_total",
		"sink lag":                 "tvmkafka_sink_lag",
		"a stream with no owner":   "tvmkafka_source_stream_owned",
	} {
		found := false
		for _, expr := range alerts {
			found = found || slices.Contains(metricRefs(expr), metric)
		}
		if !found {
			t.Errorf("no alert rule on %s (%s)", concern, metric)
		}
	}

	raw, err = os.ReadFile(observability + "grafana/dashboards/tvmkafka.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		UID    string `json:"uid"`
		Panels []struct {
			Title   string `json:"title"`
			Type    string `json:"type"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("dashboard: %v", err)
	}
	queries := 0
	for _, p := range dash.Panels {
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			queries++
			check("panel "+p.Title, tg.Expr)
		}
	}
	if dash.UID == "" || queries < 10 {
		t.Errorf("dashboard uid %q with %d queries", dash.UID, queries)
	}
}

// TestMetricRefs guards the extraction the test above relies on.
func TestMetricRefs(t *testing.T) {
	got := metricRefs(`histogram_quantile(0.95, sum by (le) (rate(tvmkafka_sink_import_job_duration_seconds_bucket{job="x"}[5m]))) / go_goroutines`)
	want := []string{"tvmkafka_sink_import_job_duration_seconds_bucket", "go_goroutines"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}
