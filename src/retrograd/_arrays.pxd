# The compiled form's reads of a NumPy array's dtype and shape, from the array's C struct
# instead of through its Python attributes (each of which costs an attribute lookup, and
# ``shape`` a new tuple). Hot modules cimport these in their own .pxd; _arrays.py holds
# the same functions for the pure form. Anything that is not exactly an ndarray (a CuPy
# array, a NumPy scalar) takes the attribute path, so the C reads only ever see ndarrays.
cimport numpy as cnp

cnp.import_array()


cdef inline object dtype_of(object a):
    if type(a) is cnp.ndarray:
        return <object>cnp.PyArray_DESCR(<cnp.ndarray>a)
    return a.dtype


cdef inline bint is_float(object dt):
    """Floating or complex: kind "f" or "c"."""
    cdef char k
    if isinstance(dt, cnp.dtype):
        k = (<cnp.dtype>dt).kind
        return k == b"f" or k == b"c"
    return dt.kind in "fc"


cdef inline bint same_meta(object a, object shape, object dt):
    """``a.shape == shape and a.dtype is dt``."""
    cdef cnp.npy_intp* dims
    cdef Py_ssize_t i, n
    if type(a) is not cnp.ndarray or type(shape) is not tuple:
        return a.shape == shape and a.dtype is dt
    if <object>cnp.PyArray_DESCR(<cnp.ndarray>a) is not dt:
        return False
    n = cnp.PyArray_NDIM(<cnp.ndarray>a)
    if n != len(<tuple>shape):
        return False
    dims = cnp.PyArray_DIMS(<cnp.ndarray>a)
    for i in range(n):
        if dims[i] != <cnp.npy_intp>(<tuple>shape)[i]:
            return False
    return True
