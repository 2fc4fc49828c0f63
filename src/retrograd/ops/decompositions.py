"""The decompositions of ``torch.linalg`` as primitives (det, slogdet, inv, solve, cholesky,
qr, eigh, svd) with their matrix-calculus gradients; everything batches over leading dims.

Decomposition gradients are PyTorch's: valid for distinct eigenvalues / singular values;
``eigh`` and ``cholesky`` read one triangle, so their gradients are the symmetric ones.
The public functions are in ``linalg``.
"""

from __future__ import annotations

import numpy as np

from ..backend import xp
from ._core import Primitive
from .complex import Complex, Conj, Imag, Real
from .diagonal import _arr, diag_embed, diagonal, tril
from .indexing import getitem
from .joining import cat
from .reduction import _prod_others
from .shape import transpose, unsqueeze
from .unary import where


class LinAlgError(RuntimeError):
    """A matrix was singular or not positive-definite (``torch.linalg.LinAlgError``)."""


# --------------------------------------------------------------------------- helpers

def _mT(a):
    return transpose(a, -1, -2)


def _adj(x):
    """The conjugate transpose (the plain transpose of a real matrix)."""
    return _conj(_mT(x))


def _conj(x):
    return Conj.generic(x) if _arr(x).dtype.kind == "c" else x


def _gauge_check(inner, message: str) -> None:
    """A loss that does not depend on the phases of complex singular/eigen vectors gives
    ``inner`` (diag(V^H gV) or its analogue) a zero imaginary part: else no gradient."""
    d = np.diagonal(np.asarray(_arr(inner)), 0, -2, -1)
    if d.dtype.kind == "c" and np.abs(d.imag).max(initial=0) > 1e-6 * max(
            1.0, float(np.abs(d).max(initial=0))):
        raise RuntimeError(message)


def _eye_like(x, n: int):
    return xp(_arr(x)).eye(n, dtype=bool)


def _sq(x, name: str) -> None:
    """PyTorch's checks for a batch of square floating matrices."""
    if x.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if x.shape[-1] != x.shape[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are "
                           f"{x.shape[-2]} by {x.shape[-1]} matrices")
    _float(x, name)


def _float(x, name: str) -> None:
    if x.dtype.kind not in "fc":
        names = {"i": "Long" if x.dtype.itemsize == 8 else "Int", "b": "Bool", "u": "Byte"}
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. "
                           f"Got {names.get(x.dtype.kind, str(x.dtype))}")


def _zero_pivot(a) -> int:
    """1-based index of the first zero pivot of LU with partial pivoting (as LAPACK's info)."""
    a = np.array(a, dtype=np.float64)
    n = a.shape[0]
    for k in range(n):
        p = k + int(np.argmax(np.abs(a[k:, k])))
        if a[p, k] == 0:
            return k + 1
        a[[k, p]] = a[[p, k]]
        a[k + 1:] -= np.outer(a[k + 1:, k] / a[k, k], a[k])
    return n


def _singular(name: str, x, msg) -> LinAlgError:
    batch = x.reshape(-1, *x.shape[-2:])
    for b, mat in enumerate(batch):
        if np.linalg.matrix_rank(np.asarray(mat)) < mat.shape[0] or not np.isfinite(mat).all():
            prefix = f"(Batch element {b}): " if x.ndim > 2 else ""
            return LinAlgError(f"{name}: {prefix}{msg(mat)}")
    return LinAlgError(f"{name}: {msg(batch[0])}")


def _inv_msg(mat) -> str:
    return (f"The diagonal element {_zero_pivot(mat)} is zero, the inversion could not be "
            "completed because the input matrix is singular.")


def _inv(x):
    try:
        return xp(x).linalg.inv(x)
    except np.linalg.LinAlgError:
        raise _singular("linalg.inv", x, _inv_msg) from None


# ---------------------------------------------------------------------- decompositions

def _bcast_mat(v):
    """(..., n) -> (..., 1, n): scale columns."""
    return unsqueeze(v, -2)


def _bcast_col(v):
    return unsqueeze(v, -1)


