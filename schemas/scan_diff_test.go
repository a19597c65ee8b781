package schemas

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The scanning Transcoder must behave exactly as the fastjson one it replaced
// (legacyTranscoder): same bytes, same key, same kind of error (and the same
// message, except for where a malformed record breaks off), same Field answers.

// diffInput is one record to transcode with the schema names[which].
type diffInput struct {
	which int
	data  []byte
}

// fieldNames are the top-level members Field is asked for after each record.
var fieldNames = []string{"state", "status", "id", "asset_uuid", "uuid", "na\\me", "no such member"}

// diffEdgeCases are records at the corners of the scanner's grammar.
var diffEdgeCases = []string{
	``, ` `, `{`, `}`, `{}`, ` {} `, `{} x`, `{}{}`, `[]`, `[{}]`, `"s"`, `1`, `null`, `nan`, `true`,
	`{"a"}`, `{"a":}`, `{"a":1,}`, `{,"a":1}`, `{"a":1 "b":2}`, `{"a" : 1 , "b" :[ 1 , 2 ] }`,
	"{\t\"a\"\n:\r1}", `{"a":[1,]}`, `{"a":[,1]}`, `{"a":[1 2]}`, `{"a":tru}`, `{"a":nul}`, `{"a":falsey}`,
	`{"a":NaN}`, `{"a":-Inf}`, `{"a":+inf}`, `{"a":nan}`, `{"a":NAN,"b":1}`, `{"a":1.2.3}`, `{"a":-}`, `{"a":+1}`,
	`{"a":"\"}`, `{"a":"\\"}`, `{"a":"\\\"}`, `{"a":"x\\\\"}`, `{"a\"b":1}`, `{"\u0073tate":"OPEN"}`,
	`{"state":"\u0046IXED"}`, `{"state":"a\ud83d\ude00b"}`, `{"state":"\ud83d"}`, `{"state":"\ud83dx"}`,
	`{"state":"\uZZZZ"}`, `{"state":"\u12"}`, `{"state":"\q"}`, `{"state":"` + "\xff\xfe" + `"}`,
	`{"x":1.2.3,"state":"A"}`, `{"x":[NaN],"state":"A","asset":{"uuid":"u","y":-}}`, `{"state":""}`, `{"state":1}`, `{"state":"A","state":"B"}`, "{\"state\":\"a\x00b\"}",
	`{"na\\me":"x"}`, `{"extra":{"extra":1}}`, `{"x":{"y":[1,{"z":"\u00e9"}]}}`,
	strings.Repeat(`[`, 299) + strings.Repeat(`]`, 299), `{"a":` + strings.Repeat(`[`, 299) + strings.Repeat(`]`, 299) + `}`,
	`{"a":` + strings.Repeat(`[`, 298) + strings.Repeat(`]`, 298) + `}`,
	`{"a":` + strings.Repeat(`[`, 300) + strings.Repeat(`]`, 300) + `}`,
	strings.Repeat(`[`, 300) + strings.Repeat(`]`, 300), strings.Repeat(`[`, 301) + strings.Repeat(`]`, 301),
}

// diffInputs gathers the records the differential tests run: the schema
// samples, the fuzz corpus, every object and array found in the recorded
// Tenable payloads of the tenable package (and in TVMKAFKA_TENABLE_SAMPLES,
// a directory of more, when set), and the edge cases above, each with every
// schema.
func diffInputs(t testing.TB) []diffInput {
	t.Helper()
	var raw [][]byte
	for _, s := range loadSamples(t) {
		raw = append(raw, s.json)
	}
	var out []diffInput
	corpus, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzTranscode", "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range corpus {
		which, data, ok := readFuzzEntry(t, f)
		if !ok {
			continue
		}
		out = append(out, diffInput{which % len(names), data})
		raw = append(raw, data)
	}
	dirs := []string{filepath.Join("..", "connector", "tenable", "testdata")}
	if d := os.Getenv("TVMKAFKA_TENABLE_SAMPLES"); d != "" {
		dirs = append(dirs, d)
	}
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			raw = append(raw, data)
			raw = collectValues(raw, data)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range diffEdgeCases {
		raw = append(raw, []byte(e))
	}
	for _, r := range raw {
		for i := range names {
			out = append(out, diffInput{i, r})
		}
	}
	return out
}

// collectValues appends every object and array nested in data, as written,
// including JSON held in strings (recorded HTTP bodies).
func collectValues(out [][]byte, data []byte) [][]byte {
	var obj map[string]json.RawMessage
	if json.Unmarshal(data, &obj) == nil && obj != nil {
		out = append(out, data)
		for _, v := range obj {
			out = collectValues(out, v)
		}
		return out
	}
	var arr []json.RawMessage
	if json.Unmarshal(data, &arr) == nil && arr != nil {
		out = append(out, data)
		for _, v := range arr {
			out = collectValues(out, v)
		}
		return out
	}
	var s string
	if json.Unmarshal(data, &s) == nil && len(s) > 1 && (s[0] == '{' || s[0] == '[') {
		return collectValues(out, []byte(s))
	}
	return out
}

