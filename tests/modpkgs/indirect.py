"""Holds a fake only through another module that holds one: evicted with it."""

from __future__ import annotations

from modpkgs.kafka_consumer import make_consumer

consumer = make_consumer("indirect")
