package recordcheck

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Plain converts a decoded record of this schema into plain values: int64 for
// int, long and timestamp-millis (epoch milliseconds), float64 for double,
// string, bool, nil, []any and map[string]any. It accepts numbers as int64,
// int32, int, float64 or json.Number (records printed as JSON), timestamps also
// as time.Time, and unions plain or wrapped in goavro's one-entry map keyed by
// the branch name. A value that does not fit its field, or a field the schema
// does not have, is an error. decoded is not modified.
func (s *Schema) Plain(decoded any) (map[string]any, error) {
	return s.plainRecord(decoded, strict)
}

// PlainInPlace is Plain converting decoded in place: its maps and slices are
// reused for the result, which saves most of the allocations when the caller
// owns decoded and has no other use for it (records parsed from JSON).
func (s *Schema) PlainInPlace(decoded any) (map[string]any, error) {
	return s.plainRecord(decoded, strict|inPlace)
}

func (s *Schema) plainRecord(decoded any, mode plainMode) (map[string]any, error) {
	out, err := s.convertPlain(s.plainRoot, decoded, mode)
	if err != nil {
		return nil, within(err, s.plainRoot.name)
	}
	m, ok := out.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s = %#v, want a record", s.plainRoot.name, decoded)
	}
	return m, nil
}

// plainMode says how convertPlain converts.
type plainMode uint8

const (
	// lenient returns a value that does not fit unchanged (Compare then reports
	// it) and keeps unknown fields.
	lenient plainMode = 0
	// strict makes a value that does not fit, or an unknown field, an error.
	strict plainMode = 1 << iota
	// inPlace stores the converted values in the decoded maps and slices.
	inPlace
)

// plainKind is the Avro type of a plainType.
type plainKind uint8

const (
	kindNull plainKind = iota
	kindInt
	kindLong
	kindTimestamp // long with logicalType timestamp-millis
	kindFloat     // float or double
	kindString
	kindBoolean
	kindRecord
	kindArray
	kindUnion // ["null", T]
)

// plainType is a schema type compiled for convertPlain, so converting a record
// walks pointers instead of generic JSON.
type plainType struct {
	kind   plainKind
	name   string // Avro type name, for messages
	fields []plainField
	// fieldSet holds the field names of a record.
	fieldSet map[string]bool
	// elem is the item type of an array and the non-null branch of a union.
	elem *plainType
	// branchName is the name goavro gives the non-null branch of a union when
	// it wraps a value in a one-entry map.
	branchName string
}

type plainField struct {
	name string
	typ  *plainType
}

// compile turns a type of the schema into a plainType; records are compiled
// once, so recursive references end.
func (s *Schema) compile(t any, records map[string]*plainType) (*plainType, error) {
	switch x := t.(type) {
	case []any:
		var branches []any
		for _, b := range x {
			if b != "null" {
				branches = append(branches, b)
			}
		}
		if len(branches) != 1 || len(x) != 2 {
			return nil, fmt.Errorf("union %v: only [\"null\", T] is supported", x)
		}
		elem, err := s.compile(branches[0], records)
		if err != nil {
			return nil, err
		}
		return &plainType{kind: kindUnion, name: "union", elem: elem, branchName: s.unionName(branches[0])}, nil
	case string:
		if k, ok := primitiveKinds[x]; ok {
			return &plainType{kind: k, name: x}, nil
		}
		rec, ok := s.named[x]
		if !ok {
			return nil, fmt.Errorf("unknown type %q", x)
		}
		return s.compile(rec, records)
	case map[string]any:
		switch x["type"] {
		case "record":
			full := s.fullName[x["name"].(string)]
			if pt, ok := records[full]; ok {
				return pt, nil
			}
			fields := x["fields"].([]any)
			pt := &plainType{kind: kindRecord, name: full, fieldSet: make(map[string]bool, len(fields))}
			records[full] = pt
			for _, f := range fields {
				fm := f.(map[string]any)
				ft, err := s.compile(fm["type"], records)
				if err != nil {
					return nil, fmt.Errorf("%s.%s: %w", full, fm["name"], err)
				}
				pt.fields = append(pt.fields, plainField{name: fm["name"].(string), typ: ft})
				pt.fieldSet[fm["name"].(string)] = true
			}
			return pt, nil
		case "array":
			elem, err := s.compile(x["items"], records)
			if err != nil {
				return nil, err
			}
			return &plainType{kind: kindArray, name: "array", elem: elem}, nil
		case "long":
			if x["logicalType"] == "timestamp-millis" {
				return &plainType{kind: kindTimestamp, name: "timestamp-millis"}, nil
			}
		}
		if lt, ok := x["logicalType"]; ok {
			return nil, fmt.Errorf("logical type %v is not supported", lt)
		}
		if name, ok := x["type"].(string); ok {
			if k, ok := primitiveKinds[name]; ok {
				return &plainType{kind: k, name: name}, nil
			}
		}
	}
	return nil, fmt.Errorf("type %v is not supported", t)
}

