"""The campaign-side documentation says what Clarion does: every example in it is run.

- A YAML example followed by the output of `clarion validate` (a block whose first line is
  `file:line:col: ...`) is written to that file and checked through the command line, which
  must print exactly that output.
- Every other YAML example must be accepted without a single problem and by the JSON Schema:
  a complete campaign as it is, a fragment (some keys of a campaign, a list of posts, some keys
  of a post) inside a small campaign built around it.
- JSON examples and the tables of fields, time forms and commands are compared with what the
  commands produce.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner, Result
from icalendar import Calendar

import scheduler.commands.plan as plan_command
from campaigns import json_schema, load_plan
from campaigns.durations import parse_duration
from campaigns.problems import InputError
from campaigns.recurrence import check_cron, cron_occurrences
from campaigns.timeexpr import parse_time, resolve
from campaigns.yamlsource import parse_yaml
from scheduler.cli import cli
from scheduler.commands.plan import parse_when

from .plan_helpers import EXAMPLES, NOW, OPTIONS, at, load

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = ["campaign-format.md", "preview.md", "editors.md"]
OUTPUT = re.compile(r"(?P<file>\S+\.ya?ml):\d+:\d+: (?:error|warning): ")


@dataclass(frozen=True)
class Block:
    page: str
    line: int
    info: str
    text: str
    before: str
    """The prose between the previous block and this one."""
    heading: str

    def __str__(self) -> str:
        return f"{self.page}:{self.line}"


def blocks(page: str) -> list[Block]:
    found: list[Block] = []
    lines = (DOCS / page).read_text(encoding="utf-8").splitlines()
    heading, prose, i = "", list[str](), 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
            body = "\n".join(lines[i + 1 : end]) + "\n"
            found.append(Block(page, i + 1, line[3:].strip(), body, "\n".join(prose), heading))
            prose, i = [], end + 1
            continue
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        prose.append(line)
        i += 1
    return found


ALL = [b for page in PAGES for b in blocks(page)]
YAML = [b for b in ALL if b.info == "yaml"]


def outputs() -> dict[int, Block]:
    """YAML examples (by index in ALL) whose output follows them."""
    found = {}
    for i, block in enumerate(ALL[:-1]):
        after = ALL[i + 1]
        if block.info == "yaml" and after.info == "text" and OUTPUT.match(after.text):
            found[i] = after
    return found


WITH_OUTPUT = outputs()
SHOWN = [b for i, b in enumerate(ALL) if b.info == "yaml" and i not in WITH_OUTPUT]


class _Now(datetime):
    @classmethod
    def now(cls, tz: Any = None) -> _Now:
        return cls.fromtimestamp(NOW.timestamp(), tz)


@pytest.fixture
def cli_at_now(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The command line in an empty folder, on 1 January 2027, without a config.yaml."""
    monkeypatch.setattr(plan_command, "datetime", _Now)
    monkeypatch.delenv("CLARION_CONFIG", raising=False)
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def clarion(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


# --- YAML examples --------------------------------------------------------------------------


def test_the_pages_hold_examples() -> None:
    assert len(YAML) >= 20
    assert len(WITH_OUTPUT) >= 3


@pytest.mark.parametrize("index", sorted(WITH_OUTPUT), ids=lambda i: str(ALL[i]))
def test_an_example_prints_the_output_shown(index: int, cli_at_now: Path) -> None:
    example, shown = ALL[index], WITH_OUTPUT[index]
    match = OUTPUT.match(shown.text)
    assert match
    path = cli_at_now / match["file"]
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(EXAMPLES / "media", path.parent / "media")
    path.write_text(example.text, encoding="utf-8")
    result = clarion("validate", match["file"])
    assert result.stdout == shown.text, f"{shown} shows another output than Clarion's"
    assert result.exit_code == (1 if ": error: " in shown.text else 0)


BASE: dict[str, Any] = {
    "campaign": "docs",
    "title": "Docs",
    "timezone": "Europe/Brussels",
    "anchors": {"sid": "2027-02-09"},
    "channels": ["x-main", "mastodon-main", "bluesky-main"],
}
CAMPAIGN_KEYS = {
    "campaign",
    "title",
    "timezone",
    "anchors",
    "channels",
    "languages",
    "audiences",
    "defaults",
    "blackouts",
    "min_gap",
    "posts",
}


def embed(data: Any) -> dict[str, Any]:
    """A campaign around an example: the example itself when it is complete."""
    if isinstance(data, dict) and "campaign" in data and "posts" in data:
        return data
    languages = sorted(set(_languages(data)))
    post: dict[str, Any] = {
        "id": "docs-post",
        "at": "sid 10:00",
        "text": {lang: f"A post in {lang}." for lang in languages} or "A post.",
    }
    campaign = {**BASE, "languages": languages, "posts": [post]}
    if isinstance(data, list):
        campaign["posts"] = data
    elif set(data) <= CAMPAIGN_KEYS:
        for key, value in data.items():
            both = isinstance(value, dict) and isinstance(campaign.get(key), dict)
            campaign[key] = {**campaign[key], **value} if both else value
    else:
        post.update(data)
        for one, other in (("every", "at"), ("thread", "text")):
            if one in data:
                post.pop(other)
    if not campaign["languages"]:
        del campaign["languages"]
    return campaign


def _languages(data: Any) -> Iterator[str]:
    """The language codes an example uses: declared, or as keys of texts and alt texts."""
    if isinstance(data, dict):
        if isinstance(data.get("languages"), list):
            yield from data["languages"]
        if isinstance(data.get("language"), str):
            yield data["language"]
        for key, value in data.items():
            if key in ("text", "alt", "link", "media") and isinstance(value, dict):
                if not {"url", "utm"} & value.keys():  # one link with its UTM values
                    yield from value
            elif key == "thread" and isinstance(value, list):
                yield from (k for part in value if isinstance(part, dict) for k in part)
            else:
                yield from _languages(value)
    elif isinstance(data, list):
        for item in data:
            yield from _languages(item)


@pytest.mark.parametrize("block", SHOWN, ids=str)
def test_an_example_is_accepted(block: Block, tmp_path: Path) -> None:
    data = parse_yaml(textwrap.dedent(block.text), str(block)).data
    if data is None:  # comments only: they must change nothing
        text = block.text + (EXAMPLES / "demo.yaml").read_text(encoding="utf-8")
    else:
        campaign = embed(data)
        jsonschema.Draft202012Validator(json_schema()).validate(campaign)
        text = yaml.safe_dump(campaign, allow_unicode=True, sort_keys=False)
    shutil.copytree(EXAMPLES / "media", tmp_path / "media")
    plan = load(tmp_path, text)
    assert [p.format() for p in plan.problems] == [], f"{block} is not accepted as it is"
    assert plan.deliveries


def test_the_rendered_post_is_the_first_example_on_x(tmp_path: Path) -> None:
    """Under "Hashtags and links", the text shown is what the first example posts on X."""
    first = next(b for b in YAML if b.page == "campaign-format.md")
    shown = next(b for b in ALL if b.heading == "Hashtags and links" and b.info == "")
    plan = load(tmp_path, first.text)
    assert not plan.problems
    texts = {d.text for d in plan.deliveries if d.channel == "x-main" and d.language == "en"}
    assert texts == {shown.text.rstrip("\n")}


def test_the_keys_shown_are_those_of_the_examples() -> None:
    shown = next(b for b in ALL if b.info == "" and "campaign/post[@occurrence]" in b.text)
    plan = load_plan([EXAMPLES], OPTIONS)
    keys = {d.key for d in plan.deliveries}
    examples = [k for k in shown.text.split() if k.startswith(("sayno-2027/", "demo/"))]
    assert len(examples) >= 3
    assert set(examples) <= keys


# --- times, durations, cron -----------------------------------------------------------------


TIMES = {
    "2027-02-09 09:00": at(2027, 2, 9, 8),
    "2027-02-09T09:00": at(2027, 2, 9, 8),
    "2027-02-09 09:00:30": at(2027, 2, 9, 8, 0, 30),
    "2027-02-09T09:00+01:00": at(2027, 2, 9, 8),
    "2027-02-09T08:00Z": at(2027, 2, 9, 8),
    "2027-02-09 09:00 Europe/Helsinki": at(2027, 2, 9, 7),
    "sid 12:00": at(2027, 2, 9, 11),
    "sid - 7d 09:00": at(2027, 2, 2, 8),
    "sid-7d 09:00": at(2027, 2, 2, 8),
    "sid + 2w 18:30": at(2027, 2, 23, 17, 30),
    "sid + 1d 18:30 Europe/Helsinki": at(2027, 2, 10, 16, 30),
    "sid + 9h": at(2027, 2, 9, 8),
    "start + 5s": NOW + timedelta(seconds=5),
    "start + 1m30s": NOW + timedelta(seconds=90),
    "sid - 28d": at(2027, 1, 11, 23),
    "2027-02-09": at(2027, 2, 8, 23),
}
"""What each form in the table of times means in Europe/Brussels (CET, UTC+1)."""
DAY_ONLY = {"sid - 28d", "2027-02-09"}


def table_rows(heading: str, page: str = "campaign-format.md") -> list[list[str]]:
    """The rows of the first table under `heading`, as cells."""
    text = (DOCS / page).read_text(encoding="utf-8")
    part = text.split(heading, 1)[1]
    lines = [line for line in part.splitlines() if line.strip().startswith("|")]
    start = part.splitlines().index(lines[0])
    rows = []
    for line in part.splitlines()[start:]:
        if not line.strip().startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return [row for row in rows[2:]]


def codes(text: str) -> list[str]:
    """The `code` spans of some prose (fenced blocks left out)."""
    return re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.S))


