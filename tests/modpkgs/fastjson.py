"""Stands for an optional accelerator package, such as ``ujson`` or ``orjson``."""

from __future__ import annotations

import json


def dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))
