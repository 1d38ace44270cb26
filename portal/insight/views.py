"""The insight pages. Each group of pages lives in its own module and attaches its routes to the
blueprint when imported here."""
from portal.insight import dashboard_views  # noqa: F401
from portal.insight import market_views  # noqa: F401
from portal.insight import transparency_views  # noqa: F401
from portal.insight import contract_views  # noqa: F401
from portal.insight import maturity_views  # noqa: F401
from portal.insight import social_value_views  # noqa: F401
