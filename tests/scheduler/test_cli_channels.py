"""`clarion check` and `clarion login` against the X and Mastodon fakes, through click's runner."""

from __future__ import annotations

import json
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from connectors.base import ChannelAccess
from connectors.platforms.mastodon import fake as mastodon_fake
from connectors.platforms.mastodon.connector import MastodonConnector
from connectors.platforms.mastodon.fake import MastodonFake
from connectors.platforms.x import fake as x_fake
from connectors.platforms.x.fake import XFake
from scheduler.cli import cli

ENV = {
    "X_CONSUMER_KEY": x_fake.CONSUMER_KEY,
    "X_CONSUMER_SECRET": x_fake.CONSUMER_SECRET,
    "X_ACCESS_TOKEN": x_fake.ACCESS_TOKEN,
    "X_ACCESS_TOKEN_SECRET": x_fake.ACCESS_TOKEN_SECRET,
    "MASTODON_TOKEN": mastodon_fake.ACCESS_TOKEN,
}


@pytest.fixture
def x() -> Iterator[XFake]:
    fake = XFake()
    with fake:
        yield fake


@pytest.fixture
def mastodon() -> Iterator[MastodonFake]:
    fake = MastodonFake()
    with fake:
        yield fake


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [*ENV, "CLARION_CONFIG"]:
        monkeypatch.delenv(name, raising=False)


def config(tmp_path: Path, x: XFake, mastodon: MastodonFake, extra: str = "") -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"""\
channels:
  x-main:
    platform: x
    base_url: {x.base_url}
    credentials:
      consumer_key: ${{X_CONSUMER_KEY}}
      consumer_secret: ${{X_CONSUMER_SECRET}}
      access_token: ${{X_ACCESS_TOKEN}}
      access_token_secret: ${{X_ACCESS_TOKEN_SECRET}}
  mastodon-main:
    platform: mastodon
    base_url: {mastodon.base_url}
    credentials:
      access_token: ${{MASTODON_TOKEN}}
{extra}"""
    )
    return path


def authorize_url(result: Result) -> str:
    found = re.search(r"https?://\S+/oauth/authorize\?\S+", result.stderr)
    assert found, result.stderr
    return found.group(0)


def run(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, input=input)


# -- check --------------------------------------------------------------------------------


def test_check_shows_every_channel_ready(tmp_path: Path, x: XFake, mastodon: MastodonFake) -> None:
    result = run("check", "--config", str(config(tmp_path, x, mastodon)), env=ENV)
    assert result.exit_code == 0, result.output
    assert "x-main (x): ok, posting as @clarion_fake" in result.stdout
    assert "mastodon-main (mastodon): ok, posting as @clarion_fake@mastodon.example" in (
        result.stdout
    )
    assert "limits: max_length 500, max_media 4" in result.stdout
    assert "rate: requests per 5 min: 299 of 300 left, resets " in result.stdout
    assert "2 channels checked: 2 ok, 0 with problems." in result.stdout
    assert not [r for r in [*x.requests, *mastodon.requests] if r.method == "POST"]
    assert x.posts == [] and mastodon.posts == []


def test_check_as_json(tmp_path: Path, x: XFake, mastodon: MastodonFake) -> None:
    result = run(
        "check", "--config", str(config(tmp_path, x, mastodon)), "--format", "json", env=ENV
    )
    report = json.loads(result.stdout)
    assert result.exit_code == 0
    assert report["ok"] is True
    [x_report, mastodon_report] = report["channels"]
    assert x_report["name"] == "x-main"
    assert x_report["account"] == "@clarion_fake"
    assert x_report["budgets"][0]["scope"] == "requests per 15 min (GET /2/users/me)"
    assert x_report["budgets"][0]["resets_at"].endswith("+00:00")
    assert mastodon_report["limits"]["max_length"] == 500
    assert "public metrics" in x_report["figures"]
    assert mastodon_report["figures"] is None  # nothing to say: every account reads them


def test_check_says_when_the_x_plan_gives_no_figures(
    tmp_path: Path, x: XFake, mastodon: MastodonFake
) -> None:
    x.free_plan = True
    result = run("check", "--config", str(config(tmp_path, x, mastodon)), env=ENV)
    assert result.exit_code == 0, result.output
    assert (
        "    figures: figures need X's Basic API plan or above; the Free plan reads no posts\n"
        in result.stdout
    )


