"""Secrets leave every text a connector produces, through the one guard of the contract."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import ClassVar
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.platforms import PLATFORMS
from connectors.base import (
    Capabilities,
    ChannelAccess,
    CheckReport,
    Connector,
    LookupUnavailable,
    PlatformRef,
    Post,
    Published,
    Rejected,
)
from connectors.platforms.mastodon.connector import MastodonConnector
from connectors.redaction import REDACTED, Secrets, excerpt, url_parts
from tests.connectors.social import post

TOKEN = "CANARY-t0ken/with+symbols&=:"
SESSION = "CANARY-session-jwt"


class Echoing(Connector):
    """A connector that repeats its secrets everywhere, as a careless platform would."""

    platform: ClassVar[str] = "mastodon"
    capabilities: ClassVar[Capabilities] = Capabilities(
        rules=PLATFORMS["mastodon"], idempotency="none", lookup=True
    )
    public_credentials: ClassVar[frozenset[str]] = frozenset({"handle"})

    def secrets(self) -> list[str]:
        return [*super().secrets(), SESSION]

    def publish(self, post: Post) -> Published:
        if post.text == "fail":
            raise Rejected(f"refused: Authorization: Bearer {TOKEN} ({SESSION})", status=422)
        return Published(PlatformRef("1"), note=f"sent with {quote(TOKEN, safe='')}")

    def check(self) -> CheckReport:
        handle = self.config.credentials["handle"]
        return CheckReport(ok=False, account=f"@{handle}", problems=[f"bad token {TOKEN}"])

    def lookup(self, post: Post) -> PlatformRef | None:
        raise LookupUnavailable(f"cannot tell with {json.dumps(TOKEN)[1:-1]}")


def echoing() -> Echoing:
    credentials = {"access_token": TOKEN, "handle": "sayno.example"}
    return Echoing(ChannelAccess("m", "mastodon", credentials=credentials))


def test_every_error_note_and_problem_is_redacted() -> None:
    connector = echoing()
    with pytest.raises(Rejected) as caught:
        connector.publish(post("fail"))
    assert TOKEN not in caught.value.reason and SESSION not in caught.value.reason
    assert TOKEN not in str(caught.value) and caught.value.status == 422
    assert caught.value.reason == f"refused: Authorization: Bearer {REDACTED} ({REDACTED})"
    assert connector.publish(post("ok")).note == f"sent with {REDACTED}"
    report = connector.check()
    assert report.problems == [f"bad token {REDACTED}"]
    assert report.account == "@sayno.example"  # a handle names, it does not unlock
    with pytest.raises(LookupUnavailable) as unavailable:
        connector.lookup(post())
    assert TOKEN not in str(unavailable.value)


def test_a_subclass_override_is_guarded_too() -> None:
    class Louder(Echoing):
        def publish(self, post: Post) -> Published:
            raise Rejected(f"louder {TOKEN}")

    with pytest.raises(Rejected, match="louder") as caught:
        Louder(echoing().config).publish(post())
    assert TOKEN not in caught.value.reason


def test_a_secret_address_gives_its_path_and_tokens() -> None:
    url = "https://hooks.slack.com/services/T0AB12/B0CD34/XyZsecret99?sig=AbC123def"
    parts = url_parts(url)
    assert "/services/T0AB12/B0CD34/XyZsecret99" in parts
    assert {"XyZsecret99", "AbC123def", "T0AB12", "B0CD34"} <= set(parts)
    assert "services" not in parts and "hooks.slack.com" not in parts
    assert url_parts("not an address") == []


SECRET_CHARS = st.characters(blacklist_characters="0123456789 \n", blacklist_categories=["Cs"])
AROUND = st.text(alphabet="0123456789 \n", max_size=20)


@given(
    secret=st.text(SECRET_CHARS, min_size=6, max_size=30).filter(lambda s: s not in REDACTED),
    before=AROUND,
    after=AROUND,
    form=st.sampled_from(["raw", "quote", "quote_plus", "json", "json_ascii"]),
)
def test_a_secret_never_survives_in_any_of_its_forms(
    secret: str, before: str, after: str, form: str
) -> None:
    written = {
        "raw": secret,
        "quote": quote(secret, safe=""),
        "quote_plus": quote_plus(secret),
        "json": json.dumps(secret, ensure_ascii=False)[1:-1],
        "json_ascii": json.dumps(secret)[1:-1],
    }[form]
    redacted = Secrets([secret]).redact(before + written + after)
    assert redacted == before + REDACTED + after


def test_a_long_platform_text_is_cut_between_words_never_through_a_token() -> None:
    text = "Validation failed. Authorization: Bearer " + TOKEN + " and more"
    for limit in range(len("Validation failed."), len(text)):
        cut = Secrets([TOKEN]).redact(excerpt(text, limit))
        assert "CANARY" not in cut and len(cut) <= limit + 2
    assert excerpt(text, len(text)) == text
    assert excerpt("x" * 500, 300) == "…"


def test_a_fake_run_by_hand_echoes_credentials_when_asked() -> None:
    command = [sys.executable, "-m", "connectors.platforms.mastodon.fake", "--port", "0"]
    process = subprocess.Popen([*command, "--echo-credentials"], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        config = ChannelAccess(
            "m", "mastodon", credentials={"access_token": TOKEN}, base_url=base_url
        )
        report = MastodonConnector(config).check()  # a token the fake does not know: 401
    finally:
        process.terminate()
        process.wait(5)
    assert not report.ok and "Bearer [redacted]" in report.problems[0]
    assert TOKEN not in report.problems[0]
