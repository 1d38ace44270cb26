"""What the market map is asked for: which level, which category, how few is thin."""
from dataclasses import dataclass

from portal.core.exceptions import DomainError
from portal.extensions import db
from portal.insight.market import DEFAULT_THRESHOLD
from portal.reference.models import Area, CpvCode

MAX_THRESHOLD = 50


@dataclass(frozen=True)
class MarketParams:
    parent: Area | None = None
    threshold: int = DEFAULT_THRESHOLD
    category: str | None = None


def _threshold(text):
    text = (text or "").strip()
    if not text:
        return DEFAULT_THRESHOLD
    if not text.isdigit() or not 1 <= int(text) <= MAX_THRESHOLD:
        raise DomainError(f"Enter a whole number from 1 to {MAX_THRESHOLD}", field="threshold")
    return int(text)


def _parent(code, may_drill_down):
    if not code:
        return None
    area = db.session.get(Area, code)
    if area is None or area.kind not in ("region", "country"):
        raise DomainError("Choose a region or nation from the list", field="region")
    if not may_drill_down:
        raise DomainError("Local detail is for commissioners: sign in as one to see it",
                          field="region")
    return area


def _category(code):
    code = (code or "").strip()
    if code and db.session.get(CpvCode, code) is None:
        raise DomainError("Choose a category from the list", field="category")
    return code or None


def parse_market_args(args, may_drill_down):
    """MarketParams from the query string; DomainError names the bad field."""
    return MarketParams(_parent(args.get("region"), may_drill_down),
                        _threshold(args.get("threshold")), _category(args.get("category")))
