// Package sink imports the assets that upstream tools produce to an inbound
// Kafka topic into Tenable VM with POST /import/assets.
//
// It is one implementation of pipeline/batchsink's machinery, which owns the
// consumer group, per-partition batches, contiguous offset commits, retries and
// dead letters. This package supplies the two parts that know about assets:
//
//   - decoding and validation (decode*.go, attrs.go, collect.go, reasons.go): an
//     inbound value, Avro in either framing or JSON in Tenable's import shape,
//     becomes a validated Asset, or a reason to dead-letter it;
//   - the destination (assetimport.go, body.go): exact-size request bodies kept
//     strictly below 5,000,000 bytes, never mixing cloud providers, submitted as
//     import requests whose jobs are followed to COMPLETE or ERROR.
//
// New wires the two into a batchsink with the sink's configuration.
package sink
