package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/tvmkafka/tvmkafka/connector/tenablesim"
)

// simFlags are the flags of `tvmkafka sim`.
type simFlags struct {
	listen        string
	assets        int
	seed          int64
	plugins       int
	accessKey     string
	secretKey     string
	start         string
	queueLatency  time.Duration
	chunkLatency  time.Duration
	importLatency time.Duration
	maxExports    int
	logLevel      string

	rate429, rate5xx                 float64
	retryAfter                       int
	exportErrors                     int
	exportErrorAfter                 int
	chunkFailures                    int
	chunkFailureAfter                int
	truncateChunks, malformedRecords int
	slowChunks                       int
	slowChunkDelay                   time.Duration
}

const simExample = `  # Start a tenant of 2,000 assets:
  tvmkafka sim --listen 127.0.0.1:8080 --assets 2000 --seed 7 --access-key AK --secret-key SK

  # Walk an export end to end with curl:
  K='X-ApiKeys: accessKey=AK; secretKey=SK;'
  curl -s -H "$K" -X POST localhost:8080/vulns/export -d '{"num_assets":500,"filters":{"since":1}}'
  #   {"export_uuid":"<uuid>"}
  curl -s -H "$K" localhost:8080/vulns/export/<uuid>/status
  #   {"uuid":"<uuid>","status":"FINISHED","chunks_available":[1,2,4,3],...}
  curl -s -H "$K" localhost:8080/vulns/export/<uuid>/chunks/1 | head -c 600
  # The same for assets (POST /assets/export '{"chunk_size":500}', chunks under
  # /assets/export/<uuid>/...) and compliance (POST /compliance/export '{}').

  # Ground truth, time and faults (admin API, no keys needed):
  curl -s localhost:8080/_sim/state
  curl -s -X POST localhost:8080/_sim/truth/vulns -d '{"filters":{"since":1}}'
  curl -s localhost:8080/_sim/truth/asset/<asset uuid>   # a gone asset's findings as it left them
  curl -s -X POST localhost:8080/_sim/advance -d '{"hours":24}'
  curl -s -X PUT localhost:8080/_sim/faults -d '{"rate_429":0.1,"truncate_chunks":2}'`