def prose(page: str) -> str:
    """A page with its lines joined, so that a phrase can be found across a line break."""
    return " ".join((DOCS / page).read_text(encoding="utf-8").split())


def test_every_time_form_in_the_table_means_what_it_says() -> None:
    forms = [form for row in table_rows("## Times") for form in codes(row[0])]
    assert set(forms) == set(TIMES), "a form was added to the table: add its meaning here"
    anchors = {"sid": date(2027, 2, 9), "start": NOW}
    for form in forms:
        assert resolve(parse_time(form), anchors, "Europe/Brussels").utc == TIMES[form], form


@pytest.mark.parametrize("form", sorted(DAY_ONLY))
def test_a_day_without_a_time_is_an_error_in_at(form: str, tmp_path: Path) -> None:
    plan = load(tmp_path, yaml.safe_dump({**BASE, "posts": [{"id": "a", "at": form, "text": "A"}]}))
    assert [p.message for p in plan.problems] == [f"'{form}' names a day but no time of day"]


def test_the_rules_of_writing_yaml() -> None:
    text = prose("campaign-format.md")
    assert "an unquoted `#SayNo` is a comment in YAML and disappears" in text
    assert parse_yaml("hashtags:\n  - #SayNo\n", "f").data == {"hashtags": [None]}
    assert "A key written twice in one mapping is an error" in text
    with pytest.raises(InputError, match="appears twice"):
        parse_yaml("title: a\ntitle: b\n", "f")
    assert "the language code `no` (Norwegian) stays a language code" in text
    assert parse_yaml("languages: [no, en]\nat: 10:30\n", "f").data == {
        "languages": ["no", "en"],
        "at": "10:30",
    }
    assert "Indent with spaces, never tabs" in text
    with pytest.raises(InputError, match="tab"):
        parse_yaml("a:\n\tb: 1\n", "f")


