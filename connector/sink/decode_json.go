package sink

// Decoding JSON inbound values: one object of import attributes.

import (
	"bytes"
	"io"
	"sync"

	"github.com/go-json-experiment/json/jsontext"
)

// decodeInboundJSON decodes a value that is not Avro: a JSON object in the
// shape of one import asset. The asset's JSON is written as
// inboundCollector.finish says for out.
func decodeInboundJSON(value []byte, out *[]byte) (Asset, error) {
	p := inboundJSONPool.Get().(*inboundJSONState)
	defer inboundJSONPool.Put(p)
	p.c.reset()
	// Its strings alias value: drop them before the state goes back to the pool.
	defer p.c.reset()
	if p.c.scanJSON(value) {
		return p.c.finish(out)
	}
	// Anything else, valid or not, is the JSON decoder's.
	p.c.reset()
	return p.decode(value, out)
}

// decode decodes value with the JSON decoder, into a reset collector.
func (p *inboundJSONState) decode(value []byte, out *[]byte) (Asset, error) {
	p.rd.Reset(value)
	p.dec.Reset(&p.rd)
	defer p.dec.Reset(&p.empty) // drop the reference to value

	dec, c := p.dec, &p.c
	tok, err := dec.ReadToken()
	if err != nil {
		return Asset{}, inboundNotJSON(value, false, err)
	}
	if tok.Kind() != '{' {
		return Asset{}, inboundInvalidf("the value is a JSON %s, not an object", inboundJSONKindName(tok.Kind()))
	}
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			return Asset{}, inboundNotJSON(value, true, err)
		}
		name := tok.String()
		i, ok := inboundAttrIndex[name]
		if !ok || c.problem != "" {
			if !ok {
				c.unknown = append(c.unknown, name)
			}
			if err := dec.SkipValue(); err != nil {
				return Asset{}, inboundNotJSON(value, true, err)
			}
			continue
		}
		if err := c.jsonValue(dec, i); err != nil {
			return Asset{}, inboundNotJSON(value, true, err)
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return Asset{}, inboundNotJSON(value, true, err)
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		if err == nil {
			return Asset{}, inboundInvalidf("the value holds more than one JSON value")
		}
		return Asset{}, inboundNotJSON(value, true, err)
	}
	return c.finish(out)
}

// jsonValue reads the value of attribute i. It returns only syntax errors;
// problems with the value are recorded in c.
func (c *inboundCollector) jsonValue(dec *jsontext.Decoder, i int) error {
	rule := &inboundAttrs[i]
	switch kind := dec.PeekKind(); {
	case kind == 'n':
		_, err := dec.ReadToken() // null: the attribute is absent
		return err
	case kind == '"' && !rule.list:
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		c.setString(i, tok.String())
		return nil
	case kind == '[' && rule.list:
		if _, err := dec.ReadToken(); err != nil {
			return err
		}
		items := c.items[:0]
		for n := 1; dec.PeekKind() != ']'; n++ {
			if dec.PeekKind() != '"' {
				v, err := dec.ReadValue()
				if err != nil {
					return err
				}
				if c.problem == "" {
					c.problemf("attribute %q: item %d is %s, expected a string", rule.name, n, inboundDescribeJSON(v))
				}
				continue
			}
			tok, err := dec.ReadToken()
			if err != nil {
				return err
			}
			items = append(items, tok.String())
		}
		if _, err := dec.ReadToken(); err != nil {
			return err
		}
		c.items = items
		if c.problem == "" {
			c.setList(i, items)
		}
		return nil
	default:
		v, err := dec.ReadValue()
		if err != nil {
			return err
		}
		c.problemf("attribute %q: expected %s, got %s", rule.name, rule.typeName(), inboundDescribeJSON(v))
		return nil
	}
}

// inboundJSONState is the reusable state of one JSON decode.
type inboundJSONState struct {
	rd, empty bytes.Reader
	dec       *jsontext.Decoder
	c         inboundCollector
}

var inboundJSONPool = sync.Pool{New: func() any {
	p := &inboundJSONState{}
	p.dec = jsontext.NewDecoder(&p.empty)
	return p
}}
