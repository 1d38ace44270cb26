"""Suppliers named in OCDS awards: what a notice says about each one, which directory
organisation (if any) it is, and the track record an import gives that organisation."""
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.core.audit import AuditEvent
from portal.organisations import identity
from portal.organisations.identity import NamedSupplier
from portal.organisations.models import PastWork
from portal.pipeline import ocds

OCID = "ocds-b5fd17-5f1c2d"


# --- What a notice says about a supplier (no database) ------------------------------------------

@pytest.mark.parametrize("scheme, value, charity, company", [
    ("GB-CHC", "1100000", "1100000", None),
    ("GB-CHC", "GB-CHC-1100000", "1100000", None),  # the scheme repeated in the id
    ("gb-sc", "SC012345", "SC012345", None),
    ("GB-SC", "12345", "SC012345", None),
    ("GB-NIC", "100002", "NIC100002", None),
    ("GB-NIC", "NIC100002", "NIC100002", None),
    ("GB-COH", "1234567", None, "01234567"),
    ("GB-COH", "SC123456", None, "SC123456"),
    ("GB-COH", "00000000", None, None),  # written for "no number"
    ("GB-COH", "not a number", None, None),
    ("GB-CQC", "1-2326072185", None, None),  # a care provider's id is no registered number
    ("", "1100000", None, None),
])
def test_registered_numbers_come_from_uk_schemes_only(scheme, value, charity, company):
    charities, companies = identity.registered_numbers([(scheme, value)])
    assert charities == ({charity} if charity else set())
    assert companies == ({company} if company else set())


def test_names_compare_without_case_punctuation_or_common_abbreviations():
    assert identity.name_key("The Riverside Trust Ltd.") == identity.name_key(
        "riverside trust limited")
    assert identity.name_key("Age UK Leeds & District") == identity.name_key(
        "Age UK Leeds and District")
    assert identity.name_key("St Mary's Centre") == identity.name_key("St Marys Centre")
    assert identity.name_key("Riverside Trust") != identity.name_key("Riverside Trust North")


def test_a_postcode_is_read_from_the_last_address_line_that_has_one():
    assert identity.postcode_in("Office 20, Mercury House, NOTTINGHAM NG7 7FN") == "NG7 7FN"
    assert identity.postcode_in("Chalice House, Colchester, Essex, co77by") == "CO7 7BY"
    assert identity.postcode_in("Unit 4, High Street, Leeds") is None


def _release(awards, parties, lots=()):
    return {"ocid": OCID, "buyer": {"id": "buyer", "name": "Leeds City Council"},
            "tender": {"id": "T1", "title": "Carers support", "status": "complete",
                       "description": "Advice and short breaks for unpaid carers.",
                       "lots": list(lots)},
            "parties": [{"id": "buyer", "name": "Leeds City Council", "roles": ["buyer"]},
                        *parties],
            "awards": awards}


def _party(party_id, name, identifiers=(), **extra):
    party = {"id": party_id, "name": name, "roles": ["supplier"], **extra}
    if identifiers:
        party["identifier"] = {"scheme": identifiers[0][0], "id": identifiers[0][1]}
        party["additionalIdentifiers"] = [{"scheme": s, "id": i} for s, i in identifiers[1:]]
    return party


