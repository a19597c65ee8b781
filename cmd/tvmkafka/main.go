// Command tvmkafka connects Tenable Vulnerability Management to Apache Kafka.
//
// Sources export assets, vulnerability findings, compliance findings and plugins
// from Tenable VM onto Kafka topics as Avro; the sink imports assets from a Kafka
// topic into Tenable VM; the simulator (`tvmkafka sim`) is a fake Tenable VM tenant
// for tests, benchmarks and demos.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tvmkafka/tvmkafka/connector/tenable"
	"github.com/tvmkafka/tvmkafka/pipeline/settings"
)

func main() {
	setMemoryLimit()
	stopProfile, err := startCPUProfile()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ctx, stop := signalContext()
	err = newRootCommand().ExecuteContext(ctx)
	stop()
	stopProfile()
	if err != nil {
		var exit exitError
		if errors.As(err, &exit) {
			os.Exit(exit.code)
		}
		os.Exit(1)
	}
}

// signalCause is why the root context ended when SIGINT or SIGTERM arrived.
type signalCause struct{ name string }

func (s signalCause) Error() string { return s.name + " received" }

// signalContext ends on SIGINT or SIGTERM with a signalCause, so commands can
// say that the signal arrived (logOnSignal) before they drain.
func signalContext() (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-sigs:
			name := "SIGTERM"
			if sig == os.Interrupt {
				name = "SIGINT"
			}
			cancel(signalCause{name})
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel(context.Canceled)
	}
}

// logOnSignal logs one INFO line, saying what happens next, when ctx ends
// because a signal arrived. Call the returned function once the command is
// done, so a later end of ctx logs nothing.
func logOnSignal(ctx context.Context, log *slog.Logger, next string) (stop func() bool) {
	return context.AfterFunc(ctx, func() {
		var sc signalCause
		if errors.As(context.Cause(ctx), &sc) {
			log.Info(sc.name+" received: "+next, "signal", sc.name)
		}
	})
}

// exitError carries a specific exit status out of a command.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "tvmkafka",
		Short: "Stream Tenable Vulnerability Management data to and from Apache Kafka",
		Long: `tvmkafka connects Tenable Vulnerability Management (Tenable VM) to Apache Kafka.

Source stages run Tenable VM's export workflows for assets, vulnerability findings,
compliance findings and plugins, and publish every record to Kafka as Avro. The sink
stage imports assets from a Kafka topic into Tenable VM. The simulator is a
deterministic fake Tenable VM tenant for tests, benchmarks and demos.

Connector settings come from TVMKAFKA_* environment variables; see the README or
the --help of each command.`,
		SilenceUsage:  true,
		SilenceErrors: false,
	}
	root.SetFlagErrorFunc(suggestFlag)
	root.AddCommand(newVersionCommand(), newSimCommand(), newSourceCommand(), newRunCommand(), newSinkCommand(), newSchemasCommand(), newDemoCommand(), newTopicsCommand(), newConsumeCommand())
	root.AddCommand(newCheckCommand())
	return root
}

// suggestFlag adds the nearest flag of the command to an unknown-flag error,
// as cobra does for an unknown command.
func suggestFlag(cmd *cobra.Command, err error) error {
	msg := err.Error()
	name, ok := strings.CutPrefix(msg, "unknown flag: --")
	if !ok {
		return err
	}
	name, _, _ = strings.Cut(name, "=")
	var flags []string
	visit := func(f *pflag.Flag) { flags = append(flags, f.Name) }
	cmd.Flags().VisitAll(visit)
	cmd.InheritedFlags().VisitAll(visit)
	if near := settings.Nearest(name, flags); near != "" {
		return fmt.Errorf("%w\n\nDid you mean this?\n\t--%s", err, near)
	}
	return err
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the tvmkafka version and the User-Agent it sends to Tenable VM",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "tvmkafka %s\nUser-Agent: %s\n", version(),
				tenable.UserAgent("tvmkafka", "Kafka Connector", version()))
			return err
		},
	}
}
