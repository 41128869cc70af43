"""`clarion validate`, `preview` and `schema`, through click's runner and as real processes."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from scheduler.cli import cli
from scheduler.commands.plan import parse_when

BIN = Path(sys.executable).parent
EXAMPLE = Path(__file__).parents[2] / "campaigns" / "examples" / "sayno-2027.yaml"

GOOD = """\
campaign: demo
title: "Demo | Safer Internet Day"
timezone: Europe/Brussels
anchors: {sid: 2027-02-09}
channels: [x-main, mastodon-main]
languages: [en, fr]
audiences:
  - {name: be-fr, language: fr, timezone: Europe/Brussels}
  - {name: us-en, language: en, timezone: America/New_York}
posts:
  - id: countdown
    at: sid - 7d 09:00
    text:
      en: "One week to go | say no 👋"
      fr: "Plus qu'une semaine : dites non"
  - id: tips
    at: sid 12:00
    status: draft
    thread:
      - {en: "1/ Keep screenshots", fr: "1/ Gardez les captures"}
      - {en: "2/ Talk to someone", fr: "2/ Parlez-en"}
"""

BROKEN = """\
campaign: broken
title: Broken
timezone: Europe/Brussels
channels: [x-mian]
posts:
  - id: one
    at: 2027-02-09 09:00
    txt: hello
"""

CHANNELS = """\
channels:
  x-main:
    platform: x
    credentials: {oauth2_access_token: "${X_TOKEN}"}
  mastodon-main:
    platform: mastodon
    base_url: https://mastodon.example
    credentials: {access_token: "${MASTODON_TOKEN}"}
