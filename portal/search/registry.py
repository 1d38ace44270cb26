"""The kinds of document the search indexes hold, as the domains describe them.

Search knows no domain: each domain that wants its rows searchable describes them as a
`DocumentType` (the index schema, how to load rows by id, how a row becomes a document, which
changed rows re-index which document, and a database stand-in for while an index is rebuilt),
and `create_app` registers it. The search package reads rows only through these.
"""
from dataclasses import dataclass, field
from typing import Any, Callable

_TYPES = {}


@dataclass(frozen=True)
class DatabaseStandIn:
    """How to answer a search from the database while the index is rebuilt: rows whose
    `columns` hold the words, most words first, then by `tiebreak`. `where()` gives extra
    conditions (e.g. only active rows)."""

    key: Any
    columns: tuple
    tiebreak: Any
    where: Callable[[], list] = lambda: []


@dataclass(frozen=True)
class DocumentType:
    """One kind of searchable row.

    - `name`: the index's name; `directory_suffix` is added to `SEARCH_INDEX_DIR` for its
      folder ("" for the main index).
    - `load(session, ids=None)`: rows with everything their documents need, by id order;
      every row when `ids` is None.
    - `documents(rows)`: the index documents of a batch of rows (each a dict with a string
      "id" and a "version" hash).
    - `document_id(obj)`: for any changed row, the id of the document it alters, or None.
    - `stand_in`: see `DatabaseStandIn`.
    - `sample_texts(session, ids)`: the texts a few rows were indexed from (for spelling
      suggestions); optional.
    - `field_boosts` / `keyword_boosts`: field weights for matching and for keyword search.
    """

    name: str
    schema: Any
    load: Callable
    documents: Callable
    document_id: Callable
    stand_in: DatabaseStandIn
    directory_suffix: str = ""
    sample_texts: Callable | None = None
    field_boosts: dict = field(default_factory=dict)
    keyword_boosts: dict = field(default_factory=dict)

    def directory(self, base):
        return f"{base}{self.directory_suffix}" if base else ""


def register(document_type):
    """Make a document type known (again, after a reload, replacing the old description)."""
    _TYPES[document_type.name] = document_type
    return document_type


def document_type(name):
    try:
        return _TYPES[name]
    except KeyError:
        raise LookupError(f"no searchable document type {name!r} is registered") from None
