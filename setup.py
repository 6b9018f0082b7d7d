"""Builds the compiled kernels (webapp/profiles/kernels/*.pyx, Cython); the rest of the
project's metadata is in pyproject.toml."""

from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup

KERNELS = sorted(Path("webapp/profiles/kernels").glob("*.pyx"))

setup(ext_modules=cythonize(
    [Extension(".".join(path.with_suffix("").parts), [str(path)], extra_compile_args=["-O2"]) for path in KERNELS],
    compiler_directives={"language_level": 3},
))
