package kafkatest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/tvmkafka/tvmkafka/pipeline/kafkatest"
	"github.com/tvmkafka/tvmkafka/schemas"
	"github.com/tvmkafka/tvmkafka/schemas/schematest"
)

// sampleRecords returns the records of a sample payload file (a JSON array
// under "payload", with its "_source" attribution).
func sampleRecords(t testing.TB, file string) []json.RawMessage {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Source  string            `json:"_source"`
		Payload []json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(data, &f); err != nil || f.Source == "" || len(f.Payload) == 0 {
		t.Fatalf("%s: want _source and a payload array of records (%v)", file, err)
	}
	return f.Payload
}

// produced is one record the test wrote, with what the dump must show for it.
type produced struct {
	schema  *schemas.Schema // nil for the tombstone
	json    []byte
	derived map[string]string
	key     string
	value   []byte
}

// TestDumpTopics writes transcoded samples in both framings and a tombstone to
// a two-partition topic, with a balancer that fixes each record's partition, so
// every record's partition and offset are known; the dump must show each with
// its key, headers and offset, and values equal to the Tenable JSON (by
// schematest.Compare) and to goavro's decoding of the same bytes.
func TestDumpTopics(t *testing.T) {
	kafkatest.Python(t)
	brokers := kafkatest.Brokers(t)
	topic := kafkatest.CreateTopic(t, brokers, 2, nil)
	registryIDs := map[int]string{101: "vuln", 102: "asset", 103: "compliance"}
	idOf := map[schemas.Name]int{schemas.NameVuln: 101, schemas.NameAsset: 102, schemas.NameCompliance: 103}

	var records []produced
	add := func(n schemas.Name, record []byte, derived map[string]string) {
		s, err := schemas.Get(n)
		if err != nil {
			t.Fatal(err)
		}
		// Alternate the framings: even records single-object, odd Confluent.
		var dst []byte
		if len(records)%2 == 0 {
			dst = schemas.AppendSingleObjectHeader(nil, s)
		} else {
			dst = schemas.AppendConfluentHeader(nil, idOf[n])
		}
		value, key, err := s.NewTranscoder().Transcode(dst, record, derived)
		if err != nil {
			t.Fatalf("transcode %s: %v", record, err)
		}
		records = append(records, produced{schema: s, json: record, derived: derived, key: string(key), value: value})
	}
	for _, r := range sampleRecords(t, "j1-vuln-export-records-2022.json") {
		add(schemas.NameVuln, r, nil)
	}
	for _, r := range sampleRecords(t, "j1-asset-export-v1-records-2022.json") {
		add(schemas.NameAsset, r, map[string]string{"state": "ACTIVE"})
	}
	for _, r := range sampleRecords(t, "openapi-compliance-export-chunk-example.json") {
		add(schemas.NameCompliance, r, nil)
	}
	// Tolerated forms: epoch seconds with a fraction, a misfit (to extra), an
	// unknown member, text that is not ASCII.
	add(schemas.NameVuln, []byte(`{"asset":{"uuid":"a-1"},"plugin":{"id":"19506","vpr":{"score":"x"}},`+
		`"port":{"port":445,"protocol":"tcp"},"indexed":1683177220.8095,"severity_id":"x",`+
		`"output":"é 😀","new_member":[1,{"a":null}]}`), nil)
	records = append(records, produced{key: records[0].key}) // tombstone

	msgs := make([]kafka.Message, len(records))
	for i, r := range records {
		msgs[i] = kafka.Message{Key: []byte(r.key), Value: r.value, Headers: []kafka.Header{
			{Key: "n", Value: []byte(strconv.Itoa(i))},
			{Key: "origin", Value: []byte("tenable é")},
		}}
	}
	w := &kafka.Writer{
		Addr:         kafka.TCP(brokers...),
		Topic:        topic,
		RequiredAcks: kafka.RequireAll,
		BatchTimeout: 10 * time.Millisecond,
		// Record i goes to partition i%2, so its offset is i/2.
		Balancer: kafka.BalancerFunc(func(m kafka.Message, partitions ...int) int {
			n, _ := strconv.Atoi(string(m.Headers[0].Value))
			return partitions[n%len(partitions)]
		}),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	dumped := kafkatest.DumpTopics(t, brokers, []string{topic}, kafkatest.WriteSchemas(t, t.TempDir()), registryIDs)
	if len(dumped) != len(records) {
		t.Fatalf("dumped %d records, want %d", len(dumped), len(records))
	}
	// Sorted by partition then offset: partition 0 holds the even records.
	want := make([]int, 0, len(records))
	for p := range 2 {
		for i := p; i < len(records); i += 2 {
			want = append(want, i)
		}
	}
	for j, d := range dumped {
		i := want[j]
		r := records[i]
		where := fmt.Sprintf("record %d (%s/%d@%d)", i, d.Topic, d.Partition, d.Offset)
		if d.Topic != topic || d.Partition != i%2 || d.Offset != int64(i/2) {
			t.Errorf("%s: want %s/%d@%d", where, topic, i%2, i/2)
		}
		if d.Key != r.key {
			t.Errorf("%s: key %q, want %q", where, d.Key, r.key)
		}
		if wantHeaders := map[string]string{"n": strconv.Itoa(i), "origin": "tenable é"}; !reflect.DeepEqual(d.Headers, wantHeaders) {
			t.Errorf("%s: headers %v, want %v", where, d.Headers, wantHeaders)
		}
		if r.schema == nil {
			if d.Value != nil || d.Schema != "" {
				t.Errorf("%s: tombstone dumped as %s %v", where, d.Schema, d.Value)
			}
			continue
		}
		if d.Schema != r.schema.Name.String() {
			t.Errorf("%s: schema %q, want %q", where, d.Schema, r.schema.Name)
			continue
		}
		for _, diff := range schematest.Compare(r.schema, r.json, d.Value, r.derived) {
			t.Errorf("%s: %s", where, diff)
		}
		wire, err := schemas.ParseWire(r.value)
		if err != nil {
			t.Fatal(err)
		}
		native, _, err := r.schema.Codec.NativeFromBinary(wire.Body)
		if err != nil {
			t.Fatal(err)
		}
		goavro, err := schematest.Plain(r.schema, native)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(d.Value, goavro) {
			t.Errorf("%s: fastavro and goavro decode differently:\n fastavro %v\n goavro   %v", where, d.Value, goavro)
		}
	}
}

// fatalRecorder stands in for the test inside DumpTopics to observe its failure:
// Fatal records the message and ends the goroutine, as testing.T does.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}

func (f *fatalRecorder) Fatal(args ...any) {
	f.msg = fmt.Sprint(args...)
	runtime.Goexit()
}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// TestDumpTopicsFailsOnUndecodableValues: a value DumpTopics cannot attribute to
// a schema and decode exactly fails the test, naming the record.
func TestDumpTopicsFailsOnUndecodableValues(t *testing.T) {
	kafkatest.Python(t)
	brokers := kafkatest.Brokers(t)
	schemaDir := kafkatest.WriteSchemas(t, t.TempDir())
	vuln, err := schemas.Get(schemas.NameVuln)
	if err != nil {
		t.Fatal(err)
	}
	body, _, err := vuln.NewTranscoder().Transcode(nil, []byte(`{"asset":{"uuid":"a-1"},"plugin":{"id":1},"port":{"port":0,"protocol":"tcp"}}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		value []byte
		want  string
	}{
		{"unknown fingerprint", append([]byte{0xC3, 0x01, 1, 2, 3, 4, 5, 6, 7, 8}, body...), "fingerprint 0102030405060708 matches no schema"},
		{"unknown registry ID", schemas.AppendConfluent(nil, 999, body), "Confluent schema ID 999 is not in the registry IDs"},
		{"not Avro", []byte(`{"id":1}`), "neither single-object nor Confluent framed"},
		{"truncated body", schemas.AppendSingleObject(nil, vuln, body[:len(body)-3]), "fastavro cannot decode the vuln body"},
		{"bytes after the body", schemas.AppendSingleObject(nil, vuln, append(body[:len(body):len(body)], 0)), "1 trailing bytes after the vuln record"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			topic := kafkatest.CreateTopic(t, brokers, 1, nil)
			w := &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: topic, RequiredAcks: kafka.RequireAll, BatchTimeout: 10 * time.Millisecond}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := w.WriteMessages(ctx, kafka.Message{Key: []byte("k"), Value: tt.value}); err != nil {
				t.Fatalf("write: %v", err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			rec := &fatalRecorder{TB: t}
			done := make(chan []kafkatest.DumpedRecord)
			go func() {
				defer close(done)
				done <- kafkatest.DumpTopics(rec, brokers, []string{topic}, schemaDir, map[int]string{7: "vuln"})
			}()
			if got, ok := <-done; ok {
				t.Fatalf("DumpTopics returned %v, want a test failure", got)
			}
			if !strings.Contains(rec.msg, tt.want) || !strings.Contains(rec.msg, topic+"/0@0") {
				t.Errorf("failure message %q does not say %q about %s/0@0", rec.msg, tt.want, topic)
			}
		})
	}
}
