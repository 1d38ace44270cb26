"""Teaming and consortium pages. The routes live in three modules: the teaming board (posts,
roles, suggestions, invitations), the consortium workspace (members, shares, coverage,
charter, messages, pack) and the supply chain (sub-contract packages, payments, concerns)."""
from portal.consortia import bp
from portal.consortia import alerts  # noqa: F401  (adds open roles to the profile alerts)
from portal.consortia import (  # noqa: F401  (attach the routes)
    board_views, supply_chain_views, workspace_views,
)

# Pages the "Teaming board" tab stands for; the rest of the package is under "Your teams".
TEAMING_BOARD_PAGES = frozenset(f"consortia.{name}" for name in (
    "board", "new_post", "post", "edit_post", "withdraw_post", "new_role", "edit_role",
    "remove_role", "role_suggestions", "invite", "packages", "new_package", "package",
    "edit_package", "withdraw_package", "select_response"))
bp.add_app_template_global(TEAMING_BOARD_PAGES, "TEAMING_BOARD_PAGES")
