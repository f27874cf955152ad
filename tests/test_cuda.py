"""CUDA kernels against the CPU driver, bit for bit, for every registered simulation.

Runs on a real GPU, or on the CUDA simulator in its own process::

    NUMBA_ENABLE_CUDASIM=1 pytest -m cuda

Under the simulator every trial body runs as Python on both sides, so the
sizes are tiny; on a GPU the same test compares compiled CPU and GPU code.
The counts are integers and must be equal; float sums (means) must agree to
1e-12 relative, since the GPU's libm may round the last bit differently.
"""

from __future__ import annotations

import numpy as np
import pytest

from closedform.numeric.target import SIMULATOR
from closedform.registry import RESULTS

pytestmark = pytest.mark.cuda

SIMULATED = [r for r in RESULTS if r.simulation is not None]
TRIALS, STREAMS = (96, 32) if SIMULATOR else (200_000, 4096)


@pytest.mark.parametrize("result", SIMULATED, ids=lambda r: r.name)
def test_cuda_matches_cpu(result):
    case = result.cases[0]
    values = result.validate(**case)
    packed = result.simulation.pack(**values)
    kernel = result.simulation.kernel
    cpu = kernel.run(packed, TRIALS, seed=11, streams=STREAMS, device="cpu")
    gpu = kernel.run(packed, TRIALS, seed=11, streams=STREAMS, device="cuda")
    assert cpu.trials == gpu.trials == TRIALS
    if kernel.integer:
        assert np.array_equal(cpu.out, gpu.out)
    else:
        assert np.allclose(cpu.out, gpu.out, rtol=1e-12, atol=0), np.max(np.abs(cpu.out - gpu.out))


def test_cuda_refuses_too_large_problem():
    # The API bounds n at 100 now; the kernel's own guard is what this checks, below that bound.
    from closedform import sector
    from closedform.numeric import sector as num

    kernel = sector.SECTOR.simulation.kernel
    with pytest.raises(ValueError, match="use device='cpu'"):
        kernel.run(num.pack_sector(500, 3.141592653589793), 10, 0, streams=1, device="cuda")
