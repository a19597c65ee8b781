package schemas

// The transcoder as it was before it scanned records itself: a fastjson tree
// per record. It stays as the reference the differential tests and the fuzz
// target compare the scanning transcoder with.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// legacyTranscoder turns Tenable JSON records into Avro binary (the encoding goavro
// writes, byte for byte) plus a Kafka key, without building intermediate maps.
// It reuses its buffers, so it is not safe for concurrent use: make one per
// goroutine.
type legacyTranscoder struct {
	schema *Schema
	parser fastjson.Parser

	// Scratch space per record plan (a record type never contains itself, so
	// one set per type is enough).
	slots  [][]*fastjson.Value
	ranks  [][]int
	extras [][]byte
	// orders remembers, per record plan, the member names of the last record
	// in the order they came: records of one export list their members in the
	// same order, so comparing with the name seen at the same position skips
	// most map lookups (a tenth of the connector's CPU before).
	orders [][]memberSeen

	keyParts [][]byte
	key      []byte
	text     []byte // number text and UTF-8 repairs

	last *fastjson.Value // the record last transcoded, for Field
}

// newLegacyTranscoder returns a legacyTranscoder for the schema.
func newLegacyTranscoder(s *Schema) *legacyTranscoder {
	t := &legacyTranscoder{schema: s}
	n := s.plan.id + 1
	forEachRecord(s.plan, func(rp *recordPlan) { n = max(n, rp.id+1) })
	t.slots = make([][]*fastjson.Value, n)
	t.ranks = make([][]int, n)
	t.extras = make([][]byte, n)
	t.orders = make([][]memberSeen, n)
	forEachRecord(s.plan, func(rp *recordPlan) {
		t.slots[rp.id] = make([]*fastjson.Value, len(rp.fields))
		t.ranks[rp.id] = make([]int, len(rp.fields))
	})
	t.keyParts = make([][]byte, len(s.KeyFields))
	return t
}

// Transcode appends the Avro binary encoding of one Tenable JSON record (one
// element of an export chunk or plugin page) to dst and returns it, with the
// record's Kafka key: the values of the schema's tvm.key fields in order, joined
// by '|', integers in decimal, protocol upper-cased, e.g.
// "53ed0fa2-ccd5-4d2e-92ee-c072635889e3|156641|445|TCP". The key is nil for
// schemas without tvm.key. derived supplies the values of fields marked
// tvm.derived (by Avro field name).
//
// Missing or null members become null; numbers, numeric strings and timestamps
// in any of Tenable's forms are converted; members the schema does not name and
// values that do not fit their field go, as JSON, to the record's extra field.
// A record that is not a JSON object, a bad key field or a missing derived value
// is an error; dst is then returned unextended.
//
// value is dst extended as by append. key belongs to the legacyTranscoder and stays
// valid until the next call.
func (t *legacyTranscoder) Transcode(dst []byte, record []byte, derived map[string]string) (value []byte, key []byte, err error) {
	t.last = nil
	v, err := t.parser.ParseBytes(record)
	if err != nil {
		return dst, nil, fmt.Errorf("%w: %v", ErrInvalidJSON, err)
	}
	t.last = v
	if v.Type() != fastjson.TypeObject {
		return dst, nil, fmt.Errorf("record: %w", ErrNotObject)
	}
	start := len(dst)
	out, err := t.encodeRecord(dst, t.schema.plan, v, derived)
	if err != nil {
		return dst[:start], nil, err
	}
	if len(t.keyParts) == 0 {
		return out, nil, nil
	}
	t.key = t.key[:0]
	for i, p := range t.keyParts {
		if i > 0 {
			t.key = append(t.key, KeySeparator)
		}
		t.key = append(t.key, p...)
	}
	return out, t.key, nil
}

// Field returns the string value of the top-level member name of the record
// last transcoded, as the record has it: nil when it is absent or not a
// string. It reads what Transcode already parsed, so a caller that needs one
// member of each record (a finding's state) pays no second parse. The bytes
// are valid until the next Transcode.
func (t *legacyTranscoder) Field(name string) []byte {
	if t.last == nil {
		return nil
	}
	return t.last.GetStringBytes(name)
}

