"""More linear algebra (issues 13 and 14): triangular and Cholesky-factor solves, LU, LDL,
Householder products, the matrix exponential, eig, conditioning and low-rank SVD. One table
row per differentiable op (tests/test_optable.py runs them against NumPy/SciPy, finite
differences, PyTorch and forward mode), plus behaviour the rows do not cover."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sl
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


def _np_lu_factor(a):
    lu, piv = sl.lu_factor(a)
    return lu, piv + 1


def _np_lu(a):
    """(L, U) of A = P L U (P is constant: no tangent, checked in a behaviour test)."""
    return sl.lu(a)[1:]


def _lu_solve(L, a, b, **kw):
    LU, piv = L.linalg.lu_factor(a)
    return L.linalg.lu_solve(LU, piv, b, **kw)


def _np_householder(a, tau):
    """H_1 ... H_k (first n columns), H_i = I - tau_i v_i v_i^T."""
    m, n = a.shape
    q = np.eye(m)
    for i in range(tau.shape[0]):
        v = np.concatenate([np.zeros(i), [1.0], a[i + 1:, i]])
        q = q @ (np.eye(m) - tau[i] * np.outer(v, v))
    return q[:, :n]


def _np_ormqr(a, tau, c, left=True, transpose=False):
    q = _np_householder(np.concatenate([a, np.zeros((a.shape[0], a.shape[0] - a.shape[1]))],
                                       1), np.concatenate([tau, np.zeros(0)]))
    q = q.T if transpose else q
    return q @ c if left else c @ q


def _np_vander(x, n):
    return x[..., None] ** np.arange(n)


def _eig_parts(lib, w, v):
    """Real, phase-invariant views of eig's results: Re w, Im w and |V|."""
    return lib.real(w), lib.imag(w), lib.abs(v)


def _eig(L, a):
    return _eig_parts(L, *L.linalg.eig(a))


