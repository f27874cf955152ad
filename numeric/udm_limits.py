"""Sizes the diffusion kernels of :mod:`closedform.numeric.udm` are built for, without importing them.

The CUDA kernels hold their scratch in static local memory, so the largest
sequence, vocabulary and signal are fixed when they compile; the parameter
domains of :mod:`closedform.udm` read them from here, which imports no Numba.

>>> MAX_LENGTH, MAX_VOCAB, MAX_PIXELS
(16, 15, 256)
"""

#: Largest sequence length and vocabulary the discrete CUDA kernel accepts (local memory is static).
MAX_LENGTH = 16
MAX_VOCAB = 15
#: Largest signal length of the cold-diffusion CUDA kernel.
MAX_PIXELS = 256
