package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tvmkafka/tvmkafka/pipeline/settings"
)

func newTopicsCommand() *cobra.Command {
	topics := &cobra.Command{
		Use:   "topics",
		Short: "Manage the Kafka topics tvmkafka uses",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	topics.AddCommand(&cobra.Command{
		Use:   "create",
		Short: "Create every topic tvmkafka uses that does not exist yet, then exit",
		Long: `Creates the source topics, the state and source dead-letter topics, and the
inbound asset topic with its dead-letter topic, as tvmkafka source, run and sink
do at start when TVMKAFKA_TOPIC_CREATE is on (whatever its value here). Existing
topics are left as they are. Upstream tools can produce assets to the inbound
topic once it exists, before any sink has run.

Configuration (environment):
` + envHelp("KAFKA", "TOPIC", "LOG"),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, err := loadConfigAndLogger(os.Stderr)
			if err != nil {
				return err
			}
			if err := errors.Join(settings.WithPrefix(envPrefix+"_KAFKA", cfg.Kafka.Connection.Validate()), cfg.validateTopics()); err != nil {
				return fmt.Errorf("configuration: %w", err)
			}
			cfg.Topic.Create = true
			specs := allTopicSpecs(cfg)
			if err := ensureTopics(cmd.Context(), cfg, specs, log); err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TOPIC\tPARTITIONS\tCONFIGS")
			for _, s := range specs {
				var configs []string
				for _, k := range []string{"cleanup.policy", "max.message.bytes"} {
					if v, ok := s.Configs[k]; ok {
						configs = append(configs, k+"="+v)
					}
				}
				fmt.Fprintf(tw, "%s\t%d\t%s\n", s.Name, s.Partitions, strings.Join(configs, " "))
			}
			fmt.Fprintln(tw, "(topics that existed before are left as they are)")
			return tw.Flush()
		},
	})
	return topics
}
