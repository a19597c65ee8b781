package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/tvmkafka/tvmkafka/connector/sink"
	"github.com/tvmkafka/tvmkafka/connector/source"
	"github.com/tvmkafka/tvmkafka/connector/tenable"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
	"github.com/tvmkafka/tvmkafka/pipeline/settings"
	"github.com/tvmkafka/tvmkafka/pipeline/telemetry"
	"github.com/tvmkafka/tvmkafka/schemas/registry"
)

// envPrefix prefixes every environment variable of the connector.
const envPrefix = "TVMKAFKA"

// config is every connector setting, read from TVMKAFKA_* environment
// variables (by settings.Process, which unlike envconfig never reads a bare
// URL or SOURCE for an unset TVMKAFKA_TENABLE_URL or TVMKAFKA_SINK_SOURCE). Each component declares its own settings (variable, default,
// description) in its configuration struct's tags; this struct only places
// them under a prefix. The per-stream variables come from source.Table.
type config struct {
	Tenable        tenable.Config         `envconfig:"TENABLE"`
	Kafka          kafkaio.ProducerConfig `envconfig:"KAFKA"`
	SchemaRegistry registry.Config        `envconfig:"SCHEMA_REGISTRY"`
	Topic          topicConfig            `envconfig:"TOPIC"`
	Source         source.Config          `envconfig:"SOURCE"`
	Run            runConfig              `envconfig:"RUN"`
	Sink           sink.Config            `envconfig:"SINK"`
	Log            logConfig              `envconfig:"LOG"`
	HTTP           telemetry.Config       `envconfig:"HTTP"`
	// Streams holds the per-stream variables of source.Table.
	Streams streamConfig `ignored:"true"`
}

// topicConfig holds the topics that are not a source stream's, and how topics
// are created. The streams' topics are in streamConfig.
type topicConfig struct {
	State             string `envconfig:"STATE" default:"tenable.vm.connector.state" desc:"connector checkpoints (always compacted)"`
	FindingIndex      string `envconfig:"FINDING_INDEX" default:"tenable.vm.connector.finding-index" desc:"open findings of each asset, for closing them when the asset is deleted or terminated (always compacted)"`
	SourceDLQ         string `envconfig:"SOURCE_DLQ" default:"tenable.vm.source.dlq" desc:"exported records that could not be encoded"`
	Inbound           string `envconfig:"INBOUND" default:"tenable.vm.assets.inbound" desc:"assets upstream tools produce for import"`
	InboundDLQ        string `envconfig:"INBOUND_DLQ" default:"tenable.vm.assets.inbound.dlq" desc:"inbound assets that could not be imported, with the reason"`
	Coordination      string `envconfig:"COORDINATION" default:"tenable.vm.connector.coordination" desc:"replicas divide the streams through this topic's consumer group (one partition per stream, no records)"`
	Create            bool   `envconfig:"CREATE" default:"true" desc:"create missing topics at start"`
	Partitions        int    `envconfig:"PARTITIONS" default:"6" desc:"partitions of created data topics"`
	ReplicationFactor int    `envconfig:"REPLICATION_FACTOR" default:"-1" desc:"replication of created topics; -1: the broker default"`
}

type runConfig struct {
	Sink bool `envconfig:"SINK" default:"false" desc:"also run the asset import sink"`
	// The coordination group of the replicas (see RunGroup in connector/source).
	Coordinate        bool          `envconfig:"COORDINATE" default:"true" desc:"replicas share the streams through the coordination group; false: run every stream here"`
	GroupID           string        `envconfig:"GROUP_ID" desc:"coordination group of the replicas; default: the coordination topic's name"`
	Replica           string        `envconfig:"REPLICA" desc:"this replica's name in logs, metrics and the group; default: the host name (pod name)"`
	SessionTimeout    time.Duration `envconfig:"SESSION_TIMEOUT" default:"30s" desc:"how soon the streams of a replica that died move to another (6s to 30m)"`
	HeartbeatInterval time.Duration `envconfig:"HEARTBEAT_INTERVAL" default:"3s" desc:"how often a replica tells the group it is alive (at most a third of the session timeout)"`
}

type logConfig struct {
	Level  string `envconfig:"LEVEL" default:"info" desc:"debug, info, warn or error"`
	Format string `envconfig:"FORMAT" default:"text" desc:"text or json"`
}

