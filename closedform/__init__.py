"""closedform: closed forms derived with SymPy, proved step by step, and cross-checked
against Numba Monte Carlo (CPU and CUDA) and mpmath quadrature.

Topic modules (``closedform.sector``, ...) hold the user-facing functions;
:mod:`closedform.registry` lists every result.
"""

from __future__ import annotations

import importlib
from typing import Any

from closedform.derive.errors import ParameterError  # noqa: F401  (public: closedform.ParameterError)

__version__ = "0.1.0"

_LAZY = {
    "sector",
    "reparam",
    "accuracy",
    "multiclass",
    "cosent",
    "guidance",
    "udm",
    "registry",
    "checks",
    "estimate",
    "spec",
    "report",
    "distributed",
}


def __getattr__(name: str) -> Any:
    # Topic modules import SymPy and Numba; load them on first use, not on `import closedform`.
    if name in _LAZY:
        return importlib.import_module(f"closedform.{name}")
    raise AttributeError(f"module 'closedform' has no attribute {name!r}")


__all__ = sorted(_LAZY | {"ParameterError"})
