package sink_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tvmkafka/tvmkafka/connector/sink"
	"github.com/tvmkafka/tvmkafka/connector/tenable"
	"github.com/tvmkafka/tvmkafka/connector/tenablesim"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkatest"
	"github.com/tvmkafka/tvmkafka/schemas"
)

// sinkHarness wires a simulated tenant, a real broker with an inbound and a
// dead-letter topic of their own, and the sink.
type sinkHarness struct {
	t        testing.TB
	sim      *tenablesim.Server
	simURL   string
	client   *tenable.Client
	brokers  []string
	inbound  string
	dlq      string
	group    string
	cfg      sink.Config
	importer sink.Importer // defaults to the client; tests may wrap it
	drain    time.Duration
}

// newSinkHarness starts the parts; adjust, if given, changes the simulator's
// configuration first.
func newSinkHarness(t testing.TB, partitions int, adjust ...func(*tenablesim.Config)) *sinkHarness {
	t.Helper()
	brokers := needsBroker(t)
	return newSinkHarnessOn(t, brokers, kafkatest.CreateTopic(t, brokers, partitions, nil), kafkatest.CreateTopic(t, brokers, 1, nil), adjust...)
}

// needsBroker skips t, or fails it under CI=true, when the integration test
// cannot run. A test with subtests calls it first, so it is reported skipped
// rather than passed with every subtest skipped.
func needsBroker(t testing.TB) []string {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: simulator and Kafka broker")
	}
	return kafkatest.Brokers(t)
}

func quietLog() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// produce writes values to the inbound topic with acks=all.
func (h *sinkHarness) produce(values ...[]byte) {
	h.t.Helper()
	recs := make([]kafkaio.Record, len(values))
	for i, v := range values {
		recs[i] = kafkaio.Record{Topic: h.inbound, Key: []byte(fmt.Sprintf("k%d", i)), Value: v, Headers: []kafkaio.Header{{Key: "origin", Value: []byte("cmdb")}}}
	}
	kafkatest.Produce(h.t, h.brokers, recs...)
}

// runOnce runs the sink until it caught up with the topic, like `tvmkafka sink --once`.
func (h *sinkHarness) runOnce(ctx context.Context) (*sink.Sink, error) {
	h.t.Helper()
	conn := kafkaio.Connection{Brokers: h.brokers}
	until, err := kafkaio.PendingOffsets(ctx, conn, h.group, h.inbound, true)
	if err != nil {
		h.t.Fatal(err)
	}
	reader, err := kafkaio.NewGroupReader(kafkaio.GroupReaderConfig{Connection: conn, GroupID: h.group, Topic: h.inbound, Earliest: true})
	if err != nil {
		h.t.Fatal(err)
	}
	defer reader.Close()
	pcfg := kafkaio.DefaultProducerConfig()
	pcfg.Connection, pcfg.BatchTimeout, pcfg.Logger = conn, time.Millisecond, quietLog()
	dlqW, err := kafkaio.NewProducer(pcfg)
	if err != nil {
		h.t.Fatal(err)
	}
	defer dlqW.Close()
	s, err := sink.New(sink.Options{Config: h.cfg, Topic: h.inbound, DeadLetterTopic: h.dlq, Consumer: reader,
		Importer: h.importer, Decoder: sink.NewDecoder(nil), DeadLetters: dlqW, Logger: quietLog(), DrainTimeout: h.drain,
		ValueAt: func(ctx context.Context, topic string, partition int, offset int64) ([]byte, error) {
			return kafkaio.ValueAt(ctx, conn, topic, partition, offset)
		}})
	if err != nil {
		h.t.Fatal(err)
	}
	if len(until) == 0 {
		return s, nil
	}
	return s, s.Run(ctx, until)
}

// pending reports what the group still has to read.
func (h *sinkHarness) pending() map[int]int64 {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := kafkaio.PendingOffsets(ctx, kafkaio.Connection{Brokers: h.brokers}, h.group, h.inbound, true)
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}