// streamConfig holds the variables source.Table declares for each stream:
// TVMKAFKA_TOPIC_<STREAM>, TVMKAFKA_TOPIC_<STREAM>_CLEANUP_POLICY,
// TVMKAFKA_RUN_<STREAM>_INTERVAL, and TVMKAFKA_RUN_STREAMS.
type streamConfig struct {
	Topic    map[string]string
	Cleanup  map[string]string
	Interval map[string]time.Duration
	// Run are the streams tvmkafka run starts.
	Run []string
}

// streamSection is one group of per-stream variables, read through a struct
// type built from source.Table at start-up. Building the type, rather than
// writing a field per stream, keeps the table the only place a stream is
// declared, while the values are parsed, reported and documented from the
// generated tags like any other setting's.
type streamSection struct {
	prefix string // under envPrefix: TOPIC or RUN
	typ    reflect.Type
}

// streamField is one generated variable.
type streamField struct {
	key, def, desc string
	typ            reflect.Type
}

func streamSections() []streamSection {
	var topic, run []streamField
	for _, s := range source.Table {
		up := strings.ToUpper(s.Name)
		topic = append(topic, streamField{up, s.Topic, s.Doc, reflect.TypeFor[string]()})
	}
	for _, s := range source.Table {
		up := strings.ToUpper(s.Name)
		topic = append(topic, streamField{up + "_CLEANUP_POLICY", s.Cleanup,
			"cleanup.policy of a created " + s.Name + " topic", reflect.TypeFor[string]()})
	}
	run = append(run, streamField{"STREAMS", strings.Join(source.StreamNames, ","), "source streams tvmkafka run starts", reflect.TypeFor[[]string]()})
	for _, s := range source.Table {
		run = append(run, streamField{strings.ToUpper(s.Name) + "_INTERVAL", shortDuration(s.Interval),
			"time between " + s.Noun + " runs", reflect.TypeFor[time.Duration]()})
	}
	return []streamSection{{"TOPIC", structOf(topic)}, {"RUN", structOf(run)}}
}

// shortDuration writes d as people write it in a variable: 1h, not 1h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func structOf(fields []streamField) reflect.Type {
	sf := make([]reflect.StructField, len(fields))
	for i, f := range fields {
		sf[i] = reflect.StructField{
			Name: fmt.Sprintf("F%d", i), Type: f.typ,
			Tag: reflect.StructTag(fmt.Sprintf("envconfig:%q default:%q desc:%q", f.key, f.def, f.desc)),
		}
	}
	return reflect.StructOf(sf)
}

// fill reads the generated structs back into streamConfig.
func (c *streamConfig) fill(values map[string]reflect.Value) {
	c.Topic, c.Cleanup, c.Interval = map[string]string{}, map[string]string{}, map[string]time.Duration{}
	topic, run := values["TOPIC"], values["RUN"]
	n := len(source.Table)
	for i, s := range source.Table {
		c.Topic[s.Name] = topic.Field(i).String()
		c.Cleanup[s.Name] = topic.Field(n + i).String()
		c.Interval[s.Name] = time.Duration(run.Field(1 + i).Int())
	}
	c.Run = run.Field(0).Interface().([]string)
}

// processStreams reads the per-stream variables; defaultsOnly applies the
// defaults without reading the environment.
func processStreams(defaultsOnly bool) (streamConfig, error) {
	values := map[string]reflect.Value{}
	for _, sec := range streamSections() {
		v := reflect.New(sec.typ)
		var err error
		if defaultsOnly {
			err = settings.Defaults(v.Interface())
		} else {
			err = settings.Process(envPrefix+"_"+sec.prefix, v.Interface())
		}
		if err != nil {
			return streamConfig{}, err
		}
		values[sec.prefix] = v.Elem()
	}
	var c streamConfig
	c.fill(values)
	return c, nil
}

// loadConfig reads the environment. A failure also lists the unknown
// TVMKAFKA_ variables: a misspelt one is often why a setting is missing.
func loadConfig() (config, error) {
	var c config
	err := settings.Process(envPrefix, &c)
	streams, streamErr := processStreams(false)
	c.Streams = streams
	if err = errors.Join(err, streamErr); err != nil {
		if unknown := unknownVariables(); len(unknown) > 0 {
			err = fmt.Errorf("%w\n%s", err, strings.Join(unknown, "\n"))
		}
		return c, fmt.Errorf("configuration: %w", err)
	}
	return c, nil
}

// otherVariables are TVMKAFKA_ variables read outside the connector
// configuration: the simulator's keys, and the tests' interpreter.
var otherVariables = []string{"TVMKAFKA_SIM_ACCESS_KEY", "TVMKAFKA_SIM_SECRET_KEY", "TVMKAFKA_TEST_PYTHON", "TVMKAFKA_CPU_PROFILE"}

