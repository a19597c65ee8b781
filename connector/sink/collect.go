package sink

// Collecting one asset's attributes, from Avro or JSON, and validating it.

import (
	"fmt"
	"reflect"
	"slices"

	"github.com/go-json-experiment/json"

	"github.com/tvmkafka/tvmkafka/connector/tenable"
)

// inboundCollector gathers the attributes of one inbound value into a
// tenable.ImportAsset, keeping the first problem and every unknown attribute.
type inboundCollector struct {
	asset      tenable.ImportAsset
	unknown    []string // attributes not in the import schema
	extraNames []string // members of the Avro extra field
	problem    string   // the first problem found
	items      []string // scratch for list values
	seen       map[string]struct{}
}

func (c *inboundCollector) reset() {
	c.asset = tenable.ImportAsset{}
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

func (c *inboundCollector) field(i int) reflect.Value {
	return reflect.ValueOf(&c.asset).Elem().Field(i)
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
	c.field(i).SetString(s)
}

// setList validates, normalizes and sets a list attribute, dropping duplicates
// (after normalization) and keeping the first occurrence; an empty list means
// absent.
func (c *inboundCollector) setList(i int, items []string) {
	if len(items) == 0 {
		return
	}
	rule := &inboundAttrs[i]
	out := make([]string, 0, len(items))
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
	c.field(i).Set(reflect.ValueOf(out))
}

// finish applies the rules across attributes and encodes the asset.
func (c *inboundCollector) finish() (Asset, error) {
	if len(c.unknown) > 0 {
		return Asset{}, &InvalidError{Reason: inboundUnknownReason(c.unknown, "")}
	}
	if len(c.extraNames) > 0 {
		return Asset{}, &InvalidError{Reason: inboundUnknownReason(c.extraNames, `in field "extra"`)}
	}
	if c.problem != "" {
		return Asset{}, &InvalidError{Reason: c.problem}
	}
	v := reflect.ValueOf(&c.asset).Elem()
	cloud, cloudAttr := CloudNone, ""
	identified := false
	for i := range inboundAttrs {
		rule := &inboundAttrs[i]
		if v.Field(i).IsZero() {
			continue
		}
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
	out, err := json.Marshal(&c.asset)
	if err != nil {
		return Asset{}, fmt.Errorf("encode import asset: %w", err)
	}
	return Asset{JSON: out, Cloud: cloud}, nil
}