// member finds where the member name met at position i of a record goes.
func (t *legacyTranscoder) member(rp *recordPlan, i int, name []byte) (memberRef, bool) {
	order := t.orders[rp.id]
	if i < len(order) && order[i].name == string(name) && order[i].name != "" {
		return order[i].ref, true
	}
	ref, ok := rp.members[string(name)]
	if i >= maxOrder {
		return ref, ok
	}
	var seen memberSeen // an unknown name is not remembered: the slot stays empty
	if ok {
		seen = memberSeen{name: rp.fields[ref.field].jsonKeys[ref.rank], ref: ref}
	}
	if i < len(order) {
		order[i] = seen
	} else { // positions come one after another, so i == len(order)
		t.orders[rp.id] = append(order, seen)
	}
	return ref, ok
}

// encodeRecord writes the fields of a record from a JSON object.
func (t *legacyTranscoder) encodeRecord(dst []byte, rp *recordPlan, v *fastjson.Value, derived map[string]string) ([]byte, error) {
	obj, _ := v.Object()
	slots, ranks := t.slots[rp.id], t.ranks[rp.id]
	clear(slots)
	extra := t.extras[rp.id][:0]

	// One pass over the members: named ones to their slot, the rest to extra.
	var err error
	pos := 0
	obj.Visit(func(key []byte, val *fastjson.Value) {
		if err != nil {
			return
		}
		ref, ok := t.member(rp, pos, key)
		pos++
		if ok {
			cur := slots[ref.field]
			if cur == nil {
				slots[ref.field], ranks[ref.field] = val, ref.rank
				return
			}
			if ref.rank < ranks[ref.field] { // a preferred name: the other one moves to extra
				old := rp.fields[ref.field].jsonKeys[ranks[ref.field]]
				slots[ref.field], ranks[ref.field] = val, ref.rank
				extra, err = legacyAppendMember(extra, []byte(old), cur)
				return
			}
			// A duplicate or less preferred name: keep it in extra.
		}
		extra, err = legacyAppendMember(extra, key, val)
	})
	if err != nil {
		return dst, err
	}

	for i := range rp.fields {
		f := &rp.fields[i]
		if f.derived {
			s, ok := derived[f.name]
			if !ok {
				return dst, fmt.Errorf("%w: %s", ErrMissingDerived, f.name)
			}
			if f.nullable {
				dst = append(dst, 2)
			}
			dst = t.appendString(dst, unsafeBytes(s))
			continue
		}
		val := slots[i]
		if val == nil || val.Type() == fastjson.TypeNull {
			if !f.nullable {
				return dst, t.requiredError(f, "missing or null")
			}
			dst = append(dst, 0)
			continue
		}
		mark := len(dst)
		if f.nullable {
			dst = append(dst, 2)
		}
		var ok bool
		dst, ok, err = t.encodeValue(dst, f.typ, val, derived)
		if err != nil {
			return dst, fmt.Errorf("%s: %w", f.name, err)
		}
		if !ok {
			if !f.nullable {
				return dst, t.requiredError(f, "not a "+kindName(f.typ))
			}
			dst = append(dst[:mark], 0)
			if extra, err = legacyAppendMember(extra, []byte(f.jsonKeys[ranks[i]]), val); err != nil {
				return dst, err
			}
			continue
		}
		if f.keyIndex >= 0 {
			if err := t.keyPart(f, val); err != nil {
				return dst, err
			}
		}
	}

	if len(extra) == 0 {
		dst = append(dst, 0)
	} else {
		dst = append(dst, 2)
		dst = appendVarint(dst, int64(len(extra)+2))
		dst = append(dst, '{')
		dst = append(dst, extra...)
		dst = append(dst, '}')
	}
	t.extras[rp.id] = extra
	return dst, nil
}

// requiredError reports a required field (a key field or a record on the way to
// one) that is missing or does not fit.
func (t *legacyTranscoder) requiredError(f *fieldPlan, why string) error {
	name := f.name
	if f.keyIndex >= 0 {
		name = t.schema.KeyFields[f.keyIndex]
	}
	return fmt.Errorf("%w: %s is %s", ErrKeyField, name, why)
}

