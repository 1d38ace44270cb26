"""Models for the matching domain: precomputed matches, invitations and dismissed recommendations.

Ranking itself keeps nothing in the database. What is stored here is either a cache of ranking
results (OpportunityMatch, MatchRefresh), which `flask matching refresh` can always rebuild, or a
decision a person made (MatchInvitation, RecommendationDismissal).
"""
from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.exceptions import DomainError
from portal.core.mixins import utcnow
from portal.extensions import db
from portal.matching.signals import SAME_CATEGORY
from portal.pipeline import models as _pipeline  # noqa: F401  (the entries these rows refer to)

# What a label promises: how much of what the entry says about the service the supplier's
# profile shares (the "evidence" signal: its telling words, rarer words weighing more; see
# portal.matching.evidence), with less needed when the supplier also works in the entry's own
# category. A match on place, tier or common words alone is never listed at all.
STRENGTHS = (("strong", "Strong match", 0.45, 0.3), ("good", "Good match", 0.25, 0.15))
POSSIBLE = ("possible", "Possible match")
MAX_MESSAGE = 1000


def strength(signals):
    """(key, label) for a match, from the evidence its signals record."""
    evidence = (signals or {}).get("evidence", 0.0)
    category = (signals or {}).get("category", 0.0) >= SAME_CATEGORY
    for key, label, from_words, with_category in STRENGTHS:
        if evidence >= from_words or (category and evidence >= with_category):
            return key, label
    return POSSIBLE


class OpportunityMatch(db.Model):
    """One supplier among the best for one live forward-plan entry, as last computed."""

    __tablename__ = "opportunity_match"
    __table_args__ = (UniqueConstraint("opportunity_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunity.id", ondelete="CASCADE"), nullable=False, index=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False, index=True)
    rank: Mapped[int] = mapped_column(Integer, nullable=False)
    score: Mapped[float] = mapped_column(Float, nullable=False)
    signals: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    reasons: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    # When this supplier first appeared among the entry's matches: a profile alert sends
    # what appeared after the person subscribed, and a refresh keeps the date.
    first_matched_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    computed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    opportunity = relationship("Opportunity")
    organisation = relationship("Organisation")


class SupplierRefresh(db.Model):
    """A supplier whose profile changed and whose stored matches have not yet followed it.

    Written in the commit's wake and removed once the supplier has been scored again (by the
    portal's background refresher or `flask matching refresh --stale`); while it is here the
    supplier's recommendations say they are being updated."""

    __tablename__ = "supplier_match_refresh"

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True)
    requested_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


class MatchRefresh(db.Model):
    """When an entry's matches were last computed, and whether a change is waiting for it.

    It also keeps what every stored score of the entry was worked out with, so one supplier
    can be scored again on the same scale after its profile changes: the best text score among
    the candidates (each text score is a share of it) and who held it, how much having worked
    for this buyer counts, and how many candidates were compared.
    """

    __tablename__ = "opportunity_match_refresh"

    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunity.id", ondelete="CASCADE"), primary_key=True)
    computed_at: Mapped[datetime | None] = mapped_column(DateTime)
    stale: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False, index=True)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    kept: Mapped[int | None] = mapped_column(Integer)
    # None until the entry is next computed in full; 0 when no candidate shared a word with it.
    text_best: Mapped[float | None] = mapped_column(Float)
    # A plain id, not a foreign key: it only says whose change upsets the scale.
    text_leader_id: Mapped[int | None] = mapped_column(Integer)
    buyer_clue: Mapped[float | None] = mapped_column(Float)
    # How many suppliers the ranking compared: when it reached the candidate limit, a supplier
    # not among them may not have been ranked at all.
    candidates: Mapped[int | None] = mapped_column(Integer)


class MatchInvitation(db.Model):
    """A buyer or prime contractor asking a supplier it found to express interest in an entry.

    One per entry, supplier and inviting organisation: a second click is not a second email.
    """

    __tablename__ = "match_invitation"
    __table_args__ = (UniqueConstraint("opportunity_id", "organisation_id",
                                       "invited_by_organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunity.id", ondelete="CASCADE"), nullable=False, index=True)
    lot_id: Mapped[int | None] = mapped_column(
        ForeignKey("opportunity_lot.id", ondelete="SET NULL"))
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False, index=True)
    invited_by_organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False, index=True)
    invited_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"))
    message: Mapped[str | None] = mapped_column(Text)
    # The reasons shown when the invitation was sent, so the supplier reads what the inviter read.
    reasons: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    opportunity = relationship("Opportunity")
    lot = relationship("Lot")
    organisation = relationship("Organisation", foreign_keys=[organisation_id])
    invited_by = relationship("Organisation", foreign_keys=[invited_by_organisation_id])

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if self.organisation_id is not None and \
                self.organisation_id == self.invited_by_organisation_id:
            raise DomainError("An organisation cannot invite itself")
        self.message = clean_message(self.message)

    @property
    def is_from_buyer(self):
        return self.invited_by_organisation_id == self.opportunity.organisation_id


def clean_message(message):
    message = (message or "").strip() or None
    if message and len(message) > MAX_MESSAGE:
        raise DomainError(f"Your message must be {MAX_MESSAGE:,} characters or fewer",
                          field="message")
    return message


class RecommendationDismissal(db.Model):
    """A supplier saying 'not for us' to a recommended entry; it stays hidden for the
    whole organisation."""

    __tablename__ = "recommendation_dismissal"

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunity.id", ondelete="CASCADE"), primary_key=True, index=True)
    dismissed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    dismissed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