// importedFQDNs lists the first FQDN of every asset the tenant holds from the
// sink's import source, as an asset export would show them.
func (h *sinkHarness) importedFQDNs() []string {
	h.t.Helper()
	body := `{"chunk_size":10000,"filters":{"sources":["` + h.cfg.Source + `"]},"include_records":true}`
	tr, err := h.sim.Truth(tenablesim.TruthAssets, []byte(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if tr.Count == 0 {
		return nil
	}
	return fqdnsOf(tr.Records)
}

// fqdnsOf lists the first FQDN of each asset record, sorted; nil if records
// is not a JSON array of assets.
func fqdnsOf(records json.RawMessage) []string {
	var assets []struct {
		FQDNs []string `json:"fqdns"`
	}
	if err := json.Unmarshal(records, &assets); err != nil {
		return nil
	}
	var out []string
	for _, a := range assets {
		if len(a.FQDNs) > 0 {
			out = append(out, a.FQDNs[0])
		}
	}
	slices.Sort(out)
	return out
}

func jsonAsset(i int, extra string) []byte {
	return []byte(fmt.Sprintf(`{"fqdn":["host-%05d.example.test"],"ipv4":["10.%d.%d.%d"],"operating_system":["Linux"]%s}`,
		i, (i>>16)&255, (i>>8)&255, i&255, extra))
}

func avroAsset(t *testing.T, i int) []byte {
	t.Helper()
	s, err := schemas.Get(schemas.NameInboundAsset)
	if err != nil {
		t.Fatal(err)
	}
	native := map[string]any{
		"fqdn":         map[string]any{"array": []any{fmt.Sprintf("host-%05d.example.test", i)}},
		"netbios_name": map[string]any{"string": fmt.Sprintf("HOST%05d", i)},
	}
	body, err := s.Codec.BinaryFromNative(nil, fillNulls(t, s, native))
	if err != nil {
		t.Fatal(err)
	}
	return schemas.AppendSingleObject(nil, s, body)
}

// fillNulls sets every field the native map lacks to null.
func fillNulls(t *testing.T, s *schemas.Schema, native map[string]any) map[string]any {
	t.Helper()
	var def struct {
		Fields []struct {
			Name string `json:"name"`
		} `json:"fields"`
	}
	if err := json.Unmarshal([]byte(s.Text), &def); err != nil {
		t.Fatal(err)
	}
	for _, f := range def.Fields {
		if _, ok := native[f.Name]; !ok {
			native[f.Name] = nil
		}
	}
	return native
}

func hosts(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("host-%05d.example.test", i))
	}
	return out
}

