"""The lab itself: it must leave nothing behind, also after a killed run."""

import os
import subprocess

import netlab


def list_namespaces():
    return netlab._list_namespaces()


def test_close_deletes_namespaces_and_ends_processes():
    lab = netlab.Lab()
    a = lab.add_namespace("a")
    b = lab.add_namespace("b")
    lab.link(a, "veth0", ["192.0.2.1/24"], b, "veth0", ["192.0.2.2/24"])
    sleeper = a.spawn(["sleep", "300"])
    orphan = b.run(["sh", "-c", "sleep 300 >/dev/null 2>&1 & echo $!"]).stdout.strip()
    assert len(lab.leftovers()) == 2
    lab.close()
    assert lab.leftovers() == []
    assert sleeper.poll() is not None
    # Started inside the namespace but not by the lab directly: still ended.
    assert not os.path.exists("/proc/%s" % orphan) or \
        open("/proc/%s/stat" % orphan).read().split()[2] == "Z"


def test_stale_namespaces_of_dead_runs_are_removed():
    # A pid above the kernel's maximum cannot belong to a live process.
    pid_max = int(open("/proc/sys/kernel/pid_max").read())
    stale = "plt%dx1-left" % (pid_max + 1)
    subprocess.run(["ip", "netns", "add", stale], check=True, timeout=10)
    try:
        with netlab.Lab() as lab:
            assert stale not in list_namespaces()
            ours = lab.add_namespace("mine")
            # Our own live namespaces are never taken for stale ones.
            assert netlab.remove_stale_namespaces() == []
            assert ours.full_name in list_namespaces()
    finally:
        subprocess.run(["ip", "netns", "delete", stale], capture_output=True, timeout=10)
    assert stale not in list_namespaces()


def test_a_failing_block_still_cleans_up():
    try:
        with netlab.Lab() as lab:
            lab.add_namespace("doomed")
            prefix = lab.prefix
            raise RuntimeError("test body failed")
    except RuntimeError:
        pass
    assert not [ns for ns in list_namespaces() if ns.startswith(prefix)]
