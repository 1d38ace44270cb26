"""Conditions for SQL statements that depend on the database in use."""
from sqlalchemy import Integer, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY

from portal.extensions import db


def among(column, ids):
    """`column IN ids`, for an integer column and a list that may be long (the ids a search
    found). PostgreSQL gets the list as one array parameter: with one parameter an id,
    psycopg spent about 30 ms of a forward-plan search (under a profiler) writing its few
    hundred ids into its queries. Other databases get a plain IN."""
    ids = list(ids)
    if db.engine.dialect.name != "postgresql":
        return column.in_(ids)
    return column == any_(bindparam(None, ids, type_=ARRAY(Integer)))
