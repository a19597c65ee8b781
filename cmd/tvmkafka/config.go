package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/tvmkafka/tvmkafka/connector/sink"
	"github.com/tvmkafka/tvmkafka/connector/source"
	"github.com/tvmkafka/tvmkafka/connector/tenable"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
)

// envPrefix prefixes every environment variable of the connector.
const envPrefix = "TVMKAFKA"

// config is every connector setting, read from TVMKAFKA_* environment variables.
type config struct {
	Tenable        tenableConfig  `envconfig:"TENABLE"`
	Kafka          kafkaConfig    `envconfig:"KAFKA"`
	SchemaRegistry registryConfig `envconfig:"SCHEMA_REGISTRY"`
	Topic          topicConfig    `envconfig:"TOPIC"`
	Source         source.Config  `envconfig:"SOURCE"`
	Run            runConfig      `envconfig:"RUN"`
	Sink           sink.Config    `envconfig:"SINK"`
	Log            logConfig      `envconfig:"LOG"`
	// HTTPAddr serves /metrics, /healthz and /readyz.
	HTTPAddr string `envconfig:"HTTP_ADDR" desc:"serve /metrics (Prometheus), /healthz and /readyz here, e.g. :9464; empty: off"`
}

type tenableConfig struct {
	URL            string        `envconfig:"URL" default:"https://cloud.tenable.com" desc:"Tenable VM API base URL"`
	AccessKey      string        `envconfig:"ACCESS_KEY" desc:"API access key (required)"`
	SecretKey      string        `envconfig:"SECRET_KEY" desc:"API secret key (required; never logged)"`
	Vendor         string        `envconfig:"VENDOR" default:"tvmkafka" desc:"vendor part of the integration User-Agent"`
	Product        string        `envconfig:"PRODUCT" default:"Kafka Connector" desc:"product part of the integration User-Agent"`
	RequestTimeout time.Duration `envconfig:"REQUEST_TIMEOUT" default:"120s" desc:"per-request timeout (for chunk downloads: longest stall)"`
	MaxRetries     int           `envconfig:"MAX_RETRIES" default:"5" desc:"retries of a throttled (429) or failed (5xx, network) request"`
}

type kafkaConfig struct {
	Brokers            []string      `envconfig:"BROKERS" default:"localhost:9092" desc:"bootstrap brokers, comma-separated host:port"`
	ClientID           string        `envconfig:"CLIENT_ID" default:"tvmkafka" desc:"client ID shown in broker logs and quotas"`
	TLS                bool          `envconfig:"TLS" default:"false" desc:"connect with TLS"`
	TLSCAFile          string        `envconfig:"TLS_CA_FILE" desc:"PEM CA bundle replacing the system roots"`
	TLSCertFile        string        `envconfig:"TLS_CERT_FILE" desc:"PEM client certificate"`
	TLSKeyFile         string        `envconfig:"TLS_KEY_FILE" desc:"PEM client key"`
	InsecureSkipVerify bool          `envconfig:"TLS_INSECURE_SKIP_VERIFY" default:"false" desc:"skip server certificate checks (test clusters only)"`
	SASLMechanism      string        `envconfig:"SASL_MECHANISM" desc:"PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"`
	SASLUsername       string        `envconfig:"SASL_USERNAME" desc:"SASL user"`
	SASLPassword       string        `envconfig:"SASL_PASSWORD" desc:"SASL password (never logged)"`
	Compression        string        `envconfig:"COMPRESSION" default:"lz4" desc:"none, gzip, snappy, lz4 or zstd"`
	BatchSize          int           `envconfig:"BATCH_SIZE" default:"1000" desc:"most messages per partition batch"`
	BatchBytes         int64         `envconfig:"BATCH_BYTES" default:"1048576" desc:"most bytes per partition batch"`
	BatchTimeout       time.Duration `envconfig:"BATCH_TIMEOUT" default:"20ms" desc:"flush a partial batch after this long"`
	MaxInFlightBytes   int64         `envconfig:"MAX_IN_FLIGHT_BYTES" default:"67108864" desc:"bytes sent but not yet acknowledged before publishing waits"`
}