// TestSinkImportsEveryRecordAndCommits: JSON and Avro records of three partitions
// are imported once each; the group's offsets reach the end; a second run with
// nothing new imports nothing.
func TestSinkImportsEveryRecordAndCommits(t *testing.T) {
	h := newSinkHarness(t, 3)
	var values [][]byte
	for i := range 300 {
		if i%3 == 0 {
			values = append(values, avroAsset(t, i))
		} else {
			values = append(values, jsonAsset(i, ""))
		}
	}
	h.produce(values...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := h.runOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := h.importedFQDNs(), hosts(0, 300); !slices.Equal(got, want) {
		t.Fatalf("imported %d assets, want the 300 produced", len(got))
	}
	if p := h.pending(); len(p) != 0 {
		t.Errorf("offsets not committed to the end: %v still pending", p)
	}
	st := s.Stats()
	if st.Imported != 300 || st.DeadLettered != 0 || st.JobsComplete < 1 {
		t.Errorf("stats %+v", st)
	}
	for _, imp := range h.sim.Imports() {
		if imp.Source != "tvmkafka Kafka Connector" {
			t.Errorf("import source %q", imp.Source)
		}
	}
	before := len(h.sim.Imports())
	if _, err := h.runOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if len(h.sim.Imports()) != before {
		t.Error("a second run with nothing new must not import again")
	}
}

// TestSinkDeadLettersBadRecordsWithoutStalling: bad records between good ones go
// to the dead-letter topic with the reason and their origin; the good ones are
// imported and the partition's offsets move past the bad ones.
func TestSinkDeadLettersBadRecordsWithoutStalling(t *testing.T) {
	h := newSinkHarness(t, 1)
	bad := map[int]string{
		3:  `{"hostname":["only-a-hostname"]}`,           // no fqdn, ipv4, netbios_name or mac_address
		7:  `{"fqdn":"not-an-array.example"}`,            // a string where an array is documented
		11: `{"ipv4":["10.0.0.300"]}`,                    // not an IPv4 address
		13: `{"fqdn":["x.example"],"favourite":"green"}`, // unknown attribute
		17: `this is not JSON`,                           // neither Avro nor JSON
		19: `{"fqdn":["x.example"],"aws_ec2_instance_id":"i-1","azure_vm_id":"v"}`,
	}
	var values [][]byte
	for i := range 25 {
		if b, ok := bad[i]; ok {
			values = append(values, []byte(b))
			continue
		}
		values = append(values, jsonAsset(i, ""))
	}
	h.produce(values...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := h.runOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range 25 {
		if _, isBad := bad[i]; !isBad {
			want = append(want, fmt.Sprintf("host-%05d.example.test", i))
		}
	}
	if got := h.importedFQDNs(); !slices.Equal(got, want) {
		t.Errorf("imported %v\nwant %v", got, want)
	}
	dead := kafkatest.ReadTopic(t, h.brokers, h.dlq, nil)
	if len(dead) != len(bad) || s.Stats().DeadLettered != len(bad) {
		t.Fatalf("%d dead letters (stats %d), want %d", len(dead), s.Stats().DeadLettered, len(bad))
	}
	for _, m := range dead {
		hd := kafkatest.HeaderMap(m)
		var offset int
		fmt.Sscan(hd[sink.HeaderDLQOffset], &offset)
		if string(m.Value) != bad[offset] || hd[sink.HeaderDLQTopic] != h.inbound || hd[sink.HeaderDLQPartition] != "0" ||
			hd[sink.HeaderDLQMessage] == "" || hd[sink.HeaderDLQTimestampMs] == "" || hd["origin"] != "cmdb" || string(m.Key) != fmt.Sprintf("k%d", offset) {
			t.Errorf("dead letter at offset %d: value %q headers %v", offset, m.Value, hd)
		}
		t.Logf("offset %d: %s", offset, hd[sink.HeaderDLQMessage])
	}
	if p := h.pending(); len(p) != 0 {
		t.Errorf("the partition stalled: %v pending", p)
	}
}

// TestSinkDeadLettersKeepTheOriginalValue: a dead letter carries the original
// key, value and headers byte for byte; an empty value stays empty and a null
// one null, as a client that keeps them apart reads them from the broker.
func TestSinkDeadLettersKeepTheOriginalValue(t *testing.T) {
	h := newSinkHarness(t, 1)
	// Produce writes the keys, values and headers as given: nil as null, empty as empty.
	in := []kafkaio.Record{
		{Topic: h.inbound, Key: []byte("empty"), Value: []byte{}, Headers: []kafkaio.Header{{Key: "origin", Value: []byte("cmdb")}, {Key: "blank", Value: []byte{}}}},
		{Topic: h.inbound, Key: []byte("null"), Value: nil},
		{Topic: h.inbound, Key: nil, Value: []byte("not JSON")},
		{Topic: h.inbound, Key: []byte("good"), Value: jsonAsset(1, "")},
	}
	kafkatest.Produce(t, h.brokers, in...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := h.runOnce(ctx); err != nil {
		t.Fatal(err)
	}
	dead := readRaw(ctx, t, h.brokers, h.dlq, 3)
	for i, m := range dead {
		want := in[i]
		if (m.Value == nil) != (want.Value == nil) || !bytes.Equal(m.Value, want.Value) {
			t.Errorf("dead letter %d: value %q (null: %v), want %q (null: %v)", i, m.Value, m.Value == nil, want.Value, want.Value == nil)
		}
		if (m.Key == nil) != (want.Key == nil) || !bytes.Equal(m.Key, want.Key) {
			t.Errorf("dead letter %d: key %q, want %q", i, m.Key, want.Key)
		}
		if len(m.Headers) < len(want.Headers) {
			t.Fatalf("dead letter %d: headers %v, want the original %v first", i, m.Headers, want.Headers)
		}
		for j, wh := range want.Headers {
			if got := m.Headers[j]; got.Key != wh.Key || !bytes.Equal(got.Value, wh.Value) {
				t.Errorf("dead letter %d: header %d is %s=%q, want %s=%q", i, j, got.Key, got.Value, wh.Key, wh.Value)
			}
		}
	}
	if p := h.pending(); len(p) != 0 {
		t.Errorf("pending %v", p)
	}
}

// readRaw reads the first n records of a single-partition topic with a client
// that keeps null and empty keys and values apart (kafkatest.ReadTopic reads
// with kafka-go, which returns both as nil).
func readRaw(ctx context.Context, t testing.TB, brokers []string, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("read %d of %d records of %s: %v", len(out), n, topic, err)
		}
		fs.EachRecord(func(r *kgo.Record) { out = append(out, r) })
	}
	return out[:n]
}

// TestSinkKeepsRequestsBelowTheLimit: assets big enough to need many requests;
// every request stays below the configured limit and each is filled well.
func TestSinkKeepsRequestsBelowTheLimit(t *testing.T) {
	needsBroker(t)
	for _, limit := range []int{tenable.MaxImportBodyBytes, 1_000_000} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			h := newSinkHarness(t, 1)
			// kafkatest.Produce sends batches of up to 8 MiB; the inbound topic
			// takes them, as the application creates it.
			h.inbound = kafkatest.CreateTopic(t, h.brokers, 1, map[string]string{"max.message.bytes": "8388608"})
			h.cfg.MaxRequestBytes = limit
			h.cfg.MaxRecords = 100000
			// Linger must not cut requests while a slow run (-race) converts them.
			h.cfg.Linger = time.Minute
			var software []string
			for j := range 400 {
				software = append(software, fmt.Sprintf(`"cpe:/a:vendor%03d:product%03d:1.%d"`, j, j, j))
			}
			extra := `,"installed_software":[` + strings.Join(software, ",") + `]`
			var values [][]byte
			for i := range 700 { // about 14 MB of assets
				values = append(values, jsonAsset(i, extra))
			}
			h.produce(values...)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			s, err := h.runOnce(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got := h.importedFQDNs(); len(got) != 700 {
				t.Fatalf("imported %d of 700", len(got))
			}
			st := s.Stats()
			if st.RequestBytesMax >= limit || h.sim.Stats().ImportBodyBytesMax >= limit {
				t.Fatalf("a request of %d bytes reached the limit of %d", st.RequestBytesMax, limit)
			}
			if fill := st.FullRequestFill(limit); st.FullRequests == 0 || fill < 0.9 {
				t.Errorf("%d full requests filled to %.1f%% of %d bytes on average: they should be filled to 90%% or more",
					st.FullRequests, 100*fill, limit)
			}
			t.Logf("%d requests (%d full, filled to %.2f%%), largest %d bytes (limit %d)",
				st.Requests, st.FullRequests, 100*st.FullRequestFill(limit), st.RequestBytesMax, limit)
		})
	}
}

