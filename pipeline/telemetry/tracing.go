package telemetry

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Tracer returns tvmkafka's tracer. Until StartTracing installs a provider it
// is a no-op, so spans cost nothing when no OTLP endpoint is configured.
func Tracer() trace.Tracer { return otel.Tracer(scope) }

// TracingEnabled says whether the standard OpenTelemetry variables ask for
// traces: an OTLP endpoint is set and OTEL_TRACES_EXPORTER and OTEL_SDK_DISABLED
// do not turn them off.
func TracingEnabled() bool {
	if strings.EqualFold(os.Getenv("OTEL_SDK_DISABLED"), "true") {
		return false
	}
	if e := os.Getenv("OTEL_TRACES_EXPORTER"); e != "" && e != "otlp" {
		return false
	}
	return os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// StartTracing installs a tracer provider exporting over OTLP/HTTP (protobuf)
// when TracingEnabled; the exporter reads every OTEL_EXPORTER_OTLP_* variable
// (endpoint, headers, timeout, compression, certificates) and the resource
// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES. The returned function
// flushes the spans still buffered and stops; it is a no-op when tracing is off.
func StartTracing(ctx context.Context, version string) (shutdown func(context.Context) error, err error) {
	if !TracingEnabled() {
		return func(context.Context) error { return nil }, nil
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("OTLP trace exporter: %w", err)
	}
	res, err := resource.Merge(
		resource.NewSchemaless(attribute.String("service.name", "tvmkafka"), attribute.String("service.version", version)),
		resource.Environment(), // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win
	)
	if err != nil {
		return nil, fmt.Errorf("trace resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	return tp.Shutdown, nil
}

// durationBounds are the histogram buckets of durations, in seconds: from a
// fast API answer to a many-hour export.
var durationBounds = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400}

// Duration returns a histogram of durations in seconds (unit "s", as the
// OpenTelemetry semantic conventions want for every duration).
func Duration(name, desc string) metric.Float64Histogram {
	remember(name, "s", "histogram")
	h, err := meter().Float64Histogram(name, metric.WithDescription(desc), metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(durationBounds...))
	if err != nil {
		otel.Handle(err)
	}
	return h
}

// Track starts a span named name and returns the context carrying it and the
// function that ends it: it records err on the span and the elapsed time in h
// (when not nil) with attrs and outcome=ok or error.
func Track(ctx context.Context, name string, h metric.Float64Histogram, attrs ...attribute.KeyValue) (context.Context, func(err error)) {
	start := time.Now()
	ctx, span := Tracer().Start(ctx, name, trace.WithAttributes(attrs...))
	return ctx, func(err error) {
		outcome := "ok"
		if err != nil {
			outcome = "error"
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
		if h != nil {
			h.Record(context.WithoutCancel(ctx), time.Since(start).Seconds(),
				metric.WithAttributes(append(attrs, attribute.String("outcome", outcome))...))
		}
	}
}