class Det(Primitive):
    """det(A).  d/dA = grad * det(A) * inv(A)^T."""

    __slots__ = ()
    _name = "LinalgDetBackward0"
    formula = "grad * det * inv(A)^T"

    def forward(ctx, x):
        _sq(x, "linalg.det")
        out = xp(x).asarray(xp(x).linalg.det(x))
        ctx.save(x, out)
        return out

    def backward(ctx, grad):
        x, out = ctx.saved
        return _bcast_col(_bcast_col(grad)) * _conj(_cofactor(x, out))

    def jvp(ctx, tx):
        x, out = ctx.saved
        return (_cofactor(x, out) * tx).sum((-2, -1))


def _cofactor(x, det):
    """The cofactor matrix det(A) A^{-T}; through the SVD when some A is singular, as
    PyTorch does: U diag(prod of the other singular values) Vh * det(U) det(Vh)."""
    if (_arr(det) != 0).all():
        return _bcast_col(_bcast_col(det)) * _mT(_inverse(x))
    u, s, vh = Svd.generic(x, full_matrices=False)
    m = xp(_arr(s))
    sign = m.linalg.det(_arr(u)) * m.linalg.det(_arr(vh))
    others = _prod_others(s, None, (s.ndim - 1,), False, s.shape)
    return (u * _bcast_mat(others)) @ vh * m.asarray(sign)[..., None, None]


class Slogdet(Primitive):
    """(sign, log|det A|).  d/dA logabsdet = inv(A)^T; sign is locally constant (gradient 0)."""

    __slots__ = ()
    _name = "LinalgSlogdetBackward0"
    formula = "grad_logabsdet * inv(A)^T"

    def forward(ctx, x):
        _sq(x, "linalg.slogdet")
        sign, logabs = xp(x).linalg.slogdet(x)
        sign = xp(x).asarray(sign, dtype=x.dtype)
        ctx.save(x, sign)
        return sign, xp(x).asarray(logabs, dtype=x.real.dtype)

    def backward(ctx, grad_sign, grad=None):
        x, sign = ctx.saved
        if _arr(x).dtype.kind == "c" and grad_sign is not None:
            # sign = e^{i theta} moves with Im(log det): its gradient joins as i * c
            c = -Imag.generic(_conj(grad_sign) * sign)
            grad = Complex.generic(c * 0 if grad is None else grad, c)
        if grad is None:
            return None
        return _bcast_col(_bcast_col(grad)) * _adj(_inverse(x))

    def jvp(ctx, tx):
        x, sign = ctx.saved
        t = (_mT(_inverse(x)) * tx).sum((-2, -1))  # d log det A = tr(A^-1 dA)
        if _arr(x).dtype.kind != "c":
            return sign * 0, t
        # complex: log|det| moves with Re, the sign e^{i theta} with i Im
        return sign * Complex.generic(Real.generic(t) * 0, Imag.generic(t)), Real.generic(t)


class Inv(Primitive):
    """inv(A).  d/dA = -inv^H @ grad @ inv^H."""

    __slots__ = ()
    _name = "LinalgInvExBackward0"
    formula = "-out^H @ grad @ out^H"

    def forward(ctx, x):
        _sq(x, "linalg.inv")
        out = _inv(x)
        ctx.save(out)
        return out

    def backward(ctx, grad):
        (out,) = ctx.saved
        return -(_adj(out) @ grad @ _adj(out))

    def jvp(ctx, tx):
        (out,) = ctx.saved
        return -(out @ tx @ out)


class Solve(Primitive):
    """X = A^{-1} B.  d/dB = A^{-H} grad, d/dA = -d/dB @ X^H."""

    __slots__ = ()
    _name = "LinalgSolveExBackward0"
    promote = True
    formula = "gB = solve(A^H, grad), gA = -gB @ X^H"

    def forward(ctx, a, b):
        _sq(a, "linalg.solve")
        if a.shape[-1] != b.shape[-2]:
            raise RuntimeError(
                f"linalg.solve: Incompatible shapes of A and B for the equation AX = B "
                f"({a.shape[-2]}x{a.shape[-1]} and {b.shape[-2]}x{b.shape[-1]})")
        try:
            out = xp(a).linalg.solve(a, b)
        except np.linalg.LinAlgError:
            raise LinAlgError("torch.linalg.solve: The solver failed because the input matrix "
                              "is singular.") from None
        ctx.save(a, out)
        return out

    def backward(ctx, grad):
        a, out = ctx.saved
        gb = Solve.generic(_adj(a), grad)
        return -(gb @ _adj(out)), gb

    def jvp(ctx, ta, tb):
        a, out = ctx.saved
        rhs = tb if ta is None else (-(ta @ out) if tb is None else tb - ta @ out)
        return Solve.generic(a, rhs)


