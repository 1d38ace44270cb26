"""A buyer's baselines and targets for the VCSE and SME shares of its awards, year by year."""
from sqlalchemy import select

from portal.core.audit import record
from portal.core.exceptions import NotFound
from portal.extensions import db
from portal.insight.models import ShareTarget


def targets_of(buyer):
    return db.session.scalars(select(ShareTarget).where(ShareTarget.organisation_id == buyer.id)
                              .order_by(ShareTarget.year.desc(), ShareTarget.measure)).all()


def set_target(buyer, user, measure, year, target_percent, baseline_percent=None):
    """Set (or replace) the buyer's target for one measure in one year."""
    target = db.session.scalar(select(ShareTarget).where(
        ShareTarget.organisation_id == buyer.id, ShareTarget.year == year,
        ShareTarget.measure == measure)) or ShareTarget(organisation_id=buyer.id)
    target.set(measure, year, target_percent, baseline_percent)
    target.set_by_id = user.id
    db.session.add(target)
    db.session.flush()
    record("insight.target_set", target, actor_id=user.id, measure=measure, year=year,
           target=str(target_percent), baseline=str(baseline_percent))
    db.session.commit()
    return target


def remove_target(buyer, user, target_id):
    target = db.session.get(ShareTarget, target_id)
    if target is None or target.organisation_id != buyer.id:
        raise NotFound("Target not found")
    record("insight.target_removed", target, actor_id=user.id, measure=target.measure,
           year=target.year)
    db.session.delete(target)
    db.session.commit()
