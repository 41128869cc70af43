"""Secrets taken out of any text before it is stored, shown or logged.

A platform may quote what it received in an error: Mastodon echoes the Authorization header,
a proxy or a redirect names the secret path of a webhook. Each secret is matched as written
and in the forms it takes on the way (percent-encoded in a URL or a form, escaped in JSON);
a secret that is an address also gives its path, query and every long part of them, since a
service may echo a bare token or path without the host.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

REDACTED = "[redacted]"

_TOKEN_LIKE = re.compile(r"(?![a-z/-]+$).{6,}")
"""A part of a secret address that is a secret of its own: six characters or more, and not
a plain lowercase word (`services`, `webhooks`, `invoke` say nothing and would blank out
ordinary words)."""


def secret_forms(secret: str) -> set[str]:
    """The secret and the forms it takes in URLs, forms and JSON."""
    if not secret:
        return set()
    forms = {secret, quote(secret, safe=""), quote(secret, safe=":/"), quote_plus(secret)}
    forms.add(json.dumps(secret, ensure_ascii=False)[1:-1])
    forms.add(json.dumps(secret)[1:-1])
    forms.add(secret.replace("/", "\\/"))  # JSON as PHP and others write it
    return {form for form in forms if form}


def url_parts(secret: str) -> list[str]:
    """For a secret that is an address (a webhook): its path and query as a whole and their
    longer parts; nothing for any other secret."""
    if "://" not in secret:
        return []
    try:
        split = urlsplit(secret)
        query = parse_qsl(split.query, keep_blank_values=True)
    except ValueError:
        return []
    parts = [split.path, split.query, f"{split.path}?{split.query}" if split.query else ""]
    parts += split.path.split("/") + [value for _, value in query]
    return [part for part in parts if _TOKEN_LIKE.fullmatch(part)]


def excerpt(text: str, limit: int) -> str:
    """At most `limit` characters of a platform's text, cut between words: a cut through a
    token would leave a part of it that no redaction recognises."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    cut = max(head.rfind(" "), head.rfind("\n"), head.rfind("\t"))
    return (head[:cut].rstrip() + " …") if cut > 0 else "…"


class Secrets:
    """Known secret values, and the one substitution that removes them all from a text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._forms: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        forms: set[str] = set()
        for secret in secrets:
            if secret:
                for value in (secret, *url_parts(secret)):
                    forms |= secret_forms(value)
        if forms - self._forms:
            self._forms |= forms
            ordered = sorted(self._forms, key=len, reverse=True)
            self._pattern = re.compile("|".join(map(re.escape, ordered)))

    def redact(self, text: str) -> str:
        return text if self._pattern is None else self._pattern.sub(REDACTED, text)

    def __bool__(self) -> bool:
        return self._pattern is not None
