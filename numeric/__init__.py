"""Numeric backends: Numba kernels for CPU and CUDA, RNG, mpmath oracles, statistics.

This subpackage may import :mod:`closedform.derive`; it never imports
:mod:`closedform.proofs` or the parent API.
"""
