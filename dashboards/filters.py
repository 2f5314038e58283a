"""Dashboard filters chosen on a page and kept in its URL (date range, team / sales rep)."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import ValidationError

# The rep filter's "Unassigned": rows with no rep. 0 is never an employee id (ids are identities from 1; the
# KPI SQL already matches a missing rep as COALESCE(id, 0)). Only an all-rows scope may see these rows.
UNASSIGNED = 0
UNASSIGNED_PARAM = "unassigned"


@dataclass(frozen=True)
class DashboardFilters:
    """Filters chosen on a dashboard page and kept in its URL (?from=2024-01&to=2024-06&rep=5&team=5);
    `rep=unassigned` (UNASSIGNED) keeps the rows that have no rep."""

    date_from: date | None = None
    date_to: date | None = None
    rep: int | None = None
    team: int | None = None

    def as_query(self) -> dict[str, str]:
        out = {}
        if self.date_from:
            out["from"] = self.date_from.isoformat()
        if self.date_to:
            out["to"] = self.date_to.isoformat()
        if self.rep is not None:
            out["rep"] = UNASSIGNED_PARAM if self.rep == UNASSIGNED else str(self.rep)
        if self.team is not None:
            out["team"] = str(self.team)
        return out


def _parse_date(text: str, name: str, *, end: bool) -> date:
    """'2024-03-15' or '2024-03' (a month: its first day, or its last day for an end date)."""
    try:
        if len(text) == 7:
            first = date.fromisoformat(text + "-01")
            if not end:
                return first
            return first.replace(day=calendar.monthrange(first.year, first.month)[1])
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"{name}={_shown(text)} is not a date: use YYYY-MM-DD or YYYY-MM") from None


# Employee ids are bigint: larger values are not ids (and would fail in SQL, not here).
_ID_MAX = 2**63 - 1
_ASCII_DIGITS = re.compile(r"[0-9]{1,19}")
_SHOWN_CHARS = 40


def _shown(text: str) -> str:
    """The value as the error repeats it: quoted, and cut short (the error is shown to people)."""
    return repr(text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "…")


def _parse_id(text: str, name: str) -> int:
    # str.isdigit() accepts '²' and '١' (Arabic-Indic one, which int() reads as 1): ASCII digits only.
    if not _ASCII_DIGITS.fullmatch(text) or int(text) > _ID_MAX:
        raise ValidationError(f"{name}={_shown(text)} is not an employee id")
    return int(text)


def _parse_rep(text: str) -> int:
    if text.lower() == UNASSIGNED_PARAM:
        return UNASSIGNED
    return _parse_id(text, "rep")


def dashboard_filters_parse(params) -> DashboardFilters:
    """Dashboard filters from query parameters; a clear ValidationError for a bad value."""
    raw = {k: (params.get(k) or "").strip() for k in ("from", "to", "rep", "team")}
    filters = DashboardFilters(
        date_from=_parse_date(raw["from"], "from", end=False) if raw["from"] else None,
        date_to=_parse_date(raw["to"], "to", end=True) if raw["to"] else None,
        rep=_parse_rep(raw["rep"]) if raw["rep"] else None,
        team=_parse_id(raw["team"], "team") if raw["team"] else None,
    )
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise ValidationError("from must not be after to")
    return filters


def previous_period(filters: DashboardFilters) -> DashboardFilters | None:
    """The period just before the filtered one, of the same length (for "change vs previous period")."""
    if not (filters.date_from and filters.date_to):
        return None
    try:
        return _previous_period(filters.date_from, filters.date_to, filters)
    except (ValueError, OverflowError):  # the period before year 1: there is none
        return None


def _previous_period(start: date, end: date, filters: DashboardFilters) -> DashboardFilters:
    if start.day == 1 and (end + timedelta(days=1)).day == 1:
        # Whole months (KPI views are mostly monthly): the same number of months just before.
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        index = start.year * 12 + start.month - 1 - months
        previous_start = date(index // 12, index % 12 + 1, 1)
        previous_end = start - timedelta(days=1)
    else:
        previous_end = start - timedelta(days=1)
        previous_start = start - (end - start + timedelta(days=1))
    return DashboardFilters(date_from=previous_start, date_to=previous_end, rep=filters.rep, team=filters.team)
