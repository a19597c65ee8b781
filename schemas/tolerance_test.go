package schemas

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// minimalVuln builds a vuln finding from members plus whichever of the key
// sub-records (asset, plugin, port) the members do not give.
func minimalVuln(members string) string {
	rec := "{"
	for _, d := range []struct{ name, value string }{
		{"asset", `{"uuid":"a-1"}`}, {"plugin", `{"id":19506}`}, {"port", `{"port":0,"protocol":"tcp"}`},
	} {
		if !strings.Contains(members, `"`+d.name+`":{`) {
			rec += `"` + d.name + `":` + d.value + ","
		}
	}
	return strings.TrimSuffix(rec+members, ",") + "}"
}

// transcodeAndDecode transcodes a record, checks that goavro decodes and
// re-encodes the same bytes and that checkRecord accepts the values, and returns
// the plain decoded record and the key.
func transcodeAndDecode(t *testing.T, n Name, record string, derived map[string]string, check bool) (map[string]any, string) {
	t.Helper()
	s := mustGet(t, n)
	value, key, err := s.NewTranscoder().Transcode([]byte("prefix"), []byte(record), derived)
	if err != nil {
		t.Fatalf("Transcode: %v", err)
	}
	if !bytes.HasPrefix(value, []byte("prefix")) {
		t.Fatalf("Transcode did not append to dst")
	}
	value = value[len("prefix"):]
	native, rest, err := s.Codec.NativeFromBinary(value)
	if err != nil || len(rest) != 0 {
		t.Fatalf("goavro decode: %v (%d bytes left)", err, len(rest))
	}
	again, err := s.Codec.BinaryFromNative(nil, native)
	if err != nil || !bytes.Equal(again, value) {
		t.Fatalf("goavro re-encodes differently (%v)", err)
	}
	out := plainFromGoavro(native).(map[string]any)
	if check {
		checkRecord(t, n.String(), schemaJSON(t, s), namedRecords(schemaJSON(t, s)), decodeJSON(t, []byte(record)).(map[string]any), out, derived)
	}
	return out, string(key)
}

