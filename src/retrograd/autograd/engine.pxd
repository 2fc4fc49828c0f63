# C types for the compiled form only: Cython reads this file beside engine.py, the pure
# form never sees it, and the .py stays the one source of the logic. The index loops over
# a node's flat ``_edges`` and ``_saved_meta`` tuples (graph.py) run on C integers, not
# on Python ints drawn from a range object, and the pass's containers are typed so that
# their lookups go straight to the dict and list C API.
import cython

from retrograd._arrays cimport same_meta
from retrograd.autograd.graph cimport Node

@cython.locals(i=cython.Py_ssize_t, j=cython.Py_ssize_t, k=cython.Py_ssize_t,
               n_res=cython.Py_ssize_t, edges=tuple, meta=tuple, deps=dict, first=dict,
               ready=list, plain=cython.bint, compiled=cython.bint, general=cython.bint, node=Node)
cpdef _loop(run)

@cython.locals(i=cython.Py_ssize_t, edges=tuple, deps=dict, stack=list, is_root=set)
cpdef dict _count_dependencies(roots)