def test_times_said_to_be_errors_are() -> None:
    assert "`sid + 2h 10:00` is an error" in prose("campaign-format.md")
    with pytest.raises(ValueError, match="also gives a time of day"):
        parse_time("sid + 2h 10:00")


def test_the_daylight_saving_examples() -> None:
    text = prose("campaign-format.md")
    assert "`2027-03-28 02:30` in Europe/Brussels goes out at 03:30 local time (01:30 UTC)" in text
    assert "`2027-10-31 02:30` in Europe/Brussels goes out at 02:30 CEST (00:30 UTC)" in text
    spring = resolve(parse_time("2027-03-28 02:30"), {}, "Europe/Brussels")
    autumn = resolve(parse_time("2027-10-31 02:30"), {}, "Europe/Brussels")
    assert (spring.utc, autumn.utc) == (at(2027, 3, 28, 1, 30), at(2027, 10, 31, 0, 30))
    assert spring.note and "does not exist" in spring.note
    assert autumn.note and "happens twice" in autumn.note


def test_the_durations_shown_parse() -> None:
    text = (DOCS / "campaign-format.md").read_text(encoding="utf-8")
    sentence = text.split("Durations are a number and a unit", 1)[1].split("\n\n", 1)[0]
    assert [parse_duration(d) for d in codes(sentence)] == [
        timedelta(seconds=90),
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=1, minutes=30),
        timedelta(days=1),
        timedelta(weeks=2),
    ]