// readFuzzEntry reads a stored FuzzTranscode corpus entry (uint8, []byte).
func readFuzzEntry(t testing.TB, path string) (int, []byte, bool) {
	t.Helper()
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(text)), "\n")
	if len(lines) != 3 || lines[0] != "go test fuzz v1" {
		t.Fatalf("%s: not a fuzz corpus entry of two values", path)
	}
	b, ok1 := strings.CutPrefix(lines[1], "byte(")
	d, ok2 := strings.CutPrefix(lines[2], "[]byte(")
	if !ok1 || !ok2 {
		t.Fatalf("%s: unexpected value types", path)
	}
	r, err1 := strconv.Unquote(strings.TrimSuffix(b, ")"))
	s, err2 := strconv.Unquote(strings.TrimSuffix(d, ")"))
	if err1 != nil || err2 != nil || len(r) != 1 {
		t.Fatalf("%s: cannot read: %v %v", path, err1, err2)
	}
	return int(r[0]), []byte(s), true
}

// errorKind names the sentinel an error wraps.
func errorKind(err error) string {
	for _, k := range []error{ErrInvalidJSON, ErrNotObject, ErrKeyField, ErrMissingDerived} {
		if errors.Is(err, k) {
			return k.Error()
		}
	}
	if err != nil {
		return "other: " + err.Error()
	}
	return ""
}

// parseError says whether err is the legacy parser's refusal of the record as
// a whole, whose wording the scanner does not copy.
func parseError(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "cannot parse JSON") || strings.Contains(err.Error(), "unexpected tail"))
}

type diffPair struct {
	scan   []*Transcoder
	legacy []*legacyTranscoder
}

func newDiffPair(t testing.TB) diffPair {
	var p diffPair
	for _, n := range names {
		s := mustGet(t, n)
		p.scan = append(p.scan, s.NewTranscoder())
		p.legacy = append(p.legacy, newLegacyTranscoder(s))
	}
	return p
}

// compare transcodes data both ways and reports any difference.
func (p diffPair) compare(t testing.TB, which int, data []byte) {
	t.Helper()
	prefix := []byte("prefix")
	for _, derived := range []map[string]string{{"state": "ACTIVE"}, nil} {
		gotV, gotK, gotErr := p.scan[which].Transcode(bytes.Clone(prefix), data, derived)
		wantV, wantK, wantErr := p.legacy[which].Transcode(bytes.Clone(prefix), data, derived)
		if errorKind(gotErr) != errorKind(wantErr) {
			t.Fatalf("%s %q: error %v, want %v", names[which], data, gotErr, wantErr)
		}
		if gotErr != nil && !parseError(wantErr) && gotErr.Error() != wantErr.Error() {
			t.Fatalf("%s %q: error %q, want %q", names[which], data, gotErr, wantErr)
		}
		if !bytes.Equal(gotV, wantV) || !bytes.Equal(gotK, wantK) || (gotK == nil) != (wantK == nil) {
			t.Fatalf("%s %q:\nvalue %x key %q\nwant  %x key %q", names[which], data, gotV, gotK, wantV, wantK)
		}
		for _, name := range fieldNames {
			got, want := p.scan[which].Field(name), p.legacy[which].Field(name)
			if !bytes.Equal(got, want) || (got == nil) != (want == nil) {
				t.Fatalf("%s %q: Field(%q) = %q, want %q", names[which], data, name, got, want)
			}
		}
	}
}

// TestScanMatchesLegacyTranscoder runs the differential check on every input
// gathered, and on every prefix of the smaller ones (records broken off).
func TestScanMatchesLegacyTranscoder(t *testing.T) {
	p := newDiffPair(t)
	inputs := diffInputs(t)
	if len(inputs) < 1000 {
		t.Fatalf("only %d inputs gathered", len(inputs))
	}
	for _, in := range inputs {
		p.compare(t, in.which, in.data)
		if len(in.data) < 600 {
			for n := range in.data {
				p.compare(t, in.which, in.data[:n])
			}
		}
	}
}

// FuzzScanMatchesLegacy: for any input the scanning Transcoder and the
// fastjson one agree.
func FuzzScanMatchesLegacy(f *testing.F) {
	for _, in := range diffInputs(f) {
		f.Add(uint8(in.which), in.data)
	}
	p := newDiffPair(f)
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		p.compare(t, int(which)%len(names), data)
	})
}

// BenchmarkTranscodeLegacy is BenchmarkTranscode with the fastjson
// transcoder, to compare the two in one run.
func BenchmarkTranscodeLegacy(b *testing.B) {
	for _, sch := range All() {
		b.Run(sch.Name.String(), func(b *testing.B) {
			records := benchRecords(b, sch.Name)
			derived := map[string]string{"state": "ACTIVE"}
			tr := newLegacyTranscoder(sch)
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
