package tenablesim

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// Hand-written JSON appenders. Chunks are rendered by appending pre-rendered
// fragments and a few scalars to a reused buffer: no reflection, no maps, and a
// fixed key order, so the same tenant renders byte for byte the same.

const hexDigits = "0123456789abcdef"

// safeJSON[b] is true for ASCII bytes that need no escaping inside a JSON string.
var safeJSON = func() (t [utf8.RuneSelf]bool) {
	for i := 0x20; i < utf8.RuneSelf; i++ {
		t[i] = i != '"' && i != '\\'
	}
	return t
}()

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendEscaped(b, s)
	return append(b, '"')
}

// appendEscaped appends the JSON-escaped form of s without the quotes.
func appendEscaped(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if safeJSON[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(b, s[start:]...)
}

// appendKey appends `"key":` (key must need no escaping) after a comma unless
// the object was just opened.
func appendKey(b []byte, key string) []byte {
	if n := len(b); n > 0 && b[n-1] != '{' && b[n-1] != '[' {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, key...)
	return append(b, '"', ':')
}

func appendStrField(b []byte, key, v string) []byte {
	return appendString(appendKey(b, key), v)
}

// appendOptStr appends the field only when v is not empty.
func appendOptStr(b []byte, key, v string) []byte {
	if v == "" {
		return b
	}
	return appendStrField(b, key, v)
}

// appendNullStr appends the field, as null when v is empty.
func appendNullStr(b []byte, key, v string) []byte {
	b = appendKey(b, key)
	if v == "" {
		return append(b, "null"...)
	}
	return appendString(b, v)
}

func appendIntField(b []byte, key string, v int64) []byte {
	return strconv.AppendInt(appendKey(b, key), v, 10)
}

func appendBoolField(b []byte, key string, v bool) []byte {
	return strconv.AppendBool(appendKey(b, key), v)
}

// appendFloat appends a score the way Tenable writes them: 7.5, 10, 0.
func appendFloat(b []byte, v float64) []byte {
	return strconv.AppendFloat(b, v, 'f', -1, 64)
}

func appendFloatField(b []byte, key string, v float64) []byte {
	return appendFloat(appendKey(b, key), v)
}

func appendStrArray(b []byte, vs []string) []byte {
	b = append(b, '[')
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, v)
	}
	return append(b, ']')
}

func appendStrArrayField(b []byte, key string, vs []string) []byte {
	return appendStrArray(appendKey(b, key), vs)
}

// appendOptStrArray appends the field only when vs is not empty.
func appendOptStrArray(b []byte, key string, vs []string) []byte {
	if len(vs) == 0 {
		return b
	}
	return appendStrArrayField(b, key, vs)
}

// appendTime appends ms (Unix milliseconds) as a quoted ISO-8601 UTC time with
// milliseconds, e.g. "2026-01-04T13:10:02.417Z".
func appendTime(b []byte, ms int64) []byte {
	b = append(b, '"')
	b = appendTimeRaw(b, ms)
	return append(b, '"')
}

// appendTimeRaw appends the ISO form of ms without quotes.
func appendTimeRaw(b []byte, ms int64) []byte {
	secs := ms / 1000
	milli := ms % 1000
	if milli < 0 {
		milli += 1000
		secs--
	}
	days := secs / 86400
	rem := secs % 86400
	if rem < 0 {
		rem += 86400
		days--
	}
	y, m, d := civil(days)
	b = append4(b, y)
	b = append(b, '-')
	b = append2(b, m)
	b = append(b, '-')
	b = append2(b, d)
	b = append(b, 'T')
	b = append2(b, int(rem/3600))
	b = append(b, ':')
	b = append2(b, int(rem%3600/60))
	b = append(b, ':')
	b = append2(b, int(rem%60))
	b = append(b, '.')
	b = append(b, byte('0'+milli/100), byte('0'+milli/10%10), byte('0'+milli%10))
	return append(b, 'Z')
}

// civil converts days since 1970-01-01 to a proleptic Gregorian date
// (Howard Hinnant's days_from_civil inverse).
func civil(z int64) (year, month, day int) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return int(y), int(m), int(d)
}

func append2(b []byte, v int) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }
func append4(b []byte, v int) []byte {
	return append(b, byte('0'+v/1000), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
}

func appendTimeField(b []byte, key string, ms int64) []byte {
	return appendTime(appendKey(b, key), ms)
}

// appendOptTime appends the field only when ms is set (non-zero).
func appendOptTime(b []byte, key string, ms int64) []byte {
	if ms == 0 {
		return b
	}
	return appendTimeField(b, key, ms)
}

// appendNullTime appends the field, as null when ms is zero.
func appendNullTime(b []byte, key string, ms int64) []byte {
	if ms == 0 {
		return append(appendKey(b, key), "null"...)
	}
	return appendTimeField(b, key, ms)
}

// appendDate appends ms as a Tenable date-only time "2022-01-11T00:00:00Z".
func appendDateField(b []byte, key string, ms int64) []byte {
	b = appendKey(b, key)
	b = append(b, '"')
	t := time.UnixMilli(ms).UTC()
	b = t.AppendFormat(b, "2006-01-02T00:00:00Z")
	return append(b, '"')
}

func isoMillis(ms int64) string { return string(appendTimeRaw(nil, ms)) }