def test_check_names_a_missing_secret_where_it_is_configured(
    tmp_path: Path, x: XFake, mastodon: MastodonFake
) -> None:
    env = {k: v for k, v in ENV.items() if k != "MASTODON_TOKEN"}
    result = run("check", "--config", str(config(tmp_path, x, mastodon)), env=env)
    assert result.exit_code == 1
    assert "mastodon-main (mastodon): PROBLEM" in result.stdout
    assert "config.yaml:14:21: error: environment variable MASTODON_TOKEN is not set" in (
        result.stdout
    )
    assert "x-main (x): ok" in result.stdout
    assert mastodon.requests == []


def test_check_reports_refused_credentials(
    tmp_path: Path, x: XFake, mastodon: MastodonFake
) -> None:
    x.revoke()
    result = run("check", "x-main", "--config", str(config(tmp_path, x, mastodon)), env=ENV)
    assert result.exit_code == 1
    assert "X refused to read the account (401: Unauthorized)" in result.stdout
    assert "1 channel checked: 0 ok, 1 with problems." in result.stdout
    assert mastodon.requests == []
    for secret in ENV.values():
        assert secret not in result.output


def test_check_of_an_unknown_channel_suggests_one(
    tmp_path: Path, x: XFake, mastodon: MastodonFake
) -> None:
    result = run("check", "x-mian", "--config", str(config(tmp_path, x, mastodon)), env=ENV)
    assert result.exit_code == 2
    assert "no channel named 'x-mian'" in result.stderr
    assert "did you mean x-main?" in result.stderr


def test_check_without_a_config_file_explains_there_is_nothing_to_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("check")
    assert result.exit_code == 2
    assert "built-in dry runs" in result.stderr
    assert "config.yaml" in result.stderr


def test_check_of_a_broken_config_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("channels:\n  x-main:\n    platform: twitter\n")
    result = run("check", "--config", str(path))
    assert result.exit_code == 2
    assert "config.yaml:3" in result.stderr


# -- login --------------------------------------------------------------------------------


def test_login_to_x_prints_the_tokens_as_the_config_names_them(
    tmp_path: Path, x: XFake, mastodon: MastodonFake
) -> None:
    env = ENV  # logging in again: the tokens already set are printed all the same
    path = config(tmp_path, x, mastodon)
    result = run("login", "x-main", "--config", str(path), env=env, input=f"{x_fake.PIN}\n")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"export X_ACCESS_TOKEN={x_fake.ACCESS_TOKEN}\n"
        f"export X_ACCESS_TOKEN_SECRET={x_fake.ACCESS_TOKEN_SECRET}\n"
    )
    assert f"{x.base_url}/oauth/authorize?oauth_token=req-" in result.stderr
    assert "PIN" in result.stderr
    assert "Authorized: posts will go out as @clarion_fake." in result.stderr
    assert x.request_tokens == {}  # the request token was traded


def test_login_to_x_asks_for_the_app_keys_when_config_has_none(
    tmp_path: Path, x: XFake, mastodon: MastodonFake
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"channels:\n  x-main:\n    platform: x\n    base_url: {x.base_url}\n"
        "    credentials: {oauth2_access_token: '${X_OAUTH2}'}\n"
    )
    answers = f"{x_fake.CONSUMER_KEY}\n{x_fake.CONSUMER_SECRET}\n{x_fake.PIN}\n"
    result = run("login", "x-main", "--config", str(path), input=answers)
    assert result.exit_code == 0, result.output
    assert f"export X_MAIN_CONSUMER_KEY={x_fake.CONSUMER_KEY}\n" in result.stdout
    assert f"export X_MAIN_ACCESS_TOKEN={x_fake.ACCESS_TOKEN}\n" in result.stdout
    assert "note: add `access_token: ${X_MAIN_ACCESS_TOKEN}`" in result.stderr
    assert x_fake.CONSUMER_SECRET not in result.stderr  # typed without echo


def test_login_to_x_with_a_wrong_pin_fails(
    tmp_path: Path, x: XFake, mastodon: MastodonFake
) -> None:
    env = {"X_CONSUMER_KEY": x_fake.CONSUMER_KEY, "X_CONSUMER_SECRET": x_fake.CONSUMER_SECRET}
    path = config(tmp_path, x, mastodon)
    result = run("login", "x-main", "--config", str(path), env=env, input="0000000\n")
    assert result.exit_code == 1
    assert "X refused to accept the PIN (401)" in result.stderr
    assert result.stdout == ""


