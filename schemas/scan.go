package schemas

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strconv"
	"unicode/utf16"
)

// The scanner reads a record's JSON text in place: it finds where each value
// starts and ends without building a tree, and the transcoder decodes a value
// from its bytes only when it writes it. It accepts exactly what valyala/fastjson
// accepted when the transcoder parsed with it (so a record is refused or taken
// as before): numbers are any run of [0-9.eE+-] or NaN/Inf (validNumber checks
// them where they are used), strings end at the first unescaped quote and their
// escapes are decoded on a best-effort basis, nesting is limited to maxDepth.

// maxDepth bounds the nesting of a record, as fastjson's MaxDepth did.
const maxDepth = 300

var (
	errEmpty        = errors.New("cannot parse empty string")
	errDepth        = errors.New("too big depth for the nested JSON; it exceeds 300")
	errValue        = errors.New("unexpected value")
	errNumber       = errors.New("cannot parse number")
	errNoQuote      = errors.New(`missing closing '"'`)
	errArrayEnd     = errors.New("missing ']' or ',' in array")
	errObjectEnd    = errors.New("missing '}' or ',' in object")
	errObjectKey    = errors.New(`cannot find opening '"' for object key`)
	errObjectColon  = errors.New("missing ':' after object key")
	errUnexpectTail = errors.New("unexpected tail")
)

// shortString is the length up to which a byte loop finds a string's end or
// escapes faster than IndexByte.
const shortString = 32

// hasBackslash reports whether b holds a backslash.
func hasBackslash(b []byte) bool {
	if len(b) > shortString {
		return bytes.IndexByte(b, '\\') >= 0
	}
	for _, c := range b {
		if c == '\\' {
			return true
		}
	}
	return false
}

// plainText reports whether b is ASCII without a backslash: text to copy as it
// is, with no escape to decode and no UTF-8 to check. It reads eight bytes at a
// time.
func plainText(b []byte) bool {
	const ones, highs, backslashes = 0x0101010101010101, 0x8080808080808080, 0x5c5c5c5c5c5c5c5c
	for len(b) >= 8 {
		x := binary.LittleEndian.Uint64(b)
		y := x ^ backslashes // a zero byte where b has a backslash
		if (x|(y-ones)&^y)&highs != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c >= 0x80 || c == '\\' {
			return false
		}
	}
	return true
}

// skipSpace returns the index of the first byte at or after i that is not JSON
// white space.
func skipSpace(s []byte, i int) int {
	for i < len(s) && s[i] <= ' ' && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r') {
		i++
	}
	return i
}

// scanValue checks the value starting at s[i] (no white space before it) and
// returns the index just past it. depth is the nesting of the enclosing value
// (0 for a record).
func scanValue(s []byte, i, depth int) (int, error) {
	if i >= len(s) {
		return i, errEmpty
	}
	depth++
	if depth > maxDepth {
		return i, errDepth
	}
	switch c := s[i]; c {
	case '{':
		return scanObject(s, i, depth)
	case '[':
		return scanArray(s, i, depth)
	case '"':
		_, end, err := scanString(s, i+1)
		return end, err
	case 't':
		return scanLiteral(s, i, "true")
	case 'f':
		return scanLiteral(s, i, "false")
	case 'n':
		if bytes.HasPrefix(s[i:], []byte("null")) {
			return i + 4, nil
		}
		if len(s)-i >= 3 && bytes.EqualFold(s[i:i+3], []byte("nan")) {
			return i + 3, nil
		}
		return i, errValue
	}
	return scanNumber(s, i)
}

func scanLiteral(s []byte, i int, lit string) (int, error) {
	if !bytes.HasPrefix(s[i:], unsafeBytes(lit)) {
		return i, errValue
	}
	return i + len(lit), nil
}

