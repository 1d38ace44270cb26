"""Matches a person can trust: evidence about the service makes a match, never a coincidence
of names, places, common words or tier; eligibility rules leave suppliers out and say so; and
an invitation says what really happened. Each regression test is named after what a new user
saw."""
from datetime import date, timedelta
from types import SimpleNamespace

import pytest

from portal.matching.models import strength
from portal.matching.services import MatchFilters, MatchQuery, rank_suppliers
from portal.organisations.models import PastWork
from portal.reference.models import Area, CpvCode

TOWER_HAMLETS, HACKNEY, DUDLEY = "E09000030", "E09000012", "E08000027"
NOTTINGHAMSHIRE_DISTRICTS = ("E07000170", "E07000171", "E07000172")
EAST_AYRSHIRE, SOUTH_LANARKSHIRE, TRURO_CORNWALL = "S12000008", "S12000029", "E06000052"


def _org(db, make_org, name, description, areas=(), cpv=(), postcode=None, org_type="vcse",
         past=()):
    org = make_org(name=name, description=description, postcode=postcode, org_type=org_type,
                   commit=False)
    org.areas.extend(db.session.get(Area, code) for code in areas)
    org.cpv_codes.extend(db.session.get(CpvCode, code) for code in cpv)
    for title, text in past:
        org.past_work.append(PastWork(title=title, description=text, kind="grant",
                                      funder_name="The Local Trust", awarded_on=date(2021, 1, 1)))
    return org


@pytest.fixture
def directory(db, make_org):
    orgs = SimpleNamespace(
        collective=_org(db, make_org, "Tower Hamlets and Hackney Wellbeing Collective",
                        "Peer support groups, talking therapies and befriending for adults "
                        "with anxiety and depression in Tower Hamlets and Hackney",
                        areas=(TOWER_HAMLETS, HACKNEY), cpv=("85312300",), postcode="E1 6AN"),
        bereavement=_org(db, make_org, "Little Lanterns Children's Bereavement Trust",
                         "Bereavement counselling and support groups for grieving children and "
                         "young people in Cornwall", areas=(TRURO_CORNWALL,),
                         cpv=("85312320",)),
        prime=_org(db, make_org, "Big Prime Contractor Ltd",
                   "A prime contractor managing supply chains for public sector contracts",
                   org_type="prime"),
        dudley=_org(db, make_org, "Stourbridge Walking Football Club",
                    "Walking football sessions for older men", areas=(DUDLEY,),
                    postcode="DY8 1AA", cpv=("92000000",)),
        refuge=_org(db, make_org, "Black Country Women's Refuge",
                    "Refuge accommodation, outreach and advocacy for women and children "
                    "escaping domestic abuse", areas=(DUDLEY,), cpv=("85311000",),
                    past=[("Domestic abuse outreach", "Independent domestic violence "
                           "advisers supporting survivors of domestic abuse")]),
        events=_org(db, make_org, "Village Events Committee",
                    "Events currently held in the village hall"),
    )
    db.session.commit()
    return orgs


def ids(matches):
    return [m.organisation_id for m in matches]


# --- What a new user saw ------------------------------------------------------------------------

def test_a_collective_is_not_recommended_cullet_recycling(directory):
    query = MatchQuery(title="Cullet Recycling", description="Collection and recycling of "
                       "glass cullet from bottle banks", area_codes=(EAST_AYRSHIRE,))
    assert directory.collective.id not in ids(rank_suppliers(query))


def test_a_collective_is_not_recommended_clinical_waste_collected(directory):
    query = MatchQuery(title="Clinical Waste Uplift & Disposal",
                       description="Clinical waste collected from surgeries",
                       area_codes=(TOWER_HAMLETS,))
    assert directory.collective.id not in ids(rank_suppliers(query))


def test_towers_in_a_title_is_not_tower_hamlets(directory):
    query = MatchQuery(title="SLC Hamilton Towers Phase Six Development",
                       description="Towers development offers", area_codes=(SOUTH_LANARKSHIRE,))
    assert directory.collective.id not in ids(rank_suppliers(query))


def test_hackney_carriage_licensing_in_nottinghamshire_does_not_serve_hackney(directory):
    query = MatchQuery(title="Dynamic Purchasing System for Transport Services",
                       description="Hackney Carriage and private hire transport for adults "
                       "with anxiety", area_codes=NOTTINGHAMSHIRE_DISTRICTS)
    assert not [p for p in query.places if HACKNEY in p.codes]
    for match in rank_suppliers(query):
        assert not any("Hackney" in reason for reason in match.reasons)


def test_western_and_billing_in_a_title_are_not_places():
    query = MatchQuery(title="X-ray Equipment Western Wing",
                       description="Revenue and Benefits Mailing and Billing")
    assert {p.name for p in query.places} == set()


def test_a_prime_contractor_is_not_matched_on_prime_and_contractor(directory):
    query = MatchQuery(title="X-Ray Unit", description="The prime contractor will supply and "
                       "maintain a superficial X-ray therapy unit")
    assert directory.prime.id not in ids(rank_suppliers(query))


def test_a_bereavement_charity_is_not_invited_to_raised_planters(directory):
    query = MatchQuery(title="Supply & Install Raised Planters", description="Raised planters "
                       "for the town square, supplied and installed", area_codes=(TRURO_CORNWALL,))
    assert directory.bereavement.id not in ids(rank_suppliers(query))


def test_event_currently_held_is_no_match(directory):
    query = MatchQuery(title="Stewarding", description="Stewarding at an event currently held "
                       "each summer")
    assert directory.events.id not in ids(rank_suppliers(query))


