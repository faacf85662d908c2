"""A deprecated module: it warns once imported, at the line that imported it."""

from __future__ import annotations

import warnings

warnings.warn("modpkgs.warns_on_import is deprecated", DeprecationWarning, stacklevel=2)
