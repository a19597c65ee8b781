package schemas

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/hamba/avro/v2"
	"github.com/linkedin/goavro/v2"
)

func TestGet(t *testing.T) {
	tests := []struct {
		name     Name
		fullName string
		key      []string
	}{
		{NameAsset, "io.tvmkafka.tvm.Asset", []string{"id"}},
		{NameVuln, "io.tvmkafka.tvm.VulnFinding", []string{"asset.uuid", "plugin.id", "port.port", "port.protocol"}},
		{NameCompliance, "io.tvmkafka.tvm.ComplianceFinding", []string{"asset_uuid", "check_id"}},
		{NamePlugin, "io.tvmkafka.tvm.Plugin", []string{"id"}},
		{NameInboundAsset, "io.tvmkafka.tvm.InboundAsset", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name.String(), func(t *testing.T) {
			s := mustGet(t, tt.name)
			if s.Name != tt.name || s.FullName != tt.fullName || s.Version != 1 {
				t.Errorf("got %s %s v%d", s.Name, s.FullName, s.Version)
			}
			if !slices.Equal(s.KeyFields, tt.key) {
				t.Errorf("KeyFields = %v, want %v", s.KeyFields, tt.key)
			}
			if got, err := ByFingerprint(s.Fingerprint); err != nil || got != s {
				t.Errorf("ByFingerprint = %v, %v", got, err)
			}
		})
	}
	if _, err := Get("nope"); !errors.Is(err, ErrUnknownSchema) {
		t.Errorf("Get(nope) error = %v, want ErrUnknownSchema", err)
	}
	if _, err := ByFingerprint(1); !errors.Is(err, ErrUnknownSchema) {
		t.Errorf("ByFingerprint(1) error = %v, want ErrUnknownSchema", err)
	}
	if got := len(All()); got != len(tests) {
		t.Errorf("All() has %d schemas, want %d", got, len(tests))
	}
}

// TestSchemasDocumentEveryField walks each .avsc: every record and field has a
// doc, every record ends with extra, names are in the tvm namespace.
func TestSchemasDocumentEveryField(t *testing.T) {
	for _, s := range All() {
		t.Run(s.Name.String(), func(t *testing.T) {
			root := schemaJSON(t, s)
			if root["namespace"] != "io.tvmkafka.tvm" {
				t.Errorf("namespace = %v", root["namespace"])
			}
			records := 0
			walkRecords(root, func(rec map[string]any) {
				records++
				name, _ := rec["name"].(string)
				if doc, _ := rec["doc"].(string); len(doc) < 10 {
					t.Errorf("record %s has no doc", name)
				}
				fields := rec["fields"].([]any)
				last := fields[len(fields)-1].(map[string]any)
				if last["name"] != "extra" {
					t.Errorf("record %s does not end with extra", name)
				}
				for _, f := range fields {
					fm := f.(map[string]any)
					if doc, _ := fm["doc"].(string); len(doc) < 5 {
						t.Errorf("field %s.%s has no doc", name, fm["name"])
					}
				}
			})
			if records == 0 {
				t.Fatal("no records found")
			}
		})
	}
}

// TestFindingSubRecordDocs pins what Tenable says about the finding's asset and
// plugin sub-records.
func TestFindingSubRecordDocs(t *testing.T) {
	docs := make(map[string]string)
	walkRecords(schemaJSON(t, mustGet(t, NameVuln)), func(rec map[string]any) {
		for _, f := range rec["fields"].([]any) {
			fm := f.(map[string]any)
			docs[rec["name"].(string)+"."+fm["name"].(string)] = fm["doc"].(string)
		}
	})
	for field, want := range map[string][]string{
		"VulnFinding.asset":  {"Only asset.uuid is authoritative", "best guess at the time of the finding"},
		"VulnFinding.plugin": {"as of the finding's last observation", "plugins topic carries current plugin metadata"},
	} {
		for _, w := range want {
			if !strings.Contains(docs[field], w) {
				t.Errorf("doc of %s = %q, want it to say %q", field, docs[field], w)
			}
		}
	}
}

