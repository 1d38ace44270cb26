"""Requests to the API checked against its own OpenAPI document, before any view runs.

The document is the contract: a query parameter is accepted exactly when its value fits the
schema the document gives it, so the two cannot drift apart; one that does not fit is a 400
naming the parameter. Parameters the document does not list are ignored (clients add
cache-busters and tracking tags). A path id outside the document's range is a 404, as no row
can have it (PostgreSQL would refuse even to look one past 32 bits up).

Reference codes (areas, CPV codes, schemes) are checked for their shape, then looked up: an
unknown scheme is outside the document's list (400); an unknown area or CPV code, which the
document gives only by shape, is a 404.
"""
import re

from flask import current_app, g, request

from portal.api import openapi
from portal.api.auth import require_principal
from portal.core.exceptions import DomainError, NotFound

SUPPORTED_KEYWORDS = {"type", "format", "enum", "pattern", "minLength", "maxLength", "minimum",
                      "maximum", "default", "description", "example"}
_RULE_ARGUMENT = re.compile(r"<([^<>]+)>")
_DOCUMENT_ARGUMENT = re.compile(r"\{([^}]+)\}")
_INTEGER = re.compile(r"-?[0-9]+")
_UNESCAPED_DOLLAR = re.compile(r"(?<!\\)\$")
_MAX_DIGITS = 30  # int() of a longer string is slow and no id or page is that long
_BOOLEANS = {"true": True, "false": False}
_LISTED_CHOICES = 12  # longer enums (areas, CPV codes) are not spelled out in messages


class ParameterError(DomainError):
    """A query parameter that does not fit the document: 400, naming the parameter."""

    def __init__(self, name, problem):
        super().__init__(f"{name} {problem}", field=name)


def check_request():
    """Check the matched API operation's parameters; keep the query's values for the view."""
    found = _operation_for_request()
    if found is None:
        return
    operation, path_schemas, schemas = found
    if operation.get("security"):
        require_principal()  # a caller without credentials learns nothing about parameters
    _check_path(path_schemas)
    query = [p for p in operation.get("parameters", []) if p["in"] == "query"]
    values = {p["name"]: _query_value(p["name"], _resolve(p["schema"], schemas)) for p in query}
    for parameter in query:  # only a well-formed request is worth looking codes up for
        _look_up(parameter, values[parameter["name"]])
    g.api_query = values


def query_param(name):
    """A checked query parameter's value, or the document's default when it was left out."""
    return g.api_query.get(name)


def _operation_for_request():
    if request.url_rule is None:
        return None
    method = "GET" if request.method == "HEAD" else request.method
    operations, schemas = _contract()
    found = operations.get((_RULE_ARGUMENT.sub("{}", request.url_rule.rule), method))
    return None if found is None else (*found, schemas)


def _check_path(path_schemas):
    """Path values (Flask has typed them) against their ranges. The route's arguments come in
    the same order as the document's, though their names may differ."""
    names = [argument.split(":")[-1] for argument in _RULE_ARGUMENT.findall(
        request.url_rule.rule)]
    for name, schema in zip(names, path_schemas):
        value = request.view_args[name]
        if not schema.get("minimum", value) <= value <= schema.get("maximum", value):
            raise NotFound("Not found")


def _contract():
    """({(path shape, method): (operation, its path schemas in order)}, component schemas),
    built once per app: the rules for parameters depend on configuration, not on data."""
    contract = current_app.extensions.get("api_contract")
    if contract is None:
        document = openapi.build_document(with_reference_values=False)
        schemas = document["components"]["schemas"]
        operations = {(_DOCUMENT_ARGUMENT.sub("{}", path), method.upper()):
                      (operation, _path_schemas(path, operation, schemas))
                      for path, item in document["paths"].items()
                      for method, operation in item.items()}
        contract = current_app.extensions["api_contract"] = (operations, schemas)
    return contract


def _path_schemas(path, operation, schemas):
    by_name = {p["name"]: p["schema"] for p in operation.get("parameters", [])
               if p["in"] == "path"}
    return [_resolve(by_name[name], schemas) for name in _DOCUMENT_ARGUMENT.findall(path)]


def _resolve(schema, schemas):
    while "$ref" in schema:
        schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _query_value(name, schema):
    given = request.args.getlist(name)
    if not given:
        return schema.get("default")
    if len(given) > 1:
        raise ParameterError(name, "must be given once")
    value = _typed(name, given[0], schema)
    _check_value(name, value, schema)
    return value


def _typed(name, raw, schema):
    kind = schema.get("type", "string")
    if kind == "integer":
        if not _INTEGER.fullmatch(raw):
            raise ParameterError(name, "must be a whole number")
        if len(raw) > _MAX_DIGITS:
            raise ParameterError(name, "is out of range")
        return int(raw)
    if kind == "boolean":
        if raw not in _BOOLEANS:
            raise ParameterError(name, "must be true or false")
        return _BOOLEANS[raw]
    return raw


def _check_value(name, value, schema):
    if "enum" in schema and value not in schema["enum"]:
        choices = schema["enum"]
        raise ParameterError(name, "must be one of: " + ", ".join(map(str, choices))
                             if len(choices) <= _LISTED_CHOICES
                             else "must be one of the values the API document lists")
    if isinstance(value, str):
        _check_text(name, value, schema)
    elif isinstance(value, int) and not isinstance(value, bool):
        _check_number(name, value, schema)


def _check_text(name, value, schema):
    if len(value) < schema.get("minLength", 0):
        raise ParameterError(name, "must not be empty" if value == "" else
                             f"must be at least {schema['minLength']} characters")
    if len(value) > schema.get("maxLength", len(value)):
        raise ParameterError(name, f"must be {schema['maxLength']} characters or fewer")
    if "pattern" in schema and not _matches(schema["pattern"], value):
        raise ParameterError(name, f"must match {schema['pattern']}")


def _matches(pattern, value):
    """JSON Schema's `pattern`: its `$` is the very end, where Python's also allows a final
    newline before it (an area code followed by a newline must not pass)."""
    return re.search(_UNESCAPED_DOLLAR.sub(r"\\Z", pattern), value) is not None


def _check_number(name, value, schema):
    if "minimum" in schema and value < schema["minimum"]:
        raise ParameterError(name, f"must be {schema['minimum']} or more")
    if "maximum" in schema and value > schema["maximum"]:
        raise ParameterError(name, f"must be {schema['maximum']} or less")


def _look_up(parameter, value):
    name, codes = parameter["name"], openapi.reference_codes(parameter["schema"])
    if codes is None or value is None or codes.exists(value):
        return
    if codes.values is not None:
        raise ParameterError(name, "must be one of the values the API document lists")
    raise NotFound(f"{name}: there is no {codes.noun} {value}", field=name)