// field follows a dotted path through plain records.
func field(rec map[string]any, path string) any {
	var v any = rec
	for _, p := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

func TestTranscodeTolerance(t *testing.T) {
	tests := []struct {
		name    string
		schema  Name
		record  string
		derived map[string]string
		want    map[string]any // dotted path -> plain value
		key     string
		// dupKeys: the record repeats a member, which encoding/json (used by
		// checkRecord) resolves differently, so only want is checked.
		dupKeys bool
	}{
		{
			name:   "minimal finding; key upper-cases the protocol",
			record: minimalVuln(""),
			want:   map[string]any{"asset.uuid": "a-1", "port.protocol": "tcp", "output": nil, "extra": nil},
			key:    "a-1|19506|0|TCP",
		},
		{
			name:   "integral float and numeric string in key fields",
			record: `{"asset":{"uuid":"a-1"},"plugin":{"id":19506.0},"port":{"port":"443","protocol":"UDP"}}`,
			want:   map[string]any{"plugin.id": int64(19506), "port.port": int64(443)},
			key:    "a-1|19506|443|UDP",
		},
		{
			name:   "indexed as ISO string with microseconds",
			record: minimalVuln(`"indexed":"2023-05-04T05:13:40.809406Z"`),
			want:   map[string]any{"indexed": int64(1683177220809)},
		},
		{
			name:   "indexed as epoch seconds",
			record: minimalVuln(`"indexed":1683177220`),
			want:   map[string]any{"indexed": int64(1683177220000)},
		},
		{
			name:   "indexed as epoch milliseconds",
			record: minimalVuln(`"indexed":1683177220809`),
			want:   map[string]any{"indexed": int64(1683177220809)},
		},
		{
			name:   "indexed as fractional epoch seconds",
			record: minimalVuln(`"indexed":1683177220.8095`),
			want:   map[string]any{"indexed": int64(1683177220809)},
		},
		{
			name:   "timestamps with offsets, dates and slashes",
			record: minimalVuln(`"first_found":"2022-05-28T17:11:31.175+02:00","last_found":"2022-05-28","last_fixed":"2022/05/28","resurfaced_date":"2022-05-28T15:11:31"`),
			want: map[string]any{
				"first_found": int64(1653750691175), "last_found": int64(1653696000000),
				"last_fixed": int64(1653696000000), "resurfaced_date": int64(1653750691000),
			},
		},
		{
			name:   "unparseable timestamp goes to extra",
			record: minimalVuln(`"first_found":"2018-02-31T22:27:52.869Z","last_found":"yesterday"`),
			want: map[string]any{
				"first_found": nil, "last_found": nil,
				"extra": `{"first_found":"2018-02-31T22:27:52.869Z","last_found":"yesterday"}`,
			},
		},
		{
			name:   "numbers as strings, integers as floats",
			record: minimalVuln(`"time_taken_to_fix":"3045760","severity_id":3.0,"plugin":{"id":1,"cvss_base_score":"9.3","cvss3_base_score":10,"bid":[1,2.0,"3"]}`),
			want: map[string]any{
				"time_taken_to_fix": int64(3045760), "severity_id": int64(3), "plugin.cvss_base_score": 9.3,
				"plugin.cvss3_base_score": 10.0, "plugin.bid": []any{int64(1), int64(2), int64(3)},
			},
		},
		{
			name:   "values that do not fit go to extra under their own key",
			record: minimalVuln(`"severity_id":"high","time_taken_to_fix":1.5,"output":{"a":1},"plugin":{"id":7,"has_patch":"yes","cve":["CVE-1",2,null],"epss_score":"n/a"}`),
			want: map[string]any{
				"severity_id": nil, "time_taken_to_fix": nil, "output": nil,
				"extra":        `{"output":{"a":1},"severity_id":"high","time_taken_to_fix":1.5}`,
				"plugin.extra": `{"has_patch":"yes","cve":["CVE-1",2,null],"epss_score":"n/a"}`,
			},
		},
		{
			name:   "int out of range goes to extra",
			record: minimalVuln(`"severity_id":4294967296`),
			want:   map[string]any{"severity_id": nil, "extra": `{"severity_id":4294967296}`},
		},
		{
			name:   "numbers where text is expected keep their literal",
			record: minimalVuln(`"output":12.50,"plugin":{"id":1,"version":1e3}`),
			want:   map[string]any{"output": "12.50", "plugin.version": "1e3"},
		},
		{
			name:   "booleans as strings",
			record: minimalVuln(`"asset":{"uuid":"a","tracked":"false"},"plugin":{"id":1,"has_patch":"true"}`),
			want:   map[string]any{"asset.tracked": false, "plugin.has_patch": true},
		},
		{
			name:   "unknown members at every level",
			record: minimalVuln(`"new_top":{"x":[1,"two"]},"asset":{"uuid":"a","new_asset":true},"plugin":{"id":1,"vpr_v2":{"score":4.9,"targeted_regions":["EU"]}},"scan":{"uuid":"s","new_scan":null}`),
			want: map[string]any{
				"extra":                `{"new_top":{"x":[1,"two"]}}`,
				"asset.extra":          `{"new_asset":true}`,
				"plugin.vpr_v2.extra":  `{"targeted_regions":["EU"]}`,
				"plugin.vpr_v2.score":  4.9,
				"scan.extra":           `{"new_scan":null}`,
				"scan.uuid":            "s",
				"plugin.vpr_v2.cve_id": nil,
			},
		},
		{
			name:   "a member named extra is kept in extra",
			record: minimalVuln(`"extra":"x"`),
			want:   map[string]any{"extra": `{"extra":"x"}`},
		},
		{
			name:    "duplicate member: the first is typed, the second kept in extra",
			record:  minimalVuln(`"output":"first","output":"second"`),
			want:    map[string]any{"output": "first", "extra": `{"output":"second"}`},
			dupKeys: true,
		},
		{
			name:   "escapes, unicode and control characters",
			record: minimalVuln(`"output":"line\n\"quoted\" \u00e9 \ud83d\ude00 tab\t","odd key \"q\"":"\u0001"`),
			want:   map[string]any{"output": "line\n\"quoted\" é 😀 tab\t", "extra": `{"odd key \"q\"":"\u0001"}`},
		},
		{
			name:   "empty and null arrays",
			record: minimalVuln(`"asset":{"uuid":"a","operating_system":[]},"plugin":{"id":1,"cve":null,"xrefs":[]}`),
			want:   map[string]any{"asset.operating_system": []any{}, "plugin.cve": nil, "plugin.xrefs": []any{}},
		},
		{
			name:   "array of records with unknown members",
			record: minimalVuln(`"plugin":{"id":1,"xrefs":[{"type":"CVE","id":"2022-1","url":"u"}]}`),
			want: map[string]any{"plugin.xrefs": []any{map[string]any{
				"type": "CVE", "id": "2022-1", "extra": `{"url":"u"}`,
			}}},
		},
		{
			name:   "nested record that is not an object goes to extra",
			record: minimalVuln(`"scan":"s-1"`),
			want:   map[string]any{"scan": nil, "extra": `{"scan":"s-1"}`},
		},
		{
			name:   "plugin list vectors with CamelCase and hyphenated keys",
			schema: NamePlugin,
			record: `{"id":32,"name":"n","attributes":{"cvss_vector":{"raw":"AV:N","AccessVector":"Network","Confidentiality-Impact":"None"},"vpr":{}}}`,
			want: map[string]any{
				"attributes.cvss_vector.access_vector":          "Network",
				"attributes.cvss_vector.confidentiality_impact": "None",
				"attributes.vpr.score":                          nil,
				"attributes.vpr.extra":                          nil,
			},
			key: "32",
		},
		{
			name:   "compliance asset under either of Tenable's names",
			schema: NameCompliance,
			record: `{"asset_uuid":"a","check_id":"c","assets":{"id":"x"}}`,
			want:   map[string]any{"asset.id": "x", "extra": nil},
			key:    "a|c",
		},
		{
			name:   "compliance asset: asset wins over assets",
			schema: NameCompliance,
			record: `{"asset_uuid":"a","check_id":"c","assets":{"id":"old"},"asset":{"id":"new"}}`,
			want:   map[string]any{"asset.id": "new", "extra": `{"assets":{"id":"old"}}`},
			key:    "a|c",
		},
		{
			name:    "asset state comes from the caller; a JSON state member goes to extra",
			schema:  NameAsset,
			record:  `{"id":"u-1","state":"weird","acr_score":"9.0","ratings":{"acr":{"score":9}}}`,
			derived: map[string]string{"state": "TERMINATED"},
			want: map[string]any{
				"state": "TERMINATED", "acr_score": 9.0, "ratings.acr.score": 9.0,
				"extra": `{"state":"weird"}`,
			},
			key: "u-1",
		},
		{
			name:   "inbound asset has no key",
			schema: NameInboundAsset,
			record: `{"fqdn":["h.example"],"netbios_name":"","custom":1}`,
			want:   map[string]any{"fqdn": []any{"h.example"}, "netbios_name": "", "extra": `{"custom":1}`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := tt.schema
			if n == "" {
				n = NameVuln
			}
			out, key := transcodeAndDecode(t, n, tt.record, tt.derived, !tt.dupKeys)
			for path, want := range tt.want {
				if got := field(out, path); !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %#v, want %#v", path, got, want)
				}
			}
			if tt.key != "" && key != tt.key {
				t.Errorf("key = %q, want %q", key, tt.key)
			}
		})
	}
}

