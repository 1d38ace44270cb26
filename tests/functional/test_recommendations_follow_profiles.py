"""A supplier's stored matches follow its profile: after a commit that changes what the matcher
reads (description, categories, areas, past work, accreditation), that supplier is scored again
against the entries that list it and the entries its words and areas lead to, so its
recommendations change without waiting for `flask matching refresh`, and end up as a full
refresh would leave them."""
import logging
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.accreditation import schemes as scheme_engine
from portal.accreditation.models import AccreditationRecord, Scheme
from portal.extensions import db as _db
from portal.matching import following, ranking, recommend, rescore
from portal.matching.models import MatchRefresh, OpportunityMatch
from portal.organisations import services as organisations
from portal.organisations.models import Organisation, PastWork
from portal.pipeline import services as pipeline
from portal.pipeline.models import Opportunity

LEEDS, YORK, BRADFORD = "E08000035", "E06000014", "E08000032"


def _entry(buyer, officer, **data):
    values = {"title": "Carers support service",
              "description": "Advice, short breaks and peer support for unpaid carers in Leeds",
              "main_cpv_code": "85312000", "areas": "Leeds", "value_min": 200_000,
              "value_basis": "whole_life", "suitable_vcse": True, **data}
    entry = pipeline.create_opportunity(buyer, values, officer)
    pipeline.change_status(entry, "planned", officer)
    return entry


def _supplier(make_org, name, area, description, cpv="85312000"):
    org = make_org(name, description=description)
    if area:
        organisations.add_area(org, area, None)
    if cpv:
        organisations.add_category(org, cpv, None)
    return org


def _stored(db, entry):
    """{organisation id: (rank, score, reasons)} as stored for the entry."""
    db.session.expire_all()
    return {row.organisation_id: (row.rank, row.score, tuple(row.reasons))
            for row in db.session.scalars(select(OpportunityMatch).where(
                OpportunityMatch.opportunity_id == entry.id))}


def _state(db, entry):
    db.session.expire_all()
    return db.session.get(MatchRefresh, entry.id)


def _as_refresh_leaves_it(db, entry):
    """Compute the entry in full and return what is stored then."""
    recommend.refresh_opportunity(db.session, db.session.get(Opportunity, entry.id))
    db.session.commit()
    return _stored(db, entry)


def _own_session():
    from sqlalchemy.orm import Session

    return Session(bind=_db.engine)


def _ranked(stored):
    return [org_id for org_id, _row in sorted(stored.items(), key=lambda item: item[1][0])]


def assert_as_a_refresh_would_leave_it(db, entry):
    """The same suppliers in the same order with the same reasons; the scores agree closely
    (the index's word statistics move a little with every profile written to it)."""
    stored = _stored(db, entry)
    full = _as_refresh_leaves_it(db, entry)
    assert _ranked(stored) == _ranked(full)
    for org_id, (_rank, score, reasons) in stored.items():
        assert score == pytest.approx(full[org_id][1], rel=0.05)
        assert reasons == full[org_id][2]


# Organisations with nothing in common with the entry, so the index's word statistics do not
# swing with each change as they would with a handful of profiles.
OTHER_WORK = ("Allotments and food growing", "Choir and music nights", "Football coaching",
              "Cookery classes", "Bike repair workshops", "Wildlife walks", "Chess club",
              "Pottery studio")


@pytest.fixture
def plan(make_org, make_user):
    for n in range(40):
        make_org(f"Club {n}", description=f"{OTHER_WORK[n % 8]} on {n % 5 + 1} days a week",
                 commit=False)
    _db.session.commit()
    leeds = make_org("Leeds City Council", org_type="commissioner")
    officer = make_user(leeds, email="officer@leeds.example")
    suppliers = {
        "carers": _supplier(make_org, "Leeds Carers Network", LEEDS,
                            "Advice, short breaks and peer support for unpaid carers in Leeds"),
        "york": _supplier(make_org, "York Carers Together", YORK,
                          "Support and short breaks for unpaid carers in York"),
        "cafe": _supplier(make_org, "Wakefield Community Cafe", None,
                          "A weekly cafe where unpaid carers meet for peer support", cpv=None),
        "gardens": _supplier(make_org, "Bradford Community Gardens", BRADFORD,
                             "Allotments and food growing with schools", cpv=None),
    }
    entry = _entry(leeds, officer)
    return {"leeds": leeds, "officer": officer, "entry": entry, **suppliers}


