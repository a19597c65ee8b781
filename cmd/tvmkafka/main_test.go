package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tvmkafka/tvmkafka/connector/source"
)

func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := cmd.ExecuteContext(ctx)
	return out.String(), err
}

// TestDemoRunsEndToEnd runs `tvmkafka demo` on a small tenant: both source runs
// and the sink complete, and the output says what landed where.
func TestDemoRunsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole connector in process")
	}
	// The story goes to stdout; nothing may be logged beside it, to stderr
	// either (where a terminal shows it interleaved).
	stderr, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stderr
	os.Stderr = stderr
	out, err := runCLI(t, "demo", "--assets", "80", "--seed", "3")
	os.Stderr = saved
	if err != nil {
		t.Fatalf("demo failed: %v\n%s", err, out)
	}
	logged, _ := os.ReadFile(stderr.Name())
	if strings.Contains(out, "level=") || len(logged) > 0 {
		t.Errorf("log lines in the demo's story:\n%s%s", out, logged)
	}
	for _, want := range []string{
		"1. First run", "2. The tenant's clock moves", "tenable.vm.vulns", "decoded with schema io.tvmkafka.tvm.VulnFinding",
		"import job", `from source "tvmkafka Kafka Connector"`, "dead-lettered to tenable.vm.assets.inbound.dlq",
		"by default only medium, high, critical findings", "TVMKAFKA_SOURCE_VULNS_SEVERITY", "(abridged: 10 values picked",
		"(asset_deleted at ", "(asset_terminated at ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
}

func TestConfigErrorsNameTheVariables(t *testing.T) {
	t.Setenv("TVMKAFKA_TENABLE_ACCESS_KEY", "")
	t.Setenv("TVMKAFKA_TENABLE_SECRET_KEY", "")
	t.Setenv("TVMKAFKA_KAFKA_BROKERS", "kafka-without-port")
	t.Setenv("TVMKAFKA_KAFKA_COMPRESSION", "brotli")
	t.Setenv("TVMKAFKA_SOURCE_VULNS_NUM_ASSETS", "10")
	_, err := runCLI(t, "source", "--once")
	if err == nil {
		t.Fatal("want a configuration error")
	}
	for _, want := range []string{"TVMKAFKA_TENABLE_ACCESS_KEY", "TVMKAFKA_TENABLE_SECRET_KEY", "needs a port", "TVMKAFKA_KAFKA_COMPRESSION"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	t.Setenv("TVMKAFKA_TENABLE_ACCESS_KEY", "a")
	t.Setenv("TVMKAFKA_TENABLE_SECRET_KEY", "s")
	t.Setenv("TVMKAFKA_KAFKA_BROKERS", "127.0.0.1:1")
	t.Setenv("TVMKAFKA_KAFKA_COMPRESSION", "lz4")
	_, err = runCLI(t, "source", "--once")
	if err == nil || !strings.Contains(err.Error(), "TVMKAFKA_SOURCE_VULNS_NUM_ASSETS") {
		t.Errorf("want the source setting named, got %v", err)
	}
	t.Setenv("TVMKAFKA_SOURCE_VULNS_NUM_ASSETS", "2000")
	t.Setenv("TVMKAFKA_SINK_MAX_REQUEST_BYTES", "6000000")
	_, err = runCLI(t, "sink", "--once")
	if err == nil || !strings.Contains(err.Error(), "TVMKAFKA_SINK_MAX_REQUEST_BYTES") {
		t.Errorf("a request limit above 5 MB must be refused, got %v", err)
	}
	t.Setenv("TVMKAFKA_SINK_MAX_REQUEST_BYTES", "4000000")
	t.Setenv("TVMKAFKA_SINK_SESSION_TIMEOUT", "2s")
	_, err = runCLI(t, "sink", "--once")
	if err == nil || !strings.Contains(err.Error(), "TVMKAFKA_SINK_SESSION_TIMEOUT") {
		t.Errorf("a session timeout the broker refuses must be refused up front, got %v", err)
	}
}

func TestUnknownStreamIsRefused(t *testing.T) {
	_, err := runCLI(t, "source", "--once", "--streams", "vulns,widgets")
	if err == nil || !strings.Contains(err.Error(), `unknown stream "widgets"`) {
		t.Fatalf("got %v", err)
	}
}

func TestHelpListsEverySetting(t *testing.T) {
	out, err := runCLI(t, "run", "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"TVMKAFKA_TENABLE_URL", "TVMKAFKA_TENABLE_ACCESS_KEY", "TVMKAFKA_KAFKA_BROKERS",
		"TVMKAFKA_SCHEMA_REGISTRY_URL", "TVMKAFKA_SOURCE_OVERLAP", "TVMKAFKA_SINK_MAX_REQUEST_BYTES", "TVMKAFKA_RUN_VULNS_INTERVAL"} {
		if !strings.Contains(out, want) {
			t.Errorf("run --help lacks %s", want)
		}
	}
}

func TestVersionShowsUserAgent(t *testing.T) {
	out, err := runCLI(t, "version")
	if err != nil || !strings.Contains(out, "Integration/1.0 (tvmkafka; Kafka Connector; Build/") {
		t.Fatalf("version output %q err %v", out, err)
	}
}

// TestReadmeDocumentsEverySetting keeps the README's configuration tables in step
// with the code: every variable the binary reads is documented there.
func TestReadmeDocumentsEverySetting(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range allSettings() {
		if !strings.Contains(string(readme), "`"+s.key+"`") {
			t.Errorf("README.md does not document %s", s.key)
		}
	}
}

// connectorTopicVariables are the topic variables other than the streams'
// (TVMKAFKA_TOPIC_<STREAM>, from source.Table), less the TVMKAFKA_TOPIC_ prefix.
var connectorTopicVariables = []string{"STATE", "FINDING_INDEX", "SOURCE_DLQ", "INBOUND", "INBOUND_DLQ"}

// setTopicNames gives every topic of the connector a name of its own under
// base (base.assets, base.state, ...), so a test's topics meet no other's.
func setTopicNames(t *testing.T, base string) {
	t.Helper()
	for _, s := range source.Table {
		t.Setenv("TVMKAFKA_TOPIC_"+strings.ToUpper(s.Name), base+"."+s.Name)
	}
	for _, v := range connectorTopicVariables {
		t.Setenv("TVMKAFKA_TOPIC_"+v, base+"."+strings.ToLower(v))
	}
}
