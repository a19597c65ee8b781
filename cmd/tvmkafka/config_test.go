package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tvmkafka/tvmkafka/connector/source"
	"github.com/tvmkafka/tvmkafka/connector/tenable"
)

// withKeys sets the variables every connector command requires.
func withKeys(t *testing.T) {
	t.Setenv("TVMKAFKA_TENABLE_ACCESS_KEY", "a")
	t.Setenv("TVMKAFKA_TENABLE_SECRET_KEY", "s")
}

func TestDefaultConfigIsValid(t *testing.T) {
	c := defaultConfig()
	c.Tenable.AccessKey, c.Tenable.SecretKey = "a", "s"
	if err := c.validateCommon(); err != nil {
		t.Fatal(err)
	}
	if err := c.validateRun(); err != nil {
		t.Fatal(err)
	}
	if err := c.Source.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := c.Sink.Validate(); err != nil {
		t.Fatal(err)
	}
}

// TestStreamVariables: the per-stream variables source.Table declares are
// read from the environment under their established names and defaults.
func TestStreamVariables(t *testing.T) {
	withKeys(t)
	t.Setenv("TVMKAFKA_TOPIC_ASSETS", "my.assets")
	t.Setenv("TVMKAFKA_TOPIC_VULNS_CLEANUP_POLICY", "compact,delete")
	t.Setenv("TVMKAFKA_RUN_COMPLIANCE_INTERVAL", "90m")
	t.Setenv("TVMKAFKA_RUN_STREAMS", "vulns,plugins")
	c, err := loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		topic, cleanup string
		interval       time.Duration
	}{
		source.StreamAssets:     {"my.assets", "compact", time.Hour},
		source.StreamVulns:      {"tenable.vm.vulns", "compact,delete", time.Hour},
		source.StreamCompliance: {"tenable.vm.compliance", "delete", 90 * time.Minute},
		source.StreamPlugins:    {"tenable.vm.plugins", "compact", 24 * time.Hour},
	}
	for name, w := range want {
		if got := c.Streams.Topic[name]; got != w.topic {
			t.Errorf("%s topic %q, want %q", name, got, w.topic)
		}
		if got := c.Streams.Cleanup[name]; got != w.cleanup {
			t.Errorf("%s cleanup %q, want %q", name, got, w.cleanup)
		}
		if got := c.interval(name); got != w.interval {
			t.Errorf("%s interval %v, want %v", name, got, w.interval)
		}
	}
	if strings.Join(c.Streams.Run, ",") != "vulns,plugins" {
		t.Errorf("run streams %v", c.Streams.Run)
	}
	t.Setenv("TVMKAFKA_RUN_VULNS_INTERVAL", "soon")
	if _, err := loadConfig(); err == nil || !strings.Contains(err.Error(), "TVMKAFKA_RUN_VULNS_INTERVAL") {
		t.Errorf("an unparsable interval: %v", err)
	}
}

// TestSourceTopicSpecs: the topics created for the sources, with their
// cleanup policies, are those the connector has always created, and the
// replicas' coordination topic with one partition per stream.
func TestSourceTopicSpecs(t *testing.T) {
	got := map[string]string{}
	for _, s := range sourceTopicSpecs(defaultConfig()) {
		got[s.Name] = s.Configs["cleanup.policy"]
		if s.Name == "tenable.vm.connector.coordination" && s.Partitions != len(source.Table) {
			t.Errorf("the coordination topic has %d partitions, want one per stream (%d)", s.Partitions, len(source.Table))
		}
	}
	want := map[string]string{
		"tenable.vm.assets": "compact", "tenable.vm.vulns": "delete", "tenable.vm.compliance": "delete", "tenable.vm.plugins": "compact",
		"tenable.vm.source.dlq": "delete", "tenable.vm.connector.state": "compact", "tenable.vm.connector.coordination": "delete",
		"tenable.vm.connector.finding-index": "compact",
	}
	if len(got) != len(want) {
		t.Fatalf("topics %v, want %v", got, want)
	}
	for topic, policy := range want {
		if got[topic] != policy {
			t.Errorf("%s: cleanup.policy %q, want %q", topic, got[topic], policy)
		}
	}
}