"""


def run(*args: str, cwd: Path | None = None) -> Result:
    runner = CliRunner()
    if cwd is None:
        return runner.invoke(cli, list(args))
    with runner.isolated_filesystem(cwd):
        return runner.invoke(cli, list(args))


@pytest.fixture
def plans(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with one good campaign; no config.yaml around, so the defaults apply."""
    monkeypatch.delenv("CLARION_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "plans"
    folder.mkdir()
    (folder / "demo.yaml").write_text(GOOD, encoding="utf-8")
    return folder


@pytest.fixture
def broken(plans: Path) -> Path:
    path = plans.parent / "broken.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    return path


def preview_json(*args: str) -> list[dict[str, object]]:
    result = run("preview", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    items: list[dict[str, object]] = json.loads(result.stdout)
    return items


# validate


def test_validate_good_plan(plans: Path) -> None:
    result = run("validate", str(plans / "demo.yaml"))
    assert result.exit_code == 0, result.output
    last = result.stdout.splitlines()[-1]
    assert last.endswith(": 0 errors, 0 warnings; 12 deliveries on 2 channels (8 drafts)"), last


def test_loading_a_plan_leaves_nothing_frozen(plans: Path, broken: Path) -> None:
    """The cycle collector is told to leave what was imported alone while a plan loads, and
    then to look at it again: run in-process, a command freezes nothing for good."""
    for args in (["validate", str(plans)], ["preview", str(broken), "--format", "json"]):
        run(*args)
        assert gc.get_freeze_count() == 0


def test_validate_reports_located_problems_with_hints(broken: Path) -> None:
    result = run("validate", str(broken))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    errors = [line for line in lines if ": error: " in line]
    assert errors and all(line.startswith(f"{broken}:") for line in errors)
    assert any(line.startswith("    hint: ") for line in lines)
    assert "Traceback" not in result.output


def test_validate_json(plans: Path, broken: Path) -> None:
    result = run("validate", str(plans), str(broken), "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert list(report) == ["version", "problems", "summary"]
    assert report["version"] == 1
    problem = report["problems"][0]
    assert list(problem) == ["severity", "message", "file", "line", "col", "hint"]
    summary = report["summary"]
    assert summary["errors"] >= 1
    assert summary["deliveries"] == 12 and summary["drafts"] == 8
    assert summary["channels"] == {"mastodon-main": 6, "x-main": 6}
    assert summary["first_due_utc"] == "2027-02-02T08:00:00Z"


def test_validate_without_paths_or_config_is_a_usage_error(plans: Path) -> None:
    result = run("validate")
    assert result.exit_code == 2
    assert "campaigns:" in result.stderr and "config.yaml" in result.stderr


def test_validate_uses_the_configured_folders(plans: Path) -> None:
    (plans.parent / "config.yaml").write_text("campaigns: [plans]\n" + CHANNELS)
    result = run("validate")
    assert result.exit_code == 0, result.output
    assert "12 deliveries" in result.stdout


def test_configured_folder_that_does_not_exist(plans: Path) -> None:
    (plans.parent / "config.yaml").write_text("campaigns:\n  - plans\n  - nowhere\n")
    result = run("validate")
    assert result.exit_code == 2
    assert "config.yaml:3:5: error: campaign folder or file not found" in result.stderr


def test_config_with_errors_exits_2(plans: Path) -> None:
    config = plans.parent / "bad-config.yaml"
    config.write_text("channels:\n  x-main: {platfrom: x}\n")
    result = run("validate", str(plans), "--config", str(config))
    assert result.exit_code == 2
    assert f"{config}:2:" in result.stderr and "error" in result.stderr
    assert "Traceback" not in result.output


def test_unreadable_config_exits_2(plans: Path) -> None:
    result = run("validate", str(plans), "--config", "nowhere.yaml")
    assert result.exit_code == 2
    assert "nowhere.yaml:1:1: error: cannot read this file" in result.stderr


def test_explicit_config_makes_channel_names_strict(plans: Path) -> None:
    config = plans.parent / "config.yaml"
    config.write_text(CHANNELS.split("  mastodon-main")[0])
    result = run("validate", str(plans), "--config", str(config))
    assert result.exit_code == 1
    assert "mastodon-main" in result.stdout


def test_missing_path_is_a_usage_error(plans: Path) -> None:
    result = run("validate", "nowhere.yaml")
    assert result.exit_code == 2
    assert "nowhere.yaml" in result.stderr


# preview


def test_preview_table(plans: Path) -> None:
    result = run("preview", str(plans))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Tuesday 2 February 2027 · Europe/Brussels" in out
    assert "One week to go | say no 👋" in out
    assert "DRAFT" in out
    assert "\x1b[" not in out
    assert out.rstrip().endswith("0 errors, 0 warnings; 12 deliveries on 2 channels (8 drafts)")


def test_preview_json_fields(plans: Path) -> None:
    items = preview_json(str(plans))
    assert len(items) == 12
    due = [str(item["due_utc"]) for item in items]
    assert due == sorted(due)
    us = next(i for i in items if i["audience"] == "us-en" and i["post"] == "countdown")
    assert us["due_local"] == "2027-02-02T09:00:00-05:00"
    assert us["due_utc"] == "2027-02-02T14:00:00Z"
    reply = next(i for i in items if i["thread_index"] == 1)
    assert reply["thread_size"] == 2 and reply["parent_key"]
    assert reply["status"] == "draft"


def test_preview_filters(plans: Path) -> None:
    assert {i["channel"] for i in preview_json(str(plans), "--channel", "x-main")} == {"x-main"}
    assert {i["language"] for i in preview_json(str(plans), "--language", "fr")} == {"fr"}
    approved = preview_json(str(plans), "--no-drafts")
    assert len(approved) == 4 and all(i["status"] == "approved" for i in approved)
    day = preview_json(str(plans), "--from", "2027-02-09", "--until", "2027-02-09")
    assert {i["post"] for i in day} == {"tips"}
    morning = preview_json(str(plans), "--until", "2027-02-02 12:00", "--tz", "Europe/Brussels")
    assert {i["audience"] for i in morning} == {"be-fr"}


def test_preview_extra_zone(plans: Path) -> None:
    result = run("preview", str(plans), "--tz", "Asia/Tokyo", "--channel", "x-main")
    assert result.exit_code == 0, result.output
    assert "Asia/Tokyo" in result.stdout and "17:00 JST Tokyo" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tz", "Europe/Brussel"], "did you mean 'Europe/Brussels'?"),
        (["--tz", "utc"], "did you mean 'UTC'?"),
        (["--channel", "x-mian"], "did you mean 'x-main'?"),
        (["--from", "next tuesday"], "is not a date or time"),
        (["--from", "2027-02-10", "--until", "2027-02-09"], "--until must come after --from"),
        (["--format", "pdf"], "'pdf' is not one of"),
    ],
)
def test_preview_usage_errors(plans: Path, args: list[str], message: str) -> None:
    result = run("preview", str(plans), *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_preview_shows_the_files_without_errors(plans: Path, broken: Path) -> None:
    result = run("preview", str(plans), str(broken), "--format", "json")
    assert result.exit_code == 1
    assert f"{broken}:" in result.stderr and ": error: " in result.stderr
    items = json.loads(result.stdout)
    assert len(items) == 12 and {i["campaign"] for i in items} == {"demo"}


TOO_LONG = """\
campaign: long
title: Long
timezone: Europe/Brussels
channels: [x-main, mastodon-main]
posts:
  - {id: ok, at: 2027-02-09 09:00, text: Fine}
  - {id: long, at: 2027-02-09 12:00, text: "%s"}
""" % ("word " * 60)


def test_preview_shows_what_errors_hold_back(plans: Path) -> None:
    path = plans.parent / "long.yaml"
    path.write_text(TOO_LONG, encoding="utf-8")
    result = run("preview", str(path), "--format", "json")
    assert result.exit_code == 1
    assert ": error: text for x-main is 299 weighted characters" in result.stderr
    items = json.loads(result.stdout)
    assert len(items) == 4 and not any(i["scheduled"] for i in items)
    long = next(i for i in items if i["post"] == "long" and i["channel"] == "x-main")
    assert (long["length"], long["limit"]) == (299, 280)
    table = run("preview", str(path))
    assert table.stdout.count("NOT SCHEDULED") == 4 and "✗ too long for x-main" in table.stdout
    assert "4 deliveries on 2 channels (4 held back by errors)" in table.stdout
    markdown = run("preview", str(path), "--format", "markdown").stdout
    assert markdown.count("⛔ not scheduled") == 4 + 2, "each delivery, and each post"
    assert "🚫 too long" in markdown
    ics = Calendar.from_ical(run("preview", str(path), "--format", "ics").stdout_bytes)
    assert {str(e["STATUS"]) for e in ics.events} == {"TENTATIVE"}
    assert all(str(e["SUMMARY"]).startswith("NOT SCHEDULED [") for e in ics.events)
    validate = run("validate", str(path), "--format", "json")
    assert json.loads(validate.stdout)["summary"]["held"] == 4
    good = preview_json(str(plans))
    assert all(i["scheduled"] == (i["status"] == "approved") for i in good)


def test_preview_language_must_be_one_the_plans_use(plans: Path) -> None:
    result = run("preview", str(plans), "--language", "fn")
    assert result.exit_code == 2
    assert "no language is named 'fn' (did you mean 'fr'?); languages: en, fr" in result.stderr


def test_preview_dates_are_read_on_the_campaigns_clock(plans: Path) -> None:
    """Without --tz, a day means the campaign's day: the table's headings show the same."""
    night = GOOD.replace("at: sid - 7d 09:00", "at: sid - 7d 00:30")
    (plans / "demo.yaml").write_text(night, encoding="utf-8")
    day = preview_json(str(plans), "--from", "2027-02-02", "--until", "2027-02-02")
    assert {i["audience"] for i in day} == {"be-fr", "us-en"}
    be = next(i for i in day if i["audience"] == "be-fr")
    assert be["due_utc"] == "2027-02-01T23:30:00Z"
    utc = preview_json(str(plans), "--from", "2027-02-02", "--until", "2027-02-02", "--tz", "UTC")
    assert {i["audience"] for i in utc} == {"us-en"}


def test_preview_shows_what_the_daemon_posts() -> None:
    """The daemon posts each delivery's text, media and link as they are: the preview shows
    exactly those."""
    from campaigns import KnownChannel, LoadOptions, load_plan
    from scheduler.config import DEFAULT_CHANNELS
    from scheduler.dispatch import build_post

    result = run("preview", str(EXAMPLE), "--format", "json", "--no-drafts")
    shown = {item["key"]: item for item in json.loads(result.stdout)}
    specs = {name: KnownChannel(name, platform) for name, platform in DEFAULT_CHANNELS.items()}
    options = LoadOptions(specs, strict_channels=False, now=datetime.now(UTC))
    planned = load_plan([EXAMPLE], options).deliveries
    posts = [build_post(d) for d in planned if d.status == "approved"]
    assert len(posts) == len(shown) > 400
    for post in posts:
        item = shown[post.key]
        assert item["text"] == post.text and item["link"] == post.link
        assert [m["alt"] for m in item["media"]] == [m.alt for m in post.media]
        assert [Path(m["file"]).name for m in item["media"]] == [m.path.name for m in post.media]


def test_preview_ics_imports(plans: Path) -> None:
    result = run("preview", str(EXAMPLE), "--format", "ics")
    raw = result.stdout_bytes
    lines = raw.split(b"\r\n")
    assert max(len(line) for line in lines) <= 75, "lines are folded at 75 octets"
    for line in lines:
        line.decode("utf-8")  # folding never cuts a character in two
    assert b"\n" not in raw.replace(b"\r\n", b"")
    events = Calendar.from_ical(raw).events
    uids = [str(e["UID"]) for e in events]
    deliveries = json.loads(run("preview", str(EXAMPLE), "--format", "json").stdout)
    assert len(uids) == len(set(uids)) == len(deliveries)
    text = "Path C:\\New, a backslash and an N; it stays"
    (plans / "demo.yaml").write_text(GOOD.replace('"One week to go | say no 👋"', f"'{text}'"))
    again = Calendar.from_ical(run("preview", str(plans), "--format", "ics").stdout_bytes)
    assert any(str(e["DESCRIPTION"]).startswith(text) for e in again.events)


def test_preview_markdown_renders(plans: Path) -> None:
    from markdown_it import MarkdownIt

    result = run("preview", str(EXAMPLE), "--format", "markdown", "--channel", "x-main")
    tokens = MarkdownIt("commonmark").enable("table").parse(result.stdout)
    cells: list[int] = []
    count = 0
    for token in tokens:
        if token.type == "tr_open":
            count = 0
        elif token.type in ("td_open", "th_open"):
            count += 1
        elif token.type == "tr_close":
            cells.append(count)
    assert len(cells) > 50 and set(cells) <= {2, 6, 9}, "every row keeps its columns"
    assert "📎 media/sayno-card.png: Dark blue card" in result.stdout


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"campaign": "Say No"}, ["campaign"]),
        ({"posts": [{"id": "a", "at": "9:00", "text": "A"}]}, ["posts", 0, "at"]),
        ({"posts": [{"id": "a", "at": "sid 09:00", "text": ""}]}, ["posts", 0, "text"]),
        ({"posts": [{"id": "a", "at": "sid 09:00", "txt": "A"}]}, ["posts", 0]),
        ({"defaults": {"not_after": "2 hours"}}, ["defaults", "not_after"]),
        ({"languages": ["english"]}, ["languages", 0]),
        ({"anchors": {"launch-day": "2027-01-01"}}, ["anchors"]),
        (
            {"posts": [{"id": "a", "every": {"cron": "0 9 * * *", "from": "sid"}, "text": "A"}]},
            ["posts", 0, "every"],
        ),
    ],
)
def test_schema_accepts_the_examples_and_rejects_mistakes(
    change: dict[str, object], path: list[str | int]
) -> None:
    import jsonschema

    from campaigns.yamlsource import read_yaml

    schema = json.loads(run("schema").stdout)
    validator = jsonschema.Draft202012Validator(schema)
    for example in EXAMPLE.parent.glob("*.yaml"):
        validator.validate(read_yaml(example).data)
    wrong = {**read_yaml(EXAMPLE).data, **change}
    errors = list(validator.iter_errors(wrong))
    assert errors and any(list(e.absolute_path)[: len(path)] == path for e in errors), errors


