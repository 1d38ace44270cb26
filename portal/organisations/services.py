"""Use cases for organisation profiles and the directory."""
from sqlalchemy import func, select

from portal.extensions import db
from portal.organisations.models import ORG_TYPES, Organisation


def directory_counts():
    """Number of active organisations of each type, for the home page."""
    rows = db.session.execute(
        select(Organisation.org_type, func.count(Organisation.id))
        .where(Organisation.status == "active").group_by(Organisation.org_type)
    ).all()
    counts = {key: 0 for key in ORG_TYPES}
    counts.update(dict(rows))
    return counts
