"""Which compilation target is active, and the decorators that follow from it.

Under ``NUMBA_ENABLE_CUDASIM=1`` numba-cuda runs kernels as Python threads.
A CPU ``@njit`` function called from such a kernel would be compiled for real,
and fails to type the simulator's fake arrays.  So, like numba-cuda's own
``random.py``, every scalar body becomes plain Python under the simulator and
the CPU driver becomes a plain loop: one source, three ways to run it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numba

#: True when the process was started with the CUDA simulator enabled.
SIMULATOR: bool = os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0")

F = Callable[..., Any]


def scalar_jit(func: F) -> F:
    """Compile ``func`` for the CPU in nopython mode, or leave it Python under the simulator.

    The compiled function is callable from ``@njit`` code and from ``@cuda.jit``
    kernels alike, which is how one scalar body serves both drivers.
    ``fastmath`` stays off: the bodies compare floats at boundaries.
    """
    if SIMULATOR:
        return func
    return numba.njit(fastmath=False, error_model="numpy", inline="always")(func)


def parallel_jit(func: F) -> F:
    """Compile a ``prange`` driver with ``parallel=True``, or leave it Python under the simulator."""
    if SIMULATOR:
        return func
    return numba.njit(parallel=True, fastmath=False, error_model="numpy")(func)


#: Cast to an unsigned index when compiled (numba wraps a negative signed index,
#: a compare and two more instructions per access); a plain int under the simulator.
unsigned = int if SIMULATOR else numba.uint64
#: Cast back to a signed integer: ``int64`` compiled, ``int`` under the simulator.
signed = int if SIMULATOR else numba.int64


def prange(*args: int) -> Any:
    """``numba.prange`` when compiled; plain ``range`` when the driver runs as Python."""
    return range(*args)


# Inside compiled code numba replaces this module-level name by its own prange.
if not SIMULATOR:
    prange = numba.prange  # type: ignore[assignment]  # noqa: F811


def cuda_available() -> bool:
    """Whether ``device="cuda"`` can run: a real GPU, or the simulator."""
    if SIMULATOR:
        return True
    try:
        from numba import cuda

        return bool(cuda.is_available())
    except Exception:  # numba-cuda missing or its driver library absent
        return False
