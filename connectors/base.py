"""The one contract between the scheduler and every platform.

A connector publishes one post part and says what happened, in words the scheduler can act
on: the classes of `PublishError` below. It knows nothing of YAML or of the ledger.

The scheduler calls one channel's connector from one thread at a time, so a connector needs
no locking of its own; connectors of different channels run concurrently.

Platforms quote what they received in their errors, credentials included (Mastodon echoes the
Authorization header). So every connector's `publish`, `check`, `lookup` and `figures` pass
through one guard here: each error they raise and each note or problem they return has every
secret of `secrets()` taken out before the scheduler stores or shows it. A connector need not
redact.
"""

from __future__ import annotations

import functools
import hashlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar, cast

from campaigns.platformrules import PlatformRules
from connectors.redaction import Secrets


@dataclass(frozen=True, slots=True)
class MediaFile:
    path: Path
    alt: str
    mime: str
    captions: Path | None = None
    """A video's subtitles (SRT or WebVTT), where the plan gives them."""
    thumbnail: Path | None = None
    """A video's cover image, where the plan gives one."""


@dataclass(frozen=True, slots=True)
class PlatformRef:
    """Where a published post lives: enough to link to it, reply to it and look it up."""

    id: str
    url: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)
    """Platform details a reply needs (Bluesky: `uri` and `cid`)."""

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "url": self.url, "extra": dict(self.extra)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PlatformRef:
        return cls(str(data["id"]), data.get("url"), dict(data.get("extra") or {}))


@dataclass(frozen=True, slots=True)
class Post:
    key: str
    """The delivery key: the same on every attempt, across restarts and machines."""
    text: str
    due: datetime
    """The planned instant (UTC). Bluesky records it as `createdAt`, fixed per delivery."""
    language: str | None = None
    media: tuple[MediaFile, ...] = ()
    link: str | None = None
    reply_to: PlatformRef | None = None
    """The previous part of the thread, when this post is a later part."""
    thread_root: PlatformRef | None = None
    """The thread's first part, when this post is a later part."""

    @property
    def idempotency_key(self) -> str:
        """A stable, opaque token derived from the key, for platforms that accept one."""
        return hashlib.sha256(self.key.encode()).hexdigest()[:40]


@dataclass(frozen=True, slots=True)
class Published:
    ref: PlatformRef
    note: str | None = None
    """Anything the operator should know (a Telegram chat that migrated, say)."""


@dataclass(frozen=True, slots=True)
class ChannelAccess:
    """What a channel's connector is given: the account and how to reach it, as config.yaml
    declares them, with the secrets already resolved."""

    name: str
    platform: str
    account: str | None = None
    credentials: Mapping[str, str] = field(default_factory=dict, repr=False)
    base_url: str | None = None
    """Overrides the platform's API address: tests, self-hosted instances, proxies."""
    options: Mapping[str, Any] = field(default_factory=dict)
    """Platform settings that are not secret (Mastodon visibility, Telegram chat id, ...)."""
    timeout: float = 30.0


@dataclass(frozen=True, slots=True)
class PlatformBudget:
    """A rate limit as the platform reports it for the account (`clarion check` shows it);
    the pace Clarion itself keeps is the channel's `rate` (`scheduler.config.RateSettings`)."""

    scope: str
    """What the budget counts, in the platform's terms: "posts per 15 min", "posts per 24 h"."""
    limit: int | None
    remaining: int | None
    resets_at: datetime | None


@dataclass(frozen=True, slots=True)
class CheckReport:
    """What `clarion check` shows for a channel; produced without posting anything."""

    ok: bool
    account: str | None = None
    """Who posts: a handle, a page name, a bot name."""
    limits: Mapping[str, int] = field(default_factory=dict)
    budgets: Sequence[PlatformBudget] = ()
    problems: Sequence[str] = ()
    figures: str | None = None
    """Which figures of published posts this account may read, in words (X: what its API
    plan gives), when the connector can tell."""
    notes: Sequence[str] = ()
    """What the operator should know that is no problem (TikTok: posts land in the
    creator's inbox as drafts that someone must post)."""


