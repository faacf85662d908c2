"""Which AWS region boto3 would use."""

try:
    import boto3
except ImportError:  # boto3 is optional: without it no region is configured
    boto3 = None


def configured_region():
    """Return the region boto3 is configured for, or None."""
    if boto3 is None:
        return None
    return boto3.session.Session().region_name
