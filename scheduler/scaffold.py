"""What `clarion init` and `clarion examples` write: files shipped inside the package (the
example campaigns with their media, the example configuration, the templates of a campaign
repository), found with importlib.resources so that they work from a wheel as from a checkout."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from importlib.abc import Traversable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import yaml

SCHEMA_FILE = "clarion.schema.json"
MODELINE = f"# yaml-language-server: $schema=../{SCHEMA_FILE}\n"
STARTER = "sayno-2027"
"""The campaign `clarion init` starts a repository with."""


def clarion_version() -> str:
    try:
        return version("clarion")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"


def _templates() -> Traversable:
    return resources.files("scheduler") / "templates"


def _examples() -> Traversable:
    return resources.files("campaigns") / "examples"


def template(name: str) -> str:
    return (_templates() / name).read_text(encoding="utf-8")


@dataclass(frozen=True, slots=True)
class Example:
    name: str
    title: str
    file: Traversable

    def media(self) -> list[str]:
        """The media files it names, relative to it (such as media/sayno-card.png)."""
        return sorted(set(_media_files(yaml.safe_load(self.file.read_text(encoding="utf-8")))))


def _media_files(node: object, under_media: bool = False) -> Iterator[str]:
    """Every `file:` under a `media:` key, however deep (per post, language or channel)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if under_media and key == "file" and isinstance(value, str):
                yield value
            else:
                yield from _media_files(value, under_media or key == "media")
    elif isinstance(node, list):
        for item in node:
            yield from _media_files(item, under_media)


def examples() -> list[Example]:
    found = []
    for entry in sorted(_examples().iterdir(), key=lambda e: e.name):
        if entry.name.endswith((".yaml", ".yml")) and entry.is_file():
            doc = yaml.safe_load(entry.read_text(encoding="utf-8"))
            title = doc.get("title", "") if isinstance(doc, dict) else ""
            found.append(Example(entry.name.rsplit(".", 1)[0], str(title), entry))
    return found


def example(name: str) -> Example | None:
    return next((e for e in examples() if name in (e.name, e.file.name)), None)


@dataclass(frozen=True, slots=True)
class Planned:
    """One file to write: where (relative to the destination) and its bytes."""

    path: str
    content: bytes
    why: str


def example_files(chosen: Example, folder: str = "", modeline: bool = False) -> list[Planned]:
    """The campaign file and its media, keeping the media's relative paths."""
    text = chosen.file.read_text(encoding="utf-8")
    prefix = f"{folder}/" if folder else ""
    files = [
        Planned(
            f"{prefix}{chosen.file.name}",
            ((MODELINE if modeline else "") + text).encode("utf-8"),
            f"the {chosen.title or chosen.name} campaign, to start from",
        )
    ]
    for media in chosen.media():
        source = _examples().joinpath(*media.split("/"))
        files.append(Planned(f"{prefix}{media}", source.read_bytes(), "an image it posts"))
    return files


def example_config() -> str:
    return template("config.example.yaml")


def init_config() -> str:
    """config.example.yaml with the header of a new repository in place of its own."""
    body = example_config()
    _, _, rest = body.partition("\n\n")  # the example's own header ends at its first blank line
    return template("config.header.yaml") + "\n" + rest


def repository_files() -> list[Planned]:
    """Everything `clarion init` writes into a new campaign repository."""
    from campaigns.schema import json_schema

    starter = example(STARTER)
    assert starter is not None, f"the {STARTER} example is missing from the package"
    release = clarion_version()
    schema = json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"

    def versioned(name: str) -> bytes:
        return template(name).replace("@CLARION_VERSION@", release).encode("utf-8")

    return [
        Planned("config.yaml", init_config().encode("utf-8"), "channels, ledger and policies"),
        *example_files(starter, "campaigns", modeline=True),
        Planned(SCHEMA_FILE, schema.encode("utf-8"), "checks campaign files in your editor"),
        Planned(".vscode/settings.json", versioned("vscode-settings.json"), "VS Code: the schema"),
        Planned(".vscode/extensions.json", versioned("vscode-extensions.json"), "its extension"),
        Planned(".gitignore", versioned("gitignore"), "keeps the ledger and secrets out of git"),
        Planned(
            ".pre-commit-config.yaml", versioned("pre-commit-config.yaml"), "validate on commit"
        ),
        Planned(".github/workflows/clarion.yml", versioned("github-workflow.yml"), "GitHub review"),
        Planned(".gitlab-ci.yml", versioned("gitlab-ci.yml"), "GitLab review"),
    ]


def existing(destination: Path, planned: list[Planned]) -> list[Path]:
    return [destination / p.path for p in planned if (destination / p.path).exists()]


def write(destination: Path, planned: list[Planned]) -> Iterator[Planned]:
    """Write each file, never over an existing one (exclusive creation)."""
    for item in planned:
        target = destination / item.path
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("xb") as out:
            out.write(item.content)
        yield item
