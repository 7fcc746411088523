"""Heap huge pages (sim/cli-common/allocator.h, AdoptHeapHugePages): a
program re-executes itself once with glibc.malloc.hugetlb=1 added to
GLIBC_TUNABLES, so glibc madvises its heap for transparent huge pages; the
user's own GLIBC_TUNABLES is kept (and put back for the programs it starts),
glibc.malloc.hugetlb set by the user is left alone, and
PUNCHLAB_HEAP_HUGE_PAGES=0 turns it off.

heap-huge-pages-probe starts as punchlab's main does and says what its heap
got; `punchlab` itself is checked while it waits to read a scenario from a
FIFO (after any re-exec, before it runs anything). Skipped where the kernel
has no transparent huge pages or they are "never" (there the program keeps
4 KiB pages by design and nothing re-executes).
"""

import os
import subprocess
import time
from pathlib import Path

import pytest

BIN_DIR = Path(os.environ.get("PUNCHLAB_BIN_DIR", ""))
PROBE = Path(os.environ.get("PUNCHLAB_HUGE_PAGES_PROBE", ""))
HUGETLB = "glibc.malloc.hugetlb=1"
THP = Path("/sys/kernel/mm/transparent_hugepage/enabled")

pytestmark = pytest.mark.skipif(
    not THP.exists() or "[never]" in THP.read_text(),
    reason="the kernel has no transparent huge pages, or they are 'never'")


def environment(**changes):
    """This environment without the variables that decide it, plus `changes`."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("GLIBC_TUNABLES", "PUNCHLAB_HEAP_HUGE_PAGES", "LD_PRELOAD",
                        "PUNCHLAB_USER_GLIBC_TUNABLES")}
    env.update(changes)
    return env


def probe(**changes):
    """The probe's three lines, run in this environment plus `changes`."""
    result = subprocess.run([str(PROBE)], env=environment(**changes), capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result
    return result.stdout.splitlines()


def test_a_program_reexecutes_itself_once_and_its_heap_is_advised():
    assert probe() == [
        "re-executed 1",
        "GLIBC_TUNABLES=-",  # put back as the user had it (unset), for its children
        "heap huge-page-advised 1",
        "malloc perturbed 0",
    ]


def test_a_users_glibc_tunables_are_kept():
    user = "glibc.malloc.perturb=90"  # 0x5a
    assert probe(GLIBC_TUNABLES=user) == [
        "re-executed 1",
        "GLIBC_TUNABLES=" + user,
        "heap huge-page-advised 1",
        "malloc perturbed 1",  # in effect in the re-executed process
    ]


@pytest.mark.parametrize("value", ["0", "1"])
def test_a_users_own_hugetlb_setting_stands(value):
    user = "glibc.malloc.perturb=90:glibc.malloc.hugetlb=" + value
    assert probe(GLIBC_TUNABLES=user) == [
        "re-executed 0",
        "GLIBC_TUNABLES=" + user,
        "heap huge-page-advised " + value,
        "malloc perturbed 1",
    ]


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
    (after any re-exec) returns the environment it was exec'd with and
    whether its heap is advised, then lets it finish."""
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
        seen = started_with(process.pid), heap_huge_page_advised(process.pid)
        os.write(writer, b"nodes:\n  a: {}\n  b: {}\n")
        os.close(writer)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, (out, err)
    return seen


def test_punchlab_runs_with_heap_huge_pages(tmp_path):
    env, advised = punchlab_waiting_for_its_scenario(tmp_path, environment())
    assert env.get("PUNCHLAB_USER_GLIBC_TUNABLES") == ""  # re-executed; the user had none
    assert advised


def test_punchlab_keeps_a_users_glibc_tunables(tmp_path):
    user = "glibc.malloc.perturb=90"
    env, advised = punchlab_waiting_for_its_scenario(tmp_path, environment(GLIBC_TUNABLES=user))
    assert env.get("PUNCHLAB_USER_GLIBC_TUNABLES") == user
    assert advised


def test_punchlab_without_heap_huge_pages_when_opted_out(tmp_path):
    env, advised = punchlab_waiting_for_its_scenario(
        tmp_path, environment(PUNCHLAB_HEAP_HUGE_PAGES="0"))
    assert "PUNCHLAB_USER_GLIBC_TUNABLES" not in env and "GLIBC_TUNABLES" not in env
    assert not advised