func newSimCommand() *cobra.Command {
	var f simFlags
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Serve a deterministic fake Tenable VM tenant (for tests, benchmarks and demos)",
		Long: `sim serves a simulated Tenable Vulnerability Management tenant over HTTP.

The tenant is generated from --seed: the same seed and size give the same assets,
findings, compliance results and plugins, byte for byte. It serves the Tenable VM
export workflows (assets v1/v2, vulns, compliance), the plugin list and asset
imports with Tenable's field names, status codes and error bodies, and an
unauthenticated admin API under /_sim/ (state, ground truth, advancing the tenant
clock, fault injection, statistics). Every Tenable request needs the X-ApiKeys
header with the configured keys.

The keys come from --access-key/--secret-key or, when those are empty, from
TVMKAFKA_SIM_ACCESS_KEY/TVMKAFKA_SIM_SECRET_KEY; sim refuses to start without them.`,
		Example: simExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSim(cmd.Context(), cmd, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", "127.0.0.1:8080", "address to listen on (host:port)")
	fl.IntVar(&f.assets, "assets", 500, "number of assets to generate (about 35 findings each)")
	fl.Int64Var(&f.seed, "seed", 1, "seed of the generated tenant; the same seed gives the same data")
	fl.IntVar(&f.plugins, "plugins", 1500, "size of the plugin catalogue")
	fl.StringVar(&f.accessKey, "access-key", "", "access key clients must send in X-ApiKeys (or TVMKAFKA_SIM_ACCESS_KEY)")
	fl.StringVar(&f.secretKey, "secret-key", "", "secret key clients must send in X-ApiKeys (or TVMKAFKA_SIM_SECRET_KEY)")
	fl.StringVar(&f.start, "start", tenablesim.DefaultStart.Format(time.RFC3339), "tenant clock at start (RFC 3339)")
	fl.DurationVar(&f.queueLatency, "queue-latency", 300*time.Millisecond, "real time a new export stays QUEUED")
	fl.DurationVar(&f.chunkLatency, "chunk-latency", 50*time.Millisecond, "real time between successive chunks becoming available")
	fl.DurationVar(&f.importLatency, "import-latency", 300*time.Millisecond, "real time an import job stays IN_PROGRESS")
	fl.IntVar(&f.maxExports, "max-concurrent-exports", 10, "running exports allowed before POST .../export answers 429")
	fl.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fl.Float64Var(&f.rate429, "fault-rate-429", 0, "probability (0-1) of answering any Tenable request 429")
	fl.Float64Var(&f.rate5xx, "fault-rate-5xx", 0, "probability (0-1) of answering any Tenable request 500/502/503/504")
	fl.IntVar(&f.retryAfter, "fault-retry-after", 1, "Retry-After seconds of injected 429 and 503 answers")
	fl.IntVar(&f.exportErrors, "fault-export-errors", 0, "the next N exports end in ERROR")
	fl.IntVar(&f.exportErrorAfter, "fault-export-error-after", 0, "chunks that become available before an injected ERROR")
	fl.IntVar(&f.chunkFailures, "fault-chunk-failures", 0, "the next N exports FINISH with a failed chunk (later chunks cancelled)")
	fl.IntVar(&f.chunkFailureAfter, "fault-chunk-failure-after", 0, "chunks that become available before the failed one")
	fl.IntVar(&f.truncateChunks, "fault-truncate-chunks", 0, "the next N chunk downloads are cut off inside a record")
	fl.IntVar(&f.malformedRecords, "fault-malformed-records", 0, "the next N chunk downloads carry a first record that is not well-formed JSON")
	fl.IntVar(&f.slowChunks, "fault-slow-chunks", 0, "the next N chunk downloads wait --fault-slow-chunk-delay before the body")
	fl.DurationVar(&f.slowChunkDelay, "fault-slow-chunk-delay", 2*time.Second, "delay of slow chunk downloads")
	return cmd
}

func runSim(ctx context.Context, cmd *cobra.Command, f simFlags) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
	if f.accessKey == "" {
		f.accessKey = os.Getenv("TVMKAFKA_SIM_ACCESS_KEY")
	}
	if f.secretKey == "" {
		f.secretKey = os.Getenv("TVMKAFKA_SIM_SECRET_KEY")
	}
	if f.accessKey == "" || f.secretKey == "" {
		return errors.New("sim needs API keys: pass --access-key and --secret-key (or set TVMKAFKA_SIM_ACCESS_KEY and TVMKAFKA_SIM_SECRET_KEY)")
	}
	start, err := time.Parse(time.RFC3339, f.start)
	if err != nil {
		return fmt.Errorf("--start: %w", err)
	}
	began := time.Now()
	sim, err := tenablesim.New(tenablesim.Config{
		Assets: f.assets, Seed: f.seed, Plugins: f.plugins, AccessKey: f.accessKey, SecretKey: f.secretKey,
		Start: start, QueueLatency: f.queueLatency, ChunkLatency: f.chunkLatency, ImportLatency: f.importLatency,
		MaxConcurrentExports: f.maxExports, Logger: log,
		Faults: tenablesim.Faults{
			Rate429: f.rate429, Rate5xx: f.rate5xx, RetryAfterSeconds: f.retryAfter,
			ExportErrors: f.exportErrors, ExportErrorAfterChunks: f.exportErrorAfter,
			ChunkFailures: f.chunkFailures, ChunkFailureAfter: f.chunkFailureAfter,
			TruncateChunks: f.truncateChunks, MalformedRecords: f.malformedRecords, SlowChunks: f.slowChunks, SlowChunkDelay: f.slowChunkDelay,
		},
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", f.listen, err)
	}
	st := sim.State()
	log.Info("tenable simulator listening", "addr", "http://"+ln.Addr().String(), "seed", f.seed,
		"assets", st.Assets.Total, "findings", st.Findings.Total, "compliance_results", st.Compliance.Total,
		"plugins", st.Plugins, "tenant_clock", st.Now, "generated_in", time.Since(began).Round(time.Millisecond))
	srv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("tenable simulator shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
