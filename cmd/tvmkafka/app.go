package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tvmkafka/tvmkafka/connector/source"
	"github.com/tvmkafka/tvmkafka/connector/source/findingindex"
	"github.com/tvmkafka/tvmkafka/connector/tenable"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
	"github.com/tvmkafka/tvmkafka/pipeline/state"
	"github.com/tvmkafka/tvmkafka/pipeline/telemetry"
	"github.com/tvmkafka/tvmkafka/schemas"
	"github.com/tvmkafka/tvmkafka/schemas/registry"
)

// app holds the connections a connector command works with, built once from the
// configuration and closed in reverse order.
type app struct {
	cfg      config
	log      *slog.Logger
	tenable  *tenable.Client
	producer *kafkaio.Producer // data records, batched for throughput
	stateW   *kafkaio.Producer // checkpoints: small, each awaited, so no batching delay
	store    state.Store
	registry registry.Client   // nil without TVMKAFKA_SCHEMA_REGISTRY_URL
	http     *telemetry.Server // nil without TVMKAFKA_HTTP_ADDR
	stats    *sourceStats      // counts source runs when set before newSource
	// member is the place in the replicas' coordination group, once joined.
	member atomic.Pointer[kafkaio.Membership]
	// stopTracing flushes the spans (OTLP, when OTEL_EXPORTER_OTLP_* ask for it).
	stopTracing func(context.Context) error
}

// roles say which parts of the connector a command runs, and so which topics it needs.
type roles struct{ source, sink bool }

// newApp validates the configuration, creates the topics the roles need (before
// any producer exists, so no producer caches metadata from before a topic did),
// and opens the connections.
func newApp(ctx context.Context, cfg config, log *slog.Logger, r roles) (*app, error) {
	if err := cfg.validateCommon(); err != nil {
		return nil, err
	}
	if r.source {
		if err := cfg.Source.Validate(); err != nil {
			return nil, err
		}
	}
	if r.sink {
		if err := cfg.Sink.Validate(); err != nil {
			return nil, err
		}
	}
	if err := ensureTopics(ctx, cfg, r.topicSpecs(cfg), log); err != nil {
		return nil, err
	}
	answers := &tenableAnswers{}
	tcfg := cfg.tenableClientConfig(log)
	tcfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { return answers.wrap(instrumentTransport(rt)) }
	client, err := tenable.New(tcfg)
	if err != nil {
		return nil, err
	}
	conn := cfg.Kafka.Connection
	pcfg := cfg.Kafka
	pcfg.Logger = log
	producer, err := kafkaio.NewProducer(pcfg)
	if err != nil {
		return nil, err
	}
	// stateW writes checkpoints and the sink's dead letters: few records, sent
	// at once. Its batches may be as large as a dead-lettered inbound record.
	scfg := pcfg
	scfg.Compression, scfg.BatchTimeout, scfg.BatchBytes, scfg.MaxInFlightBytes = "none", time.Millisecond, deadLetterMaxBytes, 2*deadLetterMaxBytes
	stateW, err := kafkaio.NewProducer(scfg)
	if err != nil {
		_ = producer.Close()
		return nil, err
	}
	stopTracing, err := telemetry.StartTracing(ctx, version())
	if err != nil {
		_ = errors.Join(producer.Close(), stateW.Close())
		return nil, err
	}
	a := &app{cfg: cfg, log: log, tenable: client, producer: producer, stateW: stateW,
		store: state.NewKafkaStore(conn, cfg.Topic.State, stateW), stopTracing: stopTracing}
	if cfg.HTTP.Addr != "" {
		srv, err := telemetry.Serve(cfg.HTTP, log)
		if err != nil {
			_ = a.Close()
			return nil, fmt.Errorf("TVMKAFKA_HTTP_ADDR: %w", err)
		}
		a.http = srv
		a.watchHealth(answers, r)
		// Not ready from the first signal on: the drain that follows takes no new work.
		context.AfterFunc(ctx, func() { srv.SetReady(false) })
	}
	if cfg.SchemaRegistry.URL != "" {
		reg, err := registry.New(cfg.SchemaRegistry)
		if err != nil {
			_ = a.Close()
			return nil, fmt.Errorf("TVMKAFKA_SCHEMA_REGISTRY_URL: %w", err)
		}
		a.registry = reg
	}
	return a, nil
}

// ready tells the health endpoint that start-up is over.
func (a *app) ready() {
	if a.http != nil {
		a.http.SetReady(true)
	}
}

// Close flushes and closes the producers and stops the HTTP endpoint.
func (a *app) Close() error {
	err := errors.Join(a.producer.Close(), a.stateW.Close())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = errors.Join(err, a.stopTracing(ctx))
	if a.http != nil {
		err = errors.Join(err, a.http.Shutdown(ctx))
	}
	return err
}

// topicSpecs are the topics a command creates. Any connector command creates
// every topic tvmkafka uses, the inbound topic and its dead-letter topic
// included: upstream tools can then produce assets before a sink first runs.
func (r roles) topicSpecs(cfg config) []kafkaio.TopicSpec {
	if !r.source && !r.sink {
		return nil
	}
	return allTopicSpecs(cfg)
}

// allTopicSpecs are every topic tvmkafka reads or writes.
func allTopicSpecs(cfg config) []kafkaio.TopicSpec {
	return append(sourceTopicSpecs(cfg), sinkTopicSpecs(cfg)...)
}

