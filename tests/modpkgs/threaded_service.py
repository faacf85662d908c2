"""A service that reads the environment and starts a thread at import time (seed 002, Trap 3)."""

from __future__ import annotations

import os
import threading

from confluent_kafka import DeserializingConsumer

KAFKA_IP = os.environ["KAFKA_IP"]
KAFKA_PORT = int(os.environ["KAFKA_PORT"])
TOPIC = os.environ.get("CURRENT_TOPIC", "current")

consumer = DeserializingConsumer({"bootstrap.servers": f"{KAFKA_IP}:{KAFKA_PORT}"})
latest: dict[str, object] = {}


def consume_data() -> None:  # pragma: no cover - the tests never let this thread start
    consumer.subscribe([TOPIC])
    while True:
        message = consumer.poll(1.0)
        if message is not None:
            latest[message.key()] = message.value()


consumer_thread = threading.Thread(target=consume_data, daemon=True)
consumer_thread.start()