def _np_eig(a):
    return _eig_parts(np, *np.linalg.eig(a))


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
    # LU: square, tall, wide and batched inputs (the three gradient cases).
    OpCase("lu_factor", lambda L, a: L.linalg.lu_factor(a), _np_lu_factor,
           [((3, 3),), ((4, 2),), ((2, 4),), ((2, 3, 3),)]),
    OpCase("lu_factor_ex", lambda L, a: L.linalg.lu_factor_ex(a)[:2], _np_lu_factor,
           [((3, 3),)]),
    OpCase("lu_old", lambda L, a: L.lu(a), _np_lu_factor, [((3, 4),)]),
    OpCase("linalg_lu", lambda L, a: L.linalg.lu(a)[1:], _np_lu,
           [((3, 3),), ((4, 3),), ((2, 3),)]),
    OpCase("lu_unpack", lambda L, a: L.lu_unpack(*L.linalg.lu_factor(a))[1:], _np_lu,
           [((4, 4),), ((3, 5),)]),
    OpCase("lu_solve", _lu_solve, lambda a, b: np.linalg.solve(a, b), [((3, 3), (3, 2))],
           make=_well),
    OpCase("lu_solve_adjoint_right", lambda L, a, b: _lu_solve(L, a, b, left=False,
                                                               adjoint=True),
           lambda a, b: b @ np.linalg.inv(a.T), [((3, 3), (2, 3))], make=_well),
    OpCase("lu_solve_old", lambda L, a, b: b.lu_solve(*L.linalg.lu_factor(a)),
           lambda a, b: np.linalg.solve(a, b), [((2, 3, 3), (2, 3, 1))], make=_well),
    OpCase("inv_ex", lambda L, a: L.linalg.inv_ex(a)[0], np.linalg.inv, [((3, 3),)], make=_well),
    OpCase("solve_ex", lambda L, a, b: L.linalg.solve_ex(a, b)[0],
           lambda a, b: np.linalg.solve(a, b[..., None])[..., 0], [((3, 3), (3,))], make=_well),
    # Householder reflectors: the gradient reaches only the entries below the diagonal.
    OpCase("householder_product", lambda L, a, t: L.linalg.householder_product(a, t),
           _np_householder, [((4, 3), (2,)), ((3, 3), (3,))]),
    OpCase("ormqr", lambda L, a, t, c: L.ormqr(a, t, c), _np_ormqr, [((4, 2), (2,), (4, 3))]),
    OpCase("ormqr_transpose_right", lambda L, a, t, c: a.ormqr(t, c, left=False,
                                                               transpose=True),
           lambda a, t, c: _np_ormqr(a, t, c, False, True), [((3, 3), (3,), (2, 3))]),
    OpCase("matrix_exp", lambda L, a: L.matrix_exp(a), sl.expm, [((3, 3),), ((2, 2, 2),)]),
    OpCase("linalg_matrix_exp", lambda L, a: a.matrix_exp(), sl.expm, [((1, 1),)]),
    OpCase("cond", lambda L, a: L.linalg.cond(a), np.linalg.cond, [((3, 3),), ((3, 2),)],
           make=_well),
    OpCase("cond_fro", lambda L, a: L.linalg.cond(a, "fro"),
           lambda a: np.linalg.cond(a, "fro"), [((2, 3, 3),)], make=_well,
           # PyTorch's own backward with create_graph fails for batched cond (an in-place
           # write to inv's output), so its comparison is forward only.
           torch={"grad": False}),
    OpCase("cond_minus2", lambda L, a: L.linalg.cond(a, -2), lambda a: np.linalg.cond(a, -2),
           [((3, 3),)], make=_well),
    OpCase("tensorinv", lambda L, a: L.linalg.tensorinv(a, 1),
           lambda a: np.linalg.tensorinv(a, 1), [((4, 2, 2),)], make=lambda rng, s: [
               rng.uniform(-1, 1, (4, 4)).reshape(4, 2, 2) + 3 * np.eye(4).reshape(4, 2, 2)]),
    OpCase("tensorsolve", lambda L, a, b: L.linalg.tensorsolve(a, b, dims=(0,)),
           lambda a, b: np.linalg.tensorsolve(a, b, axes=(0,)), [((6, 2, 3), (2, 3))],
           make=lambda rng, s: [rng.uniform(-1, 1, (6, 6)).reshape(6, 2, 3)
                                + 3 * np.eye(6).reshape(6, 2, 3), rng.uniform(-1, 1, (2, 3))]),
    OpCase("vander", lambda L, x: L.linalg.vander(x), lambda x: _np_vander(x, x.shape[-1]),
           [((3,),), ((2, 4),)]),
    OpCase("geqrf", lambda L, a: L.geqrf(a), lambda a: sl.lapack.dgeqrf(a)[:2], [((4, 3),)],
           grad=False),  # no derivative (none in PyTorch): forward only
    # PyTorch differentiates pinv as a function of the full matrix, also when hermitian
    # (where only the lower triangle is read): a non-symmetric input checks both.
    OpCase("pinv_hermitian", lambda L, a: L.linalg.pinv(a, hermitian=True),
           lambda a: np.linalg.pinv(np.tril(a) + np.tril(a, -1).T), [((3, 3),)], make=_well,
           fd=False),
    OpCase("pinv_hermitian_sym", lambda L, a: L.linalg.pinv(a + a.mT, hermitian=True),
           lambda a: np.linalg.pinv(a + a.T), [((3, 3),)], make=_well),
    OpCase("pinv_wide", lambda L, a: L.linalg.pinv(a), np.linalg.pinv, [((2, 4),)]),
    OpCase("lstsq_residuals", lambda L, a, b: L.linalg.lstsq(a, b, driver="gelsd")[:2],
           lambda a, b: np.linalg.lstsq(a, b)[:2], [((4, 2), (4, 3))]),
    OpCase("eig", _eig, _np_eig, [((3, 3),), ((2, 2, 2),)]),
    OpCase("eigvals", lambda L, a: L.real(L.linalg.eigvals(a)) + L.imag(L.linalg.eigvals(a)),
           lambda a: np.linalg.eigvals(a).real + np.linalg.eigvals(a).imag, [((4, 4),)]),
    OpCase("vander_n_zero", lambda L, x: L.linalg.vander(x * 0, N=3),
           lambda x: _np_vander(x * 0, 3), [((2,),)]),
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



def test_lu_reports_singular_matrices_like_pytorch():
    a = np.array([[[1.0, 2], [2, 4]], [[1, 0], [0, 1]]])
    for fn in (lambda L, a: L.linalg.lu_factor_ex(a), lambda L, a: L.lu(a, get_infos=True),
               lambda L, a: L.linalg.inv_ex(a), lambda L, a: L.linalg.solve_ex(a, a[..., 0])):
        got, want = _both(fn, a)
        np.testing.assert_array_equal(got[-1].numpy(), want[-1].numpy())
    for fn in (lambda L, a: L.linalg.lu_factor(a),
               lambda L, a: L.linalg.inv_ex(a, check_errors=True),
               lambda L, a: L.linalg.solve_ex(a, a[..., 0], check_errors=True)):
        with pytest.raises(RuntimeError) as theirs:
            fn(torch, torch.tensor(a))
        with pytest.raises(RuntimeError) as ours:
            fn(retrograd, retrograd.tensor(a))
        assert str(ours.value) == str(theirs.value)


