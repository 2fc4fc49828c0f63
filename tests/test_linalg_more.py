"""More linear algebra (issues 13 and 14): triangular and Cholesky-factor solves, LU, LDL,
Householder products, the matrix exponential, eig, conditioning and low-rank SVD. One table
row per differentiable op (tests/test_optable.py runs them against NumPy/SciPy, finite
differences, PyTorch and forward mode), plus behaviour the rows do not cover."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from optable import OpCase

import retrograd


def _well(rng, shapes):
    """Diagonally dominated square matrices (well conditioned) and uniform other operands."""
    out = []
    for s in shapes:
        a = rng.uniform(-1, 1, size=s)
        if len(s) >= 2 and s[-1] == s[-2]:
            a = a + 3 * np.eye(s[-1])
        out.append(a)
    return out


def _np_tri(a, upper, unit=False):
    t = np.triu(a, int(unit)) if upper else np.tril(a, -int(unit))
    return t + np.eye(a.shape[-1]) * unit


def _np_solve_tri(a, b, upper, unit=False, left=True):
    t = _np_tri(a, upper, unit)
    return np.linalg.solve(t, b) if left else np.swapaxes(
        np.linalg.solve(np.swapaxes(t, -1, -2), np.swapaxes(b, -1, -2)), -1, -2)


def _np_chol_solve(b, f, upper=False):
    t = np.triu(f) if upper else np.tril(f)
    a = np.swapaxes(t, -1, -2) @ t if upper else t @ np.swapaxes(t, -1, -2)
    return np.linalg.solve(a, b)


CASES = [
    # Inputs are full matrices: only the named triangle may be read, and only it gets a
    # gradient (PyTorch's rule), so these rows check the masking too.
    OpCase("solve_triangular_upper", lambda L, a, b: L.linalg.solve_triangular(a, b, upper=True),
           lambda a, b: _np_solve_tri(a, b, True), [((3, 3), (3, 2)), ((2, 3, 3), (3, 1))],
           make=_well),
    OpCase("solve_triangular_lower_right_unit",
           lambda L, a, b: L.linalg.solve_triangular(a, b, upper=False, left=False,
                                                     unitriangular=True),
           lambda a, b: _np_solve_tri(a, b, False, True, False), [((3, 3), (2, 3))], make=_well),
    OpCase("triangular_solve", lambda L, b, a: L.triangular_solve(b, a),
           lambda b, a: (_np_solve_tri(a, b, True), a), [((3, 2), (3, 3))], make=_well),
    OpCase("triangular_solve_transpose",
           lambda L, b, a: b.triangular_solve(a, upper=False, transpose=True).solution,
           lambda b, a: np.linalg.solve(np.tril(a).T, b), [((3, 2), (3, 3))], make=_well),
    OpCase("cholesky_solve", lambda L, b, f: L.cholesky_solve(b, L.tril(f)),
           lambda b, f: _np_chol_solve(b, f), [((3, 2), (3, 3)), ((2, 3, 1), (3, 3))],
           make=_well),
    OpCase("cholesky_solve_upper", lambda L, b, f: b.cholesky_solve(L.triu(f), upper=True),
           lambda b, f: _np_chol_solve(b, f, True), [((3, 2), (3, 3))], make=_well),
    OpCase("cholesky_inverse", lambda L, f: L.cholesky_inverse(L.tril(f)),
           lambda f: np.linalg.inv(np.tril(f) @ np.tril(f).T), [((3, 3),)], make=_well),
    OpCase("cholesky_inverse_upper", lambda L, f: L.triu(f).cholesky_inverse(True),
           lambda f: np.linalg.inv(np.swapaxes(np.triu(f), -1, -2) @ np.triu(f)),
           [((2, 3, 3),)], make=_well),
    OpCase("cholesky_ex", lambda L, a: L.linalg.cholesky_ex(a @ a.mT + 3 * L.eye(3),
                                                            upper=True).L,
           lambda a: np.linalg.cholesky(a @ a.T + 3 * np.eye(3)).T, [((3, 3),)]),
]


# ---------------------------------------------------------------------- behaviour

def _both(fn, *arrays):
    return fn(retrograd, *[retrograd.tensor(a) for a in arrays]), \
        fn(torch, *[torch.tensor(a) for a in arrays])


def test_solve_triangular_singular_gives_inf_not_error():
    b = np.ones((2, 1))
    got, want = _both(lambda L, a, b: L.linalg.solve_triangular(a, b, upper=True),
                      np.zeros((2, 2)), b)
    assert np.array_equal(np.isinf(got.numpy()) | np.isnan(got.numpy()),
                          np.isinf(want.numpy()) | np.isnan(want.numpy()))


def test_cholesky_ex_reports_info_and_partial_factor():
    a = np.array([[4.0, 2, 1], [2, 1, 3], [1, 3, -1]])
    got, want = _both(lambda L, a: L.linalg.cholesky_ex(a), a)
    assert int(got.info) == int(want.info) == 2
    np.testing.assert_allclose(got.L.numpy(), want.L.numpy())
    with pytest.raises(retrograd.linalg.LinAlgError, match="cholesky_ex"):
        retrograd.linalg.cholesky_ex(retrograd.tensor(a), check_errors=True)


@pytest.mark.parametrize("call", [
    lambda L, a, b: L.linalg.solve_triangular(a, b[0], upper=True),
    lambda L, a, b: L.linalg.solve_triangular(a[:2], b, upper=True),
    lambda L, a, b: L.linalg.solve_triangular(a, b[:2], upper=True),
    lambda L, a, b: L.triangular_solve(b, a.float()),
    lambda L, a, b: L.cholesky_solve(b, a[:2]),
    lambda L, a, b: L.cholesky_inverse(a[:2]),
])
def test_misuse_raises_like_pytorch(call):
    a, b = np.eye(3) * 2, np.ones((3, 2))
    with pytest.raises(RuntimeError) as theirs:
        call(torch, torch.tensor(a), torch.tensor(b))
    with pytest.raises(RuntimeError) as ours:
        call(retrograd, retrograd.tensor(a), retrograd.tensor(b))
    assert str(ours.value).split(":")[0] in str(theirs.value)

