"""The directory, the accredited register and the forward plan: filter options with how many
results each gives, excerpts marking the searched-for words, and "did you mean"."""
import html
import re
from datetime import date, timedelta

import pytest

from portal.accreditation.models import AccreditationRecord
from portal.extensions import db
from portal.organisations import services
from portal.organisations.models import Organisation
from portal.pipeline import services as pipeline
from portal.reference.models import Area
from tests.functional.test_accreditation_support import (  # noqa: F401  (fixtures)
    evidence_dir, world,
)

ENGLAND = "E92000001"
YORKSHIRE = "E12000003"
NORTH_EAST = "E12000001"
LEEDS = "E08000035"
BRADFORD = "E08000032"
NEWCASTLE = "E08000021"
KENT = "E10000016"


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def radios(body, name):
    """{label text: checked?} for the radios called `name`."""
    found = {}
    for item in re.findall(r'<div class="govuk-radios__item">(.*?)</div>', body, re.S):
        if f'name="{name}"' in item:
            label = re.search(r"<label[^>]*>\s*(.*?)\s*</label>", item, re.S).group(1)
            found[html.unescape(label)] = " checked" in item
    return found


def options(body, name):
    """[(text, selected?)] for the list called `name`."""
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', body, re.S).group(1)
    return [(html.unescape(text), bool(chosen))
            for chosen, text in re.findall(r'<option value="[^"]*"( selected)?>([^<]*)</option>',
                                           select)]


def texts(body, name):
    return [text for text, _chosen in options(body, name)]


def chosen(body, name):
    return [text for text, selected in options(body, name) if selected]


def listed(body):
    return re.findall(r'<h2 class="govuk-heading-m govuk-!-margin-bottom-1"><a [^>]*>([^<]+)</a>',
                      body)


# --- The directory -------------------------------------------------------------------------------

@pytest.fixture
def directory(make_org):
    def org(name, areas, codes=(), **fields):
        made = make_org(name, **fields)
        for code in areas:
            services.add_area(made, code, None)
        for code in codes:
            services.add_category(made, code, None)
        return made

    return {
        "leeds": org("Leeds Befrienders", [LEEDS], ["85312000"], income_band="small",
                     description="Befriending for lonely older people across Leeds"),
        "bradford": org("Bradford Advice", [BRADFORD], ["85312310"], income_band="small",
                        description="Debt advice and befriending in Bradford"),
        "newcastle": org("Tyneside Youth", [NEWCASTLE], ["80000000"], income_band="large",
                         description="Youth work <and> mentoring & more"),
        "council": org("Leeds City Council", [LEEDS], org_type="commissioner",
                       description="Commissioner of adult social care"),
    }


def test_each_filter_option_shows_how_many_organisations_it_gives(client, directory):
    body = page(client, "/organisations")
    assert radios(body, "type") == {
        "Any type (4)": True,
        "Voluntary, community or social enterprise (VCSE) (3)": False,
        "Commissioner (council, NHS or other public body) (1)": False}
    assert radios(body, "income_band") == {"Any income (4)": True,
                                           "£10,000 to £100,000 (2)": False,
                                           "£1 million to £10 million (1)": False}
    # Regions (and England) first; areas with nobody in them are left out.
    assert texts(body, "area") == ["Anywhere (4)", "England (4)", "North East (1)",
                                   "Yorkshire and The Humber (3)"]
    assert texts(body, "cpv") == ["Any category (4)",
                                  "80000000 Education and training services (1)",
                                  "85000000 Health and social work services (2)"]


def test_counts_follow_the_other_filters_but_not_their_own(client, directory):
    body = page(client, "/organisations?type=vcse&income_band=small")
    assert listed(body) == ["Bradford Advice", "Leeds Befrienders"]
    # Type counts keep the income filter; income counts keep the type filter.
    assert radios(body, "type") == {
        "Any type (2)": False, "Voluntary, community or social enterprise (VCSE) (2)": True}
    assert radios(body, "income_band") == {"Any income (3)": False,
                                           "£10,000 to £100,000 (2)": True,
                                           "£1 million to £10 million (1)": False}
    assert texts(body, "area")[:2] == ["Anywhere (2)", "England (2)"]


def test_area_choices_narrow_from_region_to_authority(client, directory):
    body = page(client, f"/organisations?area={YORKSHIRE}")
    assert listed(body) == ["Bradford Advice", "Leeds Befrienders", "Leeds City Council"]
    assert options(body, "area") == [("Anywhere (4)", False),
                                     ("Yorkshire and The Humber (3)", True),
                                     ("Bradford (1)", False), ("Leeds (2)", False)]
    body = page(client, f"/organisations?area={LEEDS}&type=vcse")
    # An authority is shown beside the others in its region, with the way back up.
    assert options(body, "area") == [("Anywhere (3)", False),
                                     ("All of Yorkshire and The Humber (2)", False),
                                     ("Bradford (1)", False), ("Leeds (1)", True)]
    body = page(client, f"/organisations?area={KENT}")
    # Nothing in Kent or around it: only the choice itself and the way out are left.
    assert options(body, "area") == [("Anywhere (4)", False), ("Kent (0)", True)]