def test_login_to_x_with_wrong_app_keys_fails(
    tmp_path: Path, x: XFake, mastodon: MastodonFake
) -> None:
    env = {"X_CONSUMER_KEY": "wrong", "X_CONSUMER_SECRET": "wrong"}
    result = run("login", "x-main", "--config", str(config(tmp_path, x, mastodon)), env=env)
    assert result.exit_code == 1
    assert "X refused to start the authorization" in result.stderr


def test_login_to_mastodon_registers_an_app_and_trades_the_code(
    tmp_path: Path, x: XFake, mastodon: MastodonFake
) -> None:
    path = config(tmp_path, x, mastodon)
    result = run("login", "mastodon-main", "--config", str(path), input=f"{mastodon_fake.CODE}\n")
    assert result.exit_code == 0, result.output
    [app] = mastodon.apps.values()
    assert app["redirect_uris"] == ["urn:ietf:wg:oauth:2.0:oob"]
    assert app["scopes"] == ["read:accounts", "read:statuses", "write:statuses", "write:media"]
    assert f"{mastodon.base_url}/oauth/authorize?client_id={app['client_id']}" in result.stderr
    page = httpx.get(authorize_url(result))
    assert mastodon_fake.CODE in page.text
    assert "Authorized: posts will go out as @clarion_fake." in result.stderr
    prefix = "export MASTODON_TOKEN="
    assert result.stdout.startswith(prefix)
    token = result.stdout.strip()[len(prefix) :]
    channel = ChannelAccess(
        "m", "mastodon", credentials={"access_token": token}, base_url=mastodon.base_url
    )
    assert MastodonConnector(channel).check().ok


def test_login_to_mastodon_with_a_wrong_code_fails(
    tmp_path: Path, x: XFake, mastodon: MastodonFake
) -> None:
    path = config(tmp_path, x, mastodon)
    result = run("login", "mastodon-main", "--config", str(path), input="nope\n")
    assert result.exit_code == 1
    assert "Mastodon refused to accept the authorization code (400: invalid_grant)" in result.stderr


def test_login_writes_a_private_file_and_never_overwrites_it_unasked(
    tmp_path: Path, x: XFake, mastodon: MastodonFake
) -> None:
    path = config(tmp_path, x, mastodon)
    secrets = tmp_path / "mastodon.env"
    args = ["login", "mastodon-main", "--config", str(path), "--write", str(secrets)]
    result = run(*args, input=f"{mastodon_fake.CODE}\n")
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o600
    assert secrets.read_text().startswith("MASTODON_TOKEN=")
    assert result.stdout == ""
    assert "Wrote 1 secret to" in result.stderr

    again = run(*args, input=f"{mastodon_fake.CODE}\n")
    assert again.exit_code == 2
    assert "exists; add --force" in again.stderr
    assert len(mastodon.apps) == 1  # refused before asking the platform anything

    secrets.chmod(0o644)
    forced = run(*args, "--force", input=f"{mastodon_fake.CODE}\n")
    assert forced.exit_code == 0
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o600


def test_login_says_where_a_file_reference_wants_the_secret(
    tmp_path: Path, x: XFake, mastodon: MastodonFake
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"channels:\n  m:\n    platform: mastodon\n    base_url: {mastodon.base_url}\n"
        "    credentials: {access_token: 'file:secrets/mastodon-token'}\n"
    )
    result = run("login", "m", "--config", str(path), input=f"{mastodon_fake.CODE}\n")
    assert result.exit_code == 0
    assert "reads access_token from file:secrets/mastodon-token" in result.stderr
    assert result.stdout.startswith("export M_ACCESS_TOKEN=")


def test_login_to_a_platform_without_a_flow_points_at_the_docs(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "channels:\n  telegram-news:\n    platform: telegram\n"
        "    credentials: {bot_token: '${TG}'}\n    options: {chat_id: '@news'}\n"
    )
    result = run("login", "telegram-news", "--config", str(path))
    assert result.exit_code == 2
    assert "docs/platforms/telegram.md" in result.stderr


def test_login_without_a_config_file_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("login", "x-main")
    assert result.exit_code == 2
    assert "no config.yaml" in result.stderr
