"""The victim: passes alone, fails after test_monitor_engine.py was collected."""


def test_no_region_without_configuration(monkeypatch, tmp_path):
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))

    from cloudcost.regions import configured_region

    # In the suite, boto3 is the MagicMock from test_monitor_engine.py, which answers
    # every question: region_name is a MagicMock, not None.
    assert configured_region() is None
