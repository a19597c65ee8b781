package sink

// Collecting one asset's attributes, from Avro or JSON, and validating it.

import (
	"bytes"
	"fmt"
	"math/bits"
	"slices"
	"strconv"

	"github.com/go-json-experiment/json/jsontext"
)

// inboundCollector gathers the attributes of one inbound value, keeping the
// first problem and every unknown attribute, and writes the import asset's
// JSON. Attribute i's value is strs[i] (a string attribute; "" is absent) or
// lists[i] (a list; empty is absent); their buffers are reused from value to
// value.
type inboundCollector struct {
	strs       []string
	lists      [][]string
	unknown    []string // attributes not in the import schema
	extraNames []string // members of the Avro extra field
	problem    string   // the first problem found
	items      []string // scratch for list values
	seen       map[string]struct{}
	out        []byte // scratch for the JSON
	// set has bit i when attribute i has a value, so that reset, finish and
	// appendJSON visit only those (a few of the 42).
	set uint64
}

func (c *inboundCollector) reset() {
	if c.strs == nil {
		c.strs = make([]string, len(inboundAttrs))
		c.lists = make([][]string, len(inboundAttrs))
	}
	for m := c.set; m != 0; m &= m - 1 {
		i := bits.TrailingZeros64(m)
		c.strs[i] = ""
		clear(c.lists[i]) // drop the references to the last value's strings
		c.lists[i] = c.lists[i][:0]
	}
	c.set = 0
	c.unknown = c.unknown[:0]
	c.extraNames = c.extraNames[:0]
	c.problem = ""
	c.items = c.items[:0]
}

func (c *inboundCollector) problemf(format string, args ...any) {
	if c.problem == "" {
		c.problem = fmt.Sprintf(format, args...)
	}
}

// setString validates and sets a string attribute; "" means absent.
func (c *inboundCollector) setString(i int, s string) {
	if s == "" {
		return
	}
	rule := &inboundAttrs[i]
	if p := attrCheckText(s); p != "" {
		c.problemf("attribute %q: %s %s", rule.name, inboundQuote(s), p)
		return
	}
	if rule.check != nil {
		n, p := rule.check(s)
		if p != "" {
			c.problemf("attribute %q: %s %s", rule.name, inboundQuote(s), p)
			return
		}
		s = n
	}
	c.strs[i] = s
	if s != "" {
		c.set |= 1 << i
	}
}

// setList validates, normalizes and sets a list attribute, dropping duplicates
// (after normalization) and keeping the first occurrence; an empty list means
// absent.
func (c *inboundCollector) setList(i int, items []string) {
	if len(items) == 0 {
		return
	}
	rule := &inboundAttrs[i]
	out := c.lists[i][:0]
	const linearDedup = 16 // below this, a scan beats a map
	if len(items) > linearDedup {
		if c.seen == nil {
			c.seen = make(map[string]struct{})
		}
		clear(c.seen)
	}
	for n, s := range items {
		if s == "" {
			c.problemf("attribute %q: item %d is empty", rule.name, n+1)
			return
		}
		if p := attrCheckText(s); p != "" {
			c.problemf("attribute %q: %s %s", rule.name, inboundQuote(s), p)
			return
		}
		if rule.check != nil {
			norm, p := rule.check(s)
			if p != "" {
				c.problemf("attribute %q: %s %s", rule.name, inboundQuote(s), p)
				return
			}
			s = norm
		}
		if len(items) > linearDedup {
			if _, dup := c.seen[s]; dup {
				continue
			}
			c.seen[s] = struct{}{}
		} else if slices.Contains(out, s) {
			continue
		}
		out = append(out, s)
	}
	if rule.maxItems > 0 && len(out) > rule.maxItems {
		c.problemf("attribute %q: %d distinct items, more than the %d the import accepts", rule.name, len(out), rule.maxItems)
		return
	}
	c.lists[i] = out
	if len(out) > 0 {
		c.set |= 1 << i
	}
}

// finish applies the rules across attributes and encodes the asset. With out
// nil, the asset's JSON is its own; otherwise it is written over *out, which
// keeps the buffer, and is valid until the next decode into it.
func (c *inboundCollector) finish(out *[]byte) (Asset, error) {
	if len(c.unknown) > 0 {
		return Asset{}, &InvalidError{Reason: inboundUnknownReason(c.unknown, "")}
	}
	if len(c.extraNames) > 0 {
		return Asset{}, &InvalidError{Reason: inboundUnknownReason(c.extraNames, `in field "extra"`)}
	}
	if c.problem != "" {
		return Asset{}, &InvalidError{Reason: c.problem}
	}
	cloud, cloudAttr := CloudNone, ""
	identified := false
	for m := c.set; m != 0; m &= m - 1 {
		rule := &inboundAttrs[bits.TrailingZeros64(m)]
		identified = identified || rule.identifies
		if rule.cloud == CloudNone {
			continue
		}
		if cloud != CloudNone && rule.cloud != cloud {
			return Asset{}, inboundInvalidf("attributes %q (%s) and %q (%s) are of two cloud providers; AWS, Azure and GCP data must be imported separately",
				cloudAttr, cloud, rule.name, rule.cloud)
		}
		if cloud == CloudNone {
			cloud, cloudAttr = rule.cloud, rule.name
		}
	}
	if !identified {
		return Asset{}, inboundInvalidf(`the asset has none of the attributes "fqdn", "ipv4", "netbios_name" and "mac_address" (non-empty); Tenable needs at least one`)
	}
	if out != nil {
		js, err := c.appendJSON((*out)[:0])
		if err != nil {
			return Asset{}, fmt.Errorf("encode import asset: %w", err)
		}
		*out = js
		return Asset{JSON: js, Cloud: cloud}, nil
	}
	js, err := c.appendJSON(c.out[:0])
	c.out = js
	if err != nil {
		return Asset{}, fmt.Errorf("encode import asset: %w", err)
	}
	return Asset{JSON: bytes.Clone(js), Cloud: cloud}, nil
}

// appendJSON writes the attributes as the JSON object of a
// tenable.ImportAsset would be marshalled: in field order, absent ones left
// out. Writing it directly spares a struct filled by reflection and its
// marshalling, most of the cost of a record.
func (c *inboundCollector) appendJSON(b []byte) ([]byte, error) {
	var err error
	b = append(b, '{')
	first := true
	for m := c.set; m != 0; m &= m - 1 { // ascending: field order
		i := bits.TrailingZeros64(m)
		s, list := c.strs[i], c.lists[i]
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, inboundAttrKeys[i]...)
		if !inboundAttrs[i].list {
			if b, err = appendJSONString(b, s); err != nil {
				return nil, err
			}
			continue
		}
		b = append(b, '[')
		for n, item := range list {
			if n > 0 {
				b = append(b, ',')
			}
			if b, err = appendJSONString(b, item); err != nil {
				return nil, err
			}
		}
		b = append(b, ']')
	}
	return append(b, '}'), nil
}

// inboundAttrKeys are the attributes' quoted names and colons.
var inboundAttrKeys = func() [][]byte {
	keys := make([][]byte, len(inboundAttrs))
	for i, r := range inboundAttrs {
		keys[i] = append(strconv.AppendQuote(nil, r.name), ':')
	}
	return keys
}()

// appendJSONString quotes s as jsontext.AppendQuote does; printable ASCII
// without quotes or backslashes, nearly every value, is copied as it is.
func appendJSONString(b []byte, s string) ([]byte, error) {
	if jsonPlainPrefix(s) != len(s) {
		return jsontext.AppendQuote(b, s)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"'), nil
}
