"""What CI scripts rely on (README "In CI"): --version, exit 0 for every
--help and 2 for every wrong flag of every subcommand of both binaries, the
aggregate junit.xml of a multi-scenario run, paths as a user means them
(directories, globs), and the README's GitHub Actions example, parsed and
its commands run. No root needed: all in ns-3.
"""

import os
import re
import shlex
import subprocess
import xml.etree.ElementTree as ET

import pytest
import yaml

from cli_run import BIN, NODE_BIN, PAIR, SOURCE, run, write


def project_version():
    text = (SOURCE / "CMakeLists.txt").read_text()
    return re.search(r"project\(punchlab VERSION ([0-9.]+)", text).group(1)


def subcommands(binary):
    """The subcommands a binary's --help lists."""
    out = run(binary, "--help").stdout
    listing = out.split("Subcommands:\n", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0] for line in listing.splitlines() if line.strip()]


@pytest.mark.parametrize("binary", [BIN, NODE_BIN], ids=["punchlab", "punchlab-node"])
def test_version_and_every_help_and_wrong_flag_exit_code(binary):
    """Help is 0; a usage mistake is 2 with one line naming it -- also when
    it sits beside --help, which must not swallow it."""
    program = os.path.basename(binary)
    v = run(binary, "--version")
    assert (v.returncode, v.stdout) == (0, f"{program} {project_version()}\n"), v
    assert run(binary, "-V").stdout == v.stdout
    names = subcommands(binary)
    assert len(names) >= 10, names
    for args, code in [(["--help"], 0), (["help"], 0), (["--help", "--nope"], 2),
                       (["help", "no-such-subcommand"], 2), (["--version", "x"], 2),
                       (["no-such-subcommand"], 2), ([], 2)]:
        r = run(binary, *args)
        assert r.returncode == code, (args, r)
    for sub in names:
        ok = run(binary, sub, "--help")
        assert ok.returncode == 0, (sub, ok)
        assert ok.stdout.strip() and not ok.stderr, (sub, ok)
        via = run(binary, "help", sub)
        assert (via.returncode, via.stdout) == (0, ok.stdout), sub
        for bad in (["--no-such-flag"], ["--help", "--no-such-flag"],
                    ["--no-such-flag", "--help"]):
            r = run(binary, sub, *bad)
            assert r.returncode == 2, (sub, bad, r)
            assert not r.stdout, (sub, bad, r)  # no help text passed off as an answer
            assert "--no-such-flag" in r.stderr, (sub, bad, r.stderr)


def test_a_multi_scenario_run_writes_one_junit_with_times(tmp_path):
    ok = write(tmp_path, "ok.yaml", PAIR)
    wrong = write(tmp_path, "wrong.yaml", PAIR.replace("path: direct", "path: derp"))
    result = run(BIN, "run", "-q", ok, wrong, "--out", str(tmp_path / "out"))
    assert result.returncode == 1, result
    root = ET.parse(tmp_path / "out" / "junit.xml").getroot()
    assert root.tag == "testsuites"
    # two runs and two expectations; one failed
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("4", "1", "0")
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["ok", "wrong"]
    for s in suites:
        cases = s.findall("testcase")
        assert [c.get("name") for c in cases][0] == "run"
        assert float(s.get("time")) > 0 and cases[0].get("time") == s.get("time")
        assert all(c.get("time") == "0.000" for c in cases[1:])
    assert float(root.get("time")) == pytest.approx(
        sum(float(s.get("time")) for s in suites), abs=0.002)
    failure = suites[1].find("testcase/failure")
    assert failure.get("message") == failure.text and failure.text.startswith("direct at")
    # Each results directory keeps its own junit.xml, without wall times.
    assert "time=" not in (tmp_path / "out" / "ok" / "junit.xml").read_text()
    # --junit puts it elsewhere; --no-junit writes none.
    assert run(BIN, "run", "-q", ok, "--out", str(tmp_path / "o2"), "--junit",
               str(tmp_path / "ci" / "j.xml")).returncode == 0
    assert ET.parse(tmp_path / "ci" / "j.xml").getroot().get("tests") == "2"
    assert not (tmp_path / "o2" / "junit.xml").exists()
    assert run(BIN, "run", "-q", ok, "--out", str(tmp_path / "o3"), "--no-junit").returncode == 0
    assert not (tmp_path / "o3" / "junit.xml").exists()
    assert (tmp_path / "o3" / "ok" / "junit.xml").exists()
    both = run(BIN, "run", ok, "--junit", "x.xml", "--no-junit")
    assert both.returncode == 2 and "exclude each other" in both.stderr