// unknownVariables warns about every TVMKAFKA_ variable in the environment
// that no setting reads, naming the nearest known one.
func unknownVariables() []string {
	known := slices.Clone(otherVariables)
	for _, s := range allSettings() {
		known = append(known, s.key)
	}
	return settings.Unknown(os.Environ(), envPrefix, known)
}

// loadConfigAndLogger reads the configuration, builds the logger writing to
// w, and warns there about unknown TVMKAFKA_ variables.
func loadConfigAndLogger(w io.Writer) (config, *slog.Logger, error) {
	cfg, err := loadConfig()
	if err != nil {
		return cfg, nil, err
	}
	log, err := newLogger(cfg.Log, w)
	if err != nil {
		return cfg, nil, err
	}
	for _, msg := range unknownVariables() {
		log.Warn(msg)
	}
	return cfg, log, nil
}

// defaultConfig is the configuration of an empty environment.
func defaultConfig() config {
	var c config
	if err := settings.Defaults(&c); err != nil {
		panic(err) // the tags are constants; TestDefaultConfigIsValid covers them
	}
	streams, err := processStreams(true)
	if err != nil {
		panic(err)
	}
	c.Streams = streams
	return c
}

// validateCommon checks the settings every connector command needs and
// reports every problem at once, each naming its variable.
func (c config) validateCommon() error {
	var errs []error
	tenableErr := settings.WithPrefix(envPrefix+"_TENABLE", c.tenableClientConfig(nil).Validate())
	if urlErr := checkBaseURL(envPrefix+"_TENABLE_URL", c.Tenable.BaseURL, "https://cloud.tenable.com"); urlErr != nil {
		// Said once, in the words of checkBaseURL rather than url.Parse's.
		tenableErr = errors.Join(urlErr, withoutKey(tenableErr, envPrefix+"_TENABLE_URL"))
	}
	errs = append(errs, tenableErr)
	if c.SchemaRegistry.URL != "" {
		errs = append(errs, checkBaseURL(envPrefix+"_SCHEMA_REGISTRY_URL", c.SchemaRegistry.URL, "http://schema-registry:8081"))
	}
	errs = append(errs, settings.WithPrefix(envPrefix+"_KAFKA", c.Kafka.Validate()))
	errs = append(errs, settings.WithPrefix(envPrefix+"_HTTP", c.HTTP.Validate()))
	errs = append(errs, c.validateTopics())
	if c.SchemaRegistry.Password != "" && c.SchemaRegistry.Username == "" {
		errs = append(errs, errors.New("TVMKAFKA_SCHEMA_REGISTRY_PASSWORD is set without TVMKAFKA_SCHEMA_REGISTRY_USERNAME"))
	}
	return errors.Join(errs...)
}

// validateTopics checks how topics are created.
func (c config) validateTopics() error {
	var errs []error
	for _, s := range source.Table {
		switch p := c.Streams.Cleanup[s.Name]; p {
		case "compact", "delete", "compact,delete", "delete,compact":
		default:
			errs = append(errs, fmt.Errorf("TVMKAFKA_TOPIC_%s_CLEANUP_POLICY %q is not compact, delete or compact,delete", strings.ToUpper(s.Name), p))
		}
	}
	if c.Topic.Partitions < 1 {
		errs = append(errs, fmt.Errorf("TVMKAFKA_TOPIC_PARTITIONS must be at least 1, got %d", c.Topic.Partitions))
	}
	if c.Topic.ReplicationFactor < 1 && c.Topic.ReplicationFactor != -1 {
		errs = append(errs, fmt.Errorf("TVMKAFKA_TOPIC_REPLICATION_FACTOR must be -1 (the broker default) or at least 1, got %d", c.Topic.ReplicationFactor))
	}
	return errors.Join(errs...)
}

// checkBaseURL refuses a base URL without a scheme and host (a common
// mistake: host:port alone, which url.Parse reads as a path or a scheme),
// naming the variable and showing what is expected. It leaves other problems
// to the component's own validation.
func checkBaseURL(key, raw, example string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		return nil
	}
	return fmt.Errorf("%s=%q is not a base URL: expected the scheme and host, such as %s (http://host:port for a local simulator)", key, raw, example)
}

