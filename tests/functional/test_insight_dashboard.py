"""The commissioner's dashboard, market map and transparency figures, each checked on small
hand-made data whose answer is known."""
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from portal.accreditation.models import AccreditationRecord, Level, Scheme, SchemeVersion
from portal.insight import market, outcomes, plan_health, readability, transparency
from portal.insight.engagement import engagement
from portal.insight.filters import InsightFilters
from portal.insight.models import ShareTarget
from portal.pipeline.models import (
    Award, AwardWinner, Interest, Lot, Opportunity, Question,
)
from portal.reference.models import Area, CpvCode

YEAR = date.today().year - 1
ALL = InsightFilters()


def _entry(db, buyer, n, published=None, tender=None, status="planned", **fields):
    entry = Opportunity(organisation=buyer, reference=f"T-{n}", title=f"Entry {n}",
                        description="Support for carers.", main_cpv_code="85312000", **fields)
    entry.published_at = published or datetime(YEAR, 1, 1, 9)
    entry.tender_publish_on = tender
    entry.load_status(status)
    db.session.add(entry)
    db.session.commit()
    return entry


def _award(db, entry, value, winners, on=None):
    entry.award = Award(awarded_on=on or date(YEAR, 6, 1), value=value, winners=[
        AwardWinner(name=name, is_vcse=vcse, is_sme=sme) for name, vcse, sme in winners])
    entry.load_status("awarded")
    db.session.commit()


@pytest.fixture
def council(make_org):
    return make_org("Leeds City Council", org_type="commissioner")


def test_exactly_two_of_five_entries_give_three_months_notice(db, council):
    starts = date(YEAR, 1, 10)
    for n, months in enumerate((1, 2, 3, 5, 2)):
        tender = date(YEAR, 1 + months, 10)
        _entry(db, council, n, published=datetime.combine(starts, datetime.min.time()),
               tender=tender)
    health = plan_health.plan_health(council, ALL)
    assert health.notice.enough.count == 2 and health.notice.enough.total == 5
    assert health.notice.enough.percent == 40.0
    assert health.notice.median == 2.0


def test_notice_leaves_out_notices_imported_from_other_sites(db, council):
    _entry(db, council, 1, published=datetime(YEAR, 5, 1), tender=date(YEAR, 2, 1),
           source="ocds")
    assert plan_health.plan_health(council, ALL).notice.enough.total == 0


def test_months_between_counts_by_the_calendar():
    assert plan_health.months_between(date(2026, 3, 1), date(2026, 6, 1)) == 3.0
    assert plan_health.months_between(date(2026, 1, 31), date(2026, 2, 28)) < 1


def test_shares_of_long_contracts_vcse_suitable_and_lots(db, council):
    _entry(db, council, 1, contract_months=36, suitable_vcse=True)
    _entry(db, council, 2, contract_months=12)
    third = _entry(db, council, 3)
    third.lots = [Lot(number=1, title="North"), Lot(number=2, title="South")]
    db.session.commit()
    _entry(db, council, 4, status="draft")  # drafts are not part of the published plan
    health = plan_health.plan_health(council, ALL)
    assert (health.long_contracts.count, health.long_contracts.total) == (1, 2)
    assert (health.vcse_suitable.count, health.vcse_suitable.total) == (1, 3)
    assert (health.with_lots.count, health.with_lots.total) == (1, 3)
    assert dict((k, n) for k, _, n in health.stages)["draft"] == 1


def test_another_buyers_entries_are_not_counted(db, council, make_org):
    other = make_org("Bradford Council", org_type="commissioner")
    _entry(db, other, 1, suitable_vcse=True)
    assert plan_health.plan_health(council, ALL).vcse_suitable.total == 0


def test_a_joint_award_splits_its_value_between_winners(db, council):
    _award(db, _entry(db, council, 1), 100_000, [("Carers Trust", True, True),
                                                  ("Big Care Ltd", False, False)])
    _award(db, _entry(db, council, 2), 300_000, [("Big Care Ltd", False, False)])
    totals = outcomes.totals(council, ALL)
    assert (totals.awards, totals.vcse_awards, round(totals.value)) == (2, 1, 400_000)
    assert round(totals.vcse_value) == 50_000
    assert totals.share("vcse_value").percent == 12.5
    assert totals.share("vcse_count").percent == 50.0


