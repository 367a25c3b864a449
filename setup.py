"""Build the optional compiled codec; everything else is in pyproject.toml.

The aio-libs way (multidict, yarl, frozenlist): the pure-Python package is
complete on its own, and its compiled twins ``amiasync/_c*.pyx`` are built
with Cython when a C compiler is there. When compiling fails (no compiler, no
Python headers) the install goes on without them, with a warning;
``AMIASYNC_NO_EXTENSIONS=1`` at build time skips them altogether. The sdist
carries the generated C files, so a machine without Cython can still build.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).parent
NAMES = ["_cmessage", "_cdispatch"]
NO_EXTENSIONS = (
    os.environ.get("AMIASYNC_NO_EXTENSIONS", "") not in ("", "0")
    or sys.implementation.name != "cpython"
)


def extensions() -> list[Extension]:
    if NO_EXTENSIONS:
        print("AMIASYNC_NO_EXTENSIONS: installing the pure-Python package", file=sys.stderr)
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        # An sdist without Cython: compile the C files generated when it was made.
        sources = [HERE / "amiasync" / f"{name}.c" for name in NAMES]
        if not all(source.exists() for source in sources):
            print("no Cython and no generated C: pure-Python package", file=sys.stderr)
            return []
        return [Extension(f"amiasync.{name}", [f"amiasync/{name}.c"]) for name in NAMES]
    return cythonize(
        [Extension(f"amiasync.{name}", [f"amiasync/{name}.pyx"]) for name in NAMES],
        compiler_directives={"language_level": "3"},
        quiet=True,
    )


class OptionalBuildExt(build_ext):
    """build_ext that warns, instead of failing, when an extension cannot be compiled."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # no compiler at all (DistutilsPlatformError, ...)
            self._skipped(exc)

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:  # CCompilerError, DistutilsExecError, missing headers
            self._skipped(exc)

    @staticmethod
    def _skipped(exc: Exception) -> None:
        print(
            f"WARNING: amiasync's compiled codec was not built ({exc}); "
            "the pure-Python implementation will be used",
            file=sys.stderr,
        )


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
