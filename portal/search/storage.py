"""How indexes are stored and written: in memory or on disk, a failed write that lets go of
its lock, and a rebuild that writes a whole index at once (in several processes if asked).

Faster ways of writing that depend on Whoosh's internals live in
portal.search.whoosh_internals; each function here takes Whoosh's public way when they are
not in use.
"""
import atexit
import logging
import multiprocessing
import multiprocessing.connection
import os
import shutil
import tempfile
import traceback

from whoosh import index as whoosh_index
from whoosh.codec import default_codec
from whoosh.filedb.filestore import FileStorage, RamStorage

from portal.search import whoosh_internals as internals

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
    """How postings are written: in large, uncompressed blocks with the `large_blocks`
    speed-up (see portal.search.whoosh_internals), otherwise as Whoosh writes them."""
    return internals.large_block_codec() if internals.active("large_blocks") else default_codec()


def memory_index(schema, indexname):
    return MemoryStorage().create_index(schema, indexname=indexname)


def new_index(directory, schema, indexname):
    """(index, staging directory) for a rebuild: an empty index beside `directory`, to be swapped
    in when complete; in memory (staging None) when there is no directory."""
    if not directory:
        return memory_index(schema, indexname), None
    parent = os.path.dirname(os.path.abspath(directory))
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f"{indexname}-", dir=parent)
    return whoosh_index.create_in(staging, schema, indexname=indexname), staging


def swap_in(staging, directory):
    """Put a complete index in place of the one at `directory`."""
    old = directory + ".old"
    shutil.rmtree(old, ignore_errors=True)
    if os.path.exists(directory):
        os.rename(directory, old)
    os.rename(staging, directory)
    shutil.rmtree(old, ignore_errors=True)


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


def stored_versions_of(ix, doc_ids):
    """{id: stored version} for those of `doc_ids` (strings) the index holds."""
    with ix.searcher() as searcher:
        found = (searcher.document(id=doc_id) for doc_id in doc_ids)
        return {doc["id"]: doc.get("version", "") for doc in found if doc is not None}


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
    internals.discard_scratch(writer)
    writer.is_closed = True


def BulkWriter(ix, **options):
    """A writer for filling the new, empty index `ix` in one go (a rebuild): with the
    `bulk_writer` speed-up one that writes postings a block at a time, otherwise Whoosh's own.
    A function named like a class, as callers make a writer with it."""
    if not ix.is_empty():
        raise ValueError("A bulk writer fills an empty index")
    if internals.active("bulk_writer"):
        return internals.BlockWriter(ix, **options)
    return ix.writer(**options)


def fill_in_processes(ix, shares, documents_for, progress=None):
    """Fill the empty on-disk index `ix` from one forked process per share: each process turns
    its share (a list of keys) into documents with `documents_for(share)` and writes them as a
    segment of its own, unmerged, the documents numbered in share order. Returns the count.

    A rebuild is mostly Python work, so one process per core is nearly that many times faster.
    That takes the `segments_from_processes` speed-up, the processes writing at once and the
    segments committed together at the end. Without it they write one after another, each
    committing its segment with Whoosh's own writer.
    """
    if internals.active("segments_from_processes"):
        return _fill_at_once(ix, shares, documents_for, progress)
    return _fill_in_turn(ix, shares, documents_for, progress)


def _fill_at_once(ix, shares, documents_for, progress):
    folder, name, kind = ix.storage.folder, ix.indexname, codec()
    in_blocks = internals.active("bulk_writer")

    def write(documents):
        target = FileStorage(folder).open_index(name)
        return internals.write_segment(target, documents, kind, in_blocks)

    results = _in_processes(shares, documents_for, write, progress)
    internals.commit_segments(ix, [segment for segment, _count in results], kind)
    return sum(count for _segment, count in results)


def _fill_in_turn(ix, shares, documents_for, progress):
    def write(documents):
        writer = ix.writer(codec=codec())
        try:
            for document in documents:
                writer.add_document(**document)
            writer.commit(merge=False)
        except BaseException:
            abandon(writer)
            raise

    count = 0
    for share in shares:
        count += sum(added for _none, added in _in_processes([share], documents_for, write,
                                                             progress, start=count))
    return count


def _in_processes(shares, documents_for, write, progress, start=0):
    """[(result, count)] of `write(documents)` run on each share's documents in a forked
    process of its own, in share order whichever process finishes first (so that documents are
    numbered in the order of the shares: ties in a ranking go to the lower number). Progress
    counts from `start`. Raises if any process failed."""
    context = multiprocessing.get_context("fork")
    counter = context.Value("q", start)
    connections, processes = [], []
    for share in shares:
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(target=_write_share, daemon=True, args=(
            write, share, documents_for, counter, sender))
        process.start()
        sender.close()
        connections.append(receiver)
        processes.append(process)
    try:
        results = _collect(connections, counter, progress)
    finally:
        for process in processes:
            process.join(timeout=60)
            if process.is_alive():
                process.terminate()
    errors = [result[1] for result in results if result[0] == "error"]
    if errors:
        raise RuntimeError("Indexing failed:\n" + "\n".join(errors))
    return [(result, count) for _kind, result, count in results]


def _collect(connections, counter, progress):
    results, waiting = [None] * len(connections), list(connections)
    while waiting:
        for ready in multiprocessing.connection.wait(waiting, timeout=0.5):
            try:
                results[connections.index(ready)] = ready.recv()
            except EOFError:
                results[connections.index(ready)] = ("error", "an indexing process ended "
                                                              "without a result")
            waiting.remove(ready)
        if progress:
            progress(counter.value)
    return results


def _write_share(write, share, documents_for, counter, connection):
    """In a forked process: write one share's documents and send back what `write` returns."""
    try:
        counted = _Counted(documents_for(share), counter)
        result = write(counted)
        counted.report()
        connection.send(("ok", result, counted.count))
    except BaseException:
        connection.send(("error", traceback.format_exc()))
    finally:
        connection.close()


class _Counted:
    """Documents passed through, counted, and the count added to a counter shared between
    processes every hundred."""

    STEP = 100

    def __init__(self, documents, counter):
        self.documents, self.counter = documents, counter
        self.count = self.reported = 0

    def __iter__(self):
        for document in self.documents:
            yield document
            self.count += 1
            if self.count - self.reported >= self.STEP:
                self.report()

    def report(self):
        with self.counter.get_lock():
            self.counter.value += self.count - self.reported
        self.reported = self.count
