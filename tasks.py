#!/usr/bin/env python3
"""Developer tasks that need nothing but Python: `python3 tasks.py demo|test|bench`.

The first run creates .venv and installs Clarion with its development tools; later runs
reinstall only when pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".clarion-installed"


def run(*cmd: str | Path, check: bool = True) -> int:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    code = subprocess.call([str(c) for c in cmd], cwd=ROOT)
    if check and code:
        sys.exit(code)
    return code


def ensure_venv() -> None:
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted and (BIN / "clarion").exists():
        return
    if not (BIN / "python").exists():
        print("Creating .venv (first run only) ...", flush=True)
        venv.create(VENV, with_pip=True)
    run(BIN / "python", "-m", "pip", "install", "-q", "--upgrade", "pip")
    run(BIN / "python", "-m", "pip", "install", "-q", "-e", ".[dev]")
    STAMP.write_text(wanted)


def install_peers() -> None:
    """npm packages for the tests that talk to real peers (official counting libraries, a
    Bluesky PDS). Without Node.js those tests are skipped and say so."""
    if not shutil.which("npm"):
        print("npm not found: tests against real peers will be skipped", flush=True)
        return
    for script in sorted((ROOT / "tests" / "peers").glob("*/install.sh")):
        run("bash", script)


def demo(args: list[str]) -> None:
    """The daemon on the embedded defaults: the demo campaign, dry-run channels, SQLite."""
    ensure_venv()
    run(BIN / "clarion", "run", "--demo", *args)


def test(args: list[str]) -> None:
    ensure_venv()
    run(BIN / "ruff", "check", ".")
    run(BIN / "ruff", "format", "--check", ".")
    run(BIN / "mypy")
    install_peers()
    # Three workers, a test file each at a time: most of the suite's time is spent waiting on
    # daemons and fake platforms, which overlaps well even on two cores.
    workers = (
        []
        if any(a.startswith(("-n", "--numprocesses")) for a in args)
        else ["-n", "3", "--dist", "loadfile"]
    )
    code = run(BIN / "pytest", *workers, *args, check=False)
    if code == 5:
        print("pytest collected no tests", flush=True)
    sys.exit(code)


def bench(args: list[str]) -> None:
    ensure_venv()
    for script in sorted((ROOT / "bench").glob("bench_*.py")):
        if not args or any(a in script.name for a in args):
            run(BIN / "python", script)


TASKS = {"demo": demo, "test": test, "bench": bench}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in TASKS:
        sys.exit(f"usage: python3 tasks.py {{{'|'.join(TASKS)}}} [args...]")
    TASKS[sys.argv[1]](sys.argv[2:])
