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

	"github.com/go-json-experiment/json/jsontext"
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

// TestTranscodeMemberOrder: the transcoder remembers the member order of the
// records it saw; records in another order, or missing members, must still come
// out exactly as a fresh transcoder writes them.
func TestTranscodeMemberOrder(t *testing.T) {
	shared := make(map[Name]*Transcoder)
	for _, s := range loadSamples(t) {
		sch := mustGet(t, s.schema)
		if shared[s.schema] == nil {
			shared[s.schema] = sch.NewTranscoder()
		}
		members := objectMembers(t, s.json)
		reversed := make([][2][]byte, len(members))
		for i, m := range members {
			reversed[len(members)-1-i] = m
		}
		variants := [][]byte{s.json, joinMembers(reversed), s.json, joinMembers(members[1:]), joinMembers(members[:len(members)-1]), s.json}
		for i, v := range variants {
			want, wantKey, wantErr := sch.NewTranscoder().Transcode(nil, v, s.derived)
			got, gotKey, gotErr := shared[s.schema].Transcode(nil, v, s.derived)
			if !bytes.Equal(got, want) || !bytes.Equal(gotKey, wantKey) || (gotErr == nil) != (wantErr == nil) {
				t.Errorf("%s variant %d: after other orders the output differs from a fresh transcoder's (err %v, want %v)", s.name, i, gotErr, wantErr)
			}
		}
	}
}

// objectMembers returns the members of a JSON object, in order, as raw name and value.
func objectMembers(t *testing.T, obj []byte) [][2][]byte {
	t.Helper()
	dec := jsontext.NewDecoder(bytes.NewReader(obj))
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		t.Fatalf("not an object: %v", err)
	}
	var out [][2][]byte
	for dec.PeekKind() != '}' {
		name, err := dec.ReadValue()
		if err != nil {
			t.Fatal(err)
		}
		name = bytes.Clone(name)
		val, err := dec.ReadValue()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, [2][]byte{name, bytes.Clone(val)})
	}
	return out
}

func joinMembers(members [][2][]byte) []byte {
	out := []byte{'{'}
	for i, m := range members {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(append(append(out, m[0]...), ':'), m[1]...)
	}
	return append(out, '}')
}

// TestTranscoderField: Field reads a top-level string member of the record
// last transcoded, and nothing once a record failed to parse.
func TestTranscoderField(t *testing.T) {
	s, err := Get(NameCompliance)
	if err != nil {
		t.Fatal(err)
	}
	tc := s.NewTranscoder()
	rec := []byte(`{"asset_uuid":"a","check_id":"c","status":"PASSED","state":"FIXED","plugin_id":5}`)
	if _, _, err := tc.Transcode(nil, rec, nil); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, want string }{{"state", "FIXED"}, {"status", "PASSED"}, {"plugin_id", ""}, {"absent", ""}} {
		if got := string(tc.Field(tt.name)); got != tt.want {
			t.Errorf("Field(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
	if _, _, err := tc.Transcode(nil, []byte(`{`), nil); err == nil {
		t.Fatal("a broken record transcoded")
	}
	if got := tc.Field("state"); got != nil {
		t.Errorf("after a failed parse Field = %q, want nil", got)
	}
}
