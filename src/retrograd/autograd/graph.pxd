# C layout for the compiled form only (Cython reads this beside graph.py; the pure form
# never sees it): Node is an extension type, so compiled code that knows a value is a
# Node reads and writes its fields as struct members instead of through the type's slot
# descriptors.

cdef class Node:
    cdef object __weakref__
    cdef public object _edges, _hooks, _meta, _out_meta, _pre_hooks, _saved_meta, _where
    cdef public object saved
