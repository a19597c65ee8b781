// Package telemetry gives tvmkafka's packages their OpenTelemetry instruments and
// serves them, with health checks, over HTTP: /metrics (Prometheus text format),
// /healthz (every loop makes progress: see Beat) and /readyz (start-up is over
// and every readiness input passes: Kafka reachable, Tenable answering, ...).
//
// Packages create instruments at init from the global meter provider; until Serve
// installs a real provider they record nothing, so libraries and tests pay nothing.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
)

// scope names the instrumentation scope of every tvmkafka instrument.
const scope = "github.com/tvmkafka/tvmkafka"

func meter() metric.Meter { return otel.Meter(scope) }

// Instrument describes an instrument created through this package, so tests
// can check that dashboards and alert rules query only what the code exports.
type Instrument struct {
	Name, Unit string
	Kind       string // counter, histogram or gauge
}

var (
	instrumentsMu sync.Mutex
	instruments   []Instrument
)

func remember(name, unit, kind string) {
	instrumentsMu.Lock()
	instruments = append(instruments, Instrument{Name: name, Unit: unit, Kind: kind})
	instrumentsMu.Unlock()
}

// Instruments lists the instruments created so far (those of every imported
// package, created at its init).
func Instruments() []Instrument {
	instrumentsMu.Lock()
	defer instrumentsMu.Unlock()
	return slices.Clone(instruments)
}

// Counter returns a monotonic counter; instrument errors fall back to a no-op,
// since metrics must never stop the data flow.
func Counter(name, desc, unit string) metric.Int64Counter {
	remember(name, unit, "counter")
	c, err := meter().Int64Counter(name, metric.WithDescription(desc), metric.WithUnit(unit))
	if err != nil {
		otel.Handle(err)
	}
	return c
}

// Histogram returns a histogram of integer values.
func Histogram(name, desc, unit string, bounds ...float64) metric.Int64Histogram {
	remember(name, unit, "histogram")
	opts := []metric.Int64HistogramOption{metric.WithDescription(desc), metric.WithUnit(unit)}
	if len(bounds) > 0 {
		opts = append(opts, metric.WithExplicitBucketBoundaries(bounds...))
	}
	h, err := meter().Int64Histogram(name, opts...)
	if err != nil {
		otel.Handle(err)
	}
	return h
}

// Gauge returns an observable gauge read by callback at each collection.
func Gauge(name, desc, unit string, observe func(context.Context, metric.Float64Observer) error) {
	remember(name, unit, "gauge")
	if _, err := meter().Float64ObservableGauge(name, metric.WithDescription(desc), metric.WithUnit(unit),
		metric.WithFloat64Callback(observe)); err != nil {
		otel.Handle(err)
	}
}

// Server serves metrics and health checks.
type Server struct {
	http       *http.Server
	provider   *sdkmetric.MeterProvider
	health     *Health
	probeEvery time.Duration
	probeCtx   context.Context
	stopProbes context.CancelFunc
	probes     sync.WaitGroup
	done       chan error
	addr       string
}

// Serve installs a meter provider exporting to Prometheus (with Go runtime and
// process metrics beside tvmkafka's) and serves it on cfg.Addr with the health
// checks of the process's heartbeats.
func Serve(cfg Config, log *slog.Logger) (*Server, error) {
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	exporter, err := otelprom.New(otelprom.WithRegisterer(registry))
	if err != nil {
		return nil, fmt.Errorf("metrics exporter: %w", err)
	}
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter),
		sdkmetric.WithResource(resource.NewSchemaless(attribute.String("service.name", "tvmkafka"))))
	otel.SetMeterProvider(provider)
	if cfg.StallAfter <= 0 {
		cfg.StallAfter = 10 * time.Minute
	}
	if cfg.ProbeEvery <= 0 {
		cfg.ProbeEvery = 15 * time.Second
	}
	s := &Server{provider: provider, health: NewHealth(defaultBeats, cfg.StallAfter), probeEvery: cfg.ProbeEvery, done: make(chan error, 1)}
	s.probeCtx, s.stopProbes = context.WithCancel(context.Background())
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))
	mux.Handle("GET /healthz", s.health.LiveHandler())
	mux.Handle("GET /readyz", s.health.ReadyHandler())
	l, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		s.stopProbes()
		_ = provider.Shutdown(context.Background())
		return nil, fmt.Errorf("listen on %s for metrics: %w", cfg.Addr, err)
	}
	s.addr = l.Addr().String()
	s.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		err := s.http.Serve(l)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.done <- err
	}()
	log.Info("serving metrics and health checks", "addr", s.addr, "paths", "/metrics /healthz /readyz",
		"stall_after", cfg.StallAfter, "probe_every", cfg.ProbeEvery)
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.addr }

// SetReady flips the "started" input of /readyz: true once start-up is over,
// false again when shutdown begins.
func (s *Server) SetReady(ready bool) { s.health.SetReady(ready) }

// Health is the server's health state, for adding readiness inputs.
func (s *Server) Health() *Health { return s.health }

// AddProbe adds a readiness input checked every ProbeEvery in the background
// until Shutdown; each check gets ProbeEvery as its deadline.
func (s *Server) AddProbe(name string, check func(ctx context.Context) error) {
	p := &Probe{name: name, check: check}
	s.health.addProbe(p)
	s.probes.Go(func() { p.run(s.probeCtx, s.probeEvery) })
}

// Shutdown stops serving and probing and flushes the provider.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopProbes()
	err := s.http.Shutdown(ctx)
	serveErr := <-s.done
	s.probes.Wait()
	return errors.Join(err, serveErr, s.provider.Shutdown(ctx))
}