func (k kafkaConfig) connection() kafkaio.Connection {
	return kafkaio.Connection{
		Brokers: k.Brokers, ClientID: k.ClientID, TLS: k.TLS, TLSCAFile: k.TLSCAFile, TLSCertFile: k.TLSCertFile,
		TLSKeyFile: k.TLSKeyFile, InsecureSkipVerify: k.InsecureSkipVerify,
		SASLMechanism: k.SASLMechanism, SASLUsername: k.SASLUsername, SASLPassword: k.SASLPassword,
	}
}

type registryConfig struct {
	URL      string `envconfig:"URL" desc:"Confluent-compatible schema registry; empty: Avro single-object encoding"`
	Username string `envconfig:"USERNAME" desc:"registry basic-auth user"`
	Password string `envconfig:"PASSWORD" desc:"registry basic-auth password (never logged)"`
}

type topicConfig struct {
	Assets            string `envconfig:"ASSETS" default:"tenable.vm.assets" desc:"asset records"`
	Vulns             string `envconfig:"VULNS" default:"tenable.vm.vulns" desc:"vulnerability findings"`
	Compliance        string `envconfig:"COMPLIANCE" default:"tenable.vm.compliance" desc:"compliance findings"`
	Plugins           string `envconfig:"PLUGINS" default:"tenable.vm.plugins" desc:"plugin metadata"`
	State             string `envconfig:"STATE" default:"tenable.vm.connector.state" desc:"connector checkpoints (always compacted)"`
	SourceDLQ         string `envconfig:"SOURCE_DLQ" default:"tenable.vm.source.dlq" desc:"exported records that could not be encoded"`
	Inbound           string `envconfig:"INBOUND" default:"tenable.vm.assets.inbound" desc:"assets upstream tools produce for import"`
	InboundDLQ        string `envconfig:"INBOUND_DLQ" default:"tenable.vm.assets.inbound.dlq" desc:"inbound assets that could not be imported, with the reason"`
	Create            bool   `envconfig:"CREATE" default:"true" desc:"create missing topics at start"`
	Partitions        int    `envconfig:"PARTITIONS" default:"6" desc:"partitions of created data topics"`
	ReplicationFactor int    `envconfig:"REPLICATION_FACTOR" default:"-1" desc:"replication of created topics; -1: the broker default"`
	AssetsCleanup     string `envconfig:"ASSETS_CLEANUP_POLICY" default:"compact" desc:"cleanup.policy of a created assets topic"`
	VulnsCleanup      string `envconfig:"VULNS_CLEANUP_POLICY" default:"delete" desc:"cleanup.policy of a created vulns topic"`
	ComplianceCleanup string `envconfig:"COMPLIANCE_CLEANUP_POLICY" default:"delete" desc:"cleanup.policy of a created compliance topic"`
	PluginsCleanup    string `envconfig:"PLUGINS_CLEANUP_POLICY" default:"compact" desc:"cleanup.policy of a created plugins topic"`
}

func (t topicConfig) sourceTopics() source.Topics {
	return source.Topics{Assets: t.Assets, Vulns: t.Vulns, Compliance: t.Compliance, Plugins: t.Plugins, DeadLetter: t.SourceDLQ}
}

type runConfig struct {
	Streams            []string      `envconfig:"STREAMS" default:"assets,vulns,compliance,plugins" desc:"source streams tvmkafka run starts"`
	AssetsInterval     time.Duration `envconfig:"ASSETS_INTERVAL" default:"1h" desc:"time between asset runs"`
	VulnsInterval      time.Duration `envconfig:"VULNS_INTERVAL" default:"1h" desc:"time between vulnerability runs"`
	ComplianceInterval time.Duration `envconfig:"COMPLIANCE_INTERVAL" default:"6h" desc:"time between compliance runs"`
	PluginsInterval    time.Duration `envconfig:"PLUGINS_INTERVAL" default:"24h" desc:"time between plugin runs"`
	Sink               bool          `envconfig:"SINK" default:"false" desc:"also run the asset import sink"`
}

func (r runConfig) interval(stream string) time.Duration {
	switch stream {
	case source.StreamAssets:
		return r.AssetsInterval
	case source.StreamVulns:
		return r.VulnsInterval
	case source.StreamCompliance:
		return r.ComplianceInterval
	default:
		return r.PluginsInterval
	}
}

