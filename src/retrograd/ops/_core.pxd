# C types for the compiled form only (see autograd/engine.pxd): in ``apply`` the node is a
# Node (autograd/graph.pxd) and the result and the Tensor inputs are TensorBases
# (_tensor.pxd), whose fields it reads and writes as struct members.
from retrograd._tensor cimport TensorBase
from retrograd.autograd.graph cimport Node
from retrograd._arrays cimport dtype_of, is_float
