"""The scheme engine: documents, versions, levels, passporting, eligibility."""
from datetime import date, timedelta

import pytest

from portal.accreditation import schemes as engine
from portal.accreditation import services
from portal.accreditation.models import AccreditationRecord, SchemeVersion
from portal.core.exceptions import DomainError, NotFound
from portal.extensions import db
from tests.functional.test_accreditation_support import (  # noqa: F401  (fixtures)
    assessed, complete_application, evidence_dir, world,
)

pytestmark = pytest.mark.usefixtures("ctx")

MINIMAL = """
slug: test-scheme
name: Test scheme
levels:
  - {rank: 1, name: Entry, validity_months: 12, max_contract_value: 10000}
  - {rank: 2, name: Higher, validity_months: 24, income_bands: [medium, large]}
standards:
  - {code: A1, area: Governance, title: Board, description: A board meets.}
  - {code: B1, area: Money, title: Reserves, description: Reserves exist., from_level: 2}
"""


def test_seed_loads_both_schemes_with_their_levels_and_areas():
    counts = engine.load_schemes()
    assert counts["accreditation scheme versions published"] == 2
    sliding = engine.get_scheme("sliding-scale").current
    assert [lv.rank for lv in sliding.levels] == [1, 2, 3]
    assert {s.area for s in sliding.standards} == {"Quality", "Capability", "Financial stability"}
    kite = engine.get_scheme("kite-mark").current
    assert len(kite.levels) == 1 and kite.levels[0].tier == 2
    assert len({s.area for s in kite.standards}) == 8


def test_loading_again_publishes_nothing():
    engine.load_schemes()
    again = engine.load_schemes()
    assert again == {"accreditation scheme versions published": 0, "recognised marks updated": 0}
    assert db.session.scalar(db.select(db.func.count(SchemeVersion.id))) == 2


def test_standards_apply_from_their_level_up():
    engine.load_schemes()
    version = engine.get_scheme("sliding-scale").current
    counts = [len(version.standards_for(level)) for level in version.levels]
    assert counts[0] < counts[1] < counts[2] == len(version.standards)


@pytest.mark.parametrize("change, message", [
    ("slug: Bad Slug", "slug"),
    ("levels: []", "at least one level"),
    ("levels: [{rank: 1, name: A}, {rank: 3, name: B}]", "no gaps"),
    ("levels: [{rank: 1, name: A, income_bands: [huge]}]", "income bands"),
    ("levels: [{rank: 1, name: A, validity_months: 0}]", "validity months"),
    ("standards: [{code: A1, area: X, title: T, description: D, from_level: 5}]", "from_level"),
    ("standards: [{code: A1, area: X, title: T, description: D},"
     " {code: A1, area: X, title: T, description: D}]", "A1 repeats"),
    ("standards: [{code: A1, area: X, title: T}]", "description"),
])
def test_document_mistakes_are_explained(change, message):
    key = change.split(":")[0]
    lines = [line for line in MINIMAL.strip().split("\n")]
    keep, skipping = [], False
    for line in lines:
        if line.startswith(key + ":"):
            skipping = True
            continue
        if skipping and line.startswith("  "):
            continue
        skipping = False
        keep.append(line)
    with pytest.raises(DomainError) as error:
        engine.parse_yaml("\n".join(keep + [change]))
    assert message in error.value.message


def test_yaml_syntax_errors_give_a_line():
    with pytest.raises(DomainError, match="line"):
        engine.parse_yaml("slug: x\nlevels: [\n  - a: : b")


def test_tier_defaults_to_rank(make_user):
    admin = make_user(site_admin=True)
    version = engine.create_scheme(MINIMAL, admin)
    assert [(lv.rank, lv.tier) for lv in version.levels] == [(1, 1), (2, 2)]
    assert version.number == 1


def test_editing_publishes_a_new_version_and_old_applications_keep_theirs(world):
    admin = world.board
    admin.is_site_admin = True
    application = complete_application(world)
    scheme = world.scheme("sliding-scale")
    old_version = scheme.current
    text = engine.to_yaml(old_version.source).replace("Safeguarding", "Keeping people safe")
    version, published = engine.edit_scheme(scheme, text, admin)
    assert published and version.number == old_version.number + 1
    assert scheme.current == version
    assert application.version == old_version
    assert any(s.title == "Safeguarding" for s in application.standards)
    unchanged, published = engine.edit_scheme(scheme, text, admin)
    assert not published and unchanged == version


def test_edit_cannot_change_the_slug(world):
    scheme = world.scheme("kite-mark")
    text = engine.to_yaml(scheme.current.source).replace("slug: kite-mark", "slug: other")
    with pytest.raises(DomainError, match="Keep the slug"):
        engine.edit_scheme(scheme, text, world.board)


def test_a_published_version_cannot_be_changed():
    engine.load_schemes()
    version = engine.get_scheme("kite-mark").current
    version.levels[0].name = "Changed"
    with pytest.raises(DomainError, match="cannot be changed"):
        db.session.flush()
    db.session.rollback()


