"""Every example in the docs and docstrings runs.

Markdown pages: each ```python block of a page runs in order, in one namespace per page.
Docstrings: the ``>>>`` examples of every public name run as doctests.
"""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import os
import pathlib
import re
import subprocess
import sys
import unittest.mock

import pytest

import saferemock

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGES = sorted([*ROOT.joinpath("docs").glob("*.md"), ROOT / "README.md"])
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_markdown_examples_run(page: pathlib.Path) -> None:
    blocks = BLOCK.findall(page.read_text(encoding="utf-8"))
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    with saferemock.scope():
        for index, block in enumerate(blocks):
            code = compile(block, f"{page.name}[block {index}]", "exec")
            exec(code, namespace)


def test_the_readme_pytest_example_passes_under_pytest(pytester: pytest.Pytester) -> None:
    blocks = BLOCK.findall(ROOT.joinpath("README.md").read_text(encoding="utf-8"))
    (example,) = [block for block in blocks if "def test_" in block]
    # And what its comment promises: the patch is autospecced.
    wrong_call = (
        "\n\ndef test_a_wrong_call_fails(safemock):\n"
        "    import pytest\n\n"
        '    safemock.patch("uuid.uuid4", return_value="r1")\n'
        "    with pytest.raises(TypeError, match='too many positional arguments'):\n"
        "        uuid.uuid4(1)\n"
    )
    pytester.makepyfile(test_readme=example + wrong_call)
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:asyncio", "-p", "no:xdist")
    result.assert_outcomes(passed=2)


def _public_modules() -> list[object]:
    names = {
        getattr(saferemock, name).__module__
        for name in saferemock.__all__
        if hasattr(getattr(saferemock, name), "__module__")
    }
    names.add("saferemock")
    return [
        importlib.import_module(name) for name in sorted(names) if name.startswith("saferemock")
    ]


@pytest.mark.parametrize("module", _public_modules(), ids=lambda m: m.__name__)
def test_docstring_examples_run(module: object) -> None:
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, module.__name__):  # type: ignore[attr-defined]
        runner.run(test)
    saferemock.stopall()
    result = runner.summarize(verbose=False)
    assert result.failed == 0


def _own_public_names() -> list[str]:
    return [
        name
        for name in saferemock.__all__
        # Re-exported so a test needs one import; documented by unittest.mock.
        if getattr(unittest.mock, name, None) is not getattr(saferemock, name)
        and name != "__version__"
    ]


def test_every_public_name_has_a_docstring_example() -> None:
    missing = [
        name
        for name in _own_public_names()
        if ">>>" not in (getattr(getattr(saferemock, name), "__doc__", None) or "")
    ]
    assert missing == []


def test_every_docstring_example_shows_a_use() -> None:
    # An isinstance() or issubclass() check says what a name is, not how to use it.
    checks = re.compile(r">>> (isinstance|issubclass)\(")
    teaching_nothing = [
        name
        for name in _own_public_names()
        if any(
            checks.match(line.strip())
            for line in (getattr(getattr(saferemock, name), "__doc__", None) or "").splitlines()
        )
    ]
    assert teaching_nothing == []


def test_the_api_reference_shows_every_public_name_with_its_examples_as_code(
    tmp_path: pathlib.Path,
) -> None:
    # Found, not imported: importing the docs toolchain here would load modules into
    # this process that the pollution guard rightly reports.
    if importlib.util.find_spec("mkdocstrings_handlers") is None:
        pytest.skip("needs the docs extra: pip install -e '.[docs]'")
    docs = tmp_path / "docs"
    docs.mkdir()
    docs.joinpath("api.md").write_text(ROOT.joinpath("docs", "api.md").read_text())
    config = ROOT.joinpath("mkdocs.yml").read_text(encoding="utf-8")
    config = re.sub(r"^nav:\n(?:  .*\n)+", "nav:\n  - API reference: api.md\n", config, flags=re.M)
    tmp_path.joinpath("mkdocs.yml").write_text(f"{config}docs_dir: {docs}\n")
    build = ["build", "--strict", "-q", "-f", str(tmp_path / "mkdocs.yml")]
    subprocess.run(
        [sys.executable, "-m", "mkdocs", *build, "-d", str(tmp_path / "site")],
        check=True,
        capture_output=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    page = tmp_path.joinpath("site", "api", "index.html").read_text(encoding="utf-8")
    shown = set(re.findall(r'id="saferemock\.(\w+)"', page))
    # unittest.mock's names are re-exported, not documented again.
    assert sorted(shown) == sorted(_own_public_names())
    # Examples render as highlighted code: a ">>>" read as Markdown is a nested quote.
    assert "<blockquote>" not in page
    assert page.count('<span class="gp">&gt;&gt;&gt; </span>') > 100