# --- Joining, moving and leaving -----------------------------------------------------------

def test_a_new_description_brings_an_entry_into_the_recommendations(plan, db):
    gardens, entry = plan["gardens"], plan["entry"]
    assert gardens.id not in _stored(db, entry)
    organisations.update_profile(gardens, {
        "description": "Short breaks, advice and peer support for unpaid carers in Bradford "
                       "and Leeds"}, None)
    stored = _stored(db, entry)
    assert gardens.id in stored  # without running the refresh
    assert any("carers" in reason for reason in stored[gardens.id][2])
    assert_as_a_refresh_would_leave_it(db, entry)


def test_an_area_and_a_category_move_the_supplier_up(plan, db):
    york, entry = plan["york"], plan["entry"]
    before = _stored(db, entry)[york.id]
    organisations.add_area(york, LEEDS, None)
    after = _stored(db, entry)
    assert after[york.id][1] > before[1]
    assert any("Leeds" in reason for reason in after[york.id][2])
    assert_as_a_refresh_would_leave_it(db, entry)


def test_past_work_counts_as_part_of_the_profile(plan, db):
    york, entry = plan["york"], plan["entry"]
    before = _stored(db, entry)[york.id]
    db.session.add(PastWork(organisation_id=york.id, title="Carers breaks in Leeds",
                            description="Short breaks for unpaid carers across Leeds",
                            funder_name="Leeds City Council", amount=150_000, kind="contract"))
    db.session.commit()
    after = _stored(db, entry)[york.id]
    assert after[1] > before[1]
    assert any("Leeds City Council" in reason for reason in after[2])
    assert_as_a_refresh_would_leave_it(db, entry)


def test_a_supplier_whose_profile_no_longer_fits_leaves_the_list(plan, db):
    carers, entry = plan["carers"], plan["entry"]
    organisations.remove_area(carers, LEEDS, None)
    organisations.remove_category(carers, "85312000", None)
    organisations.update_profile(carers, {"description": "Choir and music nights"}, None)
    organisations.update_profile(carers, {"name": "Riverside Singers"}, None)
    assert carers.id not in _stored(db, entry)
    # It had the best words: every other text score is now a share of someone else's.
    assert _state(db, entry).stale
    assert carers.id not in _as_refresh_leaves_it(db, entry)


def test_a_suspended_organisation_leaves_every_list(plan, db):
    carers, entry = plan["carers"], plan["entry"]
    carers.set_status("suspended")
    db.session.commit()
    stored = _stored(db, entry)
    assert carers.id not in stored
    assert sorted(rank for rank, *_ in stored.values()) == list(range(1, len(stored) + 1))


# --- A full list ------------------------------------------------------------------------------

@pytest.fixture
def short_lists(monkeypatch):
    monkeypatch.setattr(recommend, "KEEP", 2)


def test_a_better_supplier_pushes_the_last_one_out_of_a_full_list(short_lists, plan, db):
    gardens, entry = plan["gardens"], plan["entry"]
    _as_refresh_leaves_it(db, entry)
    assert set(_stored(db, entry)) == {plan["carers"].id, plan["york"].id}
    organisations.add_area(gardens, LEEDS, None)
    organisations.add_category(gardens, "85312000", None)
    organisations.update_profile(gardens, {
        "description": "Advice, short breaks and peer support for unpaid carers in Leeds"},
        None)
    stored = _stored(db, entry)
    assert set(stored) == {plan["carers"].id, gardens.id}  # York pushed out
    assert sorted(rank for rank, *_ in stored.values()) == [1, 2]
    assert not _state(db, entry).stale  # nothing unknown: the last one was pushed out
    assert_as_a_refresh_would_leave_it(db, entry)


