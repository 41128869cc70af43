"""The `clarion run` daemon: its life from start-up to a clean stop.

Threads, and what each may do:
- main: start-up, then a supervisor loop: reloads (SIGHUP, file changes), health changes,
  `--exit-when-idle`, stop (SIGTERM/SIGINT). It never publishes.
- APScheduler (timing.AlarmClock): delivery alarms and the heartbeat on its default executor;
  the sweeper and the horizon refresh on its maintenance executor. Jobs only wake workers.
- one worker per channel (workers.py): the only thread that calls that channel's connector.
- the health endpoint, the campaign-folder watcher, and the figures collector (collect.py).

The daemon is built whole (`Daemon.__init__` opens everything or raises StartupError), then
`start()` starts the threads, each stopped by `close()` in the reverse order (`_started`).

The ledger is the truth (docs/design.md rule 1): every decision to publish is a claim in the
ledger, so a missed or doubled wake-up costs nothing, and a crash loses nothing.
"""

from __future__ import annotations

import errno
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from campaigns.problems import InputError, Problem
from connectors.base import Connector
from scheduler.config import Config
from scheduler.dispatch import Dispatcher, FailureStreak
from scheduler.health import HealthReport, HealthServer, check
from scheduler.ledger.api import Alarm, LedgerError, Outcome, Retry, Row, State
from scheduler.logs import Redactor, delivery_fields
from scheduler.metrics import DispatchObserver, Metrics
from scheduler.reconcile import Reconciler
from scheduler.reload import Planner, PlanUpdate, describe, watch_campaigns
from scheduler.timing import AlarmClock, utcnow
from scheduler.workers import Workers

if TYPE_CHECKING:
    from scheduler.ledger.sql import SqlLedger

log = logging.getLogger("clarion.daemon")

SWEEPER, HEARTBEAT = "@sweeper", "@heartbeat"
BEAT_EVERY = timedelta(seconds=5)
"""How often the daemon records its heartbeat in the ledger, at most."""


def _sleep(stop: threading.Event, seconds: float) -> bool:
    return stop.wait(seconds)


def _no_wait(_stop: threading.Event, _seconds: float) -> bool:
    """`run --once` does not wait for a rate budget's next slot: what must wait is left for
    the next run."""
    return True


class StartupError(Exception):
    """The daemon cannot start; the message says why, for an operator (exit status 2)."""


@dataclass(frozen=True, slots=True)
class RunOptions:
    dry_run: bool = False
    exit_when_idle: bool = False
    once: bool = False
    """Publish what is due now on every channel, then stop (for cron-style use)."""


def dry_run_paths(config: Config) -> tuple[str, Path]:
    """The ledger and outbox of dry runs: kept apart from the real ledger, so that a rehearsal
    never marks a real delivery as sent."""
    folder = config.state_dir
    return f"sqlite:///{folder / 'dry-run-ledger.db'}", folder / "outbox.jsonl"


def _cannot_open(exc: InputError | LedgerError | OSError) -> str:
    """Why the state folder, the lock or the ledger cannot be opened, for an operator."""
    if isinstance(exc, InputError):
        return "\n".join(p.format() for p in exc.problems)
    if not isinstance(exc, OSError):
        return str(exc)
    where = f" ({exc.filename})" if exc.filename else ""
    full = exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)
    fix = "make room on that disk" if full else "check that folder's owner and permissions"
    return (
        f"cannot write the ledger's files: {exc.strerror or exc}{where}. To fix: {fix}, or "
        "point state_dir (or ledger) in config.yaml elsewhere"
    )


