"""Closed forms as SymPy expressions, one module per topic.

Imports only SymPy; never floats, never Numba.
"""