def test_seed_reload_keeps_a_version_an_admin_published(world):
    scheme = world.scheme("kite-mark")
    text = engine.to_yaml(scheme.current.source).replace("Approved provider\n", "Approved\n", 1)
    engine.edit_scheme(scheme, text, world.board)
    engine.load_schemes()
    assert scheme.current.number == 2


def test_suggested_level_follows_income(world):
    version = world.scheme("sliding-scale").current
    assert services.suggest_level(world.org, version).rank == 1        # small
    assert services.suggest_level(world.other_org, version).rank == 3  # large
    world.org.income_band = None
    assert services.suggest_level(world.org, version).rank == 1


def test_marks_cover_standards_by_code_across_versions(world):
    scheme = world.scheme("kite-mark")
    standard = next(s for s in scheme.current.standards if s.code == "MG2")
    assert [m.slug for m in engine.marks_for(standard)] == ["cyber-essentials"]
    text = engine.to_yaml(scheme.current.source).replace("Managing information", "Data")
    version, _ = engine.edit_scheme(scheme, text, world.board)
    new_standard = next(s for s in version.standards if s.code == "MG2")
    assert [m.slug for m in engine.marks_for(new_standard)] == ["cyber-essentials"]


def test_a_mark_passports_a_standard_only_once_an_assessor_verifies_it(world):
    application = complete_application(world, slug="kite-mark")
    standard = next(s for s in application.standards if s.code == "MG2")
    mark = engine.marks_for(standard)[0]
    services.save_answer(application, standard.id,
                         {"status": "met", "narrative": "We hold it.", "mark_id": mark.id,
                          "mark_reference": "CE-1234"}, None, world.applicant)
    services.submit_application(application, world.applicant)
    services.assign_assessors(application, [world.assessor.id], world.board)
    assignment = services.assignment_of(application, world.assessor)
    services.declare_interests(assignment, False, "", world.assessor)
    assert services.passported(application) == set()
    services.save_review(assignment, standard.id, {"verdict": "met", "mark_verified": True},
                         world.assessor)
    assert services.passported(application) == {"MG2"}


def test_a_mark_that_does_not_cover_the_standard_is_refused(world):
    application = complete_application(world, slug="kite-mark")
    standard = next(s for s in application.standards if s.code == "FR1")
    cyber = next(m for m in engine.marks_for(next(
        s for s in application.standards if s.code == "MG2")))
    with pytest.raises(DomainError, match="recognised mark"):
        services.save_answer(application, standard.id, {"status": "met", "narrative": "x",
                                                        "mark_id": cyber.id}, None,
                             world.applicant)


def _record(world, org, slug, rank, expires_in=200, status="active"):
    scheme = world.scheme(slug)
    level = scheme.current.level_by_rank(rank)
    record = AccreditationRecord(organisation_id=org.id, scheme=scheme, level=level,
                                 starts_on=date.today() - timedelta(days=30),
                                 expires_on=date.today() + timedelta(days=expires_in),
                                 status=status)
    db.session.add(record)
    db.session.commit()
    return record


def test_current_level_is_none_without_accreditation(world):
    assert services.current_level(world.org) is None
    ok, why = services.meets_tier(world.org, 1)
    assert not ok and "Not accredited" in why


def test_current_level_picks_the_highest_tier(world):
    _record(world, world.org, "sliding-scale", 1)
    _record(world, world.org, "kite-mark", 1)
    level = services.current_level(world.org)
    assert level.tier == 2 and level.version.scheme.slug == "kite-mark"


def test_meets_tier_compares_with_the_recommended_tier(world):
    _record(world, world.org, "sliding-scale", 2)
    assert services.meets_tier(world.org, 2)[0]
    assert services.meets_tier(world.org, 1)[0]
    ok, why = services.meets_tier(world.org, 3)
    assert not ok and "tier 2" in why and "tier 3 is recommended" in why
    assert services.meets_tier(world.org, None) == (True, "No accreditation level is asked for")


@pytest.mark.parametrize("expires_in, status", [(-1, "active"), (100, "suspended"),
                                                (100, "revoked"), (100, "lapsed")])
def test_expired_suspended_or_revoked_accreditation_does_not_count(world, expires_in, status):
    _record(world, world.org, "sliding-scale", 3, expires_in=expires_in, status=status)
    assert services.current_level(world.org) is None
    assert not services.meets_tier(world.org, 1)[0]


def test_current_level_accepts_an_id(world):
    _record(world, world.org, "sliding-scale", 2)
    assert services.current_level(world.org.id).rank == 2


def test_add_months_keeps_the_day_or_uses_the_last():
    assert services.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert services.add_months(date(2026, 3, 15), 36) == date(2029, 3, 15)
    assert services.add_months(date(2026, 3, 15), -3) == date(2025, 12, 15)


def test_no_scheme_means_not_found():
    with pytest.raises(NotFound):
        engine.get_scheme("missing")