def test_leaving_a_full_list_leaves_the_entry_to_the_refresh(short_lists, plan, db):
    entry, york = plan["entry"], plan["york"]
    _as_refresh_leaves_it(db, entry)
    organisations.remove_category(york, "85312000", None)
    organisations.remove_area(york, YORK, None)
    organisations.update_profile(york, {"name": "Riverside Singers",
                                        "description": "Choir and music nights"}, None)
    assert york.id not in _stored(db, entry)
    assert _state(db, entry).stale  # the next in line is known only to a full ranking
    assert plan["cafe"].id in _as_refresh_leaves_it(db, entry)


def test_falling_to_the_bottom_of_a_full_list_leaves_the_entry_to_the_refresh(
        short_lists, plan, db):
    entry, york, carers = plan["entry"], plan["york"], plan["carers"]
    assert _ranked(_as_refresh_leaves_it(db, entry)) == [carers.id, york.id]
    before = _stored(db, entry)[york.id]
    organisations.remove_category(york, "85312000", None)
    after = _stored(db, entry)
    assert after[york.id][1] < before[1] and after[york.id][0] == 2
    assert _state(db, entry).stale  # the next in line might now beat it
    assert _ranked(_as_refresh_leaves_it(db, entry)) == [carers.id, york.id]


def test_joining_a_ranking_cut_at_the_candidate_limit_is_left_to_the_refresh(
        plan, db, monkeypatch):
    monkeypatch.setattr(ranking, "CANDIDATES", 2)
    entry, gardens = plan["entry"], plan["gardens"]
    assert set(_as_refresh_leaves_it(db, entry)) == {plan["carers"].id, plan["york"].id}
    assert _state(db, entry).candidates == 2
    organisations.update_profile(gardens, {
        "description": "Advice, short breaks and peer support for unpaid carers in Leeds"},
        None)
    # Whether its words would now put it among the two ranked, only a ranking can say.
    assert gardens.id not in _stored(db, entry) and _state(db, entry).stale


# --- The scale of the stored scores ---------------------------------------------------------

def test_the_refresh_record_keeps_the_scale_and_an_unchanged_profile_scores_the_same(plan, db):
    entry, carers = plan["entry"], plan["carers"]
    state = _state(db, entry)
    assert state.text_best > 0 and state.text_leader_id == carers.id
    assert state.buyer_clue is not None
    before = _stored(db, entry)
    with _own_session() as session:
        done = rescore.rescore_supplier(session, plan["york"].id)
        session.commit()
    # Scored again on the stored scale it comes out exactly as stored: nothing to write.
    assert done.entries >= 1 and done.updated == done.entered == done.left == done.stale == 0
    assert _stored(db, entry) == before


def test_the_best_text_match_changing_marks_the_entry_stale(plan, db):
    gardens, entry = plan["gardens"], plan["entry"]
    organisations.update_profile(gardens, {
        "name": "Leeds Carers Support Service",
        "description": "Carers support service: advice, short breaks and peer support for "
                       "unpaid carers in Leeds, carers advice, carers breaks, carers peer "
                       "support"}, None)
    state = _state(db, entry)
    assert state.text_leader_id == gardens.id and state.stale
    _as_refresh_leaves_it(db, entry)
    assert _state(db, entry).text_leader_id == gardens.id


def test_an_index_that_does_not_add_up_word_by_word_is_asked_for_whole_entries(
        plan, db, monkeypatch, caplog):
    from portal.search import services as search

    def first_words_only(weighted_terms, **options):
        # An index that scores only the first few words of a long query.
        return search.match_organisations(sorted(weighted_terms)[:6], **options)
    monkeypatch.setattr(ranking, "match_organisations", first_words_only)
    monkeypatch.setattr(recommend, "match_organisations", first_words_only)
    monkeypatch.setattr(rescore, "match_organisations", first_words_only)
    entry, york = plan["entry"], plan["york"]
    _as_refresh_leaves_it(db, entry)
    organisations.add_area(york, LEEDS, None)
    assert "do not add up" in caplog.text
    assert_as_a_refresh_would_leave_it(db, entry)


