"""Flag the days whose AWS spend jumps above a threshold."""

import boto3


class CostMonitor:
    def __init__(self, threshold):
        self.threshold = threshold
        self.client = boto3.client("ce")

    def spikes(self, start, end):
        response = self.client.get_cost_and_usage(
            TimePeriod={"Start": start, "End": end}, Granularity="DAILY", Metrics=["UnblendedCost"]
        )
        return [
            day["TimePeriod"]["Start"]
            for day in response["ResultsByTime"]
            if float(day["Total"]["UnblendedCost"]["Amount"]) > self.threshold
        ]
