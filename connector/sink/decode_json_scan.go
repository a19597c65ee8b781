package sink

// The fast path of JSON inbound values: the form nearly every one takes,
// read in place.

import "unsafe"

// scanJSON fills c from value when value is in the form nearly every inbound
// JSON value takes: one object whose members are attributes of the import,
// each named once, without escapes, with null, a string, or (for a list
// attribute) an array of strings, strings of printable ASCII without escapes,
// white space anywhere JSON allows it. Strings are not copied: they alias
// value, for the time of the decode.
//
// It returns false at the first thing outside that form, and at the first
// problem with a value; c is then to be reset and the value decoded by the
// JSON decoder, which settles everything else (escapes, other characters,
// unknown attributes, invalid JSON) and words every reason. Whatever it
// accepts, the JSON decoder reads to the same attributes, in the same calls
// of setString and setList: the asset and its reasons are the same either way.
func (c *inboundCollector) scanJSON(value []byte) bool {
	i := skipJSONSpace(value, 0)
	if i == len(value) || value[i] != '{' {
		return false
	}
	i = skipJSONSpace(value, i+1)
	if i == len(value) {
		return false
	}
	var named uint64 // attributes seen, to refuse a name given twice as the decoder does
	if value[i] == '}' {
		return skipJSONSpace(value, i+1) == len(value)
	}
	for {
		name, next, ok := scanJSONString(value, i)
		if !ok {
			return false
		}
		attr, known := inboundAttrIndex[name]
		if !known || named&(1<<attr) != 0 {
			return false
		}
		named |= 1 << attr
		if i = skipJSONSpace(value, next); i == len(value) || value[i] != ':' {
			return false
		}
		if i = skipJSONSpace(value, i+1); i == len(value) {
			return false
		}
		rule := &inboundAttrs[attr]
		switch {
		case value[i] == 'n':
			if len(value)-i < 4 || string(value[i:i+4]) != "null" {
				return false
			}
			i += 4 // null: the attribute is absent
		case value[i] == '"' && !rule.list:
			s, next, ok := scanJSONString(value, i)
			if !ok {
				return false
			}
			c.setString(attr, s)
			i = next
		case value[i] == '[' && rule.list:
			items := c.items[:0]
			if i = skipJSONSpace(value, i+1); i == len(value) {
				return false
			}
			if value[i] != ']' {
				for {
					s, next, ok := scanJSONString(value, i)
					if !ok {
						return false
					}
					items = append(items, s)
					if i = skipJSONSpace(value, next); i == len(value) {
						return false
					}
					if value[i] == ']' {
						break
					}
					if value[i] != ',' {
						return false
					}
					i = skipJSONSpace(value, i+1)
				}
			}
			i++ // the ']'
			c.items = items
			c.setList(attr, items)
		default:
			return false
		}
		if c.problem != "" {
			return false
		}
		if i = skipJSONSpace(value, i); i == len(value) {
			return false
		}
		switch value[i] {
		case ',':
			i = skipJSONSpace(value, i+1)
		case '}':
			return skipJSONSpace(value, i+1) == len(value)
		default:
			return false
		}
	}
}

// scanJSONString reads the string that starts at value[i] when it holds only
// printable ASCII other than '"' and '\\' (nothing to unescape or check),
// and returns it, aliasing value, with the index just past it.
func scanJSONString(value []byte, i int) (s string, next int, ok bool) {
	if i >= len(value) || value[i] != '"' {
		return "", 0, false
	}
	start := i + 1
	j := start + jsonPlainPrefix(value[start:])
	switch {
	case j == len(value) || value[j] != '"':
		return "", 0, false // an escape, another character, or the end
	case j == start:
		return "", j + 1, true
	}
	return unsafe.String(&value[start], j-start), j + 1, true
}

// skipJSONSpace returns the index of the first byte at or after i that is not
// JSON white space.
func skipJSONSpace(value []byte, i int) int {
	for i < len(value) {
		switch value[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}
