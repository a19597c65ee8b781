package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tvmkafka/tvmkafka/connector/source"
	"github.com/tvmkafka/tvmkafka/schemas"
	"github.com/tvmkafka/tvmkafka/schemas/registry"
)

func newSchemasCommand() *cobra.Command {
	var dir string
	var canonical, register bool
	cmd := &cobra.Command{
		Use:   "schemas [name...]",
		Short: "Print, write or register the Avro schemas of the topics",
		Long: `Prints the Avro schemas tvmkafka writes and reads, with their fingerprints,
Kafka key fields and topics (from TVMKAFKA_TOPIC_*).

  tvmkafka schemas                     list the schemas
  tvmkafka schemas vuln                print one schema (.avsc, with docs)
  tvmkafka schemas --canonical vuln    print its Parsing Canonical Form
  tvmkafka schemas --dir ./avro        write every schema to ./avro/<name>.avsc
  tvmkafka schemas --register          register each schema under <topic>-value in
                                       TVMKAFKA_SCHEMA_REGISTRY_URL (topics from TVMKAFKA_TOPIC_*)`,
		RunE: func(cmd *cobra.Command, args []string) error {
			selected, err := selectSchemas(args)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			switch {
			case register:
				return registerSchemas(cmd.Context(), cmd, selected)
			case dir != "":
				if err := os.MkdirAll(dir, 0o755); err != nil {
					return err
				}
				for _, s := range selected {
					path := filepath.Join(dir, string(s.Name)+".avsc")
					if err := os.WriteFile(path, []byte(s.Text), 0o644); err != nil {
						return err
					}
					fmt.Fprintln(out, path)
				}
				return nil
			case len(args) > 0:
				for _, s := range selected {
					if canonical {
						fmt.Fprintln(out, s.Canonical)
					} else {
						fmt.Fprint(out, s.Text)
					}
				}
				return nil
			}
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			topics := schemaTopics(cfg)
			fmt.Fprintf(out, "%-14s %-38s %-8s %-17s %-30s %s\n", "NAME", "FULL NAME", "VERSION", "FINGERPRINT", "TOPIC", "KEY")
			for _, s := range selected {
				key := strings.Join(s.KeyFields, " | ")
				if key == "" {
					key = "-"
				}
				topic := topics[s.Name]
				if topic == "" {
					topic = "-"
				}
				fmt.Fprintf(out, "%-14s %-38s %-8d %016x  %-30s %s\n", s.Name, s.FullName, s.Version, s.Fingerprint, topic, key)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "write the schemas as <name>.avsc into this directory")
	cmd.Flags().BoolVar(&canonical, "canonical", false, "print the Parsing Canonical Form instead of the documented schema")
	cmd.Flags().BoolVar(&register, "register", false, "register the schemas in the schema registry of TVMKAFKA_SCHEMA_REGISTRY_URL")
	return cmd
}

func selectSchemas(names []string) ([]*schemas.Schema, error) {
	if len(names) == 0 {
		return schemas.All(), nil
	}
	var out []*schemas.Schema
	for _, n := range names {
		s, err := schemas.Get(schemas.Name(n))
		if err != nil {
			var known []string
			for _, k := range schemas.All() {
				known = append(known, string(k.Name))
			}
			return nil, fmt.Errorf("%w (schemas: %s)", err, strings.Join(known, ", "))
		}
		out = append(out, s)
	}
	return out, nil
}

func registerSchemas(ctx context.Context, cmd *cobra.Command, selected []*schemas.Schema) error {
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	if cfg.SchemaRegistry.URL == "" {
		return errors.New("TVMKAFKA_SCHEMA_REGISTRY_URL is not set")
	}
	reg, err := registry.New(cfg.SchemaRegistry)
	if err != nil {
		return err
	}
	topics := schemaTopics(cfg)
	for _, s := range selected {
		if topics[s.Name] == "" {
			return fmt.Errorf("schema %s belongs to no topic", s.Name)
		}
		subject := registry.ValueSubject(topics[s.Name])
		id, err := reg.Register(ctx, subject, s)
		if err != nil {
			return fmt.Errorf("register %s as %s: %w", s.Name, subject, err)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "%s\t%s\tid %d\n", s.Name, subject, id)
	}
	return nil
}

// schemaTopics is the topic whose values each schema describes: a source
// stream's (from source.Table) or the sink's inbound topic.
func schemaTopics(cfg config) map[schemas.Name]string {
	topics := map[schemas.Name]string{schemas.NameInboundAsset: cfg.Topic.Inbound}
	for _, st := range source.Table {
		topics[st.Schema] = cfg.Streams.Topic[st.Name]
	}
	return topics
}
