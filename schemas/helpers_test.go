package schemas

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
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

// plainFromJSON turns a decoded record printed as JSON (e.g. by the fastavro
// script) into plain values, guided by the schema: numbers become int64 or
// float64 according to the field type.
func plainFromJSON(t testing.TB, schema any, named map[string]any, v any) any {
	t.Helper()
	if v == nil {
		return nil
	}
	switch s := schema.(type) {
	case []any: // ["null", T]
		return plainFromJSON(t, s[1], named, v)
	case string:
		switch s {
		case "long", "int":
			n, err := v.(json.Number).Int64()
			if err != nil {
				t.Fatalf("%v is not an integer", v)
			}
			return n
		case "double":
			f, err := v.(json.Number).Float64()
			if err != nil {
				t.Fatalf("%v is not a number", v)
			}
			return f
		case "string", "boolean":
			return v
		}
		return plainFromJSON(t, named[s], named, v)
	case map[string]any:
		switch s["type"] {
		case "long":
			return plainFromJSON(t, "long", named, v)
		case "array":
			items := v.([]any)
			out := make([]any, len(items))
			for i, item := range items {
				out[i] = plainFromJSON(t, s["items"], named, item)
			}
			return out
		case "record":
			named[s["name"].(string)] = s
			named["io.tvmkafka.tvm."+s["name"].(string)] = s
			obj := v.(map[string]any)
			out := make(map[string]any, len(obj))
			for _, f := range s["fields"].([]any) {
				fm := f.(map[string]any)
				name := fm["name"].(string)
				out[name] = plainFromJSON(t, fm["type"], named, obj[name])
			}
			return out
		}
	}
	t.Fatalf("unexpected schema %v", schema)
	return nil
}

// checkRecord verifies a decoded record (plain form) against the Tenable JSON
// object it came from, with rules written independently of the transcoder: every
// typed field holds the converted JSON value or null, and extra holds exactly
// the members that were not named or did not fit.
func checkRecord(t testing.TB, path string, rec map[string]any, named map[string]any, in map[string]any, out map[string]any, derived map[string]string) {
	t.Helper()
	named[rec["name"].(string)] = rec
	named["io.tvmkafka.tvm."+rec["name"].(string)] = rec
	wantExtra := make(map[string]any)
	consumed := make(map[string]bool)
	for _, f := range rec["fields"].([]any) {
		fm := f.(map[string]any)
		name := fm["name"].(string)
		if name == "extra" {
			continue
		}
		fpath := path + "." + name
		if fm["tvm.derived"] == true {
			if out[name] != derived[name] {
				t.Errorf("%s = %v, want derived %q", fpath, out[name], derived[name])
			}
			continue
		}
		keys := []string{name}
		switch k := fm["tvm.json"].(type) {
		case string:
			keys = []string{k}
		case []any:
			keys = nil
			for _, s := range k {
				keys = append(keys, s.(string))
			}
		}
		used := ""
		for _, k := range keys {
			if _, ok := in[k]; ok {
				consumed[k] = true
				if used == "" {
					used = k
				} else {
					wantExtra[k] = in[k]
				}
			}
		}
		v := in[used]
		if used == "" || v == nil {
			if out[name] != nil {
				t.Errorf("%s = %v, want null (JSON has no value)", fpath, out[name])
			}
			continue
		}
		want, ok := convertJSON(t, fpath, fm["type"], named, v, out[name])
		if !ok {
			if out[name] != nil {
				t.Errorf("%s = %v, want null (%v does not fit)", fpath, out[name], v)
			}
			wantExtra[used] = v
			continue
		}
		if !reflect.DeepEqual(out[name], want) {
			t.Errorf("%s = %#v, want %#v", fpath, out[name], want)
		}
	}
	for k, v := range in {
		if !consumed[k] {
			wantExtra[k] = v
		}
	}
	var gotExtra map[string]any
	if s, ok := out["extra"].(string); ok {
		gotExtra, _ = decodeJSON(t, []byte(s)).(map[string]any)
		if gotExtra == nil {
			t.Errorf("%s.extra = %q, not a JSON object", path, s)
		}
	}
	if len(wantExtra) == 0 {
		wantExtra = nil
	}
	if !reflect.DeepEqual(gotExtra, wantExtra) {
		t.Errorf("%s.extra = %v, want %v", path, gotExtra, wantExtra)
	}
}

