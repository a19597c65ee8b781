package sink

// Decoding Avro inbound values (single-object or Confluent-framed) of a
// version of the inbound_asset schema.

import (
	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// decode decodes one Avro body of this schema version and validates it.
// The asset's JSON is written as inboundCollector.finish says for out.
func (in *inboundAvroSchema) decode(body []byte, out *[]byte) (Asset, error) {
	// goavro allocates an array's block count before it reads the items, so a
	// few crafted bytes could ask for gigabytes; the guard checks every length
	// against the bytes left first.
	if err := in.guard.Check(body); err != nil {
		return Asset{}, inboundInvalidf("the Avro value does not decode with inbound asset schema v%d: %v", in.schema.Version, err)
	}
	native, rest, err := in.schema.Codec.NativeFromBinary(body)
	if err != nil {
		return Asset{}, inboundInvalidf("the Avro value does not decode with inbound asset schema v%d: %v", in.schema.Version, err)
	}
	if len(rest) > 0 {
		return Asset{}, inboundInvalidf("the Avro value has %d bytes after the inbound asset record", len(rest))
	}
	record, ok := native.(map[string]any)
	if !ok {
		return Asset{}, inboundInvalidf("the Avro value is not a record")
	}
	var c inboundCollector
	c.reset()
	for i := range inboundAttrs {
		if v, ok := record[inboundAttrs[i].name]; ok {
			c.avroValue(i, v)
		}
	}
	c.extra(record["extra"])
	for name, v := range record {
		if _, known := inboundAttrIndex[name]; !known && name != "extra" && v != nil {
			c.unknown = append(c.unknown, name) // a field of a later schema version this build does not map
		}
	}
	return c.finish(out)
}

// avroValue takes the goavro native value of one attribute field: nil, or a
// union value {"array": []any{string...}} or {"string": string}.
func (c *inboundCollector) avroValue(i int, v any) {
	if v == nil {
		return
	}
	rule := &inboundAttrs[i]
	if u, ok := v.(map[string]any); ok && len(u) == 1 {
		for _, inner := range u {
			v = inner
		}
	}
	switch x := v.(type) {
	case string:
		if !rule.list {
			c.setString(i, x)
			return
		}
	case []any:
		if rule.list {
			items := c.items[:0]
			for n, item := range x {
				s, ok := item.(string)
				if !ok {
					c.problemf("attribute %q: item %d is %T, expected a string", rule.name, n+1, item)
					return
				}
				items = append(items, s)
			}
			c.items = items
			c.setList(i, items)
			return
		}
	}
	c.problemf("attribute %q: the Avro value is %T, expected %s", rule.name, v, rule.typeName())
}

// extra takes the Avro extra field: the JSON text of an object with members the
// schema does not name. Its members are refused like unknown attributes.
func (c *inboundCollector) extra(v any) {
	if u, ok := v.(map[string]any); ok && len(u) == 1 {
		v = u["string"]
	}
	if v == nil {
		return
	}
	text, ok := v.(string)
	if !ok {
		c.problemf("field \"extra\": the Avro value is %T, expected a string", v)
		return
	}
	var members map[string]jsontext.Value
	if err := json.Unmarshal([]byte(text), &members); err != nil || members == nil {
		c.problemf("field \"extra\": %s is not the JSON text of an object", inboundQuote(text))
		return
	}
	for name := range members {
		c.extraNames = append(c.extraNames, name)
	}
}
