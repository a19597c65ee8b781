package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/tvmkafka/tvmkafka/connector/sink"
	"github.com/tvmkafka/tvmkafka/connector/source"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
	"github.com/tvmkafka/tvmkafka/pipeline/telemetry"
)

func newSinkCommand() *cobra.Command {
	var once bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "sink [--once]",
		Short: "Import assets from the inbound Kafka topic into Tenable VM",
		Long: `Consumes the inbound asset topic (TVMKAFKA_TOPIC_INBOUND) as a consumer group and
imports the assets into Tenable VM with POST /import/assets.

Inbound records are Avro (schema inbound_asset, single-object encoding or the
Confluent wire format) or JSON objects in Tenable's import-asset shape. Records
that can never be imported go to TVMKAFKA_TOPIC_INBOUND_DLQ with the reason in
Kafka Connect's dead-letter headers. Requests stay below 5,000,000 bytes and never
mix AWS, Azure and GCP assets. Offsets are committed only for records done:
imported (TVMKAFKA_SINK_COMMIT_ON) or dead-lettered.

With --once, the sink reads until it has caught up with the end offsets seen at
start, flushes, waits for its import jobs, commits, and exits 0 (non-zero with
the reason otherwise). It expects to be the group's only member then.

Configuration (environment):
` + envHelp("TENABLE", "KAFKA", "SCHEMA_REGISTRY", "TOPIC", "SINK", "LOG", "HTTP"),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			return runSinkCommand(ctx, once)
		},
	}
	cmd.Flags().BoolVar(&once, "once", false, "catch up with the topic's end offsets seen at start, then exit")
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "give up after this long (0: no limit)")
	return cmd
}

func runSinkCommand(ctx context.Context, once bool) error {
	cfg, log, err := loadConfigAndLogger(os.Stderr)
	if err != nil {
		return err
	}
	a, err := newApp(ctx, cfg, log, roles{sink: true})
	if err != nil {
		return err
	}
	defer func() {
		if err := a.Close(); err != nil {
			log.Error("closing Kafka producers", "error", err)
		}
	}()
	defer logOnSignal(ctx, log, "stopping; the sink flushes, waits for its import jobs and commits")()
	return a.runSink(ctx, once)
}

// runSink consumes the inbound topic; with once it stops after catching up.
func (a *app) runSink(ctx context.Context, once bool) error {
	cfg := a.cfg
	earliest := cfg.Sink.StartOffset == "earliest"
	var until map[int]int64
	if once {
		var err error
		until, err = kafkaio.PendingOffsets(ctx, cfg.Kafka.Connection, cfg.Sink.GroupID, cfg.Topic.Inbound, earliest)
		if err != nil {
			return explainKafka(cfg, err)
		}
		if len(until) == 0 {
			a.log.Info("the inbound topic holds nothing new; nothing to import", "topic", cfg.Topic.Inbound, "group", cfg.Sink.GroupID)
			return nil
		}
	}
	beat := telemetry.Heartbeat(beatSink)
	reader, err := kafkaio.NewGroupReader(kafkaio.GroupReaderConfig{Connection: cfg.Kafka.Connection, GroupID: cfg.Sink.GroupID,
		Topic: cfg.Topic.Inbound, Earliest: earliest, SessionTimeout: cfg.Sink.SessionTimeout})
	if err != nil {
		return err
	}
	defer reader.Close()
	s, err := sink.New(sink.Options{
		Config: cfg.Sink, Topic: cfg.Topic.Inbound, DeadLetterTopic: cfg.Topic.InboundDLQ,
		Consumer: beatingConsumer{reader, beat}, Importer: beatingImporter{a.tenable, beat}, Decoder: sink.NewDecoder(a.registry), DeadLetters: a.stateW, Logger: a.log,
		// kafka-go reads an empty value as nil; dead letters must keep it empty.
		ValueAt: func(ctx context.Context, topic string, partition int, offset int64) ([]byte, error) {
			return kafkaio.ValueAt(ctx, cfg.Kafka.Connection, topic, partition, offset)
		},
	})
	if err != nil {
		return err
	}
	a.ready()
	a.log.Info("tvmkafka sink starting", "version", version(), "topic", cfg.Topic.Inbound, "group", cfg.Sink.GroupID,
		"dead_letter_topic", cfg.Topic.InboundDLQ, "import_source", cfg.Sink.Source, "once", once, "partitions_to_catch_up", len(until))
	err = s.Run(ctx, until)
	if err != nil {
		return fmt.Errorf("sink: %w", err)
	}
	if once {
		st := s.Stats()
		a.log.Info("sink caught up: every record imported or dead-lettered, offsets committed",
			"imported", st.Imported, "dead_lettered", st.DeadLettered, "requests_sent", st.RequestsSent, "requests_accepted", st.Requests)
	}
	return nil
}

// warnEchoLoop points out a configuration where imported assets come back as
// exports: the asset stream runs beside the sink and does not skip its source.
func warnEchoLoop(log *slog.Logger, cfg config, streams []string) {
	if slices.Contains(streams, source.StreamAssets) && !slices.Contains(cfg.Source.AssetsExcludeSources, cfg.Sink.Source) {
		log.Warn("the sink's imports will come back in asset exports; set TVMKAFKA_SOURCE_ASSETS_EXCLUDE_SOURCES to the import source to skip them",
			"import_source", cfg.Sink.Source)
	}
}
