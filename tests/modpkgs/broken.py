"""Fails at import time, after importing a fake and a real module."""

from __future__ import annotations

from confluent_kafka import DeserializingConsumer  # noqa: F401

from modpkgs import plain  # noqa: F401

raise RuntimeError("cannot reach the broker")
