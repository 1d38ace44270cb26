"""What insight does after a commit: an award recorded on the forward plan becomes a contract on
its buyer's register. Registered last in `create_app`, after the indexes and stored matches."""
from portal.core.changes import Subscriber, one
from portal.extensions import db
from portal.insight import contracts
from portal.pipeline.models import Award


def _award_id(obj):
    return obj.id if isinstance(obj, Award) and obj.id else None


def _create_contracts(app, award_ids):
    # Its own transaction: the award's commit already stands, and `flask insight
    # contracts-sync` creates whatever a failure here left out.
    try:
        contracts.contracts_for_awards(award_ids)
    except Exception:
        db.session.rollback()
        raise


def subscriber():
    return Subscriber("contracts from awards", one(_award_id), _create_contracts)
