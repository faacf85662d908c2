"""A service that needs a C-backed package at import time (seed 002, Trap 2)."""

from __future__ import annotations

from confluent_kafka import DeserializingConsumer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer

registry = SchemaRegistryClient({"url": "http://schema-registry:8081"})
deserializer = AvroDeserializer(registry)


class Handler:
    """Decodes one message with the module-level deserializer."""

    def handle(self, payload: bytes) -> object:
        return deserializer(payload, None)


def make_consumer(group: str) -> object:
    return DeserializingConsumer({"group.id": group, "value.deserializer": deserializer})
