"""The few names of Cython's pure-Python mode that the hot modules use, for the pure form
on a machine without Cython installed (with Cython installed, its own ``cython`` module
plays this part). In the pure form they mean nothing: ``locals`` declares C types of a
function's variables for the compiled form (see ``_compiled.py``) and returns the
function unchanged."""

from __future__ import annotations

compiled = False
Py_ssize_t = int
bint = bool


def locals(**_types):  # Cython's name, which shadows a builtin here only
    return lambda fn: fn
