package schemas

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// AvroGuard checks an Avro binary body against the lengths, counts and union
// indexes of its schema before a decoder reads it. goavro allocates an array's
// block count before it reads the items, so a few crafted bytes could ask for
// gigabytes; the guard fails a body whose lengths and counts do not fit the
// bytes that are left, so decoding never allocates more than the value could
// hold. It does not decode: a body the guard passes may still be invalid.
//
// An AvroGuard is immutable and safe for concurrent use.
type AvroGuard struct{ root *avroGuardNode }

// NewAvroGuard compiles a schema in Parsing Canonical Form (Schema.Canonical).
func NewAvroGuard(canonical string) (*AvroGuard, error) {
	root, err := compileAvroGuard(canonical)
	if err != nil {
		return nil, fmt.Errorf("avro guard: %w", err)
	}
	return &AvroGuard{root: root}, nil
}

// Check walks body and fails when a length, count or union index does not fit
// the bytes that are left, or when values nest deeper than 64 levels. Bytes
// after the value are not its concern.
func (g *AvroGuard) Check(body []byte) error {
	_, err := g.root.walk(body, 0)
	return err
}

// avroGuardKind is an Avro type as the guard walks it.
type avroGuardKind uint8

const (
	avroGuardNull avroGuardKind = iota
	avroGuardBoolean
	avroGuardVarint // int, long, enum
	avroGuardFloat
	avroGuardDouble
	avroGuardBytes // bytes, string
	avroGuardFixed
	avroGuardArray
	avroGuardMap
	avroGuardRecord
	avroGuardUnion
)

// avroGuardNode is one type of a schema, compiled from its canonical form.
type avroGuardNode struct {
	kind     avroGuardKind
	size     int              // fixed: bytes; enum: symbols
	children []*avroGuardNode // record fields, union branches, array items or map values
}

// avroGuardMapKey is the type of map keys.
var avroGuardMapKey = &avroGuardNode{kind: avroGuardBytes}

// avroGuardMaxDepth bounds the nesting the guard walks.
const avroGuardMaxDepth = 64

// compileAvroGuard compiles a schema in Parsing Canonical Form.
func compileAvroGuard(canonical string) (*avroGuardNode, error) {
	var v any
	if err := json.Unmarshal([]byte(canonical), &v); err != nil {
		return nil, fmt.Errorf("parse canonical form: %w", err)
	}
	named := make(map[string]*avroGuardNode)
	return compileAvroGuardNode(v, named)
}

func compileAvroGuardNode(v any, named map[string]*avroGuardNode) (*avroGuardNode, error) {
	switch t := v.(type) {
	case string:
		switch t {
		case "null":
			return &avroGuardNode{kind: avroGuardNull}, nil
		case "boolean":
			return &avroGuardNode{kind: avroGuardBoolean}, nil
		case "int", "long":
			return &avroGuardNode{kind: avroGuardVarint}, nil
		case "float":
			return &avroGuardNode{kind: avroGuardFloat}, nil
		case "double":
			return &avroGuardNode{kind: avroGuardDouble}, nil
		case "bytes", "string":
			return &avroGuardNode{kind: avroGuardBytes}, nil
		}
		if n, ok := named[t]; ok {
			return n, nil
		}
		return nil, fmt.Errorf("unknown type %q", t)
	case []any:
		n := &avroGuardNode{kind: avroGuardUnion}
		for _, b := range t {
			c, err := compileAvroGuardNode(b, named)
			if err != nil {
				return nil, err
			}
			n.children = append(n.children, c)
		}
		return n, nil
	case map[string]any:
		name, _ := t["name"].(string)
		switch t["type"] {
		case "record":
			n := &avroGuardNode{kind: avroGuardRecord}
			named[name] = n // before the fields: a record may refer to itself
			fields, _ := t["fields"].([]any)
			for _, f := range fields {
				fm, _ := f.(map[string]any)
				c, err := compileAvroGuardNode(fm["type"], named)
				if err != nil {
					return nil, err
				}
				n.children = append(n.children, c)
			}
			return n, nil
		case "enum":
			symbols, _ := t["symbols"].([]any)
			n := &avroGuardNode{kind: avroGuardVarint, size: len(symbols)}
			named[name] = n
			return n, nil
		case "fixed":
			size, _ := t["size"].(float64)
			n := &avroGuardNode{kind: avroGuardFixed, size: int(size)}
			named[name] = n
			return n, nil
		case "array", "map":
			key := "items"
			n := &avroGuardNode{kind: avroGuardArray}
			if t["type"] == "map" {
				key, n.kind = "values", avroGuardMap
			}
			c, err := compileAvroGuardNode(t[key], named)
			if err != nil {
				return nil, err
			}
			n.children = []*avroGuardNode{c}
			return n, nil
		}
		return nil, fmt.Errorf("unknown type %v", t["type"])
	}
	return nil, fmt.Errorf("unexpected schema element %T", v)
}