var primitiveKinds = map[string]plainKind{
	"null": kindNull, "int": kindInt, "long": kindLong, "float": kindFloat, "double": kindFloat,
	"string": kindString, "boolean": kindBoolean,
}

// unionName is the name goavro gives a union branch of type t.
func (s *Schema) unionName(t any) string {
	switch x := t.(type) {
	case string:
		if full, ok := s.fullName[x]; ok {
			return full
		}
		return x
	case map[string]any:
		switch x["type"] {
		case "record":
			return s.fullName[x["name"].(string)]
		case "array", "map":
			return x["type"].(string)
		}
		if lt, ok := x["logicalType"].(string); ok {
			return fmt.Sprint(x["type"]) + "." + lt
		}
		return fmt.Sprint(x["type"])
	}
	return ""
}

// plainError is a value that does not fit; the path is built on the way out,
// so converting allocates nothing for paths.
type plainError struct {
	path []string // innermost first
	msg  string
}

func (e *plainError) Error() string {
	var b strings.Builder
	for i := len(e.path) - 1; i >= 0; i-- {
		b.WriteString(e.path[i])
	}
	return b.String() + e.msg
}

func within(err error, segment string) error {
	if pe, ok := err.(*plainError); ok {
		pe.path = append(pe.path, segment)
	}
	return err
}

// convertPlain converts v of type t according to mode.
func (s *Schema) convertPlain(t *plainType, v any, mode plainMode) (any, error) {
	if v == nil {
		return nil, nil
	}
	misfit := func() (any, error) {
		if mode&strict != 0 {
			return nil, &plainError{msg: fmt.Sprintf(" = %#v, want %s", v, t.name)}
		}
		return v, nil
	}
	switch t.kind {
	case kindUnion:
		if m, ok := v.(map[string]any); ok && len(m) == 1 {
			// goavro's wrapped form; a record with a field of that name is not.
			if inner, ok := m[t.branchName]; ok && !(t.elem.kind == kindRecord && t.elem.fieldSet[t.branchName]) {
				v = inner
			}
		}
		return s.convertPlain(t.elem, v, mode)
	case kindNull:
		return misfit()
	case kindInt, kindLong:
		if n, ok := decodedInteger(v, t.kind == kindInt); ok {
			return n, nil
		}
		return misfit()
	case kindTimestamp:
		if ts, ok := v.(time.Time); ok {
			return ts.UnixMilli(), nil
		}
		if n, ok := decodedInteger(v, false); ok {
			return n, nil
		}
		return misfit()
	case kindFloat:
		switch f := v.(type) {
		case float64:
			return f, nil
		case float32:
			return float64(f), nil
		case json.Number:
			if g, err := strconv.ParseFloat(f.String(), 64); err == nil {
				return g, nil
			}
		case int64:
			return float64(f), nil
		case int:
			return float64(f), nil
		}
		return misfit()
	case kindString:
		if _, ok := v.(string); ok {
			return v, nil
		}
		return misfit()
	case kindBoolean:
		if _, ok := v.(bool); ok {
			return v, nil
		}
		return misfit()
	case kindArray:
		items, ok := v.([]any)
		if !ok {
			return misfit()
		}
		out := items
		if mode&inPlace == 0 {
			out = make([]any, len(items))
		}
		for i, item := range items {
			inner, err := s.convertPlain(t.elem, item, mode)
			if err != nil {
				return nil, within(err, "["+strconv.Itoa(i)+"]")
			}
			out[i] = inner
		}
		return out, nil
	case kindRecord:
		obj, ok := v.(map[string]any)
		if !ok {
			return misfit()
		}
		out := obj
		if mode&inPlace == 0 {
			out = make(map[string]any, len(t.fields))
		}
		present := 0
		for _, f := range t.fields {
			inner, ok := obj[f.name]
			if ok {
				present++
			}
			inner, err := s.convertPlain(f.typ, inner, mode)
			if err != nil {
				return nil, within(err, "."+f.name)
			}
			out[f.name] = inner
		}
		if present < len(obj) {
			for k, inner := range obj {
				if t.fieldSet[k] {
					continue
				}
				if mode&strict != 0 {
					return nil, &plainError{path: []string{"." + k}, msg: ": " + t.name + " has no such field"}
				}
				out[k] = inner
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("type %s is not supported", t.name)
}

// decodedInteger reads an integer a decoder produced.
func decodedInteger(v any, int32Range bool) (int64, bool) {
	var n int64
	switch x := v.(type) {
	case int64:
		n = x
	case int32:
		n = int64(x)
	case int:
		n = int64(x)
	case float64:
		if x != math.Trunc(x) || x < math.MinInt64 || x >= math.MaxInt64 {
			return 0, false
		}
		n = int64(x)
	case json.Number:
		var err error
		if n, err = x.Int64(); err != nil {
			return 0, false
		}
	default:
		return 0, false
	}
	if int32Range && (n < math.MinInt32 || n > math.MaxInt32) {
		return 0, false
	}
	return n, true
}
