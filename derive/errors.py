"""The one error type of bad user input, in a module that imports nothing.

Every layer (``derive``, ``numeric``, ``proofs`` and the API) raises it, so it
lives below all of them: importing it can never pull in SymPy or Numba.
"""


class ParameterError(ValueError):
    """Bad user input: the message names the parameter and its valid domain.

    A subclass of :class:`ValueError`, so ``except ValueError`` still catches it.

    Examples
    --------
    >>> raise ParameterError("theta must lie in (0, 2*pi], got 7")
    Traceback (most recent call last):
    ...
    closedform.ParameterError: theta must lie in (0, 2*pi], got 7
    """


# Shown and pickled under its public name (Dask ships errors between processes).
ParameterError.__module__ = "closedform"


__all__ = ["ParameterError"]