def test_a_run_that_cannot_happen_is_an_error_in_junit(tmp_path):
    """The second scenario cannot write its results (a file stands where its
    directory should be): junit.xml still holds the first, and the second
    as an <error>, not as passed or missing."""
    first = write(tmp_path, "first.yaml", PAIR)
    second = write(tmp_path, "second.yaml", PAIR)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "second").write_text("in the way\n")
    result = run(BIN, "run", "-q", first, second, "--out", str(tmp_path / "out"))
    assert result.returncode == 4, result
    root = ET.parse(tmp_path / "out" / "junit.xml").getroot()
    assert (root.get("tests"), root.get("errors")) == ("3", "1")
    [ok, broken] = root.findall("testsuite")
    assert (ok.get("name"), ok.get("errors")) == ("first", "0")
    assert (broken.get("name"), broken.get("errors")) == ("second", "1")
    error = broken.find("testcase[@name='run']/error")
    assert "second" in error.get("message"), error.get("message")


def test_validate_takes_directories_and_globs_as_a_user_means_them(tmp_path):
    """`validate lib/` and `validate lib/*` check every scenario under them
    (README.md and the like are skipped with a note); a quoted pattern is
    expanded; a file named twice is checked once; nothing to check is a usage
    error; a broken file under a directory is still found."""
    lib = tmp_path / "lib"
    (lib / "field").mkdir(parents=True)
    (lib / "README.md").write_text("# not a scenario: *alias\n")
    write(lib, "a.yaml", PAIR)
    write(lib / "field", "b.yml", PAIR)
    r = run(BIN, "validate", str(lib))
    assert r.returncode == 0, r
    assert r.stdout.splitlines() == [f"{lib}/a.yaml: ok", f"{lib}/field/b.yml: ok"]
    # As the shell expands `lib/*`: the README and a directory among them.
    r = run(BIN, "validate", str(lib / "README.md"), str(lib / "a.yaml"), str(lib / "field"))
    assert r.returncode == 0, r
    assert "README.md: skipped: not a .yaml or .yml file" in r.stderr
    assert r.stdout.splitlines() == [f"{lib}/a.yaml: ok", f"{lib}/field/b.yml: ok"]
    r = run(BIN, "validate", str(lib) + "/*/*.yml")
    assert (r.returncode, r.stdout) == (0, f"{lib}/field/b.yml: ok\n"), r
    r = run(BIN, "validate", str(lib / "a.yaml"), str(lib))
    assert r.stdout.splitlines() == [f"{lib}/a.yaml: ok", f"{lib}/field/b.yml: ok"], r
    for nothing in ([str(lib / "README.md")], [str(lib) + "/*.json"], [str(tmp_path / "empty")]):
        (tmp_path / "empty").mkdir(exist_ok=True)
        r = run(BIN, "validate", *nothing)
        assert r.returncode == 2 and "no scenario files" in r.stderr, (nothing, r)
    # A path that does not exist is the loader's to refuse (exit 3, named).
    r = run(BIN, "validate", str(lib / "missing.yaml"))
    assert r.returncode == 3 and "missing.yaml" in r.stderr, r
    write(lib / "field", "bad.yaml", "nodes: {a: {behind: nowhere}}\n")
    r = run(BIN, "validate", str(lib))
    assert r.returncode == 3 and "bad.yaml:1:" in r.stderr, r
    # run takes the same paths (the broken file stops everything: exit 3).
    assert run(BIN, "run", "-q", "--out", str(tmp_path / "o"), str(lib)).returncode == 3


