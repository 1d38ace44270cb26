"""A rebuild writes the index Whoosh itself would write, in one process or several."""
import os
import random
from datetime import datetime

import pytest

from portal.search import services
from portal.matching.indexing import ORGANISATION_SCHEMA
from portal.search.index import SearchIndex
from portal.pipeline.indexing import OPPORTUNITY_SCHEMA
from portal.search.storage import BulkWriter, codec, memory_index

WORDS = ["befriend", "older", "peopl", "youth", "footbal", "carer", "advic", "debt", "hous",
         "mental", "health", "recoveri", "art", "garden", "food", "bank", "transport", "rural"]


def _organisation_documents(count, seed=7):
    rng = random.Random(seed)
    for number in range(count):
        words = [rng.choice(WORDS) for _ in range(rng.randint(0, 30))]
        # One word in every document, so its postings fill more than one block.
        yield {
            "id": str(number), "name": " ".join(words[:3]), "services": " ".join(words[3:20]),
            "track": " ".join(words[20:]), "text": " ".join(words + ["commun"]),
            "org_type": rng.choice(["vcse", "prime"]),
            "areas": " ".join(rng.sample(["E09000030", "E12000007", "E92000001"], 2)),
            "served": "E09000030", "cpv": "85 853 8531", "funders": "",
            "tier": rng.randint(0, 3), "income_band": rng.choice(["", "small", "large"]),
            "status": "active", "features": {"n": number}, "version": f"v{number}",
        }


def _opportunity_documents(count, seed=11):
    rng = random.Random(seed)
    for number in range(count):
        yield {
            "id": str(number), "title": f"Support for {rng.choice(WORDS)}",
            "text": " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 40))),
            "buyer": "3", "status": rng.choice(["open", "planned"]), "cpv": "85 853",
            "areas": "E09000030 E12000007", "value": rng.randint(0, 10**6),
            "published": datetime(2026, 1, 1 + number % 28), "version": f"v{number}",
        }


def _build(schema, documents, bulk):
    ix = memory_index(schema, "compare")
    writer = (BulkWriter(ix, codec=codec()) if bulk else ix.writer(codec=codec()))
    for document in documents:
        writer.add_document(**document)
    writer.commit()
    return ix


def _contents(ix, schema):
    reader = ix.reader()
    found = {}
    for field, text in reader.all_terms():
        info = reader.term_info(field, text)
        stats = (info.weight(), info.doc_frequency(), info.min_length(), info.max_length(),
                 info.max_weight(), info.min_id(), info.max_id())
        postings = None
        if not field.startswith("spell_"):  # spelling words keep no usable postings
            matcher = reader.postings(field, text)
            postings = list(matcher.items_as("weight"))
        found[(field, text)] = (stats, postings)
    documents = [(reader.stored_fields(d), [reader.doc_field_length(d, f)
                                            for f in schema.scorable_names()])
                 for d in range(reader.doc_count_all())]
    return found, documents


@pytest.mark.parametrize("schema, make", [(ORGANISATION_SCHEMA, _organisation_documents),
                                          (OPPORTUNITY_SCHEMA, _opportunity_documents)])
def test_bulk_writer_writes_what_whoosh_writes(schema, make):
    documents = list(make(1500))
    whoosh_made = _contents(_build(schema, documents, bulk=False), schema)
    bulk_made = _contents(_build(schema, documents, bulk=True), schema)
    assert bulk_made[0].keys() == whoosh_made[0].keys()
    assert bulk_made == whoosh_made


def test_bulk_writer_only_fills_an_empty_index():
    ix = _build(ORGANISATION_SCHEMA, _organisation_documents(3), bulk=False)
    with pytest.raises(ValueError):
        BulkWriter(ix)


@pytest.fixture
def disk_index(app, tmp_path):
    original = app.extensions["search_index"]
    app.extensions["search_index"] = SearchIndex(str(tmp_path / "search"))
    saved = {k: app.config[k] for k in ("SEARCH_REBUILD_PROCESSES", "SEARCH_PARALLEL_FROM")}
    app.config.update(SEARCH_REBUILD_PROCESSES=2, SEARCH_PARALLEL_FROM=0)
    try:
        yield app.extensions["search_index"]
    finally:
        app.extensions["search_index"] = original
        app.config.update(saved)


def test_rebuild_in_processes_matches_the_database(app, db, make_org, disk_index):
    orgs = [make_org(name=f"Riverside Befriending Group {n}",
                     description="Befriending for older people in Tower Hamlets")
            for n in range(9)]
    progress = []
    assert services.rebuild(progress=progress.append) == 9
    assert progress and progress[-1] >= 9
    ix = disk_index.open()
    assert sorted(s.doc_count_all() for s in ix._segments()) == [4, 5]
    assert services.check() == {"missing": [], "stale": [], "extra": []}
    assert sorted(services.search_organisation_ids("befriending")) == sorted(o.id for o in orgs)
    # Later edits go on being indexed as usual.
    orgs[0].description = "Allotments and community gardening"
    db.session.commit()
    assert services.search_organisation_ids("allotments") == [orgs[0].id]
    assert services.check() == {"missing": [], "stale": [], "extra": []}


def test_a_failed_rebuild_in_processes_keeps_the_index_it_had(app, db, make_org, disk_index,
                                                            monkeypatch):
    org = make_org(name="Kept Through Failure")
    services.rebuild()

    def broken(ids):
        raise RuntimeError("the database went away")
        yield  # a generator, as the real one is

    monkeypatch.setattr(services, "_documents_for", broken)
    with pytest.raises(RuntimeError, match="database went away"):
        services.rebuild()
    assert services.search_organisation_ids("kept") == [org.id]
    leftovers = [name for name in os.listdir(os.path.dirname(disk_index.directory))
                 if name.startswith("organisations-")]
    assert leftovers == []


def test_documents_are_numbered_in_id_order_whichever_process_finishes_first(
        app, db, make_org, disk_index, monkeypatch):
    import time

    ids = sorted(make_org(name=f"Numbered Group {n}").id for n in range(6))
    real = services._documents_for

    def first_share_slow(share):
        # Only plain values here: the forked process has no database connection of its own
        # until the real function has made one.
        if ids[0] in share:
            time.sleep(1.0)
        yield from real(share)

    monkeypatch.setattr(services, "_documents_for", first_share_slow)
    services.rebuild()
    searcher = disk_index.searcher()
    numbered = [int(searcher.stored_fields(d)["id"]) for d in range(searcher.doc_count_all())]
    assert numbered == ids
