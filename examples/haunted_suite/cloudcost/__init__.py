"""A tiny cost-monitoring app; boto3 is optional."""
