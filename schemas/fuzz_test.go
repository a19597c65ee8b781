package schemas

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
)

// FuzzTranscode: arbitrary input never panics; whatever the transcoder accepts
// decodes with goavro to the same bytes, every extra is a JSON object, and for
// strict JSON (no duplicate names, valid UTF-8) the values follow the rules
// checkRecord spells out independently.
func FuzzTranscode(f *testing.F) {
	for _, s := range loadSamples(f) {
		f.Add(uint8(schemaIndex(s.schema)), s.json)
	}
	for _, r := range []string{
		minimalVuln(`"indexed":1683177220.8095,"severity_id":"3","output":12.5`),
		minimalVuln(`"plugin":{"id":"7","bid":[1,"2",3.0],"vpr":{"score":"x"}},"new":{"a":[null]}`),
		`{"asset_uuid":"a","check_id":"c","assets":{"id":"x"},"asset":{"tags":[{"values":[1]}]}}`,
		`{"id":1,"attributes":{"cvss_vector":{"AccessVector":"N"},"vpr":{}}}`,
		`{"id":"u","last_seen":"2018-02-31T22:27:52.869Z","open_ports":[{"port":"80"}]}`,
		`[]`, `{}`, `{"extra":{"extra":1}}`,
	} {
		for i := range names {
			f.Add(uint8(i), []byte(r))
		}
	}
	transcoders := make([]*Transcoder, len(names))
	for i, n := range names {
		transcoders[i] = mustGet(f, n).NewTranscoder()
	}
	derived := map[string]string{"state": "ACTIVE"}

	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		i := int(which) % len(names)
		s := mustGet(t, names[i])
		value, key, err := transcoders[i].Transcode(nil, data, derived)
		if err != nil {
			return
		}
		if len(s.KeyFields) > 0 && len(key) == 0 {
			t.Fatal("accepted a record without a key")
		}
		native, rest, err := s.Codec.NativeFromBinary(value)
		if err != nil || len(rest) != 0 {
			t.Fatalf("goavro cannot decode the output: %v (%d bytes left)", err, len(rest))
		}
		again, err := s.Codec.BinaryFromNative(nil, native)
		if err != nil || !bytes.Equal(again, value) {
			t.Fatalf("goavro re-encodes differently: %v", err)
		}
		out := plainFromGoavro(native).(map[string]any)
		walkExtras(out, func(extra string) {
			var obj map[string]any
			if err := json.Unmarshal([]byte(extra), &obj); err != nil || obj == nil {
				t.Fatalf("extra %q is not a JSON object: %v", extra, err)
			}
		})
		if jsontext.Value(data).IsValid() {
			in, ok := decodeJSON(t, data).(map[string]any)
			if !ok {
				t.Fatal("accepted a record that is not an object")
			}
			checkRecord(t, s.Name.String(), schemaJSON(t, s), namedRecords(schemaJSON(t, s)), in, out, derived)
		}
	})
}

// names is the order the fuzz corpus's schema index refers to; stored
// corpus entries depend on it, so it does not follow All.
var names = []Name{NameAsset, NameVuln, NameCompliance, NamePlugin, NameInboundAsset}

func schemaIndex(n Name) int {
	for i, m := range names {
		if m == n {
			return i
		}
	}
	return 0
}

func walkExtras(v any, fn func(string)) {
	switch x := v.(type) {
	case map[string]any:
		for k, inner := range x {
			if s, ok := inner.(string); ok && k == "extra" {
				fn(s)
				continue
			}
			walkExtras(inner, fn)
		}
	case []any:
		for _, inner := range x {
			walkExtras(inner, fn)
		}
	}
}
