"""Bad input to the report: a clear one-line error naming the file (and the
key or line), exit 2 -- never a traceback. Missing matplotlib or an
unwritable output: a clear message, exit 4."""

import json
import re

import pytest

from conftest import FIXTURES, python_env, run_module_report
from punchlab.analysis.errors import InputError
from punchlab.analysis.matrix_dir import load_matrix_dir
from punchlab.analysis.results_dir import load_results_dir


def edit_json(path, change):
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


# (name, how to break a copy of the derp-then-direct fixture, the message after "<dir>/")
CSV_HEAD = "time_s,src,dst,seq,path,echo_path,round_trip,rtt_ms\n"

BREAKAGES = [
    ("truncated json", lambda d: (d / "results.json").write_text('{"format": "punchlab-results/1",\n  "x": '),
     r"results\.json: not valid JSON: Expecting value at line 2 column 8"),
    ("not utf-8", lambda d: (d / "results.json").write_bytes(b'{"a": "\xff"}'),
     r"results\.json: not UTF-8 text"),
    ("wrong format", lambda d: edit_json(d / "results.json", lambda j: j.update(format="other/2")),
     r'results\.json: not a punchlab results file \(format is "other/2", expected "punchlab-results/2"\)'),
    ("top level list", lambda d: (d / "results.json").write_text("[]"),
     r"results\.json: not a punchlab results file"),
    ("missing key", lambda d: edit_json(d / "results.json", lambda j: j["pairs"][0].pop("a")),
     r"results\.json: pairs\[0\]: missing key 'a'"),
    ("wrong type", lambda d: edit_json(d / "results.json", lambda j: j["pairs"][0].update(probes_sent="lots")),
     r'results\.json: pairs\[0\]\.probes_sent: expected a non-negative integer, got "lots"'),
    ("bad path", lambda d: edit_json(d / "results.json", lambda j: j["timeline"][1].update(path="carrier-pigeon")),
     r"results\.json: timeline\[1\]\.path: expected one of direct, derp, local, none, asymmetric"),
    ("bad rtt key", lambda d: edit_json(d / "results.json", lambda j: j["pairs"][0]["rtt"].update(tcp={})),
     r"results\.json: pairs\[0\]\.rtt: unknown round-trip path 'tcp'"),
    ("no results.json", lambda d: (d / "results.json").unlink(),
     r"results\.json: no such file: .* is not a results directory"),
    ("no latency.csv", lambda d: (d / "latency.csv").unlink(),
     r"latency\.csv: no such file"),
    ("bad csv header", lambda d: (d / "latency.csv").write_text("t,src\n"),
     r"latency\.csv:1: expected the header time_s,src,dst,seq,path,echo_path,round_trip,rtt_ms"),
    ("short csv row", lambda d: (d / "latency.csv").write_text(
        CSV_HEAD + "1.0,alice,bob,0,derp,derp,derp,180\n2.0,alice,bob\n"),
     r"latency\.csv:3: expected 8 fields"),
    ("non-numeric rtt", lambda d: (d / "latency.csv").write_text(
        CSV_HEAD + "1.0,alice,bob,0,derp,derp,derp,fast\n"),
     r"latency\.csv:2: time_s, seq and rtt_ms must be numbers"),
    ("unknown round trip", lambda d: (d / "latency.csv").write_text(
        CSV_HEAD + "1.0,alice,bob,0,derp,derp,sideways,180\n"),
     r"latency\.csv:2: unknown round_trip 'sideways'"),
    ("lost with an rtt", lambda d: (d / "latency.csv").write_text(
        CSV_HEAD + "1.0,alice,bob,0,derp,,lost,180\n"),
     r"latency\.csv:2: a lost probe has no echo_path nor rtt_ms"),
]


@pytest.mark.parametrize("name,breakage,message", BREAKAGES, ids=[b[0] for b in BREAKAGES])
def test_bad_results_dir_names_the_file(fixture_copy, tmp_path, name, breakage, message):
    d = fixture_copy("derp-then-direct")
    breakage(d)
    with pytest.raises(InputError) as e:
        load_results_dir(str(d))
    assert re.search(re.escape(str(d)) + "/" + message, str(e.value)), str(e.value)

    out = tmp_path / "report.html"
    r = run_module_report(d, "-o", out)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert re.fullmatch("punchlab report: " + re.escape(str(d)) + "/" + message + r"[^\n]*\n",
                        r.stderr), r.stderr
    assert not out.exists()