def test_lu_unpack_parts_and_pivot_checks():
    a = np.random.default_rng(0).standard_normal((3, 4))
    LU, piv = retrograd.linalg.lu_factor(retrograd.tensor(a))
    P, L, U = retrograd.lu_unpack(LU, piv, unpack_data=False)
    assert tuple(L.shape) == tuple(U.shape) == (0,)
    np.testing.assert_array_equal(P.numpy(), sl.lu(a)[0])
    np.testing.assert_array_equal(retrograd.linalg.lu(retrograd.tensor(a)).P.numpy(),
                                  torch.linalg.lu(torch.tensor(a)).P.numpy())
    with pytest.raises(RuntimeError, match="int32"):
        retrograd.lu_unpack(LU, piv.long())
    with pytest.raises(RuntimeError, match="without pivoting"):
        retrograd.linalg.lu_factor(retrograd.tensor(a), pivot=False)


def test_geqrf_and_ldl_match_lapack_and_pytorch():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 4, 3))
    got, want = _both(lambda L, a: L.geqrf(a), a)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.numpy(), w.numpy(), atol=1e-12)
    q = retrograd.linalg.householder_product(*got)
    np.testing.assert_allclose(q.numpy(), np.linalg.qr(a)[0] * np.sign(
        np.diagonal(np.linalg.qr(a)[1], 0, -2, -1))[..., None, :] * np.sign(
        np.diagonal(got.a.numpy(), 0, -2, -1))[..., None, :], atol=1e-12)
    s = rng.standard_normal((4, 4))
    b = rng.standard_normal((4, 2))
    got, want = _both(lambda L, s: L.linalg.ldl_factor_ex(s), s)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.numpy(), w.numpy(), atol=1e-12)
    x = retrograd.linalg.ldl_solve(got.LD, got.pivots, retrograd.tensor(b))
    np.testing.assert_allclose(x.numpy(), np.linalg.solve(np.tril(s) + np.tril(s, -1).T, b))
    with pytest.raises(RuntimeError, match="singular"):
        retrograd.linalg.ldl_factor(retrograd.zeros(3, 3, dtype=retrograd.float64))
    a = retrograd.tensor(a, requires_grad=True)
    with pytest.raises(NotImplementedError, match="geqrf"):
        retrograd.geqrf(a).a.sum().backward()


def test_matrix_rank_and_cond_edge_cases_match_pytorch():
    a = np.diag([1.0, 1e-3, 0.0])
    for fn in (lambda L, a: L.linalg.matrix_rank(a), lambda L, a: L.linalg.matrix_rank(a, 1e-2),
               lambda L, a: L.linalg.matrix_rank(a, atol=0.5, rtol=0.1),
               lambda L, a: L.linalg.matrix_rank(a, hermitian=True),
               lambda L, a: L.linalg.cond(a, 1), lambda L, a: L.linalg.cond(a)):
        got, want = _both(fn, a)
        assert str(got.dtype) == str(want.dtype)
        np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_svd_lowrank_recovers_a_low_rank_matrix_and_its_gradient():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((6, 2)) @ rng.standard_normal((2, 5))
    u, s, vh = np.linalg.svd(a)
    for x in (a, a.T):  # tall and wide
        t = retrograd.tensor(x, requires_grad=True)
        U, S, V = retrograd.svd_lowrank(t, q=2)
        np.testing.assert_allclose(S.detach().numpy(), s[:2], rtol=1e-10)
        np.testing.assert_allclose((U @ retrograd.diag(S) @ V.mT).detach().numpy(), x,
                                   atol=1e-10)
        S.sum().backward()  # d(s1 + s2)/dA = u1 v1^T + u2 v2^T, whatever the draw
        want = u[:, :2] @ vh[:2]
        np.testing.assert_allclose(t.grad.numpy(), want if x is a else want.T, atol=1e-8)


def test_pca_lowrank_centers_columns_and_checks_q():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((7, 2)) @ rng.standard_normal((2, 4)) + rng.standard_normal(4)
    U, S, V = retrograd.pca_lowrank(retrograd.tensor(a), q=2)
    centered = a - a.mean(0)
    np.testing.assert_allclose(S.numpy(), np.linalg.svd(centered)[1][:2], rtol=1e-10)
    np.testing.assert_allclose((U @ retrograd.diag(S) @ V.mT).numpy(), centered, atol=1e-10)
    assert [tuple(x.shape) for x in retrograd.pca_lowrank(retrograd.zeros(4, 3, 5))] == \
        [tuple(x.shape) for x in torch.pca_lowrank(torch.zeros(4, 3, 5))]
    with pytest.raises(ValueError, match="not greater than"):
        retrograd.pca_lowrank(retrograd.tensor(a), q=5)


def test_eig_results_are_complex_and_phase_dependent_losses_raise():
    a = np.random.default_rng(2).standard_normal((3, 3))
    got, want = _both(lambda L, a: L.linalg.eig(a), a)
    assert str(got.eigenvalues.dtype) == str(want.eigenvalues.dtype) == "torch.complex128"
    np.testing.assert_allclose(got.eigenvalues.numpy(), want.eigenvalues.numpy())
    assert str(retrograd.linalg.eigvals(retrograd.tensor(a).float()).dtype) == "torch.complex64"
    x = retrograd.tensor(a, requires_grad=True)
    with pytest.raises(RuntimeError, match="e\\^\\{i phi\\}"):
        retrograd.linalg.eig(x).eigenvectors.real.sum().backward()


