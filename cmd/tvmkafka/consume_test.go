package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tvmkafka/tvmkafka/connector/source"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkatest"
	"github.com/tvmkafka/tvmkafka/schemas"
)

// consumeSamples are a record of each schema, as Tenable sends it, and the
// path of a value the decoded record must hold.
var consumeSamples = []struct {
	name        schemas.Name
	json        string
	field, want string // a member of the decoded value (dotted path) and its JSON
}{
	{schemas.NameAsset, `{"id":"asset-1","fqdn":["a.example.com"]}`, "id", `"asset-1"`},
	{schemas.NameVuln, `{"asset":{"uuid":"asset-1"},"plugin":{"id":19506},"port":{"port":443,"protocol":"TCP"},"severity":"high"}`, "plugin.id", `19506`},
	{schemas.NameCompliance, `{"asset_uuid":"asset-1","check_id":"check-1"}`, "check_id", `"check-1"`},
	{schemas.NamePlugin, `{"id":19506,"name":"Nessus Scan Information"}`, "id", `19506`},
	{schemas.NameInboundAsset, `{"fqdn":["b.example.com"]}`, "fqdn", `{"array":["b.example.com"]}`},
}

// schemaRegistry serves GET /schemas/ids/{id} for the samples' schemas, ID i+1
// for consumeSamples[i]: all the consume command asks of a registry.
func schemaRegistry(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/schemas/ids/"))
		if err != nil || id < 1 || id > len(consumeSamples) {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error_code":40403,"message":"Schema not found"}`))
			return
		}
		s, _ := schemas.Get(consumeSamples[id-1].name)
		w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
		_ = json.NewEncoder(w).Encode(map[string]string{"schema": s.Canonical})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// syncBuffer is a buffer a command writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// runCLIWith runs the command line writing to out.
func runCLIWith(ctx context.Context, out *syncBuffer, args ...string) error {
	cmd := newRootCommand()
	cmd.SetOut(out)
	cmd.SetErr(out)
	cmd.SetArgs(args)
	return cmd.ExecuteContext(ctx)
}

func consumedLines(t *testing.T, out string) []map[string]json.RawMessage {
	t.Helper()
	var lines []map[string]json.RawMessage
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not a JSON line: %q: %v", l, err)
		}
		lines = append(lines, m)
	}
	return lines
}

// member returns a dotted path of a JSON object; the objects on the way may be
// Avro unions ({"type name": value}), which it unwraps.
func member(v json.RawMessage, path string) string {
	parts := strings.Split(path, ".")
	for i, p := range parts {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(v, &m); err != nil {
			return ""
		}
		if _, ok := m[p]; !ok && len(m) == 1 && i > 0 {
			for _, inner := range m {
				_ = json.Unmarshal(inner, &m)
			}
		}
		v = m[p]
	}
	return string(v)
}

func deleteTopics(t *testing.T, brokers []string, specs []kafkaio.TopicSpec) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.Name
	}
	if err := kafkaio.DeleteTopics(ctx, kafkaio.Connection{Brokers: brokers}, names...); err != nil {
		t.Logf("clean up: %v", err)
	}
}

