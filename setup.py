"""Builds the compiled form of retrograd's hot path (see src/retrograd/_compiled.py).

The modules named in ``_compiled.HOT`` are ordinary Python; Cython (a build requirement in
pyproject.toml) translates each to C and the C compiler builds an extension module beside
it. Without a C compiler, or with ``RETROGRAD_PURE_PYTHON=1``, the install goes on with
the pure-Python form and says so. A stamp file records a hash of every compiled source,
so an edited checkout falls back to its sources instead of running stale extensions.
"""

from __future__ import annotations

import json
import os
import runpy
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
FORM = runpy.run_path(os.path.join(HERE, "src", "retrograd", "_compiled.py"))
PURE = os.environ.get("RETROGRAD_PURE_PYTHON", "") not in ("", "0")


def _source(name: str) -> str:
    return os.path.join("src", *name.split(".")) + ".py"


def _say(message: str) -> None:
    print(f"\n*** retrograd: {message}\n", file=sys.stderr)


class OptionalBuildExt(build_ext):
    """build_ext that falls back to the pure-Python form instead of failing the install."""

    def finalize_options(self):
        super().finalize_options()
        if self.parallel is None:
            self.parallel = os.cpu_count() or 1

    def _stamp_path(self) -> str:
        return os.path.join(os.path.dirname(self.get_ext_fullpath(FORM["HOT"][0])), FORM["STAMP"])

    def _reason(self, exc: Exception) -> str:
        kind = type(exc).__name__
        cc = getattr(getattr(self, "compiler", None), "compiler_so", None)
        if kind in ("CompileError", "LinkError", "CCompilerError") and cc:
            return f"{kind}: the C compiler `{cc[0]}` failed"
        return f"{kind}: {exc}".splitlines()[0][:160]

    def run(self):
        if not self.extensions:
            return
        stamp = self._stamp_path()
        try:
            super().run()
        except Exception as exc:  # no compiler, a compiler error: keep the pure form
            for ext in self.extensions:
                path = self.get_ext_fullpath(ext.name)
                if os.path.exists(path):
                    os.remove(path)
            reason = self._reason(exc)
            _say(f"could not build the compiled core ({reason}); installing the pure-Python "
                 "form, which runs small ops about 1.3x slower. Install a C compiler and "
                 "reinstall for the compiled form.")
            record = {"failed": reason}
        else:
            record = {"sources": {name: FORM["source_hash"](os.path.join(HERE, _source(name)))
                                  for name in FORM["HOT"]}}
        os.makedirs(os.path.dirname(stamp), exist_ok=True)
        with open(stamp, "w") as f:
            json.dump(record, f, indent=1)


def _extensions() -> list:
    if PURE:
        _say("RETROGRAD_PURE_PYTHON=1: installing the pure-Python form only.")
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        _say("Cython is not available; installing the pure-Python form.")
        return []
    try:  # _arrays.pxd cimports NumPy's C declarations (a build requirement too)
        import numpy
    except ImportError:
        _say("NumPy is not available to the build; installing the pure-Python form.")
        return []
    exts = [Extension(name, [_source(name)], include_dirs=[numpy.get_include()],
                      define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")])
            for name in FORM["HOT"]]
    return cythonize(
        exts, quiet=True, nthreads=os.cpu_count() or 1,
        compiler_directives={
            "language_level": 3,
            # Annotations document; they must not change what a function accepts.
            "annotation_typing": False,
            "binding": True,
            "embedsignature": True,
        })


setup(ext_modules=_extensions(), cmdclass={"build_ext": OptionalBuildExt})