func walkRecords(v any, fn func(map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		if x["type"] == "record" {
			fn(x)
		}
		for _, inner := range x {
			walkRecords(inner, fn)
		}
	case []any:
		for _, inner := range x {
			walkRecords(inner, fn)
		}
	}
}

// TestLibrariesAcceptAnnotations: goavro and hamba/avro parse the schemas with
// their tvm.* attributes, hamba keeps them as properties, and neither the
// canonical form nor the fingerprint depends on them or on docs.
func TestLibrariesAcceptAnnotations(t *testing.T) {
	for _, s := range All() {
		t.Run(s.Name.String(), func(t *testing.T) {
			hs, err := avro.ParseWithCache(s.Text, "", &avro.SchemaCache{})
			if err != nil {
				t.Fatalf("hamba/avro: %v", err)
			}
			rec := hs.(*avro.RecordSchema)
			if got := rec.Prop("tvm.version"); got != float64(s.Version) {
				t.Errorf("hamba tvm.version = %v", got)
			}
			if len(s.KeyFields) > 0 && rec.Prop("tvm.key") == nil {
				t.Error("hamba dropped tvm.key")
			}
			if _, err := goavro.NewCodec(s.Text); err != nil {
				t.Fatalf("goavro: %v", err)
			}
			if strings.Contains(s.Canonical, `"tvm.`) || strings.Contains(s.Canonical, `"doc"`) ||
				strings.Contains(s.Canonical, "logicalType") {
				t.Errorf("canonical form keeps annotations, docs or logical types: %.200s", s.Canonical)
			}
			// Stripping the annotations and docs does not change the fingerprint.
			var def map[string]any
			if err := json.Unmarshal([]byte(s.Text), &def); err != nil {
				t.Fatal(err)
			}
			stripAttributes(def)
			canonical, err := canonicalForm(def)
			if err != nil {
				t.Fatal(err)
			}
			if canonical != s.Canonical || rabin([]byte(canonical)) != s.Fingerprint {
				t.Error("annotations or docs change the canonical form")
			}
		})
	}
}

func stripAttributes(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k := range x {
			if strings.HasPrefix(k, "tvm.") || k == "doc" {
				delete(x, k)
			}
		}
		for _, inner := range x {
			stripAttributes(inner)
		}
	case []any:
		for _, inner := range x {
			stripAttributes(inner)
		}
	}
}

// TestCanonicalFormMatchesLibraries compares the canonical form with goavro's
// and hamba's. goavro writes {"type":"long"} for a long with a logical type
// where the specification reduces it to "long"; hamba keeps the logical type.
// Apart from that all three agree.
func TestCanonicalFormMatchesLibraries(t *testing.T) {
	for _, s := range All() {
		t.Run(s.Name.String(), func(t *testing.T) {
			goavroForm := strings.ReplaceAll(s.Codec.CanonicalSchema(), `{"type":"long"}`, `"long"`)
			if goavroForm != s.Canonical {
				t.Errorf("goavro canonical form differs:\n goavro %s\n ours   %s", goavroForm, s.Canonical)
			}
			hs, err := avro.ParseWithCache(s.Text, "", &avro.SchemaCache{})
			if err != nil {
				t.Fatal(err)
			}
			hambaForm := strings.ReplaceAll(hs.String(), `{"type":"long","logicalType":"timestamp-millis"}`, `"long"`)
			if hambaForm != s.Canonical {
				t.Errorf("hamba canonical form differs:\n hamba %s\n ours  %s", hambaForm, s.Canonical)
			}
			// So goavro's fingerprint (and its single-object header) differs
			// exactly when the schema has a logical type; the package docs warn
			// against goavro's NativeFromSingle for that reason.
			hasLogical := strings.Contains(s.Text, "logicalType")
			if (s.Codec.Rabin != s.Fingerprint) != hasLogical {
				t.Errorf("goavro Rabin %016x vs ours %016x; logical types: %v", s.Codec.Rabin, s.Fingerprint, hasLogical)
			}
		})
	}
}

