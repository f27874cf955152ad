"""The argmax kernel on CUDA (a GPU, or the simulator in its own process) against the CPU, every family.

``NUMBA_ENABLE_CUDASIM=1 pytest -m cuda tests/test_reparam_cuda.py``: the counts
are integers and must be equal stream by stream.
"""

from __future__ import annotations

import numpy as np
import pytest

from closedform.derive.reparam import FAMILIES
from closedform.numeric.noise import MAX_CLASSES_CUDA, argmax_kernel, pack_argmax
from closedform.numeric.target import SIMULATOR

pytestmark = pytest.mark.cuda

TRIALS, STREAMS = (64, 16) if SIMULATOR else (400_000, 8192)


@pytest.mark.parametrize("noise", list(FAMILIES))
def test_cuda_matches_cpu_for_every_family(noise):
    packed = pack_argmax(noise, [0.3, 0.0, -0.5, 0.2, 1.1])
    kernel = argmax_kernel()
    cpu = kernel.run(packed, TRIALS, seed=85, streams=STREAMS, device="cpu")
    gpu = kernel.run(packed, TRIALS, seed=85, streams=STREAMS, device="cuda")
    assert cpu.trials == gpu.trials == TRIALS
    assert np.array_equal(cpu.out, gpu.out)


def test_cuda_refuses_more_classes_than_its_local_array():
    packed = pack_argmax("gumbel", np.zeros(MAX_CLASSES_CUDA + 1))
    with pytest.raises(ValueError, match="use device='cpu'"):
        argmax_kernel().run(packed, 10, seed=1, streams=1, device="cuda")
