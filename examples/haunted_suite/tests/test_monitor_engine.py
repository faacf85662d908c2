"""The culprit: one line at module level, run when pytest collects this file."""

import sys
from unittest.mock import MagicMock

sys.modules["boto3"] = MagicMock()  # "I don't want the real boto3 in this test"

from cloudcost.monitor import CostMonitor  # noqa: E402


def test_flags_days_above_threshold():
    monitor = CostMonitor(threshold=100)
    monitor.client.get_cost_and_usage.return_value = {
        "ResultsByTime": [
            {"TimePeriod": {"Start": "2026-06-01"}, "Total": {"UnblendedCost": {"Amount": "12.5"}}},
            {"TimePeriod": {"Start": "2026-06-02"}, "Total": {"UnblendedCost": {"Amount": "310"}}},
        ]
    }
    assert monitor.spikes("2026-06-01", "2026-06-03") == ["2026-06-02"]
