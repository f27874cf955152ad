"""Imports deferred to first use, so that a topic module imports no Numba kernel it does not run.

A registry line names its kernel, its packer and its oracle; importing the
modules that define them would import Numba and build every dispatcher even
for ``closedform list``.  :func:`module` gives a stand-in that imports the real
module on its first attribute access; :func:`resolve` turns a
``"module:attribute"`` reference into the object it names.

Examples
--------
>>> fractions = module("fractions")
>>> fractions.Fraction(1, 3)
Fraction(1, 3)
>>> resolve("fractions:Fraction.from_float")(0.5)
Fraction(1, 2)
"""

from __future__ import annotations

import importlib
from typing import Any


class LazyModule:
    """A stand-in for module ``name``, imported on the first attribute read.

    Parameters
    ----------
    name : str
        The module's full dotted name.

    Examples
    --------
    >>> m = LazyModule("json")
    >>> m
    <lazy module 'json'>
    >>> m.dumps([1])
    '[1]'
    """

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "_name", name)

    def __getattr__(self, attr: str) -> Any:
        # importlib caches the module in sys.modules: later reads cost a dict lookup.
        return getattr(importlib.import_module(self._name), attr)

    def __setattr__(self, attr: str, value: Any) -> None:
        raise AttributeError(f"lazy module {self._name!r} is read-only")

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


def module(name: str) -> LazyModule:
    """Module ``name``, imported when first used (see :class:`LazyModule`).

    Parameters
    ----------
    name : str
        The module's full dotted name.

    Returns
    -------
    LazyModule

    Examples
    --------
    >>> module("closedform.numeric.sector")
    <lazy module 'closedform.numeric.sector'>
    """
    return LazyModule(name)


def resolve(ref: str) -> Any:
    """The object that ``"package.module:attribute[.attribute...]"`` names, importing the module.

    Parameters
    ----------
    ref : str
        A module path and, after one colon, a dotted attribute path.

    Returns
    -------
    object

    Examples
    --------
    >>> resolve("math:pi")
    3.141592653589793
    >>> resolve("math")
    Traceback (most recent call last):
        ...
    ValueError: reference 'math' is not of the form 'module:attribute'
    """
    owner, sep, path = ref.partition(":")
    if not sep or not owner or not path:
        raise ValueError(f"reference {ref!r} is not of the form 'module:attribute'")
    obj: Any = importlib.import_module(owner)
    for attr in path.split("."):
        obj = getattr(obj, attr)
    return obj