def test_preview_ics(plans: Path) -> None:
    result = run("preview", str(plans), "--format", "ics", "--no-drafts")
    assert result.exit_code == 0, result.output
    calendar = Calendar.from_ical(result.stdout_bytes)
    assert str(calendar["x-wr-calname"]) == "Demo | Safer Internet Day"
    events = calendar.events
    assert len(events) == 4
    assert all(str(e.uid).endswith("@clarion") for e in events)
    assert min(e.start for e in events) == datetime(2027, 2, 2, 8, tzinfo=UTC)


def test_preview_markdown(plans: Path) -> None:
    result = run("preview", str(plans), "--format", "markdown")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("## Clarion preview: Demo \\| Safer Internet Day\n")
    assert "One week to go \\| say no 👋" in out
    assert "<details>" in out and "📝 draft" in out


def test_schema() -> None:
    result = run("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert "campaign" in schema["properties"]


# --from / --until


def test_when_forms() -> None:
    now = datetime(2027, 2, 9, 23, 30, tzinfo=UTC)
    assert parse_when("today", UTC, now, end=False, option="--from") == datetime(
        2027, 2, 9, tzinfo=UTC
    )
    day = parse_when("2027-02-09", UTC, now, end=False, option="--from")
    assert day == datetime(2027, 2, 9, tzinfo=UTC)
    assert parse_when("2027-02-09", UTC, now, end=True, option="--until") == day + timedelta(1)
    assert parse_when("+6h", UTC, now, end=False, option="--from") == now + timedelta(hours=6)
    assert parse_when("-1d", UTC, now, end=False, option="--from") == now - timedelta(days=1)
    assert parse_when("now", UTC, now, end=True, option="--until") == now
    offset = parse_when("2027-02-09T09:00+01:00", UTC, now, end=False, option="--from")
    assert offset == datetime(2027, 2, 9, 8, tzinfo=UTC)
    assert parse_when(
        "2027-02-09 09:00Z", UTC, now, end=False, option="--from"
    ) == offset + timedelta(hours=1)


def test_when_in_a_zone() -> None:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("America/New_York")
    now = datetime(2027, 2, 10, 3, 0, tzinfo=UTC)  # still the 9th in New York
    today = parse_when("today", zone, now, end=False, option="--from")
    assert today == datetime(2027, 2, 9, 5, tzinfo=UTC)
    bare = parse_when("2027-02-09 09:00", zone, now, end=False, option="--from")
    assert bare == datetime(2027, 2, 9, 14, tzinfo=UTC)


@pytest.mark.parametrize("text", ["", "tomorrowish", "2027-13-01", "+", "+5x", "09:00"])
def test_when_rejects(text: str) -> None:
    with pytest.raises(click.BadParameter):
        parse_when(text, UTC, datetime.now(UTC), end=False, option="--from")


# broken input never ends in a traceback


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.text(max_size=300)
    | st.builds(
        lambda cut, extra: GOOD[:cut] + extra, st.integers(0, len(GOOD)), st.text(max_size=20)
    )
)
def test_broken_input_never_crashes(tmp_path: Path, text: str) -> None:
    path = tmp_path / "random.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    for command in (["validate"], ["preview", "--format", "json"], ["preview"]):
        result = CliRunner().invoke(cli, [*command, str(path)])
        assert result.exit_code in (0, 1), (command, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit)


