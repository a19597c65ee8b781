#!/usr/bin/env python3
"""The Python peer of `tvmkafka source --once`: one Tenable VM export into Kafka.

What a team would write with Tenable's own client (pyTenable) and the usual
Kafka client (confluent-kafka): iterate the export, produce every record as
JSON, acks=all, then flush. Run by cmd/tvmkafka/peerbench (make bench-peer).

  py_export.py vulns|assets|compliance TOPIC

Tenable: TIO_URL, TIO_ACCESS_KEY, TIO_SECRET_KEY. Kafka: KAFKA_BROKERS.
Prints the number of records produced.
"""

import itertools
import json
import os
import sys

from confluent_kafka import Producer
from tenable.io import TenableIO


def main():
    kind, topic = sys.argv[1], sys.argv[2]
    tio = TenableIO(os.environ['TIO_ACCESS_KEY'], os.environ['TIO_SECRET_KEY'], url=os.environ['TIO_URL'],
                    vendor='tvmkafka', product='bench-peer', build='1')
    producer = Producer({'bootstrap.servers': os.environ['KAFKA_BROKERS'], 'acks': 'all',
                         'compression.type': 'lz4'})

    if kind == 'vulns':
        records = tio.exports.vulns(since=1, severity=['medium', 'high', 'critical'],
                                   state=['open', 'reopened', 'fixed'])
        key = lambda r: r['asset']['uuid']
    elif kind == 'assets':
        # Active, deleted and terminated assets: three exports, as tvmkafka's assets stream.
        records = itertools.chain(tio.exports.assets(), tio.exports.assets(deleted_at=1),
                                  tio.exports.assets(terminated_at=1))
        key = lambda r: r['id']
    elif kind == 'compliance':
        records = tio.exports.compliance()
        key = lambda r: r['asset_uuid']
    else:
        raise SystemExit('unknown export %r' % kind)

    errors = []

    def delivered(err, msg):
        if err is not None:
            errors.append(err)

    n = 0
    for record in records:
        while True:
            try:
                producer.produce(topic, key=key(record), value=json.dumps(record), on_delivery=delivered)
                break
            except BufferError:  # the local queue is full: let deliveries drain
                producer.poll(0.1)
        producer.poll(0)
        n += 1
    producer.flush()
    if errors:
        raise SystemExit('%d records not delivered: %s' % (len(errors), errors[0]))
    print(n)


if __name__ == '__main__':
    main()
