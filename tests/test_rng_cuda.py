"""The samplers of closedform.numeric.rng in a CUDA kernel (a GPU, or the simulator) against the CPU driver.

``NUMBA_ENABLE_CUDASIM=1 pytest -m cuda tests/test_rng_cuda.py``.  Under the
simulator both sides run rng.py's plain-Python integer branch; the compiled
CPU code is compared with that branch bit for bit by
``tests/test_rng.py::test_compiled_samplers_match_the_simulator_bit_for_bit``.
"""

from __future__ import annotations

import numpy as np
import pytest

from closedform.numeric import rng
from closedform.numeric.drivers import StreamKernel
from closedform.numeric.target import SIMULATOR, scalar_jit

pytestmark = pytest.mark.cuda


@scalar_jit
def _draw_every_sampler(states, stream, params, scratch, acc):
    acc[0] += rng.normal(states, stream)
    acc[1] += rng.exponential(states, stream)
    acc[2] += rng.laplace(states, stream)
    acc[3] += rng.cauchy(states, stream)


_EVERY = StreamKernel(_draw_every_sampler, acc_width=lambda p: 4, acc_capacity=4, integer=False)


def test_cuda_kernel_samplers_match_cpu():
    """The kernel draws what the CPU driver draws, stream by stream."""
    trials, streams = (60, 20) if SIMULATOR else (100_000, 1024)
    cpu = _EVERY.run(np.zeros(1), trials, seed=4, streams=streams, device="cpu")
    gpu = _EVERY.run(np.zeros(1), trials, seed=4, streams=streams, device="cuda")
    # Float sums of the variates: the GPU's libm may round exp/log/tan of the
    # rare slow paths differently in the last bit (integer counts would be exact).
    assert np.allclose(cpu.out, gpu.out, rtol=1e-12, atol=0)
