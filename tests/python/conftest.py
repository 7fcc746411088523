"""Shared set-up for tests/python: the punchlab package from the build tree
(PUNCHLAB_PYTHON_DIR=<build>/python), the binaries (PUNCHLAB_BIN_DIR=
<build>/sim), the hand-written fixtures, and helpers to run the report."""

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[1]
FIXTURES = HERE / "fixtures"
SCENARIOS = HERE / "scenarios"
PYTHON = "/usr/bin/python3"

PYTHON_DIR = os.environ.get("PUNCHLAB_PYTHON_DIR", "")
BIN_DIR = os.environ.get("PUNCHLAB_BIN_DIR", "")
if not PYTHON_DIR or not os.path.isdir(os.path.join(PYTHON_DIR, "punchlab")):
    raise pytest.UsageError("set PUNCHLAB_PYTHON_DIR to <build>/python, where the punchlab "
                            "package is assembled (ctest does)")
sys.path.insert(0, PYTHON_DIR)


def python_env(**extra):
    env = dict(os.environ)
    env["PYTHONPATH"] = PYTHON_DIR + (":" + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(extra)
    return env


def run_module_report(*args, env=None):
    """`/usr/bin/python3 -m punchlab.report ARGS`, as a user runs it."""
    return subprocess.run([PYTHON, "-m", "punchlab.report", *map(str, args)],
                          capture_output=True, text=True, env=env or python_env(), timeout=300)


@pytest.fixture
def punchlab_bin():
    path = os.path.join(BIN_DIR, "punchlab")
    if not BIN_DIR or not os.access(path, os.X_OK):
        pytest.fail("set PUNCHLAB_BIN_DIR to <build>/sim, where punchlab is built (ctest does)")
    return path


@pytest.fixture
def fixture_copy(tmp_path):
    """copy("derp-then-direct") -> a writable copy of a fixture directory, to break."""
    def copy(name):
        dst = tmp_path / name
        shutil.copytree(FIXTURES / name, dst)
        return dst
    return copy
