"""How the API writes moments and days: RFC 3339, which `format: date-time` and `format: date`
in the OpenAPI document mean. A date-time there must carry its offset, so the naive values the
database holds are given theirs here."""
from datetime import datetime, timezone

from portal.pipeline.models import UK_TIME


def utc_moment(value):
    """A naive UTC time (timestamps such as `updated_at`, see core.mixins.utcnow) with `Z`."""
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def uk_moment(value):
    """A naive UK wall-clock time (closing times and deadlines, as buyers enter them) with the
    UK offset of that day: +00:00 in winter, +01:00 in summer."""
    if value is None:
        return None
    return value.replace(tzinfo=UK_TIME).isoformat(timespec="seconds")


def day(value):
    """A date as YYYY-MM-DD; a datetime is cut to its day."""
    if value is None:
        return None
    return (value.date() if isinstance(value, datetime) else value).isoformat()