# ------------------------------------------------------- complex inputs (issue 14, item 4)

def _weights(L, n):
    return L.arange(n, dtype=L.float64)


COMPLEX_LOSSES = {
    "inv": lambda L, x, y: (L.linalg.inv(x).imag * _weights(L, 3)).sum()
    + L.linalg.inv(x).real.sum(),
    "det": lambda L, x, y: L.linalg.det(x).real + 2 * L.linalg.det(x).imag,
    "slogdet": lambda L, x, y: L.linalg.slogdet(x)[1]
    + (L.linalg.slogdet(x)[0] * (1 + 2j)).real,
    "solve": lambda L, x, y: L.linalg.solve(x, y).abs().sum(),
    "eigh": lambda L, x, y: (L.linalg.eigh(x + x.mH)[0] * _weights(L, 3)).sum()
    + (L.linalg.eigh(x + x.mH)[1].abs() ** 3).sum(),
    "svd": lambda L, x, y: (lambda u, s, vh: (u.abs() ** 3).sum() + (s * _weights(L, 3)).sum()
                            + ((u[:, :1] * vh[:1, :]).real * _weights(L, 3)).sum())(
        *L.linalg.svd(x)),
    "svd_wide": lambda L, x, y: (lambda u, s, vh: (u.abs() ** 3).sum() + (vh.abs() ** 3).sum()
                                 + s.sum())(*L.linalg.svd(x[:2], full_matrices=False)),
    "qr": lambda L, x, y: (lambda q, r: (q.real * _weights(L, 3)).sum() + (r.imag ** 2).sum())(
        *L.linalg.qr(x)),
    "qr_wide": lambda L, x, y: (lambda q, r: (q.real * _weights(L, 2)).sum()
                                + (r.imag ** 2).sum())(*L.linalg.qr(x[:2])),
    "cholesky": lambda L, x, y: (L.linalg.cholesky(x @ x.mH).imag * _weights(L, 3)).sum()
    + L.linalg.cholesky(x @ x.mH).real.sum(),
    "cholesky_solve": lambda L, x, y: L.cholesky_solve(y, L.linalg.cholesky(x @ x.mH)).imag.sum(),
    "pinv": lambda L, x, y: (L.linalg.pinv(x[:2]).imag * _weights(L, 2)).sum(),
    "matrix_exp": lambda L, x, y: (L.matrix_exp(x * 0.3).imag * _weights(L, 3)).sum(),
    "solve_triangular": lambda L, x, y: L.linalg.solve_triangular(x, y, upper=True).imag.sum(),
    "lu_factor": lambda L, x, y: (L.linalg.lu_factor(x)[0].imag * _weights(L, 3)).sum(),
    "eig": lambda L, x, y: (L.linalg.eig(x)[1].abs() ** 3).sum() + L.linalg.eig(x)[0].imag.sum(),
}


def _complex_run(L, name, a, b):
    x = L.tensor(a.copy(), requires_grad=True)
    y = L.tensor(b.copy(), requires_grad=True)
    loss = COMPLEX_LOSSES[name](L, x, y)
    gx = L.autograd.grad(loss, x, create_graph=True)[0]
    ggx = L.autograd.grad((gx.real ** 2).sum() + (gx.imag * 0.5).sum(), x)[0]
    return [t.detach().resolve_conj().numpy() for t in (loss, gx, ggx)]


@pytest.mark.parametrize("name", sorted(COMPLEX_LOSSES))
def test_complex_inputs_match_pytorch_to_second_order(name):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3)) + 3 * np.eye(3)
    b = rng.standard_normal((3, 2)) + 1j * rng.standard_normal((3, 2))
    for ours, theirs in zip(_complex_run(retrograd, name, a, b), _complex_run(torch, name, a, b)):
        np.testing.assert_allclose(ours, theirs, atol=1e-8)


@pytest.mark.parametrize("loss", [
    lambda L, x: L.linalg.eigh(x + x.mH)[1].real.sum(),
    lambda L, x: L.linalg.svd(x)[0].imag.sum(),
    lambda L, x: L.linalg.eig(x)[1].real.sum(),
])
def test_phase_dependent_losses_raise_like_pytorch(loss):
    rng = np.random.default_rng(3)
    a = rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3))
    for L in (torch, retrograd):
        x = L.tensor(a, requires_grad=True)
        with pytest.raises(RuntimeError, match="e\\^\\{i phi\\}"):
            L.autograd.grad(loss(L, x), x)