def _phi(x):
    """Lower triangle with the diagonal halved."""
    n = x.shape[-1]
    m = xp(_arr(x))
    return where(m.eye(n, dtype=bool), x * 0.5, where(m.tril(m.ones((n, n), bool), -1), x, 0))


class Cholesky(Primitive):
    """L with A = L L^H.  With P = L^H tril(gL): d/dA = L^{-H} (tril(P) + tril(P, -1)^H) / 2
    L^{-1} (the diagonal keeps P's imaginary part for complex A, as PyTorch's gradient)."""

    __slots__ = ()
    _name = "LinalgCholeskyExBackward0"
    formula = "L^-H (tril(P) + tril(P, -1)^H) / 2 L^-1, P = L^H tril(grad)"

    def forward(ctx, x):
        _sq(x, "linalg.cholesky")
        m = xp(x)
        try:
            out = m.linalg.cholesky(x)
        except np.linalg.LinAlgError:
            raise _singular_pd(x) from None
        ctx.save(out)
        return out

    def backward(ctx, grad):
        (L,) = ctx.saved
        Linv = _inverse(L)
        p = _adj(L) @ tril(grad)
        return _adj(Linv) @ ((tril(p) + _adj(tril(p, -1))) * 0.5) @ Linv

    def jvp(ctx, tx):
        (L,) = ctx.saved
        Linv = _inverse(L)
        return L @ _phi(Linv @ tx @ _adj(Linv))


def _singular_pd(x) -> LinAlgError:
    batch = x.reshape(-1, *x.shape[-2:])
    for b, mat in enumerate(batch):
        for k in range(1, mat.shape[0] + 1):
            try:
                np.linalg.cholesky(np.asarray(mat[:k, :k]))
            except np.linalg.LinAlgError:
                prefix = f"(Batch element {b}): " if x.ndim > 2 else ""
                return LinAlgError(
                    f"linalg.cholesky: {prefix}The factorization could not be completed because "
                    f"the input is not positive-definite (the leading minor of order {k} is not "
                    "positive-definite).")
    return LinAlgError("linalg.cholesky: The factorization could not be completed because the "
                       "input is not positive-definite.")


class Qr(Primitive):
    """(Q, R) = qr(A) for m >= n.  d/dA = (gQ + Q copyltu(M)) R^{-T}, M = R gR^T - gQ^T Q."""

    __slots__ = ("mode",)
    _name = "LinalgQrBackward0"
    formula = "(gQ + Q copyltu(R gR^T - gQ^T Q)) R^-T"

    def forward(ctx, x, mode="reduced"):
        _float(x, "linalg.qr")
        if x.ndim < 2:
            raise RuntimeError("linalg.qr: The input tensor A must have at least 2 dimensions.")
        if mode not in ("reduced", "complete", "r"):
            raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                               "'reduced' (default), 'r', or 'complete'")
        ctx.mode = mode
        m = xp(x)
        q, r = m.linalg.qr(x, mode="complete" if mode == "complete" else "reduced")
        if mode == "r":
            q = m.zeros((0,), x.dtype)
        ctx.save(q, r)
        return q, r

    def backward(ctx, gq, gr=None):
        q, r = ctx.saved
        gr = r * 0 if gr is None else gr
        gq = q * 0 if gq is None else gq
        if ctx.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed "
                               "when mode='r'. Please use linalg.qr(A, mode='reduced') if you "
                               "are going to differentiate through linalg.qr.")
        rows, cols = q.shape[-2], r.shape[-1]
        if ctx.mode == "complete" and rows > cols:
            raise RuntimeError(
                "The QR decomposition is not differentiable when mode='complete' and "
                "nrows > ncols.")
        if rows < cols:
            return _qr_wide_backward(q, r, gq, gr)
        return _qr_square_backward(q, r, gq, gr)

    def jvp(ctx, tx):
        q, r = ctx.saved
        rinv = _inverse(r)
        c = _mT(q) @ tx @ rinv
        low = tril(c, -1)
        omega = low - _mT(low)
        tr = (c - omega) @ r
        return (tx - q @ tr) @ rinv, tr


