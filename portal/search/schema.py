"""What a domain needs to describe its documents' index fields, without importing Whoosh
itself (only this package does): the field kinds and the two analysers."""
import hashlib
import json

from whoosh.fields import DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from portal.search.analysis import preanalysed, terms, text_analyzer

__all__ = ["DATETIME", "ID", "KEYWORD", "NUMERIC", "STORED", "TEXT", "Schema", "preanalysed",
           "terms", "text_analyzer", "version_of"]


def version_of(document):
    """A hash of a document's fields but "version": a check then spots a stale document
    whatever changed."""
    payload = json.dumps({k: v for k, v in document.items() if k != "version"},
                         sort_keys=True, default=str)
    return hashlib.sha1(payload.encode()).hexdigest()
