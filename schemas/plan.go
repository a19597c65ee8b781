package schemas

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Mapping annotations: extra attributes in the .avsc files that Avro ignores
// (and the canonical form strips) but the transcoder reads.
const (
	annVersion = "tvm.version"  // top-level record: schema version (integer)
	annKey     = "tvm.key"      // top-level record: Kafka key field paths
	annJSON    = "tvm.json"     // field: JSON member name(s), when not the Avro name
	annDerived = "tvm.derived"  // field: value supplied by the caller, not from JSON
	annKeyCase = "tvm.key_case" // field: "upper" upper-cases the value in the Kafka key
)

// extraField is the name of the catch-all field every record ends with.
const extraField = "extra"

// valueKind is the Avro type of a value as the transcoder writes it.
type valueKind uint8

const (
	kindString valueKind = iota
	kindInt
	kindLong
	kindDouble
	kindBoolean
	kindTimestampMillis
	kindArray
	kindRecord
)

// typePlan describes how to write one (non-null) Avro type.
type typePlan struct {
	kind   valueKind
	items  *typePlan   // kindArray
	record *recordPlan // kindRecord
}

// fieldPlan describes one record field other than extra.
type fieldPlan struct {
	name     string   // Avro field name
	jsonKeys []string // JSON member names, most preferred first
	nullable bool     // ["null", T] with default null
	derived  bool     // supplied by the caller
	keyIndex int      // position in the Kafka key, or -1
	keyUpper bool     // upper-case the value in the Kafka key
	typ      *typePlan
}

// recordPlan describes one Avro record type.
type recordPlan struct {
	id       int // index of this record's scratch space in a Transcoder
	fullName string
	fields   []fieldPlan
	// members maps a JSON member name to memberRef{field, rank}: rank is the
	// position of the name in the field's jsonKeys.
	members map[string]memberRef
}

type memberRef struct {
	field int
	rank  int
}

// definition is a parsed .avsc file.
type definition struct {
	json      any
	plan      *recordPlan
	version   int
	keyFields []string
}

// parseDefinition parses an .avsc text and compiles the transcoding plan. It
// accepts the subset of Avro the Tenable schemas use: records, arrays, string,
// int, long, double, boolean, long with logicalType timestamp-millis, and unions
// of null with one of those. Each record must end with the extra field, and each
// field must be optional (["null", T] with default null), a key field or derived.
func parseDefinition(text string) (*definition, error) {
	var root any
	if err := json.Unmarshal([]byte(text), &root); err != nil {
		return nil, fmt.Errorf("parse schema JSON: %w", err)
	}
	obj, ok := root.(map[string]any)
	if !ok || obj["type"] != "record" {
		return nil, fmt.Errorf("top-level schema is not a record")
	}
	d := &definition{json: root}
	v, ok := obj[annVersion].(float64)
	if !ok || v < 1 || v != float64(int(v)) {
		return nil, fmt.Errorf("top-level record needs a positive integer %q", annVersion)
	}
	d.version = int(v)

	c := &compiler{named: make(map[string]*recordPlan), open: make(map[*recordPlan]bool)}
	plan, err := c.record(obj, "")
	if err != nil {
		return nil, err
	}
	d.plan = plan

	if keys, present := obj[annKey]; present {
		list, ok := keys.([]any)
		if !ok || len(list) == 0 {
			return nil, fmt.Errorf("%q must be a non-empty list of field paths", annKey)
		}
		for i, k := range list {
			p, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("%q entry %d is not a string", annKey, i)
			}
			if err := markKeyField(plan, p, i); err != nil {
				return nil, err
			}
			d.keyFields = append(d.keyFields, p)
		}
	}
	if err := checkRequired(plan, make(map[*recordPlan]bool)); err != nil {
		return nil, err
	}
	return d, nil
}

type compiler struct {
	named map[string]*recordPlan
	open  map[*recordPlan]bool // records whose fields are being compiled
	next  int
}

