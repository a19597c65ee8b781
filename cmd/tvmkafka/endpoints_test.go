package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tvmkafka/tvmkafka/connector/tenable"
	"github.com/tvmkafka/tvmkafka/connector/tenablesim"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkatest"
)

// routeRecorder records the method and path pattern of every request to the
// Tenable API (not the simulator's own /_sim endpoints).
type routeRecorder struct {
	next   http.Handler
	mu     sync.Mutex
	routes map[string]bool
}

var (
	uuidSegment  = regexp.MustCompile(`/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	exportSub    = regexp.MustCompile(`^/(assets|vulns|compliance)/export/`)
	chunkSegment = regexp.MustCompile(`/chunks/\d+$`)
)

// routePattern writes a path as the README's table does.
func routePattern(path string) string {
	if strings.HasPrefix(path, "/import/asset-jobs/") {
		return "/import/asset-jobs/{job_uuid}"
	}
	p := uuidSegment.ReplaceAllString(path, "/{export_uuid}")
	p = chunkSegment.ReplaceAllString(p, "/chunks/{chunk_id}")
	return exportSub.ReplaceAllString(p, "/{type}/export/")
}

func (r *routeRecorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if !strings.HasPrefix(req.URL.Path, "/_sim/") {
		r.mu.Lock()
		r.routes[req.Method+" "+routePattern(req.URL.Path)] = true
		r.mu.Unlock()
	}
	r.next.ServeHTTP(w, req)
}

// readmeEndpoints reads the method and path of every row of the README's
// Tenable API endpoints table.
func readmeEndpoints(t *testing.T) []string {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "### Tenable API endpoints\n")
	if !ok {
		t.Fatal("README.md has no Tenable API endpoints section")
	}
	section, _, _ = strings.Cut(section, "\n#")
	row := regexp.MustCompile("(?m)^\\| `([A-Z]+)` \\| `([^`]+)` \\|")
	var out []string
	for _, m := range row.FindAllStringSubmatch(section, -1) {
		out = append(out, m[1]+" "+m[2])
	}
	slices.Sort(out)
	return out
}

// TestReadmeListsEveryTenableEndpoint runs the source and the sink against the
// simulator and keeps the README's endpoint table equal to the requests made.
// Two calls happen only in rare conditions a run does not meet (an export
// queued past TVMKAFKA_SOURCE_QUEUE_TIMEOUT is cancelled; a 409 on start lists
// the running exports to adopt one): the test makes those through the client.
func TestReadmeListsEveryTenableEndpoint(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	sim, err := tenablesim.New(tenablesim.Config{Assets: 30, Seed: 9, AccessKey: "ak", SecretKey: "sk"})
	if err != nil {
		t.Fatal(err)
	}
	rec := &routeRecorder{next: sim.Handler(), routes: map[string]bool{}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	t.Setenv("TVMKAFKA_TENABLE_URL", srv.URL)
	t.Setenv("TVMKAFKA_TENABLE_ACCESS_KEY", "ak")
	t.Setenv("TVMKAFKA_TENABLE_SECRET_KEY", "sk")
	t.Setenv("TVMKAFKA_KAFKA_BROKERS", strings.Join(brokers, ","))
	t.Setenv("TVMKAFKA_TOPIC_PARTITIONS", "1")
	t.Setenv("TVMKAFKA_TOPIC_REPLICATION_FACTOR", "1")
	t.Setenv("TVMKAFKA_SOURCE_POLL_INITIAL", "50ms")
	t.Setenv("TVMKAFKA_SOURCE_POLL_MAX", "200ms")
	t.Setenv("TVMKAFKA_SINK_LINGER", "100ms")
	t.Setenv("TVMKAFKA_SINK_JOB_POLL", "100ms")
	t.Setenv("TVMKAFKA_SINK_START_OFFSET", "earliest")
	t.Setenv("TVMKAFKA_SINK_GROUP_ID", kafkatest.UniqueName("endpoints"))
	t.Setenv("TVMKAFKA_LOG_LEVEL", "warn")
	setTopicNames(t, kafkatest.UniqueName("endpoints"))
	cfg, err := loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteTopics(t, brokers, allTopicSpecs(cfg)) })

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out syncBuffer
	if err := runCLIWith(ctx, &out, "source", "--once"); err != nil {
		t.Fatalf("source --once: %v\n%s", err, out.String())
	}
	produceRecords(ctx, t, brokers, []kafkaio.Record{{Topic: cfg.Topic.Inbound, Key: []byte("k"),
		Value: []byte(`{"fqdn":["cmdb-web-01.example.com"],"ipv4":["192.0.2.10"]}`)}})
	if err := runCLIWith(ctx, &out, "sink", "--once"); err != nil {
		t.Fatalf("sink --once: %v\n%s", err, out.String())
	}
	if len(sim.Imports()) == 0 {
		t.Fatal("the sink imported nothing")
	}

	client, err := tenable.New(cfg.tenableClientConfig(nil))
	if err != nil {
		t.Fatal(err)
	}
	job, err := client.StartVulnExport(ctx, tenable.VulnExportRequest{NumAssets: 50})
	if err != nil {
		t.Fatal(err)
	}
	if err := client.CancelExport(ctx, job.Kind, job.UUID); err != nil {
		t.Fatal(err)
	}
	if _, err := client.ListExports(ctx, tenable.ExportVulns); err != nil {
		t.Fatal(err)
	}

	var made []string
	for r := range rec.routes {
		made = append(made, r)
	}
	slices.Sort(made)
	documented := readmeEndpoints(t)
	if strings.Join(made, "\n") != strings.Join(documented, "\n") {
		t.Errorf("the README's endpoint table lists\n  %s\nbut tvmkafka calls\n  %s",
			strings.Join(documented, "\n  "), strings.Join(made, "\n  "))
	}
}
