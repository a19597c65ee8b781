package schemas

import (
	"encoding/json"
	"testing"

	"github.com/hamba/avro/v2"
)

func parseHamba(t *testing.T, text string) avro.Schema {
	t.Helper()
	s, err := avro.ParseWithCache(text, "", &avro.SchemaCache{})
	if err != nil {
		t.Fatalf("hamba/avro: %v", err)
	}
	return s
}

// TestBackwardCompatibleWithReleased: the current schema (reader) can read data
// written with the latest released version (writer), by hamba/avro's schema
// resolution rules. Released files are frozen: while the current version number
// equals the released one the text must be identical, and a changed canonical
// form needs the next version number.
func TestBackwardCompatibleWithReleased(t *testing.T) {
	for _, s := range All() {
		t.Run(s.Name.String(), func(t *testing.T) {
			released, err := Released(s.Name)
			if err != nil {
				t.Fatal(err)
			}
			if len(released) == 0 {
				t.Fatal("no released version")
			}
			for i, r := range released {
				if r.Version != i+1 {
					t.Fatalf("released versions are not 1..n: v%d at position %d", r.Version, i)
				}
			}
			latest := released[len(released)-1]
			switch {
			case s.Version == latest.Version && s.Text != latest.Text:
				t.Errorf("%s.avsc differs from released v%d: released schemas are frozen; bump tvm.version", s.Name, latest.Version)
			case s.Version != latest.Version && s.Version != latest.Version+1:
				t.Errorf("tvm.version %d, want %d or %d", s.Version, latest.Version, latest.Version+1)
			case s.Canonical != latest.Canonical && s.Version == latest.Version:
				t.Errorf("canonical form changed without a version bump")
			}
			reader, writer := parseHamba(t, s.Text), parseHamba(t, latest.Text)
			if err := avro.NewSchemaCompatibility().Compatible(reader, writer); err != nil {
				t.Errorf("current %s cannot read data written with released v%d: %v", s.Name, latest.Version, err)
			}
		})
	}
}

// TestCompatibilityCheckDetectsBreakingChanges proves the check above is not
// vacuous: deliberately broken readers are rejected, harmless changes pass.
func TestCompatibilityCheckDetectsBreakingChanges(t *testing.T) {
	released, err := Released(NameVuln)
	if err != nil {
		t.Fatal(err)
	}
	latest := released[len(released)-1].Text

	tests := []struct {
		name       string
		reader     func(fields []any) []any // change to the current top-level fields
		writer     func(fields []any) []any // change to the released top-level fields
		compatible bool
	}{
		{
			name:       "unchanged",
			compatible: true,
		},
		{
			name: "optional field added with default null",
			reader: func(f []any) []any {
				return insertField(f, map[string]any{"name": "new_field", "type": []any{"null", "string"}, "default": nil})
			},
			compatible: true,
		},
		{
			name: "field added without a default",
			reader: func(f []any) []any {
				return insertField(f, map[string]any{"name": "new_field", "type": "string"})
			},
		},
		{
			name: "default removed from a field old data lacks",
			reader: func(f []any) []any {
				return editField(f, "finding_id", func(m map[string]any) { delete(m, "default") })
			},
			writer: func(f []any) []any { return removeField(f, "finding_id") },
		},
		{
			name:       "same field kept with its default when old data lacks it",
			writer:     func(f []any) []any { return removeField(f, "finding_id") },
			compatible: true,
		},
		{
			name: "field type changed",
			reader: func(f []any) []any {
				return editField(f, "output", func(m map[string]any) { m["type"] = []any{"null", "long"} })
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reader := mutateFields(t, mustGet(t, NameVuln).Text, tt.reader)
			writer := mutateFields(t, latest, tt.writer)
			err := avro.NewSchemaCompatibility().Compatible(parseHamba(t, reader), parseHamba(t, writer))
			if tt.compatible && err != nil {
				t.Errorf("rejected a compatible change: %v", err)
			}
			if !tt.compatible && err == nil {
				t.Error("accepted an incompatible change")
			}
		})
	}
}

func mutateFields(t *testing.T, text string, change func([]any) []any) string {
	t.Helper()
	if change == nil {
		return text
	}
	var def map[string]any
	if err := json.Unmarshal([]byte(text), &def); err != nil {
		t.Fatal(err)
	}
	def["fields"] = change(def["fields"].([]any))
	out, err := json.Marshal(def)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// insertField adds a field before extra.
func insertField(fields []any, f map[string]any) []any {
	out := append([]any{}, fields[:len(fields)-1]...)
	return append(out, f, fields[len(fields)-1])
}

func removeField(fields []any, name string) []any {
	var out []any
	for _, f := range fields {
		if f.(map[string]any)["name"] != name {
			out = append(out, f)
		}
	}
	return out
}

func editField(fields []any, name string, edit func(map[string]any)) []any {
	for _, f := range fields {
		if m := f.(map[string]any); m["name"] == name {
			edit(m)
		}
	}
	return fields
}
