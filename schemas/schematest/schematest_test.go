package schematest_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tvmkafka/tvmkafka/schemas"
	"github.com/tvmkafka/tvmkafka/schemas/schematest"
	"github.com/tvmkafka/tvmkafka/schemas/schematest/recordcheck"
)

// The records use the tolerated forms: ISO and epoch-seconds timestamps,
// numbers as strings, a misfit (severity_id "x"), unknown members at two levels,
// a tvm.json alternative present twice (compliance asset and assets), and text
// beyond ASCII.
const (
	vulnJSON = `{"asset":{"uuid":"a-1","hostname":"web-1","ipv4":"10.0.0.1","tracked":true,"rack":"r7"},` +
		`"plugin":{"id":"19506","name":"Nessus Scan Information","cve":["CVE-2024-1","CVE-2024-2"],"vpr":{"score":5.9},` +
		`"publication_date":"2005-08-26T00:00:00Z"},` +
		`"port":{"port":445,"protocol":"tcp","service":"cifs"},` +
		`"output":"é 😀","severity":"info","severity_id":"x","state":"OPEN",` +
		`"first_found":"2024-01-02T03:04:05.678Z","last_found":1704164645.5,"indexed":"2024-01-02",` +
		`"new_member":[1,{"a":null}]}`
	assetJSON      = `{"id":"4e6a5d9b-33b4-4b7d-a1b2-0123456789ab","has_agent":"true","ipv4s":["10.0.0.1"],"created_at":"2024-01-02T03:04:05Z","acr_score":"7"}`
	complianceJSON = `{"asset_uuid":"e5e6fa1b-243f-45b7-82cb-285c271cbaa6","check_id":"00a3efcb","status":"FAILED",` +
		`"asset":{"id":"e5e6fa1b-243f-45b7-82cb-285c271cbaa6","fqdns":["h.example"]},"assets":{"id":"other"}}`
)

type record struct {
	schema  *schemas.Schema
	json    string
	derived map[string]string
}

