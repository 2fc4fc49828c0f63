# C layout for the compiled form only (see autograd/graph.pxd): TensorBase, the fields of
# every Tensor, is an extension type; Tensor itself stays an ordinary subclass.

cdef class TensorBase:
    cdef object __weakref__
    cdef public object _base, _data, _extra, _grad, _grad_fn, _output_nr, _requires_grad, _vc
