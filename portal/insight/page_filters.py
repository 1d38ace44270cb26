"""The filters of an insight page, read from the query string: shared by the dashboard and the
social value pages."""
from flask import request

from portal.core.exceptions import DomainError
from portal.insight.dashboard_forms import FilterForm
from portal.insight.filters import InsightFilters, filter_options, parse_filters
from portal.organisations.forms import attach_error


def filter_form(buyer):
    """The filter form, its menus filled from what `buyer`'s entries span."""
    return FilterForm(request.args).fill(*filter_options(buyer))


def read_filters(form):
    """(filters, None), or (no filters, the error) with the error shown on `form`."""
    try:
        return parse_filters(request.args), None
    except DomainError as error:
        attach_error(form, error)
        return InsightFilters(), error
