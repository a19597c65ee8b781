package schemas

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// Errors returned by Transcode; each is wrapped with the field path concerned.
var (
	// ErrNotObject: the record is not a JSON object.
	ErrNotObject = errors.New("not a JSON object")
	// ErrKeyField: a Kafka key field (or the record holding it) is missing, null,
	// empty or of the wrong type.
	ErrKeyField = errors.New("bad key field")
	// ErrMissingDerived: the caller did not supply a value for a derived field.
	ErrMissingDerived = errors.New("missing derived field value")
)

// KeySeparator joins the values of the key fields in a Kafka key.
const KeySeparator = '|'

// Transcoder turns Tenable JSON records into Avro binary (the encoding goavro
// writes, byte for byte) plus a Kafka key, without building intermediate maps
// or a parse tree: one scan of each record notes where the value of every
// schema field lies, and the fields are then written in schema order, each
// decoded straight from its bytes. It reuses its buffers, so it is not safe for
// concurrent use: make one per goroutine.
type Transcoder struct {
	schema *Schema

	// Scratch space per record plan (a record type never contains itself, so
	// one set per type is enough).
	slots     [][]valueSpan
	ranks     [][]int
	pre       [][]bool // the slot's record value was read by scanRecord already
	src       [][]byte // the text the slots point into
	extras    [][]byte
	memberErr []error // from writing a member to extra, returned when writing the record
	// eager says, per record plan and field, whether the field's record type
	// is used by no other field, so that scanRecord may read its value into
	// that type's slots as soon as it meets it.
	eager [][]bool
	// items holds, per record plan and array field, the spans of the items.
	items [][][]valueSpan
	// orders remembers, per record plan, the member names of the last record
	// in the order they came: records of one export list their members in the
	// same order, so comparing with the name seen at the same position skips
	// most map lookups (a tenth of the connector's CPU before).
	orders [][]memberSeen

	keyParts [][]byte
	key      []byte
	text     []byte // UTF-8 repairs
	str      []byte // strings with escapes, decoded
	name     []byte // member names with escapes, decoded
	scratch  []byte // strings and names copied to extra

	// The record last transcoded and its top-level members, for Field; ok
	// says whether it was a JSON object.
	record  []byte
	members []member
	ok      bool
	field   []byte
}

// valueSpan is where a member's value lies in the record it was scanned from;
// end is 0 when there is none (a value never ends at offset 0).
type valueSpan struct{ start, end int }

// NewTranscoder returns a Transcoder for the schema.
func (s *Schema) NewTranscoder() *Transcoder {
	t := &Transcoder{schema: s}
	n := s.plan.id + 1
	forEachRecord(s.plan, func(rp *recordPlan) { n = max(n, rp.id+1) })
	t.slots = make([][]valueSpan, n)
	t.ranks = make([][]int, n)
	t.pre = make([][]bool, n)
	t.src = make([][]byte, n)
	t.extras = make([][]byte, n)
	t.memberErr = make([]error, n)
	t.eager = make([][]bool, n)
	t.items = make([][][]valueSpan, n)
	t.orders = make([][]memberSeen, n)
	uses := make([]int, n)
	forEachRecord(s.plan, func(rp *recordPlan) {
		for i := range rp.fields {
			tp := rp.fields[i].typ
			for tp.kind == kindArray {
				tp = tp.items
			}
			if tp.kind == kindRecord {
				uses[tp.record.id]++
			}
		}
	})
	forEachRecord(s.plan, func(rp *recordPlan) {
		t.slots[rp.id] = make([]valueSpan, len(rp.fields))
		t.ranks[rp.id] = make([]int, len(rp.fields))
		t.pre[rp.id] = make([]bool, len(rp.fields))
		t.eager[rp.id] = make([]bool, len(rp.fields))
		t.items[rp.id] = make([][]valueSpan, len(rp.fields))
		for i := range rp.fields {
			if tp := rp.fields[i].typ; tp.kind == kindRecord && uses[tp.record.id] == 1 {
				t.eager[rp.id][i] = true
			}
		}
	})
	t.keyParts = make([][]byte, len(s.KeyFields))
	t.field = make([]byte, 0, 32)
	return t
}