// convertJSON applies the documented tolerance rules to one JSON value. For
// records it checks the nested record against got and returns got.
func convertJSON(t testing.TB, path string, schema any, named map[string]any, v any, got any) (any, bool) {
	t.Helper()
	switch s := schema.(type) {
	case []any:
		return convertJSON(t, path, s[1], named, v, got)
	case string:
		switch s {
		case "string":
			switch x := v.(type) {
			case string:
				return strings.ToValidUTF8(x, "\ufffd"), true
			case json.Number:
				return x.String(), true
			}
			return nil, false
		case "long", "int":
			n, ok := jsonInteger(v)
			if ok && s == "int" && (n < math.MinInt32 || n > math.MaxInt32) {
				ok = false
			}
			return n, ok
		case "double":
			var text string
			switch x := v.(type) {
			case json.Number:
				text = x.String()
			case string:
				text = x
			default:
				return nil, false
			}
			if !jsonNumber.MatchString(text) {
				return nil, false
			}
			f, err := strconv.ParseFloat(text, 64)
			if err != nil || math.IsInf(f, 0) {
				return nil, false
			}
			return f, true
		case "boolean":
			switch x := v.(type) {
			case bool:
				return x, true
			case string:
				if x == "true" || x == "false" {
					return x == "true", true
				}
			}
			return nil, false
		}
		return convertJSON(t, path, named[s], named, v, got)
	case map[string]any:
		switch s["type"] {
		case "long":
			return jsonTimestamp(v)
		case "array":
			items, ok := v.([]any)
			if !ok {
				return nil, false
			}
			gotItems, _ := got.([]any)
			out := make([]any, len(items))
			for i, item := range items {
				var g any
				if i < len(gotItems) {
					g = gotItems[i]
				}
				c, ok := convertJSON(t, fmt.Sprintf("%s[%d]", path, i), s["items"], named, item, g)
				if !ok {
					return nil, false
				}
				out[i] = c
			}
			return out, true
		case "record":
			obj, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			gotObj, _ := got.(map[string]any)
			if gotObj == nil {
				t.Errorf("%s = %v, want a record", path, got)
				return got, true
			}
			checkRecord(t, path, s, named, obj, gotObj, nil)
			return got, true
		}
	}
	t.Fatalf("%s: unexpected schema %v", path, schema)
	return nil, false
}

func jsonInteger(v any) (int64, bool) {
	var text string
	switch x := v.(type) {
	case json.Number:
		text = x.String()
	case string:
		text = x
	default:
		return 0, false
	}
	if !jsonNumber.MatchString(text) {
		return 0, false
	}
	if n, err := strconv.ParseInt(text, 10, 64); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
		return 0, false
	}
	return int64(f), true
}

// jsonTimestamp converts the timestamp forms Tenable uses with the time package.
func jsonTimestamp(v any) (any, bool) {
	var text string
	switch x := v.(type) {
	case json.Number:
		text = x.String()
	case string:
		text = x
	default:
		return nil, false
	}
	if f, err := strconv.ParseFloat(text, 64); err == nil && jsonNumber.MatchString(text) {
		r := new(big.Rat)
		r.SetString(text)
		if f < 1e11 {
			r.Mul(r, big.NewRat(1000, 1))
		}
		ms := new(big.Int).Quo(r.Num(), r.Denom()) // truncates toward zero
		if r.Sign() < 0 && !r.IsInt() {
			ms.Sub(ms, big.NewInt(1)) // round down
		}
		if !ms.IsInt64() {
			return nil, false
		}
		return inTimestampRange(ms.Int64())
	}
	// The shape is checked first: time.Parse also takes one-digit hours.
	if !isoShape.MatchString(text) {
		return nil, false
	}
	text = strings.NewReplacer("t", "T", "z", "Z", " ", "T", ",", ".").Replace(text)
	layouts := []string{
		"2006-01-02T15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999Z0700", "2006-01-02T15:04:05.999999999Z07",
		"2006-01-02T15:04:05.999999999", "2006-01-02T15:04Z07:00", "2006-01-02T15:04Z0700", "2006-01-02T15:04Z07",
		"2006-01-02T15:04", "2006-01-02", "2006/01/02",
	}
	for _, l := range layouts {
		if ts, err := time.Parse(l, text); err == nil {
			return inTimestampRange(ts.UnixMilli())
		}
	}
	return nil, false
}

var jsonNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

var isoShape = regexp.MustCompile(`^(\d{4}/\d{2}/\d{2}|\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}([.,]\d+)?)?([Zz]|[+-]\d{2}(:?\d{2})?)?)?)$`)

func inTimestampRange(ms int64) (any, bool) {
	if ms < -62135596800000 || ms > 253402300799999 {
		return nil, false
	}
	return ms, true
}