def test_undecodable_and_unreadable_files(tmp_path: Path) -> None:
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("title: caf\xe9\n".encode("latin-1"))
    result = run("validate", str(latin))
    assert result.exit_code == 1
    assert "UTF-8" in result.stdout


# real processes


def clarion(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "clarion"), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(cwd or Path.cwd())},
    )


def test_process_exit_codes(plans: Path, broken: Path) -> None:
    ok = clarion("validate", str(plans), cwd=plans.parent)
    assert ok.returncode == 0, ok.stderr
    bad = clarion("validate", str(broken), cwd=plans.parent)
    assert bad.returncode == 1
    usage = clarion("preview", str(plans), "--bogus", cwd=plans.parent)
    assert usage.returncode == 2
    for done in (ok, bad, usage):
        assert "Traceback" not in done.stdout + done.stderr


def test_process_formats(plans: Path) -> None:
    out = clarion(
        "preview", str(plans), "--format", "json", "--channel", "mastodon-main", cwd=plans
    )
    assert out.returncode == 0, out.stderr
    items = json.loads(out.stdout)
    assert len(items) == 6 and {i["channel"] for i in items} == {"mastodon-main"}
    ics = clarion("preview", str(plans), "--format", "ics", cwd=plans)
    assert len(Calendar.from_ical(ics.stdout).events) == 12
    md = clarion("preview", str(plans), "--format", "markdown", "--tz", "UTC", cwd=plans)
    assert "### Tuesday 2 February 2027 (UTC)" in md.stdout
    table = clarion("preview", str(plans), "--until", "2027-02-03", cwd=plans)
    assert "Plus qu'une semaine" in table.stdout and "\x1b[" not in table.stdout