def test_each_supplier_of_each_award_in_force_is_described():
    release = _release(
        awards=[
            {"id": "A1", "status": "active", "date": "2024-03-01T00:00:00Z",
             "value": {"amount": 90_000, "currency": "GBP"}, "relatedLots": ["2"],
             "suppliers": [{"id": "S1", "name": "Riverside Trust"},
                           {"id": "S2", "name": "Hill Carers"}]},
            {"id": "A2", "status": "cancelled", "suppliers": [{"id": "S3", "name": "Gone"}]},
            {"id": "A3", "date": "2024-04-01", "value": {"amount": 40_000, "currency": "GBP"},
             "suppliers": [{"id": "S3", "name": "Moor Advice"}]},
        ],
        parties=[
            _party("S1", "Riverside Trust", [("GB-CHC", "1100000"), ("GB-COH", "7654321")],
                   address={"postalCode": "ls1 4ap"}, x_awardValue={"amount": 60_000}),
            _party("S2", "Hill Carers", address={"streetAddress": "2 Hill Road, Leeds LS6 2AA"},
                   x_awardValue={"amount": 30_000}),
            _party("S3", "Moor Advice"),
        ],
        lots=[{"id": "2", "title": "Lot 2: North Leeds carers", "description": "North"}])
    found = ocds.awarded_suppliers(release)
    assert [(f.award_id, f.supplier_id, f.share, f.awarded_on) for f in found] == [
        ("A1", "S1", 60_000, date(2024, 3, 1)), ("A1", "S2", 30_000, date(2024, 3, 1)),
        ("A3", "S3", 40_000, date(2024, 4, 1))]
    assert found[0].supplier == NamedSupplier("Riverside Trust", "LS1 4AP",
                                              frozenset({"1100000"}), frozenset({"07654321"}))
    assert found[1].supplier.postcode == "LS6 2AA"
    assert found[0].lot["title"] == "Lot 2: North Leeds carers" and found[2].lot is None


def test_a_joint_award_without_shares_gives_no_amount():
    release = _release(
        awards=[{"id": "A1", "date": "2024-03-01", "value": {"amount": 90_000, "currency": "GBP"},
                 "suppliers": [{"id": "S1", "name": "One"}, {"id": "S2", "name": "Two"}]}],
        parties=[_party("S1", "One"), _party("S2", "Two")])
    assert [f.share for f in ocds.awarded_suppliers(release)] == [None, None]


# --- Which directory organisation a supplier is -------------------------------------------------

@pytest.fixture
def directory(make_org):
    return {
        "riverside": make_org("Riverside Trust", charity_number="1100000", postcode="LS1 4AP"),
        "hill": make_org("Hill Carers CIC", company_number="07654321", postcode="LS6 2AA",
                         legal_form="cic"),
        "moor": make_org("Moor Advice", postcode="LS9 8AA"),
        "twin_a": make_org("Twin Project", postcode="LS2 7EW"),
        "twin_b": make_org("Twin Project", postcode="LS2 7EW"),
        "council": make_org("Leeds City Council", org_type="commissioner", postcode="LS1 1UR",
                            company_number="01111111"),
    }


def _find(*suppliers, took_part=()):
    return identity.find_organisations(suppliers, took_part=took_part)


def test_a_registered_number_finds_the_organisation_whatever_its_name(directory):
    assert _find(NamedSupplier.described("RIVERSIDE TRUST (LEEDS)", [("GB-CHC", "1100000")]),
                 NamedSupplier.described("Hill Carers", [("GB-COH", "7654321")])) == [
        directory["riverside"], directory["hill"]]


def test_failing_a_number_the_name_and_postcode_must_both_agree(directory):
    assert _find(NamedSupplier.described("Moor Advice", postcode="ls98aa")) == [
        directory["moor"]]
    assert _find(NamedSupplier.described("Moor Advice", postcode="LS1 4AP"),
                 NamedSupplier.described("Moor Advice"),
                 NamedSupplier.described("Moor Advice Centre", postcode="LS9 8AA")) == [
        None, None, None]


def test_a_name_alone_only_counts_among_those_that_took_part(directory):
    supplier = NamedSupplier("moor advice")
    assert _find(supplier) == [None]
    assert _find(supplier, took_part=[directory["moor"], directory["hill"]]) == [
        directory["moor"]]


def test_two_organisations_fitting_is_no_match(directory):
    assert _find(NamedSupplier.described("Twin Project", postcode="LS2 7EW")) == [None]


def test_a_different_number_of_the_same_kind_says_it_is_someone_else(directory):
    assert _find(NamedSupplier.described("Riverside Trust", [("GB-CHC", "1199999")],
                                         postcode="LS1 4AP")) == [None]
    # A company number says nothing against a charity number.
    assert _find(NamedSupplier.described("Riverside Trust", [("GB-COH", "09999999")],
                                         postcode="LS1 4AP")) == [directory["riverside"]]


