package schemas

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// WireKind tells how an Avro message body is framed.
type WireKind uint8

// The framings ParseWire recognises.
const (
	// WireSingleObject is Avro single-object encoding: C3 01, the schema's
	// 8-byte little-endian CRC-64-AVRO fingerprint, then the body.
	WireSingleObject WireKind = iota + 1
	// WireConfluent is the Confluent Schema Registry wire format: a zero magic
	// byte, the 4-byte big-endian schema ID, then the body.
	WireConfluent
)

// String names the framing.
func (k WireKind) String() string {
	switch k {
	case WireSingleObject:
		return "avro-single-object"
	case WireConfluent:
		return "confluent"
	default:
		return fmt.Sprintf("WireKind(%d)", uint8(k))
	}
}

// Header sizes of the two framings.
const (
	SingleObjectHeaderLen = 10
	ConfluentHeaderLen    = 5
)

// ErrNotAvro is returned by ParseWire for a value in neither framing (for
// example JSON, which cannot start with byte 0x00 or 0xC3).
var ErrNotAvro = errors.New("not an Avro single-object or Confluent framed value")

// Wire is a parsed framed value.
type Wire struct {
	Kind WireKind
	// Fingerprint is the schema fingerprint (WireSingleObject).
	Fingerprint uint64
	// SchemaID is the registry schema ID (WireConfluent).
	SchemaID int
	// Body is the Avro binary record; it aliases the parsed value.
	Body []byte
}

// AppendSingleObjectHeader appends the single-object header for s.
func AppendSingleObjectHeader(dst []byte, s *Schema) []byte {
	dst = append(dst, 0xC3, 0x01)
	return binary.LittleEndian.AppendUint64(dst, s.Fingerprint)
}

// AppendSingleObject appends body framed in Avro single-object encoding for s.
// To avoid the copy, write the header with AppendSingleObjectHeader and let the
// Transcoder append the body after it.
func AppendSingleObject(dst []byte, s *Schema, body []byte) []byte {
	return append(AppendSingleObjectHeader(dst, s), body...)
}

// AppendConfluentHeader appends the Confluent wire-format header for a schema
// registry ID.
func AppendConfluentHeader(dst []byte, id int) []byte {
	dst = append(dst, 0)
	return binary.BigEndian.AppendUint32(dst, uint32(id))
}

// AppendConfluent appends body framed in the Confluent wire format.
func AppendConfluent(dst []byte, id int, body []byte) []byte {
	return append(AppendConfluentHeader(dst, id), body...)
}

// ParseWire tells the two framings apart by their first bytes and splits off
// the header. Anything else returns ErrNotAvro, and the caller may try JSON.
func ParseWire(value []byte) (Wire, error) {
	switch {
	case len(value) >= SingleObjectHeaderLen && value[0] == 0xC3 && value[1] == 0x01:
		return Wire{
			Kind:        WireSingleObject,
			Fingerprint: binary.LittleEndian.Uint64(value[2:10]),
			Body:        value[SingleObjectHeaderLen:],
		}, nil
	case len(value) >= ConfluentHeaderLen && value[0] == 0:
		return Wire{
			Kind:     WireConfluent,
			SchemaID: int(binary.BigEndian.Uint32(value[1:5])),
			Body:     value[ConfluentHeaderLen:],
		}, nil
	}
	return Wire{}, ErrNotAvro
}
