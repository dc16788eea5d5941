"""An independent Kafka client (kafka-python, a separate implementation of the
protocol) for the interop test: reads what streamplug wrote, and writes a
CloudEvent in binary mode for a streamplug plugin to handle.

    kafka_client.py consume BOOTSTRAP TOPIC COUNT   -> one JSON record per line
    kafka_client.py produce BOOTSTRAP TOPIC SPEC    -> {"partition", "offset"}

SPEC is JSON: {"key": str, "headers": {name: value}, "value": str}.
"""

import json
import sys

from kafka import KafkaConsumer, KafkaProducer


def consume(bootstrap, topic, count):
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
        consumer_timeout_ms=30000,
    )
    seen = 0
    for record in consumer:
        print(
            json.dumps(
                {
                    "partition": record.partition,
                    "offset": record.offset,
                    "key": record.key.decode() if record.key is not None else None,
                    "headers": {k: v.decode() for k, v in record.headers},
                    "value": record.value.decode() if record.value is not None else None,
                }
            ),
            flush=True,
        )
        seen += 1
        if seen >= count:
            break
    consumer.close()
    if seen < count:
        sys.exit(f"only {seen} of {count} records arrived")


def produce(bootstrap, topic, spec):
    spec = json.loads(spec)
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    future = producer.send(
        topic,
        key=spec["key"].encode(),
        value=spec["value"].encode(),
        headers=[(k, v.encode()) for k, v in spec["headers"].items()],
    )
    meta = future.get(timeout=30)
    producer.flush()
    producer.close()
    print(json.dumps({"partition": meta.partition, "offset": meta.offset}))


if __name__ == "__main__":
    command, bootstrap, topic, arg = sys.argv[1:5]
    if command == "consume":
        consume(bootstrap, topic, int(arg))
    elif command == "produce":
        produce(bootstrap, topic, arg)
    else:
        sys.exit(f"unknown command {command}")
