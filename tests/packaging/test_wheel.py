"""The path of a new user with Python and pip only: the sdist (which carries the docs) builds
a wheel; the wheel installs into a fresh virtual environment outside the source tree; there,
`clarion init sayno`, `validate`, `preview` and a dry run work as the README says."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import venv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.scheduler.daemonkit import free_port

ROOT = Path(__file__).parents[2]
pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Built:
    sdist: Path
    wheel: Path
    clarion: Path
    """`clarion` in a fresh virtual environment where only the wheel was installed."""
    home: Path
    """A folder outside the source tree to work in."""


def run(*args: str | Path, cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("CLARION_CONFIG", "VIRTUAL_ENV", "PYTHONPATH")
    }
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    work = tmp_path_factory.mktemp("wheel")
    assert ROOT not in work.parents
    dist = work / "dist"
    sdist = run(sys.executable, "-m", "build", "--sdist", "--outdir", dist, ROOT, cwd=work)
    assert sdist.returncode == 0, sdist.stdout[-3000:] + sdist.stderr[-3000:]
    (archive,) = dist.glob("clarion-*.tar.gz")
    wheel = run(sys.executable, "-m", "build", "--wheel", "--outdir", dist, archive, cwd=work)
    assert wheel.returncode == 0, wheel.stdout[-3000:] + wheel.stderr[-3000:]
    (built_wheel,) = dist.glob("clarion-*.whl")
    env = work / "venv"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    upgrade = run(python, "-m", "pip", "install", "-q", "--upgrade", "pip", cwd=work)
    assert upgrade.returncode == 0, upgrade.stderr[-3000:]  # as the README says
    install = run(python, "-m", "pip", "install", "-q", built_wheel, cwd=work)
    assert install.returncode == 0, install.stderr[-3000:]
    home = work / "home"
    home.mkdir()
    yield Built(archive, built_wheel, env / "bin" / "clarion", home)


def test_the_sdist_carries_the_docs_and_everything_the_readme_links(built: Built) -> None:
    with tarfile.open(built.sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
        readme = archive.extractfile(f"{built.sdist.name[:-7]}/README.md")
        assert readme is not None
        text = readme.read().decode()
    for link in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):
        assert link.rstrip("/") in names, f"README links {link}, which the sdist lacks"
    for needed in (
        "config.example.yaml",
        "docs/deploy.md",
        "docs/monitoring/grafana-dashboard.json",
        "docs/monitoring/clarion-alerts.yaml",
        "deploy/clarion.service",
        "Containerfile",
        ".dockerignore",
        ".pre-commit-hooks.yaml",
    ):
        assert needed in names, needed


def test_metadata_shows_licence_author_urls_and_classifiers(built: Built) -> None:
    python = built.clarion.parent / "python"
    shown = run(python, "-m", "pip", "show", "--verbose", "clarion", cwd=built.home).stdout
    assert re.search(r"^License-Expression: Apache-2\.0$", shown, re.MULTILINE), shown
    assert re.search(r"^Author: \S", shown, re.MULTILINE), shown
    assert re.search(r"^Home-page: https://\S", shown, re.MULTILINE), shown
    assert "Topic :: Office/Business :: Scheduling" in shown
    assert "Project-URLs:" in shown
    from importlib.metadata import PathDistribution

    (info,) = (built.clarion.parents[1] / "lib").glob("python3*/site-packages/clarion-*.dist-info")
    meta = PathDistribution(info).metadata
    assert meta["Keywords"]
    assert {url.split(",")[0] for url in meta.get_all("Project-URL") or []} >= {
        "Homepage",
        "Documentation",
        "Source",
        "Issues",
    }


def test_a_new_user_path_works_outside_the_source_tree(built: Built) -> None:
    clarion, home = built.clarion, built.home
    version = run(clarion, "--version", cwd=home)
    assert re.fullmatch(r"clarion \S+ \(ledger schema \w+\)\n", version.stdout), version.stdout
    init = run(clarion, "init", "sayno", cwd=home)
    assert init.returncode == 0, init.stderr
    repo = home / "sayno"
    validate = run(clarion, "validate", cwd=repo)
    assert validate.returncode == 0, validate.stdout + validate.stderr
    preview = run(clarion, "preview", cwd=repo)
    assert preview.returncode == 0, preview.stderr
    assert "SayNo" in preview.stdout
    free_port(repo)
    rehearsal = run(clarion, "run", "--dry-run", "--exit-when-idle", cwd=repo, timeout=300)
    assert rehearsal.returncode == 0, rehearsal.stderr
    assert "Traceback" not in rehearsal.stderr
    copy = run(clarion, "examples", "sayno-2027", "--to", "examples", cwd=home)
    assert copy.returncode == 0, copy.stderr
    assert run(clarion, "preview", "examples/sayno-2027.yaml", cwd=home).returncode == 0


def test_the_container_recipe_builds_from_the_same_kind_of_wheel(built: Built) -> None:
    """The Containerfile's first stage runs `pip wheel .` on the source: the same build as
    here, so the image holds what this test installed."""
    recipe = (ROOT / "Containerfile").read_text()
    assert "pip wheel --no-cache-dir --no-deps --wheel-dir /dist ." in recipe
    assert built.wheel.name.endswith("-py3-none-any.whl")


def test_the_wheel_ships_the_report_charts_and_their_licence(built: Built) -> None:
    import zipfile

    names = set(zipfile.ZipFile(built.wheel).namelist())
    for name in (
        "assets/chart.umd.min.js",
        "assets/chart.js.LICENSE.md",
        "assets/report.js",
        "assets/report.css",
        "templates/body.html",
        "templates/document.html",
    ):
        assert f"scheduler/report/{name}" in names
