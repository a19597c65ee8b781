package kafkatest

import (
	"bytes"
	"cmp"
	"context"
	_ "embed" // the dump script travels with the package, whatever the test's directory
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tvmkafka/tvmkafka/schemas"
	"github.com/tvmkafka/tvmkafka/schemas/schematest/recordcheck"
)

//go:embed testdata/dump_topics.py
var dumpTopicsScript []byte

// dumpTimeout bounds one DumpTopics call; the script itself gives up reaching
// the high watermarks a little earlier, with a message saying where it stopped.
const (
	dumpTimeout       = 90 * time.Second
	dumpScriptTimeout = 60 * time.Second
)

// Python returns the interpreter that has the cross-check tools (fastavro,
// confluent-kafka, pyTenable), from TVMKAFKA_TEST_PYTHON (the Makefile sets it
// after make py-deps), or ends the test: skipped when it is not set to an
// existing file, failed when CI=true, where cross-checks must run.
func Python(tb testing.TB) string {
	tb.Helper()
	py := os.Getenv("TVMKAFKA_TEST_PYTHON")
	if py != "" {
		if _, err := os.Stat(py); err == nil {
			return py
		}
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("TVMKAFKA_TEST_PYTHON=%q is not an interpreter (CI=true forbids skipping); run make py-deps", py)
	}
	tb.Skipf("TVMKAFKA_TEST_PYTHON=%q is not set to an interpreter (make py-deps)", py)
	return ""
}

// WriteSchemas writes every embedded schema (schemas.All()) as <name>.avsc into
// dir, for DumpTopics, and returns dir.
func WriteSchemas(tb testing.TB, dir string) string {
	tb.Helper()
	for _, s := range schemas.All() {
		if err := os.WriteFile(filepath.Join(dir, s.Name.String()+".avsc"), []byte(s.Text), 0o644); err != nil {
			tb.Fatalf("write schema %s: %v", s.Name, err)
		}
	}
	return dir
}

// DumpedRecord is one Kafka record read and decoded by confluent-kafka + fastavro.
type DumpedRecord struct {
	Topic     string
	Partition int
	Offset    int64
	// Key is the record key as UTF-8 text; "" when the record has none.
	Key string
	// Headers maps each header name to its value as UTF-8 text.
	Headers map[string]string
	// Value is the decoded record in plain form: int64 for int, long and
	// timestamps (epoch milliseconds), float64 for double, string, bool, nil,
	// []any and map[string]any, unions unwrapped. It is nil for a tombstone.
	Value map[string]any
	// Schema is the name (file stem) of the schema the value was written with;
	// "" for a tombstone.
	Schema string
}

// DumpTopics reads every record of the topics from the first offset to the end
// offsets at call time, with a consumer nobody here wrote (confluent-kafka), and
// decodes each value with fastavro, finding the schema by the single-object
// fingerprint (C3 01 + 8-byte LE CRC-64-AVRO) or by Confluent schema ID (magic 0
// + 4-byte BE id) using registryIDs (id -> schema name; may be nil). schemaDir
// holds the .avsc files (e.g. written by WriteSchemas). Timestamps come back as
// epoch millis. Records are ordered by topic (as given), partition and offset.
// It fails the test (t.Fatal) on any decode error or unknown fingerprint/ID, and
// skips it without the Python tools unless CI=true (see Python).
//
// Reading is read_committed, from partitions assigned directly: no consumer
// group is joined and no offsets are committed.
func DumpTopics(t testing.TB, brokers []string, topics []string, schemaDir string, registryIDs map[int]string) []DumpedRecord {
	t.Helper()
	py := Python(t)
	if len(topics) == 0 {
		t.Fatal("DumpTopics: no topics")
	}
	ids := make(map[string]string, len(registryIDs))
	for id, name := range registryIDs {
		ids[strconv.Itoa(id)] = name
	}
	idsJSON, err := json.Marshal(ids)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), dumpTimeout)
	defer cancel()
	// "-" runs the embedded script from stdin; the arguments follow it.
	args := []string{"-",
		"--brokers", strings.Join(brokers, ","),
		"--schema-dir", schemaDir,
		"--registry-ids", string(idsJSON),
		"--timeout", strconv.FormatFloat(dumpScriptTimeout.Seconds(), 'f', -1, 64),
		"--"}
	cmd := exec.CommandContext(ctx, py, append(args, topics...)...)
	cmd.Stdin = bytes.NewReader(dumpTopicsScript)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dump_topics.py: %v", err)
	}
	records, readErr := readDump(stdout, schemaDir)
	if readErr != nil {
		cancel() // stop the script; its exit status no longer matters
	}
	waitErr := cmd.Wait()
	switch {
	case readErr != nil:
		t.Fatalf("dump of %v: %v\n%s", topics, readErr, stderr.Bytes())
	case waitErr != nil:
		t.Fatalf("dump of %v failed: %v\n%s", topics, waitErr, stderr.Bytes())
	}

	order := make(map[string]int, len(topics))
	for i, topic := range topics {
		order[topic] = i
	}
	slices.SortStableFunc(records, func(a, b DumpedRecord) int {
		return cmp.Or(cmp.Compare(order[a.Topic], order[b.Topic]),
			cmp.Compare(a.Partition, b.Partition), cmp.Compare(a.Offset, b.Offset))
	})
	return records
}

// readDump reads the script's JSON lines and converts each value to plain form
// with its schema from schemaDir.
func readDump(r io.Reader, schemaDir string) ([]DumpedRecord, error) {
	checkers := make(map[string]*recordcheck.Schema)
	dec := json.NewDecoder(r)
	dec.UseNumber() // longs beyond 2^53 stay exact
	var out []DumpedRecord
	for {
		var line struct {
			Topic     string            `json:"topic"`
			Partition int               `json:"partition"`
			Offset    int64             `json:"offset"`
			Key       *string           `json:"key"`
			Headers   map[string]string `json:"headers"`
			Schema    *string           `json:"schema"`
			Value     map[string]any    `json:"value"`
		}
		err := dec.Decode(&line)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read dump_topics.py output: %w", err)
		}
		rec := DumpedRecord{Topic: line.Topic, Partition: line.Partition, Offset: line.Offset, Headers: line.Headers}
		if line.Key != nil {
			rec.Key = *line.Key
		}
		if line.Value != nil {
			if line.Schema == nil {
				return nil, fmt.Errorf("%s/%d@%d: value without a schema name", line.Topic, line.Partition, line.Offset)
			}
			rec.Schema = *line.Schema
			c, ok := checkers[rec.Schema]
			if !ok {
				text, err := os.ReadFile(filepath.Join(schemaDir, rec.Schema+".avsc"))
				if err != nil {
					return nil, err
				}
				if c, err = recordcheck.New(text); err != nil {
					return nil, fmt.Errorf("schema %s: %w", rec.Schema, err)
				}
				checkers[rec.Schema] = c
			}
			if rec.Value, err = c.PlainInPlace(line.Value); err != nil {
				return nil, fmt.Errorf("%s/%d@%d: fastavro's %s record: %w", line.Topic, line.Partition, line.Offset, rec.Schema, err)
			}
		}
		out = append(out, rec)
	}
}
