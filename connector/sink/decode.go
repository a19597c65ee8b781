package sink

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/tvmkafka/tvmkafka/schemas"
	"github.com/tvmkafka/tvmkafka/schemas/registry"
)

// Decoder decodes and validates inbound record values. A value is told apart by
// its first bytes: Avro single-object encoding (C3 01 and the schema
// fingerprint), the Confluent wire format (a zero byte and a schema registry
// ID), or else a JSON object in the shape of one import asset. Avro values must
// be written with a version of the inbound_asset schema this build knows.
// A Decoder is safe for concurrent use.
type Decoder struct {
	reg registry.Client
	// inbound holds every version of the inbound_asset schema this build knows,
	// current and released, by fingerprint.
	inbound map[uint64]*inboundAvroSchema
}

// inboundAvroSchema is one version of the inbound_asset schema with the guard
// that checks a body before goavro decodes it.
type inboundAvroSchema struct {
	schema *schemas.Schema
	guard  *schemas.AvroGuard
}

// NewDecoder returns a Decoder. reg resolves the schema IDs of Confluent-framed
// values; when it is nil such values are invalid.
func NewDecoder(reg registry.Client) *Decoder {
	d := &Decoder{reg: reg, inbound: make(map[uint64]*inboundAvroSchema)}
	current, err := schemas.Get(schemas.NameInboundAsset)
	if err != nil {
		panic(fmt.Sprintf("sink: %v", err)) // the schema is embedded in the build
	}
	released, err := schemas.Released(schemas.NameInboundAsset)
	if err != nil {
		panic(fmt.Sprintf("sink: %v", err))
	}
	for _, s := range append(released, current) {
		guard, err := schemas.NewAvroGuard(s.Canonical)
		if err != nil {
			// The embedded schemas are part of the build and tested.
			panic(fmt.Sprintf("sink: inbound schema v%d: %v", s.Version, err))
		}
		d.inbound[s.Fingerprint] = &inboundAvroSchema{schema: s, guard: guard}
	}
	return d
}

// Decode returns the asset, an *InvalidError (dead-letter the record), or
// another error, which is transient (the schema registry is unreachable, ctx
// ended): the caller retries. A nil or empty value (a tombstone) is invalid.
func (d *Decoder) Decode(ctx context.Context, value []byte) (Asset, error) {
	return d.decode(ctx, value, nil)
}

// decode is Decode; with out not nil, the asset's JSON is written over *out
// (the buffer is kept there) and is valid until the next decode into it.
func (d *Decoder) decode(ctx context.Context, value []byte, out *[]byte) (Asset, error) {
	if len(value) == 0 {
		return Asset{}, inboundInvalidf("the value is empty (a tombstone): there is no asset to import")
	}
	wire, err := schemas.ParseWire(value)
	if errors.Is(err, schemas.ErrNotAvro) {
		return decodeInboundJSON(value, out)
	}
	if err != nil {
		return Asset{}, fmt.Errorf("parse value framing: %w", err)
	}
	switch wire.Kind {
	case schemas.WireSingleObject:
		in, ok := d.inbound[wire.Fingerprint]
		if !ok {
			if s, err := schemas.ByFingerprint(wire.Fingerprint); err == nil {
				return Asset{}, inboundInvalidf("the Avro value is written with schema %s v%d (%s), not the inbound asset schema", s.FullName, s.Version, s.Name)
			}
			return Asset{}, inboundInvalidf("the Avro value is written with an unknown schema (fingerprint %016x), not a version of the inbound asset schema", wire.Fingerprint)
		}
		return in.decode(wire.Body, out)
	case schemas.WireConfluent:
		return d.decodeConfluent(ctx, wire, out)
	default:
		return Asset{}, fmt.Errorf("parse value framing: unexpected kind %v", wire.Kind)
	}
}

// decodeConfluent resolves the schema ID of a Confluent-framed value.
func (d *Decoder) decodeConfluent(ctx context.Context, wire schemas.Wire, out *[]byte) (Asset, error) {
	if d.reg == nil {
		return Asset{}, inboundInvalidf("the value is Avro in the Confluent wire format (schema ID %d), but the schema registry is not configured", wire.SchemaID)
	}
	reg, err := d.reg.SchemaByID(ctx, wire.SchemaID)
	if err != nil {
		var apiErr *registry.Error
		if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound {
			return Asset{}, inboundInvalidf("the value is Avro in the Confluent wire format with schema ID %d, which the schema registry does not have", wire.SchemaID)
		}
		return Asset{}, fmt.Errorf("resolve schema ID %d: %w", wire.SchemaID, err)
	}
	if reg == nil || reg.Known == nil {
		return Asset{}, inboundInvalidf("the value is Avro in the Confluent wire format with schema ID %d, a schema this build does not know, not a version of the inbound asset schema", wire.SchemaID)
	}
	in, ok := d.inbound[reg.Known.Fingerprint]
	if !ok {
		return Asset{}, inboundInvalidf("the value is Avro in the Confluent wire format with schema ID %d, which is %s v%d (%s), not the inbound asset schema",
			wire.SchemaID, reg.Known.FullName, reg.Known.Version, reg.Known.Name)
	}
	return in.decode(wire.Body, out)
}