func (c *compiler) record(obj map[string]any, namespace string) (*recordPlan, error) {
	name, _ := obj["name"].(string)
	if name == "" {
		return nil, fmt.Errorf("record without a name")
	}
	if ns, ok := obj["namespace"].(string); ok && !strings.Contains(name, ".") {
		namespace = ns
	}
	full := fullName(name, namespace)
	if i := strings.LastIndexByte(full, '.'); i >= 0 {
		namespace = full[:i]
	}
	if _, dup := c.named[full]; dup {
		return nil, fmt.Errorf("record %s defined twice", full)
	}
	rp := &recordPlan{id: c.next, fullName: full, members: make(map[string]memberRef)}
	c.next++
	c.named[full] = rp
	c.open[rp] = true
	defer delete(c.open, rp)

	fields, _ := obj["fields"].([]any)
	hasExtra := false
	for i, f := range fields {
		fobj, ok := f.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("record %s: field %d is not an object", full, i)
		}
		fname, _ := fobj["name"].(string)
		if fname == extraField {
			if i != len(fields)-1 {
				return nil, fmt.Errorf("record %s: %s must be the last field", full, extraField)
			}
			if !isNullableString(fobj) {
				return nil, fmt.Errorf("record %s: %s must be [\"null\",\"string\"] with default null", full, extraField)
			}
			hasExtra = true
			continue
		}
		fp, err := c.field(fobj, namespace)
		if err != nil {
			return nil, fmt.Errorf("record %s field %s: %w", full, fname, err)
		}
		idx := len(rp.fields)
		rp.fields = append(rp.fields, *fp)
		if fp.derived {
			continue // never read from JSON; a JSON member of that name goes to extra
		}
		for rank, k := range fp.jsonKeys {
			if _, dup := rp.members[k]; dup {
				return nil, fmt.Errorf("record %s: JSON member %q mapped twice", full, k)
			}
			rp.members[k] = memberRef{field: idx, rank: rank}
		}
	}
	if !hasExtra {
		return nil, fmt.Errorf("record %s: missing the %s field", full, extraField)
	}
	return rp, nil
}

func isNullableString(f map[string]any) bool {
	u, ok := f["type"].([]any)
	def, hasDefault := f["default"]
	return ok && len(u) == 2 && u[0] == "null" && u[1] == "string" && hasDefault && def == nil
}

func (c *compiler) field(f map[string]any, namespace string) (*fieldPlan, error) {
	fp := &fieldPlan{keyIndex: -1}
	fp.name, _ = f["name"].(string)
	if fp.name == "" {
		return nil, fmt.Errorf("field without a name")
	}
	switch keys := f[annJSON].(type) {
	case nil:
		fp.jsonKeys = []string{fp.name}
	case string:
		fp.jsonKeys = []string{keys}
	case []any:
		for _, k := range keys {
			s, ok := k.(string)
			if !ok || s == "" {
				return nil, fmt.Errorf("%q must hold strings", annJSON)
			}
			fp.jsonKeys = append(fp.jsonKeys, s)
		}
		if len(fp.jsonKeys) == 0 {
			return nil, fmt.Errorf("%q is empty", annJSON)
		}
	default:
		return nil, fmt.Errorf("%q must be a string or a list of strings", annJSON)
	}
	if d, present := f[annDerived]; present {
		b, ok := d.(bool)
		if !ok {
			return nil, fmt.Errorf("%q must be a boolean", annDerived)
		}
		fp.derived = b
	}
	if kc, present := f[annKeyCase]; present {
		if kc != "upper" {
			return nil, fmt.Errorf("%q must be \"upper\"", annKeyCase)
		}
		fp.keyUpper = true
	}

	t := f["type"]
	if u, ok := t.([]any); ok {
		if len(u) != 2 || u[0] != "null" {
			return nil, fmt.Errorf("only [\"null\", T] unions are supported")
		}
		if def, has := f["default"]; !has || def != nil {
			return nil, fmt.Errorf("an optional field needs default null")
		}
		fp.nullable = true
		t = u[1]
	}
	tp, err := c.typ(t, namespace)
	if err != nil {
		return nil, err
	}
	fp.typ = tp
	if fp.derived && tp.kind != kindString {
		return nil, fmt.Errorf("a derived field must be a string")
	}
	return fp, nil
}

