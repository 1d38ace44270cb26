"""How indexes are stored and written: in memory or on disk, a failed write that lets go of
its lock, and a rebuild that writes a whole index at once (in several processes if asked)."""
import atexit
import logging
import multiprocessing
import multiprocessing.connection
import os
import re
import shutil
import tempfile
import traceback
from array import array
from collections import Counter

import numpy as np
from whoosh import formats
from whoosh import index as whoosh_index
from whoosh.analysis import RegexTokenizer
from whoosh.codec.whoosh3 import W3Codec, W3PerDocReader
from whoosh.filedb.filestore import FileStorage, RamStorage
from whoosh.system import pack_uint
from whoosh.writing import SegmentWriter

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


class _TermPool:
    """Postings grouped by term as they arrive. A bulk writer adds documents in docnum order, so
    each term's postings are already sorted: no sorting of every posting, no spilling to disk.
    Only the bulk writer reads it (see `BulkWriter._write_postings`)."""

    def __init__(self):
        self.terms = {}

    def add(self, item):
        fieldname, btext, docnum, weight, vbytes = item
        entry = self.terms.get((fieldname, btext))
        if entry is None:
            entry = self.terms[(fieldname, btext)] = (array("I"), array("f"), [])
        entry[0].append(docnum)
        entry[1].append(weight)
        if vbytes:
            entry[2].append(vbytes)

    def cleanup(self):
        self.terms = {}


class BulkWriter(SegmentWriter):
    """A writer for filling a new, empty index in one go (a rebuild).

    It writes the same segment files as Whoosh's own writer, block by block, instead of posting
    by posting: each term's postings are cut into blocks of the codec's size, and a block's
    length statistics are read from an array of the field's lengths. Whoosh's writer sorts every
    posting (spilling to temporary files past its memory limit) and looks up the document's
    field length on disk for each one, which was most of the time a rebuild took.
    """

    def __init__(self, ix, **kwargs):
        super().__init__(ix, **kwargs)
        if self.segments:
            raise ValueError("A bulk writer fills an empty index")
        self.pool = _TermPool()
        self._plain = {name: _splits_on_spaces(field) for name, field in self.schema.items()}

    def add_document(self, **fields):
        """Add a document as Whoosh's writer would; fields given as space-separated words
        (pre-analysed text, keywords) are counted directly rather than token by token."""
        if any(name.startswith("_") for name in fields) or any(
                self.schema[name].vector or self.schema[name].separate_spelling()
                for name in fields):
            # Boosts, vectors and spelling words: Whoosh's own way.
            return super().add_document(**fields)
        self._check_state()
        self._check_fields(self.schema, fields)
        add = self.pool.add
        docnum = self.docnum
        perdoc = self.perdocwriter
        perdoc.start_doc(docnum)
        for name in sorted(fields):
            value = fields[name]
            if value is None:
                continue
            field = self.schema[name]
            length = 0
            if field.indexed:
                plain = self._plain[name]
                postings = _count_words(value, plain) if plain else field.index(value)
                for btext, freq, weight, vbytes in postings:
                    if field.scorable:
                        length += freq
                    add((name, btext, docnum, weight, vbytes))
            perdoc.add_field(name, field, value if field.stored else None, length)
            if field.column_type:
                perdoc.add_column_value(name, field.column_type, field.to_column_value(value))
        perdoc.finish_doc()
        self._added = True
        self.docnum += 1

    def _flush_segment(self):
        self.perdocwriter.close()
        lengths_reader = self.per_document_reader()
        try:
            self._write_postings(lengths_reader)
        finally:
            lengths_reader.close()
        self.fieldwriter.close()

    def _field_lengths(self, reader, fieldname):
        """The field's length for every document (as Whoosh stores it, rounded to a byte), or
        None for a field without lengths."""
        if not self.schema[fieldname].scorable:
            return None
        count = self.docnum
        return np.array([reader.doc_field_length(d, fieldname) or 0 for d in range(count)],
                        dtype=np.int64)

    def _write_postings(self, reader):
        fieldwriter = self.fieldwriter
        by_field = {}
        for key in self.pool.terms:
            by_field.setdefault(key[0], []).append(key[1])
        for fieldname in sorted(by_field):
            fieldobj = self.schema[fieldname]
            lengths = self._field_lengths(reader, fieldname)
            fieldwriter.start_field(fieldname, fieldobj)
            postwriter = fieldwriter._postwriter
            limit = postwriter._blocklimit
            for btext in sorted(by_field[fieldname]):
                docs, weights, values = self.pool.terms[(fieldname, btext)]
                fieldwriter.start_term(btext)
                for start in range(0, len(docs), limit):
                    if start:
                        postwriter._write_block()
                    end = start + limit
                    _fill_block(postwriter, docs[start:end], weights[start:end],
                                values[start:end], lengths)
                fieldwriter.finish_term()
            fieldwriter.finish_field()


_SPACE_SEPARATED = r"[^ \t\r\n]+"


def _splits_on_spaces(field):
    """For a field analysed by splitting on spaces alone (pre-analysed text, keywords): the
    posting format's kind and its boost; otherwise None."""
    analyzer = getattr(field, "analyzer", None)
    if not (isinstance(analyzer, RegexTokenizer) and not analyzer.gaps
            and analyzer.expression.pattern == _SPACE_SEPARATED):
        return None
    if type(field.format) is formats.Frequency:
        return "frequency", field.format.field_boost
    if type(field.format) is formats.Existence:
        return "existence", field.format.field_boost
    return None


