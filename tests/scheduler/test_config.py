from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.problems import HintedError, InputError
from scheduler.config import DEFAULT_CHANNELS, load_config

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(InputError) as caught:
        load_config(path)
    return [p.format() for p in caught.value.problems]


def test_the_example_config_loads() -> None:
    config = load_config(ROOT / "config.example.yaml")
    assert {"x-main", "mastodon-main", "bluesky-main", "linkedin-main", "telegram-news"} <= set(
        config.channels
    )
    assert config.warnings == ()


def test_defaults_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CLARION_CONFIG", raising=False)
    config = load_config(None)
    assert not config.explicit
    assert set(config.channels) == set(DEFAULT_CHANNELS)
    assert config.ledger_url == f"sqlite:///{tmp_path / '.clarion' / 'ledger.db'}"
    assert config.file.policies.not_after == timedelta(hours=2)


def test_relative_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "campaigns: [plans]\nstate_dir: state\n"))
    assert config.campaign_paths == [tmp_path / "plans"]
    assert config.state_dir == tmp_path / "state"


def test_mistakes_are_located_all_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "campaigns: [plans]\n"
        "channels:\n"
        "  x-main:\n"
        "    platform: twitter\n"
        "  mastodon-main:\n"
        "    platfrom: mastodon\n"
        "policies:\n"
        "  not_after: 2 hours\n",
    )
    found = problems_of(path)
    assert found[0].startswith(f"{path}:4:15: error: 'channels.x-main.platform' should be")
    unknown = [p for p in found if f"{path}:6:5: error: unknown key 'platfrom'" in p]
    assert unknown and "did you mean 'platform'?" in unknown[0]
    assert f"{path}:8:14: error: '2 hours' is not a duration" in found[-1]


def test_a_health_address_without_a_port_is_a_located_mistake(tmp_path: Path) -> None:
    """Found only when the daemon had started posting, before; now when the file loads."""
    (found,) = problems_of(write(tmp_path, "server:\n  listen: localhost\n"))
    assert found.startswith(f"{tmp_path / 'config.yaml'}:2:11: error: 'localhost' is not HOST:PORT")
    for good in ("127.0.0.1:0", "[::1]:9480", ":9480", "null"):
        load_config(write(tmp_path, f"server:\n  listen: {good!r}\n".replace("'null'", "null")))


def test_secrets_must_be_references(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "channels:\n"
        "  tg:\n"
        "    platform: telegram\n"
        "    credentials:\n"
        "      bot_token: 123:abc\n"
        "    options: {chat_id: '@news'}\n",
    )
    (found,) = problems_of(path)
    assert "credential 'bot_token' is written out in the file" in found
    assert "123:abc" not in found


def test_per_platform_settings_are_checked(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "channels:\n"
        "  masto:\n"
        "    platform: mastodon\n"
        "    base_url: http://mastodon.example\n"
        "    credentials:\n"
        "      access_token: ${TOKEN}\n"
        "  tg:\n"
        "    platform: telegram\n"
        "    credentials: {}\n",
    )
    found = problems_of(path)
    assert any(":4:15: error:" in p and "plain http" in p for p in found)
    assert any(":8:5: error:" in p or ":9:" in p for p in found)
    assert any("telegram needs the credentials {bot_token}" in p for p in found)
    assert any("telegram needs options.chat_id" in p for p in found)


def test_a_low_limit_is_a_warning_not_an_error(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "channels:\n"
        "  tg:\n"
        "    platform: telegram\n"
        "    max_length: 100\n"
        "    credentials:\n"
        "      bot_token: ${BOT}\n"
        "    options: {chat_id: '@news'}\n",
    )
    config = load_config(path)
    (warning,) = config.warnings
    assert warning.severity == "warning" and warning.where.line == 4


def test_credentials_resolve_from_environment_and_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "token").write_text("from-file\n", encoding="utf-8")
    path = write(
        tmp_path,
        "channels:\n"
        "  masto:\n"
        "    platform: mastodon\n"
        "    base_url: https://mastodon.example\n"
        "    credentials:\n"
        "      access_token: file:token\n"
        "  tg:\n"
        "    platform: telegram\n"
        "    credentials:\n"
        "      bot_token: ${CLARION_TEST_BOT}\n"
        "    options: {chat_id: '@news'}\n",
    )
    config = load_config(path)
    assert config.credentials("masto") == {"access_token": "from-file"}
    monkeypatch.delenv("CLARION_TEST_BOT", raising=False)
    with pytest.raises(InputError) as caught:
        config.credentials("tg")
    (problem,) = caught.value.problems
    assert problem.where.line == 10
    assert "environment variable CLARION_TEST_BOT is not set" in problem.message
    monkeypatch.setenv("CLARION_TEST_BOT", "42:secret")
    assert config.credentials("tg") == {"bot_token": "42:secret"}


def test_channel_config_gives_connectors_a_state_folder(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "state_dir: st\n"
        "channels:\n"
        "  th:\n"
        "    platform: threads\n"
        "    credentials:\n"
        "      access_token: ${T}\n"
        "    options: {user_id: '1'}\n"
        "    timeout: 5s\n",
    )
    channel = load_config(path).channel_access("th", {"access_token": "t"})
    assert channel.options["state_dir"] == str(tmp_path / "st" / "channels")
    assert channel.timeout == 5.0
    assert "'t'" not in repr(channel)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300))
def test_no_text_makes_loading_crash(text: str) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            load_config(path)
        except InputError as exc:
            assert exc.problems


def test_an_unquoted_reference_in_braces_is_explained(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "channels:\n  m:\n    platform: mastodon\n    credentials: {access_token: ${TOKEN}}\n",
    )
    (found,) = problems_of(path)
    assert found.startswith(f"{path}:4:") and "'${...}' inside '{ }' ends it early" in found
    assert 'such as {access_token: "${TOKEN}"}' in found


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=60),
        st.builds(
            "".join,
            st.lists(
                st.sampled_from(
                    [
                        "sqlite",
                        "postgresql",
                        "postgres",
                        "mysql",
                        "+psycopg",
                        "+x",
                        "://",
                        ":",
                        "/",
                        "@",
                        "?",
                        "=",
                        "[",
                        "]",
                        "%",
                        "u",
                        "h",
                        "1",
                        "99999",
                        ":memory:",
                    ]
                ),
                max_size=12,
            ),
        ),
    )
)
def test_a_ledger_address_is_accepted_or_refused_with_words(value: str) -> None:
    from scheduler.config import ledger_url

    try:
        checked = ledger_url(value)
    except ValueError as exc:
        assert isinstance(exc, HintedError) and exc.hint
    else:
        assert checked.startswith(("sqlite:", "postgresql+psycopg:"))
