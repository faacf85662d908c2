"""Holds a fake only inside a class body."""

from __future__ import annotations


class Service:
    from confluent_kafka import Producer as producer_class