def test_an_organisation_listing_a_whole_region_is_found_in_it(client, directory, db):
    wide = directory["newcastle"]
    wide.areas = [db.session.get(Area, YORKSHIRE)]
    db.session.commit()
    assert "Tyneside Youth" in listed(page(client, f"/organisations?area={YORKSHIRE}"))
    assert "Tyneside Youth" in listed(page(client, f"/organisations?area={ENGLAND}"))
    assert "Tyneside Youth" not in listed(page(client, f"/organisations?area={LEEDS}"))
    body = page(client, "/organisations")
    assert "Yorkshire and The Humber (4)" in texts(body, "area")


def test_category_choices_narrow_from_division_to_groups(client, directory):
    body = page(client, "/organisations?cpv=85000000")
    assert options(body, "cpv") == [
        ("Any category (4)", False),
        ("85000000 Health and social work services (2)", True),
        ("85300000 Social work and related services (2)", False)]
    body = page(client, "/organisations?cpv=85312310")
    assert chosen(body, "cpv") == ["85312310 Guidance services (1)"]
    assert "All of 85312000 Social work services without accommodation (2)" in texts(body, "cpv")


def test_search_marks_the_words_in_an_excerpt_and_counts_follow_it(client, directory):
    body = page(client, "/organisations?q=befriending")
    assert listed(body) == ["Leeds Befrienders", "Bradford Advice"]
    assert "<mark>Befriending</mark> for lonely older people" in body
    assert "Debt advice and <mark>befriending</mark> in Bradford" in body
    assert radios(body, "type") == {
        "Any type (2)": True, "Voluntary, community or social enterprise (VCSE) (2)": False}
    assert texts(body, "area") == ["Anywhere (2)", "England (2)", "Yorkshire and The Humber (2)"]


def test_no_excerpt_without_search_text_and_descriptions_stay_escaped(client, directory):
    body = page(client, "/organisations")
    assert "<mark>" not in body and "app-snippet" not in body
    assert "Youth work &lt;and&gt; mentoring &amp; more" in body
    body = page(client, "/organisations?q=mentoring")
    assert "Youth work &lt;and&gt; <mark>mentoring</mark> &amp; more" in body


def test_did_you_mean_searches_again_with_the_filters_kept(client, directory):
    body = page(client, "/organisations?q=befreinding&type=vcse&sort=name")
    assert "No organisations found" in body
    link = re.search(r'Did you mean <a class="govuk-link" href="([^"]+)">befriending</a>\?', body)
    assert link, "no suggestion shown"
    target = html.unescape(link.group(1))
    assert "q=befriending" in target and "type=vcse" in target and "sort=name" in target
    assert listed(page(client, target)) == ["Bradford Advice", "Leeds Befrienders"]


def test_no_suggestion_when_the_search_finds_plenty_or_nothing_closer(client, make_org):
    for n in range(6):
        make_org(f"Food bank {n}", description="Community food bank and pantry")
    assert "Did you mean" not in page(client, "/organisations?q=food")
    assert "Did you mean" not in page(client, "/organisations?q=zzqqxx")


def test_sorting_and_pages_keep_the_search_and_filters(client, make_org):
    for n in range(25):
        make_org(f"Carers group {n:02d}", description="Support for unpaid carers " * (1 + n % 3),
                 income_band="small")
    body = page(client, "/organisations?q=carers&income_band=small&sort=name_desc")
    assert listed(body)[0] == "Carers group 24" and len(listed(body)) == 20
    assert "<mark>carers</mark>" in body
    assert "page=2" in body and "q=carers" in body and "income_band=small" in body
    second = page(client, "/organisations?q=carers&income_band=small&sort=name_desc&page=2")
    assert listed(second)[-1] == "Carers group 00"
    assert radios(second, "income_band")["£10,000 to £100,000 (25)"] is True


def test_a_bad_filter_is_reported_on_its_choices(client, directory):
    body = page(client, "/organisations?type=pirates")
    assert "There is a problem" in body and 'href="#type"' in body
    assert 'id="type"' in body and "Choose a type of organisation from the list" in body
    assert radios(body, "type")["Any type (4)"] is True


# --- The accredited register ---------------------------------------------------------------------

def _accredit(world, org, slug, rank):
    scheme = world.scheme(slug)
    db.session.add(AccreditationRecord(
        organisation_id=org.id, scheme=scheme, level=scheme.current.level_by_rank(rank),
        starts_on=date.today() - timedelta(days=10),
        expires_on=date.today() + timedelta(days=300), status="active"))
    db.session.commit()


@pytest.fixture
def register(world):
    world.org.description = "Advocacy and advice for carers in Leeds"
    world.other_org.description = "Youth clubs and advocacy"
    world.org.areas = [db.session.get(Area, LEEDS)]
    world.other_org.areas = [db.session.get(Area, NEWCASTLE)]
    db.session.commit()
    _accredit(world, world.org, "sliding-scale", 1)
    _accredit(world, world.other_org, "kite-mark", 1)
    return world