def test_missing_directory(tmp_path):
    r = run_module_report(tmp_path / "nope", "-o", tmp_path / "r.html")
    assert (r.returncode, r.stderr) == (2, f"punchlab report: {tmp_path}/nope: no such results directory\n")


def test_a_file_instead_of_a_directory(tmp_path):
    r = run_module_report(FIXTURES / "derp-then-direct" / "results.json", "-o", tmp_path / "r.html")
    assert r.returncode == 2 and "results.json: not a directory" in r.stderr


def test_one_bad_input_stops_the_report(tmp_path):
    r = run_module_report(FIXTURES / "derp-then-direct", tmp_path / "nope", "-o", tmp_path / "r.html")
    assert r.returncode == 2 and "nope: no such results directory" in r.stderr
    assert not (tmp_path / "r.html").exists()


@pytest.mark.parametrize("cells,message", [
    ('[{"a": "x", "b": "y", "path": "direct"}]', r"matrix\.json: cells\[0\]: missing key 'time_to_direct_s'"),
    ('[{"a": "x", "b": "y", "path": "warp", "time_to_direct_s": 1}]', r"matrix\.json: cells\[0\]\.path: expected one of"),
    ('[{"a": "x", "b": "y", "path": "direct", "time_to_direct_s": "soon"}]',
     r'matrix\.json: cells\[0\]\.time_to_direct_s: expected seconds or null, got "soon"'),
    ('{"rows": []}', r"matrix\.json: expected a list of cells"),
    ('{"format": "punchlab-results/1", "cells": []}',
     r'matrix\.json: not a punchlab matrix file \(format is "punchlab-results/1", expected "punchlab-matrix/1"\)'),
    ('{"nats": [1], "cells": [{"a": "x", "b": "y", "path": "derp", "time_to_direct_s": null}]}',
     r"matrix\.json: nats: expected a list of NAT names"),
    ('[]', r"matrix\.json: the matrix has no cells"),
    ('[{"a": "x", "b": "y", "path": "derp", "time_to_direct_s": null, "results_dir": "gone"}]',
     r"matrix\.json: cells\[0\]\.results_dir: no such directory"),
    ('[{"a": "x", "b": "y", "path": "derp", "time_to_direct_s": null},'
     ' {"a": "x", "b": "y", "path": "derp", "time_to_direct_s": null}]',
     r"matrix\.json: cells\[1\]: a second cell for x / y"),
])
def test_bad_matrix_json_names_the_file(tmp_path, cells, message):
    (tmp_path / "matrix.json").write_text(cells)
    with pytest.raises(InputError, match=re.escape(str(tmp_path)) + "/" + message):
        load_matrix_dir(str(tmp_path))
    r = run_module_report(tmp_path, "-o", tmp_path / "r.html")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert re.match("punchlab report: " + re.escape(str(tmp_path)) + "/" + message, r.stderr)


def test_unwritable_output(tmp_path):
    r = run_module_report(FIXTURES / "derp-then-direct", "-o", tmp_path / "no-dir" / "r.html")
    assert r.returncode == 4
    assert r.stderr == f"punchlab report: cannot write {tmp_path}/no-dir/r.html: No such file or directory\n"


def test_missing_matplotlib_is_a_clear_message(tmp_path):
    # A matplotlib that cannot be imported, ahead of Debian's on the path.
    fake = tmp_path / "fake" / "matplotlib"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('No module named matplotlib (test)')\n")
    env = python_env()
    env["PYTHONPATH"] += f":{tmp_path / 'fake'}"
    r = run_module_report(FIXTURES / "derp-then-direct", "-o", tmp_path / "r.html", env=env)
    assert r.returncode == 4 and "Traceback" not in r.stderr
    assert "matplotlib is not available" in r.stderr and "python3-matplotlib" in r.stderr


def test_usage_errors_are_argparse_exit_2(tmp_path):
    r = run_module_report(FIXTURES / "derp-then-direct")
    assert r.returncode == 2 and "the following arguments are required: -o/--output" in r.stderr
