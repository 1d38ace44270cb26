"""The market map: public at category and region level; commissioners (and site
administrators) can look inside a region and see their planned entries in thin markets."""
from flask import render_template, request
from flask_login import current_user

from portal.core.exceptions import DomainError
from portal.insight import access, bp
from portal.insight.market_params import parse_market_args
from portal.insight import market


def _may_drill_down():
    return access.is_site_admin(current_user) or access.is_commissioner(current_user)


@bp.get("/insight/market")
def market_map():
    try:
        params, error = parse_market_args(request.args, _may_drill_down()), None
    except DomainError as problem:
        params, error = parse_market_args({}, False), problem
    the_map = market.market_map(params.parent, params.threshold, params.category)
    buyer = current_user.organisation if access.is_commissioner(current_user) else None
    thin_entries = market.entries_in_thin_markets(the_map, buyer) \
        if buyer is not None or access.is_site_admin(current_user) else []
    return render_template("insight/market.html", market=the_map, params=params, error=error,
                           thin_entries=thin_entries, may_drill_down=_may_drill_down(),
                           regions=market.units(), categories=market.category_choices())
