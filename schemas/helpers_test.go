package schemas

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tvmkafka/tvmkafka/schemas/schematest/recordcheck"
)

// sampleFile is a payload file copied from Tenable or its documentation, with
// where its records are and which schema they belong to.
type sampleFile struct {
	file   string
	schema Name
	path   []string // members leading from payload to the record array
}

var sampleFiles = []sampleFile{
	{"pytenable-cassette-asset-export-v1-records-2018.json", NameAsset, nil},
	{"j1-asset-export-v1-records-2022.json", NameAsset, nil},
	{"openapi-asset-export-v1-chunk-example.json", NameAsset, nil},
	{"pytenable-cassette-vuln-export-records-2018.json", NameVuln, nil},
	{"j1-vuln-export-records-2022.json", NameVuln, nil},
	{"openapi-vuln-export-chunk-example.json", NameVuln, nil},
	{"openapi-compliance-export-chunk-example.json", NameCompliance, nil},
	{"pytenable-cassette-plugins-list-page.json", NamePlugin, []string{"data", "plugin_details"}},
	{"openapi-plugins-list-example.json", NamePlugin, []string{"data", "plugin_details"}},
	{"pytenable-cassette-import-assets.json", NameInboundAsset, []string{"request_body", "assets"}},
}

// sample is one record of a sample file.
type sample struct {
	name    string // file base name and index, e.g. j1-vuln-export-records-2022-0
	schema  Name
	json    []byte
	derived map[string]string
}

func loadSamples(t testing.TB) []sample {
	t.Helper()
	var out []sample
	for _, sf := range sampleFiles {
		data, err := os.ReadFile(filepath.Join("testdata", "samples", sf.file))
		if err != nil {
			t.Fatal(err)
		}
		var file struct {
			Source  string          `json:"_source"`
			Payload json.RawMessage `json:"payload"`
		}
		if err := json.Unmarshal(data, &file); err != nil {
			t.Fatalf("%s: %v", sf.file, err)
		}
		if file.Source == "" {
			t.Fatalf("%s: no _source attribution", sf.file)
		}
		raw := file.Payload
		for _, member := range sf.path {
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(raw, &obj); err != nil {
				t.Fatalf("%s: %v", sf.file, err)
			}
			raw = obj[member]
		}
		var records []json.RawMessage
		if err := json.Unmarshal(raw, &records); err != nil {
			t.Fatalf("%s: %v", sf.file, err)
		}
		if len(records) == 0 {
			t.Fatalf("%s: no records", sf.file)
		}
		for i, r := range records {
			s := sample{
				name:   fmt.Sprintf("%s-%d", strings.TrimSuffix(sf.file, ".json"), i),
				schema: sf.schema,
				json:   r,
			}
			if sf.schema == NameAsset {
				s.derived = map[string]string{"state": assetState(r)}
			}
			out = append(out, s)
		}
	}
	return out
}

// assetState derives the asset state the way a source would.
func assetState(record []byte) string {
	var a struct {
		DeletedAt    *string `json:"deleted_at"`
		TerminatedAt *string `json:"terminated_at"`
	}
	_ = json.Unmarshal(record, &a)
	switch {
	case a.DeletedAt != nil:
		return "DELETED"
	case a.TerminatedAt != nil:
		return "TERMINATED"
	}
	return "ACTIVE"
}

func mustGet(t testing.TB, n Name) *Schema {
	t.Helper()
	s, err := Get(n)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// decodeJSON decodes with json.Number so numbers keep their text.
func decodeJSON(t testing.TB, data []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode JSON %q: %v", data, err)
	}
	return v
}

var schemaJSONCache sync.Map // *Schema -> map[string]any

// schemaJSON returns the .avsc of a schema as generic JSON (shared: do not
// modify it).
func schemaJSON(t testing.TB, s *Schema) map[string]any {
	t.Helper()
	if v, ok := schemaJSONCache.Load(s); ok {
		return v.(map[string]any)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(s.Text), &v); err != nil {
		t.Fatal(err)
	}
	schemaJSONCache.Store(s, v)
	return v
}

// namedRecords maps the short and full names of every record type defined in a
// schema to its definition, for resolving references.
func namedRecords(schema map[string]any) map[string]any {
	named := make(map[string]any)
	walkRecords(schema, func(rec map[string]any) {
		named[rec["name"].(string)] = rec
		named["io.tvmkafka.tvm."+rec["name"].(string)] = rec
	})
	return named
}

// plainFromGoavro turns goavro's native form into plain values: unions
// unwrapped, timestamps as int64 epoch milliseconds, ints as int64.
func plainFromGoavro(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			for k, inner := range x {
				// A union branch is keyed by a type name; record fields never
				// contain dots or equal a primitive name here.
				if strings.Contains(k, ".") || k == "string" || k == "long" || k == "int" || k == "double" ||
					k == "boolean" || k == "array" {
					return plainFromGoavro(inner)
				}
			}
		}
		out := make(map[string]any, len(x))
		for k, inner := range x {
			out[k] = plainFromGoavro(inner)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, inner := range x {
			out[i] = plainFromGoavro(inner)
		}
		return out
	case time.Time:
		return x.UnixMilli()
	case int32:
		return int64(x)
	default:
		return v
	}
}

// checkRecord verifies a decoded record (plain or goavro form) against the
// Tenable JSON object it came from, with the rules of recordcheck, written
// independently of the transcoder: every typed field holds the converted JSON
// value or null, and extra holds exactly the members that were not named or did
// not fit. rec is the schema's .avsc as generic JSON; the named records are
// resolved from it.
func checkRecord(t testing.TB, path string, rec map[string]any, _ map[string]any, in map[string]any, out map[string]any, derived map[string]string) {
	t.Helper()
	c, err := recordcheck.FromJSON(rec)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range c.Compare(path, in, out, derived) {
		t.Error(d)
	}
}

// jsonInteger applies the documented integer rule to a JSON value.
func jsonInteger(v any) (int64, bool) { return recordcheck.Integer(v) }
