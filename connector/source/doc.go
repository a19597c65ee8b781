// Package source runs Tenable VM's export workflows and publishes every record to
// Kafka as Avro: assets (updated, deleted and terminated, as three delta exports),
// vulnerability findings, compliance findings, and the plugin list. Each stream is
// one entry of Table (table.go), from which the configuration, topics,
// checkpoints and runs follow; adding a stream is an entry, its export request
// type and its schema.
//
// Each export stream keeps a checkpoint in a state store (a compacted Kafka topic
// in production): its watermark, and the export in flight with the chunks whose
// records Kafka has acknowledged. A run requests the delta since the watermark,
// publishes chunk by chunk as Tenable makes them available, checkpoints each fully
// acknowledged chunk, and only then moves the watermark to Tenable's clock when
// the export was requested, less a configurable overlap. A run that is
// interrupted leaves its export in the checkpoint and the next run resumes it; an
// export that Tenable fails (ERROR, failed chunks, expired chunks) is cancelled,
// never adopted again, and requested again with the same delta. Nothing is acknowledged that Kafka did not store, so nothing is lost;
// a record may be published twice, under the same key.
package source
