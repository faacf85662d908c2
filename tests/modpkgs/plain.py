"""A module that holds nothing from any fake: eviction must leave it alone."""

from __future__ import annotations

import json

ANSWER = json.loads("42")