_FREQUENCIES = {}


def _count_words(value, plain):
    """(bytes, frequency, weight, value bytes) for each distinct word, as the field's format
    gives them."""
    kind, boost = plain
    counts = Counter(re.findall(_SPACE_SEPARATED, value))
    if kind == "existence":
        return [(word.encode(), 1, boost, b"") for word in counts]
    packed = _FREQUENCIES
    postings = []
    for word, freq in counts.items():
        vbytes = packed.get(freq)
        if vbytes is None:
            vbytes = packed[freq] = pack_uint(freq)
        postings.append((word.encode(), freq, float(freq) * boost, vbytes))
    return postings


def _fill_block(postwriter, docs, weights, values, lengths):
    """Put one block's postings into Whoosh's postings writer, with the statistics its own
    `add_posting` would have gathered."""
    postwriter._ids = docs
    postwriter._weights = weights
    postwriter._values = values
    postwriter._maxweight = max(0, max(weights))
    postwriter._minlength, postwriter._maxlength = None, 0
    if lengths is not None:
        found = lengths[np.frombuffer(docs, dtype=np.uint32)]
        found = found[found > 0]
        if found.size:
            postwriter._minlength, postwriter._maxlength = int(found.min()), int(found.max())


def fill_in_processes(ix, shares, documents_for, progress=None):
    """Fill the empty on-disk index `ix` from one forked process per share: each process turns
    its share (a list of keys) into documents with `documents_for(share)` and writes them as a
    segment of its own. The segments are then committed together, unmerged. Returns the count.

    A rebuild is mostly Python work, so one process per core is nearly that many times faster.
    """
    context = multiprocessing.get_context("fork")
    counter = context.Value("q", 0)
    connections, processes = [], []
    for share in shares:
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(target=_fill_share, daemon=True, args=(
            ix.storage.folder, ix.indexname, share, documents_for, counter, sender))
        process.start()
        sender.close()
        connections.append(receiver)
        processes.append(process)
    # Results are kept in share order, whichever process finishes first: the segments then
    # number documents in the order of the shares (ties in a ranking go to the lower number).
    results, waiting = [None] * len(connections), list(connections)
    try:
        while waiting:
            for ready in multiprocessing.connection.wait(waiting, timeout=0.5):
                position = connections.index(ready)
                try:
                    results[position] = ready.recv()
                except EOFError:
                    results[position] = ("error", "an indexing process ended without a result")
                waiting.remove(ready)
            if progress:
                progress(counter.value)
    finally:
        for process in processes:
            process.join(timeout=60)
            if process.is_alive():
                process.terminate()
    errors = [result[1] for result in results if result[0] == "error"]
    if errors:
        raise RuntimeError("Indexing failed:\n" + "\n".join(errors))
    writer = SegmentWriter(ix, codec=codec())
    try:
        writer._close_segment()
        writer._commit_toc([segment for _kind, segment, _count in results])
    finally:
        writer._finish()
    return sum(count for _kind, _segment, count in results)


def _fill_share(folder, indexname, share, documents_for, counter, connection):
    """In a forked process: write one share's documents as a segment and send it back."""
    try:
        ix = FileStorage(folder).open_index(indexname)
        writer = BulkWriter(ix, _lk=False, codec=codec())
        count = 0
        for document in documents_for(share):
            writer.add_document(**document)
            count += 1
            if count % 100 == 0:
                with counter.get_lock():
                    counter.value += 100
        with counter.get_lock():
            counter.value += count % 100
        connection.send(("ok", writer._finalize_segment(), count))
    except BaseException:
        connection.send(("error", traceback.format_exc()))
    finally:
        connection.close()


class _ViewFile:
    """A read-only file over a memoryview, without copying it (see `_open_without_copying`)."""

    def __init__(self, view):
        self._view = view
        self._pos = 0

    def read(self, size=-1):
        end = len(self._view) if size is None or size < 0 else min(self._pos + size,
                                                                    len(self._view))
        data = bytes(self._view[self._pos:end])
        self._pos = max(self._pos, end)
        return data

    def readline(self, size=-1):
        view, start = self._view, self._pos
        limit = len(view) if size is None or size < 0 else min(len(view), start + size)
        end = start
        while end < limit:
            end += 1
            if view[end - 1] == 10:
                break
        self._pos = end
        return bytes(view[start:end])

    def seek(self, offset, whence=0):
        base = {0: 0, 1: self._pos, 2: len(self._view)}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self):
        return self._pos

    def close(self):
        self._view = memoryview(b"")

    def __iter__(self):
        while True:
            line = self.readline()
            if not line:
                return
            yield line


def _open_without_copying():
    """Whoosh reads a segment's files from one memory map, but wraps each file it opens in a
    BytesIO, which copies it: every new searcher copied megabytes per segment, most of the time
    a commit took to become searchable on a large index. Read the map in place instead."""
    from whoosh.filedb.structfile import BufferFile

    if getattr(BufferFile, "_reads_in_place", False):
        return

    def init(self, buf, name=None, onclose=None):
        self._buf = buf
        self._name = name
        self.file = _ViewFile(memoryview(buf))
        self.onclose = onclose
        self.is_real = False
        self.is_closed = False

    BufferFile.__init__ = init
    BufferFile._reads_in_place = True


_open_without_copying()
