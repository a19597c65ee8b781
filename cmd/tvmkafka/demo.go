package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/tvmkafka/tvmkafka/connector/source"
	"github.com/tvmkafka/tvmkafka/connector/tenablesim"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
	"github.com/tvmkafka/tvmkafka/schemas"
)

func newDemoCommand() *cobra.Command {
	var assets int
	var seed int64
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole connector against an in-process simulator and Kafka, no set-up",
		Long: `Starts a simulated Tenable VM tenant and an in-process Kafka broker, then:

  1. exports assets, vulnerability and compliance findings and plugins to Kafka
     as Avro (tvmkafka source --once),
  2. moves the tenant's clock a day ahead and exports again: only the delta,
  3. moves the clock on until assets are deleted and terminated, exports again
     and closes every finding of those assets that was open on the topics,
  4. produces assets to the inbound topic, one of them invalid, and imports them
     into the tenant (tvmkafka sink --once),

and prints what landed where. Nothing outside the process is touched.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// The connector's log lines would interleave with the story; they
			// are kept aside and shown only when the demo fails.
			var logs bytes.Buffer
			err := runDemo(cmd.Context(), cmd.OutOrStdout(), &logs, assets, seed)
			if err != nil && logs.Len() > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "The connector's log:\n%s", logs.Bytes())
			}
			return err
		},
	}
	cmd.Flags().IntVar(&assets, "assets", 500, "assets in the simulated tenant")
	cmd.Flags().Int64Var(&seed, "seed", 7, "seed of the simulated tenant")
	return cmd
}

func runDemo(ctx context.Context, out, logs io.Writer, assets int, seed int64) error {
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	say := func(format string, args ...any) { fmt.Fprintf(out, format+"\n", args...) }

	sim, err := tenablesim.New(tenablesim.Config{Assets: assets, Seed: seed, AccessKey: "demo-access", SecretKey: "demo-secret",
		QueueLatency: 200 * time.Millisecond, ChunkLatency: 20 * time.Millisecond, ImportLatency: 300 * time.Millisecond})
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	httpSrv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = httpSrv.Serve(l) }()
	defer httpSrv.Close()

	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		return fmt.Errorf("start in-process Kafka: %w", err)
	}
	defer cluster.Close()
	brokers := cluster.ListenAddrs()
	st := sim.State()
	say("Simulated Tenable VM tenant at http://%s: %d assets, %d findings, %d plugins (seed %d)", l.Addr(), st.Assets.Total, st.Findings.Total, st.Plugins, seed)
	say("In-process Kafka broker at %s\n", strings.Join(brokers, ","))

	// Defaults, as if no TVMKAFKA_* variable were set, then pointed at the demo.
	cfg := defaultConfig()
	cfg.Tenable.BaseURL, cfg.Tenable.AccessKey, cfg.Tenable.SecretKey = "http://"+l.Addr().String(), "demo-access", "demo-secret"
	cfg.Kafka.Brokers = brokers
	cfg.Topic.Partitions, cfg.Topic.ReplicationFactor = 3, 1
	cfg.Source.PollInitial, cfg.Source.PollMax = 100*time.Millisecond, time.Second
	cfg.Source.AssetsExcludeSources = []string{cfg.Sink.Source}
	cfg.Sink.Linger, cfg.Sink.JobPoll = 500*time.Millisecond, 200*time.Millisecond
	a, err := newApp(ctx, cfg, log, roles{source: true, sink: true})
	if err != nil {
		return err
	}
	defer a.Close()
	src, err := a.newSource(ctx)
	if err != nil {
		return err
	}

	say("1. First run: everything (tvmkafka source --once)")
	start := time.Now()
	ends0 := topicEnds(ctx, brokers, cfg)
	if err := src.RunOnce(ctx, source.StreamNames); err != nil {
		return err
	}
	ends1 := topicEnds(ctx, brokers, cfg)
	printCounts(say, cfg, ends0, ends1, time.Since(start))
	say("   %s holds fewer records than the tenant has findings: by default only %s findings",
		cfg.Streams.Topic[source.StreamVulns], strings.Join(cfg.Source.VulnsSeverity, ", "))
	say("   in states %s are exported (TVMKAFKA_SOURCE_VULNS_SEVERITY, TVMKAFKA_SOURCE_VULNS_STATE).",
		strings.Join(cfg.Source.VulnsState, ", "))

	say("\n2. The tenant's clock moves 24 hours; second run: only the delta")
	sum, err := sim.Advance(24 * time.Hour)
	if err != nil {
		return err
	}
	say("   tenant changes: %d assets rescanned, %d new, %d deleted, %d terminated; %d new, %d fixed, %d reopened findings",
		sum.AssetsRescanned, sum.AssetsNew, sum.AssetsDeleted, sum.AssetsTerminated, sum.FindingsNew, sum.FindingsFixed, sum.FindingsReopened)
	start = time.Now()
	if err := src.RunOnce(ctx, source.StreamNames); err != nil {
		return err
	}
	ends2 := topicEnds(ctx, brokers, cfg)
	printCounts(say, cfg, ends1, ends2, time.Since(start))
	cp := src.Checkpoint(source.StreamVulns)
	say("   vulns watermark now %s (tenant time less the %s overlap)", cp.Watermark.Format(time.RFC3339), cfg.Source.Overlap)

	if err := printSample(ctx, say, brokers, cfg.Streams.Topic[source.StreamVulns]); err != nil {
		return err
	}

	if err := demoClosures(ctx, say, sim, src, brokers, cfg); err != nil {
		return err
	}

	say("\n4. Upstream tools produce assets to %s; the sink imports them (tvmkafka sink --once)", cfg.Topic.Inbound)
	inbound := []string{
		`{"fqdn":["cmdb-web-01.example.com"],"ipv4":["192.0.2.10"],"operating_system":["Ubuntu 24.04"]}`,
		`{"fqdn":["cmdb-db-01.example.com"],"ipv4":["192.0.2.11"],"servicenow_sys_id":"9d385017c611228701d22104cc95c371"}`,
		`{"netbios_name":"CMDB-FILE-01","mac_address":["00:50:56:aa:bb:cc"]}`,
		`{"hostname":["no-identifier"]}`,
	}
	if err := produceInbound(ctx, brokers, cfg.Topic.Inbound, inbound); err != nil {
		return fmt.Errorf("produce inbound assets: %w", err)
	}
	if err := a.runSink(ctx, true); err != nil {
		return err
	}
	for _, imp := range sim.Imports() {
		say("   import job %s from source %q: %d assets (%d created, %d updated), %d bytes", imp.JobID, imp.Source, imp.Assets, len(imp.Created), len(imp.Updated), imp.BodyBytes)
	}
	if reason, err := firstDeadLetter(ctx, brokers, cfg.Topic.InboundDLQ); err == nil {
		say("   dead-lettered to %s: %s", cfg.Topic.InboundDLQ, reason)
	}
	say("\nDone. Point TVMKAFKA_TENABLE_URL and TVMKAFKA_KAFKA_BROKERS at the real thing and run `tvmkafka run`.")
	return nil
}

// demoClosures moves the tenant's clock until an asset was deleted and one
// terminated, runs the source again and shows the closures it published.
func demoClosures(ctx context.Context, say func(string, ...any), sim *tenablesim.Server, src *source.Source, brokers []string, cfg config) error {
	say("\n3. Assets go away: the clock moves until one is deleted and one terminated; Tenable drops their findings")
	var deleted, terminated, days int
	for days < 180 && (deleted == 0 || terminated == 0) {
		sum, err := sim.Advance(24 * time.Hour)
		if err != nil {
			return err
		}
		days++
		deleted += sum.AssetsDeleted
		terminated += sum.AssetsTerminated
	}
	say("   after %d more days: %d assets deleted, %d terminated", days, deleted, terminated)
	if err := src.RunOnce(ctx, source.StreamNames); err != nil {
		return err
	}
	type gone struct {
		reason, at    string
		vulns, checks int
	}
	byAsset := map[string]*gone{}
	var order []string
	for _, topic := range []string{cfg.Streams.Topic[source.StreamVulns], cfg.Streams.Topic[source.StreamCompliance]} {
		err := kafkaio.Scan(ctx, kafkaio.Connection{Brokers: brokers}, topic, func(r kafkaio.Record) error {
			h := map[string]string{}
			for _, hd := range r.Headers {
				h[hd.Key] = string(hd.Value)
			}
			if r.Value != nil || h[source.HeaderClosedReason] == "" {
				return nil
			}
			g := byAsset[h[source.HeaderAssetUUID]]
			if g == nil {
				g = &gone{reason: h[source.HeaderClosedReason], at: h[source.HeaderClosedAt]}
				byAsset[h[source.HeaderAssetUUID]] = g
				order = append(order, h[source.HeaderAssetUUID])
			}
			if topic == cfg.Streams.Topic[source.StreamVulns] {
				g.vulns++
			} else {
				g.checks++
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("read closures: %w", err)
		}
	}
	shown := map[string]bool{}
	for _, id := range order {
		g := byAsset[id]
		if shown[g.reason] {
			continue
		}
		shown[g.reason] = true
		say("   %s (%s at %s): %d vulnerability and %d compliance findings closed", id, g.reason, g.at, g.vulns, g.checks)
	}
	say("   closed = a tombstone (the finding's key, no value) with headers %s, %s, %s and %s:",
		source.HeaderClosedReason, source.HeaderAssetUUID, source.HeaderClosedAt, source.HeaderRecordType)
	say("   a compacted topic forgets the finding, a stream consumer closes it (TVMKAFKA_SOURCE_CLOSE_ORPHANED_FINDINGS).")
	return nil
}

// topicList is the topic of every source stream.
func topicList(cfg config) []string {
	out := make([]string, 0, len(source.Table))
	for _, s := range source.Table {
		out = append(out, cfg.Streams.Topic[s.Name])
	}
	return out
}

// topicEnds sums each topic's end offsets.
func topicEnds(ctx context.Context, brokers []string, cfg config) map[string]int64 {
	out := map[string]int64{}
	for _, topic := range topicList(cfg) {
		ranges, err := kafkaio.PartitionOffsets(ctx, kafkaio.Connection{Brokers: brokers}, topic)
		if err != nil {
			continue
		}
		for _, r := range ranges {
			out[topic] += r.End
		}
	}
	return out
}

func printCounts(say func(string, ...any), cfg config, before, after map[string]int64, took time.Duration) {
	for _, t := range topicList(cfg) {
		say("   %-24s %7d records", t, after[t]-before[t])
	}
	say("   in %s", took.Round(time.Millisecond))
}

// printSample decodes one vulnerability record the way a consumer would.
func printSample(ctx context.Context, say func(string, ...any), brokers []string, topic string) error {
	m, err := firstRecord(ctx, brokers, topic)
	if err != nil {
		return fmt.Errorf("read a sample: %w", err)
	}
	w, err := schemas.ParseWire(m.Value)
	if err != nil {
		return err
	}
	s, err := schemas.ByFingerprint(w.Fingerprint)
	if err != nil {
		return err
	}
	native, _, err := s.Codec.NativeFromBinary(w.Body)
	if err != nil {
		return err
	}
	rec := native.(map[string]any)
	pick := func(path ...string) any {
		var v any = rec
		for _, p := range path {
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[p]
			if u, ok := v.(map[string]any); ok && len(u) == 1 { // an Avro union
				for _, inner := range u {
					v = inner
				}
			}
		}
		return v
	}
	headers := map[string]string{}
	for _, h := range m.Headers {
		headers[h.Key] = string(h.Value)
	}
	keys := make([]string, 0, len(headers))
	for k := range headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	say("\n   A record of %s, decoded with schema %s (fingerprint %016x):", topic, s.FullName, s.Fingerprint)
	say("     key      %s", m.Key)
	for _, k := range keys {
		say("     header   %s = %s", k, headers[k])
	}
	shown := map[string]any{
		"asset.uuid": pick("asset", "uuid"), "asset.hostname": pick("asset", "hostname"), "plugin.id": pick("plugin", "id"),
		"plugin.name": pick("plugin", "name"), "severity": pick("severity"), "state": pick("state"), "port": pick("port", "port"),
		"protocol": pick("port", "protocol"), "cvss3_base_score": pick("plugin", "cvss3_base_score"), "first_found": pick("first_found"),
	}
	picked := len(shown)
	summary, _ := json.Marshal(shown)
	say("     value    %s", summary)
	say("              (abridged: %d values picked from a record of %d top-level fields and %d bytes of Avro;\n               `tvmkafka consume %s` prints whole records)",
		picked, len(rec), len(m.Value), topic)
	return nil
}

func produceInbound(ctx context.Context, brokers []string, topic string, values []string) error {
	cfg := kafkaio.DefaultProducerConfig()
	cfg.Connection.Brokers, cfg.BatchTimeout = brokers, 5*time.Millisecond
	p, err := kafkaio.NewProducer(cfg)
	if err != nil {
		return err
	}
	defer p.Close()
	recs := make([]kafkaio.Record, len(values))
	for i, v := range values {
		recs[i] = kafkaio.Record{Topic: topic, Key: []byte(fmt.Sprintf("cmdb-%d", i)), Value: []byte(v)}
	}
	g := kafkaio.NewAckGroup()
	if err := p.Send(ctx, g, recs...); err != nil {
		return err
	}
	return g.Wait(ctx)
}

// firstRecord returns the first record of topic.
func firstRecord(ctx context.Context, brokers []string, topic string) (kafkaio.Record, error) {
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var first *kafkaio.Record
	err := kafkaio.Scan(rctx, kafkaio.Connection{Brokers: brokers}, topic, func(r kafkaio.Record) error {
		first = &r
		return kafkaio.ErrStopScan
	})
	if err == nil && first == nil {
		err = fmt.Errorf("topic %s is empty", topic)
	}
	if err != nil {
		return kafkaio.Record{}, err
	}
	return *first, nil
}

func firstDeadLetter(ctx context.Context, brokers []string, topic string) (string, error) {
	m, err := firstRecord(ctx, brokers, topic)
	if err != nil {
		return "", err
	}
	for _, h := range m.Headers {
		if h.Key == "__connect.errors.exception.message" {
			return fmt.Sprintf("%s (%s)", m.Value, h.Value), nil
		}
	}
	return "", errors.New("no reason header")
}
