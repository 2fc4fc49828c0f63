"""PyTorch's OpInfo database as our spec: every op there, compared with retrograd.

Each considered OpInfo either fully matches (forward in float64 and float32, gradients,
double backward, error classes; see opdb_harness) or is in tests/opdb_known.py with the
class of its first failure. An op that starts to match must leave the list, and one that
fails differently must have its entry updated (scripts/opdb_report.py --known), so the list
stays honest and can only shrink. Counts: docs/opdb.md.
"""

import warnings

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("expecttest")  # torch.testing._internal needs it

import opdb_harness
from opdb_known import OPS as KNOWN

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    _OPS = {n: op for n, op in opdb_harness.ops().items() if opdb_harness.aside(op) is None}


def test_known_list_names_real_ops():
    assert sorted(set(KNOWN) - set(_OPS)) == []


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("name", sorted(_OPS))
def test_op_matches_pytorch(name):
    got = opdb_harness.status(_OPS[name])
    known = KNOWN.get(name)
    if known is None:
        assert got == "ok", f"{name}: {got}"
    else:
        assert got != "ok", f"{name} now matches PyTorch: remove it from tests/opdb_known.py"
        assert opdb_harness.failure_class(got) == opdb_harness.failure_class(known), \
            f"{name} fails differently now: {got!r} (listed: {known!r})"
