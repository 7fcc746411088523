"""Heap huge pages (sim/cli-common/allocator.h, AdoptHeapHugePages): a
program re-executes itself once with glibc.malloc.hugetlb=1 added to
GLIBC_TUNABLES, so glibc madvises its heap for transparent huge pages; the
user's own GLIBC_TUNABLES is kept (and put back for the programs it starts),
glibc.malloc.hugetlb set by the user is left alone, and
PUNCHLAB_HEAP_HUGE_PAGES=0 turns it off (any value but 0, 1 or empty is an
error, exit 2).

heap-huge-pages-probe starts as punchlab's main does and says what its heap
got; `punchlab` itself is checked while it waits to read a scenario from a
FIFO (after any re-exec, before it runs anything). Skipped unless the
kernel's transparent huge pages mode is "madvise": glibc (2.36) acts on
glibc.malloc.hugetlb=1 only then, so elsewhere the program keeps its heap
as it is by design and nothing re-executes.
"""

import os
import re
import subprocess
import time
from pathlib import Path

import pytest

BIN_DIR = Path(os.environ.get("PUNCHLAB_BIN_DIR", ""))
PROBE = Path(os.environ.get("PUNCHLAB_HUGE_PAGES_PROBE", ""))
HUGETLB = "glibc.malloc.hugetlb=1"
THP = Path("/sys/kernel/mm/transparent_hugepage/enabled")


def thp_mode():
    """The kernel's selected transparent huge pages mode, or "none"."""
    selected = re.search(r"\[(\w+)\]", THP.read_text()) if THP.exists() else None
    return selected.group(1) if selected else "none"


needs_madvise = pytest.mark.skipif(
    thp_mode() != "madvise",
    reason="THP mode is '%s', not 'madvise': glibc ignores glibc.malloc.hugetlb=1 there and "
           "nothing re-executes" % thp_mode())


def environment(**changes):
    """This environment without the variables that decide it, plus `changes`."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("GLIBC_TUNABLES", "PUNCHLAB_HEAP_HUGE_PAGES", "LD_PRELOAD",
                        "PUNCHLAB_USER_GLIBC_TUNABLES")}
    env.update(changes)
    return env


def run_probe(**changes):
    """The probe run in this environment plus `changes`."""
    return subprocess.run([str(PROBE)], env=environment(**changes), capture_output=True,
                          text=True, timeout=60)


def probe(**changes):
    """The probe's four lines, run in this environment plus `changes`."""
    result = run_probe(**changes)
    assert result.returncode == 0, result
    return result.stdout.splitlines()


@needs_madvise
def test_a_program_reexecutes_itself_once_and_its_heap_is_advised():
    assert probe() == [
        "re-executed 1",
        "GLIBC_TUNABLES=-",  # put back as the user had it (unset), for its children
        "heap huge-page-advised 1",
        "malloc perturbed 0",
    ]


@needs_madvise
def test_a_users_glibc_tunables_are_kept():
    user = "glibc.malloc.perturb=90"  # 0x5a
    assert probe(GLIBC_TUNABLES=user) == [
        "re-executed 1",
        "GLIBC_TUNABLES=" + user,
        "heap huge-page-advised 1",
        "malloc perturbed 1",  # in effect in the re-executed process
    ]


@needs_madvise
@pytest.mark.parametrize("value", ["0", "1"])
def test_a_users_own_hugetlb_setting_stands(value):
    user = "glibc.malloc.perturb=90:glibc.malloc.hugetlb=" + value
    assert probe(GLIBC_TUNABLES=user) == [
        "re-executed 0",
        "GLIBC_TUNABLES=" + user,
        "heap huge-page-advised " + value,
        "malloc perturbed 1",
    ]


@needs_madvise
def test_the_opt_out_keeps_4_kib_pages():
    assert probe(PUNCHLAB_HEAP_HUGE_PAGES="0") == [
        "re-executed 0",
        "GLIBC_TUNABLES=-",
        "heap huge-page-advised 0",
        "malloc perturbed 0",
    ]


def started_with(pid):
    """The environment process `pid` was exec'd with (its last exec)."""
    raw = Path("/proc/%d/environ" % pid).read_bytes()
    return dict(e.split("=", 1) for e in raw.decode().split("\0") if "=" in e)


def heap_huge_page_advised(pid):
    """Whether a [heap] mapping of `pid` has VmFlags "hg" (MADV_HUGEPAGE)."""
    in_heap = False
    for line in Path("/proc/%d/smaps" % pid).read_text().splitlines():
        first = line.split(" ", 1)[0]
        if "-" in first and not first.endswith(":"):  # a mapping's first line
            in_heap = line.endswith("[heap]")
        elif in_heap and line.startswith("VmFlags:") and "hg" in line.split()[1:]:
            return True
    return False


def punchlab_waiting_for_its_scenario(tmp_path, env):
    """Starts `punchlab validate` on a FIFO; once it opened the FIFO to read
    (after any re-exec) returns the environment it was exec'd with, whether
    its heap is advised and its name (comm), then lets it finish."""
    fifo = tmp_path / "scenario.yaml"
    os.mkfifo(fifo)
    process = subprocess.Popen([str(BIN_DIR / "punchlab"), "validate", str(fifo)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:  # opening a FIFO to write without blocking fails until it has a reader
            try:
                writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
                break
            except OSError:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "punchlab never opened its scenario"
                time.sleep(0.01)
        seen = (started_with(process.pid), heap_huge_page_advised(process.pid),
                Path("/proc/%d/comm" % process.pid).read_text().rstrip("\n"))
        os.write(writer, b"nodes:\n  a: {}\n  b: {}\n")
        os.close(writer)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, (out, err)
    return seen


@needs_madvise
def test_punchlab_runs_with_heap_huge_pages(tmp_path):
    env, advised, comm = punchlab_waiting_for_its_scenario(tmp_path, environment())
    assert env.get("PUNCHLAB_USER_GLIBC_TUNABLES") == ""  # re-executed; the user had none
    assert advised
    assert comm == "punchlab"  # not "exe", the name the exec of /proc/self/exe gave it


@needs_madvise
def test_punchlab_keeps_a_users_glibc_tunables(tmp_path):
    user = "glibc.malloc.perturb=90"
    env, advised, _ = punchlab_waiting_for_its_scenario(tmp_path,
                                                        environment(GLIBC_TUNABLES=user))
    assert env.get("PUNCHLAB_USER_GLIBC_TUNABLES") == user
    assert advised


@needs_madvise
def test_punchlab_without_heap_huge_pages_when_opted_out(tmp_path):
    env, advised, _ = punchlab_waiting_for_its_scenario(
        tmp_path, environment(PUNCHLAB_HEAP_HUGE_PAGES="0"))
    assert "PUNCHLAB_USER_GLIBC_TUNABLES" not in env and "GLIBC_TUNABLES" not in env
    assert not advised


@pytest.mark.parametrize("value", ["yes", "2", "true", " 1"])
def test_any_other_value_of_the_variable_is_an_error(value):
    """Checked before anything else, in any THP mode."""
    result = run_probe(PUNCHLAB_HEAP_HUGE_PAGES=value)
    assert result.returncode == 2, result
    assert result.stdout == ""
    assert result.stderr == ("heap_huge_pages_probe: PUNCHLAB_HEAP_HUGE_PAGES='%s': write 0 or 1\n"
                             % value)


def test_1_and_empty_mean_on():
    expected = probe()
    assert probe(PUNCHLAB_HEAP_HUGE_PAGES="1") == expected
    assert probe(PUNCHLAB_HEAP_HUGE_PAGES="") == expected
