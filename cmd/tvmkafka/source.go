package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tvmkafka/tvmkafka/connector/source"
)

func newSourceCommand() *cobra.Command {
	var once bool
	var streams []string
	cmd := &cobra.Command{
		Use:   "source [--once] [--streams assets,vulns,compliance,plugins]",
		Short: "Export Tenable VM assets, findings and plugins to Kafka as Avro",
		Long: `Runs Tenable VM's export workflows and publishes every record to Kafka as Avro,
keyed by its identity:

` + streamKeysHelp() + `
Each stream exports only what changed since its watermark, which lives in the
compacted state topic and moves only after Kafka acknowledged every record of a
run. An interrupted export is resumed on the next start.

With --once, each selected stream runs once and the command exits 0 only when
every record was acknowledged and every checkpoint saved. Without it, streams
run on their intervals (TVMKAFKA_RUN_*_INTERVAL) until SIGTERM.

Configuration (environment):
` + envHelp("TENABLE", "KAFKA", "SCHEMA_REGISTRY", "TOPIC", "SOURCE", "RUN", "LOG", "HTTP"),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			names, err := source.ParseStreams(streams)
			if err != nil {
				return err
			}
			return runSource(cmd.Context(), cmd.OutOrStdout(), once, names)
		},
	}
	cmd.Flags().BoolVar(&once, "once", false, "run each stream once and exit (non-zero when any record or checkpoint failed)")
	cmd.Flags().StringSliceVar(&streams, "streams", nil, "streams to run: "+strings.Join(source.StreamNames, ", ")+" (default all)")
	return cmd
}

// streamKeysHelp lists each stream of source.Table with its Kafka key.
func streamKeysHelp() string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 2, 4, 2, ' ', 0)
	for _, s := range source.Table {
		note := ""
		if cps := s.Checkpoints(); len(cps) > 1 {
			parts := make([]string, len(cps))
			for i, cp := range cps {
				parts[i] = strings.TrimPrefix(cp, s.Name+".")
			}
			note = fmt.Sprintf("(%d delta exports: %s)", len(cps), strings.Join(parts, ", "))
		}
		if note == "" {
			fmt.Fprintf(tw, "  %s\t%s\n", s.Name, s.Key)
		} else {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", s.Name, s.Key, note)
		}
	}
	_ = tw.Flush()
	return b.String()
}

func runSource(ctx context.Context, out io.Writer, once bool, names []string) error {
	return runConnector(ctx, out, once, names, false)
}

// runConnector runs the source streams and, with withSink, the sink beside them;
// it returns when both are done (once) or ctx ends.
// With once, it ends with a table of each stream's run on out.
func runConnector(ctx context.Context, out io.Writer, once bool, names []string, withSink bool) error {
	cfg, log, err := loadConfigAndLogger(os.Stderr)
	if err != nil {
		return err
	}
	a, err := newApp(ctx, cfg, log, roles{source: true, sink: withSink})
	if err != nil {
		return err
	}
	defer func() {
		if err := a.Close(); err != nil {
			log.Error("closing Kafka producers", "error", err)
		}
	}()
	if once {
		a.stats = newSourceStats()
	}
	src, err := a.newSource(ctx)
	if err != nil {
		return err
	}
	a.ready()
	log.Info("tvmkafka source starting", "version", version(), "tenable", a.tenable.BaseURL(), "brokers", strings.Join(cfg.Kafka.Brokers, ","),
		"streams", strings.Join(names, ","), "once", once)
	if once {
		defer logOnSignal(ctx, log, "stopping the run; its watermarks do not move, the next run resumes it")()
		if err := runOnceWithTable(ctx, out, cfg, src, a.stats, names); err != nil {
			return fmt.Errorf("source run failed: %w", err)
		}
		log.Info("source run complete: every record acknowledged, every checkpoint saved")
		return nil
	}
	defer logOnSignal(ctx, log, "stopping; exports in progress get TVMKAFKA_SOURCE_DRAIN_TIMEOUT to finish and checkpoint")()
	var sinkErr error
	var wg sync.WaitGroup
	if withSink {
		warnEchoLoop(log, cfg, names)
		wg.Go(func() { sinkErr = a.runSink(ctx, false) })
	}
	srcErr := a.runStreams(ctx, src, names)
	wg.Wait()
	if errors.Is(srcErr, context.Canceled) {
		srcErr = nil
	}
	return errors.Join(srcErr, sinkErr)
}
