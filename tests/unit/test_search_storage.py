"""A failed index write never keeps the write lock, in-memory indexes keep their scratch files
to themselves, and segment files read in place read as Whoosh's copies did."""
import os
import tempfile

import pytest
from whoosh import fields
from whoosh.filedb.filestore import FileStorage

from portal.search.index import SearchIndex
from portal.search.storage import MemoryStorage, abandon, memory_index

SCHEMA = fields.Schema(id=fields.ID(stored=True, unique=True), text=fields.TEXT())


def _document(number):
    return {"id": str(number), "text": f"document number {number}"}


def test_a_commit_that_fails_half_way_frees_the_lock(tmp_path, monkeypatch):
    ix = FileStorage(str(tmp_path)).create().create_index(SCHEMA, indexname="things")
    writer = ix.writer()
    writer.add_document(**_document(1))

    def broken_toc(segments):
        raise OSError("disk full")

    monkeypatch.setattr(writer, "_commit_toc", broken_toc)
    with pytest.raises(OSError):
        writer.commit()
    abandon(writer)
    # The next writer gets the lock at once rather than waiting for it.
    second = ix.writer(timeout=0.5)
    second.add_document(**_document(2))
    second.commit()
    assert ix.doc_count() == 1


def test_the_lock_is_freed_even_when_cancelling_fails_too(tmp_path, monkeypatch):
    ix = FileStorage(str(tmp_path)).create().create_index(SCHEMA, indexname="things")
    writer = ix.writer()
    writer.add_document(**_document(1))
    monkeypatch.setattr(writer, "_close_segment",
                        lambda: (_ for _ in ()).throw(ValueError("segment already closed")))
    abandon(writer)
    assert writer.is_closed
    second = ix.writer(timeout=0.5)
    second.add_document(**_document(2))
    second.commit()
    assert ix.doc_count() == 1


def test_the_index_lets_go_of_the_lock_when_a_write_fails(tmp_path, monkeypatch):
    index = SearchIndex(str(tmp_path / "search"))
    from whoosh.writing import SegmentWriter

    original = SegmentWriter._commit_toc
    monkeypatch.setattr(SegmentWriter, "_commit_toc",
                        lambda self, segments: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError):
        index.write([{"id": "1", "name": "riversid", "text": "befriend", "status": "active",
                      "features": {}, "version": "a"}], [])
    monkeypatch.setattr(SegmentWriter, "_commit_toc", original)
    index.write([{"id": "2", "name": "hillsid", "text": "advic", "status": "active",
                  "features": {}, "version": "b"}], [])
    assert set(index.stored_versions()) == {"2"}


def test_in_memory_indexes_sort_in_a_scratch_directory_of_their_own():
    shared = os.path.join(tempfile.gettempdir(), "things.tmp")
    first, second = MemoryStorage(), MemoryStorage()
    a, b = first.temp_storage("things.tmp"), second.temp_storage("things.tmp")
    try:
        assert a.folder != b.folder
        assert not a.folder.startswith(shared) and not b.folder.startswith(shared)
    finally:
        a.destroy()
        b.destroy()
    ix = memory_index(SCHEMA, "things")
    with ix.writer() as writer:
        for number in range(50):
            writer.add_document(**_document(number))
    assert ix.doc_count() == 50


def test_a_searcher_kept_between_writes_never_shows_a_replaced_document(tmp_path):
    index = SearchIndex(str(tmp_path / "search"))

    def document(text):  # documents hold analysed terms
        return {"id": "1", "name": "riversid", "text": text, "status": "active",
                "features": {"text": text}, "version": text}

    index.write([document("befriend")], [])
    assert index.search_ids("befriending") == [1]
    for text in ("advic", "allot", "carer"):
        index.write([document(text)], [])
        searcher = index.searcher()
        assert [fields["features"]["text"] for fields in searcher.all_stored_fields()] == [text]
        assert searcher.doc_count() == 1
    assert index.search_ids("carers") == [1] and index.search_ids("advice") == []


def test_a_file_read_in_place_reads_as_a_copy_would():
    import io
    import pickle

    from portal.search.whoosh_internals import _ViewFile

    data = b"first line\nsecond\n" + pickle.dumps({"a": [1, 2, 3]}) + b"tail"
    for steps in ([("readline",), ("read", 3), ("tell",), ("seek", 0), ("read", -1)],
                  [("seek", 18), ("load",), ("read", 100), ("read", 1), ("seek", -4, 2),
                   ("read",)]):
        mine, copy = _ViewFile(memoryview(data)), io.BytesIO(data)
        for name, *args in steps:
            if name == "load":
                assert pickle.load(mine) == pickle.load(copy)
            else:
                assert getattr(mine, name)(*args) == getattr(copy, name)(*args), (name, args)
    assert list(_ViewFile(memoryview(b"a\nb\nc"))) == [b"a\n", b"b\n", b"c"]
