"""A count out of a total, shown the same way on every figure."""
from dataclasses import dataclass
from statistics import median


@dataclass(frozen=True)
class Share:
    count: int
    total: int

    @property
    def percent(self):
        return round(100 * self.count / self.total, 1) if self.total else None

    @property
    def display(self):
        if not self.total:
            return "No data"
        return f"{self.count:,} of {self.total:,} ({self.percent:g}%)"


def percent_text(value):
    return "No data" if value is None else f"{value:g}%"


def money(value):
    """£ amounts as people read them in a report: £950, £12k, £1.2m."""
    if value is None:
        return "Not known"
    value = float(value)
    if value >= 1_000_000:
        return f"£{value / 1_000_000:,.1f}m".replace(".0m", "m")
    if value >= 10_000:
        return f"£{value / 1000:,.0f}k"
    return f"£{value:,.0f}"


def middle(values):
    return median(values) if values else None