// refusingImporter refuses (HTTP 400) any request that holds a poisoned asset,
// the way Tenable refuses a whole request for one bad asset.
type refusingImporter struct {
	sink.Importer
	mu       sync.Mutex
	poison   []string
	requests int
}

func (r *refusingImporter) ImportAssetsBody(ctx context.Context, body []byte) (string, error) {
	r.mu.Lock()
	r.requests++
	r.mu.Unlock()
	for _, p := range r.poison {
		if strings.Contains(string(body), p) {
			return "", &tenable.APIError{Method: "POST", Path: "/import/assets", StatusCode: 400,
				Body: []byte(`{"statusCode":400,"error":"Bad Request","message":"invalid asset ` + p + `"}`)}
		}
	}
	return r.Importer.ImportAssetsBody(ctx, body)
}

// TestSinkNarrowsDownARefusedRequest: a request Tenable refuses as a whole is
// split until only the refused records remain; they are dead-lettered and the
// rest imported.
func TestSinkNarrowsDownARefusedRequest(t *testing.T) {
	h := newSinkHarness(t, 1)
	ref := &refusingImporter{Importer: h.client, poison: []string{"host-00013.", "host-00042."}}
	h.importer = ref
	var values [][]byte
	for i := range 64 {
		values = append(values, jsonAsset(i, ""))
	}
	h.produce(values...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := h.runOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := slices.DeleteFunc(hosts(0, 64), func(h string) bool { return h == "host-00013.example.test" || h == "host-00042.example.test" })
	if got := h.importedFQDNs(); !slices.Equal(got, want) {
		t.Errorf("imported %d assets, want the 62 good ones", len(got))
	}
	dead := kafkatest.ReadTopic(t, h.brokers, h.dlq, nil)
	if len(dead) != 2 {
		t.Fatalf("%d dead letters, want the 2 refused records", len(dead))
	}
	for _, m := range dead {
		if msg := kafkatest.HeaderMap(m)[sink.HeaderDLQMessage]; !strings.Contains(msg, "invalid asset") {
			t.Errorf("dead letter reason %q should carry Tenable's message", msg)
		}
	}
	if p := h.pending(); len(p) != 0 {
		t.Errorf("pending %v", p)
	}
	t.Logf("%d requests to narrow down 2 refused records among 64; stats %+v", ref.requests, s.Stats())
}

// erroringImporter makes the first n import jobs end in ERROR.
type erroringImporter struct {
	sink.Importer
	mu     sync.Mutex
	n      int
	failed map[string]bool
}

func (e *erroringImporter) ImportJob(ctx context.Context, id string) (tenable.ImportJob, error) {
	job, err := e.Importer.ImportJob(ctx, id)
	if err != nil || !job.Done() {
		return job, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.failed[id] || e.n > 0 {
		if !e.failed[id] {
			e.n--
			e.failed[id] = true
		}
		job.Status, job.StatusMessage = tenable.ImportError, "Job failed by exceeding time limit"
	}
	return job, nil
}

func TestSinkImportJobErrors(t *testing.T) {
	needsBroker(t)
	t.Run("resubmitted", func(t *testing.T) {
		h := newSinkHarness(t, 1)
		h.importer = &erroringImporter{Importer: h.client, n: 1, failed: map[string]bool{}}
		h.produce(jsonAsset(1, ""), jsonAsset(2, ""))
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		s, err := h.runOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st := s.Stats(); st.JobsError != 1 || st.JobsComplete != 1 || st.DeadLettered != 0 || st.Imported != 2 {
			t.Errorf("stats %+v: one failed job, resubmitted and completed", st)
		}
		if len(kafkatest.ReadTopic(t, h.brokers, h.dlq, nil)) != 0 {
			t.Error("nothing should be dead-lettered")
		}
	})
	t.Run("dead-lettered", func(t *testing.T) {
		h := newSinkHarness(t, 1)
		h.cfg.OnJobError = "deadletter"
		h.importer = &erroringImporter{Importer: h.client, n: 1, failed: map[string]bool{}}
		h.produce(jsonAsset(1, ""), jsonAsset(2, ""))
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := h.runOnce(ctx); err != nil {
			t.Fatal(err)
		}
		dead := kafkatest.ReadTopic(t, h.brokers, h.dlq, nil)
		if len(dead) != 2 || !strings.Contains(kafkatest.HeaderMap(dead[0])[sink.HeaderDLQMessage], "ended in ERROR") {
			t.Fatalf("%d dead letters %v", len(dead), dead)
		}
		if p := h.pending(); len(p) != 0 {
			t.Errorf("pending %v", p)
		}
	})
}

// TestSinkCommitsOnlyWhatWasImported stops the sink while its import jobs are
// still running: nothing they hold is committed, and a restart imports it.
func TestSinkCommitsOnlyWhatWasImported(t *testing.T) {
	h := newSinkHarness(t, 1)
	slow := &slowJobs{Importer: h.client, release: make(chan struct{})}
	h.importer = slow
	var values [][]byte
	for i := range 40 {
		values = append(values, jsonAsset(i, ""))
	}
	h.produce(values...)
	h.cfg.MaxRecords = 10 // four requests
	h.drain = 200 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	go func() {
		for slow.accepted() < 4 {
			time.Sleep(10 * time.Millisecond)
		}
		cancel() // stop while no job is complete
	}()
	_, err := h.runOnce(ctx)
	if err == nil {
		t.Fatal("a sink stopped before its imports completed must report it")
	}
	if p := h.pending(); len(p) != 1 || p[0] != 40 {
		t.Fatalf("after the stop the group should still have all 40 records to read, pending %v", p)
	}
	close(slow.release)
	ctx2, cancel2 := context.WithTimeout(context.Background(), time.Minute)
	defer cancel2()
	if _, err := h.runOnce(ctx2); err != nil {
		t.Fatal(err)
	}
	if p := h.pending(); len(p) != 0 {
		t.Errorf("pending %v after the restart", p)
	}
	if got := distinct(h.importedFQDNs()); !slices.Equal(got, hosts(0, 40)) {
		t.Errorf("imported %d distinct assets, want 40", len(got))
	}
}

// slowJobs keeps every import job IN_PROGRESS until released.
type slowJobs struct {
	sink.Importer
	release chan struct{}
	mu      sync.Mutex
	n       int
}

func (s *slowJobs) ImportAssetsBody(ctx context.Context, body []byte) (string, error) {
	id, err := s.Importer.ImportAssetsBody(ctx, body)
	if err == nil {
		s.mu.Lock()
		s.n++
		s.mu.Unlock()
	}
	return id, err
}

func (s *slowJobs) accepted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

func (s *slowJobs) ImportJob(ctx context.Context, id string) (tenable.ImportJob, error) {
	job, err := s.Importer.ImportJob(ctx, id)
	select {
	case <-s.release:
	default:
		job.Status = tenable.ImportInProgress
	}
	return job, err
}

// TestSinkSurvivesThrottling: 429 storms and 5xx bursts on imports delay them,
// lose nothing.
func TestSinkSurvivesThrottling(t *testing.T) {
	h := newSinkHarness(t, 2)
	h.sim.SetFaults(tenablesim.Faults{Rate429: 0.3, Rate5xx: 0.2, RetryAfterSeconds: 1})
	h.cfg.MaxRecords = 20
	var values [][]byte
	for i := range 100 {
		values = append(values, jsonAsset(i, ""))
	}
	h.produce(values...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := h.runOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if got := distinct(h.importedFQDNs()); !slices.Equal(got, hosts(0, 100)) {
		t.Errorf("imported %d distinct assets, want 100", len(got))
	}
	if len(kafkatest.ReadTopic(t, h.brokers, h.dlq, nil)) != 0 {
		t.Error("throttling must not dead-letter anything")
	}
}

func distinct(s []string) []string { return slices.Compact(slices.Clone(s)) }
