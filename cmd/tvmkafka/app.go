package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/tvmkafka/tvmkafka/connector/source"
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
}

func newApp(cfg config, log *slog.Logger) (*app, error) {
	if err := cfg.validateCommon(); err != nil {
		return nil, err
	}
	client, err := tenable.New(cfg.tenableClientConfig(log))
	if err != nil {
		return nil, err
	}
	conn := cfg.Kafka.connection()
	producer, err := kafkaio.NewProducer(kafkaio.ProducerConfig{
		Connection: conn, Compression: cfg.Kafka.Compression, BatchSize: cfg.Kafka.BatchSize, BatchBytes: cfg.Kafka.BatchBytes,
		BatchTimeout: cfg.Kafka.BatchTimeout, MaxInFlightBytes: cfg.Kafka.MaxInFlightBytes, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	stateW, err := kafkaio.NewProducer(kafkaio.ProducerConfig{Connection: conn, Compression: "none", BatchTimeout: time.Millisecond, Logger: log})
	if err != nil {
		_ = producer.Close()
		return nil, err
	}
	a := &app{cfg: cfg, log: log, tenable: client, producer: producer, stateW: stateW,
		store: state.NewKafkaStore(conn, cfg.Topic.State, stateW)}
	if cfg.HTTPAddr != "" {
		srv, err := telemetry.Serve(cfg.HTTPAddr, log)
		if err != nil {
			_ = a.Close()
			return nil, fmt.Errorf("TVMKAFKA_HTTP_ADDR: %w", err)
		}
		a.http = srv
	}
	if cfg.SchemaRegistry.URL != "" {
		reg, err := registry.New(registry.Config{URL: cfg.SchemaRegistry.URL, Username: cfg.SchemaRegistry.Username, Password: cfg.SchemaRegistry.Password})
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
	if a.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = errors.Join(err, a.http.Shutdown(ctx))
	}
	return err
}

// sourceTopicSpecs are the topics the sources write to.
func (a *app) sourceTopicSpecs() []kafkaio.TopicSpec {
	t := a.cfg.Topic
	spec := func(name string, partitions int, policy string) kafkaio.TopicSpec {
		return kafkaio.TopicSpec{Name: name, Partitions: partitions, ReplicationFactor: t.ReplicationFactor,
			Configs: map[string]string{"cleanup.policy": policy}}
	}
	return []kafkaio.TopicSpec{
		spec(t.Assets, t.Partitions, t.AssetsCleanup),
		spec(t.Vulns, t.Partitions, t.VulnsCleanup),
		spec(t.Compliance, t.Partitions, t.ComplianceCleanup),
		spec(t.Plugins, t.Partitions, t.PluginsCleanup),
		spec(t.SourceDLQ, 1, "delete"),
		// One partition: checkpoints are few, and one partition keeps reading them trivial.
		spec(t.State, 1, "compact"),
	}
}

func (a *app) ensureTopics(ctx context.Context, specs []kafkaio.TopicSpec) error {
	if !a.cfg.Topic.Create {
		return nil
	}
	if err := kafkaio.EnsureTopics(ctx, a.cfg.Kafka.connection(), specs, a.log); err != nil {
		return fmt.Errorf("create topics (set TVMKAFKA_TOPIC_CREATE=false to manage them yourself): %w", err)
	}
	return nil
}

// sourceWires decides the wire format of each source topic: registered schema
// IDs with a registry, single-object encoding without.
func (a *app) sourceWires(ctx context.Context) (map[schemas.Name]source.Wire, error) {
	topics := map[schemas.Name]string{
		schemas.NameAsset: a.cfg.Topic.Assets, schemas.NameVuln: a.cfg.Topic.Vulns,
		schemas.NameCompliance: a.cfg.Topic.Compliance, schemas.NamePlugin: a.cfg.Topic.Plugins,
	}
	wires := map[schemas.Name]source.Wire{}
	for name, topic := range topics {
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

// newSource prepares the source stages: topics, schemas, checkpoints.
func (a *app) newSource(ctx context.Context) (*source.Source, error) {
	if err := a.cfg.Source.Validate(); err != nil {
		return nil, err
	}
	if err := a.ensureTopics(ctx, a.sourceTopicSpecs()); err != nil {
		return nil, err
	}
	wires, err := a.sourceWires(ctx)
	if err != nil {
		return nil, err
	}
	return source.New(ctx, source.Options{
		Config: a.cfg.Source, Topics: a.cfg.Topic.sourceTopics(), API: a.tenable, Pub: a.producer, Store: a.store,
		Wires: wires, Version: version(), Logger: a.log,
	})
}
