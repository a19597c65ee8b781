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
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/tvmkafka/tvmkafka/connector/tenable"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCommand().ExecuteContext(ctx)
	stop()
	if err != nil {
		var exit exitError
		if errors.As(err, &exit) {
			os.Exit(exit.code)
		}
		os.Exit(1)
	}
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
	root.AddCommand(newVersionCommand(), newSimCommand(), newSourceCommand(), newRunCommand(), newSinkCommand(), newSchemasCommand(), newDemoCommand())
	root.AddCommand(newCheckCommand())
	return root
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