def test_commissioners_are_never_winners(directory):
    assert _find(NamedSupplier.described("Leeds City Council", [("GB-COH", "01111111")],
                                         postcode="LS1 1UR")) == [None]


# --- The import gives them a track record -------------------------------------------------------

def _package(*releases):
    return {"releases": list(releases)}


def _awarded(suppliers, parties, status="active"):
    return _release(
        awards=[{"id": "A1", "status": status, "date": "2024-03-01T00:00:00Z",
                 "value": {"amount": 90_000, "currency": "GBP"}, "suppliers": suppliers}],
        parties=parties)


RIVERSIDE = _party("GB-CHC-1100000", "Riverside Trust Limited", [("GB-CHC", "1100000")])
MOOR = _party("S2", "Moor Advice", address={"streetAddress": "1 Moor Road, Leeds LS9 8AA"})
NAMESAKE = _party("S3", "Twin Project")  # a name alone, and two organisations of that name


def _work(db):
    db.session.expire_all()
    return db.session.scalars(select(PastWork).order_by(PastWork.source)).all()


def _import(release):
    return ocds.import_package(_package(release), source_label="test")


def test_imported_award_winners_in_the_directory_gain_the_contract(db, directory):
    suppliers = [{"id": p["id"], "name": p["name"]} for p in (RIVERSIDE, MOOR, NAMESAKE)]
    report = _import(_awarded(suppliers, [RIVERSIDE, MOOR, NAMESAKE]))
    assert report.awards == 1
    work = _work(db)
    assert [(w.organisation_id, w.source) for w in work] == [
        (directory["riverside"].id, f"ocds:{OCID}:A1:GB-CHC-1100000"),
        (directory["moor"].id, f"ocds:{OCID}:A1:S2")]
    first = work[0]
    assert (first.kind, first.title, first.funder_name, first.amount, first.awarded_on) == (
        "contract", "Carers support", "Leeds City Council", None, date(2024, 3, 1))
    assert first.description == "Advice and short breaks for unpaid carers."
    assert first.origin == "notice" and first.publisher == "Contracts Finder"


def test_importing_again_changes_nothing(db, directory):
    release = _awarded([{"id": RIVERSIDE["id"], "name": "Riverside"}], [RIVERSIDE])
    _import(release)
    before = db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action.like("past_work.%")))
    [first] = _work(db)
    _import(release)
    [again] = _work(db)
    assert again.id == first.id and again.amount == 90_000  # the sole supplier won it all
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action.like("past_work.%"))) == before == 1


def test_a_corrected_award_moves_the_contract_and_a_cancelled_one_removes_it(db, directory):
    _import(_awarded([{"id": RIVERSIDE["id"], "name": "Riverside"}], [RIVERSIDE]))
    _import(_awarded([{"id": "S2", "name": "Moor Advice"}], [MOOR]))
    assert [w.organisation_id for w in _work(db)] == [directory["moor"].id]
    _import(_awarded([{"id": "S2", "name": "Moor Advice"}], [MOOR], status="cancelled"))
    assert _work(db) == []
    actions = db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.action.like("past_work.%")).order_by(AuditEvent.id)).all()
    assert actions == ["past_work.added", "past_work.removed", "past_work.added",
                       "past_work.removed"]


def test_a_lot_award_takes_the_lots_title(db, directory):
    release = _awarded([{"id": RIVERSIDE["id"], "name": "Riverside"}], [RIVERSIDE])
    release["tender"]["lots"] = [{"id": "1", "title": "Young carers in North Leeds",
                                  "description": "Groups and trips for young carers."},
                                 {"id": "2", "title": "Lot 2"}]
    release["awards"][0]["relatedLots"] = ["1"]
    _import(release)
    [work] = _work(db)
    assert (work.title, work.description) == ("Young carers in North Leeds",
                                              "Groups and trips for young carers.")