// sourceTopicSpecs are the topics the sources write to.
func sourceTopicSpecs(cfg config) []kafkaio.TopicSpec {
	t := cfg.Topic
	spec := func(name string, partitions int, policy string) kafkaio.TopicSpec {
		return kafkaio.TopicSpec{Name: name, Partitions: partitions, ReplicationFactor: t.ReplicationFactor,
			Configs: map[string]string{"cleanup.policy": policy}}
	}
	var specs []kafkaio.TopicSpec
	for _, s := range source.Table {
		specs = append(specs, spec(cfg.Streams.Topic[s.Name], t.Partitions, cfg.Streams.Cleanup[s.Name]))
	}
	return append(specs,
		spec(t.SourceDLQ, 1, "delete"),
		// One partition: checkpoints are few, and one partition keeps reading them trivial.
		spec(t.State, 1, "compact"),
		// One partition per stream: the replicas' group divides them. It holds no record.
		spec(t.Coordination, source.CoordinationPartitions, "delete"),
		// One partition: one order of every write, so a rebuild ends where the
		// writers' memory was.
		spec(t.FindingIndex, 1, "compact"),
	)
}

// deadLetterMaxBytes is the largest dead letter the sink publishes with its
// value: room for an inbound record above the 5 MB import limit (such a record
// is dead-lettered because it is too large) plus the dead-letter headers.
const deadLetterMaxBytes = 8 << 20

// sinkTopicSpecs are the topics the sink reads and dead-letters to. The
// inbound topic accepts records as large as an import request can be, so one
// asset never has to be refused by Kafka before Tenable could take it; the
// dead-letter topic accepts a little more.
func sinkTopicSpecs(cfg config) []kafkaio.TopicSpec {
	spec := func(name string, partitions, maxBytes int) kafkaio.TopicSpec {
		return kafkaio.TopicSpec{Name: name, Partitions: partitions, ReplicationFactor: cfg.Topic.ReplicationFactor,
			Configs: map[string]string{"cleanup.policy": "delete", "max.message.bytes": strconv.Itoa(maxBytes)}}
	}
	return []kafkaio.TopicSpec{
		spec(cfg.Topic.Inbound, cfg.Topic.Partitions, tenable.MaxImportBodyBytes),
		spec(cfg.Topic.InboundDLQ, 1, deadLetterMaxBytes),
	}
}

func ensureTopics(ctx context.Context, cfg config, specs []kafkaio.TopicSpec, log *slog.Logger) error {
	if !cfg.Topic.Create || len(specs) == 0 {
		return nil
	}
	if err := kafkaio.EnsureTopics(ctx, cfg.Kafka.Connection, specs, log); err != nil {
		if kafkaio.IsUnreachable(err) {
			return kafkaUnreachable(cfg, err)
		}
		return fmt.Errorf("create topics (set TVMKAFKA_TOPIC_CREATE=false to manage them yourself): %w", err)
	}
	return nil
}

// kafkaUnreachable says that no broker answered, naming the setting, instead
// of the client's message for whichever request went first. Call it only
// where err comes from Kafka: a refused dial to Tenable reads the same.
func kafkaUnreachable(cfg config, err error) error {
	return fmt.Errorf("the Kafka brokers configured, %s (TVMKAFKA_KAFKA_BROKERS), cannot be reached: is a broker running there, and is the address right? (%w)",
		strings.Join(cfg.Kafka.Brokers, ","), err)
}

// explainKafka is kafkaUnreachable when err is a failure to reach a broker,
// and err otherwise.
func explainKafka(cfg config, err error) error {
	if kafkaio.IsUnreachable(err) {
		return kafkaUnreachable(cfg, err)
	}
	return err
}

// sourceWires decides the wire format of each source topic: registered schema
// IDs with a registry, single-object encoding without.
func (a *app) sourceWires(ctx context.Context) (map[schemas.Name]source.Wire, error) {
	wires := map[schemas.Name]source.Wire{}
	for _, st := range source.Table {
		name, topic := st.Schema, a.cfg.Streams.Topic[st.Name]
		s, err := schemas.Get(name)
		if err != nil {
			return nil, err
		}
		w := source.Wire{Schema: s}
		if a.registry != nil {
			id, err := a.registry.Register(ctx, registry.ValueSubject(topic), s)
			if err != nil {
				return nil, fmt.Errorf("register schema %s for topic %s: %w", name, topic, err)
			}
			w.RegistryID = id
			a.log.Info("schema registered", "subject", registry.ValueSubject(topic), "id", id)
		}
		wires[name] = w
	}
	return wires, nil
}

// newSource prepares the source stages: schemas and checkpoints.
func (a *app) newSource(ctx context.Context) (*source.Source, error) {
	wires, err := a.sourceWires(ctx)
	if err != nil {
		return nil, err
	}
	// New reads the checkpoints from the state topic: Kafka's first use
	// when topics are not created.
	var api source.Tenable = tracedTenable{a.tenable}
	var pub source.Publisher = a.producer
	if a.stats != nil {
		api, pub = a.stats.wrap(api, pub)
	}
	src, err := source.New(ctx, source.Options{
		Config: a.cfg.Source, Topics: a.cfg.sourceTopics(), API: api, Pub: pub, Store: a.store,
		Wires: wires, Version: version(), Logger: a.log, Brokers: a.cfg.Kafka.Brokers,
		FindingIndex: findingindex.NewKafkaLog(a.cfg.Kafka.Connection, a.cfg.Topic.FindingIndex, a.stateW),
	})
	return src, explainKafka(a.cfg, err)
}
