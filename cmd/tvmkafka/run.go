package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tvmkafka/tvmkafka/connector/source"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
)

func newRunCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "run",
		Short: "Run the source streams on their intervals (and the sink when enabled) until SIGTERM",
		Long: `Runs every stream named by TVMKAFKA_RUN_STREAMS on its own interval
(TVMKAFKA_RUN_<STREAM>_INTERVAL) until SIGINT or SIGTERM, and logs when each
stream runs next. A failed run is logged and tried again at the next interval; its
watermark has not moved. A run that failed because Kafka was unavailable is run
again sooner, with backoff (1s doubling to 1m), for as long as its interval allows,
resuming its export.

Replicas share the streams: each joins the coordination group on
TVMKAFKA_TOPIC_COORDINATION (one partition per stream) and runs the streams whose
partitions the group assigns to it. When a replica dies, stops or loses the
group, its streams move to another within TVMKAFKA_RUN_SESSION_TIMEOUT and resume
from their checkpoints; a replica writes a stream's checkpoints only while the
group's generation that gave it the stream lasts. TVMKAFKA_RUN_COORDINATE=false
runs every stream here, without the group.

On SIGTERM, no new chunk is started; chunks in progress get
TVMKAFKA_SOURCE_DRAIN_TIMEOUT to finish and checkpoint, then the replica leaves
the group. An export left unfinished is resumed by the next owner.

Configuration (environment):
` + envHelp("TENABLE", "KAFKA", "SCHEMA_REGISTRY", "TOPIC", "SOURCE", "RUN", "SINK", "LOG", "HTTP"),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			names, err := source.ParseStreams(cfg.Streams.Run)
			if err != nil {
				return err
			}
			if err := cfg.validateRun(); err != nil {
				return fmt.Errorf("configuration: %w", err)
			}
			return runConnector(cmd.Context(), cmd.OutOrStdout(), false, names, cfg.Run.Sink)
		},
	}
}

// runStreams runs the source streams until ctx ends: through the coordination
// group (the default), or all of them here.
func (a *app) runStreams(ctx context.Context, src *source.Source, names []string) error {
	cfg := a.cfg
	if !cfg.Run.Coordinate {
		return src.Run(ctx, names, cfg.interval)
	}
	replica, err := cfg.replica()
	if err != nil {
		return err
	}
	conn := cfg.Kafka.Connection
	n, err := kafkaio.Partitions(ctx, conn, cfg.Topic.Coordination)
	if err != nil {
		return fmt.Errorf("coordination topic (TVMKAFKA_TOPIC_COORDINATION): %w", explainKafka(cfg, err))
	}
	if err := source.CheckCoordinationTopic(n, cfg.Topic.Coordination); err != nil {
		return err
	}
	// The member ID starts with the client ID: the replica's name, so the
	// group's description names the pods.
	conn.ClientID = replica
	m, err := kafkaio.JoinGroup(kafkaio.MembershipConfig{
		Connection: conn, GroupID: cfg.coordinationGroup(), Topic: cfg.Topic.Coordination,
		SessionTimeout: cfg.Run.SessionTimeout, HeartbeatInterval: cfg.Run.HeartbeatInterval,
	})
	if err != nil {
		return err
	}
	a.member.Store(m)
	a.log.Info("joining the coordination group", "group", cfg.coordinationGroup(), "topic", cfg.Topic.Coordination,
		"replica", replica, "streams", strings.Join(names, ","))
	return src.RunGroup(ctx, m, replica, names, cfg.interval)
}

// replica is this process's name among the replicas.
func (c config) replica() (string, error) {
	if r := strings.TrimSpace(c.Run.Replica); r != "" {
		return r, nil
	}
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "", fmt.Errorf("no replica name: set TVMKAFKA_RUN_REPLICA (the host name is unknown: %v)", err)
	}
	return h, nil
}

// coordinationGroup is the replicas' group ID: TVMKAFKA_RUN_GROUP_ID, or the
// coordination topic's name, so that deployments with topics of their own
// have groups of their own.
func (c config) coordinationGroup() string {
	if g := strings.TrimSpace(c.Run.GroupID); g != "" {
		return g
	}
	return c.Topic.Coordination
}
