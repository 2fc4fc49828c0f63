"""PyTorch's OpInfo database as our spec: every op there, compared with retrograd.

Each considered OpInfo either fully matches (forward in float64 and float32, gradients,
double backward, error classes; see opdb_harness) or is in tests/opdb_known.py with the
class of its first failure; an op that also takes complex128 runs its complex samples too,
against the list's COMPLEX part. An op that starts to match must leave the list, and one that
fails differently must have its entry updated (scripts/opdb_report.py --known), so the list
stays honest and can only shrink. Counts: docs/opdb.md.
"""

import warnings

import expecttest  # noqa: F401  (torch.testing._internal needs it)
import opdb_harness
import pytest
import torch  # noqa: F401  (the oracle: a missing install fails, never skips)
from opdb_known import COMPLEX as KNOWN_COMPLEX
from opdb_known import OPS as KNOWN

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    _OPS = {n: op for n, op in opdb_harness.ops().items() if opdb_harness.aside(op) is None}
_COMPLEX = sorted(n for n, op in _OPS.items() if opdb_harness.has_complex(op))


def test_known_list_names_real_ops():
    assert sorted(set(KNOWN) - set(_OPS)) == []
    assert sorted(set(KNOWN_COMPLEX) - set(_COMPLEX)) == []


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("name", sorted(_OPS))
def test_op_matches_pytorch(name):
    got = opdb_harness.status(_OPS[name])
    opdb_harness.check_known(name, got, KNOWN.get(name))


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("name", _COMPLEX)
def test_op_complex_samples_match_pytorch(name):
    """The complex128 samples of an op that also takes real dtypes: forward, and gradients
    (complex leaves included: PyTorch's .grad convention) and double backward."""
    got = opdb_harness.complex_status(_OPS[name])
    opdb_harness.check_known(name, got, KNOWN_COMPLEX.get(name))
