#!/usr/bin/env bash
# The device check: on a machine with an NVIDIA GPU and numba, numba-cuda, sympy, mpmath,
# pytest and hypothesis already installed (no network), install closedform without its
# dependencies, run the CUDA tests on the real GPU, then the CUDA benchmarks, and print the
# trials/s and the CPU/GPU parity of the counts.  Meant to end within 6 minutes; every step
# has its own time limit so that one slow step cannot eat the rest.
#
#   bash bench/device_check.sh            (from the repository root)
set -uo pipefail
cd "$(dirname "$0")/.."
export HYPOTHESIS_PROFILE=ci PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONUNBUFFERED=1
status=0
step() { echo; echo "== $1 ($(date -u +%H:%M:%S))"; }

step "machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || status=1
python -c "import numba, numba.cuda as c; print('numba', numba.__version__, 'cuda available:', c.is_available())"

step "install (no dependencies, no build isolation)"
python -m pip install -q --no-deps --no-build-isolation -e . || exit 1

step "CUDA tests on the GPU (pytest -m cuda)"
timeout 180 python -m pytest -q -p no:cacheprovider -m cuda tests || status=1

step "CPU/GPU parity of the counts, every simulated result at its first case"
timeout 60 python - <<'PY' || status=1
import numpy as np
from closedform.registry import RESULTS
bad = 0
for r in RESULTS:
    if r.simulation is None:
        continue
    case = r.cases[0]
    try:
        cpu = r.simulate(200_000, seed=11, streams=4096, progress=False, **case)
        gpu = r.simulate(200_000, seed=11, streams=4096, device="cuda", progress=False, **case)
    except ValueError as exc:  # a kernel's stated CUDA limit ("use device='cpu'")
        print(f"{r.name:28s} skipped on CUDA: {exc}")
        continue
    same = np.array_equal(cpu.totals, gpu.totals)
    bad += not same
    print(f"{r.name:28s} counts {'identical' if same else 'DIFFER'}")
print("parity:", "all identical" if not bad else f"{bad} result(s) differ")
raise SystemExit(1 if bad else 0)
PY

step "sector on the GPU, n = 4 and 16 (target: >= 1e11 trials/s for n = 4 on an H100)"
timeout 90 python bench/sector.py --device cuda --trials 1e11 --numpy-trials 1e6 || status=1

step "argmax, normal noise, on the GPU"
timeout 60 python - <<'PY' || status=1
import closedform.reparam as reparam
mu = "0.3,0,-0.5,0.2"
reparam.simulate("normal", mu, trials=10**5, device="cuda")  # compile
est = reparam.simulate("normal", mu, trials=10**10, device="cuda", seed=3)
print(f"argmax normal n=4: {est.throughput:.4g} trials/s on cuda; estimate {est.estimate.round(5).tolist()}")
PY

step "guided sampler on the GPU"
timeout 60 python bench/diffusion.py --device cuda --particles 1e6 --numpy-particles 1e4 --repeats 1 || status=1

step "done (status $status)"
exit $status
