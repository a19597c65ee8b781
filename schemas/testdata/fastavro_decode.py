"""Decode Avro single-object encoded records with fastavro, an Avro
implementation independent of the Go code under test.

Usage: python fastavro_decode.py SCHEMA_DIR INPUT

SCHEMA_DIR holds the .avsc files. INPUT has one JSON object per line:
{"name": "...", "value": "<base64 of a single-object encoded record>"}.

For each line the script checks the C3 01 marker, finds the schema whose
CRC-64-AVRO fingerprint (computed by fastavro from the parsing canonical form)
matches the header, decodes the body with fastavro.schemaless_reader and prints
{"name", "schema", "record"} as one JSON line. Timestamps are printed as epoch
milliseconds. Any mismatch exits with status 1.
"""

import base64
import datetime
import glob
import io
import json
import os
import sys

import fastavro
from fastavro.schema import fingerprint, to_parsing_canonical_form

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def plain(value):
    """Make a decoded value JSON-printable: datetimes become epoch millis."""
    if isinstance(value, datetime.datetime):
        return (value - EPOCH) // datetime.timedelta(milliseconds=1)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def main():
    schema_dir, input_path = sys.argv[1], sys.argv[2]
    by_fingerprint = {}
    for path in sorted(glob.glob(os.path.join(schema_dir, "*.avsc"))):
        with open(path, encoding="utf-8") as fh:
            parsed = fastavro.parse_schema(json.load(fh))
        fp = fingerprint(to_parsing_canonical_form(parsed), "CRC-64-AVRO")
        name = os.path.basename(path)[: -len(".avsc")]
        by_fingerprint[fp] = (name, parsed)

    with open(input_path, encoding="utf-8") as fh:
        for line in fh:
            item = json.loads(line)
            data = base64.b64decode(item["value"])
            if data[:2] != b"\xc3\x01":
                sys.exit(f"{item['name']}: no single-object marker")
            # fastavro prints the fingerprint's little-endian bytes, the
            # order they have in the header.
            fp = data[2:10].hex()
            if fp not in by_fingerprint:
                sys.exit(f"{item['name']}: fingerprint {fp} matches no schema")
            name, parsed = by_fingerprint[fp]
            body = io.BytesIO(data[10:])
            record = fastavro.schemaless_reader(body, parsed)
            if body.read():
                sys.exit(f"{item['name']}: bytes left after the record")
            print(json.dumps({"name": item["name"], "schema": name, "record": plain(record)}))


if __name__ == "__main__":
    main()
