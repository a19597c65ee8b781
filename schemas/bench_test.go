package schemas

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"
)

// benchRecords returns the sample records of a schema as compact JSON, the way
// Tenable sends them.
func benchRecords(b *testing.B, n Name) [][]byte {
	b.Helper()
	var out [][]byte
	for _, s := range loadSamples(b) {
		if s.schema != n {
			continue
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, s.json); err != nil {
			b.Fatal(err)
		}
		out = append(out, buf.Bytes())
	}
	return out
}

func totalBytes(records [][]byte) int {
	n := 0
	for _, r := range records {
		n += len(r)
	}
	return n
}

// BenchmarkTranscode measures the transcoder per schema on the sample records
// (round robin; ns/op and B/s are per record).
func BenchmarkTranscode(b *testing.B) {
	for _, sch := range All() {
		b.Run(sch.Name.String(), func(b *testing.B) {
			records := benchRecords(b, sch.Name)
			derived := map[string]string{"state": "ACTIVE"}
			tr := sch.NewTranscoder()
			buf := make([]byte, 0, 64<<10)
			b.SetBytes(int64(totalBytes(records) / len(records)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if _, _, err := tr.Transcode(buf[:0], records[i%len(records)], derived); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTranscodeVulnOneRecord measures one vuln finding of about 3 KB.
func BenchmarkTranscodeVulnOneRecord(b *testing.B) {
	sch := mustGet(b, NameVuln)
	var record []byte
	for _, r := range benchRecords(b, NameVuln) {
		if len(r) > 2500 && len(r) < 3500 {
			record = r
			break
		}
	}
	if record == nil {
		b.Fatal("no vuln sample of about 3 KB")
	}
	tr := sch.NewTranscoder()
	buf := make([]byte, 0, 64<<10)
	b.SetBytes(int64(len(record)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := tr.Transcode(buf[:0], record, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGoavroNativeVuln is the conventional path for comparison: JSON ->
// map (encoding/json) -> goavro native form (unions wrapped, timestamps as
// time.Time) -> goavro BinaryFromNative, on the same vuln records. It does less
// than the transcoder: no extra field, no key.
func BenchmarkGoavroNativeVuln(b *testing.B) {
	sch := mustGet(b, NameVuln)
	records := benchRecords(b, NameVuln)
	conv := newNativeConverter(schemaJSON(b, sch))
	buf := make([]byte, 0, 64<<10)
	// Check once that the path produces the same bytes as the transcoder for
	// these records (they have no extra members).
	tr := sch.NewTranscoder()
	for _, r := range records {
		var m any
		if err := json.Unmarshal(r, &m); err != nil {
			b.Fatal(err)
		}
		got, err := sch.Codec.BinaryFromNative(nil, conv(m))
		if err != nil {
			b.Fatal(err)
		}
		want, _, err := tr.Transcode(nil, r, nil)
		if err != nil {
			b.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			b.Fatalf("the goavro path encodes differently:\n%x\n%x", got, want)
		}
	}
	b.SetBytes(int64(totalBytes(records) / len(records)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		var m any
		if err := json.Unmarshal(records[i%len(records)], &m); err != nil {
			b.Fatal(err)
		}
		if _, err := sch.Codec.BinaryFromNative(buf[:0], conv(m)); err != nil {
			b.Fatal(err)
		}
	}
}

// newNativeConverter compiles a schema into a function from encoding/json
// values to goavro's native form. It handles what the vuln samples contain.
func newNativeConverter(schema map[string]any) func(any) any {
	named := make(map[string]func(any) any)
	var compile func(t any) func(any) any
	compile = func(t any) func(any) any {
		switch s := t.(type) {
		case []any:
			inner := compile(s[1])
			branch := unionBranchName(s[1])
			return func(v any) any {
				if v == nil {
					return nil
				}
				return map[string]any{branch: inner(v)}
			}
		case string:
			switch s {
			case "string", "boolean":
				return func(v any) any { return v }
			case "long", "int":
				return func(v any) any {
					switch x := v.(type) {
					case float64:
						return int64(x)
					case string:
						n, _ := strconv.ParseInt(x, 10, 64)
						return n
					}
					return v
				}
			case "double":
				return func(v any) any { return v }
			}
			return func(v any) any { return named[s](v) }
		case map[string]any:
			switch s["type"] {
			case "long":
				return func(v any) any {
					ts, err := time.Parse(time.RFC3339Nano, v.(string))
					if err != nil {
						panic(fmt.Sprintf("timestamp %v: %v", v, err))
					}
					return ts
				}
			case "array":
				item := compile(s["items"])
				return func(v any) any {
					in := v.([]any)
					out := make([]any, len(in))
					for i, x := range in {
						out[i] = item(x)
					}
					return out
				}
			case "record":
				type field struct {
					name string
					conv func(any) any
				}
				var fields []field
				for _, f := range s["fields"].([]any) {
					fm := f.(map[string]any)
					fields = append(fields, field{fm["name"].(string), compile(fm["type"])})
				}
				fn := func(v any) any {
					in := v.(map[string]any)
					out := make(map[string]any, len(fields))
					for _, f := range fields {
						out[f.name] = f.conv(in[f.name])
					}
					return out
				}
				named[s["name"].(string)] = fn
				return fn
			}
		}
		panic(fmt.Sprintf("unsupported schema %v", t))
	}
	return compile(schema)
}

func unionBranchName(t any) string {
	switch s := t.(type) {
	case string:
		if primitiveTypes[s] {
			return s
		}
		return "io.tvmkafka.tvm." + s
	case map[string]any:
		switch s["type"] {
		case "record":
			return "io.tvmkafka.tvm." + s["name"].(string)
		case "long":
			return "long.timestamp-millis"
		}
		return s["type"].(string)
	}
	return ""
}