func records(t *testing.T) map[string]record {
	t.Helper()
	get := func(n schemas.Name) *schemas.Schema {
		s, err := schemas.Get(n)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	return map[string]record{
		"vuln":       {get(schemas.NameVuln), vulnJSON, nil},
		"asset":      {get(schemas.NameAsset), assetJSON, map[string]string{"state": "ACTIVE"}},
		"compliance": {get(schemas.NameCompliance), complianceJSON, nil},
	}
}

// goavroNative transcodes the record and decodes it with goavro: unions wrapped
// in one-entry maps, timestamps as time.Time.
func goavroNative(t *testing.T, r record) map[string]any {
	t.Helper()
	body, _, err := r.schema.NewTranscoder().Transcode(nil, []byte(r.json), r.derived)
	if err != nil {
		t.Fatalf("transcode: %v", err)
	}
	native, rest, err := r.schema.Codec.NativeFromBinary(body)
	if err != nil || len(rest) != 0 {
		t.Fatalf("goavro decode: %v (%d bytes left)", err, len(rest))
	}
	return native.(map[string]any)
}

// plain returns the record decoded in plain form, as fastavro prints it.
func plain(t *testing.T, r record) map[string]any {
	t.Helper()
	p, err := schematest.Plain(r.schema, goavroNative(t, r))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// viaJSON prints a plain record as JSON and reads it back, numbers as
// json.Number (useNumber) or float64, as a record from a Python decoder arrives.
func viaJSON(t *testing.T, rec map[string]any, useNumber bool) map[string]any {
	t.Helper()
	data, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	if useNumber {
		v, err := recordcheck.DecodeJSON(data)
		if err != nil {
			t.Fatal(err)
		}
		return v.(map[string]any)
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCompareAcceptsEveryDecodedForm: the transcoder's output, in each form a
// decoder hands it over, has no differences from its Tenable JSON.
func TestCompareAcceptsEveryDecodedForm(t *testing.T) {
	for name, r := range records(t) {
		forms := map[string]map[string]any{
			"goavro native":      goavroNative(t, r),
			"plain":              plain(t, r),
			"JSON, json.Number":  viaJSON(t, plain(t, r), true),
			"JSON, float64":      viaJSON(t, plain(t, r), false),
			"plain of JSON form": must(schematest.Plain(r.schema, viaJSON(t, plain(t, r), true))),
		}
		for form, decoded := range forms {
			if diffs := schematest.Compare(r.schema, []byte(r.json), decoded, r.derived); diffs != nil {
				t.Errorf("%s, %s: %d differences:\n%s", name, form, len(diffs), strings.Join(diffs, "\n"))
			}
		}
	}
}

func must(m map[string]any, err error) map[string]any {
	if err != nil {
		panic(err)
	}
	return m
}

// TestCompareFindsDifferences: each change to a correctly decoded record, a
// changed value, a member lost, a value invented, is reported on its field, so
// Compare cannot pass vacuously.
func TestCompareFindsDifferences(t *testing.T) {
	sub := func(m map[string]any, field string) map[string]any { return m[field].(map[string]any) }
	tests := []struct {
		name   string
		record string
		change func(m map[string]any)
		want   string // in one of the differences
	}{
		// Changed values.
		{"changed string", "vuln", func(m map[string]any) { m["severity"] = "low" }, `vuln.severity = "low", want "info"`},
		{"changed nested integer", "vuln", func(m map[string]any) { sub(m, "plugin")["id"] = int64(19507) }, "vuln.plugin.id = 19507, want 19506"},
		{"timestamp off by a millisecond", "vuln", func(m map[string]any) { m["first_found"] = m["first_found"].(int64) + 1 }, "vuln.first_found = 1704164645679, want 1704164645678"},
		{"timestamp in seconds", "vuln", func(m map[string]any) { m["last_found"] = int64(1704164645) }, "vuln.last_found = 1704164645, want 1704164645500"},
		{"changed boolean", "asset", func(m map[string]any) { m["has_agent"] = false }, "asset.has_agent = false, want true"},
		{"changed array item", "vuln", func(m map[string]any) { sub(m, "plugin")["cve"].([]any)[1] = "CVE-2024-3" }, `"CVE-2024-3"}, want []interface {}{"CVE-2024-1", "CVE-2024-2"}`},
		{"changed text encoding", "vuln", func(m map[string]any) { m["output"] = "e 😀" }, `vuln.output = "e 😀", want "é 😀"`},
		{"changed extra value", "vuln", func(m map[string]any) { m["extra"] = `{"severity_id":"x","new_member":[1,{"a":0}]}` }, "vuln.extra = "},
		{"wrong derived state", "asset", func(m map[string]any) { m["state"] = "DELETED" }, `asset.state = DELETED, want derived "ACTIVE"`},
		// Members lost.
		{"typed member lost", "vuln", func(m map[string]any) { m["output"] = nil }, `vuln.output = <nil>, want "é 😀"`},
		{"nested member lost", "vuln", func(m map[string]any) { sub(m, "port")["service"] = nil }, "vuln.port.service = <nil>"},
		{"array item lost", "vuln", func(m map[string]any) { sub(m, "plugin")["cve"] = []any{"CVE-2024-1"} }, `vuln.plugin.cve = []interface {}{"CVE-2024-1"}, want`},
		{"unknown member lost from extra", "vuln", func(m map[string]any) { m["extra"] = `{"severity_id":"x"}` }, "vuln.extra = map[severity_id:x], want map["},
		{"nested extra lost", "vuln", func(m map[string]any) { sub(m, "asset")["extra"] = nil }, "vuln.asset.extra = map[], want map[rack:r7]"},
		{"second tvm.json name lost from extra", "compliance", func(m map[string]any) { m["extra"] = nil }, "compliance.extra = map[], want map[assets:"},
		{"nested record lost", "compliance", func(m map[string]any) { m["asset"] = nil }, "compliance.asset = <nil>, want a record"},
		// Values invented.
		{"value where JSON has none", "vuln", func(m map[string]any) { m["recast_reason"] = "accepted" }, "vuln.recast_reason = accepted, want null (JSON has no value)"},
		{"misfit kept in its field", "vuln", func(m map[string]any) { m["severity_id"] = int64(0) }, "vuln.severity_id = 0, want null (x does not fit)"},
		{"member invented in extra", "asset", func(m map[string]any) { m["extra"] = `{"rogue":1}` }, "asset.extra = map[rogue:1], want map[]"},
		{"array item invented", "asset", func(m map[string]any) { m["ipv4s"] = []any{"10.0.0.1", "10.0.0.2"} }, `asset.ipv4s = []interface {}{"10.0.0.1", "10.0.0.2"}, want []interface {}{"10.0.0.1"}`},
		{"field the schema does not have", "vuln", func(m map[string]any) { sub(m, "port")["vlan"] = int64(3) }, "vuln.port.vlan = 3, but FindingPort has no such field"},
		{"extra that is not an object", "asset", func(m map[string]any) { m["extra"] = `[1]` }, `asset.extra = "[1]", not a JSON object`},
		{"empty extra instead of null", "asset", func(m map[string]any) { m["extra"] = `{}` }, "asset.extra = map[], want map[]"},
		{"value of the wrong type", "vuln", func(m map[string]any) { sub(m, "port")["port"] = "445" }, `vuln.port.port = "445", want 445`},
	}
	rs := records(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rs[tt.record]
			decoded := plain(t, r)
			if diffs := schematest.Compare(r.schema, []byte(r.json), decoded, r.derived); diffs != nil {
				t.Fatalf("before the change: %v", diffs)
			}
			tt.change(decoded)
			diffs := schematest.Compare(r.schema, []byte(r.json), decoded, r.derived)
			for _, d := range diffs {
				if strings.Contains(d, tt.want) {
					return
				}
			}
			t.Errorf("differences %q, want one containing %q", diffs, tt.want)
		})
	}
}

func TestCompareBadInput(t *testing.T) {
	r := records(t)["asset"]
	tests := []struct {
		name    string
		json    string
		decoded map[string]any
		want    string
	}{
		{"JSON not an object", `[1]`, plain(t, r), "is not an object"},
		{"JSON invalid", `{"id":`, plain(t, r), "not valid JSON"},
		{"no decoded record", r.json, nil, "asset = null, want a record"},
	}
	for _, tt := range tests {
		diffs := schematest.Compare(r.schema, []byte(tt.json), tt.decoded, r.derived)
		if len(diffs) != 1 || !strings.Contains(diffs[0], tt.want) {
			t.Errorf("%s: differences %q, want one containing %q", tt.name, diffs, tt.want)
		}
	}
}

// TestPlainRejectsMisfits: Plain, used on decoders' output, names the field of
// any value that does not fit and any field the schema lacks.
func TestPlainRejectsMisfits(t *testing.T) {
	r := records(t)["vuln"]
	tests := []struct {
		name   string
		change func(m map[string]any)
		want   string
	}{
		{"string for a long", func(m map[string]any) { m["first_found"] = "2024" }, `io.tvmkafka.tvm.VulnFinding.first_found = "2024", want timestamp-millis`},
		{"fraction for an int", func(m map[string]any) { m["port"].(map[string]any)["port"] = 4.5 }, "io.tvmkafka.tvm.VulnFinding.port.port = 4.5, want int"},
		{"number for a string", func(m map[string]any) { m["plugin"].(map[string]any)["cve"].([]any)[1] = 2.0 }, "io.tvmkafka.tvm.VulnFinding.plugin.cve[1] = 2, want string"},
		{"unknown field", func(m map[string]any) { m["asset"].(map[string]any)["rack"] = "r7" }, "io.tvmkafka.tvm.VulnFinding.asset.rack: io.tvmkafka.tvm.FindingAsset has no such field"},
	}
	for _, tt := range tests {
		decoded := viaJSON(t, plain(t, r), false)
		tt.change(decoded)
		_, err := schematest.Plain(r.schema, decoded)
		if err == nil || err.Error() != "schema vuln: "+tt.want {
			t.Errorf("%s: Plain error %v, want %q", tt.name, err, tt.want)
		}
	}
}
