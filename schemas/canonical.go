package schemas

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// canonicalForm returns the Parsing Canonical Form of a schema decoded from JSON
// (Avro specification, "Parsing Canonical Form for Schemas"): primitives in
// simple form, full names, only the attributes that matter for parsing (name,
// type, fields, symbols, items, values, size) in that order, no whitespace.
// Documentation, defaults, logical types and tvm.* annotations are stripped, so
// they never change a fingerprint.
//
// goavro's own canonical form keeps {"type":"long"} for a long with a logical
// type, which the specification reduces to "long"; its Rabin fingerprint then
// differs from other Avro implementations, so this package computes its own.
func canonicalForm(schema any) (string, error) {
	var b strings.Builder
	if err := writeCanonical(&b, schema, ""); err != nil {
		return "", err
	}
	return b.String(), nil
}

var primitiveTypes = map[string]bool{
	"null": true, "boolean": true, "int": true, "long": true,
	"float": true, "double": true, "bytes": true, "string": true,
}

func writeCanonical(b *strings.Builder, schema any, namespace string) error {
	switch s := schema.(type) {
	case string:
		if primitiveTypes[s] {
			b.WriteString(strconv.Quote(s))
		} else {
			b.WriteString(strconv.Quote(fullName(s, namespace)))
		}
		return nil
	case []any:
		b.WriteByte('[')
		for i, branch := range s {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeCanonical(b, branch, namespace); err != nil {
				return err
			}
		}
		b.WriteByte(']')
		return nil
	case map[string]any:
		return writeCanonicalObject(b, s, namespace)
	default:
		return fmt.Errorf("unexpected %T in schema", schema)
	}
}

func writeCanonicalObject(b *strings.Builder, s map[string]any, namespace string) error {
	typ, _ := s["type"].(string)
	switch typ {
	case "record", "error", "enum", "fixed":
		name, _ := s["name"].(string)
		if name == "" {
			return fmt.Errorf("%s without a name", typ)
		}
		if ns, ok := s["namespace"].(string); ok && !strings.Contains(name, ".") {
			namespace = ns
		}
		full := fullName(name, namespace)
		if i := strings.LastIndexByte(full, '.'); i >= 0 {
			namespace = full[:i]
		} else {
			namespace = ""
		}
		b.WriteString(`{"name":`)
		b.WriteString(strconv.Quote(full))
		b.WriteString(`,"type":`)
		b.WriteString(strconv.Quote(typ))
		switch typ {
		case "record", "error":
			fields, _ := s["fields"].([]any)
			b.WriteString(`,"fields":[`)
			for i, f := range fields {
				field, ok := f.(map[string]any)
				if !ok {
					return fmt.Errorf("record %s: field %d is not an object", full, i)
				}
				if i > 0 {
					b.WriteByte(',')
				}
				fname, _ := field["name"].(string)
				b.WriteString(`{"name":`)
				b.WriteString(strconv.Quote(fname))
				b.WriteString(`,"type":`)
				if err := writeCanonical(b, field["type"], namespace); err != nil {
					return fmt.Errorf("record %s field %s: %w", full, fname, err)
				}
				b.WriteByte('}')
			}
			b.WriteByte(']')
		case "enum":
			symbols, _ := s["symbols"].([]any)
			b.WriteString(`,"symbols":[`)
			for i, sym := range symbols {
				if i > 0 {
					b.WriteByte(',')
				}
				str, _ := sym.(string)
				b.WriteString(strconv.Quote(str))
			}
			b.WriteByte(']')
		case "fixed":
			size, ok := s["size"].(float64)
			if !ok {
				return fmt.Errorf("fixed %s without a numeric size", full)
			}
			b.WriteString(`,"size":`)
			b.WriteString(strconv.FormatInt(int64(size), 10))
		}
		b.WriteByte('}')
		return nil
	case "array":
		b.WriteString(`{"type":"array","items":`)
		if err := writeCanonical(b, s["items"], namespace); err != nil {
			return err
		}
		b.WriteByte('}')
		return nil
	case "map":
		b.WriteString(`{"type":"map","values":`)
		if err := writeCanonical(b, s["values"], namespace); err != nil {
			return err
		}
		b.WriteByte('}')
		return nil
	default:
		if primitiveTypes[typ] {
			// A primitive in object form, possibly with a logical type: simple form.
			b.WriteString(strconv.Quote(typ))
			return nil
		}
		if typ == "" {
			return fmt.Errorf("object without a type")
		}
		return writeCanonical(b, typ, namespace) // {"type":"SomeNamedType"}
	}
}

// fullName qualifies a name with the namespace unless it already has a dot.
func fullName(name, namespace string) string {
	if strings.Contains(name, ".") || namespace == "" {
		return name
	}
	return namespace + "." + name
}

// rabinEmpty is the CRC-64-AVRO fingerprint of the empty input.
const rabinEmpty = 0xc15d213aa4d7a795

var rabinTable = func() (t [256]uint64) {
	for i := range t {
		fp := uint64(i)
		for range 8 {
			fp = (fp >> 1) ^ (rabinEmpty & -(fp & 1))
		}
		t[i] = fp
	}
	return t
}()

// rabin returns the CRC-64-AVRO fingerprint defined by the Avro specification.
func rabin(data []byte) uint64 {
	fp := uint64(rabinEmpty)
	for _, c := range data {
		fp = (fp >> 8) ^ rabinTable[byte(fp)^c]
	}
	return fp
}

// CanonicalFingerprint returns the Parsing Canonical Form of any Avro schema
// text and its CRC-64-AVRO fingerprint, e.g. to match a schema fetched from a
// registry with the embedded ones (ByFingerprint).
func CanonicalFingerprint(schemaText string) (canonical string, fingerprint uint64, err error) {
	var v any
	if err := json.Unmarshal([]byte(schemaText), &v); err != nil {
		return "", 0, fmt.Errorf("parse schema JSON: %w", err)
	}
	canonical, err = canonicalForm(v)
	if err != nil {
		return "", 0, err
	}
	return canonical, rabin([]byte(canonical)), nil
}
