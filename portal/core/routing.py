"""Numbers read from URLs: ids in paths and in query strings, and page numbers.

Id columns are 32-bit integers on PostgreSQL ("integer out of range" past 2**31 - 1) and SQLite
cannot even be asked for a number past 2**63 - 1: a larger number in a URL names nothing. Every
`<int:…>` route takes ids through `IdConverter`, so such a URL is a 404 before any view runs.
"""
from flask import request
from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1
MAX_PAGE = 100_000


class IdConverter(IntegerConverter):
    """`<int:…>` limited to what a database id can be: 0 to 2**31 - 1."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min,
                         max=MAX_ID if max is None else max, signed=signed)


def init_app(app):
    """Register the converter; before any blueprint, since a rule takes its converter when it
    is added."""
    app.url_map.converters["int"] = IdConverter


def as_id(value):
    """A query-string value as an id, or None when it is not one."""
    if value is None or not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if number <= MAX_ID else None


def id_arg(name):
    """The query-string parameter `name` as an id, or None."""
    return as_id(request.args.get(name))


def page_arg(max_page=MAX_PAGE):
    """The page asked for in the query string; page 1 for anything that is not a page number."""
    page = as_id(request.args.get("page"))
    return page if page and page <= max_page else 1