def _qr_square_backward(q, r, gq, gr):
    """A = QR with R square (m >= n, reduced)."""
    mm = r @ _adj(gr) - _adj(gq) @ q
    if _arr(mm).dtype.kind == "c":  # Q^H dQ has an imaginary diagonal: keep Re on it
        copyltu = tril(mm, -1) + _adj(tril(mm, -1)) + diag_embed(Real.generic(
            diagonal(mm, 0, -2, -1)))
    else:
        copyltu = tril(mm) + _mT(tril(mm, -1))
    return (gq + q @ copyltu) @ _adj(_inverse(r))


def _qr_wide_backward(q, r, gq, gr):
    """A = [X | Y] with m < n: X = Q U is a square QR and Y = Q V, so V = Q^T Y. Then
    d/dY = Q gV, and X sees gQ + Y gV^T through Q (with gU for its R)."""

    m = q.shape[-2]
    left, right = (..., slice(0, m)), (..., slice(m, None))
    y = getitem(q @ r, right)  # = A's trailing columns, from saved outputs only
    gu, gv = getitem(gr, left), getitem(gr, right)
    gx = _qr_square_backward(q, getitem(r, left), gq + y @ _adj(gv), gu)
    return cat([gx, q @ gv], -1)


class Eigh(Primitive):
    """(L, V) of a symmetric matrix.  d/dA = V (diag(gL) + skew(V^T gV) / E) V^T,
    E_ij = L_j - L_i."""

    __slots__ = ()
    _name = "LinalgEighBackward0"
    formula = "V (diag(gL) + skew(V^T gV) / (L_j - L_i)) V^T"

    def forward(ctx, x, UPLO="L"):
        _sq(x, "linalg.eigh")
        w, v = xp(x).linalg.eigh(x, UPLO=UPLO)
        ctx.save(w, v)
        return w, v

    def _gaps(ctx, w):
        n = w.shape[-1]
        e = _bcast_mat(w) - _bcast_col(w)
        return where(_eye_like(w, n), 1, e), _eye_like(w, n)

    def backward(ctx, gw, gv=None):
        w, v = ctx.saved
        gw = w * 0 if gw is None else gw
        if gv is None:
            return v @ (_bcast_col(gw) * _adj(v))
        e, eye = ctx._gaps(w)
        vgv = _adj(v) @ gv
        _gauge_check(vgv, "linalg_eigh_backward: The eigenvectors in the complex case are "
                     "specified up to multiplication by e^{i phi}. The specified loss function "
                     "depends on this quantity, so it is ill-defined.")
        inner = where(eye, diag_embed(gw), (vgv - _adj(vgv)) * 0.5 / e)
        return v @ inner @ _adj(v)

    def jvp(ctx, tx):
        w, v = ctx.saved
        e, eye = ctx._gaps(w)
        p = _adj(v) @ tx @ v
        dw = diagonal(p, 0, -2, -1)
        return (Real.generic(dw) if _arr(p).dtype.kind == "c" else dw), v @ where(eye, 0, p / e)


