r"""Random-number primitives for the trial functions of users' claims (``cf.rng``).

A trial function ``trial(states, stream, *params)`` draws from its stream with
these, exactly as the built-in simulators do; each call advances
``states[stream]`` (a xoroshiro128+ generator, see :mod:`closedform.numeric.rng`).
They are compiled Numba functions: callable from a trial body on the CPU and
in CUDA kernels, and from plain Python for trying a trial out.

============================  ==============================================
``uniform(states, stream)``   float64 uniform on the open interval (0, 1)
``normal(states, stream)``    standard normal (ziggurat)
``exponential(states, s)``    standard exponential, never 0
``laplace(states, stream)``   standard Laplace
``cauchy(states, stream)``    standard Cauchy
``next_uint64(states, s)``    the raw 64-bit output
============================  ==============================================

Examples
--------
>>> import closedform as cf
>>> states = cf.rng.make_states(seed=1, streams=1)
>>> u = cf.rng.uniform(states, 0)
>>> 0.0 < u < 1.0
True
>>> def trial(states, stream, p):  # an event: a uniform below p
...     return cf.rng.uniform(states, stream) < p
>>> isinstance(trial(states, 0, 0.5), bool)
True
"""

from __future__ import annotations

from closedform.numeric.rng import cauchy, exponential, laplace, make_states, next_uint64, normal, uniform

__all__ = ["cauchy", "exponential", "laplace", "make_states", "next_uint64", "normal", "uniform"]
