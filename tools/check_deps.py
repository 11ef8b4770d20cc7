#!/usr/bin/env python3
"""Checks that every external command the tests, scenarios and benchmarks call
is installed by `make deps`.

A command a script calls but `make deps` does not install passes on a machine
where someone installed it by hand and fails on a new one. For each command
below that any script uses, this check requires that the Debian package that
provides it is named in the Makefile's DEB_PACKAGES (or is part of every
Debian system), and that the command is on PATH once `make deps` has run.

Usage: check_deps.py [REPO_ROOT]      exit 0: all present; 1: something missing
"""
import os
import re
import shutil
import sys

# Command -> the Debian package that provides it. Commands from packages that
# every Debian 12 system has (coreutils, util-linux, procps, grep, sed, ...)
# are not listed: they need no install step.
COMMANDS = {
    "wrk": "wrk",
    "nginx": "nginx",
    "psql": "postgresql",
    "pg_ctl": "postgresql",
    "initdb": "postgresql",
    "pg_ctlcluster": "postgresql",
    "chromium": "chromium",
    "promtool": "prometheus",
    "curl": "curl",
    "node": "nodejs",
    "npm": "npm",
    "sqlite3": "sqlite3",
    "openssl": "openssl",
    "hyperfine": "hyperfine",
    "clang": "clang",
    "clang++": "clang",
    "clang-format": "clang-format",
    "cmake": "cmake",
    "ninja": "ninja-build",
    "ccache": "ccache",
    "perf": "linux-perf",
    "valgrind": "valgrind",
    "jq": "jq",
    "zip": "zip",
    "unzip": "unzip",
    "xxd": "xxd",
    "bc": "bc",
    "nc": "netcat-openbsd",
    "ab": "apache2-utils",
    "hey": "hey",
    "socat": "socat",
    "strace": "strace",
    "gdb": "gdb",
}
# Python modules the scripts import under Debian's /usr/bin/python3.
PY_MODULES = {
    "torch": "python3-torch",
    "numpy": "python3-numpy",
    "onnx": "python3-onnx",
    "onnxruntime": None,  # not packaged in Debian: scripts must not need it
    "requests": "python3-requests",
    "yaml": "python3-yaml",
}
# Packages that depend on another one that provides the module or command.
IMPLIED = {"python3-torch": {"python3-numpy"}, "npm": {"nodejs"}, "postgresql": set()}

SCRIPT_DIRS = ["tests", "examples", "bench", "tools", ".ci", "fuzz"]
SKIP_DIRS = {"node_modules", "data", "corpus", "corpora"}
SCRIPT_SUFFIXES = (".sh", ".py", ".js", ".cmake", ".bash")


def deb_packages(makefile_text):
    packages = set()
    joined = makefile_text.replace("\\\n", " ")
    for line in joined.splitlines():
        m = re.match(r"\s*DEB_PACKAGES\s*[:+]?=\s*(.*)", line)
        if m:
            packages.update(m.group(1).split())
        # Packages `make deps` adds when their command is missing.
        for extra in re.findall(r'missing="\$\$missing ([^"]+)"', line):
            packages.update(extra.split())
    for pkg in list(packages):
        packages |= IMPLIED.get(pkg, set())
    return packages


def script_files(root):
    for top in SCRIPT_DIRS:
        base = os.path.join(root, top)
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
            for name in filenames:
                if name.endswith(SCRIPT_SUFFIXES) or name in ("run", "CMakeLists.txt"):
                    yield os.path.join(dirpath, name)


def code_lines(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            stripped = line.strip()
            if stripped.startswith(("#", "//")):
                continue
            yield line


def uses_command(line, cmd):
    # A command word: at the start of a pipeline element or after a shell
    # keyword, or quoted as a program name in Python/JS (subprocess, spawn).
    word = re.escape(cmd)
    shell = rf"(^|[;&|(`]|\$\(|\bthen\b|\bdo\b|\bexec\b|\btimeout\s+\S+|\bcommand -v)\s*{word}(\s|$|;|\)|`)"
    quoted = rf"""[\[(]\s*["']{word}["']"""
    return re.search(shell, line) is not None or re.search(quoted, line) is not None


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
    with open(os.path.join(root, "Makefile"), encoding="utf-8") as f:
        packages = deb_packages(f.read())
    problems = []
    this_file = os.path.abspath(__file__)
    for path in sorted(script_files(root)):
        if os.path.abspath(path) == this_file:
            continue
        rel = os.path.relpath(path, root)
        for line in code_lines(path):
            for cmd, pkg in COMMANDS.items():
                if uses_command(line, cmd):
                    if pkg not in packages:
                        problems.append(f"{rel}: calls `{cmd}`, but the Makefile's DEB_PACKAGES lacks `{pkg}`")
                    elif shutil.which(cmd) is None and pkg != "postgresql":
                        # PostgreSQL's server programs live off PATH, in
                        # /usr/lib/postgresql/VERSION/bin; the scripts find them there.
                        problems.append(f"{rel}: calls `{cmd}`, which is not on PATH after `make deps`")
            if path.endswith(".py"):
                m = re.match(r"\s*(?:import|from)\s+([A-Za-z_][A-Za-z0-9_]*)", line)
                if m and m.group(1) in PY_MODULES:
                    pkg = PY_MODULES[m.group(1)]
                    if pkg is None or pkg not in packages:
                        problems.append(f"{rel}: imports `{m.group(1)}`, which no package in DEB_PACKAGES provides")
    for problem in sorted(set(problems)):
        print("missing dependency:", problem)
    if problems:
        return 1
    print(f"every external command the scripts call is installed by `make deps` ({len(packages)} packages)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