// withoutKey drops the *settings.Error values of key from err (an
// errors.Join tree, as Validate returns).
func withoutKey(err error, key string) error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, inner := range j.Unwrap() {
			out = append(out, withoutKey(inner, key))
		}
		return errors.Join(out...)
	}
	if se, ok := err.(*settings.Error); ok && se.Key == key {
		return nil
	}
	return err
}

// validateRun checks the settings only tvmkafka run reads.
func (c config) validateRun() error {
	var errs []error
	if c.Run.Coordinate {
		if d := c.Run.SessionTimeout; d < 6*time.Second || d > 30*time.Minute {
			errs = append(errs, fmt.Errorf("TVMKAFKA_RUN_SESSION_TIMEOUT must be between 6s and 30m (the broker's default bounds), got %v", d))
		}
		if d := c.Run.HeartbeatInterval; d <= 0 || d > c.Run.SessionTimeout/3 {
			errs = append(errs, fmt.Errorf("TVMKAFKA_RUN_HEARTBEAT_INTERVAL must be positive and at most a third of TVMKAFKA_RUN_SESSION_TIMEOUT (%v), got %v", c.Run.SessionTimeout, d))
		}
		if strings.TrimSpace(c.Topic.Coordination) == "" {
			errs = append(errs, errors.New("TVMKAFKA_TOPIC_COORDINATION is empty: replicas need a coordination topic (or set TVMKAFKA_RUN_COORDINATE=false)"))
		}
	}
	for _, s := range source.Table {
		if d := c.Streams.Interval[s.Name]; d <= 0 {
			errs = append(errs, fmt.Errorf("TVMKAFKA_RUN_%s_INTERVAL must be positive, got %v", strings.ToUpper(s.Name), d))
		}
	}
	return errors.Join(errs...)
}

// interval is the time between runs of a stream under tvmkafka run.
func (c config) interval(stream string) time.Duration { return c.Streams.Interval[stream] }

// sourceTopics are the topics the source stages write to.
func (c config) sourceTopics() source.Topics {
	return source.Topics{Stream: c.Streams.Topic, DeadLetter: c.Topic.SourceDLQ}
}

func (c config) tenableClientConfig(log *slog.Logger) tenable.Config {
	t := c.Tenable
	t.Build, t.Logger = version(), log
	return t
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

// setting is one environment variable, as --help and the README list it.
type setting struct{ key, def, desc string }

// allSettings lists every variable the binary reads, section by section in
// the order of config, with each stream's variables in its section. It is
// rendered once: every command's --help text lists them, and each command is
// built at every start (rendering them per help section cost a start 30 ms of
// CPU). Callers must not modify the slice.
var allSettings = sync.OnceValue(renderSettings)

func renderSettings() []setting {
	const sep = "\x1f"
	render := func(prefix string, spec any) []setting {
		var b strings.Builder
		_ = envconfig.Usagef(prefix, spec, &b, "{{range .}}{{usage_key .}}"+sep+"{{usage_default .}}"+sep+"{{usage_description .}}\n{{end}}")
		var out []setting
		for _, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
			if f := strings.Split(line, sep); len(f) == 3 {
				out = append(out, setting{f[0], f[1], f[2]})
			}
		}
		return out
	}
	var c config
	all := render(envPrefix, &c)
	for _, sec := range streamSections() {
		gen := render(envPrefix+"_"+sec.prefix, reflect.New(sec.typ).Interface())
		// The streams' variables open their section, as the streams are what
		// the section is mostly about.
		at := len(all)
		for i, s := range all {
			if strings.HasPrefix(s.key, envPrefix+"_"+sec.prefix+"_") {
				at = i
				break
			}
		}
		all = append(all[:at], append(gen, all[at:]...)...)
	}
	return all
}

// sectionOf is the section a variable belongs to: TENABLE, KAFKA, HTTP, ...
func sectionOf(key string) string {
	rest := strings.TrimPrefix(key, envPrefix+"_")
	for _, s := range []string{"SCHEMA_REGISTRY"} {
		if strings.HasPrefix(rest, s+"_") {
			return s
		}
	}
	section, _, _ := strings.Cut(rest, "_")
	return section
}

// envHelp renders the environment variables of the given config sections as a
// table, for --help.
func envHelp(sections ...string) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 2, 4, 2, ' ', 0)
	for _, section := range sections {
		for _, s := range allSettings() {
			if sectionOf(s.key) == section {
				fmt.Fprintf(tw, "  %s\t%s\t%s\n", s.key, s.def, s.desc)
			}
		}
	}
	_ = tw.Flush()
	return b.String()
}
