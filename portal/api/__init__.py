"""The public JSON API, at /api/v1: one blueprint, whose routes are attached by the modules
imported below. Errors are JSON too (portal/errors.py)."""
from portal.api.blueprint import bp

# Every /api/v1 route, by group. Each module attaches its routes (and their OpenAPI description)
# to `bp` (portal/api/blueprint.py) when imported:
#   /organisations, /organisations/<id>, /me, /openapi.json      views.py
#   /opportunities, /opportunities/<id>(/ocds), /ocds             opportunities.py
#   /suppliers (the register of accredited providers)             suppliers.py
#   /opportunities/<id>/matches, /suppliers/<id>/recommendations  matches.py
#   /teaming-posts, /consortia, /consortia/<id>                   teaming.py
#   /commissioners/<id>/contracts                                 contracts.py
#   /commissioners/<id>/insight                                   insight.py
# The API sits above the domains: it imports their services, they never import it.
from portal.api import views  # noqa: F401
from portal.api import opportunities  # noqa: F401
from portal.api import suppliers  # noqa: F401
from portal.api import matches  # noqa: F401
from portal.api import teaming  # noqa: F401
from portal.api import insight  # noqa: F401
from portal.api import contracts  # noqa: F401