// TestTopicsCreateAndConsume: `topics create` creates every topic tvmkafka
// uses, the inbound topic and its dead-letter topic included, and `consume`
// prints the records of each, in both Avro wire formats, as JSON, and the
// state and dead-letter topics' values as JSON or bytes.
func TestTopicsCreateAndConsume(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	withKeys(t)
	t.Setenv("TVMKAFKA_KAFKA_BROKERS", strings.Join(brokers, ","))
	t.Setenv("TVMKAFKA_TOPIC_PARTITIONS", "2")
	t.Setenv("TVMKAFKA_TOPIC_REPLICATION_FACTOR", "1")
	t.Setenv("TVMKAFKA_SCHEMA_REGISTRY_URL", schemaRegistry(t).URL)
	base := kafkatest.UniqueName("consume")
	setTopicNames(t, base)
	topicOf := map[schemas.Name]string{}
	for _, s := range source.Table {
		topicOf[s.Schema] = base + "." + s.Name
	}
	topicOf[schemas.NameInboundAsset] = base + ".inbound"
	cfg, err := loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	specs := allTopicSpecs(cfg)
	t.Cleanup(func() { deleteTopics(t, brokers, specs) })

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out syncBuffer
	if err := runCLIWith(ctx, &out, "topics", "create"); err != nil {
		t.Fatalf("topics create: %v\n%s", err, out.String())
	}
	for _, s := range specs {
		ranges, err := kafkaio.PartitionOffsets(ctx, kafkaio.Connection{Brokers: brokers}, s.Name)
		if err != nil || len(ranges) != s.Partitions {
			t.Fatalf("topic %s: %d partitions (%v), want %d", s.Name, len(ranges), err, s.Partitions)
		}
	}
	if !strings.Contains(out.String(), cfg.Topic.Inbound) || !strings.Contains(out.String(), cfg.Topic.InboundDLQ) {
		t.Errorf("topics create does not list the inbound topics:\n%s", out.String())
	}

	// Each sample in both wire formats on its topic; JSON and raw bytes where
	// tvmkafka puts them.
	var recs []kafkaio.Record
	for i, s := range consumeSamples {
		sch, err := schemas.Get(s.name)
		if err != nil {
			t.Fatal(err)
		}
		body, key, err := sch.NewTranscoder().Transcode(nil, []byte(s.json), map[string]string{"state": "ACTIVE"})
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		headers := []kafkaio.Header{{Key: "tvm.schema", Value: []byte(sch.FullName)}}
		recs = append(recs,
			kafkaio.Record{Topic: topicOf[s.name], Key: []byte(string(key) + "-so"), Value: schemas.AppendSingleObject(nil, sch, body), Headers: headers},
			kafkaio.Record{Topic: topicOf[s.name], Key: []byte(string(key) + "-cf"), Value: schemas.AppendConfluent(nil, i+1, body), Headers: headers})
	}
	recs = append(recs,
		kafkaio.Record{Topic: cfg.Topic.Inbound, Key: []byte("json"), Value: []byte(`{"fqdn":["c.example.com"]}`)},
		kafkaio.Record{Topic: cfg.Topic.State, Key: []byte("vulns"), Value: []byte(`{"stream":"vulns","runs":1}`)},
		kafkaio.Record{Topic: cfg.Topic.SourceDLQ, Key: []byte("k"), Value: []byte(`{"id":"bad record"}`)},
		kafkaio.Record{Topic: cfg.Topic.InboundDLQ, Key: []byte("k"), Value: []byte("not JSON\x00\xff"),
			Headers: []kafkaio.Header{{Key: "__connect.errors.exception.message", Value: []byte("neither Avro nor JSON")}}},
		kafkaio.Record{Topic: cfg.Topic.State, Key: []byte("gone"), Value: nil})
	produceRecords(ctx, t, brokers, recs)

	for _, s := range consumeSamples {
		out := syncBuffer{}
		if err := runCLIWith(ctx, &out, "consume", topicOf[s.name], "--from-beginning"); err != nil {
			t.Fatalf("consume %s: %v\n%s", topicOf[s.name], err, out.String())
		}
		lines := consumedLines(t, out.String())
		formats := map[string]int{}
		for _, l := range lines {
			var format string
			_ = json.Unmarshal(l["value_format"], &format)
			if format == "json" {
				continue // the inbound topic's JSON asset
			}
			formats[format]++
			sch, _ := schemas.Get(s.name)
			if got := string(l["schema"]); got != strconv.Quote(sch.FullName) {
				t.Errorf("%s %s: schema %s, want %s", s.name, format, got, sch.FullName)
			}
			if got := member(l["value"], s.field); got != s.want {
				t.Errorf("%s %s: %s = %s, want %s\n%s", s.name, format, s.field, got, s.want, l["value"])
			}
			if !strings.Contains(string(l["headers"]), `"key":"tvm.schema"`) {
				t.Errorf("%s: headers %s", s.name, l["headers"])
			}
		}
		if formats["avro-single-object"] != 1 || formats["avro-confluent"] != 1 {
			t.Errorf("%s: formats %v, want one record of each Avro wire format\n%s", s.name, formats, out.String())
		}
	}
	for _, tt := range []struct {
		topic string
		want  []string
	}{
		{cfg.Topic.Inbound, []string{`"key":"json"`, `"value_format":"json","value":{"fqdn":["c.example.com"]}`}},
		{cfg.Topic.State, []string{`"value_format":"json","value":{"stream":"vulns","runs":1}`, `"key":"gone"`, `"value_format":"null","value":null`}},
		{cfg.Topic.SourceDLQ, []string{`"value_format":"json","value":{"id":"bad record"}`}},
		{cfg.Topic.InboundDLQ, []string{`"value_format":"bytes","value":null,"value_base64":"bm90IEpTT04A/w==","value_hex":"6e6f74204a534f4e00ff"`,
			`{"key":"__connect.errors.exception.message","value":"neither Avro nor JSON"}`}},
	} {
		out := syncBuffer{}
		if err := runCLIWith(ctx, &out, "consume", tt.topic, "--from-beginning"); err != nil {
			t.Fatalf("consume %s: %v", tt.topic, err)
		}
		for _, w := range tt.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("consume %s lacks %s:\n%s", tt.topic, w, out.String())
			}
		}
	}

	// --max stops early; without the registry a Confluent value is shown as
	// bytes with the reason.
	t.Setenv("TVMKAFKA_SCHEMA_REGISTRY_URL", "")
	out = syncBuffer{}
	if err := runCLIWith(ctx, &out, "consume", topicOf[schemas.NameVuln], "--from-beginning", "--max", "5"); err != nil {
		t.Fatal(err)
	}
	if n := len(consumedLines(t, out.String())); n != 2 {
		t.Errorf("--max 5 on a topic of 2 records printed %d", n)
	}
	if !strings.Contains(out.String(), "set TVMKAFKA_SCHEMA_REGISTRY_URL to decode it") {
		t.Errorf("a Confluent value without a registry is not explained:\n%s", out.String())
	}
	out = syncBuffer{}
	if err := runCLIWith(ctx, &out, "consume", topicOf[schemas.NameVuln], "--max", "1"); err != nil {
		t.Fatal(err)
	}
	if n := len(consumedLines(t, out.String())); n != 1 {
		t.Errorf("--max 1 printed %d records", n)
	}

	// --follow hands over records produced while it runs.
	out = syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- runCLIWith(ctx, &out, "consume", cfg.Topic.State, "--from-beginning", "--follow", "--max", "3")
	}()
	kafkatest.WaitFor(t, 30*time.Second, func() error {
		if n := strings.Count(out.String(), "\n"); n < 2 {
			return fmt.Errorf("%d lines", n)
		}
		return nil
	})
	produceRecords(ctx, t, brokers, []kafkaio.Record{{Topic: cfg.Topic.State, Key: []byte("later"), Value: []byte(`{"stream":"plugins"}`)}})
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("--follow did not print the new record:\n%s", out.String())
	}
	if !strings.Contains(out.String(), `"key":"later"`) {
		t.Errorf("--follow missed the new record:\n%s", out.String())
	}
}

func produceRecords(ctx context.Context, t *testing.T, brokers []string, recs []kafkaio.Record) {
	t.Helper()
	cfg := kafkaio.DefaultProducerConfig()
	cfg.Connection.Brokers, cfg.BatchTimeout = brokers, 5*time.Millisecond
	p, err := kafkaio.NewProducer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	g := kafkaio.NewAckGroup()
	if err := p.Send(ctx, g, recs...); err != nil {
		t.Fatal(err)
	}
	if err := g.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}
