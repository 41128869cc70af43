"""Collecting how sent posts were received: the platform's figures (likes, reposts, replies...)
read at a few moments after each post went out (`policies.figures.after`: 1 h, 24 h and 7 days
by default), and on demand (`collect_now`, for `clarion report --refresh`).

Publishing comes first. The daemon's `Collector` runs in a thread of its own with connectors
of its own (a connector serves one thread), reads at most `per_round` posts per channel in a
round, and leaves a channel alone while it has posts due, while more of its posting budget
(`rate:`) is spent than `headroom` leaves, while it is held, or while its platform asked to
wait. Its requests never count in the posting budget: they would delay posts.

A failure (a rate limit, a network error) is tried again later with a growing delay, never
stored as zero; `FiguresUnavailable` ends a post's collection with its reason, so a report
says "not available" instead of showing zeros. A platform without figures
(`Capabilities.figures` False) is never asked: its posts end as `unsupported` at once.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from campaigns.problems import InputError
from connectors.base import Connector, FiguresUnavailable, FiguresWhy, PublishError, RetryLater
from scheduler.config import ChannelSettings, Config, FigurePolicy
from scheduler.ledger.api import LedgerError
from scheduler.ledger.figures import Ended, FigureStore, Missed, Outcome, Pending, Read
from scheduler.ledger.sql import SqlLedger
from scheduler.metrics import Metrics
from scheduler.ratebudget import Rate

log = logging.getLogger("clarion.figures")

UNSUPPORTED_BATCH = 1000
"""Posts of a platform without figures ended in one go (no request is made for them)."""


FULL_DISCOVERY = timedelta(hours=1)
"""How often a round looks at every sent post for those not scheduled yet; the other rounds
look only at the rows changed since the last one (less a margin, DISCOVERY_MARGIN)."""
DISCOVERY_MARGIN = timedelta(minutes=10)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class _Share:
    """The part of a channel's posting budget collection may see spent: `posts` of `per`."""

    posts: int
    per: timedelta
    min_interval: timedelta = timedelta(0)


def publishing_share(rate: Rate, headroom: float) -> Rate:
    """The budget whose exhaustion means "running low": with headroom 0.5 and 20 posts per
    minute, collection waits once 10 posts started in the last minute."""
    return _Share(max(1, int(rate.posts * (1 - headroom))), rate.per)


def next_moment(sent: datetime, moments: Sequence[timedelta], now: datetime) -> datetime | None:
    """The next moment after `now` to read a post sent at `sent`; None: none is left (a
    moment missed while the daemon was down is not made up, the next one is taken)."""
    return next((sent + m for m in moments if sent + m > now), None)


def retry_moment(
    policy: FigurePolicy,
    item: Pending,
    moments: Sequence[timedelta],
    now: datetime,
    platform_says: datetime | None = None,
) -> datetime | None:
    """When a failed reading is tried again: after a delay that doubles with each failure in
    a row (`retry.first_delay` up to `max_delay`), at the next moment if it comes sooner,
    never before the platform's own time. After `retry.attempts` failures in a row only the
    next moment is tried; None: the last moment passed, the collection is over."""
    tries = item.tries + 1
    ahead = next_moment(item.sent_utc, moments, now)
    if item.next_at is None:  # finished, read again on demand: it stays finished
        return None
    if tries >= policy.retry.attempts:
        at = ahead
    else:
        delay = min(policy.retry.first_delay * 2 ** (tries - 1), policy.retry.max_delay)
        at = now + delay if ahead is None else min(now + delay, ahead)
    if at is not None and platform_says is not None:
        at = max(at, platform_says)
    return at


class Wait(NamedTuple):
    """Why a channel is not read now: `kind` for the metrics, `words` for people."""

    kind: str
    words: str


