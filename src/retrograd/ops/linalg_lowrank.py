"""Randomized low-rank SVD and PCA (``svd_lowrank``, ``pca_lowrank``): Halko, Martinsson and
Tropp's range finder with power iterations, written with differentiable ops (qr, svd,
matmul), so gradients flow through the whole computation for the drawn test matrix.
"""

from __future__ import annotations

from .creation import randn
from .decompositions import Qr, Svd
from .linalg_triangular import _adj

__all__ = ["pca_lowrank", "svd_lowrank"]


def _orthonormal_range(Y):
    """An orthonormal basis of Y's columns (reduced QR's Q)."""
    return Qr.generic(Y, mode="reduced")[0]


def _range_finder(A, q: int, niter: int):
    """Q (m x q) with orthonormal columns whose span approximates A's range: Q of A R for a
    Gaussian R, refined by ``niter`` passes through A^H and A (each re-orthonormalized so
    small singular directions are not lost to rounding)."""
    R = randn(*A.shape[:-2], A.shape[-1], q, dtype=A.dtype)
    Q = _orthonormal_range(A @ R)
    for _ in range(niter):
        Q = _orthonormal_range(A @ _orthonormal_range(_adj(A) @ Q))
    return Q


def svd_lowrank(A, q=6, niter=2, M=None):
    """``(U, S, V)`` with ``A ~ U diag(S) V^H`` of rank ``min(q, m, n)`` (of ``A - M`` when M
    is given), by a randomized range finder: results vary with the random state."""
    if M is not None:
        A = A - M
    rows, cols = A.shape[-2:]
    q = min(6 if q is None else q, rows, cols)
    if rows < cols:  # work on the tall A^H: the range finder then draws the smaller matrix
        U, S, V = svd_lowrank(_adj(A), q, niter)
        return V, S, U
    Q = _range_finder(A, q, niter)
    u, s, vh = Svd.generic(_adj(Q) @ A, full_matrices=False)
    return Q @ u, s, _adj(vh)


def pca_lowrank(A, q=None, center=True, niter=2):
    """``(U, S, V)``: a randomized low-rank SVD of A with its column means removed when
    ``center``; the principal directions are V's columns."""
    rows, cols = A.shape[-2:]
    if q is None:
        q = min(6, rows, cols)
    elif not (isinstance(q, int) and 0 <= q <= min(rows, cols)):
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than "
                         f"min(m, n)={min(rows, cols)}")
    if niter < 0:
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if center:
        A = A - A.mean(-2, keepdim=True)
    return svd_lowrank(A, q, niter)
