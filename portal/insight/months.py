"""Calendar months, as contracts and notice periods are counted."""
import calendar
from datetime import date


def add_months(day, months):
    """The same day `months` later; the month's last day when it is shorter."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
