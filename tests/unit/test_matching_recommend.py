"""Small rules behind recommendations and invitations: strength in words, what counts as a
change to an entry's matches, and an invitation's own checks."""
import pytest

from portal.core.exceptions import DomainError
from portal.matching.models import MatchInvitation, clean_message, strength
from portal.matching.following import changed_keys
from portal.pipeline.models import Opportunity


@pytest.mark.parametrize("evidence, category, expected", [
    (0.6, 0.0, "strong"), (0.45, 0.0, "strong"), (0.44, 0.0, "good"), (0.3, 1.0, "strong"),
    (0.25, 0.0, "good"), (0.15, 0.9, "good"), (0.24, 0.0, "possible"), (0.1, 0.9, "possible"),
    (0.0, 1.0, "possible"),
])
def test_strength_says_how_much_evidence_there_is_about_the_service(evidence, category,
                                                                   expected):
    assert strength({"evidence": evidence, "category": category})[0] == expected


def test_a_high_score_from_place_and_tier_alone_is_never_strong():
    signals = {"area": 1.0, "tier": 1.0, "buyer": 1.0, "evidence": 0.0, "category": 0.0}
    assert strength(signals) == ("possible", "Possible match")
    assert strength({}) == ("possible", "Possible match")  # rows stored before evidence


def test_strength_labels_read_as_words():
    assert strength({"evidence": 1.0}) == ("strong", "Strong match")


def test_an_organisation_cannot_invite_itself():
    with pytest.raises(DomainError):
        MatchInvitation(opportunity_id=1, organisation_id=7, invited_by_organisation_id=7)


def test_an_invitation_message_is_trimmed_and_limited():
    assert clean_message("   ") is None
    assert clean_message("  Hello ") == "Hello"
    with pytest.raises(DomainError) as error:
        clean_message("x" * 1001)
    assert error.value.field == "message"


def test_only_changes_that_alter_matching_count(app, db, make_org):
    buyer = make_org("Some Council", org_type="commissioner")
    entry = Opportunity(organisation=buyer, reference="R1", title="Befriending")
    db.session.add(entry)
    db.session.commit()
    entry.contact_role = "Commissioning officer"
    assert not changed_keys(entry)
    entry.description = "Befriending for older people"
    assert changed_keys(entry) == [("entry", entry.id)]
    db.session.rollback()


def test_a_profiles_word_scores_are_what_a_one_word_match_gives(app, db, make_org):
    from portal.matching.rescore import _indexed_terms
    from portal.matching.indexing import organisation_document
    from portal.search.services import match_organisations, word_scores

    org = make_org(name="Riverside Garden Project",
                   description="Community garden and food growing; garden visits for carers")
    make_org(name="Other Garden Group", description="Allotments")
    per_field = _indexed_terms(organisation_document(org))
    words = sorted({term for counts in per_field.values() for term in counts}) + ["nowhere"]
    scores = word_scores(org.id, per_field, words)
    for word in words:
        hits = match_organisations([(word, 1.0)], only_ids=[org.id])
        assert scores[word] == (hits[0].score if hits else 0.0), word
    assert scores["garden"] > 0 and scores["nowhere"] == 0
