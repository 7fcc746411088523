"""Fixtures for the real-peer suites: our binary and a fresh World per test."""

import os

import pytest

import netlab
from world import World


@pytest.fixture(scope="session")
def node_bin():
    bin_dir = os.environ.get("PUNCHLAB_BIN_DIR", "")
    path = os.path.join(bin_dir, "punchlab-node")
    if not os.access(path, os.X_OK):
        pytest.fail("punchlab-node not found at %r: build it and set PUNCHLAB_BIN_DIR to the "
                    "build's sim/ directory" % path)
    return path


@pytest.fixture
def world(node_bin, tmp_path):
    with netlab.Lab() as lab:
        yield World(lab, node_bin, tmp_path)
        # Leaving the with-block deletes everything, even when the test failed.
    assert not lab.leftovers()

