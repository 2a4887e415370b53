"""Times as helpdesks export them.

Accepted: `2026-03-05 14:20`, `2026-03-05 14:20:00`, `2026/3/5 14:20:00` (how Excel shows
dates on Chinese Windows), `2026.3.5 14:20`, `2026年3月5日 14:20`, `下午 2:20`, ISO 8601
with `T`, fractions and a timezone (`2026-03-05T14:20:00+08:00`, `...Z`), a bare date
(midnight), Excel serial numbers (`46086.597`, days since 1899-12-30) and Unix epoch
seconds or milliseconds (10 or 13 digits, UTC), and datetime / date / number values as
.xlsx cells and JSON carry them. All-digit text is tried as a serial or an epoch before
ISO 8601, which would read `1772000000000` as a date in the 1770s.

A time before 1970 or after 2100 is not a helpdesk time but a placeholder or a broken
cell (`0001-01-01 00:00`, a serial of the wrong size): it raises TimeOutOfRange, a
ValueError, so that the row is rejected instead of failing later (a year-1 time cannot
be moved to another timezone).

Naive times stay naive: which timezone the helpdesk meant is a project setting, applied
by `local_time`. Day-first or month-first forms such as `3/5/2026` are ambiguous and
are rejected rather than guessed.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

_LOCAL = re.compile(
    r"""\s*(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*[日号]?
    (?:(?:\s*|T)(?P<ap1>上午|下午|AM|PM)?\s*(?P<H>\d{1,2})\s*[:：时点]\s*(?P<M>\d{1,2})\s*分?
       (?:\s*[:：]?\s*(?P<S>\d{1,2})(?:[.,](?P<f>\d{1,6}))?\s*秒?)?
       \s*(?P<ap2>上午|下午|AM|PM)?)?
    \s*(?P<tz>Z|[+-]\d{2}(?::?\d{2})?)?\s*""",
    re.X | re.I,
)
_SLASHED = re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})(?: (\d{1,2}):(\d{2})(?::(\d{2}))?)?", re.A)
_SERIAL = re.compile(r"\d{5}(?:\.\d+)?", re.A)
_EPOCH = re.compile(r"\d{10}|\d{13}", re.A)
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
FIRST_YEAR, LAST_YEAR = 1970, 2100
_YEARS = range(FIRST_YEAR, LAST_YEAR + 1)


class TimeOutOfRange(ValueError):
    """A readable time outside FIRST_YEAR..LAST_YEAR."""


def parse_datetime(value: object) -> dt.datetime | None:
    """The time in `value`, None if empty; ValueError (with the value) if unreadable,
    TimeOutOfRange (a ValueError) if outside 1970..2100."""
    if type(value) is str:
        text = value.strip()
    elif value is None:
        return None
    elif isinstance(value, dt.datetime):
        return _checked(value)
    elif isinstance(value, dt.date):
        return _checked(dt.datetime(value.year, value.month, value.day))
    elif isinstance(value, bool):
        raise ValueError(value)
    elif isinstance(value, (int, float)):
        return _checked(_from_number(float(value), str(value)))
    else:
        text = str(value).strip()
    if not text:
        return None
    if text[4:5] == "/" and (m := _SLASHED.fullmatch(text)):  # Excel on Chinese Windows: 2026/3/5 14:20:00
        y, mo, d, hh, mm, ss = m.groups()
        result = dt.datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0))
    else:
        try:
            result = dt.datetime.fromisoformat(text)  # C fast path for the common forms
        except ValueError:
            if (m := _LOCAL.fullmatch(text)):
                result = _from_match(m)
            elif _SERIAL.fullmatch(text) or _EPOCH.fullmatch(text):
                return _checked(_from_number(float(text), text))
            else:
                raise ValueError(text) from None
        else:
            # ISO 8601 takes some digit strings for YYYYMMDD...: a serial or an epoch comes first.
            if text.isdigit() and (_SERIAL.fullmatch(text) or _EPOCH.fullmatch(text)):
                return _checked(_from_number(float(text), text))
    if result.year in _YEARS:
        return result
    raise TimeOutOfRange(text)


def _checked(value: dt.datetime) -> dt.datetime:
    if value.year in _YEARS:
        return value
    raise TimeOutOfRange(str(value))


def local_time(value: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """`value` in `zone`: a naive time is taken to be in it, an aware one is converted.
    The one rule for every report that groups or compares exported times."""
    return value.replace(tzinfo=zone) if value.tzinfo is None else value.astimezone(zone)


def month_of(value: dt.datetime, zone: ZoneInfo) -> str:
    """The month of `value` in `zone`, as "YYYY-MM" (see local_time)."""
    return local_time(value, zone).strftime("%Y-%m")


def _from_match(m: re.Match) -> dt.datetime:
    hour = int(m["H"] or 0)
    ampm = (m["ap1"] or m["ap2"] or "").upper()
    if ampm:
        if hour > 12:
            raise ValueError(m.string)
        if ampm in ("下午", "PM") and hour < 12:
            hour += 12
        elif ampm in ("上午", "AM") and hour == 12:
            hour = 0
    micro = int((m["f"] or "0").ljust(6, "0"))
    tz = None
    if m["tz"]:
        if m["tz"].upper() == "Z":
            tz = dt.timezone.utc
        else:
            digits = m["tz"].replace(":", "")
            offset = dt.timedelta(hours=int(digits[1:3]), minutes=int(digits[3:5] or 0))
            tz = dt.timezone(-offset if digits[0] == "-" else offset)
    return dt.datetime(int(m["y"]), int(m["m"]), int(m["d"]), hour, int(m["M"] or 0),
                       int(m["S"] or 0), micro, tzinfo=tz)


def _from_number(number: float, text: str) -> dt.datetime:
    if 20000 <= number < 80000:  # Excel serial: 1954..2119 (outside 1970..2100: TimeOutOfRange)
        return _EXCEL_EPOCH + dt.timedelta(seconds=round(number * 86400))
    if 1e9 <= number < 1e10:
        return dt.datetime.fromtimestamp(number, dt.timezone.utc)
    if 1e12 <= number < 1e13:
        return dt.datetime.fromtimestamp(number / 1000, dt.timezone.utc)
    raise ValueError(text)