// TestZeroSettingsFromEnvironment runs both classes of settings through the
// environment: a meaningful zero is kept as zero, a meaningless one is
// refused with the exact variable named.
func TestZeroSettingsFromEnvironment(t *testing.T) {
	kept := []struct {
		env string
		get func(config) int64
	}{
		{"TVMKAFKA_TENABLE_MAX_RETRIES", func(c config) int64 { return int64(c.Tenable.MaxRetries) }},
		{"TVMKAFKA_SINK_MAX_RESUBMITS", func(c config) int64 { return int64(c.Sink.MaxResubmits) }},
		{"TVMKAFKA_SOURCE_INITIAL_LOOKBACK", func(c config) int64 { return int64(c.Source.InitialLookback) }},
		{"TVMKAFKA_SOURCE_QUEUE_TIMEOUT", func(c config) int64 { return int64(c.Source.QueueTimeout) }},
		{"TVMKAFKA_SOURCE_OVERLAP", func(c config) int64 { return int64(c.Source.Overlap) }},
	}
	for _, tt := range kept {
		t.Run(tt.env, func(t *testing.T) {
			withKeys(t)
			t.Setenv(tt.env, "0")
			c, err := loadConfig()
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.get(c); got != 0 {
				t.Fatalf("%s=0 read as %d", tt.env, got)
			}
			if err := allValid(c); err != nil {
				t.Fatalf("%s=0 refused: %v", tt.env, err)
			}
		})
	}
	refused := []struct{ env, want string }{
		{"TVMKAFKA_SOURCE_CHUNK_WORKERS", "TVMKAFKA_SOURCE_CHUNK_WORKERS must be between 1 and 8, got 0"},
		{"TVMKAFKA_TENABLE_REQUEST_TIMEOUT", "TVMKAFKA_TENABLE_REQUEST_TIMEOUT must be positive, got 0s"},
		{"TVMKAFKA_TENABLE_RETRY_INITIAL", "TVMKAFKA_TENABLE_RETRY_INITIAL must be positive, got 0s"},
		{"TVMKAFKA_KAFKA_BATCH_SIZE", "TVMKAFKA_KAFKA_BATCH_SIZE must be positive, got 0"},
		{"TVMKAFKA_KAFKA_BATCH_TIMEOUT", "TVMKAFKA_KAFKA_BATCH_TIMEOUT must be positive, got 0s"},
		{"TVMKAFKA_KAFKA_MAX_ATTEMPTS", "TVMKAFKA_KAFKA_MAX_ATTEMPTS must be positive, got 0"},
		{"TVMKAFKA_TOPIC_PARTITIONS", "TVMKAFKA_TOPIC_PARTITIONS must be at least 1, got 0"},
		{"TVMKAFKA_TOPIC_REPLICATION_FACTOR", "TVMKAFKA_TOPIC_REPLICATION_FACTOR must be -1 (the broker default) or at least 1, got 0"},
		{"TVMKAFKA_RUN_VULNS_INTERVAL", "TVMKAFKA_RUN_VULNS_INTERVAL must be positive, got 0s"},
		{"TVMKAFKA_SINK_LINGER", "TVMKAFKA_SINK_LINGER must be positive, got 0s"},
	}
	for _, tt := range refused {
		t.Run(tt.env, func(t *testing.T) {
			withKeys(t)
			t.Setenv(tt.env, "0")
			c, err := loadConfig()
			if err != nil {
				t.Fatal(err)
			}
			if err := allValid(c); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
}

func allValid(c config) error {
	for _, err := range []error{c.validateCommon(), c.validateRun(), c.Source.Validate(), c.Sink.Validate()} {
		if err != nil {
			return err
		}
	}
	return nil
}

// TestMaxRetriesZeroMakesOneAttempt is the regression test of the reported
// defect, through the binary's configuration: TVMKAFKA_TENABLE_MAX_RETRIES=0
// used to give five retries ("giving up after 6 attempts").
func TestMaxRetriesZeroMakesOneAttempt(t *testing.T) {
	var attempts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attempts.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"statusCode":503,"error":"Service Unavailable","message":"busy"}`))
	}))
	defer srv.Close()
	withKeys(t)
	t.Setenv("TVMKAFKA_TENABLE_URL", srv.URL)
	t.Setenv("TVMKAFKA_TENABLE_MAX_RETRIES", "0")
	t.Setenv("TVMKAFKA_TENABLE_RETRY_INITIAL", "1ms")
	t.Setenv("TVMKAFKA_TENABLE_RETRY_MAX", "1ms")
	c, err := loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.validateCommon(); err != nil {
		t.Fatal(err)
	}
	client, err := tenable.New(c.tenableClientConfig(nil))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := client.ExportStatus(ctx, tenable.ExportVulns, "job"); err == nil {
		t.Fatal("want the 503 as an error")
	}
	if got := attempts.Load(); got != 1 {
		t.Fatalf("TVMKAFKA_TENABLE_MAX_RETRIES=0 sent %d requests, want 1", got)
	}
}

// TestSchemasListShowsTopics: `tvmkafka schemas` names each schema's topic,
// as configured.
func TestSchemasListShowsTopics(t *testing.T) {
	t.Setenv("TVMKAFKA_TOPIC_VULNS", "custom.vulns")
	out, err := runCLI(t, "schemas")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"vuln": "custom.vulns", "asset": "tenable.vm.assets", "inbound_asset": "tenable.vm.assets.inbound"}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && want[f[0]] != "" {
			if f[4] != want[f[0]] {
				t.Errorf("%s: topic %s, want %s", f[0], f[4], want[f[0]])
			}
			delete(want, f[0])
		}
	}
	if len(want) != 0 {
		t.Errorf("schemas missing from the list: %v\n%s", want, out)
	}
}

// TestBareVariablesAreNotRead: a variable named like a setting's tag but
// without the TVMKAFKA_ prefix (URL, VULNS, SOURCE: set for other programs)
// does not configure the connector, as it did through envconfig's fallback.
func TestBareVariablesAreNotRead(t *testing.T) {
	t.Setenv("URL", "http://elsewhere.example")
	t.Setenv("VULNS", "someone.elses.topic")
	t.Setenv("SOURCE", "someone else")
	t.Setenv("INBOUND", "other.inbound")
	c, err := loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if c.Tenable.BaseURL != "https://cloud.tenable.com" || c.Streams.Topic[source.StreamVulns] != "tenable.vm.vulns" ||
		c.Sink.Source != "tvmkafka Kafka Connector" || c.Topic.Inbound != "tenable.vm.assets.inbound" {
		t.Fatalf("bare variables were read: URL %q, vulns topic %q, sink source %q, inbound %q",
			c.Tenable.BaseURL, c.Streams.Topic[source.StreamVulns], c.Sink.Source, c.Topic.Inbound)
	}
}
