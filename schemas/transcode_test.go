package schemas

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestTranscodeSamples transcodes every sample record and checks that goavro
// decodes it, re-encodes it to the same bytes, and that the decoded values match
// the Tenable JSON. The decoded record is compared with its golden file.
func TestTranscodeSamples(t *testing.T) {
	transcoders := make(map[Name]*Transcoder)
	for _, s := range loadSamples(t) {
		t.Run(s.name, func(t *testing.T) {
			sch := mustGet(t, s.schema)
			tr := transcoders[s.schema]
			if tr == nil {
				tr = sch.NewTranscoder()
				transcoders[s.schema] = tr
			}
			value, key, err := tr.Transcode(nil, s.json, s.derived)
			if err != nil {
				t.Fatalf("Transcode: %v", err)
			}
			native, rest, err := sch.Codec.NativeFromBinary(value)
			if err != nil {
				t.Fatalf("goavro cannot decode: %v", err)
			}
			if len(rest) != 0 {
				t.Fatalf("%d bytes left after the record", len(rest))
			}
			again, err := sch.Codec.BinaryFromNative(nil, native)
			if err != nil {
				t.Fatalf("goavro cannot re-encode: %v", err)
			}
			if !bytes.Equal(again, value) {
				t.Fatalf("goavro encodes the decoded record differently:\n transcoder %x\n goavro     %x", value, again)
			}
			in := decodeJSON(t, s.json).(map[string]any)
			out := plainFromGoavro(native).(map[string]any)
			checkRecord(t, s.schema.String(), schemaJSON(t, sch), namedRecords(schemaJSON(t, sch)), in, out, s.derived)
			checkKey(t, sch, in, key)

			// goavro's native form as JSON: union branches keep their type name,
			// timestamps print as RFC 3339, and map keys are sorted, so the text
			// is stable.
			golden, err := json.MarshalIndent(native, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			compareGolden(t, filepath.Join("testdata", "golden", s.name+".json"), append(golden, '\n'))
		})
	}
}

// checkKey recomputes the Kafka key from the JSON.
func checkKey(t *testing.T, sch *Schema, in map[string]any, key []byte) {
	t.Helper()
	if len(sch.KeyFields) == 0 {
		if key != nil {
			t.Errorf("key = %q, want none", key)
		}
		return
	}
	var want []byte
	for i, path := range sch.KeyFields {
		var v any = in
		for _, p := range bytes.Split([]byte(path), []byte(".")) {
			v = v.(map[string]any)[string(p)]
		}
		if i > 0 {
			want = append(want, '|')
		}
		switch x := v.(type) {
		case string:
			if path == "port.protocol" {
				x = string(bytes.ToUpper([]byte(x)))
			}
			want = append(want, x...)
		case json.Number:
			n, ok := jsonInteger(x)
			if !ok {
				t.Fatalf("key field %s = %v", path, x)
			}
			want = strconv.AppendInt(want, n, 10)
		default:
			t.Fatalf("key field %s = %v", path, x)
		}
	}
	if !bytes.Equal(key, want) {
		t.Errorf("key = %q, want %q", key, want)
	}
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		t.Fatalf("golden file %s missing; run go test ./schemas -update", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the transcoded record (run go test ./schemas -update if the change is intended):\n%s", path, got)
	}
}