// TestRabin checks CRC-64-AVRO against known fingerprints. fastavro's
// fingerprint(.., "CRC-64-AVRO") prints the little-endian bytes, as they appear
// in a single-object header: "8f5c393f1ad57572" for "int".
func TestRabin(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
	}{
		{`"int"`, 0x7275d51a3f395c8f},
		{`"string"`, 0x8f014872634503c7},
		{``, rabinEmpty},
	}
	for _, tt := range tests {
		if got := rabin([]byte(tt.in)); got != tt.want {
			t.Errorf("rabin(%s) = %016x, want %016x", tt.in, got, tt.want)
		}
		c, err := goavro.NewCodec(tt.in)
		if err == nil && c.Rabin != tt.want {
			t.Errorf("goavro disagrees on %s: %016x", tt.in, c.Rabin)
		}
	}
}

// TestSharedTypesAgree: a record type used by several schemas (e.g. Vpr in the
// finding's plugin and in the plugins topic) has the same definition in each.
func TestSharedTypesAgree(t *testing.T) {
	seen := make(map[string]string) // type name -> canonical form
	where := make(map[string]Name)
	for _, s := range All() {
		walkRecords(schemaJSON(t, s), func(rec map[string]any) {
			name := rec["name"].(string)
			form, err := canonicalForm(rec)
			if err != nil {
				t.Fatal(err)
			}
			form = strings.ReplaceAll(form, "io.tvmkafka.tvm.", "")
			if prev, ok := seen[name]; ok && prev != form {
				t.Errorf("record %s differs between %s and %s", name, where[name], s.Name)
			}
			seen[name], where[name] = form, s.Name
		})
	}
}

// TestPlanRejects covers the schema rules the transcoder relies on.
func TestPlanRejects(t *testing.T) {
	base := func(fields string, extraTop string) string {
		return `{"type":"record","name":"R","namespace":"io.tvmkafka.tvm","tvm.version":1` + extraTop +
			`,"fields":[` + fields + `{"name":"extra","type":["null","string"],"default":null}]}`
	}
	tests := []struct {
		name   string
		schema string
		want   string
	}{
		{"no version", `{"type":"record","name":"R","fields":[{"name":"extra","type":["null","string"],"default":null}]}`, "tvm.version"},
		{"no extra", `{"type":"record","name":"R","tvm.version":1,"fields":[]}`, "missing the extra field"},
		{"extra not last", `{"type":"record","name":"R","tvm.version":1,"fields":[{"name":"extra","type":["null","string"],"default":null},{"name":"a","type":["null","string"],"default":null}]}`, "last field"},
		{"required non-key field", base(`{"name":"a","type":"string"},`, ""), "must be optional"},
		{"union without default", base(`{"name":"a","type":["null","string"]},`, ""), "default null"},
		{"wider union", base(`{"name":"a","type":["null","string","long"],"default":null},`, ""), "unions"},
		{"map type", base(`{"name":"a","type":["null",{"type":"map","values":"string"}],"default":null},`, ""), "unsupported"},
		{"other logical type", base(`{"name":"a","type":["null",{"type":"int","logicalType":"date"}],"default":null},`, ""), "logical type"},
		{"key on optional field", base(`{"name":"a","type":["null","string"],"default":null},`, `,"tvm.key":["a"]`), "required"},
		{"key on unknown field", base(`{"name":"a","type":"string"},`, `,"tvm.key":["b"]`), "no field"},
		{"key on double", base(`{"name":"a","type":"double"},`, `,"tvm.key":["a"]`), "string, int or long"},
		{"derived non-string", base(`{"name":"a","type":"long","tvm.derived":true},`, ""), "must be a string"},
		{"JSON name twice", base(`{"name":"a","type":["null","string"],"default":null},{"name":"b","type":["null","string"],"default":null,"tvm.json":"a"},`, ""), "mapped twice"},
		{"recursive type", base(`{"name":"a","type":["null","R"],"default":null},`, ""), "recursive"},
		{"bad key case", base(`{"name":"a","type":"string","tvm.key_case":"lower"},`, `,"tvm.key":["a"]`), "upper"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseDefinition(tt.schema)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
	if _, err := parseDefinition(base(`{"name":"a","type":"string"},`, `,"tvm.key":["a"]`)); err != nil {
		t.Errorf("valid schema rejected: %v", err)
	}
}
