"""Working days: the 12333 rule gives a 差评 15 working days to be followed up and fixed.

numpy's business-day calendar does the counting (weekends skipped, plus a holiday
list from the settings). Make-up working days (调休上班的周末) are not modelled: a
due date may then fall a day later than the official calendar says, never earlier.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta, timezone

import numpy as np

BEIJING = timezone(timedelta(hours=8))  # 北京时间: no daylight saving


def beijing_date(at: datetime | None = None) -> date:
    """The calendar day in Beijing of an aware datetime (now by default): due dates and
    what citizens and officers read are Beijing days, the store keeps UTC."""
    return (at or datetime.now(UTC)).astimezone(BEIJING).date()


class WorkCalendar:
    def __init__(self, holidays: Iterable[date] = ()) -> None:
        self.holidays = tuple(sorted(set(holidays)))
        self._cal = np.busdaycalendar(weekmask="1111100",
                                      holidays=np.array(self.holidays, dtype="datetime64[D]"))

    def add(self, start: date, days: int) -> date:
        """``days`` working days after ``start`` (a start on a day off counts from the
        next working day)."""
        out = np.busday_offset(np.datetime64(start, "D"), days, roll="forward",
                               busdaycal=self._cal)
        return date.fromisoformat(str(out))

    def is_workday(self, day: date) -> bool:
        return bool(np.is_busday(np.datetime64(day, "D"), busdaycal=self._cal))
