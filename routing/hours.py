"""Operating hours: weekly intervals in the calendar's own time zone (DST-aware), minus holidays."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")


def validate_timezone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError({"timezone": _("Unknown time zone %(tz)r.") % {"tz": name}}) from None


def validate_weekly(weekly) -> None:
    if not isinstance(weekly, dict) or set(weekly) - set(DAYS):
        raise ValidationError({"weekly": _("Weekly hours map mon..sun to lists of [from, to].")})
    for day, intervals in weekly.items():
        if not isinstance(intervals, list):
            raise ValidationError({"weekly": _("%(day)s: a list of [from, to] intervals.") % {"day": day}})
        for interval in intervals:
            if (
                not isinstance(interval, list) or len(interval) != 2
                or not all(isinstance(v, str) and HHMM.match(v) for v in interval)
                or interval[0] >= interval[1]
            ):
                raise ValidationError({"weekly": _("%(day)s: %(i)r is not [\"HH:MM\", \"HH:MM\"] with from < to.") % {
                    "day": day, "i": interval}})


def _minutes(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def is_open(hours, at: datetime, *, holidays: set | None = None) -> bool:
    """Whether ``hours`` (an OperatingHours, or None for 24×7) is open at the aware time ``at``."""
    if hours is None:
        return True
    local = at.astimezone(ZoneInfo(hours.timezone))
    if holidays is None:
        holidays = set(hours.holidays.values_list("date", flat=True))
    if local.date() in holidays:
        return False
    minute = local.hour * 60 + local.minute
    for start, end in hours.weekly.get(DAYS[local.weekday()], []):
        if _minutes(start) <= minute < _minutes(end):
            return True
    return False


def next_opening(hours, at: datetime, *, horizon_days: int = 14) -> datetime | None:
    """When ``hours`` next opens at or after ``at`` (``at`` itself when open); None if not within the horizon."""
    if hours is None or is_open(hours, at):
        return at
    tz = ZoneInfo(hours.timezone)
    holidays = set(hours.holidays.values_list("date", flat=True))
    local = at.astimezone(tz)
    for offset in range(horizon_days + 1):
        day = (local + timedelta(days=offset)).date()
        if day in holidays:
            continue
        for start, _end in sorted(hours.weekly.get(DAYS[day.weekday()], [])):
            minutes = _minutes(start)
            candidate = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=tz)
            if candidate >= local:
                return candidate
    return None
