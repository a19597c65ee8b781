package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tvmkafka/tvmkafka/connector/source"
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

On SIGTERM, no new chunk is started; chunks in progress get
TVMKAFKA_SOURCE_DRAIN_TIMEOUT to finish and checkpoint. An export left unfinished
is resumed by the next start.

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