// scanNumber finds the end of a number as fastjson's parseRawNumber did.
func scanNumber(s []byte, i int) (int, error) {
	start := i
	for ; i < len(s); i++ {
		ch := s[i]
		if (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == 'e' || ch == 'E' || ch == '+' {
			continue
		}
		if i == start || i == start+1 && (s[start] == '-' || s[start] == '+') {
			if len(s)-i >= 3 {
				xs := s[i : i+3]
				if bytes.EqualFold(xs, []byte("inf")) || bytes.EqualFold(xs, []byte("nan")) {
					return i + 3, nil
				}
			}
			return start, errNumber
		}
		return i, nil
	}
	return i, nil
}

// scanString finds the closing quote of a string whose text starts at s[i]:
// the first quote not escaped by an odd number of backslashes. It returns the
// index of that quote and the index past it.
func scanString(s []byte, i int) (quote, end int, err error) {
	// Most strings are short (names, UUIDs, dates): a plain loop beats
	// IndexByte's call until the first backslash, if any.
	for j, lim := i, min(len(s), i+shortString); j < lim; j++ {
		if c := s[j]; c == '"' {
			return j, j + 1, nil
		} else if c == '\\' {
			break
		}
	}
	for {
		n := bytes.IndexByte(s[i:], '"')
		if n < 0 {
			return len(s), len(s), errNoQuote
		}
		q := i + n
		b := q
		for b > i && s[b-1] == '\\' {
			b--
		}
		if (q-b)%2 == 0 {
			return q, q + 1, nil
		}
		i = q + 1
	}
}

func scanArray(s []byte, i, depth int) (int, error) {
	i = skipSpace(s, i+1)
	if i >= len(s) {
		return i, errArrayEnd
	}
	if s[i] == ']' {
		return i + 1, nil
	}
	for {
		var err error
		i = skipSpace(s, i)
		if i, err = scanValue(s, i, depth); err != nil {
			return i, err
		}
		i = skipSpace(s, i)
		if i >= len(s) {
			return i, errArrayEnd
		}
		switch s[i] {
		case ',':
			i++
		case ']':
			return i + 1, nil
		default:
			return i, errArrayEnd
		}
	}
}

func scanObject(s []byte, i, depth int) (int, error) {
	it := objectIter{s: s, i: i + 1, depth: depth}
	for {
		if _, ok := it.next(); !ok {
			return it.i, it.err
		}
	}
}

// member is one member of a JSON object: the raw text of its name (escapes
// not decoded) and the span of its value.
type member struct {
	keyStart, keyEnd int
	valStart, valEnd int
}

// objectIter walks the members of an object, checking each value.
type objectIter struct {
	s     []byte
	i     int // the next byte to read; past the object once done
	depth int // nesting of the object itself
	n     int // members returned so far
	err   error
	// escaped says whether the name key last read may hold escapes.
	escaped bool
}

// next returns the next member; ok is false at the end of the object or on an
// error (it.err).
func (it *objectIter) next() (m member, ok bool) {
	if m.keyStart, m.keyEnd, ok = it.key(); !ok {
		return m, false
	}
	m.valStart = it.i
	end, err := scanValue(it.s, it.i, it.depth)
	if !it.valueEnd(end, err) {
		return m, false
	}
	m.valEnd = end
	return m, true
}

// key reads the name of the next member and the ':' after it, leaving it.i at
// the start of the value, which the caller then scans and reports with
// valueEnd. ok is false at the end of the object or on an error (it.err).
func (it *objectIter) key() (keyStart, keyEnd int, ok bool) {
	s := it.s
	i := skipSpace(s, it.i)
	if it.n == 0 {
		if i >= len(s) {
			return 0, 0, it.fail(i, errObjectEnd)
		}
		if s[i] == '}' {
			it.i = i + 1
			return 0, 0, false
		}
	} else {
		if i >= len(s) {
			return 0, 0, it.fail(i, errObjectEnd)
		}
		switch s[i] {
		case ',':
			i = skipSpace(s, i+1)
		case '}':
			it.i = i + 1
			return 0, 0, false
		default:
			return 0, 0, it.fail(i, errObjectEnd)
		}
	}
	if i >= len(s) || s[i] != '"' {
		return 0, 0, it.fail(i, errObjectKey)
	}
	keyStart = i + 1
	it.escaped = false
	// Names are short and seldom escaped: a plain loop beats IndexByte.
	for i = keyStart; i < len(s) && s[i] != '"' && s[i] != '\\'; i++ {
	}
	if i < len(s) && s[i] == '"' {
		keyEnd, i = i, i+1
	} else {
		it.escaped = true
		var err error
		if keyEnd, i, err = scanString(s, keyStart); err != nil {
			return 0, 0, it.fail(i, err)
		}
	}
	i = skipSpace(s, i)
	if i >= len(s) || s[i] != ':' {
		return 0, 0, it.fail(i, errObjectColon)
	}
	it.i = skipSpace(s, i+1)
	return keyStart, keyEnd, true
}

// valueEnd records where the value of the member whose name key just read
// ends, or the error met scanning it.
func (it *objectIter) valueEnd(end int, err error) bool {
	if err != nil {
		return it.fail(end, err)
	}
	it.i = end
	it.n++
	return true
}

func (it *objectIter) fail(i int, err error) bool {
	it.i, it.err = i, err
	return false
}

// arrayIter walks the items of an array, checking each.
type arrayIter struct {
	s     []byte
	i     int
	depth int
	n     int
	err   error
}

// next returns the span of the next item.
func (it *arrayIter) next() (start, end int, ok bool) {
	s := it.s
	i := skipSpace(s, it.i)
	if i >= len(s) {
		it.i, it.err = i, errArrayEnd
		return 0, 0, false
	}
	if it.n == 0 {
		if s[i] == ']' {
			it.i = i + 1
			return 0, 0, false
		}
	} else {
		switch s[i] {
		case ',':
			i = skipSpace(s, i+1)
		case ']':
			it.i = i + 1
			return 0, 0, false
		default:
			it.i, it.err = i, errArrayEnd
			return 0, 0, false
		}
	}
	start = i
	end, err := scanValue(s, i, it.depth)
	if err != nil {
		it.i, it.err = end, err
		return 0, 0, false
	}
	it.i = end
	it.n++
	return start, end, true
}

// jsonType is the type of a scanned value, told by its first byte.
type jsonType uint8

const (
	jsonNumber jsonType = iota
	jsonString
	jsonObject
	jsonArray
	jsonTrue
	jsonFalse
	jsonNull
)

// typeOf returns the type of the scanned value v (its exact span).
func typeOf(v []byte) jsonType {
	switch v[0] {
	case '"':
		return jsonString
	case '{':
		return jsonObject
	case '[':
		return jsonArray
	case 't':
		return jsonTrue
	case 'f':
		return jsonFalse
	case 'n':
		if len(v) == 4 { // "null"; "nan" is a number
			return jsonNull
		}
	}
	return jsonNumber
}

// unescape appends the text of a JSON string (without its quotes) to dst with
// its escapes decoded on a best-effort basis, as fastjson did: an unknown or
// malformed escape is kept as written, a lone surrogate too.
func unescape(dst []byte, s []byte) []byte {
	n := bytes.IndexByte(s, '\\')
	if n < 0 {
		return append(dst, s...)
	}
	b := append(dst, s[:n]...)
	s = s[n+1:]
	for len(s) > 0 {
		ch := s[0]
		s = s[1:]
		switch ch {
		case '"':
			b = append(b, '"')
		case '\\':
			b = append(b, '\\')
		case '/':
			b = append(b, '/')
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			if len(s) < 4 {
				b = append(b, "\\u"...)
				break
			}
			xs := s[:4]
			x, err := strconv.ParseUint(unsafeString(xs), 16, 16)
			if err != nil {
				b = append(b, "\\u"...)
				break
			}
			s = s[4:]
			if !utf16.IsSurrogate(rune(x)) {
				b = append(b, string(rune(x))...)
				break
			}
			if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
				b = append(b, "\\u"...)
				b = append(b, xs...)
				break
			}
			x1, err := strconv.ParseUint(unsafeString(s[2:6]), 16, 16)
			if err != nil {
				b = append(b, "\\u"...)
				b = append(b, xs...)
				break
			}
			r := utf16.DecodeRune(rune(x), rune(x1))
			b = append(b, string(r)...)
			s = s[6:]
		default:
			b = append(b, '\\', ch)
		}
		n = bytes.IndexByte(s, '\\')
		if n < 0 {
			b = append(b, s...)
			break
		}
		b = append(b, s[:n]...)
		s = s[n+1:]
	}
	return b
}