class Requests:
    """What the daemon is asked from outside its threads (signals, file changes): to stop, to
    reload. Made before the daemon, so that a signal during start-up is a clean stop."""

    def __init__(self) -> None:
        self.stopping = threading.Event()
        """Set once the daemon stops: nothing more is claimed."""
        self.stop_reason: str | None = None
        self.attention = threading.Event()
        """Set when the supervisor has something to do."""
        self._reloads: list[str] = []
        self._lock = threading.Lock()

    def stop(self, why: str) -> None:
        """Claim nothing more from now on; `Daemon.run` returns soon after."""
        self.stop_reason = why
        self.stopping.set()
        self.attention.set()

    def reload(self, why: str) -> None:
        with self._lock:
            self._reloads.append(why)
        self.attention.set()

    def reloads(self) -> list[str]:
        """Why reloads were asked for since the last call (a burst of them makes one)."""
        with self._lock:
            reasons, self._reloads = self._reloads, []
        return reasons


class Daemon:
    """The daemon, built whole: the constructor takes the ledger's lock, opens the ledger,
    loads the plans and makes every part (connectors, dispatcher, reconciler, workers, alarm
    clock, health endpoint), or raises StartupError having closed what it opened. `start()`
    starts the threads; `close()`, or leaving a `with` block, stops and closes everything.
    """

    def __init__(
        self,
        config: Config,
        options: RunOptions,
        redactor: Redactor,
        *,
        requests: Requests | None = None,
        on_finished: Callable[[Row, Outcome], None] | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.config = config
        self.options = options
        self.dry_run = options.dry_run or not config.explicit
        """Without a config file every channel is a dry run: there are no credentials."""
        self.policies = config.file.policies
        self.redactor = redactor
        self.requests = requests or Requests()
        self.metrics = Metrics()
        self._clock = clock
        self._on_finished = on_finished
        self._opened = ExitStack()
        """What is open (the lock, the ledger, the connectors, the health endpoint's socket):
        closed last."""
        self._started = ExitStack()
        """What runs (the threads): stopped first, in the reverse order of starting."""
        self._stop_watching = threading.Event()
        self._began = time.monotonic()
        self._began_at = clock()
        self._last_beat = float("-inf")
        self._beats: dict[str, float] = {}
        self._ledger_failing: tuple[float, str] | None = None
        self._last_recheck = float("-inf")
        self._rehearsal_checked = time.monotonic()
        self._healthy = True
        self._idle_wait: Counter[str] = Counter()
        """What `--exit-when-idle` last waited for (logged when it changes)."""
        self._plan_errors = 0
        """Errors in the campaign files at the last load: `--exit-when-idle` exits 1."""
        self._running = False
        self.outbox: Path | None = None
        self.ledger_url = config.ledger_url
        if self.dry_run:
            self.ledger_url, self.outbox = dry_run_paths(config)
        self.ledger = self._open_ledger()
        self._process = self.ledger.process
        try:
            self._beat()
            self.planner = Planner(config, self.ledger)
            self.reload("start-up")
            self.connectors = self._build_connectors()
            observer = DispatchObserver(self.metrics, self.policies.alert_lateness, self._finished)
            streak = FailureStreak()
            self.dispatcher = Dispatcher(
                self.ledger,
                self.connectors,
                self.policies,
                self._process,
                clock=clock,
                listener=observer,
                rates={n: s.rate for n, s in config.channels.items() if s.rate is not None},
                wait=_no_wait if options.once else _sleep,
                streak=streak,
                early=timedelta(0) if options.once else self.policies.prepare_ahead,
            )
            self._opened.callback(self.dispatcher.close)
            self.reconciler = Reconciler(
                self.ledger,
                self.connectors,
                self.policies,
                self._process,
                clock=clock,
                on_settled=observer.settled,
                streak=streak,
            )
            self.workers = Workers(
                self.dispatcher, self.reconciler, self.connectors, self.requests.stopping
            )
            self.alarms = AlarmClock(
                self.workers.request,
                self._alarms,
                self.policies.horizon,
                clock,
                on_error=self._alarms_failed,
                early=self.policies.prepare_ahead,
            )
            # Last: a port in use stops the daemon before anything runs.
            self.health = None if options.once else self._health_server()
        except BaseException:
            self._close_opened()
            raise

    def __enter__(self) -> Daemon:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- start-up ------------------------------------------------------------------------

    def _open_ledger(self) -> SqlLedger:
        """Take the ledger's lock, open it, and settle the claims a stopped daemon left."""
        from scheduler.config import prepare_state_dir
        from scheduler.ledger import acquire_daemon_lock, open_ledger

        try:
            prepare_state_dir(self.config)
            self._opened.enter_context(acquire_daemon_lock(self.ledger_url))
            opened = open_ledger(self.ledger_url)
        except (InputError, LedgerError, OSError) as exc:
            self._opened.close()
            raise StartupError(_cannot_open(exc)) from None
        self._opened.callback(opened.close)
        for key in opened.recover_claims(opened.process, self._clock()):
            log.warning(
                "a delivery was claimed when the last daemon stopped: it may have gone "
                "out, so it is now unknown and will be reconciled",
                extra=delivery_fields(key),
            )
        where = f"dry run: posts are written to {self.outbox}" if self.outbox else "live"
        log.info("ledger %s (%s)", opened.url, where)
        return opened

    def start(self) -> None:
        """Start every thread; with `--once`, none (`run` publishes what is due and stops)."""
        if self.options.once:
            return
        if self.health is not None:
            self.health.start()
        self.workers.start()
        self._started.callback(self._stop_workers)
        self._start_collector()
        interval = self.policies.sweep_interval
        self.alarms.every(HEARTBEAT, interval, self._heartbeat)
        self.alarms.every(SWEEPER, interval, self._sweep, maintenance=True)
        self.alarms.start()
        self._started.callback(self.alarms.shutdown)
        watch_campaigns(self.config.campaign_entries, self._files_changed, self._stop_watching)
        self._started.callback(self._stop_watching.set)
        self._running = True
        log.info(
            "clarion is running: %d channel%s (%s)%s",
            len(self.connectors),
            "" if len(self.connectors) == 1 else "s",
            ", ".join(self.connectors) or "none",
            f"; health and metrics at {self.health.url}" if self.health else "",
            extra={"health_url": self.health.url} if self.health else {},
        )

    def _start_collector(self) -> None:
        """Read how sent posts were received, in a thread of its own that yields to
        publishing (scheduler/collect.py); not in a dry run, whose posts are nowhere."""
        if self.dry_run:
            return
        from scheduler.collect import Collector

        collector = Collector(
            self.ledger,
            self.config,
            channels=list(self.connectors),
            metrics=self.metrics,
            clock=self._clock,
        )
        collector.start()
        self._started.callback(collector.stop, self.policies.shutdown_grace.total_seconds())

    def _build_connectors(self) -> dict[str, Connector]:
        """Every channel's connector; a channel whose connector cannot be made is held."""
        from connectors.outbox import OutboxConnector
        from connectors.registry import create

        connectors: dict[str, Connector] = {}
        self._opened.callback(_close_connectors, connectors)
        for name in self.config.channels:
            channel = self.config.channel_access(name, credentials={})
            if self.outbox is not None:
                connectors[name] = OutboxConnector(channel, self.outbox)
                continue
            try:
                credentials = self.config.credentials(name)
            except InputError as exc:
                self._hold(name, "its credentials cannot be read", exc.problems)
                continue
            self.redactor.add(credentials.values())
            try:
                connectors[name] = create(replace(channel, credentials=credentials))
            except Exception as exc:  # a connector that cannot start holds its channel only
                self._hold(name, f"its connector cannot start ({type(exc).__name__}: {exc})")
        return connectors

    def _hold(self, channel: str, why: str, problems: Sequence[Problem] = ()) -> None:
        details = "; ".join(f"{p.where}: {p.message}" for p in problems)
        reason = f"{why}: {details}" if details else why
        log.error(
            "channel %s is held: %s. Its posts wait (and expire past their deadline) until "
            "this is fixed and clarion restarted; the other channels run",
            channel,
            reason,
            extra={"channel": channel},
        )
        try:
            self.ledger.hold_channel(channel, reason, self._clock())
        except LedgerError as exc:
            raise StartupError(str(exc)) from None

    def _health_server(self) -> HealthServer | None:
        """The /healthz and /metrics endpoint (and the web view), bound but not yet serving."""
        listen = self.config.file.server.listen
        if listen is None:
            return None
        try:
            pages = None
            if self.config.file.server.web:
                from scheduler.web.bridge import daemon_pages

                pages = daemon_pages(self.config)
            health = HealthServer(listen, self.health_report, self.metrics.render, pages)
        except (OSError, ValueError, InputError) as exc:
            raise StartupError(
                f"cannot serve /healthz on {listen} (server.listen): {exc}"
            ) from None
        self._opened.callback(health.stop)
        return health

    # --- the plan ------------------------------------------------------------------------

    def reload(self, why: str) -> None:
        """Load the campaign files and sync the ledger; log what changed and every problem."""
        try:
            update = self.planner.update(self._clock())
        except LedgerError as exc:
            self._ledger_failed("sync", exc)
            return
        if update is None:
            log.warning(
                "config.yaml lists no campaign folders (campaigns:): nothing is loaded, and "
                "the deliveries already in the ledger go out as planned"
            )
            return
        errors = [p for p in update.problems if p.severity == "error"]
        for problem in errors:
            extra = {"hint": problem.hint} if problem.hint else {}
            log.error("%s: error: %s", problem.where, problem.message, extra=extra)
        warnings = len(update.problems) - len(errors)
        self.metrics.plan_errors.set(len(errors))
        self._plan_errors = len(errors)
        self.metrics.reloads.labels("errors" if errors else "ok").inc()
        for campaign in update.kept:
            log.error(
                "campaign %s has errors: its last good plan keeps running until they are fixed",
                campaign,
                extra={"campaign": campaign},
            )
        report = update.report
        log.info(
            "plans loaded (%s): %s%s",
            why,
            describe(report),
            f"; {warnings} warning{'s' if warnings > 1 else ''} (clarion validate shows them)"
            if warnings
            else "",
        )
        for key in update.new_edits:
            log.warning(
                "edited after it went out: the change is not re-posted", extra=delivery_fields(key)
            )
        for key, earlier in report.went_out_as.items():
            log.warning(
                "went out (or may have) under its earlier key %s: not posted again under its "
                "new key (`clarion status` lists it and says how to post it again)",
                earlier,
                extra={**delivery_fields(key), "went_out_as": earlier},
            )
        for key in report.cancelled:
            log.info("cancelled: no longer in its campaign", extra=delivery_fields(key))
        for key in report.expired:
            log.warning(
                "expired: its deadline had passed when it was planned", extra=delivery_fields(key)
            )
        self._log_blackouts(update)
        if self._running:
            try:
                self.alarms.refresh()
            except LedgerError as exc:
                self._ledger_failed("alarms", exc)
            self.alarms.run_soon(SWEEPER)

    def _log_blackouts(self, update: PlanUpdate) -> None:
        for campaign in update.blackouts_read:
            log.warning(
                "campaign %s has errors, but its blackouts were read: they are in force, added "
                "to those it had (fix the errors to remove or shorten one)",
                campaign,
                extra={"campaign": campaign},
            )
        now = self._clock()
        for campaign, window in update.new_blackouts:
            if window.end <= now:
                continue
            try:
                planned = self.ledger.rows(campaign, [State.PLANNED])
                safety = self.ledger.blackouts().get(campaign)
            except LedgerError:
                planned, safety = [], None
            exempt = safety.exempt_posts if safety else frozenset()
            inside = sum(
                window.covers(r.channel, r.due_utc) and r.post not in exempt for r in planned
            )
            what = (
                "are skipped (then: skip)"
                if window.then == "skip"
                else "wait until it ends, then go out unless past their not_after"
            )
            log.warning(
                "blackout %s: '%s' (%s), %s to %s UTC, on %s: no post of campaign %s "
                "starts inside it; the %d deliveries planned inside %s",
                "in force" if window.start <= now else "ahead",
                window.reason,
                f"{window.where.file}:{window.where.line}",
                f"{window.start:%Y-%m-%d %H:%M:%S}",
                f"{window.end:%Y-%m-%d %H:%M:%S}",
                ", ".join(sorted(window.channels)) if window.channels else "every channel",
                campaign,
                inside,
                what,
                extra={"campaign": campaign, "blackout": window.reason},
            )

    def _alarms(self, now: datetime, horizon: timedelta) -> list[Alarm]:
        """The deliveries' alarms, and one at each end of a blackout that holds some."""
        found = self.ledger.alarms(now, horizon) + self.ledger.blackout_ends(now, horizon)
        return sorted(found, key=lambda alarm: (alarm.at, alarm.key))

    def _files_changed(self, files: list[str]) -> None:
        names = ", ".join(Path(f).name for f in files[:5])
        self.requests.reload(f"changed: {names}{' …' if len(files) > 5 else ''}")

    # --- jobs ----------------------------------------------------------------------------

    def _beat(self) -> None:
        """Tell the ledger this daemon is alive (`clarion status` shows it), every
        BEAT_EVERY at most."""
        if time.monotonic() - self._last_beat < BEAT_EVERY.total_seconds() / 2:
            return  # half: a job that runs every BEAT_EVERY, a little early, still beats
        now = self._clock()
        period = max(self.policies.sweep_interval, BEAT_EVERY)
        try:
            self.ledger.beat(self._process, self._began_at, now, now + 3 * period, self.dry_run)
        except LedgerError as exc:
            self._ledger_failed("heartbeat", exc)
        else:
            self._last_beat = time.monotonic()

    def _heartbeat(self) -> None:
        self._beat()
        self._beats[HEARTBEAT] = time.monotonic()
        self.metrics.heartbeat.set_to_current_time()
        self.metrics.alarms.set(self.alarms.armed)

    def _alarms_failed(self, exc: Exception) -> None:
        if not isinstance(exc, LedgerError):
            raise exc
        self._ledger_failed("alarms", exc)

    def _sweep(self) -> None:
        """Catch what alarms missed: settle what must be, wake the channels with something
        due, and now and then reconcile unknown deliveries and test held channels."""
        now = self._clock()
        try:
            for key in self.ledger.expire_leases(now):
                self.metrics.unknown.inc()
                log.error(
                    "unknown: its lease ran out mid-publish, so it may have gone out; it is "
                    "reconciled where the platform allows, else settle it with clarion resolve",
                    extra=delivery_fields(key),
                )
            self._settle_blackouts(now)
            for key in self.ledger.expire_overdue(now):
                self.metrics.expired.inc()
                log.warning("expired: not posted, its deadline passed", extra=delivery_fields(key))
            due = self.ledger.due_channels(now)
            held = self.ledger.held_channels()
            self.metrics.set_held(held, set(self.config.channels))
            self.metrics.set_states(self.ledger.counts())
        except LedgerError as exc:
            self._ledger_failed("sweep", exc)
        else:
            self._ledger_ok()
            # Reconciling and releasing are asked first: a worker woken to publish a backlog
            # does nothing else until it is done, and after a crash the unknown deliveries
            # are the oldest (and Mastodon recognises their repeat only for an hour).
            if (
                time.monotonic() - self._last_recheck
                >= self.policies.recheck_interval.total_seconds()
            ):
                self._last_recheck = time.monotonic()
                self.workers.request_all("reconcile")
                for channel in held:
                    self.workers.request(channel, "release")
            for channel in due:
                self.workers.request(channel)
        self._beats[SWEEPER] = time.monotonic()
        self.metrics.last_sweep.set_to_current_time()

    def _settle_blackouts(self, now: datetime) -> None:
        for key, state, reason in self.ledger.settle_blackouts(now):
            if state == State.EXPIRED:
                self.metrics.expired.inc()
            log.warning("not posted, %s: %s", state, reason, extra=delivery_fields(key))

    def _ledger_failed(self, operation: str, exc: Exception) -> None:
        self.metrics.ledger_errors.labels(operation).inc()
        if self._ledger_failing is None:
            self._ledger_failing = (time.monotonic(), str(exc))
            log.error(
                "ledger error (%s): %s. Scheduling goes on; the sweeper tries again every %s",
                operation,
                exc,
                self.policies.sweep_interval,
            )
        else:
            log.debug("ledger still failing (%s): %s", operation, exc)

    def _ledger_ok(self) -> None:
        if self._ledger_failing is not None:
            since = self._ledger_failing[0]
            self._ledger_failing = None
            log.warning("ledger reachable again after %.0f s", time.monotonic() - since)

    def _finished(self, row: Row, outcome: Outcome) -> None:
        if isinstance(outcome, Retry) and self._running:
            self.alarms.arm([Alarm(row.key, row.channel, outcome.at)])
        if self._on_finished is not None:
            self._on_finished(row, outcome)

    # --- health --------------------------------------------------------------------------

    def health_report(self) -> HealthReport:
        stale = 3 * self.policies.sweep_interval.total_seconds() + 1.0

        def age(name: str, what: str) -> str | None:
            seconds = time.monotonic() - self._beats.get(name, self._began)
            return f"{what} for {seconds:.0f} s" if seconds > stale else None

        def ledger() -> str | None:
            if self._ledger_failing is None:
                return None
            since, error = self._ledger_failing
            failing = time.monotonic() - since
            return f"failing for {failing:.0f} s: {error}" if failing > stale else None

        def workers() -> str | None:
            dead = self.workers.dead()
            return f"worker threads stopped: {', '.join(dead)}" if dead else None

        return check(
            {
                "scheduler": lambda: (
                    None if self.alarms.alive() else "the scheduler thread has stopped"
                ),
                "heartbeat": lambda: age(HEARTBEAT, "no heartbeat"),
                "sweeper": lambda: age(SWEEPER, "the sweeper has not completed a run"),
                "ledger": ledger,
                "workers": workers,
            }
        )

    def _watch_health(self) -> None:
        report = self.health_report()
        self.metrics.healthy.set(1 if report.ok else 0)
        if report.ok == self._healthy:
            return
        self._healthy = report.ok
        if report.ok:
            log.warning("health: ok again")
        else:
            problems = "; ".join(f"{name}: {what}" for name, what in report.problems.items())
            log.error("health: failing (/healthz answers 503): %s", problems)

    # --- running and stopping ----------------------------------------------------------

    def run(self) -> int:
        """Supervise until stopped; returns the exit status."""
        if self.options.once:
            self._run_once()
            return 0
        requests = self.requests
        while requests.stop_reason is None:
            requests.attention.wait(1.0)
            requests.attention.clear()
            if requests.stop_reason is not None:
                break
            reasons = requests.reloads()
            if reasons:
                self.reload("; ".join(dict.fromkeys(reasons)))
            self._watch_health()
            if self.options.exit_when_idle and self._idle():
                requests.stop("nothing left to post (--exit-when-idle)")
            elif self.options.exit_when_idle and self._rehearsal_over():
                requests.stop(
                    "a dry run with --exit-when-idle: nothing falls due within "
                    "policies.horizon; the rest of the plan is in the ledger"
                )
        log.info("stopping: %s", requests.stop_reason)
        if self.options.exit_when_idle and self._plan_errors:
            log.error(
                "the campaign files had %d error%s at the last load (logged above): exit status 1",
                self._plan_errors,
                "" if self._plan_errors == 1 else "s",
            )
            return 1
        return 0

    def _idle(self) -> bool:
        """Nothing planned or being published, and no unknown delivery that the daemon
        would settle itself (a repeat the platform recognises, a look-up); says how many it
        leaves unknown for an operator, and why."""
        try:
            counts = self.ledger.counts()
            stranded = self._stranded()
            if counts[State.CLAIMED] or counts[State.PLANNED] > stranded:
                return False
            unknown = self.ledger.rows(states=[State.UNKNOWN]) if counts[State.UNKNOWN] else []
            settlements = [(row, *self.reconciler.settlement(row)) for row in unknown]
        except LedgerError:
            return False
        waiting = Counter(how for _, itself, how in settlements if itself)
        if waiting:
            if waiting != self._idle_wait:
                log.info(
                    "--exit-when-idle: not stopping yet, %d unknown deliver%s will be settled "
                    "by this daemon (%s)",
                    waiting.total(),
                    "y" if waiting.total() == 1 else "ies",
                    ", ".join(f"{n} by {how}" for how, n in waiting.items()),
                )
            self._idle_wait = waiting
            return False
        left = Counter((row.channel, why) for row, _, why in settlements)
        if left:
            log.warning(
                "--exit-when-idle: leaving %d deliver%s unknown: they may have gone out, and only "
                "an operator can settle them (`clarion status` lists them, `clarion resolve` "
                "settles each): %s",
                left.total(),
                "y" if left.total() == 1 else "ies",
                "; ".join(f"{n} on {channel}: {why}" for (channel, why), n in left.items()),
                extra={"unknown": left.total()},
            )
        if stranded:
            log.warning(
                "--exit-when-idle: leaving %d planned deliver%s on held channels: they go out "
                "once the channel's problem (logged at start) is fixed and clarion restarted",
                stranded,
                "y" if stranded == 1 else "ies",
            )
        return True

    def _stranded(self) -> int:
        """Planned deliveries on channels whose connector could not start: they wait for a
        restart, so `--exit-when-idle` does not wait for them (the hold was logged)."""
        return sum(
            len(self.ledger.rows(states=[State.PLANNED], channel=channel))
            for channel in self.config.channels
            if channel not in self.connectors
        )

    def _rehearsal_over(self) -> bool:
        """A dry run stops once nothing falls due within the horizon: a rehearsal of a campaign
        weeks away loads and checks it, then ends, instead of waiting for its first post."""
        if not self.dry_run or time.monotonic() - self._rehearsal_checked < 5:
            return False
        self._rehearsal_checked = time.monotonic()
        try:
            soon = self.ledger.alarms(self._clock(), self.policies.horizon)
            claimed = self.ledger.counts().get(State.CLAIMED, 0)
        except LedgerError:
            return False
        return not soon and not claimed

    def _run_once(self) -> None:
        """Publish what is due now on every channel, channels in parallel."""
        now = self._clock()
        self.ledger.expire_leases(now)
        self._settle_blackouts(now)
        self.ledger.expire_overdue(now)
        threads = [
            threading.Thread(
                target=self.dispatcher.run_channel,
                args=(channel, self.requests.stopping),
                name=f"once:{channel}",
            )
            for channel in self.connectors
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        waiting = self.ledger.due_channels(self._clock())
        if waiting:
            log.info(
                "still due on %s, waiting for the rate budget: the next run posts them",
                ", ".join(waiting),
            )

    def close(self) -> None:
        """Stop every thread; publishes in flight get `policies.shutdown_grace` to finish."""
        self._running = False
        self.requests.stopping.set()
        self._stop_watching.set()
        self._started.close()
        self._close_opened()

    def _stop_workers(self) -> None:
        busy = self.workers.stop(self.policies.shutdown_grace.total_seconds())
        if busy:
            log.error(
                "still publishing on %s after %s: those deliveries become unknown when "
                "their lease runs out, and are reconciled where the platform allows",
                ", ".join(busy),
                self.policies.shutdown_grace,
            )

    def _close_opened(self) -> None:
        """Record the stop in the ledger, then close what is open."""
        try:
            self.ledger.stopped(self._process)
        except LedgerError as exc:
            log.debug("could not record the stop in the ledger: %s", exc)
        self._opened.close()
        log.info("stopped")


def _close_connectors(connectors: dict[str, Connector]) -> None:
    for connector in connectors.values():
        try:
            connector.close()
        except Exception:
            log.debug("closing a connector failed", exc_info=True)
