"""What cmake/protocol-purity.py and cmake/layering.py share: the C++ sources
under a folder, their numbered lines, and the command line both checks take
(usage: CHECK.py ROOT [--stamp FILE]; exit 0 clean, 1 on a violation, 2 on
bad usage; the stamp lets the build run a check only when a source changed).
"""
import pathlib
import sys
from typing import Callable, Iterator, List, Tuple

SOURCE_SUFFIXES = (".h", ".hpp", ".cc", ".cpp")


def sources(root: pathlib.Path) -> Iterator[pathlib.Path]:
    for path in sorted(root.rglob("*")):
        if path.suffix in SOURCE_SUFFIXES:
            yield path


def numbered_lines(path: pathlib.Path) -> Iterator[Tuple[int, str]]:
    yield from enumerate(path.read_text(errors="replace").splitlines(), 1)


def main(doc: str, check: Callable[[pathlib.Path], List[str]], headline: str) -> int:
    """Runs `check` on ROOT and prints what it found under `headline`."""
    args = sys.argv[1:]
    if not args:
        print(doc, file=sys.stderr)
        return 2
    violations = check(pathlib.Path(args[0]))
    if violations:
        print(headline)
        print("\n".join(violations))
        return 1
    if len(args) == 3 and args[1] == "--stamp":
        pathlib.Path(args[2]).write_text("ok\n")
    return 0