func TestTranscodeInvalidUTF8(t *testing.T) {
	record := []byte(minimalVuln("\"output\":\"bad \xff byte\",\"k\xfe\":\"v\""))
	s := mustGet(t, NameVuln)
	value, _, err := s.NewTranscoder().Transcode(nil, record, nil)
	if err != nil {
		t.Fatal(err)
	}
	native, _, err := s.Codec.NativeFromBinary(value)
	if err != nil {
		t.Fatal(err)
	}
	out := plainFromGoavro(native).(map[string]any)
	if out["output"] != "bad \ufffd byte" || out["extra"] != `{"k`+"\ufffd"+`":"v"}` {
		t.Errorf("output = %q, extra = %q", out["output"], out["extra"])
	}
}

func TestTranscodeErrors(t *testing.T) {
	tests := []struct {
		name    string
		schema  Name
		record  string
		derived map[string]string
		want    error
	}{
		{"not JSON", NameVuln, `{"asset":`, nil, ErrInvalidJSON},
		{"array", NameVuln, `[1,2]`, nil, ErrNotObject},
		{"string", NameVuln, `"x"`, nil, ErrNotObject},
		{"null", NameVuln, `null`, nil, ErrNotObject},
		{"missing asset", NameVuln, `{"plugin":{"id":1},"port":{"port":0,"protocol":"TCP"}}`, nil, ErrKeyField},
		{"asset not an object", NameVuln, `{"asset":"a","plugin":{"id":1},"port":{"port":0,"protocol":"TCP"}}`, nil, ErrKeyField},
		{"missing asset uuid", NameVuln, `{"asset":{},"plugin":{"id":1},"port":{"port":0,"protocol":"TCP"}}`, nil, ErrKeyField},
		{"null plugin id", NameVuln, `{"asset":{"uuid":"a"},"plugin":{"id":null},"port":{"port":0,"protocol":"TCP"}}`, nil, ErrKeyField},
		{"fractional plugin id", NameVuln, `{"asset":{"uuid":"a"},"plugin":{"id":1.5},"port":{"port":0,"protocol":"TCP"}}`, nil, ErrKeyField},
		{"port out of int range", NameVuln, `{"asset":{"uuid":"a"},"plugin":{"id":1},"port":{"port":99999999999,"protocol":"TCP"}}`, nil, ErrKeyField},
		{"empty protocol", NameVuln, `{"asset":{"uuid":"a"},"plugin":{"id":1},"port":{"port":0,"protocol":""}}`, nil, ErrKeyField},
		{"missing asset id", NameAsset, `{"has_agent":true}`, map[string]string{"state": "ACTIVE"}, ErrKeyField},
		{"missing derived state", NameAsset, `{"id":"u"}`, nil, ErrMissingDerived},
		{"missing check_id", NameCompliance, `{"asset_uuid":"a"}`, nil, ErrKeyField},
		{"NaN is not JSON", NameVuln, minimalVuln(`"plugin":{"id":1,"vpr":{"score":NaN}}`), nil, ErrInvalidJSON},
		{"malformed number in extra", NameVuln, minimalVuln(`"new":1.2.3`), nil, ErrInvalidJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := []byte("keep")
			value, key, err := mustGet(t, tt.schema).NewTranscoder().Transcode(dst, []byte(tt.record), tt.derived)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error = %v, want %v", err, tt.want)
			}
			if string(value) != "keep" || key != nil {
				t.Errorf("on error got value %q key %q, want dst unextended and no key", value, key)
			}
		})
	}
}

// TestTranscoderReuse: one Transcoder gives the same bytes for a record whatever
// it transcoded before (scratch space is reset between records).
func TestTranscoderReuse(t *testing.T) {
	samples := loadSamples(t)
	for _, n := range names {
		s := mustGet(t, n)
		shared := s.NewTranscoder()
		for round := range 2 {
			for _, smp := range samples {
				if smp.schema != n {
					continue
				}
				want, wantKey, err := s.NewTranscoder().Transcode(nil, smp.json, smp.derived)
				if err != nil {
					t.Fatal(err)
				}
				got, gotKey, err := shared.Transcode(nil, smp.json, smp.derived)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) || !bytes.Equal(gotKey, wantKey) {
					t.Errorf("round %d %s: a reused transcoder differs", round, smp.name)
				}
			}
		}
	}
}
