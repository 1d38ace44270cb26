"""Ranking suppliers on a small synthetic set: order, explanations, filters and the adapter for
forward-plan opportunities."""
from datetime import date, timedelta
from types import SimpleNamespace

import pytest

from portal.matching import ranking
from portal.matching.services import MatchFilters, MatchQuery, rank_suppliers
from portal.organisations.models import PastWork
from portal.reference.models import Area, CpvCode

OXFORD, CORNWALL, OXFORDSHIRE = "E07000178", "E06000052", "E10000025"


def add_work(org, title, description, funder=None, amount=None, kind="contract"):
    org.past_work.append(PastWork(title=title, description=description, funder_name=funder,
                                  amount=amount, kind=kind, awarded_on=date(2020, 1, 1)))


@pytest.fixture
def suppliers(db, make_org):
    oxford = make_org(name="Oxford Befriending Network", postcode="OX4 1AA", commit=False,
                      description="Befriending and lunch clubs for older people")
    oxford.areas.append(db.session.get(Area, OXFORD))
    oxford.cpv_codes.append(db.session.get(CpvCode, "85311000"))
    for year in range(3):
        add_work(oxford, f"Home visits {year}", "Domiciliary care and befriending for older "
                 "people", funder="Oxfordshire County Council", amount=40_000)
    cornwall = make_org(name="Cornwall Youth Action", postcode="TR1 1AA", commit=False,
                        description="Youth clubs and mentoring for young people")
    cornwall.areas.append(db.session.get(Area, CORNWALL))
    add_work(cornwall, "Mentoring", "Mentoring young people leaving care", amount=20_000)
    national = make_org(name="Older People Together UK", commit=False,
                        description="Befriending older people by telephone across England")
    national.areas.append(db.session.get(Area, "E92000001"))
    buyer = make_org(name="Oxfordshire County Council", org_type="commissioner", commit=False,
                     description="Commissions befriending for older people")
    db.session.commit()
    return SimpleNamespace(oxford=oxford, cornwall=cornwall, national=national, buyer=buyer)


def ids(matches):
    return [m.organisation_id for m in matches]


def test_local_befriending_supplier_ranks_first_with_reasons(suppliers):
    query = MatchQuery(title="Befriending service", description="Befriending for older people "
                       "in Oxford", buyer_name="Oxfordshire County Council", value=30_000,
                       cpv_codes=("85300000",))
    matches = rank_suppliers(query)
    assert ids(matches)[:2] == [suppliers.oxford.id, suppliers.national.id]
    top = matches[0]
    # What it does comes first; then what it has done, where and for whom.
    assert top.reasons[0] == "Offers social work services with accommodation, within this " \
        "entry's category of social work and related services"
    assert top.reasons[1] == "Its profile mentions befriending service and older people, as " \
        "this entry does"
    assert "Has had 3 similar contracts from Oxfordshire County Council" in top.reasons
    assert "Has had 3 awards from Oxfordshire County Council" in top.reasons
    assert "Based in Oxford, where this service will be delivered" in top.reasons
    assert set(top.signals) == set(ranking.WEIGHTS) | {"evidence", "category"}
    assert suppliers.buyer.id not in ids(matches)  # a commissioner is not a supplier


def test_geography_decides_between_equal_texts(suppliers):
    query = MatchQuery(description="Mentoring for young people leaving care in Cornwall")
    assert ids(rank_suppliers(query))[0] == suppliers.cornwall.id


def test_candidate_keys_rank_exactly_those_in_given_order_on_ties(suppliers):
    given = [suppliers.cornwall.id, suppliers.national.id]
    matches = rank_suppliers(MatchQuery(description="nothing in common"), candidate_keys=given)
    assert ids(matches) == given  # every score ties at 0: the given order stands


def test_filters_area_type_and_tier(suppliers, monkeypatch):
    query = MatchQuery(description="Befriending older people")
    in_county = rank_suppliers(query, filters=MatchFilters(area_codes=(OXFORDSHIRE,)))
    assert suppliers.oxford.id in ids(in_county) and suppliers.cornwall.id not in ids(in_county)
    # A supplier serving the whole of England serves Oxford too.
    in_oxford = rank_suppliers(query, filters=MatchFilters(area_codes=(OXFORD,)))
    assert set(ids(in_oxford)) == {suppliers.oxford.id, suppliers.national.id}
    commissioners = rank_suppliers(query, filters=MatchFilters(org_types=("commissioner",)))
    assert ids(commissioners) == [suppliers.buyer.id]
    assert rank_suppliers(query, filters=MatchFilters(accredited_only=True)) == []


def test_tier_eligibility_with_accreditation_stubbed(app, db, suppliers, monkeypatch):
    from portal.accreditation import services as accreditation
    from portal.search import services as search

    until = date.today() + timedelta(days=30)
    levels = {suppliers.cornwall.id: 2, suppliers.national.id: 1}
    records = {org_id: SimpleNamespace(level=SimpleNamespace(tier=tier, max_contract_value=None),
                                       expires_on=until) for org_id, tier in levels.items()}
    monkeypatch.setattr(accreditation, "current_standing", lambda org: records.get(org.id))
    # A rebuild reads every organisation's level in one batch.
    monkeypatch.setattr(accreditation, "current_standings", lambda ids, **kwargs: {
        org_id: records[org_id] for org_id in ids if org_id in records})
    search.rebuild()
    query = MatchQuery(description="Mentoring young people", recommended_tier=2)
    tier_two = rank_suppliers(query, filters=MatchFilters(tier_at_least=2))
    assert ids(tier_two) == [suppliers.cornwall.id]
    assert "Accredited at Tier 2; this entry recommends Tier 2" in tier_two[0].reasons
    accredited = MatchFilters(accredited_only=True)  # any tier: Tier 1 counts too
    phone = MatchQuery(description="Telephone befriending for older people")
    assert ids(rank_suppliers(query, filters=accredited)) == [suppliers.cornwall.id]
    assert ids(rank_suppliers(phone, filters=accredited)) == [suppliers.national.id]


def test_empty_and_odd_queries_do_not_fail(suppliers):
    for query in (MatchQuery(), MatchQuery(description='AND OR ( " * ~'),
                  MatchQuery(title="☃" * 3000)):
        assert isinstance(rank_suppliers(query), list)


def test_from_opportunity_reads_a_forward_plan_entry(db, suppliers):
    opportunity = SimpleNamespace(
        title="Befriending", description="For older people", outcomes="Less loneliness",
        main_cpv_code="85311000", additional_cpv=[SimpleNamespace(code="85312000")],
        areas=[SimpleNamespace(code=OXFORD)], reservation_area_code=None,
        client_groups=[SimpleNamespace(value="Older people")], value_min=10_000,
        value_max=50_000, organisation=suppliers.buyer, accreditation_tier=2)
    query = MatchQuery.from_opportunity(opportunity)
    assert query.cpv_codes == ("85311000", "85312000")
    assert query.area_codes == (OXFORD,)
    assert query.value == 50_000 and query.recommended_tier == 2
    assert query.buyer_name == "Oxfordshire County Council"
    assert "Less loneliness" in query.description and "Older people" in query.description
    lot = SimpleNamespace(title="Lot 1", description="Telephone befriending", value_min=None,
                          value_max=5_000, cpv_codes=[], areas=[], opportunity=opportunity)
    lot_query = MatchQuery.from_opportunity(lot)
    assert lot_query.area_codes == (OXFORD,) and lot_query.recommended_tier == 2
    assert ids(rank_suppliers(lot_query))[0] in {suppliers.oxford.id, suppliers.national.id}
