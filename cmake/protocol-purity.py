#!/usr/bin/env python3
"""Fails when a file under protocol/ reaches for I/O, time, threads, global
randomness or ns-3. protocol/ is sans-IO (see docs/ARCHITECTURE.md): hosts inject
all of these. The build runs this before compiling protocol/, so a violation
cannot be built.

usage: protocol-purity.py ROOT [--stamp FILE]
"""
import pathlib
import re
import sys

import source_scan  # beside this file

FORBIDDEN_INCLUDES = [
    r"sys/socket\.h", r"netinet/", r"arpa/inet\.h", r"sys/epoll\.h", r"poll\.h", r"unistd\.h",
    r"netdb\.h", r"sys/time\.h", r"time\.h", r"ctime", r"chrono", r"thread", r"mutex", r"future",
    r"condition_variable", r"fstream", r"filesystem", r"cstdio", r"stdio\.h", r"iostream",
    r"random>", r"ns3/", r"boost/asio",
]
FORBIDDEN_TOKENS = [
    r"std::thread", r"steady_clock", r"system_clock", r"high_resolution_clock", r"random_device",
    r"(?<![_A-Za-z])s?rand\(", r"randombytes_(buf|random|uniform)", r"getenv\(", r"fopen\(",
    r"(?<![_A-Za-z.>:])socket\(", r"std::cout", r"std::cerr", r"(?<![_A-Za-z])printf\(",
    # libxml2 is allowed (a parser, used on memory: protocol/portmap's UPnP
    # codec), its file, descriptor and network entry points are not.
    r"(?<![_A-Za-z])xml\w*(File|Filename|Fd)\(", r"(?<![_A-Za-z])xmlNano",
]
INCLUDE_RE = re.compile(r'^\s*#\s*include\s*[<"](' + "|".join(FORBIDDEN_INCLUDES) + ")")
TOKEN_RE = re.compile("|".join(FORBIDDEN_TOKENS))


def check(root: pathlib.Path) -> list:
    violations = []
    for path in source_scan.sources(root):
        for n, line in source_scan.numbered_lines(path):
            code = line.split("//", 1)[0]  # comments may name what is forbidden
            if INCLUDE_RE.search(code):
                violations.append(f"{path}:{n}: forbidden include: {line.strip()}")
            elif TOKEN_RE.search(code):
                violations.append(f"{path}:{n}: forbidden call: {line.strip()}")
    return violations


if __name__ == "__main__":
    sys.exit(source_scan.main(
        __doc__, check,
        "protocol/ must stay sans-IO; inject I/O, time and randomness instead:"))
