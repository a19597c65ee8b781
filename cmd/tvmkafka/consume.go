package main

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/linkedin/goavro/v2"
	"github.com/spf13/cobra"

	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
	"github.com/tvmkafka/tvmkafka/pipeline/settings"
	"github.com/tvmkafka/tvmkafka/schemas"
	"github.com/tvmkafka/tvmkafka/schemas/registry"
)

func newConsumeCommand() *cobra.Command {
	var opts consumeOptions
	cmd := &cobra.Command{
		Use:   "consume TOPIC [--from-beginning] [--max N] [--follow]",
		Short: "Print the records of a topic as JSON lines, values decoded",
		Long: `Reads a topic without a consumer group (no offsets are committed) and prints each
record as one JSON line: topic, partition, offset, timestamp, key, headers and
the value, decoded:

  Avro, single-object encoding   decoded with the embedded schema of its fingerprint
  Avro, Confluent wire format    decoded with the schema of its ID from
                                 TVMKAFKA_SCHEMA_REGISTRY_URL
  JSON (state topic, inbound     as it is
  JSON assets, dead letters)
  anything else                  value_base64 and value_hex

value_format says which it was. Any topic works: the source topics, the state
topic, the inbound topic and the dead-letter topics.

With --from-beginning, reading starts at each partition's first record;
otherwise at its end, so only new records are printed. Without --follow, the
command stops at the end offsets seen at start (and, without --from-beginning,
reads from the beginning, since there would be nothing to print); with
--follow it waits for new records until interrupted.

Configuration (environment):
` + envHelp("KAFKA", "SCHEMA_REGISTRY"),
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			for _, msg := range unknownVariables() {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning:", msg)
			}
			if err := settings.WithPrefix(envPrefix+"_KAFKA", cfg.Kafka.Connection.Validate()); err != nil {
				return fmt.Errorf("configuration: %w", err)
			}
			var reg registry.Client
			if cfg.SchemaRegistry.URL != "" {
				if err := checkBaseURL(envPrefix+"_SCHEMA_REGISTRY_URL", cfg.SchemaRegistry.URL, "http://schema-registry:8081"); err != nil {
					return err
				}
				r, err := registry.New(cfg.SchemaRegistry)
				if err != nil {
					return fmt.Errorf("TVMKAFKA_SCHEMA_REGISTRY_URL: %w", err)
				}
				reg = r
			}
			return explainKafka(cfg, consume(cmd.Context(), cmd.OutOrStdout(), cfg.Kafka.Connection, args[0], newValueDecoder(reg), opts))
		},
	}
	cmd.Flags().BoolVar(&opts.fromBeginning, "from-beginning", false, "start at each partition's first record (default: its end)")
	cmd.Flags().IntVar(&opts.max, "max", 0, "stop after this many records (0: no limit)")
	cmd.Flags().BoolVar(&opts.follow, "follow", false, "wait for new records until interrupted")
	return cmd
}

type consumeOptions struct {
	fromBeginning, follow bool
	max                   int
}

// consume prints the records of topic as JSON lines.
func consume(ctx context.Context, out io.Writer, conn kafkaio.Connection, topic string, dec *valueDecoder, opts consumeOptions) error {
	tail := kafkaio.TailOptions{FromBeginning: opts.fromBeginning || !opts.follow, Follow: opts.follow}
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	n := 0
	return kafkaio.Tail(ctx, conn, topic, tail, func(r kafkaio.Record) error {
		if err := enc.Encode(dec.line(ctx, r)); err != nil {
			return err
		}
		n++
		if opts.max > 0 && n >= opts.max {
			return kafkaio.ErrStopScan
		}
		return nil
	})
}

// consumedRecord is one output line.
type consumedRecord struct {
	Topic     string           `json:"topic"`
	Partition int              `json:"partition"`
	Offset    int64            `json:"offset"`
	Timestamp string           `json:"timestamp,omitempty"`
	Key       *string          `json:"key"`
	KeyBase64 string           `json:"key_base64,omitempty"`
	Headers   []consumedHeader `json:"headers"`
	// ValueFormat is avro-single-object, avro-confluent, json, bytes or null.
	ValueFormat string `json:"value_format"`
	// Schema names the Avro schema: its full name and version when known.
	Schema        string          `json:"schema,omitempty"`
	SchemaVersion int             `json:"schema_version,omitempty"`
	SchemaID      int             `json:"schema_id,omitempty"`
	Value         json.RawMessage `json:"value"`
	ValueBase64   string          `json:"value_base64,omitempty"`
	ValueHex      string          `json:"value_hex,omitempty"`
	// DecodeError says why an Avro value did not decode; its bytes are then
	// in value_base64 and value_hex.
	DecodeError string `json:"decode_error,omitempty"`
}