// keyPart records the Kafka key text of a key field that was just written.
func (t *legacyTranscoder) keyPart(f *fieldPlan, val *fastjson.Value) error {
	p := t.keyParts[f.keyIndex][:0]
	switch f.typ.kind {
	case kindString:
		s, err := val.StringBytes()
		switch {
		case err != nil: // a number written as its text
			p = val.MarshalTo(p)
		case !utf8.Valid(s): // as written in the record
			p = append(p, bytes.ToValidUTF8(s, []byte("\ufffd"))...)
		default:
			p = append(p, s...)
		}
	default:
		n, _ := t.integer(val)
		p = strconv.AppendInt(p, n, 10)
	}
	if len(p) == 0 {
		return fmt.Errorf("%w: %s is empty", ErrKeyField, t.schema.KeyFields[f.keyIndex])
	}
	if f.keyUpper {
		for i, c := range p {
			if 'a' <= c && c <= 'z' {
				p[i] = c - ('a' - 'A')
			}
		}
	}
	t.keyParts[f.keyIndex] = p
	return nil
}

// encodeValue writes val as the (non-null) type tp. ok is false when the value
// does not fit the type; dst may then hold a partial write, which the caller
// discards.
func (t *legacyTranscoder) encodeValue(dst []byte, tp *typePlan, val *fastjson.Value, derived map[string]string) (out []byte, ok bool, err error) {
	switch tp.kind {
	case kindString:
		switch val.Type() {
		case fastjson.TypeString:
			b, _ := val.StringBytes()
			return t.appendString(dst, b), true, nil
		case fastjson.TypeNumber: // a number where text is expected: keep its literal
			t.text = val.MarshalTo(t.text[:0])
			if !validNumber(t.text) {
				return dst, false, fmt.Errorf("%w: number %q", ErrInvalidJSON, t.text)
			}
			dst = appendVarint(dst, int64(len(t.text)))
			return append(dst, t.text...), true, nil
		}
		return dst, false, nil
	case kindInt, kindLong:
		n, ok := t.integer(val)
		if !ok || (tp.kind == kindInt && (n < math.MinInt32 || n > math.MaxInt32)) {
			return dst, false, t.numberErr(val)
		}
		return appendVarint(dst, n), true, nil
	case kindDouble:
		f, ok := t.double(val)
		if !ok {
			return dst, false, t.numberErr(val)
		}
		return binary.LittleEndian.AppendUint64(dst, math.Float64bits(f)), true, nil
	case kindBoolean:
		switch val.Type() {
		case fastjson.TypeTrue:
			return append(dst, 1), true, nil
		case fastjson.TypeFalse:
			return append(dst, 0), true, nil
		case fastjson.TypeString:
			switch b, _ := val.StringBytes(); string(b) {
			case "true":
				return append(dst, 1), true, nil
			case "false":
				return append(dst, 0), true, nil
			}
		}
		return dst, false, t.numberErr(val)
	case kindTimestampMillis:
		var ms int64
		switch val.Type() {
		case fastjson.TypeString:
			b, _ := val.StringBytes()
			ms, ok = parseTimestamp(b)
		case fastjson.TypeNumber:
			t.text = val.MarshalTo(t.text[:0])
			if !validNumber(t.text) {
				return dst, false, fmt.Errorf("%w: number %q", ErrInvalidJSON, t.text)
			}
			ms, ok = epochText(t.text)
		}
		if !ok {
			return dst, false, nil
		}
		return appendVarint(dst, ms), true, nil
	case kindArray:
		if val.Type() != fastjson.TypeArray {
			return dst, false, t.numberErr(val)
		}
		items, _ := val.Array()
		if len(items) > 0 {
			dst = appendVarint(dst, int64(len(items)))
			for _, item := range items {
				if dst, ok, err = t.encodeValue(dst, tp.items, item, derived); !ok || err != nil {
					return dst, false, err
				}
			}
		}
		return append(dst, 0), true, nil
	case kindRecord:
		if val.Type() != fastjson.TypeObject {
			return dst, false, t.numberErr(val)
		}
		dst, err = t.encodeRecord(dst, tp.record, val, derived)
		return dst, err == nil, err
	}
	return dst, false, fmt.Errorf("unsupported kind %d", tp.kind)
}