def test_process_example_campaign() -> None:
    done = clarion("validate", str(EXAMPLE))
    assert done.returncode == 0, done.stdout + done.stderr
    preview = clarion("preview", str(EXAMPLE), "--format", "json")
    assert preview.returncode == 0 and json.loads(preview.stdout)


def test_process_ignores_the_host_time_zone(tmp_path: Path) -> None:
    """Pacific/Kiritimati is UTC+14: the host's zone would move every post by a day."""
    outputs = set()
    for host in ("UTC", "Pacific/Kiritimati", "America/Los_Angeles"):
        done = subprocess.run(
            [str(BIN / "clarion"), "preview", str(EXAMPLE), "--format", "json"],
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=60,
            cwd=tmp_path,
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(tmp_path), "TZ": host},
        )
        assert done.returncode == 0, done.stderr
        outputs.add(done.stdout)
    assert len(outputs) == 1
    first = json.loads(outputs.pop())[0]
    assert first["due_local"] == "2027-01-18T10:00:00+02:00"


def test_process_closed_pipe(plans: Path) -> None:
    shell = f"'{BIN / 'clarion'}' preview '{plans}' --format markdown | head -c 10"
    done = subprocess.run(["sh", "-c", shell], capture_output=True, text=True, timeout=60)
    assert "Traceback" not in done.stderr and "Exception" not in done.stderr


