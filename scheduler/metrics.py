"""The daemon's Prometheus metrics, in a registry of its own (nothing global, one per daemon)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import fields
from datetime import timedelta

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)

from connectors.base import Figures
from scheduler.ledger.api import (
    ErrorClass,
    Failed,
    Held,
    Outcome,
    Released,
    Retry,
    Row,
    Sent,
    State,
    Unknown,
)
from scheduler.logs import delivery_fields

log = logging.getLogger("clarion.deliveries")

disable_created_metrics()  # type: ignore[no-untyped-call]
"""No `*_created` series beside each counter: in the text format they read as gauges of their own
and only clutter dashboards."""

FIGURE_COUNTS = tuple(f.name for f in fields(Figures) if f.name != "extra")
"""likes, reposts, replies, quotes, views, clicks: each a gauge `clarion_post_<name>`."""

_SECONDS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
_LATENESS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 1800, 3600, 7200)


def build_labels() -> dict[str, str]:
    from scheduler.ledger.migrate import head
    from scheduler.scaffold import clarion_version

    return {"version": clarion_version(), "ledger_schema": head()}


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        ProcessCollector(registry=r)
        self.deliveries = Gauge(
            "clarion_deliveries", "Deliveries in the ledger, by state.", ["state"], registry=r
        )
        self.publish_seconds = Histogram(
            "clarion_publish_seconds",
            "Time the platform took to accept a post.",
            ["channel"],
            buckets=_SECONDS,
            registry=r,
        )
        self.lateness_seconds = Histogram(
            "clarion_lateness_seconds",
            "How long after its due instant a post was handed to the platform.",
            ["channel"],
            buckets=_LATENESS,
            registry=r,
        )
        self.finished = Counter(
            "clarion_deliveries_finished",
            "Publish attempts by outcome: sent, retry, failed, unknown, held.",
            ["channel", "outcome"],
            registry=r,
        )
        self.retries = Counter(
            "clarion_retries", "Attempts that will be tried again.", ["channel"], registry=r
        )
        self.errors = Counter(
            "clarion_errors",
            "Attempts that did not succeed, by error class.",
            ["channel", "error_class"],
            registry=r,
        )
        self.late_alerts = Counter(
            "clarion_late_alerts",
            "Posts that went out later than policies.alert_lateness.",
            ["channel"],
            registry=r,
        )
        self.lost_claims = Counter(
            "clarion_lost_claims",
            "Results not recorded because the claim was no longer ours (lease expired).",
            ["channel"],
            registry=r,
        )
        self.expired = Counter(
            "clarion_deliveries_expired", "Deliveries expired past their deadline.", registry=r
        )
        self.unknown = Counter(
            "clarion_leases_expired",
            "Claims whose lease ran out mid-publish; their deliveries became unknown.",
            registry=r,
        )
        self.ledger_errors = Counter(
            "clarion_ledger_errors", "Ledger operations that failed.", ["operation"], registry=r
        )
        self.held = Gauge(
            "clarion_channel_held", "1 while a channel is held.", ["channel"], registry=r
        )
        self.heartbeat = Gauge(
            "clarion_heartbeat_timestamp_seconds",
            "When the scheduler last ran its heartbeat job (Unix time).",
            registry=r,
        )
        self.last_sweep = Gauge(
            "clarion_sweep_timestamp_seconds",
            "When the sweeper last completed (Unix time).",
            registry=r,
        )
        self.alarms = Gauge("clarion_alarms", "Delivery alarms set in the scheduler.", registry=r)
        self.reloads = Counter(
            "clarion_plan_reloads", "Plan loads, by result: ok or errors.", ["result"], registry=r
        )
        self.plan_errors = Gauge(
            "clarion_plan_errors", "Errors in the campaign files at the last load.", registry=r
        )
        self.healthy = Gauge("clarion_healthy", "1 when /healthz answers 200.", registry=r)
        self.post_figures = {
            name: Gauge(
                f"clarion_post_{name}",
                f"The {name} of the sent posts, summed over each post's latest reading.",
                ["campaign", "platform"],
                registry=r,
            )
            for name in FIGURE_COUNTS
        }
        self.figure_rounds = Counter(
            "clarion_figure_rounds", "Rounds of the figures collector.", registry=r
        )
        self.figure_reads = Counter(
            "clarion_figure_reads", "Posts whose figures were read.", ["platform"], registry=r
        )
        self.figure_failures = Counter(
            "clarion_figure_failures",
            "Readings of figures that failed and are tried again later.",
            ["platform"],
            registry=r,
        )
        self.figure_ended = Counter(
            "clarion_figure_collections_ended",
            "Posts whose figures cannot be read, by why: unsupported, not-permitted, gone.",
            ["platform", "why"],
            registry=r,
        )
        self.figure_waits = Counter(
            "clarion_figure_waits",
            "Rounds in which a channel was not read, by reason: publishing, budget, platform, "
            "held.",
            ["channel", "reason"],
            registry=r,
        )
        Info(
            "clarion_build",
            "The running Clarion and the ledger schema it writes.",
            registry=r,
        ).info(build_labels())

    def set_states(self, counts: Mapping[State, int]) -> None:
        """Every state, those with no delivery at 0, so that a series never just vanishes."""
        for state in State:
            self.deliveries.labels(state.value).set(counts.get(state, 0))

    def set_held(self, channels: Mapping[str, str], known: set[str]) -> None:
        for channel in known:
            self.held.labels(channel).set(1 if channel in channels else 0)

    def set_figures(self, totals: Mapping[tuple[str, str], Mapping[str, int]]) -> None:
        """Latest totals per (campaign, platform); a figure the platform does not give has
        no series (unknown is not zero)."""
        for (campaign, platform), counts in totals.items():
            for name, value in counts.items():
                self.post_figures[name].labels(campaign, platform).set(value)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class DispatchObserver:
    """The dispatcher's listener: a log line per outcome, with the delivery's key, campaign
    and channel as fields, and the metrics. A post later than `alert_lateness` raises a
    warning and counts in `clarion_late_alerts_total` (docs/design.md rule 6: nothing goes
    unnoticed)."""

    def __init__(
        self,
        metrics: Metrics,
        alert_lateness: timedelta,
        on_finished: Callable[[Row, Outcome], None] | None = None,
    ) -> None:
        self.metrics = metrics
        self.alert_seconds = alert_lateness.total_seconds()
        self.on_finished = on_finished

    def claimed(self, row: Row) -> None:
        log.debug("claimed", extra=delivery_fields(row.key))

    def finished(
        self, row: Row, outcome: Outcome, publish_seconds: float, lateness_seconds: float
    ) -> None:
        m = self.metrics
        fields: dict[str, object] = {
            **delivery_fields(row.key),
            "publish_s": round(publish_seconds, 3),
            "late_s": round(lateness_seconds, 3),
        }
        m.finished.labels(row.channel, OUTCOME_NAMES[type(outcome)]).inc()
        m.publish_seconds.labels(row.channel).observe(publish_seconds)
        if isinstance(outcome, Sent):
            m.lateness_seconds.labels(row.channel).observe(max(lateness_seconds, 0.0))
            log.info("sent: %s", outcome.ref.url or outcome.ref.id, extra=fields)
        elif isinstance(outcome, Retry):
            m.retries.labels(row.channel).inc()
            m.errors.labels(row.channel, outcome.error_class).inc()
            log.warning(
                "not sent, tries again at %s: %s",
                outcome.at.isoformat(timespec="seconds"),
                outcome.reason,
                extra=fields,
            )
        elif isinstance(outcome, Released):
            log.info("not sent, planned again: %s", outcome.reason, extra=fields)
        elif isinstance(outcome, Held):
            m.errors.labels(row.channel, ErrorClass.AUTH).inc()
            log.error(
                "channel %s held: %s; its posts wait until its credentials work "
                "(see clarion check)",
                row.channel,
                outcome.reason,
                extra=fields,
            )
        else:
            m.errors.labels(row.channel, outcome.error_class).inc()
            if isinstance(outcome, Failed):
                log.error("failed, not posted: %s", outcome.reason, extra=fields)
            else:
                log.error(
                    "unknown: %s; it is reconciled where the platform allows, else settle it "
                    "with clarion resolve",
                    outcome.reason,
                    extra=fields,
                )
        if isinstance(outcome, Sent) and lateness_seconds > self.alert_seconds:
            m.late_alerts.labels(row.channel).inc()
            log.warning(
                "late: went out %.0f s after its time (alert_lateness is %.0f s)",
                lateness_seconds,
                self.alert_seconds,
                extra=fields,
            )
        if self.on_finished is not None:
            self.on_finished(row, outcome)

    def lost_claim(self, row: Row, outcome: Outcome) -> None:
        self.metrics.lost_claims.labels(row.channel).inc()
        went_out = ""
        if isinstance(outcome, Sent):
            went_out = f"; it went out at {outcome.ref.url or outcome.ref.id}"
        log.warning(
            "the result (%s) was not recorded: the claim was no longer ours (lease ran out, "
            "or an operator acted); the ledger's state stands%s",
            OUTCOME_NAMES[type(outcome)],
            went_out,
            extra=delivery_fields(row.key),
        )

    def settled(self, key: str, state: State, reason: str) -> None:
        if state == State.EXPIRED:
            self.metrics.expired.inc()
        level = logging.INFO if state in (State.SENT, State.PLANNED) else logging.WARNING
        log.log(level, "%s: %s", state.value, reason, extra=delivery_fields(key))


OUTCOME_NAMES: Mapping[type, str] = {
    Sent: "sent",
    Retry: "retry",
    Failed: "failed",
    Unknown: "unknown",
    Held: "held",
    Released: "released",
}
