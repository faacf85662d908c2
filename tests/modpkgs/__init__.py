"""Modules with import-time side effects, imported by the tests of ``saferemock._modules``.

Each file stands for one of the field reports in ``seeds/``: the tests import them under
``fake_module_tree``, ``block_modules`` and ``fresh_import`` and check that nothing of
them is left behind.
"""

from __future__ import annotations
