"""Report tests start from a seeded ledger (reportkit), on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest

from scheduler.ledger.sql import SqlLedger
from scheduler.report import Report, build_report
from tests.scheduler.report.reportkit import has_figures, seed


@pytest.fixture
def seeded(ledger: SqlLedger) -> SqlLedger:
    seed(ledger)
    return ledger


@pytest.fixture
def report(seeded: SqlLedger) -> Report:
    return build_report(seeded, "sayno", has_figures=has_figures)
