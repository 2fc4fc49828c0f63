"""PyTorch's ModuleInfo database as our spec: every module there, compared with retrograd
(forward in float64 with PyTorch's parameters loaded, gradients of inputs and parameters;
see moduledb_harness). What does not fully match is listed in tests/opdb_known.py."""

import warnings

import expecttest  # noqa: F401  (torch.testing._internal needs it)
import moduledb_harness
import opdb_harness
import pytest
import torch  # noqa: F401  (the oracle: a missing install fails, never skips)
from opdb_known import MODULES as KNOWN

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    _MODULES = {n: m for n, m in moduledb_harness.modules().items()
                if moduledb_harness.aside(m) is None}


def test_known_list_names_real_modules():
    assert sorted(set(KNOWN) - set(_MODULES)) == []


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("name", sorted(_MODULES))
def test_module_matches_pytorch(name):
    got = moduledb_harness.status(_MODULES[name])
    opdb_harness.check_known(name, got, KNOWN.get(name))