@dataclass
class CollectSummary:
    """What a round (or `collect_now`) did, per channel."""

    read: Counter[str] = field(default_factory=Counter)
    missed: Counter[str] = field(default_factory=Counter)
    ended: Counter[tuple[str, FiguresWhy]] = field(default_factory=Counter)
    waiting: dict[str, str] = field(default_factory=dict)
    """Channels not read now, and why (publishing comes first, the platform asked to wait,
    the connector cannot start)."""
    errors: dict[str, str] = field(default_factory=dict)
    """The last error of each channel where a reading failed."""

    def count(self, channel: str, outcome: Outcome) -> None:
        if isinstance(outcome, Read):
            self.read[channel] += 1
        elif isinstance(outcome, Missed):
            self.missed[channel] += 1
            self.errors[channel] = outcome.error
        else:
            self.ended[channel, outcome.why] += 1

    def describe(self) -> str:
        """For the terminal: what was read, what will be tried again, what has no figures."""
        lines = []
        if self.read:
            lines.append(
                f"Figures read for {_posts(self.read.total())} ({_by_channel(self.read)})."
            )
        if self.missed:
            lines.append(
                f"{_posts(self.missed.total())} could not be read now and will be tried again "
                f"later ({_by_channel(self.missed)})."
            )
        for why, words in ENDED_WORDS.items():
            ended = Counter({c: n for (c, w), n in self.ended.items() if w == why})
            if ended:
                lines.append(f"{_posts(ended.total())} {words} ({_by_channel(ended)}).")
        for channel, reason in sorted(self.waiting.items()):
            lines.append(f"{channel}: not read now, {reason}.")
        return "\n".join(lines) or "No sent post has figures to read now."


ENDED_WORDS: Mapping[FiguresWhy, str] = {
    "unsupported": "have no figures: their platform offers none",
    "not-permitted": "have no figures: the account may not read them",
    "gone": "have no figures: the post was deleted",
}


def _posts(n: int) -> str:
    return f"{n} post{'' if n == 1 else 's'}"


def _by_channel(counts: Counter[str]) -> str:
    return ", ".join(f"{channel} {n}" for channel, n in sorted(counts.items()))


def _describe(exc: Exception) -> str:
    if isinstance(exc, PublishError):
        return exc.reason
    return f"{type(exc).__name__}: {exc}"


def build_connectors(
    config: Config, channels: Sequence[str] | None = None
) -> tuple[dict[str, Connector], dict[str, str]]:
    """Connectors of the collector's own for the channels (default: every channel in
    config.yaml), and why the others could not start (their credentials, say)."""
    from connectors.registry import create

    built: dict[str, Connector] = {}
    problems: dict[str, str] = {}
    for name in config.channels if channels is None else channels:
        try:
            credentials = config.credentials(name)
            built[name] = create(config.channel_access(name, credentials))
        except InputError as exc:
            problems[name] = "its credentials cannot be read: " + "; ".join(
                p.message for p in exc.problems
            )
        except Exception as exc:  # a connector that cannot start skips its channel only
            problems[name] = f"its connector cannot start ({_describe(exc)})"
    return built, problems


