package schemas

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/tvmkafka/tvmkafka/schemas/schematest/recordcheck"
)

// pythonForTests returns the interpreter with the cross-check tools
// (TVMKAFKA_TEST_PYTHON, set by the Makefile after make py-deps). Without it the
// test is skipped, except in CI, where it must run.
func pythonForTests(t *testing.T) string {
	t.Helper()
	py := os.Getenv("TVMKAFKA_TEST_PYTHON")
	if py != "" {
		if _, err := os.Stat(py); err == nil {
			return py
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("TVMKAFKA_TEST_PYTHON=%q is not an interpreter; run make py-deps", py)
	}
	t.Skipf("TVMKAFKA_TEST_PYTHON=%q is not set to an interpreter (make py-deps)", py)
	return ""
}

// TestFastavroDecodesTranscodedSamples has fastavro, an Avro implementation
// nobody here wrote, check the single-object header (fingerprint computed by
// fastavro) and decode every transcoded sample; the values must match the
// Tenable JSON and goavro's decoding.
func TestFastavroDecodesTranscodedSamples(t *testing.T) {
	py := pythonForTests(t)
	samples := loadSamples(t)
	samples = append(samples, sample{
		name:   "tolerance",
		schema: NameVuln,
		json: []byte(minimalVuln(`"indexed":1683177220.8095,"first_found":"0001-01-01T00:00:00Z",` +
			`"last_found":"9999-12-31T23:59:59.999Z","severity_id":"x","output":"é 😀 \u0000","new":[1,{"a":null}]`)),
	})

	var input bytes.Buffer
	goavroPlain := make(map[string]any)
	for _, s := range samples {
		sch := mustGet(t, s.schema)
		value, _, err := sch.NewTranscoder().Transcode(AppendSingleObjectHeader(nil, sch), s.json, s.derived)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		native, _, err := sch.Codec.NativeFromBinary(value[SingleObjectHeaderLen:])
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		goavroPlain[s.name] = plainFromGoavro(native)
		line, _ := json.Marshal(map[string]string{"name": s.name, "value": base64.StdEncoding.EncodeToString(value)})
		input.Write(append(line, '\n'))
	}
	inputPath := filepath.Join(t.TempDir(), "records.jsonl")
	if err := os.WriteFile(inputPath, input.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(py, filepath.Join("testdata", "fastavro_decode.py"), ".", inputPath)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Fatalf("fastavro script failed: %v\n%s", err, stderr.String())
		}
		t.Fatal(err)
	}

	bySample := make(map[string]sample)
	for _, s := range samples {
		bySample[s.name] = s
	}
	seen := 0
	scanner := bufio.NewScanner(bytes.NewReader(out))
	scanner.Buffer(nil, 1<<24)
	for scanner.Scan() {
		var line struct {
			Name   string `json:"name"`
			Schema string `json:"schema"`
		}
		if err := json.Unmarshal(scanner.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		s, ok := bySample[line.Name]
		if !ok {
			t.Fatalf("unknown record %q", line.Name)
		}
		seen++
		if line.Schema != s.schema.String() {
			t.Errorf("%s: fastavro matched the fingerprint to %s, want %s", s.name, line.Schema, s.schema)
			continue
		}
		sch := mustGet(t, s.schema)
		decoded := decodeJSON(t, scanner.Bytes()).(map[string]any)["record"]
		check, err := recordcheck.FromJSON(schemaJSON(t, sch))
		if err != nil {
			t.Fatal(err)
		}
		rec, err := check.Plain(decoded)
		if err != nil {
			t.Fatalf("%s: fastavro's record does not fit the schema: %v", s.name, err)
		}
		checkRecord(t, s.name, schemaJSON(t, sch), namedRecords(schemaJSON(t, sch)), decodeJSON(t, s.json).(map[string]any), rec, s.derived)
		if !reflect.DeepEqual(rec, goavroPlain[s.name]) {
			t.Errorf("%s: fastavro and goavro decode differently:\n fastavro %v\n goavro   %v", s.name, rec, goavroPlain[s.name])
		}
	}
	if err := scanner.Err(); err != nil {
		t.Fatal(err)
	}
	if seen != len(samples) {
		t.Errorf("fastavro printed %d records, want %d", seen, len(samples))
	}
}
