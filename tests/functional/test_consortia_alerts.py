"""Open roles on the teaming board reach the suppliers they fit through the profile alerts,
once; an organisation that does not fit, or posted the role, is not told."""
import pytest
from sqlalchemy import select

from portal.alerts import services as alerts
from portal.alerts.models import AlertItem
from portal.consortia import services
from tests.functional.consortia_world import build_world


@pytest.fixture
def world(app, ctx):
    with app.test_request_context():
        yield build_world()


def _subscribe(user):
    return alerts.subscribe(user, "profile", "Matches for us", {}, "daily", kind="profile")


def test_a_vcse_that_fits_an_open_role_is_told_once(app, world, db):
    with app.test_request_context():
        carers, outsider = _subscribe(world.carers_user), _subscribe(world.outsider_user)
        prime = _subscribe(world.prime_user)
        post = services.create_post(world.entry, world.prime_user, "lead",
                                    "Bidding for the whole service")
        role = services.add_role(post, world.prime_user, title="Short breaks for carers",
                                 delivers="Short breaks and peer support groups for unpaid "
                                          "carers", cpv_codes=["85312000"], area_codes=[],
                                 client_group_ids=[], recommended_tier=None, work_share=None,
                                 value_share=None)
        assert alerts.collect(carers) >= 1
        assert alerts.collect(carers) == 0
        items = db.session.scalars(select(AlertItem).where(
            AlertItem.subscription_id == carers.id,
            AlertItem.object_type == "partner_role")).all()
        assert [item.object_id for item in items] == [role.id]
        assert "Northern Care Partnership Ltd is looking for a partner" in items[0].reason
        for other in (outsider, prime):
            alerts.collect(other)
            assert db.session.scalar(select(AlertItem.id).where(
                AlertItem.subscription_id == other.id,
                AlertItem.object_type == "partner_role")) is None


def test_a_sub_contract_package_that_fits_reaches_the_vcse_once(app, world, db):
    from datetime import date, timedelta

    from portal.consortia import subcontracts

    with app.test_request_context():
        carers, outsider = _subscribe(world.carers_user), _subscribe(world.outsider_user)
        package = subcontracts.create_package(
            world.entry, world.prime_user, title="Peer support groups for unpaid carers",
            description="Weekly short breaks and peer support groups for unpaid carers",
            cpv_codes=["85312000"], area_codes=[], value=40_000, starts_on=None, ends_on=None,
            closes_on=date.today() + timedelta(days=14), recommended_tier=None,
            how_to_respond=None)
        assert alerts.collect(carers) >= 1 and alerts.collect(carers) == 0
        alerts.collect(outsider)
    found = {(item.subscription_id, item.object_id) for item in db.session.scalars(select(
        AlertItem).where(AlertItem.object_type == "subcontract_package"))}
    assert found == {(carers.id, package.id)}