def test_register_choices_show_how_many_providers_each_gives(client, register):
    body = page(client, "/accredited-providers")
    scheme_counts = radios(body, "scheme")
    assert scheme_counts["Any scheme (2)"] is True
    assert sum(1 for label in scheme_counts if label.endswith("(1)")) == 2
    tiers = radios(body, "tier")
    # Tiers count cumulatively: "tier 1 or above" includes everyone.
    assert tiers == {"Any tier (2)": True, "Tier 1 or above (2)": False,
                     "Tier 2 or above (1)": False}
    assert texts(body, "area") == ["Anywhere (2)", "England (2)", "North East (1)",
                                   "Yorkshire and The Humber (1)"]
    body = page(client, "/accredited-providers?tier=2")
    assert "1 accredited provider found" in body
    assert radios(body, "tier")["Tier 2 or above (1)"] is True
    assert radios(body, "scheme")["Any scheme (1)"] is True


def test_register_search_marks_words_and_suggests_spellings(client, register):
    body = page(client, "/accredited-providers?q=advocacy&area=" + YORKSHIRE)
    assert "1 accredited provider found" in body
    assert "<mark>Advocacy</mark> and advice for carers in Leeds" in body
    body = page(client, "/accredited-providers?q=advocasy&tier=1")
    match = re.search(r'Did you mean <a class="govuk-link" href="([^"]+)">advocacy</a>', body)
    assert match and "tier=1" in html.unescape(match.group(1))
    assert "<mark>" not in page(client, "/accredited-providers")


# --- The forward plan ----------------------------------------------------------------------------

@pytest.fixture
def plan(make_org, make_user):
    leeds = make_org("Leeds City Council", org_type="commissioner")
    officer = make_user(leeds, email="officer@leeds.example")

    def entry(title, description, cpv, areas, value, status="planned"):
        made = pipeline.create_opportunity(leeds, {
            "title": title, "description": description, "main_cpv_code": cpv, "areas": areas,
            "value_min": value, "value_basis": "whole_life", "suitable_vcse": True}, officer)
        pipeline.change_status(made, "planned", officer, {})
        if status == "open":
            pipeline.change_status(made, "open", officer, {
                "closing_at": pipeline.uk_now() + timedelta(days=30)})
        return made

    return [
        entry("Carers breaks", "Short breaks for unpaid carers", "85312000", "Leeds", 400_000),
        entry("Domestic abuse refuge", "A refuge for survivors of domestic abuse", "85311000",
              "Bradford", 1_200_000, status="open"),
        entry("Road resurfacing", "Resurfacing roads", "45233000", "Newcastle upon Tyne",
              5_000_000),
    ]


def test_plan_choices_show_how_many_entries_each_gives(client, plan):
    body = page(client, "/forward-plan")
    assert radios(body, "status") == {"Any current stage (3)": True, "Planned (2)": False,
                                      "Open for tenders (1)": False}
    assert radios(body, "value_band") == {
        "Any value (3)": True, "£100,000 to £500,000 (1)": False,
        "£500,000 to £2 million (1)": False, "£2 million to £10 million (1)": False}
    assert texts(body, "area") == ["Anywhere (3)", "England (3)", "North East (1)",
                                   "Yorkshire and The Humber (2)"]
    assert texts(body, "cpv") == ["Any category (3)", "45000000 Construction work (1)",
                                  "85000000 Health and social work services (2)"]
    body = page(client, f"/forward-plan?status=open&area={YORKSHIRE}")
    assert radios(body, "status") == {"Any current stage (2)": False, "Planned (1)": False,
                                      "Open for tenders (1)": True}
    assert options(body, "area")[:2] == [("Anywhere (1)", False),
                                         ("Yorkshire and The Humber (1)", True)]


def test_plan_search_marks_words_and_suggests_spellings(client, plan):
    body = page(client, "/forward-plan?q=refuge")
    assert "<mark>refuge</mark> for survivors" in body
    assert radios(body, "status") == {"Any current stage (1)": True, "Open for tenders (1)": False}
    body = page(client, "/forward-plan?q=domestik+abuse&value_band=500k_2m")
    match = re.search(r'Did you mean <a class="govuk-link" href="([^"]+)">domestic abuse</a>', body)
    assert match and "value_band=500k_2m" in html.unescape(match.group(1))


def test_the_timeline_keeps_its_plain_filters(client, plan):
    body = page(client, "/forward-plan/timeline")
    assert "Any current stage" in body and "(3)" not in body


def test_facet_counts_agree_with_the_results_they_lead_to(client, directory, db):
    """Every area and category offered gives exactly as many organisations as it says."""
    body = page(client, "/organisations?type=vcse")
    for name in ("area", "cpv"):
        select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', body, re.S).group(1)
        for value, text in re.findall(r'<option value="([^"]+)"[^>]*>([^<]*)</option>', select):
            expected = int(re.search(r"\(([\d,]+)\)$", text).group(1).replace(",", ""))
            found = page(client, f"/organisations?type=vcse&{name}={value}")
            shown = 0 if "No organisations found" in found else int(re.search(
                r"([\d,]+) organisations? found", found).group(1).replace(",", ""))
            assert shown == expected, (name, value, text)
    assert db.session.query(Organisation).count() == 4
