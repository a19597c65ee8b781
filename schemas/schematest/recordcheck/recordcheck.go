// Package recordcheck is an independent model of how tvmkafka maps a Tenable VM
// JSON record onto an Avro record: given the .avsc text, it says what a decoded
// record must hold for a JSON record, written from the documented rules of
// package schemas and not from its transcoder.
//
// It depends on the schema text only, not on package schemas, so that package's
// own tests can use it; other tests use schematest.Compare.
//
// The rules: each typed field holds the JSON member of its name (or of its
// "tvm.json" names, the first present one; the others go to extra) converted by
// the tolerance rules, or null when the member is missing, null or does not fit;
// extra holds the JSON text of an object with every member the record does not
// name and every member that did not fit, or is null when there is none; fields
// marked "tvm.derived" hold the caller's value and never read the JSON.
package recordcheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Schema is a parsed .avsc with its named record types resolved. It is safe for
// concurrent use.
type Schema struct {
	root map[string]any
	// named maps the short and the full name of every record type to its
	// definition.
	named map[string]map[string]any
	// fullName maps the short and the full name of every record type to its
	// full name (the union branch name goavro uses).
	fullName map[string]string
	// plainRoot is the root record compiled for Plain.
	plainRoot *plainType
}

// New parses the text of an .avsc file whose top-level type is a record.
func New(avsc []byte) (*Schema, error) {
	v, err := DecodeJSON(avsc)
	if err != nil {
		return nil, fmt.Errorf("parse schema: %w", err)
	}
	root, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("parse schema: not a JSON object")
	}
	return FromJSON(root)
}

// FromJSON uses an .avsc already decoded as generic JSON. It does not modify
// root, which must not be modified while the Schema is in use.
func FromJSON(root map[string]any) (*Schema, error) {
	if root["type"] != "record" {
		return nil, fmt.Errorf("schema type is %v, want a record", root["type"])
	}
	s := &Schema{root: root, named: make(map[string]map[string]any), fullName: make(map[string]string)}
	if err := s.collect(root, ""); err != nil {
		return nil, err
	}
	var err error
	if s.plainRoot, err = s.compile(root, make(map[string]*plainType)); err != nil {
		return nil, err
	}
	return s, nil
}

// collect registers the record types defined in a type, following Avro's
// namespace rules.
func (s *Schema) collect(t any, namespace string) error {
	switch x := t.(type) {
	case []any:
		for _, branch := range x {
			if err := s.collect(branch, namespace); err != nil {
				return err
			}
		}
	case map[string]any:
		switch x["type"] {
		case "record":
			name, _ := x["name"].(string)
			if name == "" {
				return fmt.Errorf("record without a name: %v", x)
			}
			full := name
			if !strings.Contains(name, ".") {
				if ns, ok := x["namespace"].(string); ok {
					namespace = ns
				}
				if namespace != "" {
					full = namespace + "." + name
				}
			}
			namespace = full[:max(strings.LastIndex(full, "."), 0)]
			short := full[strings.LastIndex(full, ".")+1:]
			s.named[full], s.named[short] = x, x
			s.fullName[full], s.fullName[short] = full, full
			fields, ok := x["fields"].([]any)
			if !ok {
				return fmt.Errorf("record %s has no fields", full)
			}
			for _, f := range fields {
				fm, ok := f.(map[string]any)
				if !ok {
					return fmt.Errorf("record %s: field %v is not an object", full, f)
				}
				if _, ok := fm["name"].(string); !ok {
					return fmt.Errorf("record %s: field without a name", full)
				}
				if err := s.collect(fm["type"], namespace); err != nil {
					return err
				}
			}
		case "array":
			return s.collect(x["items"], namespace)
		case "map":
			return s.collect(x["values"], namespace)
		}
	}
	return nil
}

// DecodeJSON decodes exactly one JSON value, numbers as json.Number so they keep
// their text.
func DecodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON value")
	}
	return v, nil
}

// Compare checks decoded, a record of this schema decoded by an Avro library
// (in any form Plain accepts), against tenable, the Tenable JSON object it was
// written from (decoded with DecodeJSON). derived holds the values of the
// "tvm.derived" fields. Differences name the field by a dotted path starting
// with path; nil means decoded holds exactly what the rules say.
func (s *Schema) Compare(path string, tenable map[string]any, decoded map[string]any, derived map[string]string) []string {
	if decoded == nil {
		return []string{path + " = null, want a record"}
	}
	out, _ := s.convertPlain(s.plainRoot, decoded, lenient)
	c := &comparison{schema: s}
	c.record(path, s.root, tenable, out.(map[string]any), derived)
	return c.diffs
}

// comparison collects the differences found by one Compare.
type comparison struct {
	schema *Schema
	diffs  []string
}

func (c *comparison) errorf(format string, args ...any) {
	c.diffs = append(c.diffs, fmt.Sprintf(format, args...))
}

