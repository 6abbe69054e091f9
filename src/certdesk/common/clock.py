"""The one source of "today": every date guard, sweep and default date asks here.

The body works on Chinese calendar days, so today is the date in ``staff_timezone``;
``CERTDESK_TODAY`` fixes it for tests (settings are the only reader of the environment).
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from certdesk.common.settings import get_settings


def today() -> date:
    settings = get_settings()
    return settings.today or datetime.now(ZoneInfo(settings.staff_timezone)).date()