type logConfig struct {
	Level  string `envconfig:"LEVEL" default:"info" desc:"debug, info, warn or error"`
	Format string `envconfig:"FORMAT" default:"text" desc:"text or json"`
}

// loadConfig reads the environment and reports every problem at once.
func loadConfig() (config, error) {
	var c config
	if err := envconfig.Process(envPrefix, &c); err != nil {
		return c, fmt.Errorf("configuration: %w", err)
	}
	return c, nil
}

// validateCommon checks the settings every connector command needs.
func (c config) validateCommon() error {
	var errs []error
	if c.Tenable.AccessKey == "" {
		errs = append(errs, errors.New("TVMKAFKA_TENABLE_ACCESS_KEY is not set"))
	}
	if c.Tenable.SecretKey == "" {
		errs = append(errs, errors.New("TVMKAFKA_TENABLE_SECRET_KEY is not set"))
	}
	if err := c.tenableClientConfig(nil).Validate(); err != nil && c.Tenable.AccessKey != "" && c.Tenable.SecretKey != "" {
		errs = append(errs, fmt.Errorf("TVMKAFKA_TENABLE_*: %w", err))
	}
	if err := c.Kafka.connection().Validate(); err != nil {
		errs = append(errs, fmt.Errorf("TVMKAFKA_KAFKA_*: %w", err))
	}
	if _, err := kafkaio.ParseCompression(c.Kafka.Compression); err != nil {
		errs = append(errs, fmt.Errorf("TVMKAFKA_KAFKA_COMPRESSION: %w", err))
	}
	for _, p := range []struct{ env, v string }{
		{"ASSETS", c.Topic.AssetsCleanup}, {"VULNS", c.Topic.VulnsCleanup}, {"COMPLIANCE", c.Topic.ComplianceCleanup}, {"PLUGINS", c.Topic.PluginsCleanup},
	} {
		switch p.v {
		case "compact", "delete", "compact,delete", "delete,compact":
		default:
			errs = append(errs, fmt.Errorf("TVMKAFKA_TOPIC_%s_CLEANUP_POLICY: %q is not compact, delete or compact,delete", p.env, p.v))
		}
	}
	if c.Topic.Partitions < 1 {
		errs = append(errs, fmt.Errorf("TVMKAFKA_TOPIC_PARTITIONS: %d is below 1", c.Topic.Partitions))
	}
	if c.SchemaRegistry.Password != "" && c.SchemaRegistry.Username == "" {
		errs = append(errs, errors.New("TVMKAFKA_SCHEMA_REGISTRY_PASSWORD is set without TVMKAFKA_SCHEMA_REGISTRY_USERNAME"))
	}
	return errors.Join(errs...)
}

func (c config) tenableClientConfig(log *slog.Logger) tenable.Config {
	return tenable.Config{
		BaseURL: c.Tenable.URL, AccessKey: c.Tenable.AccessKey, SecretKey: c.Tenable.SecretKey,
		Vendor: c.Tenable.Vendor, Product: c.Tenable.Product, Build: version(),
		RequestTimeout: c.Tenable.RequestTimeout, MaxRetries: c.Tenable.MaxRetries, Logger: log,
	}
}

func newLogger(c logConfig, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.Level)); err != nil {
		return nil, fmt.Errorf("TVMKAFKA_LOG_LEVEL: %q is not debug, info, warn or error", c.Level)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(c.Format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("TVMKAFKA_LOG_FORMAT: %q is not text or json", c.Format)
}

// envHelp renders the environment variables of the given config sections as a
// table, for --help.
func envHelp(sections ...string) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 2, 4, 2, ' ', 0)
	var c config
	_ = envconfig.Usagef(envPrefix, &c, tw, "{{range .}}{{usage_key .}}\t{{usage_default .}}\t{{usage_description .}}\n{{end}}")
	_ = tw.Flush()
	if len(sections) == 0 {
		return b.String()
	}
	var out strings.Builder
	for _, line := range strings.SplitAfter(b.String(), "\n") {
		for _, s := range sections {
			if strings.HasPrefix(line, envPrefix+"_"+s+"_") {
				out.WriteString("  " + line)
				break
			}
		}
	}
	return out.String()
}