Idempotency = Literal["key", "record-key", "container", "lookup", "none"]


@dataclass(frozen=True, slots=True)
class Capabilities:
    rules: PlatformRules
    """Text, media and thread rules, shared with plan validation."""
    idempotency: Idempotency
    """How a repeated publish is made harmless: a request key (Mastodon), a client-chosen
    record key (Bluesky), a stored container id (Threads), a look-up of recent posts, or not
    at all."""
    lookup: bool
    """Whether `lookup()` can tell if a delivery already went out."""
    figures: bool = False
    """Whether `figures()` can read how a published post was received."""
    idempotency_window: timedelta | None = None
    """With idempotency "key": how long the platform recognises a repeated key after the post
    it created (Mastodon: 1 hour). Within it, a delivery whose outcome is unknown is simply
    sent again; None: not known, so it is looked up instead."""


class PublishError(Exception):
    """Base of every outcome other than success. `reason` is safe to log: it holds no secret."""

    def __init__(self, reason: str, *, status: int | None = None, code: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status = status
        """The HTTP status, when there was one."""
        self.code = code
        """The platform's structured error code, when it gave one."""


class RetryLater(PublishError):
    """Nothing was published; try again, not before `retry_at` when the platform says."""

    def __init__(self, reason: str, *, retry_at: datetime | None = None, **kw: Any) -> None:
        super().__init__(reason, **kw)
        self.retry_at = retry_at


class AuthFailed(PublishError):
    """Credentials or the channel's set-up are broken: hold the channel until an operator acts."""


class Rejected(PublishError):
    """The platform refused this post for good (too long, bad media, policy)."""


class Duplicate(PublishError):
    """The platform says this post exists already; `existing` names it when the platform does."""

    def __init__(self, reason: str, *, existing: PlatformRef | None = None, **kw: Any) -> None:
        super().__init__(reason, **kw)
        self.existing = existing


class Ambiguous(PublishError):
    """The request may have reached the platform (read time-out, connection dropped after
    sending): never retry blindly; reconcile with `lookup()` or ask an operator."""


class SendRefused(Exception):
    """The scheduler withdrew its permission to send (its claim on the delivery may have run
    out while this process was frozen): the request refused did not leave. Not a
    PublishError: connectors let it through untouched."""


_send_guard: ContextVar[Callable[[], None] | None] = ContextVar("send_guard", default=None)


@contextmanager
def send_guard(check: Callable[[], None]) -> Iterator[None]:
    """Run `check` (which raises SendRefused) right before each request a connector sends
    from this thread, for the duration of the block."""
    token = _send_guard.set(check)
    try:
        yield
    finally:
        _send_guard.reset(token)


def before_sending() -> None:
    """Connectors call this right before a request leaves: the HTTP clients of
    `connectors.http` do it for every request, X's session in `XConnector._send`."""
    check = _send_guard.get()
    if check is not None:
        check()


class LookupUnavailable(Exception):
    """This platform offers no way to find out whether a delivery went out."""


@dataclass(frozen=True, slots=True)
class Figures:
    """How a published post was received, as the platform counts it at one moment.

    None means the platform does not give that figure (or not to this account): a report
    shows it as missing, never as zero."""

    likes: int | None = None
    """Likes, favourites, reactions."""
    reposts: int | None = None
    """Reposts, boosts, retweets, shares."""
    replies: int | None = None
    """Replies, comments."""
    quotes: int | None = None
    views: int | None = None
    """Impressions, views or plays, where the platform counts them."""
    clicks: int | None = None
    extra: Mapping[str, int] = field(default_factory=dict)
    """Other figures under the platform's own names (LinkedIn's `engagement`, say)."""


FiguresWhy = Literal["unsupported", "not-permitted", "gone"]


class FiguresUnavailable(Exception):
    """There are no figures to read for this post, now or later: the platform has no such API
    ("unsupported"), this account may not read them ("not-permitted"), or the post was deleted
    ("gone"). A passing failure is a `RetryLater` instead (429, 5xx, time-out)."""

    def __init__(self, reason: str, *, why: FiguresWhy) -> None:
        super().__init__(reason)
        self.reason = reason
        self.why = why


class Connector(ABC):
    platform: ClassVar[str]
    capabilities: ClassVar[Capabilities]
    public_credentials: ClassVar[frozenset[str]] = frozenset()
    """Credentials that name rather than unlock (Bluesky's handle): shown, not redacted."""

    def __init__(self, config: ChannelAccess) -> None:
        self.config = config

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in ("publish", "check", "lookup", "figures"):
            method = cls.__dict__.get(name)
            if method is not None:
                setattr(cls, name, _redacting(method))

    def secrets(self) -> list[str]:
        """Every value that no reason, note or problem may show: the channel's credentials,
        and what a connector derives from them (session tokens), which it adds."""
        credentials = self.config.credentials.items()
        return [
            value for name, value in credentials if value and name not in self.public_credentials
        ]

    def redact(self, text: str) -> str:
        return Secrets(self.secrets()).redact(text)

    @classmethod
    def variant(cls, config: ChannelAccess) -> type[Connector]:
        """The class a channel configured so gets (a platform's connector may have variants:
        webhook formats); its `capabilities` are the channel's."""
        return cls

    @abstractmethod
    def publish(self, post: Post) -> Published:
        """Publish one post part; raise a PublishError subclass for anything but success."""

    @abstractmethod
    def check(self) -> CheckReport:
        """Whether the credentials work and which limits apply; never posts."""

    def lookup(self, post: Post) -> PlatformRef | None:
        """The post if it went out, None if it surely did not."""
        raise LookupUnavailable(f"{self.platform} cannot look up past posts")

    def figures(self, ref: PlatformRef) -> Figures:
        """The post's public figures now; raise `RetryLater` for a passing failure."""
        raise FiguresUnavailable(f"{self.platform} offers no figures for posts", why="unsupported")

    def warm(self) -> None:  # noqa: B027 - a connector without a connection to open
        """Open the connection the next publish will use, ahead of its due time, so that the
        TCP and TLS handshakes are done when it is sent (`connectors.http.warm`). Never
        raises: the publish connects itself, and meets any error."""

    def close(self) -> None:  # noqa: B027 - most connectors hold nothing to release
        """Release connections."""


Method = TypeVar("Method", bound=Callable[..., Any])
Result = TypeVar("Result")


def _redacting(method: Method) -> Method:
    """The method, with every secret taken out of what it raises or returns."""

    @functools.wraps(method)
    def guarded(self: Connector, *args: Any, **kwargs: Any) -> Any:
        try:
            result = method(self, *args, **kwargs)
        except (PublishError, LookupUnavailable, FiguresUnavailable) as exc:
            _scrub(exc, self.redact)
            raise
        return _scrubbed(result, self.redact)

    return cast(Method, guarded)


def _scrub(exc: Exception, redact: Callable[[str], str]) -> None:
    exc.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in exc.args)
    if isinstance(exc, PublishError | FiguresUnavailable):
        exc.reason = redact(exc.reason)


def _scrubbed(result: Result, redact: Callable[[str], str]) -> Result:
    if isinstance(result, Published) and result.note:
        return replace(result, note=redact(result.note))
    if isinstance(result, CheckReport):
        account = redact(result.account) if result.account else result.account
        problems = [redact(problem) for problem in result.problems]
        figures = redact(result.figures) if result.figures else result.figures
        notes = [redact(note) for note in result.notes]
        return replace(result, account=account, problems=problems, figures=figures, notes=notes)
    return result
