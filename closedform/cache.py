"""The on-disk cache of compiled kernels: where it is, how large, and filling it ahead of time.

Numba compiles a kernel on its first call, which takes seconds; the
package keeps the compiled code on disk (:mod:`closedform.numeric.jitcache`),
so only the first process on a machine pays.  :func:`warm` pays it ahead of
time, for a machine image or a cluster's workers::

    closedform warm            # every simulated result
    closedform warm sector     # one topic
    closedform cache info
    closedform cache clear

The folder follows numba's rules: ``$NUMBA_CACHE_DIR/closedform`` when
``NUMBA_CACHE_DIR`` is set, else ``__pycache__/closedform-numba`` beside the
installed package, else (a read-only install) the user cache folder.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from closedform.numeric import jitcache

#: Trials per warm-up run: enough to run every branch of a driver once, small
#: enough that the compile (or the load from disk) is all the time spent.
WARM_TRIALS = 64


@dataclass(frozen=True)
class CacheInfo:
    """What :func:`cache_info` reports.

    Attributes
    ----------
    path : pathlib.Path or None
        The cache folder of this process (None: no writable folder, caching off).
    bytes : int
        Total size of the files in it.
    entries : int
        Compiled functions stored (numba data files, one per function and signature).
    generated : int
        Generated modules (run-time bodies written as source, see :mod:`closedform.numeric.jitcache`).
    uncached : dict
        Functions this process compiled without the cache, with the reason.
    """

    path: Path | None
    bytes: int
    entries: int
    generated: int
    uncached: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        lines = [
            f"cache folder: {self.path if self.path is not None else 'none writable (caching off)'}",
            f"size: {self.bytes / 2**20:.1f} MiB",
            f"compiled entries: {self.entries}",
            f"generated modules: {self.generated}",
        ]
        lines += [f"uncached in this process: {name} ({why})" for name, why in self.uncached.items()]
        return "\n".join(lines)


def _files(folder: Path | None, pattern: str) -> list[Path]:
    return [p for p in folder.rglob(pattern) if p.is_file()] if folder is not None and folder.is_dir() else []


def cache_info() -> CacheInfo:
    """Where the cache is, how large, and how many entries it holds.

    Examples
    --------
    >>> info = cache_info()
    >>> info.entries >= 0 and info.bytes >= 0
    True
    """
    root = jitcache.cache_root()
    return CacheInfo(
        path=root,
        bytes=sum(p.stat().st_size for p in _files(root, "*")),
        entries=len(_files(jitcache.kernel_dir(), "*.nbc")),
        generated=len(_files(jitcache.generated_dir(), "*.py")),
        uncached=dict(jitcache.UNCACHED),
    )


def cache_clear() -> int:
    """Delete the compiled kernels and generated modules; return the bytes freed.

    Only the two folders the package writes are removed, never anything else
    under ``NUMBA_CACHE_DIR``.  Kernels already loaded in this process keep
    working; the next process compiles again.
    """
    freed = 0
    for folder in (jitcache.kernel_dir(), jitcache.generated_dir()):
        if folder is not None and folder.is_dir():
            freed += sum(p.stat().st_size for p in _files(folder, "*"))
            shutil.rmtree(folder)
    return freed


def warm(topics: Sequence[str] = (), progress: bool = True) -> int:
    """Compile (or load from the cache) every simulated result's kernel, by one tiny run each.

    Parameters
    ----------
    topics : sequence of str
        Topic names (or groups, see :func:`closedform.registry.by_topic`); all when empty.
    progress : bool
        Show a progress bar (tqdm) on stderr.

    Returns
    -------
    int
        The number of runs made (one per verify case of each simulated result).

    Examples
    --------
    >>> warm(["sector"], progress=False) > 0
    True
    """
    from tqdm import tqdm

    from closedform.estimate import simulate_result
    from closedform.registry import by_topic

    runs = [(r, case) for r in by_topic(*topics) if r.simulation is not None for case in r.cases]
    bar = tqdm(runs, desc="compiling kernels", unit="run", disable=not progress)
    for result, case in bar:
        bar.set_postfix_str(result.name)
        simulate_result(result, WARM_TRIALS, seed=0, streams=2, **case)
    return len(runs)


__all__ = ["CacheInfo", "WARM_TRIALS", "cache_clear", "cache_info", "warm"]