def test_an_entry_computed_before_the_scale_was_kept_is_left_to_the_refresh(plan, db):
    entry = plan["entry"]
    state = _state(db, entry)
    state.text_best = None
    db.session.commit()
    before = _stored(db, entry)
    organisations.add_area(plan["york"], LEEDS, None)
    assert _state(db, entry).stale and _stored(db, entry) == before


# --- What counts as a change, and how much is done at once ------------------------------------

def test_details_the_matcher_does_not_read_change_nothing(plan, db, monkeypatch):
    called = []
    monkeypatch.setattr(rescore, "rescore_supplier",
                        lambda session, org_id: called.append(org_id))
    organisations.update_profile(plan["york"], {"website": "https://york.example",
                                                "contact_email": "hello@york.example"}, None)
    assert called == []
    organisations.update_profile(plan["york"], {"description": "Breaks for carers"}, None)
    assert called == [plan["york"].id]


def test_a_rolled_back_change_is_not_followed(plan, db, monkeypatch):
    called = []
    monkeypatch.setattr(rescore, "rescore_supplier",
                        lambda session, org_id: called.append(org_id))
    plan["york"].description = "Something else entirely"
    db.session.flush()
    db.session.rollback()
    organisations.update_profile(plan["gardens"], {"description": "Carers"}, None)
    assert called == [plan["gardens"].id]


def test_many_profiles_in_one_commit_are_left_to_the_refresh(plan, db, monkeypatch):
    monkeypatch.setattr(following, "MAX_INLINE_PROFILES", 1)
    called = []
    monkeypatch.setattr(rescore, "rescore_supplier",
                        lambda session, org_id: called.append(org_id))
    entry = plan["entry"]
    for org in (plan["carers"], plan["york"]):
        org.description = f"{org.description}, now with evening sessions"
    db.session.commit()
    assert called == [] and _state(db, entry).stale


def test_a_failure_is_logged_and_keeps_the_change(plan, db, monkeypatch, caplog):
    def broken(session, org_id):
        raise RuntimeError("index unavailable")
    monkeypatch.setattr(rescore, "rescore_supplier", broken)
    with caplog.at_level(logging.ERROR):
        organisations.update_profile(plan["york"], {"description": "Breaks for carers"}, None)
    assert "Could not refresh stored matches" in caplog.text
    db.session.expire_all()
    assert db.session.get(Organisation, plan["york"].id).description == "Breaks for carers"
    # Still recorded as waiting, for `flask matching refresh --stale` to pick up.
    assert following.is_updating(db.session, organisation_id=plan["york"].id)


# --- Accreditation ------------------------------------------------------------------------------

def _accredit(org, tier, expires_on):
    scheme_engine.load_schemes()
    for scheme in _db.session.scalars(select(Scheme)):
        level = next((lv for lv in scheme.current.levels if lv.tier == tier), None)
        if level is not None:
            record = AccreditationRecord(organisation_id=org.id, scheme=scheme, level=level,
                                         starts_on=date.today() - timedelta(days=30),
                                         expires_on=expires_on)
            _db.session.add(record)
            _db.session.commit()
            return record
    raise AssertionError(f"no level at tier {tier}")


def test_an_accreditation_changes_the_tier_in_the_stored_matches(plan, db):
    entry, york = plan["entry"], plan["york"]
    pipeline.update_opportunity(db.session.get(Opportunity, entry.id),
                                {"accreditation_tier": 1}, plan["officer"])
    before = _stored(db, entry)[york.id]
    assert any("Not yet accredited" in reason for reason in before[2])
    _accredit(york, 1, date.today() + timedelta(days=300))
    after = _stored(db, entry)[york.id]
    assert after[1] > before[1]
    assert any("Accredited at Tier 1" in reason for reason in after[2])
    assert_as_a_refresh_would_leave_it(db, entry)
