package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tvmkafka/tvmkafka/connector/tenable"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
)

func newCheckCommand() *cobra.Command {
	var noSink bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "check [--no-sink]",
		Short: "Check the configuration, Tenable VM, Kafka, the topics and the schema registry",
		Long: `Checks what the connector needs before it starts, one line per check, with
what to do when one fails:

  configuration   every TVMKAFKA_* variable is valid
  tenable         one authenticated request (the list of vulnerability exports):
                  the URL answers and the keys are accepted with export rights
  kafka           the brokers answer a metadata request (TLS and SASL included)
  topic <name>    each topic exists with the configured cleanup policy, or is
                  missing and TVMKAFKA_TOPIC_CREATE=true may create it (the
                  broker is asked to validate the creation, nothing is created)
  registry        the schema registry answers (when TVMKAFKA_SCHEMA_REGISTRY_URL is set)

It changes nothing. Exit status 0 only when every check passes.

Configuration (environment):
` + envHelp("TENABLE", "KAFKA", "SCHEMA_REGISTRY", "TOPIC", "SOURCE", "RUN", "SINK"),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			failed := runChecks(ctx, cmd.OutOrStdout(), !noSink)
			if failed > 0 {
				return exitError{code: 1, err: fmt.Errorf("%d check(s) failed", failed)}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&noSink, "no-sink", false, "skip the sink's topics (a deployment that runs only the sources)")
	cmd.Flags().DurationVar(&timeout, "timeout", time.Minute, "give up on the checks after this long")
	return cmd
}

// checkResult is one line of the check report.
type checkResult struct {
	name string
	err  error  // nil: passed
	note string // what passed, or what to do about the failure
}

// runChecks runs every check, prints one line each, and returns how many failed.
func runChecks(ctx context.Context, w io.Writer, withSink bool) int {
	var results []checkResult
	add := func(r checkResult) { results = append(results, r) }

	cfg, err := loadConfig()
	if err == nil {
		err = errors.Join(cfg.validateCommon(), cfg.Source.Validate(), cfg.validateRun())
		if withSink {
			err = errors.Join(err, cfg.Sink.Validate())
		}
	}
	if err != nil {
		add(checkResult{"configuration", err, "fix the variables named above (tvmkafka run --help lists them all)"})
	} else {
		add(checkResult{"configuration", nil, "every variable is valid"})
	}

	add(checkTenable(ctx, cfg))
	kafkaOK := checkResultOK(checkKafka(ctx, cfg), add)
	if kafkaOK {
		specs := sourceTopicSpecs(cfg)
		if withSink {
			specs = append(specs, sinkTopicSpecs(cfg)...)
		}
		for _, r := range checkTopics(ctx, cfg, specs) {
			add(r)
		}
	}
	if cfg.SchemaRegistry.URL != "" {
		add(checkRegistry(ctx, cfg))
	}

	failed := 0
	for _, r := range results {
		if r.err == nil {
			fmt.Fprintf(w, "ok    %-28s %s\n", r.name, r.note)
			continue
		}
		failed++
		fmt.Fprintf(w, "FAIL  %-28s %s\n      %-28s -> %s\n", r.name, oneLine(r.err), "", r.note)
	}
	return failed
}

func checkResultOK(r checkResult, add func(checkResult)) bool {
	add(r)
	return r.err == nil
}

// oneLine joins a multi-line error (errors.Join) into one line.
func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }

// checkTenable makes one authenticated call that needs the export privilege.
func checkTenable(ctx context.Context, cfg config) checkResult {
	r := checkResult{name: "tenable"}
	tcfg := cfg.tenableClientConfig(nil)
	tcfg.MaxRetries = 0 // one answer is what the check is about
	client, err := tenable.New(tcfg)
	if err != nil {
		r.err, r.note = err, "set TVMKAFKA_TENABLE_URL, TVMKAFKA_TENABLE_ACCESS_KEY and TVMKAFKA_TENABLE_SECRET_KEY"
		return r
	}
	if _, err := client.ListExports(ctx, tenable.ExportVulns); err != nil {
		r.err = err
		var apiErr *tenable.APIError
		switch {
		case errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusUnauthorized:
			r.note = "Tenable refused the API keys: generate new keys for the integration user and set TVMKAFKA_TENABLE_ACCESS_KEY and _SECRET_KEY"
		case errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusForbidden:
			r.note = "the keys' user lacks the export privilege: give it Basic with Can Export (or Administrator); the sink also needs Scan Manager with Can Edit"
		case errors.As(err, &apiErr):
			r.note = fmt.Sprintf("Tenable answered HTTP %d: check TVMKAFKA_TENABLE_URL points at the API and try again later", apiErr.StatusCode)
		default:
			r.note = "Tenable VM is unreachable: check TVMKAFKA_TENABLE_URL, DNS, proxies and the egress firewall"
		}
		return r
	}
	r.note = "keys accepted at " + client.BaseURL()
	return r
}