class Svd(Primitive):
    """(U, S, Vh) = svd(A).  d/dA = U [(skew(U^T gU) S + S skew(V^T gV)) / E + diag(gS)] Vh
    + projections for non-square A; E_ij = S_j^2 - S_i^2."""

    __slots__ = ("full",)
    _name = "LinalgSvdBackward0"
    formula = "U ((skew(U^T gU) S + S skew(Vh gVh^T)) / E + diag(gS)) Vh + ..."

    def forward(ctx, x, full_matrices=True):
        _float(x, "linalg.svd")
        if x.ndim < 2:
            raise RuntimeError("linalg.svd: The input tensor A must have at least 2 dimensions.")
        ctx.full = full_matrices
        u, s, vh = xp(x).linalg.svd(x, full_matrices=full_matrices)
        ctx.save(u, s, vh)
        return u, s, vh

    def _parts(ctx):
        u, s, vh = ctx.saved
        k = s.shape[-1]
        if ctx.full:
            u, vh = getitem(u, (..., slice(0, k))), getitem(vh, (..., slice(0, k), slice(None)))
        s2 = s * s
        eye = _eye_like(s, k)
        e = where(eye, 1, _bcast_mat(s2) - _bcast_col(s2))
        return u, s, vh, e, eye

    def backward(ctx, gu, gs=None, gvh=None):
        u, s, vh, e, _ = ctx._parts()
        if gs is None:
            gs = s * 0
        if gu is None and gvh is None:
            return u @ (_bcast_col(gs) * vh)
        gu = ctx.saved[0] * 0 if gu is None else gu
        gvh = ctx.saved[2] * 0 if gvh is None else gvh
        k = s.shape[-1]
        if ctx.full:
            gu, gvh = getitem(gu, (..., slice(0, k))), getitem(gvh, (..., slice(0, k),
                                                                      slice(None)))
        m, n = u.shape[-2], vh.shape[-1]
        ugu = _adj(u) @ gu
        vgv = vh @ _adj(gvh)
        num = (ugu - _adj(ugu)) * _bcast_mat(s) + _bcast_col(s) * (vgv - _adj(vgv))
        inner = _nan_safe_div(num, e) + diag_embed(gs)
        if _arr(ugu).dtype.kind == "c":
            _gauge_check(ugu + vgv, "svd_backward: The singular vectors in the complex case are "
                         "specified up to multiplication by e^{i phi}. The specified loss "
                         "function depends on this phase term, making it ill-defined.")
            # the phase of u_i against v_i: Im(u_i^H gu_i) / s_i on the diagonal
            inner = inner + diag_embed(_nan_safe_div(Imag.generic(diagonal(ugu, 0, -2, -1)),
                                                     s) * 1j)
        ga = u @ inner @ vh
        if m > k:
            ga = ga + _nan_safe_div(gu - u @ ugu, _bcast_mat(s)) @ vh
        if n > k:
            ga = ga + u @ _adj(_nan_safe_div(_adj(gvh) - _adj(vh) @ vgv, _bcast_mat(s)))
        return ga

    def jvp(ctx, tx):
        u, s, vh, e, eye = ctx._parts()
        k = s.shape[-1]
        m, n = u.shape[-2], vh.shape[-1]
        v = _adj(vh)
        p = _adj(u) @ tx @ v
        f = where(eye, 0, 1 / e)
        ps = p * _bcast_mat(s)
        sp = _bcast_col(s) * p
        du = u @ (f * (ps + _adj(ps)))
        dv = v @ (f * (sp + _adj(sp)))
        ds = diagonal(p, 0, -2, -1)
        if _arr(p).dtype.kind == "c":
            # u_i's phase against v_i moves with Im(p_ii) / s_i (on U, as PyTorch); S is real
            im = Imag.generic(ds)
            du = du + u * _bcast_mat(Complex.generic(im * 0, im / s))
            ds = Real.generic(ds)
        if m > k:
            du = du + (tx @ v - u @ p) / _bcast_mat(s)
        if n > k:
            dv = dv + (_adj(tx) @ u - v @ _adj(p)) / _bcast_mat(s)
        if ctx.full and (m > k or n > k):
            raise NotImplementedError("linalg.svd: forward-mode AD needs full_matrices=False")
        return du, ds, _adj(dv)


def _inverse(x):
    """inv(x) as a differentiable op (for gradient formulas)."""
    return Inv.generic(x)


def _nan_safe_div(num, den):
    """num / den, and 0 where num is exactly 0: a zero incoming gradient contributes nothing
    even where singular values repeat or vanish (the nuclear norm of the zero matrix has
    gradient U Vh, as in PyTorch, not NaN)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return where(num == 0, 0, num / den)
