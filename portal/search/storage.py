"""Where indexes live when they are not on disk, and how a failed write lets go of its lock."""
import atexit
import logging
import os
import shutil
import tempfile

from whoosh.codec.whoosh3 import W3Codec, W3PerDocReader
from whoosh.filedb.filestore import FileStorage, RamStorage

log = logging.getLogger(__name__)
_TEMP_DIR = None


def _process_temp_dir():
    """One scratch directory per process, removed at exit.

    Whoosh's in-memory storage otherwise sorts postings in a file named after the index in the
    shared temporary directory, so two processes indexing at once write over each other.
    """
    global _TEMP_DIR
    if _TEMP_DIR is None or not os.path.isdir(_TEMP_DIR):
        _TEMP_DIR = tempfile.mkdtemp(prefix="pathfinder-index-")
        atexit.register(shutil.rmtree, _TEMP_DIR, True)
    return _TEMP_DIR


class MemoryStorage(RamStorage):
    """An index held in memory (tests, benchmarks) whose scratch files are its own."""

    def temp_storage(self, name=None):
        folder = tempfile.mkdtemp(prefix=(name or "scratch") + "-", dir=_process_temp_dir())
        return FileStorage(folder).create()


def codec():
    """How postings are written: blocks of up to 1,024 postings, not compressed. Reading a whole
    posting list (see portal.search.scoring) costs a fraction of what Whoosh's default of 128,
    zlib-compressed, costs, for an index about twice the size."""
    return W3Codec(blocklimit=1024, compression=0)


def _remember_missing_columns():
    """Whoosh looks for a field's length column on disk again for every posting of a field that
    has none (keyword fields), which was a fifth of the time to write an index. Remember that
    it is not there."""
    if getattr(W3PerDocReader, "_missing_remembered", False):
        return
    original = W3PerDocReader._cached_reader

    def cached_reader(self, fieldname, column):
        missing = self.__dict__.setdefault("_missing_columns", set())
        if fieldname in missing:
            return None
        reader = original(self, fieldname, column)
        if reader is None:
            missing.add(fieldname)
        return reader

    W3PerDocReader._cached_reader = cached_reader
    W3PerDocReader._missing_remembered = True


_remember_missing_columns()


def memory_index(schema, indexname):
    return MemoryStorage().create_index(schema, indexname=indexname)


def same_schema(found, wanted):
    """Whether an index on disk was built with the schema the code now wants: the same fields,
    types, analysers and options. (Whoosh compares column types and some cached parts by identity,
    so a schema read back from disk never equals one built in code.)"""
    if set(found.names()) != set(wanted.names()):
        return False
    for name in wanted.names():
        a, b = found[name], wanted[name]
        if type(a) is not type(b) or _options(a) != _options(b):
            return False
    return True


def _options(field):
    # Private attributes are caches (e.g. a compiled struct), rebuilt from the public ones.
    options = {k: v for k, v in vars(field).items() if not k.startswith("_")}
    column = options.pop("column_type", None)
    return options, type(column)


def fresh_searcher(ix, previous=None, **options):
    """A new searcher on the index as it is now; `previous` is closed.

    Whoosh's `Searcher.refresh()` reuses the readers of segments it already had open, with the
    deletions they had then, and keeps segments a merge has since removed: a document replaced
    since would show twice. Opening afresh costs a few file opens.
    """
    searcher = ix.searcher(**options)
    if previous is not None:
        try:
            previous.close()
        except Exception:
            pass
    return searcher


def write_documents(ix, upserts, deletes, **options):
    """Replace `upserts` (by their unique `id`) and delete `deletes` in one commit; on failure
    the writer is abandoned, its lock freed, and the error raised."""
    writer = ix.writer(timeout=30, delay=0.01, **options)
    try:
        for doc_id in deletes:
            writer.delete_by_term("id", str(doc_id))
        for document in upserts:
            writer.update_document(**document)
        writer.commit()
    except Exception:
        abandon(writer)
        raise


def abandon(writer):
    """Undo a writer whose commit failed, and free the index's write lock whatever happens.

    `cancel()` can itself fail after a half-finished commit (the segment is already closed),
    which would leave the lock held and every later write waiting for it.
    """
    try:
        writer.cancel()
        return
    except Exception:
        log.warning("Search index writer could not be cancelled cleanly; releasing its lock",
                    exc_info=True)
    lock = getattr(writer, "writelock", None)
    try:
        if lock is not None:
            lock.release()
    except Exception:
        log.exception("Search index write lock could not be released")
    temp = getattr(writer, "_tempstorage", None)
    try:
        if temp is not None:
            temp.destroy()
    except Exception:
        pass
    writer.is_closed = True
