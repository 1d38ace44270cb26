"""The batch lookup the search index uses when it is rebuilt gives each organisation the same
level as the lookup for one organisation, and the index agrees."""
from portal.accreditation import services
from portal.extensions import db
from portal.search import services as search
from portal.search.index import get_index
from tests.functional.test_accreditation_register import _accredit
from tests.functional.test_accreditation_support import (  # noqa: F401  (fixtures)
    evidence_dir, world,
)


def test_batch_levels_agree_with_one_at_a_time(app, world, make_org):
    lapsed = make_org("Expired Things")
    suspended = make_org("Suspended Things")
    twice = make_org("Twice Accredited")
    plain = make_org("Not Accredited")
    _accredit(world, world.org, "sliding-scale", 2)
    _accredit(world, world.other_org, "kite-mark", 1)
    _accredit(world, lapsed, "sliding-scale", 3, days=-1)
    _accredit(world, suspended, "sliding-scale", 3, status="suspended")
    _accredit(world, twice, "sliding-scale", 1)
    _accredit(world, twice, "sliding-scale", 3, days=30)
    orgs = [world.org, world.other_org, lapsed, suspended, twice, plain]
    batch = services.current_levels([org.id for org in orgs], chunk=2)
    for org in orgs:
        single = services.current_level(org)
        assert (batch.get(org.id).tier if org.id in batch else None) == \
            (single.tier if single else None), org.name
    assert batch[twice.id].tier == 3 and lapsed.id not in batch and plain.id not in batch

    search.rebuild()
    searcher = get_index(app).searcher()
    for org in orgs:
        stored = searcher.stored_fields(searcher.document_number(id=str(org.id)))
        single = services.current_level(db.session.get(type(org), org.id))
        assert stored["features"]["tier"] == (single.tier if single else None), org.name