// numberErr returns an error when val is a malformed number that fastjson let
// through (NaN, 1.2.3, ...): such input is not JSON, so it cannot go to extra.
func (t *legacyTranscoder) numberErr(val *fastjson.Value) error {
	if val.Type() != fastjson.TypeNumber {
		return nil
	}
	t.text = val.MarshalTo(t.text[:0])
	if validNumber(t.text) {
		return nil
	}
	return fmt.Errorf("%w: number %q", ErrInvalidJSON, t.text)
}

// integer reads an integral number or numeric string: 42, 42.0, 4.2e1, "42".
func (t *legacyTranscoder) integer(val *fastjson.Value) (int64, bool) {
	var s []byte
	switch val.Type() {
	case fastjson.TypeNumber:
		t.text = val.MarshalTo(t.text[:0])
		s = t.text
	case fastjson.TypeString:
		s, _ = val.StringBytes()
	default:
		return 0, false
	}
	if !validNumber(s) {
		return 0, false
	}
	if n, ok := parseDecimalInt(s); ok {
		return n, true
	}
	f, err := strconv.ParseFloat(unsafeString(s), 64)
	if err != nil || f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
		return 0, false
	}
	return int64(f), true
}

// double reads a finite number or numeric string.
func (t *legacyTranscoder) double(val *fastjson.Value) (float64, bool) {
	var s []byte
	switch val.Type() {
	case fastjson.TypeNumber:
		t.text = val.MarshalTo(t.text[:0])
		s = t.text
	case fastjson.TypeString:
		s, _ = val.StringBytes()
	default:
		return 0, false
	}
	if !validNumber(s) {
		return 0, false
	}
	if n, ok := parseDecimalInt(s); ok && n > -1<<53 && n < 1<<53 {
		return float64(n), true
	}
	f, err := strconv.ParseFloat(unsafeString(s), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// appendString writes an Avro string; invalid UTF-8 becomes U+FFFD.
func (t *legacyTranscoder) appendString(dst []byte, b []byte) []byte {
	if !utf8.Valid(b) {
		t.text = append(t.text[:0], bytes.ToValidUTF8(b, []byte("\ufffd"))...)
		b = t.text
	}
	dst = appendVarint(dst, int64(len(b)))
	return append(dst, b...)
}

// appendMember appends `"key":value` to an extra object under construction.
func legacyAppendMember(extra []byte, key []byte, val *fastjson.Value) ([]byte, error) {
	if len(extra) > 0 {
		extra = append(extra, ',')
	}
	extra = appendJSONString(extra, key)
	extra = append(extra, ':')
	return legacyAppendJSONValue(extra, val)
}

// appendJSONValue appends v as compact, valid JSON.
func legacyAppendJSONValue(dst []byte, v *fastjson.Value) ([]byte, error) {
	switch v.Type() {
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return appendJSONString(dst, b), nil
	case fastjson.TypeNumber:
		start := len(dst)
		dst = v.MarshalTo(dst) // a number's literal text
		if !validNumber(dst[start:]) {
			return dst, fmt.Errorf("%w: number %q", ErrInvalidJSON, dst[start:])
		}
		return dst, nil
	case fastjson.TypeTrue:
		return append(dst, "true"...), nil
	case fastjson.TypeFalse:
		return append(dst, "false"...), nil
	case fastjson.TypeNull:
		return append(dst, "null"...), nil
	case fastjson.TypeArray:
		items, _ := v.Array()
		dst = append(dst, '[')
		for i, item := range items {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = legacyAppendJSONValue(dst, item); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	case fastjson.TypeObject:
		obj, _ := v.Object()
		dst = append(dst, '{')
		first := true
		var err error
		obj.Visit(func(key []byte, val *fastjson.Value) {
			if err != nil {
				return
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = appendJSONString(dst, key)
			dst = append(dst, ':')
			dst, err = legacyAppendJSONValue(dst, val)
		})
		if err != nil {
			return dst, err
		}
		return append(dst, '}'), nil
	default:
		return dst, fmt.Errorf("%w: unexpected value", ErrInvalidJSON)
	}
}
