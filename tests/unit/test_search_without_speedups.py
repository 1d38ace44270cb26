"""Search without the Whoosh speed-ups: on another Whoosh version, or when the configuration
says so, nothing is patched, every path is Whoosh's public one, and results are the same.

The key search tests of other modules are collected here a second time (the imports below) and
run with every speed-up off. The whole search suite runs that way with
`SEARCH_WHOOSH_SPEEDUPS=none`.
"""
import logging
import random
from types import SimpleNamespace

import numpy as np
import pytest
import whoosh
from whoosh import fields
from whoosh.filedb.structfile import BufferFile
from whoosh.query import Or, Term
from whoosh.scoring import BM25F
from whoosh.writing import SegmentWriter

from portal.search import storage, whoosh_internals
from portal.search.scoring import Postings, WhooshBM25, top
from tests.functional.test_matching_ranking import (  # noqa: F401  (tests and their fixtures)
    suppliers, test_candidate_keys_rank_exactly_those_in_given_order_on_ties,
    test_filters_area_type_and_tier, test_local_befriending_supplier_ranks_first_with_reasons,
)
from tests.unit.test_matching_recommend import (  # noqa: F401
    test_a_profiles_word_scores_are_what_a_one_word_match_gives,
)
from tests.unit.test_search_rebuild import (  # noqa: F401
    disk_index, test_a_failed_rebuild_in_processes_keeps_the_index_it_had,
    test_bulk_writer_only_fills_an_empty_index,
    test_documents_are_numbered_in_id_order_whichever_process_finishes_first,
    test_rebuild_in_processes_matches_the_database,
)
from tests.unit.test_search_scoring import (  # noqa: F401
    ix, test_an_empty_index_scores_nothing, test_deleted_and_replaced_documents_are_never_allowed,
    test_masks_are_the_documents_whoosh_finds, test_one_document_scored_from_its_own_counts,
    test_scores_and_order_are_whoosh_own, test_scores_inside_a_candidate_set,
)
from tests.unit.test_search_storage import (  # noqa: F401
    test_a_searcher_kept_between_writes_never_shows_a_replaced_document,
    test_the_index_lets_go_of_the_lock_when_a_write_fails,
)
from tests.unit.test_search_sync import (  # noqa: F401
    test_delete_removes_document, test_insert_is_indexed_after_commit,
    test_keyword_search_survives_stray_syntax, test_update_reindexes,
)

STOCK_INIT = BufferFile.__dict__["__init__"]
SCHEMA = fields.Schema(id=fields.ID(stored=True, unique=True), text=fields.TEXT(),
                       areas=fields.KEYWORD())
WORDS = "befriend older carer advice debt youth music garden food housing walk".split()


@pytest.fixture(autouse=True)
def without_speedups():
    """Every test here runs with no speed-up; the ones in use before are restored after."""
    before = whoosh_internals.in_use()
    whoosh_internals.use_speedups("none")
    yield
    whoosh_internals.use_speedups(before)


def _app(setting):
    return SimpleNamespace(config={"SEARCH_WHOOSH_SPEEDUPS": setting})


def test_another_whoosh_version_gets_stock_whoosh_and_says_so(monkeypatch, caplog):
    monkeypatch.setattr(whoosh, "__version__", (2, 7, 6))
    with caplog.at_level(logging.INFO, logger=whoosh_internals.__name__):
        whoosh_internals.install(_app("all"))
    assert whoosh_internals.in_use() == frozenset()
    assert BufferFile.__dict__["__init__"] is STOCK_INIT
    lines = [r for r in caplog.records if r.name == whoosh_internals.__name__]
    assert len(lines) == 1 and lines[0].levelno == logging.WARNING
    assert "2.7.6" in lines[0].getMessage() and "stock Whoosh" in lines[0].getMessage()


@pytest.mark.parametrize("setting", [False, "none", "off", "0"])
def test_the_configuration_can_switch_them_off(setting, caplog):
    whoosh_internals.install(_app("all"))
    with caplog.at_level(logging.INFO, logger=whoosh_internals.__name__):
        whoosh_internals.install(_app(setting))
    assert whoosh_internals.in_use() == frozenset()
    assert BufferFile.__dict__["__init__"] is STOCK_INIT
    assert ["stock Whoosh" in r.getMessage() for r in caplog.records
            if r.name == whoosh_internals.__name__] == [True]


def test_the_configuration_can_name_some_and_patches_follow():
    whoosh_internals.install(_app(True))
    assert whoosh_internals.in_use() == frozenset(whoosh_internals.SPEEDUPS)
    assert BufferFile.__dict__["__init__"] is not STOCK_INIT
    whoosh_internals.install(_app("array_scoring, bulk_writer"))
    assert whoosh_internals.in_use() == {"array_scoring", "bulk_writer"}
    assert BufferFile.__dict__["__init__"] is STOCK_INIT
    with pytest.raises(ValueError, match="array_scorin"):
        whoosh_internals.install(_app("array_scorin"))


def test_stock_paths_are_whoosh_own():
    ix = storage.memory_index(SCHEMA, "things")
    writer = storage.BulkWriter(ix, codec=storage.codec())
    assert type(writer) is SegmentWriter
    writer.cancel()
    with ix.searcher() as searcher:
        assert isinstance(Postings(searcher)._bm25, WhooshBM25)


def _index():
    rng = random.Random(3)
    ix = storage.memory_index(SCHEMA, "things")
    for batch in range(2):
        with ix.writer() as writer:
            for number in range(batch * 150, batch * 150 + 150):
                writer.add_document(id=str(number), areas=rng.choice(["E1", "E2 E1"]),
                                    text=" ".join(rng.choices(WORDS, k=rng.randint(1, 40))))
    with ix.writer() as writer:
        writer.delete_by_term("id", "7")
    return ix


def _ranking(ix, clauses):
    with ix.searcher() as searcher:
        postings = Postings(searcher)
        scores, _hits = postings.total(clauses)
        ranked = top(scores, postings.mask(Term("areas", "E1")), 40)
        one = postings.score_of("text", "garden", int(ranked[0]), 3)
        return ranked.tolist(), scores[ranked], one


def test_with_and_without_speedups_the_ranking_is_the_same():
    ix = _index()
    clauses = [("text", word, 1 + i / 10) for i, word in enumerate(WORDS)]
    stock = _ranking(ix, clauses)
    whoosh_internals.use_speedups("all")
    fast = _ranking(ix, clauses)
    assert fast[0] == stock[0]
    assert np.allclose(fast[1], stock[1]) and fast[2] == pytest.approx(stock[2])
    with ix.searcher(weighting=BM25F()) as searcher:
        query = Or([Term("text", word, boost=boost) for _field, word, boost in clauses])
        expected = searcher.search(query, filter=Term("areas", "E1"), limit=40)
        assert [hit.docnum for hit in expected] == stock[0]