LAZY = """
import sys
from scheduler.cli import main
try:
    main({args!r})
except SystemExit:
    pass
heavy = ("httpx", "tweepy", "sqlalchemy", "apscheduler", "psycopg")
print(",".join(sorted(m for m in sys.modules if m.split(".")[0] in heavy)) or "-")
print(",".join(sorted(m for m in {light!r} if m in sys.modules)) or "-")
"""


PLAN_LIGHT = {
    "rich",
    "icalendar",
    "importlib.metadata",
    "regex",
    "campaigns.video",
    "scheduler.configfile",
}
"""What checking a plan without media or mentions, and writing it as JSON, never imports
(config.yaml's models: there is no config file)."""


@pytest.mark.parametrize(
    ("args", "light"),
    [
        (["--help"], {"pydantic", "rich", "icalendar"}),
        (["preview", "--help"], {"pydantic", "rich", "icalendar"}),
        (["validate", "{plans}"], PLAN_LIGHT),
        (["preview", "{plans}", "--format", "json"], PLAN_LIGHT),
        (["preview", "{plans}"], set()),
        (["preview", "{plans}", "--format", "ics"], set()),
        (["schema"], {"rich", "icalendar", "importlib.metadata"}),
    ],
)
def test_lazy_imports(plans: Path, args: list[str], light: set[str]) -> None:
    argv = [a.format(plans=plans) for a in args]
    done = subprocess.run(
        [sys.executable, "-c", LAZY.format(args=argv, light=sorted(light))],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=plans,
    )
    heavy, loaded = done.stdout.splitlines()[-2:]
    assert heavy == "-", f"{argv} imported {heavy}"
    assert not light & set(loaded.split(",")), f"{argv} imported {loaded}"
