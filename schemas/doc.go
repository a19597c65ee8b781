// Package schemas holds the Avro schemas of the records tvmkafka moves between
// Tenable Vulnerability Management and Kafka, a fast transcoder from Tenable's
// JSON to Avro binary, and the Kafka value framings.
//
// # Schemas
//
// The .avsc files in this directory are embedded in the binary; all are in the
// namespace io.tvmkafka.tvm:
//
//   - asset.avsc (Asset): one record of the asset export, v1 flat model, plus the
//     derived lifecycle state. Key: id.
//   - vuln.avsc (VulnFinding): one finding of the vulnerability export (asset x
//     plugin x port). Key: asset.uuid, plugin.id, port.port, port.protocol. Only
//     asset.uuid is authoritative in its asset sub-record; the other asset
//     attributes are Tenable's best guess when the finding was recorded, and the
//     plugin sub-record is plugin metadata as of the finding's last observation
//     (the plugins topic carries current metadata).
//   - compliance.avsc (ComplianceFinding): one compliance check result. Key:
//     asset_uuid, check_id.
//   - plugin.avsc (Plugin): one item of the plugin list, with its attributes
//     object kept as a nested record (PluginAttributes), as Tenable sends it.
//     Key: id.
//   - inbound_asset.avsc (InboundAsset): an asset for the sink to import; field
//     names and types are those of Tenable's import attributes (arrays where the
//     import takes arrays, servicenow_sys_id). No key.
//
// Every documented field has a typed place: nested records for sub-objects,
// arrays where Tenable sends arrays, timestamps as long timestamp-millis
// whatever form Tenable used. Every field Tenable may omit is ["null", T] with
// default null; only key fields (and the records holding them) and derived
// fields are required. Every field has a doc.
//
// # Kafka keys
//
// Transcoder.Transcode returns the key of each record: the values of the
// schema's tvm.key fields, in order, joined by '|'. Integers are written in
// decimal; port.protocol is upper-cased (tvm.key_case). Values are not escaped:
// they are UUIDs, integers, protocol names and hex check IDs, none of which
// contain '|'. Examples: "53ed0fa2-ccd5-4d2e-92ee-c072635889e3|156641|445|TCP"
// (vuln), "e5e6fa1b-243f-45b7-82cb-285c271cbaa6|00a3efcb…" (compliance),
// "19506" (plugin). A missing, null, empty or ill-typed key field is an error
// (ErrKeyField): the caller dead-letters the record.
//
// # The extra field
//
// Every record and nested record ends with extra, ["null","string"]: the JSON
// text of one object holding the members of the Tenable object that the schema
// does not name, and the members whose value does not fit its typed field (an
// unparseable timestamp, a string where a number is expected, an int out of
// range); that typed field is then null. extra is null when there is nothing to
// keep. So fields Tenable adds later, and values Tenable sends in a new form,
// reach Kafka instead of being dropped, and a later schema version can type them.
//
// # Transcoding
//
// A Transcoder (one per goroutine) scans a record's JSON text once, noting
// where the value of each schema field lies (no parse tree), and writes Avro
// binary directly, decoding each value from its bytes and following a plan
// compiled once from the .avsc: fields in schema order, zig-zag varints,
// length-prefixed strings, union branch indexes, arrays as one block then 0,
// little-endian doubles. The bytes are identical to goavro's encoding of the
// same record (tested by decoding and re-encoding with goavro, by decoding with
// Python's fastavro, and against the fastjson-based transcoder this one
// replaced, kept in the tests as a reference for every input). It accepts
// Tenable's variations: numbers as integers, floats or numeric strings (integral
// floats fit int and long fields); booleans as true/false or "true"/"false";
// numbers where text is expected (kept as their JSON literal); timestamps as
// ISO-8601 strings (fraction truncated to milliseconds, "Z" or an offset, none
// meaning UTC), "YYYY-MM-DD", "YYYY/MM/DD", or epoch numbers (below 1e11 they
// are seconds, otherwise milliseconds), limited to years 1 to 9999. Strings are
// written as UTF-8; invalid bytes become U+FFFD. A vuln finding of about 3 KB
// takes a few microseconds without allocating (see BenchmarkTranscode); the
// conventional path through encoding/json maps and goavro's BinaryFromNative is
// more than ten times slower and allocates about 500 times per record
// (BenchmarkGoavroNativeVuln).
//
// Fields marked tvm.derived are not read from the JSON: the caller supplies
// them (the asset's state: ACTIVE, DELETED or TERMINATED). A JSON member with
// the same name goes to extra.
//
// # Mapping annotations
//
// The .avsc files carry attributes that Avro libraries ignore and the Parsing
// Canonical Form strips, so they never change a fingerprint:
//
//   - "tvm.version": N on each top-level record: the schema version.
//   - "tvm.key": [paths] on each top-level record with a Kafka key.
//   - "tvm.json": "Name" on a field whose JSON member is not a valid Avro name
//     (e.g. "Confidentiality-Impact"), or a list of names, most preferred first
//     (the compliance asset arrives as asset or assets; when both are present the
//     other goes to extra).
//   - "tvm.derived": true on a field the caller supplies.
//   - "tvm.key_case": "upper" on a key field upper-cased in the key.
//
// # Versioning
//
// Released versions are frozen copies under released/<name>/v<N>.avsc. While the
// current file has the released version number it must stay identical to it;
// any change first bumps tvm.version to N+1, and the tests then require the new
// schema to read data written with v<N> (backward compatibility, checked with
// hamba/avro's schema compatibility rules): add fields only as ["null", T] with
// default null, never remove a default, never change a type. Releasing copies
// the current file to released/<name>/v<N+1>.avsc. ByFingerprint knows every
// released version, so data written with an older version can still be decoded
// with its writer schema.
//
// # Wire formats
//
// Kafka record values are framed in one of two ways, told apart by ParseWire:
// Avro single-object encoding (C3 01, the 8-byte little-endian CRC-64-AVRO
// fingerprint of the canonical form, then the body; AppendSingleObject) or the
// Confluent Schema Registry format (a zero byte, the 4-byte big-endian schema ID,
// then the body; AppendConfluent). Any other value is not Avro (ErrNotAvro), and
// the sink may read it as JSON. Fingerprints follow the Avro specification's
// Parsing Canonical Form, as Java and fastavro compute it; for schemas with
// logical types goavro's Codec.Rabin and hamba/avro's fingerprints differ, so
// read single-object values with ParseWire, ByFingerprint and
// Codec.NativeFromBinary rather than goavro's NativeFromSingle. Package registry
// registers schemas with a Confluent-style registry and resolves IDs.
package schemas
