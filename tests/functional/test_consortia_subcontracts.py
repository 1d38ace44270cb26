"""Sub-contract packages and fairness after award: posting (a closing date in the past is
refused with the field named), responses shortlisted and selected, the sub-contract joining the
sub-contractor's track record, payment reports summed up for the buyer, and concerns raised
with the buyer and answered."""
from datetime import date, timedelta

import pytest

from portal.consortia import services, subcontracts
from portal.core.exceptions import DomainError, NotFound
from portal.core.mail import OutboxMessage
from portal.organisations.models import PastWork
from tests.functional.consortia_world import build_world

NEXT_MONTH = date.today() + timedelta(days=30)


@pytest.fixture
def world(app, ctx):
    with app.test_request_context():
        yield build_world()


def _package(world, **changes):
    fields = dict(title="Carers' peer support groups in south Leeds",
                  description="Weekly peer support groups for unpaid carers, two venues",
                  cpv_codes=["85312000"], area_codes=["E08000035"], value=80_000,
                  starts_on=date(2027, 4, 1), ends_on=date(2029, 3, 31), closes_on=NEXT_MONTH,
                  recommended_tier=None, how_to_respond="Tell us about your groups")
    return subcontracts.create_package(world.entry, world.prime_user, **{**fields, **changes})


def test_a_closing_date_in_the_past_is_refused_on_its_field(world):
    with pytest.raises(DomainError) as error:
        _package(world, closes_on=date.today() - timedelta(days=1))
    assert error.value.field == "closes_on"
    with pytest.raises(DomainError) as error:
        _package(world, ends_on=date(2027, 1, 1))
    assert error.value.field == "ends_on"


def test_a_selected_response_becomes_the_sub_contractors_track_record(app, world):
    with app.test_request_context():
        package = _package(world)
        first = subcontracts.respond_to_package(package, world.carers_user,
                                                "We run six carers' groups in Leeds")
        second = subcontracts.respond_to_package(package, world.respite_user,
                                                 "We could run one group")
        with pytest.raises(DomainError):
            subcontracts.respond_to_package(package, world.carers_user, "Again")
        with pytest.raises(DomainError):
            subcontracts.select_response(package, second, world.prime_user, 80_000, None, None)
        subcontracts.move_response(package, first, world.prime_user, "shortlisted")
        contract = subcontracts.select_response(package, first, world.prime_user, 78_000,
                                                date(2027, 4, 1), date(2029, 3, 31))
    assert package.status == "awarded" and second.status == "not_selected"
    work = PastWork.query.filter_by(organisation_id=world.carers.id,
                                    source=f"subcontract:{contract.id}").one()
    assert work.amount == 78_000 and work.funder_name == "Northern Care Partnership Ltd"
    assert any("responded to" in m.subject for m in OutboxMessage.query.all())


def test_payment_reports_give_the_buyer_each_primes_record(app, world):
    with app.test_request_context():
        package = _package(world)
        response = subcontracts.respond_to_package(package, world.carers_user, "We can")
        subcontracts.move_response(package, response, world.prime_user, "shortlisted")
        subcontracts.select_response(package, response, world.prime_user, 50_000, None, None)
        report = lambda **kw: subcontracts.report_payment(  # noqa: E731
            world.carers_user, world.entry.id, world.prime.id, **kw)
        report(invoiced_on=date(2026, 1, 5), paid_on=date(2026, 1, 20))
        report(invoiced_on=date(2026, 2, 5), paid_on=date(2026, 4, 20))  # 74 days
        report(within_terms=False)
        with pytest.raises(DomainError) as error:
            report(invoiced_on=date(2026, 2, 5), paid_on=date(2026, 1, 5))
        assert error.value.field == "paid_on"
        with pytest.raises(NotFound):
            subcontracts.report_payment(world.outsider_user, world.entry.id, world.prime.id,
                                        within_terms=True)
    [(prime, count, within_30, within_60)] = subcontracts.payment_performance(world.buyer)
    assert (prime.name, count, within_30, within_60) == (
        "Northern Care Partnership Ltd", 3, 33, 50)


def test_a_concern_reaches_the_buyer_and_its_answer_the_partner(app, world):
    team = services.create_consortium(world.entry, world.prime_user, "Leeds Carers Alliance")
    with app.test_request_context():
        services.accept_invitation(services.invite_partner(world.entry, world.carers,
                                                           world.prime_user), world.carers_user)
        concern = subcontracts.raise_concern(world.carers_user, world.entry.id, world.prime.id,
                                             "Invoices are paid after 90 days", True)
        assert concern.withhold_name
        assert subcontracts.concerns_for_buyer(world.buyer) == [concern]
        for other in (world.prime_user, world.outsider_user):
            with pytest.raises(NotFound):
                subcontracts.get_concern(concern.id, other)
        with pytest.raises(NotFound):
            subcontracts.answer_concern(concern, world.carers_user, "x", "y")
        with pytest.raises(DomainError) as error:
            subcontracts.answer_concern(concern, world.buyer_user, "We spoke to them", "")
        assert error.value.field == "outcome"
        subcontracts.answer_concern(concern, world.buyer_user, "We met the prime",
                                    "Payment terms cut to 30 days")
    assert concern.status == "answered" and team.id
    subjects = [m.subject for m in OutboxMessage.query.all()]
    assert "A concern about a prime contractor's supply chain" in subjects
    assert "The buyer has answered your concern" in subjects
