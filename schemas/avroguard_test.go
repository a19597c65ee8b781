package schemas_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/linkedin/goavro/v2"

	"github.com/tvmkafka/tvmkafka/schemas"
)

// guardSchema has every kind of type the guard walks.
const guardSchema = `{"type":"record","name":"G","fields":[
	{"name":"n","type":"null"},
	{"name":"b","type":"boolean"},
	{"name":"i","type":"int"},
	{"name":"l","type":"long"},
	{"name":"f","type":"float"},
	{"name":"d","type":"double"},
	{"name":"s","type":"string"},
	{"name":"by","type":"bytes"},
	{"name":"fx","type":{"type":"fixed","name":"F4","size":4}},
	{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"]}},
	{"name":"a","type":{"type":"array","items":"string"}},
	{"name":"m","type":{"type":"map","values":"long"}},
	{"name":"u","type":["null","string"]},
	{"name":"next","type":["null","G"]}
]}`

func guardFor(t *testing.T, text string) (*schemas.AvroGuard, *goavro.Codec) {
	t.Helper()
	canonical, _, err := schemas.CanonicalFingerprint(text)
	if err != nil {
		t.Fatal(err)
	}
	g, err := schemas.NewAvroGuard(canonical)
	if err != nil {
		t.Fatal(err)
	}
	codec, err := goavro.NewCodec(text)
	if err != nil {
		t.Fatal(err)
	}
	return g, codec
}

func guardRecord(next any) map[string]any {
	return map[string]any{"n": nil, "b": true, "i": 7, "l": int64(-300), "f": float32(1.5), "d": 2.25,
		"s": "text", "by": []byte{1, 2, 3}, "fx": []byte("abcd"), "e": "B", "a": []any{"x", "yy"},
		"m": map[string]any{"k": int64(1)}, "u": goavro.Union("string", "v"), "next": next}
}

// TestAvroGuardPassesWhatGoavroWrites: every body goavro encodes passes, with
// nothing left over, and every proper prefix of it fails.
func TestAvroGuardPassesWhatGoavroWrites(t *testing.T) {
	g, codec := guardFor(t, guardSchema)
	inner := guardRecord(nil)
	for name, rec := range map[string]map[string]any{
		"flat":   guardRecord(nil),
		"nested": guardRecord(goavro.Union("G", inner)),
	} {
		t.Run(name, func(t *testing.T) {
			body, err := codec.BinaryFromNative(nil, rec)
			if err != nil {
				t.Fatal(err)
			}
			if err := g.Check(body); err != nil {
				t.Fatalf("a body goavro wrote fails the guard: %v", err)
			}
			for n := range len(body) {
				if err := g.Check(body[:n]); err == nil {
					t.Errorf("the first %d of %d bytes pass the guard", n, len(body))
				}
			}
		})
	}
}

// zigzag encodes v as an Avro long.
func zigzag(v int64) []byte {
	u := uint64(v<<1) ^ uint64(v>>63)
	var out []byte
	for u >= 0x80 {
		out = append(out, byte(u)|0x80)
		u >>= 7
	}
	return append(out, byte(u))
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// TestAvroGuardRefusesCraftedBodies: lengths and counts larger than the bytes
// left, bad union indexes, malformed varints and deep nesting all fail, with a
// reason.
func TestAvroGuardRefusesCraftedBodies(t *testing.T) {
	one := func(schema string) *schemas.AvroGuard {
		g, _ := guardFor(t, `{"type":"record","name":"R","fields":[{"name":"x","type":`+schema+`}]}`)
		return g
	}
	arrayOfNull := one(`{"type":"array","items":"null"}`)
	for _, tc := range []struct {
		name  string
		guard *schemas.AvroGuard
		body  []byte
		want  string // part of the error; "" passes
	}{
		{"string length beyond the body", one(`"string"`), cat(zigzag(1<<40), []byte("abc")), "unexpected EOF"},
		{"negative length", one(`"bytes"`), zigzag(-2), "negative length"},
		{"array count beyond the body", one(`{"type":"array","items":"string"}`), cat(zigzag(1<<30), []byte{0, 0}), "block of 1073741824 items in 2 bytes"},
		{"array of nulls counts every item", arrayOfNull, cat(zigzag(1_000_000)), "block of 1000000 items in 0 bytes"},
		{"array of nulls that fits", arrayOfNull, cat(zigzag(2), []byte{0, 0}, zigzag(0)), ""},
		{"negative block count with size", one(`{"type":"array","items":"int"}`), cat(zigzag(-1), zigzag(1), zigzag(5), zigzag(0)), ""},
		{"minimum block count", one(`{"type":"array","items":"int"}`), cat(zigzag(-1 << 63)), "block count"},
		{"map count beyond the body", one(`{"type":"map","values":"int"}`), cat(zigzag(50), []byte{2, 'k'}), "block of 50 items in 2 bytes"},
		{"union index out of range", one(`["null","string"]`), zigzag(2), "union branch 2 out of range"},
		{"negative union index", one(`["null","string"]`), zigzag(-1), "union branch -1 out of range"},
		{"varint too long", one(`"long"`), bytes.Repeat([]byte{0xff}, 11), "varint longer than 10 bytes"},
		{"fixed cut short", one(`{"type":"fixed","name":"F","size":16}`), make([]byte, 15), "unexpected EOF"},
		{"double cut short", one(`"double"`), make([]byte, 7), "unexpected EOF"},
		{"boolean missing", one(`"boolean"`), nil, "unexpected EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.guard.Check(tc.body)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("passed, want an error with %q", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("error %q, want one with %q", err, tc.want)
			}
		})
	}
}

// TestAvroGuardBoundsNesting: a self-referencing record nested deeper than the
// guard walks fails instead of recursing without bound.
func TestAvroGuardBoundsNesting(t *testing.T) {
	g, _ := guardFor(t, `{"type":"record","name":"L","fields":[{"name":"next","type":["null","L"]}]}`)
	// Each level is a union index 1 (the record) wrapping the next; the last is null.
	deep := func(levels int) []byte { return append(bytes.Repeat(zigzag(1), levels), zigzag(0)...) }
	if err := g.Check(deep(20)); err != nil {
		t.Fatalf("20 levels refused: %v", err)
	}
	if err := g.Check(deep(1000)); err == nil || !strings.Contains(err.Error(), "nested too deeply") {
		t.Fatalf("1000 levels: %v, want nested too deeply", err)
	}
}

func TestNewAvroGuardRefusesWhatIsNotASchema(t *testing.T) {
	for _, canonical := range []string{`not json`, `"decimal128"`, `{"type":"widget"}`, `42`, `{"type":"array","items":"nothing"}`} {
		if _, err := schemas.NewAvroGuard(canonical); err == nil {
			t.Errorf("%s: compiled", canonical)
		}
	}
}
