"""The per-stream RNG: bit-exact against numba-cuda's xoroshiro128+, open-interval uniforms,
and chunking/threading independence of the driver."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from closedform.numeric import rng
from closedform.numeric.drivers import StreamKernel
from closedform.numeric.target import SIMULATOR, scalar_jit

pytestmark = pytest.mark.skipif(SIMULATOR, reason="compiled-RNG tests; the simulator job runs tests/test_cuda.py")

MASK = (1 << 64) - 1


def _next_reference(s0: int, s1: int) -> tuple[int, int, int]:
    """xoroshiro128+ (55, 14, 36) written independently with Python integers."""
    out = (s0 + s1) & MASK
    s1 ^= s0
    rot = lambda v, k: ((v << k) | (v >> (64 - k))) & MASK  # noqa: E731
    return out, rot(s0, 55) ^ s1 ^ ((s1 << 14) & MASK), rot(s1, 36)


@given(seed=st.integers(0, 2**64 - 1), streams=st.integers(1, 6))
def test_states_match_numba_cuda_random(seed, streams):
    from numba.cuda.random import init_xoroshiro128p_states_cpu, xoroshiro128p_dtype

    theirs = np.empty(streams, dtype=xoroshiro128p_dtype)
    init_xoroshiro128p_states_cpu(theirs, np.uint64(seed), np.uint64(0))
    ours = rng.make_states(seed, streams)
    assert (ours[:, 0] == theirs["s0"]).all() and (ours[:, 1] == theirs["s1"]).all()


@given(seed=st.integers(0, 2**64 - 1))
def test_next_matches_reference_and_numba(seed):
    from numba.cuda.random import xoroshiro128p_dtype, xoroshiro128p_next

    states = rng.make_states(seed, 1)
    theirs = np.empty(1, dtype=xoroshiro128p_dtype)
    theirs["s0"], theirs["s1"] = states[0, 0], states[0, 1]
    s0, s1 = int(states[0, 0]), int(states[0, 1])
    for _ in range(50):
        ref, s0, s1 = _next_reference(s0, s1)
        assert int(rng.next_uint64(states, 0)) == ref == int(xoroshiro128p_next(theirs, 0))


def test_jump_python_matches_compiled():
    states = rng.make_states(12345, 3)
    s0, s1 = int(states[0, 0]), int(states[0, 1])
    for i in (1, 2):
        s0, s1 = rng._jump_python(s0, s1)
        assert (s0, s1) == (int(states[i, 0]), int(states[i, 1]))


def test_chunks_are_slices_of_the_whole():
    whole = rng.make_states(99, 10)
    for first in (0, 3, 7):
        assert (rng.make_states(99, 10 - first, first_stream=first) == whole[first:]).all()


def test_uniform_open_interval_extremes():
    # The smallest and largest 53-bit values still map strictly inside (0, 1).
    states = np.zeros((1, 2), dtype=np.uint64)
    assert rng.uniform(states, 0) == 2.0**-53  # output 0
    states[0] = [2**64 - 1, 0]
    u = rng.uniform(states, 0)  # output 2**64 - 1
    assert 0.0 < u < 1.0 and u == 1.0 - 2.0**-53


@pytest.mark.parametrize("bad", [-1, 2**64])
def test_bad_seed(bad):
    with pytest.raises(ValueError, match="seed must be an integer"):
        rng.make_states(bad, 2)


@scalar_jit
def _sum_uniform_trial(states, stream, params, scratch, acc):
    acc[0] += rng.uniform(states, stream)


_SUM = StreamKernel(_sum_uniform_trial, acc_width=lambda p: 1, integer=False)


def test_result_independent_of_thread_count():
    params = np.zeros(1)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = _SUM.run(params, 10_001, seed=5, streams=37).out
        numba.set_num_threads(max(2, before))
        many = _SUM.run(params, 10_001, seed=5, streams=37).out
    finally:
        numba.set_num_threads(before)
    assert np.array_equal(one, many)


def test_chunked_run_equals_whole_run():
    params = np.zeros(1)
    whole = _SUM.run(params, 1000, seed=3, streams=40)
    a = _SUM.run(params, 1000, seed=3, streams=25, first_stream=0, total_streams=40)
    b = _SUM.run(params, 1000, seed=3, streams=15, first_stream=25, total_streams=40)
    assert np.array_equal(np.vstack([a.out, b.out]), whole.out)
    assert a.trials + b.trials == whole.trials == 1000