class Collector:
    """Reads the figures of sent posts, channel by channel, always after publishing.

    `round()` does one pass; `start()` runs rounds every `policies.figures.every` in a thread
    of its own until `stop()`. Give it connectors of its own (default: built from the config
    for `channels`): the daemon's belong to its channel workers."""

    def __init__(
        self,
        ledger: SqlLedger,
        config: Config,
        *,
        connectors: Mapping[str, Connector] | None = None,
        channels: Sequence[str] | None = None,
        metrics: Metrics | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.ledger = ledger
        self.store = FigureStore(ledger)
        self.config = config
        self.policy = config.file.policies.figures
        self.metrics = metrics
        self.clock = clock
        self._own = connectors is None
        self.problems: dict[str, str] = {}
        """Channels whose connector could not start, and why."""
        if connectors is None:
            connectors, self.problems = build_connectors(config, channels)
        self.connectors: Mapping[str, Connector] = connectors
        self._told_to_wait: dict[str, datetime] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False
        self._reported = False
        """Whether the totals are in the metrics (they are refreshed after each round that
        read something)."""
        self._full_at: datetime | None = None
        self._discovered_at = clock()

    def _settings(self, channel: str) -> ChannelSettings:
        return self.config.channels[channel]

    def _moments(self, channel: str) -> list[timedelta]:
        return self.policy.moments(self._settings(channel))

    # --- the thread

    def start(self) -> None:
        for channel, why in self.problems.items():
            log.warning(
                "figures of channel %s are not collected: %s",
                channel,
                why,
                extra={"channel": channel},
            )
        self._thread = threading.Thread(target=self._loop, name="figures", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Start no more reading; wait up to `timeout` seconds for one in flight."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._own:
            for connector in self.connectors.values():
                try:
                    connector.close()
                except Exception:
                    log.debug("closing a connector failed", exc_info=True)

    def _loop(self) -> None:
        while not self._stop.wait(self.policy.every.total_seconds()):
            try:
                self.round()
            except LedgerError as exc:
                if not self._failing:
                    log.warning("figures: the ledger failed (%s); the next round tries again", exc)
                self._failing = True
            except Exception:
                log.exception("figures: a round failed; the next one tries again")
            else:
                if self._failing:
                    log.info("figures: collecting again")
                self._failing = False

    # --- rounds

    def round(self) -> CollectSummary:
        """Read what is due on every channel, publishing first; store it."""
        now = self.clock()
        summary = CollectSummary()
        self._discover(now)
        busy = self._busy(now)
        limits: dict[str, int] = {}
        for channel, connector in self.connectors.items():
            if not self._moments(channel):
                continue
            if not connector.capabilities.figures:
                limits[channel] = UNSUPPORTED_BATCH
                continue
            wait = busy.get(channel) or self._waiting(channel, now)
            if wait:
                self._wait(channel, wait, summary)
            else:
                limits[channel] = self.policy.per_round_of(self._settings(channel))
        for channel, items in self.store.due(now, limits).items():
            if self._stop.is_set():
                break
            connector = self.connectors[channel]
            if connector.capabilities.figures:
                self._read(channel, connector, items, summary)
            else:
                self._unsupported(channel, connector, items, summary)
        if self.metrics is not None:
            self.metrics.figure_rounds.inc()
            if summary.read or not self._reported:
                self.metrics.set_figures(self.store.totals())
                self._reported = True
        self._log(summary)
        return summary

    def collect(self, *, campaign: str | None = None, limit: int = 1000) -> CollectSummary:
        """Read the figures of every sent post (of `campaign`) now, whether due or not, up to
        `limit` posts, latest first; publishing still comes first."""
        now = self.clock()
        summary = CollectSummary()
        for channel, why in self.problems.items():
            summary.waiting[channel] = why
        firsts = self._firsts()
        self.store.discover(firsts, campaign=campaign)
        busy = self._busy(now)
        left = limit
        for channel, connector in self.connectors.items():
            if channel not in firsts or left <= 0:
                continue
            items = self.store.open(channel, left, campaign=campaign)
            if not connector.capabilities.figures:
                self._unsupported(channel, connector, items, summary)
                continue
            wait = busy.get(channel) or self._waiting(channel, now)
            if wait:
                self._wait(channel, wait, summary)
                continue
            left -= len(items)
            self._read(channel, connector, items, summary)
        return summary

    def _discover(self, now: datetime) -> None:
        """Schedule the posts sent since the last round (all of them at the first round and
        every FULL_DISCOVERY: a post recorded as sent by an operator or another daemon may
        carry an older time)."""
        since = None
        if self._full_at is not None and now - self._full_at < FULL_DISCOVERY:
            since = self._discovered_at - DISCOVERY_MARGIN
        else:
            self._full_at = now
        self.store.discover(self._firsts(), since=since)
        self._discovered_at = now

    def _firsts(self) -> dict[str, timedelta]:
        return {c: m[0] for c in self.connectors if (m := self._moments(c))}

    def _busy(self, now: datetime) -> dict[str, Wait]:
        """Channels where publishing needs the platform now: held, or with posts due."""
        held = Wait("held", "the channel is held (clarion status says why)")
        busy = dict.fromkeys(self.ledger.held_channels(), held)
        for channel in self.ledger.due_channels(now):
            busy.setdefault(channel, Wait("publishing", "it has posts due, and they go first"))
        return busy

    def _waiting(self, channel: str, now: datetime) -> Wait | None:
        """Why collection on the channel waits now, if it does: the platform asked, or its
        posting budget runs low."""
        until = self._told_to_wait.get(channel)
        if until is not None and until > now:
            return Wait("platform", f"the platform asked to wait until {until:%Y-%m-%d %H:%M} UTC")
        rate = self._settings(channel).rate
        if rate is not None:
            share = publishing_share(rate, self.policy.headroom)
            if self.ledger.rate_wait(channel, share, now) > timedelta(0):
                return Wait("budget", "its posting budget runs low, and publishing comes first")
        return None

    def _wait(self, channel: str, wait: Wait, summary: CollectSummary) -> None:
        summary.waiting[channel] = wait.words
        log.debug("figures of channel %s wait: %s", channel, wait.words, extra={"channel": channel})
        if self.metrics is not None:
            self.metrics.figure_waits.labels(channel, wait.kind).inc()

    def _unsupported(
        self, channel: str, connector: Connector, items: Sequence[Pending], summary: CollectSummary
    ) -> None:
        reason = f"{connector.platform} offers no figures for posts"
        ended = [Ended(item.key, "unsupported", reason) for item in items]
        self._save(channel, connector, ended, summary)

    def _read(
        self, channel: str, connector: Connector, items: Sequence[Pending], summary: CollectSummary
    ) -> None:
        outcomes: list[Outcome] = []
        moments = self._moments(channel)
        for item in items:
            if self._stop.is_set():
                break
            if outcomes and self._waiting(channel, self.clock()):
                break  # the platform asked to wait, or the budget ran low meanwhile
            outcomes.append(self._read_one(channel, connector, item, moments))
        self._save(channel, connector, outcomes, summary)

    def _read_one(
        self, channel: str, connector: Connector, item: Pending, moments: Sequence[timedelta]
    ) -> Outcome:
        try:
            found = connector.figures(item.ref)
        except FiguresUnavailable as exc:
            return Ended(item.key, exc.why, exc.reason)
        except RetryLater as exc:
            now = self.clock()
            says = exc.retry_at if exc.retry_at is not None and exc.retry_at > now else None
            if says is not None:
                self._told_to_wait[channel] = says
            return Missed(item.key, exc.reason, retry_moment(self.policy, item, moments, now, says))
        except Exception as exc:
            now = self.clock()
            return Missed(item.key, _describe(exc), retry_moment(self.policy, item, moments, now))
        self._told_to_wait.pop(channel, None)
        return Read(item.key, found, next_moment(item.sent_utc, moments, self.clock()))

    def _save(
        self,
        channel: str,
        connector: Connector,
        outcomes: Sequence[Outcome],
        summary: CollectSummary,
    ) -> None:
        self.store.save(outcomes, self.clock())
        for outcome in outcomes:
            summary.count(channel, outcome)
            fields = {"key": outcome.key, "channel": channel}
            if isinstance(outcome, Missed):
                log.debug("figures not read, tried again later: %s", outcome.error, extra=fields)
            elif isinstance(outcome, Ended) and outcome.why != "unsupported":
                level = logging.WARNING if outcome.why == "not-permitted" else logging.INFO
                log.log(level, "no figures (%s): %s", outcome.why, outcome.reason, extra=fields)
            if self.metrics is None:
                continue
            platform = connector.platform
            if isinstance(outcome, Read):
                self.metrics.figure_reads.labels(platform).inc()
            elif isinstance(outcome, Missed):
                self.metrics.figure_failures.labels(platform).inc()
            else:
                self.metrics.figure_ended.labels(platform, outcome.why).inc()

    def _log(self, summary: CollectSummary) -> None:
        if summary.read or summary.missed or summary.ended:
            log.info(
                "figures: %d read, %d to try again later, %d ended",
                summary.read.total(),
                summary.missed.total(),
                summary.ended.total(),
                extra={"read": summary.read.total(), "missed": summary.missed.total()},
            )
        for channel, error in summary.errors.items():
            log.warning(
                "figures of %d post%s on channel %s could not be read, tried again later: %s",
                summary.missed[channel],
                "" if summary.missed[channel] == 1 else "s",
                channel,
                error,
                extra={"channel": channel},
            )


def collect_now(
    ledger: SqlLedger,
    config: Config,
    *,
    campaign: str | None = None,
    connectors: Mapping[str, Connector] | None = None,
    clock: Callable[[], datetime] = utcnow,
    limit: int = 1000,
) -> CollectSummary:
    """Read the figures of the sent posts (of `campaign`) now, for `clarion report --refresh`:
    at most `limit` posts, latest first, each channel only while publishing can spare it.
    Connectors are built from config.yaml unless given (and then closed)."""
    collector = Collector(ledger, config, connectors=connectors, clock=clock)
    try:
        return collector.collect(campaign=campaign, limit=limit)
    finally:
        collector.stop()
