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


_LAZY |= {"claims", "params", "rng"}

#: Public names defined in a submodule, loaded on first use: the user's surface
#: (``cf.claim``, ``cf.derivation``, ``cf.verify``, the parameter constructors).
_LAZY_NAMES = {
    "Param": "params",
    "real": "params",
    "positive": "params",
    "nonnegative": "params",
    "unit_interval": "params",
    "integer": "params",
    "vector": "params",
    "matrix": "params",
    "choice": "params",
    "tokens": "params",
    "Result": "spec",
    "claim": "claims",
    "derivation": "claims",
    "verify": "claims",
    "VerifyTable": "claims",
    "ClaimError": "claims",
    "load_results": "claims",
}


def __getattr__(name: str) -> Any:
    # Topic modules import SymPy and Numba; load them on first use, not on `import closedform`.
    if name in _LAZY:
        return importlib.import_module(f"closedform.{name}")
    if name in _LAZY_NAMES:
        return getattr(importlib.import_module(f"closedform.{_LAZY_NAMES[name]}"), name)
    raise AttributeError(f"module 'closedform' has no attribute {name!r}")


__all__ = sorted(_LAZY | set(_LAZY_NAMES) | {"ParameterError"})
