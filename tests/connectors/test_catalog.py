"""Every platform folder is complete: a connector, a fake that runs by hand, a docs page, and
nothing heavy imported to read its rules."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

from connectors.base import Connector
from connectors.catalog import imported, platforms
from connectors.fakes.server import FakePlatform
from connectors.login import login_flow
from connectors.registry import connector_class

ROOT = Path(__file__).resolve().parents[2]
NAMES = list(platforms())


def test_the_catalog_finds_every_folder() -> None:
    folders = {
        path.parent.name for path in (ROOT / "connectors" / "platforms").glob("*/__init__.py")
    }
    assert set(NAMES) == folders


def test_each_platform_has_its_page_and_each_page_a_platform() -> None:
    pages = {path.stem for path in (ROOT / "docs" / "platforms").glob("*.md")}
    assert pages == set(NAMES), "docs/platforms/NAME.md is the user's page of each platform"


@pytest.mark.parametrize("name", NAMES)
def test_the_spec_names_what_exists(name: str) -> None:
    spec = platforms()[name]
    connector = connector_class(name)
    assert issubclass(connector, Connector)
    assert connector.capabilities.rules == spec.rules
    fake = imported(spec.fake)
    assert issubclass(fake, FakePlatform) and not inspect.isabstract(fake)
    method, path = fake.publish_route
    assert method in ("POST", "PUT") and re.compile(path)
    assert (login_flow(name) is None) == (spec.login is None)
    assert all(names for names in spec.credentials)


@pytest.mark.parametrize("name", NAMES)
def test_the_fake_runs_by_hand(name: str) -> None:
    module = platforms()[name].fake.partition(":")[0]
    assert module == f"connectors.platforms.{name}.fake"
    done = subprocess.run(
        [sys.executable, "-m", module, "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "--port" in done.stdout


def test_reading_the_rules_imports_no_platform_client() -> None:
    """`clarion validate` reads every platform's rules: the folders' __init__ are data."""
    code = (
        "import sys; from campaigns.platforms import PLATFORMS; import scheduler.config; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('httpx', 'tweepy') "
        "or m.endswith(('.connector', '.fake'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
