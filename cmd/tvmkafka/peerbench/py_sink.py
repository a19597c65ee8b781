#!/usr/bin/env python3
"""The Python peer of `tvmkafka sink --once`: inbound assets from Kafka into
Tenable VM's asset import.

What a team would write with confluent-kafka and pyTenable: consume JSON assets,
import them in batches of 1,000 with assets.asset_import, commit after each
batch. Run by cmd/tvmkafka/peerbench (make bench-peer).

  py_sink.py TOPIC GROUP COUNT

Tenable: TIO_URL, TIO_ACCESS_KEY, TIO_SECRET_KEY. Kafka: KAFKA_BROKERS.
Stops after COUNT assets; prints the number imported.
"""

import json
import os
import sys

from confluent_kafka import Consumer
from tenable.io import TenableIO

BATCH = 1000


def main():
    topic, group, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    tio = TenableIO(os.environ['TIO_ACCESS_KEY'], os.environ['TIO_SECRET_KEY'], url=os.environ['TIO_URL'],
                    vendor='tvmkafka', product='bench-peer', build='1')
    consumer = Consumer({'bootstrap.servers': os.environ['KAFKA_BROKERS'], 'group.id': group,
                         'auto.offset.reset': 'earliest', 'enable.auto.commit': False})
    consumer.subscribe([topic])
    batch, imported = [], 0
    while imported + len(batch) < count:
        for msg in consumer.consume(BATCH, timeout=1.0):
            if msg.error():
                raise SystemExit('consume: %s' % msg.error())
            batch.append(json.loads(msg.value()))
            if len(batch) == BATCH:
                tio.assets.asset_import('bench-peer', *batch)
                consumer.commit(asynchronous=False)
                imported += len(batch)
                batch = []
    if batch:
        tio.assets.asset_import('bench-peer', *batch)
        consumer.commit(asynchronous=False)
        imported += len(batch)
    consumer.close()
    print(imported)


if __name__ == '__main__':
    main()
