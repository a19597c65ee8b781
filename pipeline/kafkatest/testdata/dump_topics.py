"""Read Kafka topics with confluent-kafka and decode their Avro values with
fastavro: both are implementations nobody in tvmkafka wrote, so what they read
is what any consumer would read.

Usage: python dump_topics.py --brokers HOST:PORT[,...] --schema-dir DIR
                             [--registry-ids JSON] [--timeout SECONDS] TOPIC...

For every partition of every topic the script reads the records from the first
offset up to the high watermark it finds at start (records written later are
ignored), with partitions assigned directly: no consumer group membership, no
offset commits. Isolation is read_committed: records of aborted transactions
are not shown.

DIR holds the .avsc files; a schema's name is its file stem. Each value's schema
is found from its framing: Avro single-object encoding (C3 01 then the 8-byte
little-endian CRC-64-AVRO fingerprint, computed here by fastavro from the
parsing canonical form) or the Confluent wire format (a zero byte then the
4-byte big-endian schema ID, looked up in --registry-ids, a JSON object of
ID -> schema name). The body is decoded with fastavro.schemaless_reader and
must be consumed exactly.

Output, one JSON line per record, in offset order within a partition
(partitions interleave):
{"topic", "partition", "offset", "key", "headers", "schema", "value"}
key is UTF-8 text (null when absent), headers an object of UTF-8 texts, value
the decoded record with timestamps as epoch milliseconds, or null for a
tombstone (schema is then null).

Any problem (unknown topic, undecodable value, unknown fingerprint or ID,
invalid UTF-8, a partition that does not reach its high watermark in time)
exits with status 1 and a message on stderr naming the record.
"""

import argparse
import glob
import io
import json
import os
import sys
import time

import fastavro
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition
from fastavro.schema import fingerprint, to_parsing_canonical_form

# Compact output without a circularity check: lines are large and many.
ENCODE = json.JSONEncoder(separators=(",", ":"), check_circular=False, allow_nan=False).encode


class DumpError(Exception):
    """A record or topic that cannot be dumped."""


def without_timestamp_logical_type(schema):
    """The schema with timestamp-millis read as its underlying long, which is
    the epoch milliseconds the output wants: this skips building a datetime per
    timestamp and converting it back. The fingerprint is unchanged (the parsing
    canonical form has no logical types)."""
    if isinstance(schema, dict):
        return {
            k: without_timestamp_logical_type(v)
            for k, v in schema.items()
            if not (k == "logicalType" and v == "timestamp-millis")
        }
    if isinstance(schema, list):
        return [without_timestamp_logical_type(v) for v in schema]
    return schema


def load_schemas(schema_dir):
    """Returns {fingerprint hex (header byte order): (name, parsed)} and {name: parsed}."""
    by_fingerprint, by_name = {}, {}
    paths = sorted(glob.glob(os.path.join(schema_dir, "*.avsc")))
    if not paths:
        raise DumpError(f"no .avsc files in {schema_dir}")
    for path in paths:
        name = os.path.basename(path)[: -len(".avsc")]
        try:
            with open(path, encoding="utf-8") as fh:
                schema = json.load(fh)
            parsed = fastavro.parse_schema(schema)
            reader = fastavro.parse_schema(without_timestamp_logical_type(schema))
        except Exception as exc:  # noqa: BLE001 - any parse failure is fatal
            raise DumpError(f"schema {path}: {exc}") from exc
        # fastavro prints the fingerprint's little-endian bytes, the order
        # they have in the single-object header.
        fp = fingerprint(to_parsing_canonical_form(parsed), "CRC-64-AVRO")
        if fp in by_fingerprint:
            raise DumpError(f"schemas {by_fingerprint[fp][0]} and {name} have the same fingerprint {fp}")
        by_fingerprint[fp] = (name, reader)
        by_name[name] = reader
    return by_fingerprint, by_name


def text(data, what):
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DumpError(f"{what} is not UTF-8: {data!r}") from exc