def readme_workflow():
    text = (SOURCE / "README.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.S)
    workflows = [yaml.safe_load(b) for b in blocks if "runs-on:" in b]
    assert len(workflows) == 1, "the README holds one GitHub Actions example"
    return workflows[0]


def test_the_readme_github_actions_example_parses_and_its_commands_work(tmp_path):
    """The workflow is valid YAML with GitHub's shape, uses only scripts the
    repository has, and every punchlab command in it runs here, from a copy
    of the scenario library, and produces what the upload step keeps."""
    wf = readme_workflow()
    assert set(wf) >= {"name", "jobs"} and (True in wf or "on" in wf)  # YAML 1.1 reads on: as True
    [job] = wf["jobs"].values()
    assert job["runs-on"] and job["container"] == "debian:12"
    steps = job["steps"]
    assert all(("run" in s) != ("uses" in s) for s in steps), steps
    assert steps[0]["uses"].startswith("actions/checkout@")
    upload = steps[-1]
    assert upload["uses"].startswith("actions/upload-artifact@") and upload["if"] == "always()"
    commands = [s["run"] for s in steps if "run" in s]
    ran = 0
    # A small copy of the library (the report over all of it takes half a
    # minute of plotting; ctest's library.* runs every scenario anyway).
    # scenarios/programs/ runs only in the real lab (program nodes): the
    # workflow leaves it out.
    library = sorted(f for f in (SOURCE / "scenarios").rglob("*.yaml")
                     if f.parent.name != "programs")[::8]
    for f in library:
        (tmp_path / f.relative_to(SOURCE).parent).mkdir(parents=True, exist_ok=True)
        (tmp_path / f.relative_to(SOURCE)).symlink_to(f)
    (tmp_path / "scenarios" / "README.md").symlink_to(SOURCE / "scenarios" / "README.md")
    for command in commands:
        for part in command.split("&&"):
            argv = shlex.split(part)
            if argv[0] == "bash":  # the repository's own scripts (apt, cmake): must exist
                assert (SOURCE / argv[1]).is_file(), argv
                continue
            assert argv[0] == "build/sim/punchlab", argv
            r = subprocess.run([BIN, *argv[1:]], capture_output=True, text=True, timeout=300,
                               cwd=tmp_path)
            assert r.returncode == 0, (argv, r.stdout[-2000:], r.stderr[-2000:])
            ran += 1
    assert ran >= 4
    kept = upload["with"]["path"].split()
    for pattern in kept:
        assert list(tmp_path.glob(pattern)), pattern
    root = ET.parse(tmp_path / "results" / "junit.xml").getroot()
    assert len(library) >= 3
    assert len(root.findall("testsuite")) == len(library)
    assert root.get("failures") == "0" and root.get("errors") == "0"


def test_the_documentation_links_only_inside_the_repository():
    """README.md, every folder's README and docs/: each relative link
    resolves to a file of the repository, and nothing points outside it
    (../shared/DESIGN.md was such a link)."""
    docs = [SOURCE / "README.md", *sorted(SOURCE.glob("*/README.md")),
            *sorted(SOURCE.glob("sim/*/README.md")), *sorted((SOURCE / "docs").glob("*.md"))]
    assert (SOURCE / "docs" / "ARCHITECTURE.md") in docs
    checked = 0
    for doc in docs:
        text = doc.read_text()
        assert "../shared" not in text, doc
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if re.match(r"[a-z]+:", target):  # https:, mailto:
                continue
            path = (doc.parent / target).resolve()
            assert SOURCE in path.parents and path.exists(), (doc, target)
            checked += 1
    assert checked >= 3