// record checks a decoded record (plain form) against the JSON object it came
// from: every typed field holds the converted JSON value or null, and extra
// holds exactly the members that were not named or did not fit.
func (c *comparison) record(path string, rec map[string]any, in, out map[string]any, derived map[string]string) {
	wantExtra := make(map[string]any)
	consumed := make(map[string]bool)
	fieldNames := make(map[string]bool)
	for _, f := range rec["fields"].([]any) {
		fm := f.(map[string]any)
		name := fm["name"].(string)
		fieldNames[name] = true
		if name == "extra" {
			continue
		}
		fpath := path + "." + name
		if fm["tvm.derived"] == true {
			if out[name] != derived[name] {
				c.errorf("%s = %v, want derived %q", fpath, out[name], derived[name])
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
				c.errorf("%s = %v, want null (JSON has no value)", fpath, out[name])
			}
			continue
		}
		want, ok := c.convert(fpath, fm["type"], v, out[name])
		if !ok {
			if out[name] != nil {
				c.errorf("%s = %v, want null (%v does not fit)", fpath, out[name], v)
			}
			wantExtra[used] = v
			continue
		}
		if !reflect.DeepEqual(out[name], want) {
			c.errorf("%s = %#v, want %#v", fpath, out[name], want)
		}
	}
	var unknown []string
	for k := range out {
		if !fieldNames[k] {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		c.errorf("%s.%s = %v, but %s has no such field", path, k, out[k], rec["name"])
	}
	for k, v := range in {
		if !consumed[k] {
			wantExtra[k] = v
		}
	}
	var gotExtra map[string]any
	switch x := out["extra"].(type) {
	case nil:
	case string:
		v, err := DecodeJSON([]byte(x))
		if gotExtra, _ = v.(map[string]any); err != nil || gotExtra == nil {
			c.errorf("%s.extra = %q, not a JSON object", path, x)
		}
	default:
		c.errorf("%s.extra = %#v, want a string or null", path, x)
	}
	if len(wantExtra) == 0 {
		wantExtra = nil
	}
	if !reflect.DeepEqual(gotExtra, wantExtra) {
		c.errorf("%s.extra = %v, want %v", path, gotExtra, wantExtra)
	}
}

// convert applies the documented tolerance rules to one JSON value; false means
// the value does not fit the type. For records it checks the nested record
// against got and returns got.
func (c *comparison) convert(path string, schema any, v any, got any) (any, bool) {
	switch s := schema.(type) {
	case []any:
		for _, b := range s {
			if b != "null" {
				return c.convert(path, b, v, got)
			}
		}
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
			n, ok := Integer(v)
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
		if rec, ok := c.schema.named[s]; ok {
			return c.convert(path, rec, v, got)
		}
	case map[string]any:
		switch s["type"] {
		case "long":
			if s["logicalType"] == "timestamp-millis" {
				ms, ok := Timestamp(v)
				return ms, ok
			}
			return c.convert(path, "long", v, got)
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
				conv, ok := c.convert(fmt.Sprintf("%s[%d]", path, i), s["items"], item, g)
				if !ok {
					return nil, false
				}
				out[i] = conv
			}
			return out, true
		case "record":
			obj, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			gotObj, _ := got.(map[string]any)
			if gotObj == nil {
				c.errorf("%s = %v, want a record", path, got)
				return got, true
			}
			c.record(path, s, obj, gotObj, nil)
			return got, true
		case "int", "double", "string", "boolean":
			return c.convert(path, s["type"], v, got)
		}
	}
	c.errorf("%s: unsupported schema type %v", path, schema)
	return nil, false
}

// Integer applies the integer rule to a JSON value (decoded with json.Number):
// an integer, an integral float or a numeric string of one, within int64.
func Integer(v any) (int64, bool) {
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

// Timestamp applies the timestamp rule to a JSON value (decoded with
// json.Number) and returns epoch milliseconds: numbers (or numeric strings)
// below 1e11 are seconds, others milliseconds, fractions rounded down; strings
// are ISO-8601 (fraction truncated, "Z" or an offset, none meaning UTC),
// YYYY-MM-DD or YYYY/MM/DD; years 1 to 9999 only. It uses math/big and the time
// package rather than the transcoder's own parsing.
func Timestamp(v any) (int64, bool) {
	var text string
	switch x := v.(type) {
	case json.Number:
		text = x.String()
	case string:
		text = x
	default:
		return 0, false
	}
	if jsonNumber.MatchString(text) {
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return 0, false
		}
		r, ok := new(big.Rat).SetString(text)
		if !ok {
			return 0, false
		}
		if f < 1e11 {
			r.Mul(r, big.NewRat(1000, 1))
		}
		ms := new(big.Int).Quo(r.Num(), r.Denom()) // truncates toward zero
		if r.Sign() < 0 && !r.IsInt() {
			ms.Sub(ms, big.NewInt(1)) // round down
		}
		if !ms.IsInt64() {
			return 0, false
		}
		return inTimestampRange(ms.Int64())
	}
	// The shape is checked first: time.Parse also takes one-digit hours.
	if !isoShape.MatchString(text) {
		return 0, false
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
	return 0, false
}

var jsonNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

var isoShape = regexp.MustCompile(`^(\d{4}/\d{2}/\d{2}|\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}([.,]\d+)?)?([Zz]|[+-]\d{2}(:?\d{2})?)?)?)$`)

func inTimestampRange(ms int64) (int64, bool) {
	if ms < -62135596800000 || ms > 253402300799999 {
		return 0, false
	}
	return ms, true
}
