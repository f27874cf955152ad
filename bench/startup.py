"""Benchmark: wall time of fresh processes, with a cold and a warm kernel cache.

Each command runs in a new process, as a user would start it.  *Cold*: a
fresh, empty ``NUMBA_CACHE_DIR`` for every run, so every kernel compiles.
*Warm*: one ``NUMBA_CACHE_DIR`` filled by an untimed first run, then the
timed runs load the compiled kernels from it.  Prints min / median / max
wall seconds per command and cache state (quote the median).

Targets (issue 16, on a 2-core machine with a warm cache): each simulate
<= 2 s, ``latex``/``list`` <= 1.5 s, the import of a topic module <= 1 s,
``closedform verify`` <= 90 s; cold figures no worse than before.

Usage: ``python bench/startup.py [--runs 3] [--quick] [--verify-all]``.
``--quick`` times only the sector simulate (cold and warm) and ``list``;
``--verify-all`` adds ``closedform verify`` (minutes per run).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = [sys.executable, "-m", "closedform"]
COMMANDS: dict[str, list[str]] = {
    "simulate sector": [*CLI, "simulate", "sector", "--n", "4", "--theta", "pi", "--trials", "1e7"],
    "simulate argmax": [*CLI, "simulate", "argmax", "--noise", "normal", "--mu", "0.3,0,-0.5,0.2", "--trials", "1e7"],
    "import + sector.simulate": [
        sys.executable,
        "-c",
        "import closedform.sector as s; s.simulate(4, 'pi', trials=10**7)",
    ],
    "latex sector": [*CLI, "latex", "sector"],
    "list": [*CLI, "list"],
    "verify sector": [*CLI, "verify", "sector", "--no-progress"],
}
QUICK = ("simulate sector", "list")
VERIFY_ALL = [*CLI, "verify", "--no-progress"]


def wall(command: list[str], cache_dir: Path) -> float:
    """Seconds from start to exit of one fresh process using ``cache_dir``; fails loudly on a non-zero exit."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache_dir)}
    env.pop("NUMBA_ENABLE_CUDASIM", None)
    start = time.perf_counter()
    done = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}: {done.stderr.strip()[-2000:]}")
    return seconds


def timings(command: list[str], runs: int, scratch: Path) -> dict[str, list[float]]:
    """``{"cold": [...], "warm": [...]}``: ``runs`` wall times each."""
    cold = []
    for i in range(runs):
        fresh = scratch / f"cold-{i}"
        cold.append(wall(command, fresh))
        shutil.rmtree(fresh, ignore_errors=True)
    warm_dir = scratch / "warm"
    wall(command, warm_dir)  # fills the cache, untimed
    warm = [wall(command, warm_dir) for _ in range(runs)]
    shutil.rmtree(warm_dir, ignore_errors=True)
    return {"cold": cold, "warm": warm}


def row(name: str, state: str, seconds: list[float]) -> str:
    return (
        f"{name:26s} {state:5s} {min(seconds):8.2f} {statistics.median(seconds):8.2f} "
        f"{max(seconds):8.2f}   ({len(seconds)} runs)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per command and cache state")
    parser.add_argument("--quick", action="store_true", help="only: " + ", ".join(QUICK))
    parser.add_argument("--verify-all", action="store_true", help="add `closedform verify` (long)")
    args = parser.parse_args()
    commands = {k: v for k, v in COMMANDS.items() if not args.quick or k in QUICK}
    if args.verify_all:
        commands["verify (all)"] = VERIFY_ALL
    print(f"{'command':26s} {'cache':5s} {'min s':>8s} {'median s':>8s} {'max s':>8s}")
    with tempfile.TemporaryDirectory(prefix="closedform-startup-") as scratch:
        for name, command in commands.items():
            for state, seconds in timings(command, args.runs, Path(scratch)).items():
                print(row(name, state, seconds), flush=True)


if __name__ == "__main__":
    main()