type consumedHeader struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// valueDecoder decodes values in either wire format, or as JSON.
type valueDecoder struct {
	reg registry.Client // nil: Confluent-framed values are shown as bytes
	mu  sync.Mutex
	// codecs are the schemas of registry IDs this build does not embed.
	codecs map[int]*goavro.Codec
}

func newValueDecoder(reg registry.Client) *valueDecoder {
	return &valueDecoder{reg: reg, codecs: map[int]*goavro.Codec{}}
}

func (d *valueDecoder) line(ctx context.Context, r kafkaio.Record) consumedRecord {
	out := consumedRecord{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Headers: []consumedHeader{}}
	if !r.Time.IsZero() {
		out.Timestamp = r.Time.UTC().Format(time.RFC3339Nano)
	}
	switch {
	case r.Key == nil:
	case utf8.Valid(r.Key):
		k := string(r.Key)
		out.Key = &k
	default:
		out.KeyBase64 = base64.StdEncoding.EncodeToString(r.Key)
	}
	for _, h := range r.Headers {
		out.Headers = append(out.Headers, consumedHeader{Key: h.Key, Value: string(h.Value)})
	}
	d.value(ctx, r.Value, &out)
	return out
}

func (d *valueDecoder) value(ctx context.Context, v []byte, out *consumedRecord) {
	if v == nil {
		out.ValueFormat, out.Value = "null", json.RawMessage("null")
		return
	}
	asBytes := func() {
		out.ValueFormat, out.Value = "bytes", json.RawMessage("null")
		out.ValueBase64, out.ValueHex = base64.StdEncoding.EncodeToString(v), hex.EncodeToString(v)
	}
	wire, err := schemas.ParseWire(v)
	if errors.Is(err, schemas.ErrNotAvro) {
		if json.Valid(v) {
			out.ValueFormat, out.Value = "json", json.RawMessage(v)
			return
		}
		asBytes()
		return
	}
	var codec *goavro.Codec
	switch wire.Kind {
	case schemas.WireSingleObject:
		out.ValueFormat = "avro-single-object"
		s, err := schemas.ByFingerprint(wire.Fingerprint)
		if err != nil {
			asBytes()
			out.ValueFormat, out.DecodeError = "avro-single-object", err.Error()
			return
		}
		out.Schema, out.SchemaVersion, codec = s.FullName, s.Version, s.Codec
	case schemas.WireConfluent:
		out.SchemaID = wire.SchemaID
		codec, err = d.confluentCodec(ctx, wire.SchemaID, out)
		if err != nil {
			// A JSON value never starts with a zero byte, so this is no JSON.
			asBytes()
			out.ValueFormat, out.DecodeError = "avro-confluent", err.Error()
			return
		}
		out.ValueFormat = "avro-confluent"
	}
	native, rest, err := codec.NativeFromBinary(wire.Body)
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("%d bytes after the record", len(rest))
	}
	var text []byte
	if err == nil {
		text, err = codec.TextualFromNative(nil, native)
	}
	if err != nil {
		format := out.ValueFormat
		asBytes()
		out.ValueFormat, out.DecodeError = format, "decode with schema "+out.Schema+": "+err.Error()
		return
	}
	out.Value = text
}

// confluentCodec finds the codec of a registry schema ID.
func (d *valueDecoder) confluentCodec(ctx context.Context, id int, out *consumedRecord) (*goavro.Codec, error) {
	if d.reg == nil {
		return nil, fmt.Errorf("the value is in the Confluent wire format (schema ID %d); set TVMKAFKA_SCHEMA_REGISTRY_URL to decode it", id)
	}
	reg, err := d.reg.SchemaByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if reg.Known != nil {
		out.Schema, out.SchemaVersion = reg.Known.FullName, reg.Known.Version
		return reg.Known.Codec, nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if c, ok := d.codecs[id]; ok {
		return c, nil
	}
	c, err := goavro.NewCodec(reg.Canonical)
	if err != nil {
		return nil, fmt.Errorf("schema ID %d: %w", id, err)
	}
	d.codecs[id] = c
	return c, nil
}
