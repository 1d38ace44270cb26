"""Array scoring gives Whoosh's own BM25F scores and order, over several segments and with
deleted documents."""
import random

import numpy as np
import pytest
from whoosh import fields
from whoosh.query import And, Not, NumericRange, Or, Term
from whoosh.scoring import BM25F

from portal.search.scoring import Postings, top
from portal.search.storage import memory_index

WORDS = ("befriend older people carer advice debt youth music art garden food bank "
         "refuge housing mental health walk sport dementia lonely isolate").split()
SCHEMA = fields.Schema(id=fields.ID(stored=True, unique=True), name=fields.TEXT(),
                       text=fields.TEXT(), areas=fields.KEYWORD(), status=fields.ID(),
                       number=fields.NUMERIC())
WEIGHTING = BM25F(B=0.75, K1=1.2)


@pytest.fixture()
def ix():
    rng = random.Random(7)
    index = memory_index(SCHEMA, "things")
    for batch in range(3):  # three commits: three segments
        with index.writer() as writer:
            for number in range(batch * 80, batch * 80 + 80):
                writer.add_document(
                    id=str(number), name=" ".join(rng.sample(WORDS, rng.randint(1, 3))),
                    text=" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 60))),
                    areas=rng.choice(["E1 E9", "E2", "E3 E9"]),
                    status="active" if number % 7 else "closed", number=number)
    with index.writer() as writer:  # replaced and deleted documents
        writer.update_document(id="5", name="garden", text="garden garden food", areas="E2",
                               status="active")
        writer.delete_by_term("id", "10")
    return index


CLAUSES = [("text", "garden", 1.5), ("text", "food", 1.0), ("name", "garden", 2.0),
           ("text", "dementia", 0.7), ("areas", "E9", 1.0), ("text", "nowhere", 3.0)]


def test_scores_and_order_are_whoosh_own(ix):
    with ix.searcher(weighting=WEIGHTING) as searcher:
        postings = Postings(searcher)
        allowed = postings.mask(Term("status", "active"))
        query = Or([Term(f, t, boost=b) for f, t, b in CLAUSES])
        expected = searcher.search(query, filter=Term("status", "active"), limit=25)
        scores, _hits = postings.total(CLAUSES)
        ranked = top(scores, allowed, 25)
        assert [hit.docnum for hit in expected] == ranked.tolist()
        assert np.allclose([hit.score for hit in expected], scores[ranked])


def test_scores_inside_a_candidate_set(ix):
    with ix.searcher(weighting=WEIGHTING) as searcher:
        postings = Postings(searcher)
        chosen_docs = sorted(postings.mask(None).nonzero()[0].tolist())[::3]
        chosen = np.zeros(postings.size, dtype=bool)
        chosen[chosen_docs] = True
        query = Or([Term(f, t, boost=b) for f, t, b in CLAUSES])
        expected = {hit.docnum: hit.score for hit in
                    searcher.search(query, filter=set(chosen_docs), limit=None)}
        scores, hits = postings.total(CLAUSES, only=chosen)
        assert set(np.flatnonzero(scores).tolist()) == set(expected)
        for docnum, score in expected.items():
            assert scores[docnum] == pytest.approx(score)
        assert all(chosen[found].all() for found in hits)


def test_deleted_and_replaced_documents_are_never_allowed(ix):
    with ix.searcher(weighting=WEIGHTING) as searcher:
        postings = Postings(searcher)
        live = postings.mask(None)
        ids = {searcher.stored_fields(int(d))["id"] for d in np.flatnonzero(live)}
        assert "10" not in ids and len(ids) == searcher.doc_count()
        assert live.sum() == searcher.doc_count()


def test_an_empty_index_scores_nothing():
    index = memory_index(SCHEMA, "empty")
    with index.searcher(weighting=WEIGHTING) as searcher:
        postings = Postings(searcher)
        scores, _hits = postings.total(CLAUSES)
        assert top(scores, postings.mask(None), 10).tolist() == []


@pytest.mark.parametrize("query", [
    None,
    Term("status", "active"),
    Term("areas", "E9"),
    And([Term("status", "active"), Or([Term("areas", "E1"), Term("areas", "E3")])]),
    Or([Term("name", "garden"), Term("name", "nowhere")]),
    And([Term("status", "active"), NumericRange("number", 10, 100)]),
    Not(Term("areas", "E2")),
])
def test_masks_are_the_documents_whoosh_finds(ix, query):
    with ix.searcher(weighting=WEIGHTING) as searcher:
        postings = Postings(searcher)
        expected = set(searcher.reader().all_doc_ids()) if query is None else \
            set(searcher.docs_for_query(query))
        assert set(np.flatnonzero(postings.mask(query)).tolist()) == expected


def test_one_document_scored_from_its_own_counts(ix):
    with ix.searcher(weighting=WEIGHTING) as searcher:
        postings = Postings(searcher)
        docnum = searcher.document_number(id="5")  # "garden garden food" in text
        for field, word, count in (("text", "garden", 2), ("text", "food", 1),
                                   ("name", "garden", 1)):
            docnums, scores = postings.scores(field, word)
            assert postings.score_of(field, word, docnum, count) == \
                scores[docnums.tolist().index(docnum)]