func forEachRecord(root *recordPlan, fn func(*recordPlan)) {
	seen := make(map[*recordPlan]bool)
	var walkType func(tp *typePlan)
	walk := func(rp *recordPlan) {
		if seen[rp] {
			return
		}
		seen[rp] = true
		fn(rp)
		for i := range rp.fields {
			walkType(rp.fields[i].typ)
		}
	}
	walkType = func(tp *typePlan) {
		switch tp.kind {
		case kindRecord:
			walk(tp.record)
		case kindArray:
			walkType(tp.items)
		}
	}
	walk(root)
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
// value is dst extended as by append. key belongs to the Transcoder and stays
// valid until the next call. record must not change until the Field calls
// about it are done.
func (t *Transcoder) Transcode(dst []byte, record []byte, derived map[string]string) (value []byte, key []byte, err error) {
	t.record, t.members, t.ok = record, t.members[:0], false
	i := skipSpace(record, 0)
	if i >= len(record) || record[i] != '{' {
		end, err := scanValue(record, i, 0)
		if err == nil && skipSpace(record, end) != len(record) {
			err = errUnexpectTail
		}
		if err != nil {
			return dst, nil, fmt.Errorf("%w: %v at offset %d", ErrInvalidJSON, err, end)
		}
		return dst, nil, fmt.Errorf("record: %w", ErrNotObject)
	}
	end, err := t.scanRecord(t.schema.plan, record, i, 1, true)
	if err == nil && skipSpace(record, end) != len(record) {
		err = errUnexpectTail
	}
	if err != nil {
		return dst, nil, fmt.Errorf("%w: %v at offset %d", ErrInvalidJSON, err, end)
	}
	t.ok = true
	start := len(dst)
	out, err := t.emitRecord(dst, t.schema.plan, derived)
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
// string (the first member of that name counts). It reads what Transcode
// already scanned, so a caller that needs one member of each record (a
// finding's state) pays no second parse. The bytes are valid until the next
// Transcode.
func (t *Transcoder) Field(name string) []byte {
	if !t.ok {
		return nil
	}
	for _, m := range t.members {
		key := t.record[m.keyStart:m.keyEnd]
		if bytes.IndexByte(key, '\\') >= 0 {
			t.name = unescape(t.name[:0], key)
			key = t.name
		}
		if string(key) != name {
			continue
		}
		v := t.record[m.valStart:m.valEnd]
		if typeOf(v) != jsonString {
			return nil
		}
		t.field = unescape(t.field[:0], v[1:len(v)-1])
		return t.field
	}
	return nil
}

// memberSeen is a member name met at some position of a record, with where it
// goes. name is the plan's own string, so remembering costs no allocation;
// names the plan does not know are not remembered.
type memberSeen struct {
	name string
	ref  memberRef
}

// maxOrder bounds the member positions remembered per record plan.
const maxOrder = 256

// member finds where the member name met at position i of a record goes.
func (t *Transcoder) member(rp *recordPlan, i int, name []byte) (memberRef, bool) {
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

// scanRecord reads the members of the JSON object starting at s[at], whose
// nesting is depth (1 for the record itself): the values of named members to
// their field's slot, the rest, as JSON, to extra. It checks the whole object
// as a parser would, so malformed JSON anywhere in a record is reported before
// anything else is; the value of a field whose record type nothing else uses is
// read right away (eager), so its text is scanned once. It returns where the
// object ends. An error in a member that goes to extra is kept for emitRecord
// to return, when the record is written.
func (t *Transcoder) scanRecord(rp *recordPlan, s []byte, at, depth int, root bool) (int, error) {
	if depth > maxDepth {
		return at, errDepth
	}
	slots, ranks, pre := t.slots[rp.id], t.ranks[rp.id], t.pre[rp.id]
	clear(slots)
	t.src[rp.id] = s
	extra := t.extras[rp.id][:0]

	var err error
	it := objectIter{s: s, i: at + 1, depth: depth}
	for pos := 0; ; pos++ {
		ks, ke, more := it.key()
		if !more {
			break
		}
		vs := it.i
		if err != nil { // the rest of the record is still checked
			end, serr := scanValue(s, vs, depth)
			if !it.valueEnd(end, serr) {
				break
			}
			if root {
				t.members = append(t.members, member{ks, ke, vs, end})
			}
			continue
		}
		key := s[ks:ke]
		if it.escaped {
			t.name = unescape(t.name[:0], key)
			key = t.name
		}
		ref, ok := t.member(rp, pos, key)
		field := -1
		if ok {
			cur := slots[ref.field]
			switch {
			case cur.end == 0:
				field = ref.field
			case ref.rank < ranks[ref.field]: // a preferred name: the other one moves to extra
				old := rp.fields[ref.field].jsonKeys[ranks[ref.field]]
				extra, err = t.appendMember(extra, unsafeBytes(old), s[cur.start:cur.end])
				field = ref.field
			}
			// Otherwise a duplicate or less preferred name: keep it in extra.
		}
		var end int
		var serr error
		var eager bool
		switch {
		case field < 0 || vs >= len(s):
			end, serr = scanValue(s, vs, depth)
		case s[vs] == '{' && t.eager[rp.id][field]:
			eager = true
			end, serr = t.scanRecord(rp.fields[field].typ.record, s, vs, depth+1, false)
		case s[vs] == '[' && rp.fields[field].typ.kind == kindArray:
			eager = true
			end, serr = t.scanItems(rp, field, s, vs, depth+1)
		default:
			end, serr = scanValue(s, vs, depth)
		}
		if !it.valueEnd(end, serr) {
			break
		}
		if root {
			t.members = append(t.members, member{ks, ke, vs, end})
		}
		if field >= 0 {
			slots[field], ranks[field], pre[field] = valueSpan{vs, end}, ref.rank, eager
			continue
		}
		if err == nil {
			extra, err = t.appendMember(extra, key, s[vs:end])
		}
	}
	if it.err != nil {
		return it.i, it.err
	}
	t.extras[rp.id] = extra
	t.memberErr[rp.id] = err
	return it.i, nil
}

// scanItems reads the items of the array starting at s[at], the value of
// field of rp, whose nesting is depth, into that field's list of item spans.
func (t *Transcoder) scanItems(rp *recordPlan, field int, s []byte, at, depth int) (int, error) {
	if depth > maxDepth {
		return at, errDepth
	}
	items := t.items[rp.id][field][:0]
	it := arrayIter{s: s, i: at + 1, depth: depth}
	for {
		start, end, more := it.next()
		if !more {
			break
		}
		items = append(items, valueSpan{start, end})
	}
	t.items[rp.id][field] = items
	return it.i, it.err
}

// emitRecord writes the fields of the record scanRecord last read for rp.
func (t *Transcoder) emitRecord(dst []byte, rp *recordPlan, derived map[string]string) ([]byte, error) {
	if err := t.memberErr[rp.id]; err != nil {
		return dst, err
	}
	s, slots, ranks, pre := t.src[rp.id], t.slots[rp.id], t.ranks[rp.id], t.pre[rp.id]
	extra := t.extras[rp.id]
	var err error
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
		sp := slots[i]
		if sp.end == 0 || typeOf(s[sp.start:sp.end]) == jsonNull {
			if !f.nullable {
				return dst, t.requiredError(f, "missing or null")
			}
			dst = append(dst, 0)
			continue
		}
		val := s[sp.start:sp.end]
		mark := len(dst)
		if f.nullable {
			dst = append(dst, 2)
		}
		var ok bool
		if pre[i] && f.typ.kind == kindArray {
			dst, ok, err = t.encodeItems(dst, f.typ.items, s, t.items[rp.id][i], derived)
		} else {
			dst, ok, err = t.encodeValue(dst, f.typ, val, pre[i], derived)
		}
		if err != nil {
			return dst, fmt.Errorf("%s: %w", f.name, err)
		}
		if !ok {
			if !f.nullable {
				return dst, t.requiredError(f, "not a "+kindName(f.typ))
			}
			dst = append(dst[:mark], 0)
			if extra, err = t.appendMember(extra, unsafeBytes(f.jsonKeys[ranks[i]]), val); err != nil {
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
func (t *Transcoder) requiredError(f *fieldPlan, why string) error {
	name := f.name
	if f.keyIndex >= 0 {
		name = t.schema.KeyFields[f.keyIndex]
	}
	return fmt.Errorf("%w: %s is %s", ErrKeyField, name, why)
}

func kindName(tp *typePlan) string {
	switch tp.kind {
	case kindString:
		return "string"
	case kindInt, kindLong:
		return "integer"
	case kindDouble:
		return "number"
	case kindBoolean:
		return "boolean"
	case kindTimestampMillis:
		return "timestamp"
	case kindArray:
		return "array"
	default:
		return "object"
	}
}

// stringValue returns the text of the JSON string val (a scanned span, quotes
// included) with its escapes decoded. The bytes are the record's own when
// there is no escape, otherwise the Transcoder's until the next call.
func (t *Transcoder) stringValue(val []byte) []byte {
	b := val[1 : len(val)-1]
	if !hasBackslash(b) {
		return b
	}
	t.str = unescape(t.str[:0], b)
	return t.str
}

// keyPart records the Kafka key text of a key field that was just written.
func (t *Transcoder) keyPart(f *fieldPlan, val []byte) error {
	p := t.keyParts[f.keyIndex][:0]
	switch f.typ.kind {
	case kindString:
		if typeOf(val) != jsonString { // a number written as its text
			p = append(p, val...)
			break
		}
		if s := t.stringValue(val); !utf8.Valid(s) { // as written in the record
			p = append(p, bytes.ToValidUTF8(s, []byte("\ufffd"))...)
		} else {
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

// encodeValue writes val, a scanned value other than null, as the type tp. ok
// is false when the value does not fit the type; dst may then hold a partial
// write, which the caller discards.
// pre says that val, if a record, was read by scanRecord already.
func (t *Transcoder) encodeValue(dst []byte, tp *typePlan, val []byte, pre bool, derived map[string]string) (out []byte, ok bool, err error) {
	switch tp.kind {
	case kindString:
		switch typeOf(val) {
		case jsonString:
			if b := val[1 : len(val)-1]; plainText(b) {
				dst = appendVarint(dst, int64(len(b)))
				return append(dst, b...), true, nil
			}
			return t.appendString(dst, t.stringValue(val)), true, nil
		case jsonNumber: // a number where text is expected: keep its literal
			if !validNumber(val) {
				return dst, false, fmt.Errorf("%w: number %q", ErrInvalidJSON, val)
			}
			dst = appendVarint(dst, int64(len(val)))
			return append(dst, val...), true, nil
		}
		return dst, false, nil
	case kindInt, kindLong:
		n, ok := t.integer(val)
		if !ok || (tp.kind == kindInt && (n < math.MinInt32 || n > math.MaxInt32)) {
			return dst, false, numberErr(val)
		}
		return appendVarint(dst, n), true, nil
	case kindDouble:
		f, ok := t.double(val)
		if !ok {
			return dst, false, numberErr(val)
		}
		return binary.LittleEndian.AppendUint64(dst, math.Float64bits(f)), true, nil
	case kindBoolean:
		switch typeOf(val) {
		case jsonTrue:
			return append(dst, 1), true, nil
		case jsonFalse:
			return append(dst, 0), true, nil
		case jsonString:
			switch string(t.stringValue(val)) {
			case "true":
				return append(dst, 1), true, nil
			case "false":
				return append(dst, 0), true, nil
			}
		}
		return dst, false, numberErr(val)
	case kindTimestampMillis:
		var ms int64
		switch typeOf(val) {
		case jsonString:
			ms, ok = parseTimestamp(t.stringValue(val))
		case jsonNumber:
			if !validNumber(val) {
				return dst, false, fmt.Errorf("%w: number %q", ErrInvalidJSON, val)
			}
			ms, ok = epochText(val)
		}
		if !ok {
			return dst, false, nil
		}
		return appendVarint(dst, ms), true, nil
	case kindArray:
		if typeOf(val) != jsonArray {
			return dst, false, numberErr(val)
		}
		// The items are written first and their count put before them once
		// known: counting first would scan the array twice.
		mark := len(dst)
		n := 0
		it := arrayIter{s: val, i: 1, depth: 1}
		for {
			start, end, more := it.next()
			if !more {
				break
			}
			if dst, ok, err = t.encodeValue(dst, tp.items, val[start:end], false, derived); !ok || err != nil {
				return dst, false, err
			}
			n++
		}
		if n > 0 {
			var buf [binary.MaxVarintLen64]byte
			count := appendVarint(buf[:0], int64(n))
			dst = append(dst, count...)
			copy(dst[mark+len(count):], dst[mark:len(dst)-len(count)])
			copy(dst[mark:], count)
		}
		return append(dst, 0), true, nil
	case kindRecord:
		if typeOf(val) != jsonObject {
			return dst, false, numberErr(val)
		}
		if !pre {
			// Well-formed: the whole record was checked.
			if _, err := t.scanRecord(tp.record, val, 0, 1, false); err != nil {
				return dst, false, fmt.Errorf("%w: %v", ErrInvalidJSON, err)
			}
		}
		dst, err = t.emitRecord(dst, tp.record, derived)
		return dst, err == nil, err
	}
	return dst, false, fmt.Errorf("unsupported kind %d", tp.kind)
}

// encodeItems writes an array whose items scanItems listed.
func (t *Transcoder) encodeItems(dst []byte, tp *typePlan, s []byte, items []valueSpan, derived map[string]string) (out []byte, ok bool, err error) {
	if len(items) > 0 {
		dst = appendVarint(dst, int64(len(items)))
		for _, sp := range items {
			if dst, ok, err = t.encodeValue(dst, tp, s[sp.start:sp.end], false, derived); !ok || err != nil {
				return dst, false, err
			}
		}
	}
	return append(dst, 0), true, nil
}

// numberErr returns an error when val is a malformed number that the scanner
// let through (NaN, 1.2.3, ...): such input is not JSON, so it cannot go to
// extra.
func numberErr(val []byte) error {
	if typeOf(val) != jsonNumber || validNumber(val) {
		return nil
	}
	return fmt.Errorf("%w: number %q", ErrInvalidJSON, val)
}

// number returns the text of val to read as a number: a number's literal or a
// string's content.
func (t *Transcoder) number(val []byte) ([]byte, bool) {
	switch typeOf(val) {
	case jsonNumber:
		return val, true
	case jsonString:
		return t.stringValue(val), true
	}
	return nil, false
}

// integer reads an integral number or numeric string: 42, 42.0, 4.2e1, "42".
func (t *Transcoder) integer(val []byte) (int64, bool) {
	s, ok := t.number(val)
	if !ok || !validNumber(s) {
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

// parseDecimalInt parses a plain decimal integer that fits int64.
func parseDecimalInt(s []byte) (int64, bool) {
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
	}
	if len(s) == 0 || len(s) > 18 { // 18 digits always fit; longer ones take the slow path
		return 0, false
	}
	var n int64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// double reads a finite number or numeric string.
func (t *Transcoder) double(val []byte) (float64, bool) {
	s, ok := t.number(val)
	if !ok || !validNumber(s) {
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
func (t *Transcoder) appendString(dst []byte, b []byte) []byte {
	if !utf8.Valid(b) {
		t.text = append(t.text[:0], bytes.ToValidUTF8(b, []byte("\ufffd"))...)
		b = t.text
	}
	dst = appendVarint(dst, int64(len(b)))
	return append(dst, b...)
}

// appendMember appends `"key":value` to an extra object under construction.
func (t *Transcoder) appendMember(extra []byte, key []byte, val []byte) ([]byte, error) {
	if len(extra) > 0 {
		extra = append(extra, ',')
	}
	extra = appendJSONString(extra, key)
	extra = append(extra, ':')
	return t.appendJSON(extra, val)
}

// appendJSON appends the scanned value v as compact, valid JSON: strings and
// names re-escaped, numbers checked.
func (t *Transcoder) appendJSON(dst []byte, v []byte) ([]byte, error) {
	switch typeOf(v) {
	case jsonString:
		t.scratch = unescape(t.scratch[:0], v[1:len(v)-1])
		return appendJSONString(dst, t.scratch), nil
	case jsonNumber:
		if !validNumber(v) {
			return append(dst, v...), fmt.Errorf("%w: number %q", ErrInvalidJSON, v)
		}
		return append(dst, v...), nil
	case jsonTrue:
		return append(dst, "true"...), nil
	case jsonFalse:
		return append(dst, "false"...), nil
	case jsonNull:
		return append(dst, "null"...), nil
	case jsonArray:
		dst = append(dst, '[')
		it := arrayIter{s: v, i: 1, depth: 1}
		for {
			start, end, more := it.next()
			if !more {
				break
			}
			if it.n > 1 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = t.appendJSON(dst, v[start:end]); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	default: // jsonObject
		dst = append(dst, '{')
		it := objectIter{s: v, i: 1, depth: 1}
		for {
			m, more := it.next()
			if !more {
				break
			}
			if it.n > 1 {
				dst = append(dst, ',')
			}
			t.scratch = unescape(t.scratch[:0], v[m.keyStart:m.keyEnd])
			dst = appendJSONString(dst, t.scratch)
			dst = append(dst, ':')
			var err error
			if dst, err = t.appendJSON(dst, v[m.valStart:m.valEnd]); err != nil {
				return dst, err
			}
		}
		return append(dst, '}'), nil
	}
}

// appendVarint writes n zig-zag encoded as a variable-length integer (Avro int
// and long).
func appendVarint(dst []byte, n int64) []byte {
	return binary.AppendUvarint(dst, uint64(n<<1)^uint64(n>>63))
}