func (n *avroGuardNode) walk(b []byte, depth int) ([]byte, error) {
	if depth > avroGuardMaxDepth {
		return nil, errors.New("nested too deeply")
	}
	switch n.kind {
	case avroGuardNull:
		return b, nil
	case avroGuardBoolean:
		if len(b) < 1 {
			return nil, io.ErrUnexpectedEOF
		}
		return b[1:], nil
	case avroGuardVarint:
		_, rest, err := avroGuardLong(b)
		return rest, err
	case avroGuardFloat:
		return avroGuardSkip(b, 4)
	case avroGuardDouble:
		return avroGuardSkip(b, 8)
	case avroGuardFixed:
		return avroGuardSkip(b, int64(n.size))
	case avroGuardBytes:
		size, rest, err := avroGuardLong(b)
		if err != nil {
			return nil, err
		}
		if size < 0 {
			return nil, fmt.Errorf("negative length %d", size)
		}
		return avroGuardSkip(rest, size)
	case avroGuardRecord:
		var err error
		for _, f := range n.children {
			if b, err = f.walk(b, depth+1); err != nil {
				return nil, err
			}
		}
		return b, nil
	case avroGuardUnion:
		idx, rest, err := avroGuardLong(b)
		if err != nil {
			return nil, err
		}
		if idx < 0 || idx >= int64(len(n.children)) {
			return nil, fmt.Errorf("union branch %d out of range", idx)
		}
		return n.children[idx].walk(rest, depth+1)
	case avroGuardArray, avroGuardMap:
		for {
			count, rest, err := avroGuardLong(b)
			if err != nil {
				return nil, err
			}
			b = rest
			if count == 0 {
				return b, nil
			}
			if count < 0 {
				if count == -1<<63 {
					return nil, fmt.Errorf("block count %d", count)
				}
				count = -count
				if _, b, err = avroGuardLong(b); err != nil { // block size in bytes
					return nil, err
				}
			}
			// Every item, even a null one, is counted against the bytes left:
			// no real inbound value has more items than bytes.
			if count > int64(len(b)) {
				return nil, fmt.Errorf("block of %d items in %d bytes", count, len(b))
			}
			for range count {
				if n.kind == avroGuardMap {
					if b, err = avroGuardMapKey.walk(b, depth+1); err != nil {
						return nil, err
					}
				}
				if b, err = n.children[0].walk(b, depth+1); err != nil {
					return nil, err
				}
			}
		}
	}
	return nil, fmt.Errorf("unknown guard kind %d", n.kind)
}

// avroGuardLong reads one zig-zag varint long.
func avroGuardLong(b []byte) (int64, []byte, error) {
	var u uint64
	for i := 0; i < 10; i++ {
		if i >= len(b) {
			return 0, nil, io.ErrUnexpectedEOF
		}
		u |= uint64(b[i]&0x7f) << (7 * i)
		if b[i] < 0x80 {
			return int64(u>>1) ^ -int64(u&1), b[i+1:], nil
		}
	}
	return 0, nil, errors.New("varint longer than 10 bytes")
}

func avroGuardSkip(b []byte, n int64) ([]byte, error) {
	if n > int64(len(b)) {
		return nil, io.ErrUnexpectedEOF
	}
	return b[n:], nil
}
