"""Operating hours: weekly intervals in the calendar's own time zone (DST-aware), minus holidays."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from datetime import timezone as dt_timezone
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


def _instants(day, minutes: int, tz: ZoneInfo) -> list[datetime]:
    """The UTC instants at which the wall time ``minutes`` after midnight occurs on ``day``: one; two in
    the hour repeated in autumn; in the hour skipped in spring, the first instant after the gap."""
    wall = datetime.combine(day, time(minutes // 60, minutes % 60))
    found = []
    for fold in (0, 1):
        instant = wall.replace(tzinfo=tz, fold=fold).astimezone(dt_timezone.utc)
        if instant.astimezone(tz).replace(tzinfo=None) == wall and instant not in found:
            found.append(instant)
    return found or [wall.replace(tzinfo=tz).astimezone(dt_timezone.utc)]


def next_opening(hours, at: datetime, *, horizon_days: int = 14) -> datetime | None:
    """When ``hours`` next opens at or after ``at`` (``at`` itself when open); None if not within the horizon.

    DST-safe: openings are compared as instants, not wall times, so the hour
    repeated in autumn counts twice, and an opening inside the hour skipped in
    spring is the first instant after the gap (02:30 → 03:30 in Berlin).
    The result is in the calendar's time zone.
    """
    if hours is None or is_open(hours, at):
        return at
    tz = ZoneInfo(hours.timezone)
    holidays = set(hours.holidays.values_list("date", flat=True))
    now = at.astimezone(dt_timezone.utc)
    local = at.astimezone(tz)
    for offset in range(horizon_days + 1):
        day = local.date() + timedelta(days=offset)
        if day in holidays:
            continue
        for start, _end in sorted(hours.weekly.get(DAYS[day.weekday()], [])):
            for instant in _instants(day, _minutes(start), tz):
                if instant >= now:
                    return instant.astimezone(tz)
    return None