def test_being_based_in_dudley_is_no_match_for_domestic_abuse_support(directory):
    query = MatchQuery(title="Domestic Abuse Support Services", description="Specialist "
                       "community support for adults experiencing domestic abuse",
                       area_codes=(DUDLEY,), cpv_codes=("85310000",), recommended_tier=1)
    matches = rank_suppliers(query)
    assert ids(matches) == [directory.refuge.id]
    assert strength(matches[0].signals)[0] in ("strong", "good")
    assert "Dudley, where this service will be delivered" in " ".join(matches[0].reasons)


def test_reasons_are_written_as_a_person_would(directory):
    query = MatchQuery(title="Domestic abuse outreach", description="Outreach and advocacy "
                       "for survivors of domestic abuse", area_codes=(DUDLEY,),
                       cpv_codes=("85311000",))
    reasons = rank_suppliers(query)[0].reasons
    assert reasons[0].startswith("Offers social work services with accommodation")
    assert reasons[1] == "Its profile mentions domestic abuse outreach and advocacy, as this " \
        "entry does"
    assert "Works in Dudley, where this service will be delivered" in reasons
    assert not any("matched:" in reason or "'" in reason.split(",")[0] for reason in reasons)


def test_an_entry_nobody_can_deliver_lists_nobody(directory):
    query = MatchQuery(title="Framework for the supply of asphalt, macadam and aggregate",
                       description="Supply and delivery of asphalt to council depots",
                       area_codes=(DUDLEY,))
    assert rank_suppliers(query) == []


# --- Eligibility --------------------------------------------------------------------------------

def _accredit(monkeypatch, tiers, expires=None):
    """Give organisations a tier (through the accreditation domain's lookups) and re-index."""
    from portal.accreditation import services as accreditation
    from portal.search import services as search

    until = expires or date.today() + timedelta(days=30)
    records = {org_id: SimpleNamespace(level=SimpleNamespace(tier=tier, max_contract_value=None,
                                                             name=f"Stage {tier}"),
                                       expires_on=until) for org_id, tier in tiers.items()}
    monkeypatch.setattr(accreditation, "current_standing", lambda org: records.get(org.id))
    monkeypatch.setattr(accreditation, "current_standings", lambda ids, **kwargs: {
        org_id: records[org_id] for org_id in ids if org_id in records})
    search.rebuild()


ABUSE = dict(title="Domestic abuse refuge and outreach", description="Refuge accommodation "
             "and outreach for women escaping domestic abuse", area_codes=(DUDLEY,))


@pytest.fixture
def second_refuge(db, make_org, directory):
    org = _org(db, make_org, "Sandwell Domestic Abuse Refuge", "Refuge and outreach for "
               "women and children escaping domestic abuse", areas=(DUDLEY,), postcode="B70 1AA",
               cpv=("85311000",))
    db.session.commit()
    return org


def test_a_required_tier_leaves_out_suppliers_below_it_and_says_how_many(
        directory, second_refuge, monkeypatch):
    _accredit(monkeypatch, {second_refuge.id: 2, directory.refuge.id: 1})
    ranked = rank_suppliers(MatchQuery(**ABUSE, required_tier=2))
    assert ids(ranked) == [second_refuge.id]
    assert ranked.left_out == {"not accredited at Tier 2 or above, which is required": 1}


def test_an_expired_accreditation_does_not_meet_a_required_tier(
        directory, second_refuge, monkeypatch):
    _accredit(monkeypatch, {second_refuge.id: 3}, expires=date.today() - timedelta(days=1))
    ranked = rank_suppliers(MatchQuery(**ABUSE, required_tier=1))
    assert ranked == [] and sum(ranked.left_out.values()) == 2


def test_a_reservation_for_smes_and_vcses_leaves_out_a_large_prime(db, directory, make_org):
    large = _org(db, make_org, "National Refuge Services plc", "Refuge and outreach for women "
                 "escaping domestic abuse", areas=(DUDLEY,), org_type="prime")
    large.latest_income = 90_000_000
    db.session.commit()
    ranked = rank_suppliers(MatchQuery(**ABUSE, reservation="sme_vcse"))
    assert large.id not in ids(ranked) and directory.refuge.id in ids(ranked)
    assert ranked.left_out == {"not an SME or a VCSE, which the contract is reserved for": 1}


def test_a_location_reservation_leaves_out_suppliers_based_elsewhere(directory, second_refuge):
    ranked = rank_suppliers(MatchQuery(**ABUSE, reservation="location",
                                       reservation_area_code=DUDLEY))
    # Based in Sandwell by its postcode, though it works in Dudley: left out. The Black
    # Country refuge has no postcode but works only in Dudley: it counts as based there.
    assert ids(ranked) == [directory.refuge.id]
    assert ranked.left_out == {"not based in Dudley, which the contract is reserved for": 1}


def test_a_suspended_organisation_never_appears(db, directory):
    directory.refuge.set_status("suspended")
    db.session.commit()
    assert directory.refuge.id not in ids(rank_suppliers(MatchQuery(**ABUSE)))


def test_candidate_keys_still_rank_every_supplier_given(directory):
    given = [directory.events.id, directory.refuge.id]
    ranked = rank_suppliers(MatchQuery(**ABUSE), candidate_keys=given)
    assert ids(ranked) == [directory.refuge.id, directory.events.id]
    assert ranked[0].evident and not ranked[1].evident


def test_filters_still_apply(directory):
    assert rank_suppliers(MatchQuery(**ABUSE), filters=MatchFilters(org_types=("prime",))) == []
