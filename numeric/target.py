"""Which compilation target is active, and the one decorator family that follows from it.

Under ``NUMBA_ENABLE_CUDASIM=1`` numba-cuda runs kernels as Python threads.
A CPU ``@njit`` function called from such a kernel would be compiled for real,
and fails to type the simulator's fake arrays.  So, like numba-cuda's own
``random.py``, every function of the family becomes plain Python under the
simulator and the CPU driver becomes a plain loop: one source, three ways to
run it.

Every compiled function is cached on disk (:mod:`closedform.numeric.jitcache`):
a fresh process loads it instead of compiling it again.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numba

#: True when the process was started with the CUDA simulator enabled.
SIMULATOR: bool = os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0")

F = Callable[..., Any]


def jit(
    func: F | None = None,
    /,
    *,
    inline: bool = False,
    fastmath: bool | set[str] = False,
    parallel: bool = False,
    cache: bool = True,
) -> Any:
    """Compile ``func`` for the CPU in nopython mode, or leave it Python under the simulator.

    Used bare (``@jit``) or with options (``@jit(inline=True)``).  Every
    function of the package is compiled through here.

    Parameters
    ----------
    func : callable, optional
        The function; without it, a decorator with these options is returned.
    inline : bool
        Inline at numba's IR level into every caller (``inline="always"``):
        the scalar bodies, so that a driver holds one straight loop.
    fastmath : bool or set of str
        LLVM fast-math flags; off by default, since the bodies compare floats
        at boundaries.  ``{"contract"}`` allows fused multiply-adds only.
    parallel : bool
        ``parallel=True`` for the ``prange`` drivers.
    cache : bool
        Keep the compiled code on disk.  A function built at run time (a
        closure, ``exec`` or lambdified source) is first written as a real
        module (:func:`~closedform.numeric.jitcache.materialize`); one that
        cannot be (a closed-over value with no import path and no literal
        form) compiles uncached, once per process.

    ``error_model="numpy"`` always: a division by zero gives inf or NaN
    instead of a check that keeps LLVM from vectorising the loop.

    Returns
    -------
    callable
        A numba dispatcher, or ``func`` itself under the simulator.

    Examples
    --------
    >>> @jit(inline=True)
    ... def twice(x):
    ...     return 2.0 * x
    >>> twice(1.5)
    3.0
    """
    options = {"inline": inline, "fastmath": fastmath, "parallel": parallel, "cache": cache}
    if func is None:
        return lambda f: jit(f, **options)
    if SIMULATOR:
        return func
    flags = dict(
        fastmath=fastmath,
        error_model="numpy",
        inline="always" if inline else "never",
        parallel=parallel,
    )
    if not cache:
        return numba.njit(**flags)(func)
    from closedform.numeric import jitcache

    if jitcache.is_module_level(func):
        return jitcache.enable_cache(numba.njit(**flags)(func))
    try:
        return jitcache.materialize(func, options)
    except jitcache.NotMaterializable as why:
        # Compiled uncached, once per process; closedform.cache.cache_info() lists these with the reason.
        jitcache.UNCACHED[f"{func.__module__}.{func.__qualname__}"] = str(why)
        return numba.njit(**flags)(func)


def scalar_jit(func: F) -> F:
    """:func:`jit` preset for a scalar body: inlined into its callers, no fast-math.

    The compiled function is callable from ``@njit`` code and from ``@cuda.jit``
    kernels alike, which is how one scalar body serves both drivers.
    """
    return jit(func, inline=True)


def parallel_jit(func: F) -> F:
    """:func:`jit` preset for a ``prange`` driver: ``parallel=True``."""
    return jit(func, parallel=True)


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
