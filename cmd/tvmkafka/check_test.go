package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
)

// checkEnv points the configuration at the simulator and brokers.
func checkEnv(t *testing.T, tenableURL, brokers string) {
	t.Helper()
	for k, v := range map[string]string{
		"TVMKAFKA_TENABLE_URL": tenableURL, "TVMKAFKA_TENABLE_ACCESS_KEY": "AK", "TVMKAFKA_TENABLE_SECRET_KEY": "SK",
		"TVMKAFKA_KAFKA_BROKERS": brokers, "TVMKAFKA_TOPIC_PARTITIONS": "1", "TVMKAFKA_TOPIC_REPLICATION_FACTOR": "1",
		"TVMKAFKA_TOPIC_CREATE": "true",
	} {
		t.Setenv(k, v)
	}
}

// checkLines maps each check's name to its line ("ok" or "FAIL" first).
func checkLines(out string) map[string]string {
	lines := map[string]string{}
	re := regexp.MustCompile(`^(ok|FAIL)\s+(topic \S+|\S+)`)
	for _, l := range strings.Split(out, "\n") {
		if m := re.FindStringSubmatch(l); m != nil {
			lines[m[2]] = l
		}
	}
	return lines
}

func TestCheck(t *testing.T) {
	sim := newSim(t)
	cluster := newKfake(t)
	defer cluster.Close()
	brokers := strings.Join(cluster.ListenAddrs(), ",")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	cases := []struct {
		name  string
		setup func(t *testing.T)
		fail  map[string]string // failing check -> text its line must hold
	}{
		{"all good, topics creatable", func(t *testing.T) {}, nil},
		{"all good, topics present", func(t *testing.T) {
			cfg, err := loadConfig()
			if err != nil {
				t.Fatal(err)
			}
			if err := kafkaio.EnsureTopics(context.Background(), cfg.Kafka.Connection, append(sourceTopicSpecs(cfg), sinkTopicSpecs(cfg)...), log); err != nil {
				t.Fatal(err)
			}
		}, nil},
		{"wrong key", func(t *testing.T) { t.Setenv("TVMKAFKA_TENABLE_SECRET_KEY", "wrong") },
			map[string]string{"tenable": "refused the API keys"}},
		{"no broker", func(t *testing.T) { t.Setenv("TVMKAFKA_KAFKA_BROKERS", "127.0.0.1:1") },
			map[string]string{"kafka": "TVMKAFKA_KAFKA_BROKERS"}},
		{"missing topic", func(t *testing.T) {
			t.Setenv("TVMKAFKA_TOPIC_CREATE", "false")
			t.Setenv("TVMKAFKA_TOPIC_VULNS", "tenable.vm.vulns.not-there")
		}, map[string]string{"topic tenable.vm.vulns.not-there": "kafka-topics.sh --create --topic tenable.vm.vulns.not-there"}},
		{"cleanup policy differs", func(t *testing.T) {
			// the plugins topic exists (previous case) as compact
			t.Setenv("TVMKAFKA_TOPIC_PLUGINS_CLEANUP_POLICY", "delete")
		}, map[string]string{"topic tenable.vm.plugins": `cleanup.policy is "compact", configured "delete"`}},
		{"invalid configuration", func(t *testing.T) { t.Setenv("TVMKAFKA_SINK_MAX_REQUEST_BYTES", "6000000") },
			map[string]string{"configuration": "TVMKAFKA_SINK_MAX_REQUEST_BYTES"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkEnv(t, sim.URL, brokers)
			c.setup(t)
			out, err := runCLI(t, "check")
			lines := checkLines(out)
			for _, want := range []string{"configuration", "tenable", "kafka", "topic tenable.vm.assets"} {
				if _, ok := lines[want]; !ok && c.fail["kafka"] == "" {
					t.Errorf("no line for %s:\n%s", want, out)
				}
			}
			var exit exitError
			if len(c.fail) == 0 {
				if err != nil {
					t.Fatalf("want exit 0, got %v:\n%s", err, out)
				}
			} else if !errors.As(err, &exit) || exit.code != 1 {
				t.Fatalf("want exit status 1, got %v:\n%s", err, out)
			}
			for name, l := range lines {
				_, failing := c.fail[name]
				if failing != strings.HasPrefix(l, "FAIL") {
					t.Errorf("%s: failing=%v, line %q", name, failing, l)
				}
			}
			for name, text := range c.fail {
				l, ok := lines[name]
				if !ok {
					t.Errorf("no line for the failing check %s:\n%s", name, out)
					continue
				}
				// the hint is on the line after the FAIL line
				rest := out[strings.Index(out, l):]
				if end := strings.Index(rest[len(l)+1:], "\n"); end >= 0 {
					rest = rest[:len(l)+1+end]
				}
				if !strings.Contains(rest, text) {
					t.Errorf("%s: %q lacks %q", name, rest, text)
				}
			}
		})
	}

	// The check creates nothing: the creatable topic is still missing.
	cfg := testConfig(cluster.ListenAddrs(), sim.URL)
	infos, err := kafkaio.DescribeTopics(context.Background(), cfg.Kafka.Connection, []string{"tenable.vm.vulns.not-there"})
	if err != nil || infos["tenable.vm.vulns.not-there"].Exists {
		t.Errorf("check must not create topics: %+v %v", infos, err)
	}
}