def test_the_cron_rules_shown_parse_and_sunday_is_0_and_7() -> None:
    text = (DOCS / "campaign-format.md").read_text(encoding="utf-8")
    section = text.split("## Recurring posts", 1)[1].split("\n## ", 1)[0]
    rules = [c for c in codes(section) if len(c.split()) == 5 and c[0] in "0123456789*"]
    assert len(rules) >= 5
    for rule in rules:
        check_cron(rule)
    assert "`0` **and** `7` are Sunday" in section
    zone = __import__("zoneinfo").ZoneInfo("Europe/Brussels")
    for rule in ("0 10 * * 0", "0 10 * * 7", "0 10 * * SUN"):
        found = cron_occurrences(rule, at(2027, 2, 1), at(2027, 2, 28), zone)
        assert {o.wall.strftime("%A") for o in found} == {"Sunday"}, rule


# --- preview.md: the command line, the JSON interface, the calendar ---------------------------


def commands() -> list[tuple[Block, str]]:
    found = []
    for block in ALL:
        if block.info != "sh":
            continue
        for line in block.text.splitlines():
            if line.startswith("clarion "):
                command = re.split(r"\s[|>]\s|\s+#", line)[0]
                found.append((block, command))
    return found


@pytest.mark.parametrize(("block", "command"), commands(), ids=lambda x: str(x))
def test_a_command_shown_runs(block: Block, command: str, cli_at_now: Path) -> None:
    shutil.copytree(EXAMPLES, cli_at_now / "plans")
    result = clarion(*shlex.split(command)[1:])
    assert result.exit_code == 0, f"{block}: {command}\n{result.output}"


def preview_json(path: str) -> list[dict[str, Any]]:
    result = clarion("preview", path, "--format", "json")
    assert result.exit_code == 0, result.output
    items: list[dict[str, Any]] = json.loads(result.stdout)
    return items


def json_block(heading: str) -> Any:
    block = next(b for b in ALL if b.info == "json" and b.heading == heading)
    return json.loads(block.text)


def test_the_preview_json_example_is_what_clarion_prints(
    cli_at_now: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)  # so that `source` reads as in the example
    actual = {item["key"]: item for item in preview_json("campaigns/examples/sayno-2027.yaml")}
    shown = json_block("`clarion preview --format json`")
    assert shown and all(item == actual[item["key"]] for item in shown)


def test_the_preview_json_fields_are_documented_in_order(cli_at_now: Path) -> None:
    shown = json_block("`clarion preview --format json`")[0]
    rows = table_rows("### `clarion preview --format json`", "preview.md")
    assert [codes(row[0])[0] for row in rows] == list(shown)


def test_the_validate_json_example_is_what_clarion_prints(cli_at_now: Path) -> None:
    shown = json_block("`clarion validate --format json`")
    path = shown["summary"]["files"][0]
    example = next(ALL[i] for i, out in WITH_OUTPUT.items() if out.text.startswith(f"{path}:"))
    (cli_at_now / path).parent.mkdir(parents=True, exist_ok=True)
    (cli_at_now / path).write_text(example.text, encoding="utf-8")
    result = clarion("validate", path, "--format", "json")
    assert json.loads(result.stdout) == shown
    rows = table_rows("### `clarion validate --format json`", "preview.md")
    documented = {name for row in rows for name in codes(row[0])}
    fields = {"version", "problems[]"} | {f"summary.{k}" for k in shown["summary"]}
    assert documented == fields


def test_the_calendar_fields_are_those_of_the_ics(cli_at_now: Path) -> None:
    shutil.copytree(EXAMPLES, cli_at_now / "plans")
    result = clarion("preview", "plans/sayno-2027.yaml", "--format", "ics")
    calendar = Calendar.from_ical(result.stdout_bytes)
    rows = table_rows("### `ics`", "preview.md")
    documented = [codes(row[0])[0] for row in rows]
    events = calendar.events
    for name in documented:
        present = name in calendar or any(name in event for event in events)
        assert present, f"{name} is documented but not in the calendar"
    uids = [str(event["UID"]) for event in events]
    assert len(uids) == len(set(uids))


def test_the_when_forms_of_from_and_until_are_accepted() -> None:
    rows = table_rows("`--from WHEN` keeps", "preview.md")
    forms = [form for row in rows for form in codes(row[0])]
    assert len(forms) >= 9
    for form in forms:
        parse_when(form, UTC, NOW, end=False, option="--from")


def test_the_json_of_editor_settings_is_json() -> None:
    for block in ALL:
        if block.info == "json" and block.page == "editors.md":
            json.loads(block.text)
