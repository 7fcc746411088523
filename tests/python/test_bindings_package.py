"""The pure-Python package over punchlab._core: every advertised name
resolves, the areas are the extension's, and a missing extension is a
clear ImportError that says how to build it."""

import os
import shutil
import subprocess

import pytest

import punchlab
from conftest import FIXTURES, PYTHON, PYTHON_DIR


def test_every_advertised_name_resolves():
    for name in punchlab.__all__:
        assert getattr(punchlab, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        punchlab.nothing_here


def test_areas_are_the_extension():
    from punchlab import _core, disco, keys, nat, stun
    assert nat.NatConfig is _core.nat.NatConfig and stun.Message is _core.stun.Message
    assert disco.Sealer is _core.disco.Sealer and keys.NodePrivateKey is _core.NodePrivateKey
    assert punchlab.load_scenario is _core.load_scenario
    assert _core.HAVE_RUN_SIM in (True, False)


def test_without_the_extension(tmp_path):
    # The package as it would be where pybind11 was missing: no _core*.so.
    shutil.copytree(os.path.join(PYTHON_DIR, "punchlab"), tmp_path / "punchlab",
                    ignore=shutil.ignore_patterns("_core*", "__pycache__"))
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    r = subprocess.run([PYTHON, "-c", "import punchlab; punchlab.load_scenario"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 1
    assert "ImportError: punchlab's C++ extension (punchlab._core) cannot be loaded" in r.stderr
    assert "--target punchlab_core" in r.stderr
    # The analysis side reads files only and still works.
    r = subprocess.run([PYTHON, "-m", "punchlab.report", str(FIXTURES / "derp-then-direct"),
                        "-o", str(tmp_path / "r.html")], capture_output=True, text=True, env=env,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "r.html").stat().st_size > 10000
