"""The guard on the real packages whose imports it once took for leaks.

PyYAML's C extension is built with Cython (it registers ``cython_runtime`` and
``_cython_3_x``), cryptography loads cffi and Rust bindings and replaces its deprecated
modules with wrappers, and pytest-cov keeps coverage's singleton in ``sys.modules``.
A suite that only uses them is healthy: no report in warn or strict mode.  It runs in a
subprocess, as extension modules cannot be imported twice in one process.  Needs the
``realworld`` extra.
"""

from __future__ import annotations

import pytest
from pluginreport import QUIET, failures, report


@pytest.mark.parametrize("mode", ["warn", "strict"])
def test_a_suite_using_pyyaml_cryptography_and_pytest_cov_has_no_report(
    pytester: pytest.Pytester, mode: str
) -> None:
    yaml = pytest.importorskip("yaml")
    pytest.importorskip("cryptography")
    pytest.importorskip("pytest_cov")
    if not yaml.__with_libyaml__:
        pytest.skip("PyYAML was built without its C extension")
    pytester.makepyfile(
        **{
            "app/__init__": "",
            "app/calc": "def double(value):\n    return value * 2\n",
            "conftest": "import os\n\nimport yaml\n\nos.environ.setdefault('APP_MODE', 'test')\n",
            "test_yaml": """\
            import app.calc


            def test_load():
                import yaml

                assert yaml.load("a: 1", Loader=yaml.CLoader) == {"a": app.calc.double(0.5)}


            def test_dump():
                from yaml import CDumper, dump

                assert dump({"b": 2}, Dumper=CDumper) == "b: 2\\n"
            """,
            "test_crypto": """\
            from cryptography.hazmat.primitives import hashes
            from cryptography.hazmat.primitives.asymmetric import ec


            def test_sign_and_verify():
                key = ec.generate_private_key(ec.SECP256R1())
                signature = key.sign(b"data", ec.ECDSA(hashes.SHA256()))
                key.public_key().verify(signature, b"data", ec.ECDSA(hashes.SHA256()))


            def test_lazily_imported_bindings():
                from cryptography.hazmat.bindings.openssl.binding import Binding
                from cryptography.hazmat.primitives.ciphers import algorithms, modes

                assert Binding.lib is not None
                assert algorithms.AES and modes.CBC
            """,
            # A second file: strict mode must not have split cryptography's classes.
            "test_second_file": """\
            from cryptography.hazmat.primitives.asymmetric import ec


            def test_the_class_identity_survives():
                assert isinstance(ec.SECP256R1(), ec.EllipticCurve)
            """,
        }
    )
    result = pytester.runpytest_subprocess(
        *QUIET, f"--saferemock-guard={mode}", "-p", "pytest_cov", "--cov=app", "--cov-report=term"
    )
    result.assert_outcomes(passed=5)
    assert report(result) == []
    assert failures(result) == set()
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["app*calc.py*100%"])