func (c *compiler) typ(t any, namespace string) (*typePlan, error) {
	switch v := t.(type) {
	case string:
		switch v {
		case "string":
			return &typePlan{kind: kindString}, nil
		case "int":
			return &typePlan{kind: kindInt}, nil
		case "long":
			return &typePlan{kind: kindLong}, nil
		case "double":
			return &typePlan{kind: kindDouble}, nil
		case "boolean":
			return &typePlan{kind: kindBoolean}, nil
		}
		if rp, ok := c.named[fullName(v, namespace)]; ok {
			if c.open[rp] {
				// A Transcoder keeps one scratch space per record type.
				return nil, fmt.Errorf("recursive type %s is not supported", rp.fullName)
			}
			return &typePlan{kind: kindRecord, record: rp}, nil
		}
		return nil, fmt.Errorf("unsupported or undefined type %q", v)
	case map[string]any:
		switch v["type"] {
		case "record":
			rp, err := c.record(v, namespace)
			if err != nil {
				return nil, err
			}
			return &typePlan{kind: kindRecord, record: rp}, nil
		case "array":
			items, err := c.typ(v["items"], namespace)
			if err != nil {
				return nil, fmt.Errorf("array items: %w", err)
			}
			return &typePlan{kind: kindArray, items: items}, nil
		case "long":
			if v["logicalType"] == "timestamp-millis" {
				return &typePlan{kind: kindTimestampMillis}, nil
			}
		}
		if lt, ok := v["logicalType"]; ok {
			return nil, fmt.Errorf("unsupported logical type %v on %v", lt, v["type"])
		}
		if s, ok := v["type"].(string); ok {
			return c.typ(s, namespace)
		}
		return nil, fmt.Errorf("unsupported type %v", v["type"])
	default:
		return nil, fmt.Errorf("unsupported type %v", t)
	}
}

// markKeyField resolves a dotted key path to a required string, int or long
// field reached through required record fields.
func markKeyField(root *recordPlan, path string, index int) error {
	rp := root
	parts := strings.Split(path, ".")
	for i, part := range parts {
		fi := -1
		for j := range rp.fields {
			if rp.fields[j].name == part {
				fi = j
				break
			}
		}
		if fi < 0 {
			return fmt.Errorf("%s %q: no field %q in %s", annKey, path, part, rp.fullName)
		}
		f := &rp.fields[fi]
		if f.nullable || f.derived {
			return fmt.Errorf("%s %q: field %q must be required and not derived", annKey, path, part)
		}
		if i == len(parts)-1 {
			switch f.typ.kind {
			case kindString, kindInt, kindLong:
			default:
				return fmt.Errorf("%s %q: a key field must be a string, int or long", annKey, path)
			}
			if f.keyIndex >= 0 {
				return fmt.Errorf("%s %q listed twice", annKey, path)
			}
			f.keyIndex = index
			return nil
		}
		if f.typ.kind != kindRecord {
			return fmt.Errorf("%s %q: %q is not a record", annKey, path, part)
		}
		rp = f.typ.record
	}
	return nil
}

// checkRequired enforces that a record's only required fields are key fields,
// derived fields and the records leading to key fields: everything else Tenable
// may omit, so it must be optional.
func checkRequired(rp *recordPlan, seen map[*recordPlan]bool) error {
	if seen[rp] {
		return nil
	}
	seen[rp] = true
	for i := range rp.fields {
		f := &rp.fields[i]
		if !f.nullable && !f.derived && f.keyIndex < 0 {
			if f.typ.kind != kindRecord || !hasKeyField(f.typ.record) {
				return fmt.Errorf("record %s field %s: must be optional, a key field or derived", rp.fullName, f.name)
			}
		}
		switch f.typ.kind {
		case kindRecord:
			if err := checkRequired(f.typ.record, seen); err != nil {
				return err
			}
		case kindArray:
			for t := f.typ; t.kind == kindArray; t = t.items {
				if t.items.kind == kindRecord {
					if hasKeyField(t.items.record) {
						return fmt.Errorf("record %s field %s: key fields cannot be inside arrays", rp.fullName, f.name)
					}
					if err := checkRequired(t.items.record, seen); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

func hasKeyField(rp *recordPlan) bool {
	for i := range rp.fields {
		f := &rp.fields[i]
		if f.keyIndex >= 0 || (f.typ.kind == kindRecord && !f.nullable && hasKeyField(f.typ.record)) {
			return true
		}
	}
	return false
}
