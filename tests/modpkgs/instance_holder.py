"""Holds only an instance of a class defined in a module that holds a fake."""

from __future__ import annotations

from modpkgs import kafka_consumer as _source

handler = _source.Handler()
del _source
