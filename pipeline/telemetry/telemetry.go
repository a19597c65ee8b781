// Package telemetry gives tvmkafka's packages their OpenTelemetry instruments and
// serves them, with health checks, over HTTP: /metrics (Prometheus text format),
// /healthz (the process is up) and /readyz (it finished starting).
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
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
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

// Counter returns a monotonic counter; instrument errors fall back to a no-op,
// since metrics must never stop the data flow.
func Counter(name, desc, unit string) metric.Int64Counter {
	c, err := meter().Int64Counter(name, metric.WithDescription(desc), metric.WithUnit(unit))
	if err != nil {
		otel.Handle(err)
	}
	return c
}

// Histogram returns a histogram of integer values.
func Histogram(name, desc, unit string, bounds ...float64) metric.Int64Histogram {
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
	if _, err := meter().Float64ObservableGauge(name, metric.WithDescription(desc), metric.WithUnit(unit),
		metric.WithFloat64Callback(observe)); err != nil {
		otel.Handle(err)
	}
}

// Server serves metrics and health checks.
type Server struct {
	http     *http.Server
	provider *sdkmetric.MeterProvider
	ready    atomic.Bool
	done     chan error
	addr     string
}

// Serve installs a meter provider exporting to Prometheus and serves it on addr.
func Serve(addr string, log *slog.Logger) (*Server, error) {
	registry := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(registry))
	if err != nil {
		return nil, fmt.Errorf("metrics exporter: %w", err)
	}
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter),
		sdkmetric.WithResource(resource.NewSchemaless(attribute.String("service.name", "tvmkafka"))))
	otel.SetMeterProvider(provider)
	s := &Server{provider: provider, done: make(chan error, 1)}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !s.ready.Load() {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	l, err := net.Listen("tcp", addr)
	if err != nil {
		_ = provider.Shutdown(context.Background())
		return nil, fmt.Errorf("listen on %s for metrics: %w", addr, err)
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
	log.Info("serving metrics and health checks", "addr", s.addr, "paths", "/metrics /healthz /readyz")
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.addr }

// SetReady flips /readyz.
func (s *Server) SetReady(ready bool) { s.ready.Store(ready) }

// Shutdown stops serving and flushes the provider.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	serveErr := <-s.done
	return errors.Join(err, serveErr, s.provider.Shutdown(ctx))
}