// checkKafka asks the brokers for metadata.
func checkKafka(ctx context.Context, cfg config) checkResult {
	r := checkResult{name: "kafka"}
	if err := kafkaio.Ping(ctx, cfg.Kafka.Connection); err != nil {
		r.err = err
		r.note = "check TVMKAFKA_KAFKA_BROKERS, the network path, and TLS/SASL settings (TVMKAFKA_KAFKA_TLS*, TVMKAFKA_KAFKA_SASL_*)"
		return r
	}
	r.note = "brokers answer at " + strings.Join(cfg.Kafka.Brokers, ",")
	return r
}

// checkTopics compares each topic with its spec: present with the configured
// cleanup policy, or missing and creatable.
func checkTopics(ctx context.Context, cfg config, specs []kafkaio.TopicSpec) []checkResult {
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.Name
	}
	infos, err := kafkaio.DescribeTopics(ctx, cfg.Kafka.Connection, names, "cleanup.policy")
	if err != nil {
		return []checkResult{{name: "topics", err: err,
			note: "the principal needs Describe and DescribeConfigs on the topics (Kafka ACLs)"}}
	}
	var missing []kafkaio.TopicSpec
	var out []checkResult
	for _, s := range specs {
		r := checkResult{name: "topic " + s.Name}
		info := infos[s.Name]
		want := s.Configs["cleanup.policy"]
		switch {
		case !info.Exists && cfg.Topic.Create:
			missing = append(missing, s)
			continue
		case !info.Exists:
			r.err = errors.New("missing")
			r.note = fmt.Sprintf("create it (kafka-topics.sh --create --topic %s --partitions %d --config cleanup.policy=%s) or set TVMKAFKA_TOPIC_CREATE=true",
				s.Name, s.Partitions, want)
		case want != "" && !samePolicy(info.Configs["cleanup.policy"], want):
			r.err = fmt.Errorf("cleanup.policy is %q, configured %q", info.Configs["cleanup.policy"], want)
			r.note = fmt.Sprintf("kafka-configs.sh --alter --entity-type topics --entity-name %s --add-config cleanup.policy=[%s], or change the configured policy", s.Name, want)
		default:
			r.note = fmt.Sprintf("%d partitions, cleanup.policy=%s", info.Partitions, info.Configs["cleanup.policy"])
		}
		out = append(out, r)
	}
	if len(missing) > 0 {
		errs := kafkaio.ValidateCreateTopics(ctx, cfg.Kafka.Connection, missing)
		for _, s := range missing {
			r := checkResult{name: "topic " + s.Name, note: "missing; will be created at start (the broker validated the creation)"}
			if err := errs[s.Name]; err != nil {
				r.err = err
				r.note = "missing, and the broker refuses to create it: create it yourself or grant Create on the topic (Kafka ACLs)"
			}
			out = append(out, r)
		}
	}
	return out
}

// samePolicy compares cleanup policies as sets: "compact,delete" is "delete,compact".
func samePolicy(a, b string) bool {
	split := func(s string) []string {
		parts := strings.Split(strings.ReplaceAll(s, " ", ""), ",")
		slices.Sort(parts)
		return parts
	}
	return slices.Equal(split(a), split(b))
}

// checkRegistry reads the registry's global compatibility level, which needs
// the same credentials as registering.
func checkRegistry(ctx context.Context, cfg config) checkResult {
	r := checkResult{name: "registry"}
	c := cfg.SchemaRegistry
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(c.URL, "/")+"/config", nil)
	if err != nil {
		r.err, r.note = err, "fix TVMKAFKA_SCHEMA_REGISTRY_URL"
		return r
	}
	if c.Username != "" {
		req.SetBasicAuth(c.Username, c.Password)
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	resp, err := hc.Do(req)
	if err != nil {
		r.err, r.note = err, "the registry is unreachable: check TVMKAFKA_SCHEMA_REGISTRY_URL and the network path"
		return r
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		r.err = fmt.Errorf("HTTP %d", resp.StatusCode)
		r.note = "the registry refused the credentials: check TVMKAFKA_SCHEMA_REGISTRY_USERNAME and _PASSWORD"
	case resp.StatusCode != http.StatusOK:
		r.err = fmt.Errorf("HTTP %d from GET /config", resp.StatusCode)
		r.note = "TVMKAFKA_SCHEMA_REGISTRY_URL does not look like a Confluent-compatible registry"
	default:
		r.note = "answers at " + c.URL
	}
	return r
}
