"""``retrograd.linalg``: PyTorch's ``torch.linalg`` namespace.

>>> import retrograd as torch
>>> torch.linalg.det(torch.tensor([[2.0, 0.0], [0.0, 3.0]]))
tensor(6.)
"""

from __future__ import annotations

from .ops.arithmetic import matmul
from .ops.diagonal import diagonal as _diagonal
from .ops.linalg import (
    LinAlgError,
    cholesky,
    det,
    eigh,
    eigvalsh,
    inv,
    lstsq,
    matrix_norm,
    matrix_power,
    multi_dot,
    pinv,
    solve,
    solve_ex,
    svdvals,
    vecdot,
)
from .ops.linalg import linalg_cross as cross
from .ops.linalg import linalg_norm as norm
from .ops.linalg import linalg_qr as qr
from .ops.linalg import linalg_slogdet as slogdet
from .ops.linalg import linalg_svd as svd
from .ops.linalg_eig import eig, eigvals
from .ops.linalg_factor import householder_product, ldl_factor, ldl_factor_ex, ldl_solve
from .ops.linalg_func import cond, matrix_exp, matrix_rank, tensorinv, tensorsolve, vander
from .ops.linalg_lu import inv_ex, lu_factor, lu_factor_ex
from .ops.linalg_lu import linalg_lu as lu
from .ops.linalg_lu import linalg_lu_solve as lu_solve
from .ops.linalg_triangular import cholesky_ex, solve_triangular
from .ops.norms import vector_norm

__all__ = ["cholesky", "cholesky_ex", "cond", "cross", "det", "diagonal", "eig", "eigh", "eigvals",
           "eigvalsh", "householder_product", "inv", "inv_ex", "ldl_factor", "ldl_factor_ex",
           "ldl_solve", "LinAlgError", "lstsq", "lu", "lu_factor", "lu_factor_ex", "lu_solve",
           "matmul", "matrix_exp", "matrix_norm", "matrix_power", "matrix_rank", "multi_dot",
           "norm", "pinv", "qr", "slogdet", "solve", "solve_ex", "solve_triangular", "svd",
           "svdvals", "tensorinv", "tensorsolve", "vander", "vecdot", "vector_norm"]


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """The diagonals of the matrices over (dim1, dim2)."""
    return _diagonal(A, offset, dim1, dim2)