def test_outcomes_by_year_and_targets(db, council):
    _award(db, _entry(db, council, 1), 100_000, [("Carers Trust", True, True)],
           on=date(YEAR - 1, 3, 1))
    _award(db, _entry(db, council, 2), 100_000, [("Big Care Ltd", False, False)])
    db.session.add(ShareTarget(organisation_id=council.id, year=YEAR, measure="vcse_value",
                               target_percent=Decimal("20")))
    db.session.commit()
    years = outcomes.by_year(council, ALL)
    assert [(row.key, row.share("vcse_value").percent) for row in years] == [
        (YEAR - 1, 100.0), (YEAR, 0.0)]
    progress = outcomes.targets(council, years)
    assert len(progress) == 1 and not progress[0].met
    assert outcomes.by_year(council, InsightFilters(year_from=YEAR))[0].key == YEAR


def test_engagement_counts_by_kind_of_organisation(db, council, make_org):
    entry = _entry(db, council, 1)
    charity = make_org("Carers Leeds", org_type="vcse")
    small = make_org("Small Firm Ltd", org_type="prime", latest_income=2_000_000)
    large = make_org("Large Firm plc", org_type="prime", latest_income=90_000_000)
    for org in (charity, small, large):
        db.session.add(Interest(opportunity=entry, organisation=org, kind="sole"))
    db.session.add(Question(opportunity=entry, organisation=charity, question="When?"))
    db.session.commit()
    figures = engagement(council, ALL)
    assert figures.by_size["vcse"] == (1, 1)
    assert figures.by_size["sme"] == (1, 0) and figures.by_size["large"] == (1, 0)
    assert figures.per_entry("vcse", "interests") == 1.0


def test_readability_scores_plain_and_hard_text():
    plain = readability.score("We want a group to help carers. It will meet each week. "
                              "People can come when they like. It is free to use.")
    hard = readability.score("The commissioning authority anticipates the establishment of "
                             "an integrated multidisciplinary intervention infrastructure "
                             "facilitating comprehensive organisational transformation.")
    assert plain.ease >= readability.PLAIN and plain.verdict == "Plain English"
    assert hard.ease < readability.HARD and hard.hardest
    assert readability.score("Too short.") is None


def _accredit(db, org, tier):
    scheme = db.session.query(Scheme).first()
    if scheme is None:
        scheme = Scheme(slug="test", name="Test scheme")
        version = SchemeVersion(scheme=scheme, number=1, name="v1", source={})
        db.session.add_all([scheme, version])
        db.session.flush()
    version = db.session.query(SchemeVersion).first()
    level = db.session.query(Level).filter_by(tier=tier).first() or Level(
        version_id=version.id, rank=tier, tier=tier, name=f"Tier {tier}", validity_months=24)
    db.session.add(level)
    db.session.flush()
    db.session.add(AccreditationRecord(organisation_id=org.id, scheme_id=scheme.id,
                                       level_id=level.id, starts_on=date.today(),
                                       expires_on=date.today() + timedelta(days=300)))
    db.session.commit()


def test_market_map_counts_region_wide_organisations_in_each_authority(db, make_org, council):
    london = db.session.get(Area, "E12000007")
    hackney = db.session.get(Area, "E09000012")
    local = make_org("Hackney Carers", org_type="vcse")
    regional = make_org("London Carers Network", org_type="vcse")
    for org, area in ((local, hackney), (regional, london)):
        org.areas = [area]
        org.cpv_codes = [db.session.get(CpvCode, "85312000")]
    db.session.commit()
    _accredit(db, regional, 2)
    top = market.market_map(threshold=2)
    assert top.cell("853", "E12000007").vcses == 2
    assert top.cell("853", "E12000007").accredited == {2: 1}
    assert top.is_thin("853", "E12000007")
    inside = market.market_map(parent=london, threshold=1)
    assert inside.cell("853", "E09000012").vcses == 2
    assert inside.cell("853", "E09000030").vcses == 1  # Tower Hamlets: the regional one only
    assert not inside.is_thin("853", "E09000012")


def test_planned_entries_in_thin_markets_are_listed(db, council):
    entry = _entry(db, council, 1)
    entry.areas = [db.session.get(Area, "E08000035")]
    db.session.commit()
    the_map = market.market_map(threshold=1)
    listed = market.entries_in_thin_markets(the_map, council)
    assert [(e.id, units) for e, units in listed] == [(entry.id, ["E12000003"])]


# --- Pages -------------------------------------------------------------------------------------

@pytest.fixture
def officer(council, make_user):
    return make_user(council, email="officer@leeds.example")


def test_dashboard_renders_every_figure_for_the_buyer(client, db, council, officer, login):
    _award(db, _entry(db, council, 1, suitable_vcse=True), 90_000, [("Carers Trust", True, True)])
    login(officer)
    page = client.get("/insight/").get_data(as_text=True)
    assert "Forward plan health" in page and "Awards by year" in page
    assert "100%" in page  # the VCSE share of awarded value
    assert client.get("/insight/report").status_code == 200


