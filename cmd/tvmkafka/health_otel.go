package main

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/tvmkafka/tvmkafka/connector/source"
	"github.com/tvmkafka/tvmkafka/connector/tenable"
	"github.com/tvmkafka/tvmkafka/pipeline/telemetry"
)

// Durations measured at the edges of the stages (the Tenable client's
// transport, the source's and the sink's view of the client), so the stages
// themselves stay free of instrumentation.
var (
	// The OpenTelemetry semantic conventions' HTTP client metric.
	metricHTTPClient = telemetry.Duration("http.client.request.duration",
		"duration of HTTP requests to Tenable VM, by http.request.method, http.response.status_code and server.address (retries are requests of their own)")
	metricChunk = telemetry.Duration("tvmkafka.source.chunk.duration",
		"time to download one export chunk and hand its records to the producer, by kind and outcome")
	metricImportRequest = telemetry.Duration("tvmkafka.sink.import_request.duration",
		"duration of POST /import/assets, by outcome")
	metricImportJob = telemetry.Duration("tvmkafka.sink.import_job.duration",
		"time from an import request's acceptance to its job's end as the sink saw it, by status (COMPLETE or ERROR)")
)

// importStarted maps an accepted import job to when it was accepted.
var importStarted sync.Map

// instrumentTransport gives each request to Tenable VM a client span and a
// duration in http.client.request.duration, named and attributed after the
// semantic conventions. The URL's query is left out: it never belongs in traces.
func instrumentTransport(next http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		start := time.Now()
		attrs := []attribute.KeyValue{
			attribute.String("http.request.method", req.Method),
			attribute.String("server.address", req.URL.Hostname()),
		}
		if p := req.URL.Port(); p != "" {
			if n, err := strconv.Atoi(p); err == nil {
				attrs = append(attrs, attribute.Int("server.port", n))
			}
		}
		ctx, span := telemetry.Tracer().Start(req.Context(), req.Method, trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(append(attrs, attribute.String("url.full", req.URL.Scheme+"://"+req.URL.Host+req.URL.Path))...))
		defer span.End()
		if n := req.Header.Get("X-Tio-Retry-Count"); n != "" {
			if c, err := strconv.Atoi(n); err == nil {
				span.SetAttributes(attribute.Int("http.request.resend_count", c))
			}
		}
		resp, err := next.RoundTrip(req.WithContext(ctx))
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
			attrs = append(attrs, attribute.String("error.type", "transport"))
		} else {
			attrs = append(attrs, attribute.Int("http.response.status_code", resp.StatusCode))
			span.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
			if resp.StatusCode >= 400 {
				span.SetStatus(codes.Error, resp.Status)
				attrs = append(attrs, attribute.String("error.type", strconv.Itoa(resp.StatusCode)))
			}
		}
		metricHTTPClient.Record(context.WithoutCancel(ctx), time.Since(start).Seconds(), metric.WithAttributes(attrs...))
		return resp, err
	})
}

// tracedTenable gives chunk downloads and plugin pages their spans (children
// of the export's span) and chunk downloads their duration.
type tracedTenable struct{ source.Tenable }

func (t tracedTenable) DownloadChunk(ctx context.Context, kind tenable.ExportKind, uuid string, chunk int, fn tenable.RecordFunc) (n int, err error) {
	ctx, end := telemetry.Track(ctx, "tvmkafka.chunk", metricChunk, attribute.String("kind", string(kind)))
	trace.SpanFromContext(ctx).SetAttributes(attribute.String("tvmkafka.export_uuid", uuid), attribute.Int("tvmkafka.chunk", chunk))
	defer func() {
		trace.SpanFromContext(ctx).SetAttributes(attribute.Int("tvmkafka.records", n))
		end(err)
	}()
	return t.Tenable.DownloadChunk(ctx, kind, uuid, chunk, fn)
}

// ListPlugins records one span per page, from the end of the previous page
// (or the call) to the page's acknowledgement.
func (t tracedTenable) ListPlugins(ctx context.Context, opts tenable.PluginListOptions, fn tenable.RecordFunc) (int, error) {
	onPage := opts.OnPage
	pageStart := time.Now()
	opts.OnPage = func(p tenable.PluginPage) error {
		_, span := telemetry.Tracer().Start(ctx, "tvmkafka.plugins.page", trace.WithTimestamp(pageStart),
			trace.WithAttributes(attribute.Int("tvmkafka.page", p.Page)))
		var err error
		if onPage != nil {
			err = onPage(p)
		}
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
		pageStart = time.Now()
		return err
	}
	return t.Tenable.ListPlugins(ctx, opts, fn)
}