class Decoder:
    """Finds each value's schema by its framing and decodes it with fastavro."""

    def __init__(self, by_fingerprint, by_name, registry_ids):
        self.by_fingerprint = by_fingerprint
        self.by_id = {}
        for schema_id, name in registry_ids.items():
            if name not in by_name:
                raise DumpError(f"registry ID {schema_id} names schema {name!r}, which is not in the schema directory")
            self.by_id[int(schema_id)] = (name, by_name[name])

    def decode(self, data, where):
        if data[:2] == b"\xc3\x01" and len(data) >= 10:
            fp = data[2:10].hex()
            if fp not in self.by_fingerprint:
                raise DumpError(f"{where}: single-object fingerprint {fp} matches no schema")
            name, parsed = self.by_fingerprint[fp]
            body = data[10:]
        elif data[:1] == b"\x00" and len(data) >= 5:
            schema_id = int.from_bytes(data[1:5], "big")
            if schema_id not in self.by_id:
                raise DumpError(f"{where}: Confluent schema ID {schema_id} is not in the registry IDs given")
            name, parsed = self.by_id[schema_id]
            body = data[5:]
        else:
            raise DumpError(f"{where}: value is neither single-object nor Confluent framed: {data[:16]!r}")
        stream = io.BytesIO(body)
        try:
            record = fastavro.schemaless_reader(stream, parsed)
        except Exception as exc:  # noqa: BLE001 - fastavro raises many types
            raise DumpError(f"{where}: fastavro cannot decode the {name} body: {exc!r}") from exc
        left = len(body) - stream.tell()
        if left:
            raise DumpError(f"{where}: {left} trailing bytes after the {name} record")
        return name, record


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--brokers", required=True)
    parser.add_argument("--schema-dir", required=True)
    parser.add_argument("--registry-ids", default="{}")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("topics", nargs="+")
    args = parser.parse_args()

    by_fingerprint, by_name = load_schemas(args.schema_dir)
    decoder = Decoder(by_fingerprint, by_name, json.loads(args.registry_ids))

    fatal = []

    def on_error(err):
        # Transient errors (a broker connection dropping) are retried by
        # librdkafka; only fatal ones end the dump early.
        if err.fatal():
            fatal.append(err)

    consumer = Consumer(
        {
            "bootstrap.servers": args.brokers,
            "group.id": f"tvmkafka-dump-{os.getpid()}-{time.time_ns()}",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "enable.partition.eof": True,
            "auto.offset.reset": "earliest",
            "allow.auto.create.topics": False,
            "isolation.level": "read_committed",
            "error_cb": on_error,
        }
    )
    try:
        dump(consumer, decoder, args, fatal)
    finally:
        consumer.close()


def high_watermark(consumer, tp, deadline):
    """The partition's high watermark, asked of its leader."""
    while True:
        try:
            _, high = consumer.get_watermark_offsets(tp, timeout=max(deadline - time.monotonic(), 1), cached=False)
            return high
        except KafkaException as exc:
            # Right after a topic is created the client may not know the
            # partition's leader yet; its metadata catches up within moments.
            code = exc.args[0].code()
            retriable = code in (KafkaError._UNKNOWN_PARTITION, KafkaError._UNKNOWN_TOPIC, KafkaError.LEADER_NOT_AVAILABLE)
            if not retriable or time.monotonic() > deadline:
                raise DumpError(f"high watermark of {tp.topic}/{tp.partition}: {exc}") from exc
            time.sleep(0.05)


def dump(consumer, decoder, args, fatal):
    deadline = time.monotonic() + args.timeout
    ends = {}  # (topic, partition) -> high watermark at start
    for topic in args.topics:
        md = consumer.list_topics(topic, timeout=max(deadline - time.monotonic(), 1))
        tmd = md.topics.get(topic)
        if tmd is None or tmd.error is not None:
            raise DumpError(f"topic {topic}: {tmd.error if tmd else 'not in metadata'}")
        for p in sorted(tmd.partitions):
            ends[(topic, p)] = high_watermark(consumer, TopicPartition(topic, p), deadline)
    pending = {tp for tp, high in ends.items() if high > 0}
    next_offset = dict.fromkeys(pending, 0)
    if pending:
        consumer.assign([TopicPartition(t, p, OFFSET_BEGINNING) for t, p in sorted(pending)])
    # Lines are printed as they arrive (ordered within a partition only), so
    # memory stays small whatever the topic size; the caller sorts.
    out = sys.stdout
    while pending:
        if fatal:
            raise DumpError(f"consumer failed: {fatal[0]}")
        if time.monotonic() > deadline:
            stuck = ", ".join(f"{t}/{p} at offset {next_offset[(t, p)]} of {ends[(t, p)]}" for t, p in sorted(pending))
            raise DumpError(f"timed out after {args.timeout}s before reaching the high watermark of {stuck}")
        # Never ask for more records than remain below the watermarks: consume
        # waits for the number asked for (up to the timeout), and the last
        # records would otherwise wait for records that will not come.
        left = sum(ends[tp] - next_offset[tp] for tp in pending)
        for msg in consumer.consume(num_messages=max(1, min(5000, left)), timeout=0.5):
            tp = (msg.topic(), msg.partition())
            err = msg.error()
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    # The end of what read_committed can read now; at or past
                    # the end found at start, the partition is done.
                    if msg.offset() >= ends.get(tp, 0):
                        pending.discard(tp)
                    continue
                raise DumpError(f"consume {tp[0]}/{tp[1]}: {err}")
            offset = msg.offset()
            if tp not in pending or offset >= ends[tp]:
                pending.discard(tp)
                continue
            where = f"{tp[0]}/{tp[1]}@{offset}"
            headers = {}
            for name, value in msg.headers() or []:
                if name in headers:
                    raise DumpError(f"{where}: header {name!r} appears twice")
                headers[name] = text(value, f"{where}: header {name!r}") or ""
            value = msg.value()
            schema, record = (None, None) if value is None else decoder.decode(value, where)
            line = {
                "topic": tp[0],
                "partition": tp[1],
                "offset": offset,
                "key": text(msg.key(), f"{where}: key"),
                "headers": headers,
                "schema": schema,
                "value": record,
            }
            out.write(ENCODE(line))
            out.write("\n")
            next_offset[tp] = offset + 1
            if offset >= ends[tp] - 1:
                pending.discard(tp)
    out.flush()


if __name__ == "__main__":
    try:
        main()
    except (DumpError, KafkaException, ValueError, TypeError) as exc:
        sys.exit(f"dump_topics: {exc}")
