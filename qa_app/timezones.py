"""The venue's time zone: events keep their start and end as the venue's wall-clock times (what
the programme says), with the zone they are in; everything else is stored in UTC.

A zone is an IANA name ("Europe/Moscow") or a fixed offset ("+03:00"); an event without one is
in the server's own zone.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")


def offset_name(offset: timedelta) -> str:
    """A fixed offset as "+03:00" (the form `zone` reads back)."""
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def check_zone(name: str) -> str:
    """name, if it names a zone; ValueError (in words for the organiser) otherwise."""
    match = OFFSET.match(name)
    if match:
        hours, minutes = int(match[2]), int(match[3])
        if hours > 14 or minutes >= 60:
            raise ValueError(f"{name!r} is not a UTC offset (from -14:00 to +14:00)")
        return name
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}: use a name such as 'Europe/Moscow' or an offset such "
            "as '+03:00'"
        ) from None
    return name


def zone(name: str | None) -> tzinfo:
    """The tzinfo of a zone name (see check_zone); None: the server's own zone."""
    if name is None:
        return datetime.now().astimezone().tzinfo
    match = OFFSET.match(name)
    if match:
        sign = -1 if match[1] == "-" else 1
        return timezone(sign * timedelta(hours=int(match[2]), minutes=int(match[3])))
    return ZoneInfo(name)


def venue_time(moment_utc: datetime, name: str | None) -> datetime:
    """A stored (naive UTC) moment as the venue's naive wall-clock time."""
    return moment_utc.replace(tzinfo=UTC).astimezone(zone(name)).replace(tzinfo=None)


def venue_now(name: str | None) -> datetime:
    """The venue's wall-clock time now (naive), to compare with an event's starts_at/ends_at."""
    return datetime.now(zone(name)).replace(tzinfo=None)


def to_venue(moment: datetime, name: str | None) -> datetime:
    """An input time as the venue's naive wall-clock time: a naive time already is one; a time
    with an offset is converted into the venue's zone (nothing is dropped)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(zone(name)).replace(tzinfo=None)
