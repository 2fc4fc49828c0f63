"""The two forms of the hot path (src/retrograd/_compiled.py): the compiled one is really
loaded when it was built, ``RETROGRAD_PURE_PYTHON=1`` gives the pure one, an edited source
is never shadowed by a stale extension, and the engine, autograd and op-table tests pass
in the pure form too (the rest of the suite runs in whichever form is installed: compiled
after README's install command)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

import retrograd
from retrograd import _compiled

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "..", "src")
PKG = os.path.join(SRC, "retrograd")
FORCED = os.environ.get("RETROGRAD_PURE_PYTHON", "") not in ("", "0")


def _stamp() -> dict | None:
    try:
        with open(os.path.join(PKG, _compiled.STAMP)) as f:
            return json.load(f)
    except OSError:
        return None


def _built() -> bool:
    return all(_compiled._paths(name)[1] is not None for name in _compiled.HOT)


def _run(code: str, env: dict | None = None, cwd: str | None = None) -> str:
    res = subprocess.run([sys.executable, "-W", "always", "-c", code], capture_output=True,
                         text=True, env={**os.environ, **(env or {})}, cwd=cwd, timeout=120)
    assert res.returncode == 0, res.stderr
    return res.stdout + res.stderr


def test_a_build_that_was_attempted_is_loaded():
    """A checkout that ran the install (a stamp exists) runs compiled: a failed build, or
    extensions that do not load, fail here instead of passing as the fast form."""
    stamp = _stamp()
    if stamp is None or FORCED:
        pytest.skip("this tree was not built by setup.py (no stamp), or the pure form is forced")
    assert "failed" not in stamp, f"the compiled core failed to build: {stamp['failed']}"
    assert _built(), "the stamp says built, yet some extension modules are missing"
    assert retrograd.__config__.compiled(), retrograd.__config__.show()
    for name in _compiled.HOT:
        assert sys.modules[name].__file__.endswith(tuple(_ext_suffixes())), name


def _ext_suffixes():
    import importlib.machinery
    return importlib.machinery.EXTENSION_SUFFIXES


def test_show_config_names_every_hot_module():
    text = retrograd.__config__.show()
    assert text.startswith("retrograd built with:")
    for name in _compiled.HOT:
        assert name in text
    form = "compiled" if retrograd.__config__.compiled() else "pure Python"
    assert f"hot path: {form}" in text


def test_pure_python_env_forces_the_source():
    out = _run("import sys; sys.path.insert(0, '.'); import retrograd, retrograd.ops._core as c;"
               "print(retrograd.__config__.compiled(), c.__file__)",
               env={"RETROGRAD_PURE_PYTHON": "1"}, cwd=SRC)
    assert "False" in out and "_core.py" in out


def _edited_copy(tmp_path, rel: str, addition: str) -> str:
    """Copy the built package, append ``addition`` to the file ``rel`` in the copy, import
    the copy and print ``form <compiled?> <EDITED from ops._core, or None>``."""
    if not _built():
        pytest.skip("no compiled form in this tree to go stale")
    shutil.copytree(PKG, tmp_path / "retrograd",
                    ignore=shutil.ignore_patterns("__pycache__", "*.c"))
    path = tmp_path / "retrograd" / rel
    assert path.exists()
    path.write_text(path.read_text() + addition)
    return _run("import sys; sys.path.insert(0, '.'); import retrograd, retrograd.ops._core as c;"
                "print('form', retrograd.__config__.compiled(), getattr(c, 'EDITED', None))",
                env={"RETROGRAD_PURE_PYTHON": ""}, cwd=str(tmp_path))


def test_an_edited_source_runs_instead_of_its_stale_extension(tmp_path):
    out = _edited_copy(tmp_path, "ops/_core.py", "\nEDITED = True\n")
    assert "form False True" in out
    assert "ops/_core.py changed since the compiled core was built" in out


def test_an_edited_pxd_makes_its_extension_stale(tmp_path):
    """The C types beside a hot module (engine.pxd) are part of its source: after an edit
    of them the built extension is not the code the files describe."""
    out = _edited_copy(tmp_path, "autograd/engine.pxd", "\n# edited\n")
    assert "form False None" in out
    assert "autograd/engine.py changed since the compiled core was built" in out


def test_the_pure_form_runs_without_cython_installed():
    """The hot modules' C type declarations (``cython.locals``) come from Cython's pure
    mode; without Cython the pure form takes them from ``_cython_shim``."""
    out = _run("import sys\n"
               "class Block:\n"
               "    def find_spec(self, name, path=None, target=None):\n"
               "        if name.split('.')[0] in ('cython', 'Cython'):\n"
               "            raise ImportError(name)\n"
               "sys.meta_path.insert(0, Block()); sys.path.insert(0, '.')\n"
               "import retrograd, retrograd.ops._core as c\n"
               "x = retrograd.ones(2, requires_grad=True); (x * x).sum().backward()\n"
               "print(c.cython.__name__, x.grad.tolist())",
               env={"RETROGRAD_PURE_PYTHON": "1"}, cwd=SRC)
    assert "retrograd._cython_shim [2.0, 2.0]" in out


def test_creation_sites_name_the_users_line_in_either_form():
    x = retrograd.ones(2, requires_grad=True)
    y = x * 2  # the line the site must name
    line = sys._getframe(0).f_lineno - 1
    from retrograd._site import site_line
    assert site_line(y.grad_fn._where) == line


PURE_SUBSET = ["test_autograd_engine.py", "test_autograd_safety.py", "test_autograd_functional.py",
               "test_optable.py", "test_ops_rows.py", "test_ops_core.py", "test_tutorial.py",
               "test_threads.py"]


def test_engine_autograd_and_op_table_pass_in_the_pure_form():
    if FORCED:
        pytest.skip("this run is already the pure form")
    res = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "-p", "no:cacheprovider",
         *PURE_SUBSET], cwd=HERE, capture_output=True, text=True, timeout=900,
        env={**os.environ, "RETROGRAD_PURE_PYTHON": "1"})
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]


def test_without_a_c_compiler_the_install_keeps_the_pure_form(tmp_path):
    """setup.py with a compiler that always fails: the build succeeds, records why, and the
    package then runs pure Python with one warning naming the cause."""
    root = os.path.join(HERE, "..")
    if not os.path.exists(os.path.join(PKG, "ops", "_core.c")):
        pytest.skip("Cython's C sources are not in this tree (it was not built)")
    for name in ("setup.py", "pyproject.toml"):
        shutil.copy(os.path.join(root, name), tmp_path / name)
    shutil.copytree(SRC, tmp_path / "src", ignore=shutil.ignore_patterns(
        "__pycache__", "*.so", _compiled.STAMP, "*.egg-info"))
    res = subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--inplace"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=600,
                         env={**os.environ, "CC": "false", "RETROGRAD_PURE_PYTHON": ""})
    assert res.returncode == 0, res.stderr[-2000:]
    assert "could not build the compiled core" in res.stderr
    with open(tmp_path / "src" / "retrograd" / _compiled.STAMP) as f:
        assert "the C compiler `false` failed" in json.load(f)["failed"]
    out = _run("import sys; sys.path.insert(0, 'src'); import retrograd;"
               "print('form', retrograd.__config__.compiled())", cwd=str(tmp_path),
               env={"RETROGRAD_PURE_PYTHON": ""})
    assert "form False" in out
    assert out.count("the compiled core could not be built") == 1