def test_a_bad_filter_is_named_and_the_page_still_answers(client, council, officer, login):
    login(officer)
    response = client.get("/insight/?year_from=2026&year_to=2020")
    assert response.status_code == 200
    assert "The last year must be the same as or after the first year" in response.get_data(
        as_text=True)


def test_each_table_downloads_as_csv(client, db, council, officer, login):
    _award(db, _entry(db, council, 1), 90_000, [("Carers Trust", True, True)])
    login(officer)
    response = client.get("/insight/tables/outcomes_year.csv")
    assert response.mimetype == "text/csv"
    assert response.get_data(as_text=True).splitlines()[1].startswith(f"{YEAR},1,90000")
    assert client.get("/insight/tables/nothing.csv").status_code == 404


def test_another_buyer_cannot_see_a_buyers_dashboard(client, council, make_org, make_user,
                                                     login):
    other = make_user(make_org("Bradford Council", org_type="commissioner"))
    assert client.get("/insight/").status_code == 302
    login(other)
    assert client.get(f"/insight/?organisation={council.id}").status_code == 404
    assert client.get(f"/insight/tables/plan.csv?organisation={council.id}").status_code == 404
    assert client.get("/insight/?scope=all").status_code == 404


def test_a_supplier_has_no_dashboard(client, make_org, make_user, login):
    login(make_user(make_org("Carers Leeds")))
    assert client.get("/insight/").status_code == 404
    assert client.get("/insight/targets").status_code == 404


def test_a_site_admin_sees_any_buyer_and_everyone(client, council, make_user, login):
    login(make_user(None, site_admin=True))
    assert client.get(f"/insight/?organisation={council.id}").status_code == 200
    assert "Every buyer on the portal" in client.get("/insight/?scope=all").get_data(as_text=True)


def test_setting_a_target_and_refusing_a_bad_one(client, db, council, officer, login):
    login(officer)
    page = client.get("/insight/targets")
    assert page.status_code == 200
    response = client.post("/insight/targets", data={
        "measure": "vcse_value", "year": str(YEAR + 1), "target_percent": "25",
        "baseline_percent": "12.5"})
    assert response.status_code == 302
    assert db.session.query(ShareTarget).one().target_percent == Decimal("25")
    response = client.post("/insight/targets", data={
        "measure": "vcse_value", "year": str(YEAR + 1), "target_percent": "250"})
    assert "Enter a percentage from 0 to 100" in response.get_data(as_text=True)
    assert db.session.query(ShareTarget).one().target_percent == Decimal("25")


def test_market_map_is_public_at_region_level_only(client):
    assert client.get("/insight/market").status_code == 200
    page = client.get("/insight/market?region=E12000007").get_data(as_text=True)
    assert "Local detail is for commissioners" in page


def test_market_map_threshold_is_checked(client, officer, login):
    login(officer)
    page = client.get("/insight/market?threshold=0").get_data(as_text=True)
    assert "Enter a whole number from 1 to 50" in page
    assert client.get("/insight/market?region=E12000007").status_code == 200


def test_transparency_page_and_api_show_counts_only(client, db, council, conforms):
    _award(db, _entry(db, council, 1), 90_000, [("Carers Trust", True, True)])
    assert "How we buy from VCSEs" in client.get(
        f"/commissioners/{council.id}/transparency").get_data(as_text=True)
    body = client.get(f"/api/v1/commissioners/{council.id}/insight").get_json()
    conforms(body, "CommissionerInsight")
    assert body["awards"]["vcse_value_percent"] == 100.0
    assert transparency.headlines(council)["awards"]["count"] == 1


def test_transparency_is_only_for_buyers(client, make_org):
    charity = make_org("Carers Leeds")
    assert client.get(f"/commissioners/{charity.id}/transparency").status_code == 404
    assert client.get(f"/api/v1/commissioners/{charity.id}/insight").status_code == 404


def test_market_counts_are_kept_until_something_changes(app, db, make_org):
    from portal.core.audit import record
    london = db.session.get(Area, "E12000007")

    def london_charity(name):
        org = make_org(name, org_type="vcse")
        org.areas, org.cpv_codes = [london], [db.session.get(CpvCode, "85312000")]
        db.session.commit()

    london_charity("First")
    app.config["INSIGHT_CACHE_SECONDS"] = 300
    try:
        assert market.market_map().cell("853", "E12000007").vcses == 1
        london_charity("Second")  # written directly: nothing audited, so the counts are kept
        assert market.market_map().cell("853", "E12000007").vcses == 1
        app.config["INSIGHT_CACHE_SECONDS"] = 0.001
        record("organisation.updated", None)
        db.session.commit()
        assert market.market_map().cell("853", "E12000007").vcses == 2
    finally:
        app.config["INSIGHT_CACHE_SECONDS"] = 0
        app.extensions.pop("insight_cache", None)
