"""The search speed-ups that rely on Whoosh's internals. No other module of the project uses
a private Whoosh name: storage.py and scoring.py ask `active(name)` and take their stock path,
through Whoosh's public API, whenever a speed-up is not in use. (large_blocks and the numpy
arithmetic of array_scoring use public names, but rest on how this version stores and scores
postings, so they are switched with the rest.)

The internals were read from whoosh-reloaded 2.7.5 (`WRITTEN_FOR`). `install(app)`, called
when the search package is set up on an app, checks the Whoosh installed: on that version the
speed-ups named by `SEARCH_WHOOSH_SPEEDUPS` ("all", "none" or a list of names) are used (and
read_in_place's patch applied); on any other version none is used and nothing is patched, and
one log line says so. The choice is for the whole process: the last app installed decides.

Each speed-up, what it does, and what it earns on
`flask --app wsgi bench search --suppliers 3000 --opportunities 200` (2 shared cores; medians
of 3 to 8 runs; "a -> b": everything on, then that speed-up alone off). Some only show on a
larger index, measured with `--suppliers 20000`:

array_scoring      BM25F worked out with numpy over whole posting lists, term at a time,
                   instead of Whoosh's scorer posting by posting (see portal.search.scoring).
                   match.p50 77 -> 99 ms, recommend_compute.p50 87 -> 128 ms,
                   keyword.p95 1.1 -> 2.4 ms.
block_reads        With array_scoring, a posting list is read a block at a time from the
                   block's arrays, not through the matcher posting by posting. Within noise at
                   3,000; at 20,000: commit_to_searchable 68 -> 99 ms (a new searcher reads the
                   whole `status` list again), keyword.p95 2.0 -> 2.8 ms, match.p50 79 -> 87 ms.
large_blocks       Postings written in blocks of 1,024, uncompressed, not Whoosh's 128 zlib'd:
                   fewer, cheaper blocks to read. At 20,000: commit_to_searchable 68 -> 82 ms,
                   keyword.p95 2.0 -> 2.5 ms, match.p50 79 -> 86 ms, rebuild_s 14.8 -> 15.7.
bulk_writer        A rebuild writes each term's postings a block at a time (`BlockWriter`), not
                   sorting every posting and reading each length back from disk.
                   rebuild_s 5.4 -> 7.1 (in two processes 3.5 -> 4.0).
segments_from_processes
                   A rebuild in several processes: each writes a segment of the index and the
                   segments are committed together, instead of the processes writing one
                   after another with Whoosh's writer. With SEARCH_PARALLEL_FROM=0:
                   rebuild_s 3.5 -> 7.8.
read_in_place      Segment files read from the memory map in place, not copied into a BytesIO
                   each time a searcher opens one (patches `BufferFile.__init__`). Within noise
                   at 3,000; at 20,000: commit_to_searchable 68 -> 91 ms.

With none of them: match.p50 97 ms, recommend_compute.p50 128 ms, commit_to_searchable 79 ms,
rebuild_s 8.4. Measured and dropped as they no longer paid at either size: reading field
lengths from the length column's bytes (they are kept per segment anyway), and a patch of
`W3PerDocReader._cached_reader` remembering that a field has no length column.
"""
import logging
import re
from array import array
from collections import Counter

import numpy as np
import whoosh
from whoosh import formats
from whoosh.analysis import RegexTokenizer
from whoosh.system import pack_uint
from whoosh.writing import SegmentWriter

log = logging.getLogger(__name__)
WRITTEN_FOR = ((2, 7, 5),)
SPEEDUPS = ("array_scoring", "block_reads", "bulk_writer", "large_blocks",
            "segments_from_processes", "read_in_place")
_ON = {"all", "true", "1", "yes", "on"}
_OFF = {"none", "false", "0", "no", "off", ""}
_active = frozenset()
_originals = {}


# --- switching the speed-ups on and off --------------------------------------------------------

def install(app):
    """Use the speed-ups `app`'s SEARCH_WHOOSH_SPEEDUPS asks for, if this Whoosh is the one
    they were written for."""
    use_speedups(app.config.get("SEARCH_WHOOSH_SPEEDUPS", "all"))


def use_speedups(setting):
    """Use the speed-ups `setting` names (True or "all", False or "none", or names), patching
    and unpatching Whoosh to match; none on another Whoosh version."""
    global _active
    wanted = speedups_named(setting)
    if wanted and whoosh_version() not in WRITTEN_FOR:
        log.warning("Whoosh %s is not the version the search speed-ups were written for (%s): "
                    "search uses stock Whoosh", _dotted(whoosh_version()),
                    ", ".join(_dotted(v) for v in WRITTEN_FOR))
        wanted = frozenset()
    elif not wanted:
        log.info("Search speed-ups are switched off by SEARCH_WHOOSH_SPEEDUPS: search uses "
                 "stock Whoosh")
    for name, (patch, unpatch) in _PATCHES.items():
        (patch if name in wanted else unpatch)()
    _active = wanted


def speedups_named(setting):
    """The set of speed-up names a SEARCH_WHOOSH_SPEEDUPS value stands for."""
    if isinstance(setting, bool) or setting is None:
        return frozenset(SPEEDUPS) if setting else frozenset()
    if isinstance(setting, str):
        word = setting.strip().lower()
        if word in _ON or word in _OFF:
            return frozenset(SPEEDUPS) if word in _ON else frozenset()
        setting = re.split(r"[\s,]+", word)
    names = frozenset(name for name in setting if name)
    unknown = names - set(SPEEDUPS)
    if unknown:
        raise ValueError(f"SEARCH_WHOOSH_SPEEDUPS names unknown speed-ups: {sorted(unknown)}; "
                         f"known: {', '.join(SPEEDUPS)}")
    return names


def active(name):
    """Whether the speed-up `name` is in use in this process."""
    return name in _active


def in_use():
    """The speed-ups in use in this process."""
    return _active


def whoosh_version():
    return tuple(getattr(whoosh, "__version__", ())[:3])


def _dotted(version):
    return ".".join(str(part) for part in version) or "of unknown version"


def _patch(owner, attribute, replacement):
    if (owner, attribute) not in _originals:
        _originals[(owner, attribute)] = owner.__dict__[attribute]
        setattr(owner, attribute, replacement)


def _unpatch(owner, attribute):
    original = _originals.pop((owner, attribute), None)
    if original is not None:
        setattr(owner, attribute, original)


# --- read_in_place -----------------------------------------------------------------------------

class _ViewFile:
    """A read-only file over a memoryview, without copying it."""

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


def _buffer_file_in_place(self, buf, name=None, onclose=None):
    """`BufferFile.__init__`, reading `buf` in place where Whoosh's wraps it in a BytesIO (a
    copy of the whole segment file, each time a searcher opens it)."""
    self._buf = buf
    self._name = name
    self.file = _ViewFile(memoryview(buf))
    self.onclose = onclose
    self.is_real = False
    self.is_closed = False


def _read_in_place():
    from whoosh.filedb.structfile import BufferFile

    _patch(BufferFile, "__init__", _buffer_file_in_place)


def _read_copies():
    from whoosh.filedb.structfile import BufferFile

    _unpatch(BufferFile, "__init__")


_PATCHES = {"read_in_place": (_read_in_place, _read_copies)}


# --- large_blocks ------------------------------------------------------------------------------

def large_block_codec():
    """Postings in blocks of up to 1,024, not compressed: reading a whole posting list costs a
    fraction of what Whoosh's default of 128, zlib-compressed, costs, for an index about twice
    the size."""
    from whoosh.codec.whoosh3 import W3Codec

    return W3Codec(blocklimit=1024, compression=0)


# --- bulk_writer -------------------------------------------------------------------------------

class _TermPool:
    """Postings grouped by term as they arrive. Documents come in docnum order, so each term's
    postings are already sorted: no sorting of every posting, no spilling to disk."""

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


class BlockWriter(SegmentWriter):
    """A writer for filling a new, empty index in one go (a rebuild).

    It writes the same segment files as Whoosh's own writer, block by block, instead of posting
    by posting: each term's postings are cut into blocks of the codec's size, and a block's
    length statistics are read from an array of the field's lengths. Whoosh's writer sorts every
    posting (spilling to temporary files past its memory limit) and looks up the document's
    field length on disk for each one.
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
        self.perdocwriter.start_doc(self.docnum)
        for name in sorted(fields):
            if fields[name] is not None:
                self._add_field(name, fields[name])
        self.perdocwriter.finish_doc()
        self._added = True
        self.docnum += 1

    def _add_field(self, name, value):
        field, length = self.schema[name], 0
        if field.indexed:
            plain = self._plain[name]
            postings = _count_words(value, plain) if plain else field.index(value)
            for btext, freq, weight, vbytes in postings:
                if field.scorable:
                    length += freq
                self.pool.add((name, btext, self.docnum, weight, vbytes))
        self.perdocwriter.add_field(name, field, value if field.stored else None, length)
        if field.column_type:
            self.perdocwriter.add_column_value(name, field.column_type,
                                               field.to_column_value(value))

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
        return np.array([reader.doc_field_length(d, fieldname) or 0 for d in range(self.docnum)],
                        dtype=np.int64)

    def _write_postings(self, reader):
        by_field = {}
        for fieldname, btext in self.pool.terms:
            by_field.setdefault(fieldname, []).append(btext)
        for fieldname in sorted(by_field):
            self.fieldwriter.start_field(fieldname, self.schema[fieldname])
            lengths = self._field_lengths(reader, fieldname)
            for btext in sorted(by_field[fieldname]):
                self._write_term(fieldname, btext, lengths)
            self.fieldwriter.finish_field()

    def _write_term(self, fieldname, btext, lengths):
        docs, weights, values = self.pool.terms[(fieldname, btext)]
        postwriter = self.fieldwriter._postwriter
        limit = postwriter._blocklimit
        self.fieldwriter.start_term(btext)
        for start in range(0, len(docs), limit):
            if start:
                postwriter._write_block()
            end = start + limit
            _fill_block(postwriter, docs[start:end], weights[start:end], values[start:end],
                        lengths)
        self.fieldwriter.finish_term()


_SPACE_SEPARATED = r"[^ \t\r\n]+"
_FREQUENCIES = {}


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


def _count_words(value, plain):
    """(bytes, frequency, weight, value bytes) for each distinct word, as the field's format
    gives them."""
    kind, boost = plain
    counts = Counter(re.findall(_SPACE_SEPARATED, value))
    if kind == "existence":
        return [(word.encode(), 1, boost, b"") for word in counts]
    postings = []
    for word, freq in counts.items():
        vbytes = _FREQUENCIES.get(freq)
        if vbytes is None:
            vbytes = _FREQUENCIES[freq] = pack_uint(freq)
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


# --- segments_from_processes -------------------------------------------------------------------

def write_segment(ix, documents, codec, in_blocks):
    """In a process of a parallel rebuild: write `documents` as a segment of the (empty) index
    `ix`, without its lock or a table of contents, and return the segment. `in_blocks`: with
    the block writer (see bulk_writer)."""
    writer = (BlockWriter if in_blocks else SegmentWriter)(ix, _lk=False, codec=codec)
    for document in documents:
        writer.add_document(**document)
    return writer._finalize_segment()


def commit_segments(ix, segments, codec):
    """Make the segments written by `write_segment` the index's contents, in the order given."""
    writer = SegmentWriter(ix, codec=codec)
    try:
        writer._close_segment()
        writer._commit_toc(list(segments))
    finally:
        writer._finish()


# --- block_reads -------------------------------------------------------------------------------

def read_postings(matcher):
    """(docnums, weights) of a whole posting list, read a block at a time from the postings
    reader under `matcher`, deleted documents included; None if there is none to read."""
    from whoosh.codec.whoosh3 import W3LeafMatcher

    leaf = matcher
    while not isinstance(leaf, W3LeafMatcher) and hasattr(leaf, "child"):
        leaf = leaf.child
    if not isinstance(leaf, W3LeafMatcher):
        return None
    ids, weights = [], []
    while leaf.is_active():
        block_ids, block_weights = _read_block(leaf)
        ids.append(block_ids)
        weights.append(block_weights)
        leaf._next_block()
    if not ids:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    return np.concatenate(ids), np.concatenate(weights)


def _read_block(leaf):
    if leaf._data is None:
        leaf._read_data()
    block_ids, block_weights = leaf._data[0], leaf._data[1]
    block_ids = np.asarray(block_ids, dtype=np.int64)
    if not leaf._byteids:
        block_ids = np.cumsum(block_ids)
    count = leaf._blocklength
    if block_weights is None:
        block_weights = np.ones(count)
    elif isinstance(block_weights, float):
        block_weights = np.full(count, block_weights)
    else:
        block_weights = np.asarray(block_weights, dtype=np.float64)
    return block_ids[:count], block_weights[:count]


# --- writers given up on (not a speed-up) ------------------------------------------------------

def discard_scratch(writer):
    """Remove the scratch files of a writer whose commit failed, where Whoosh's `cancel()`
    could not (only on the Whoosh version this module was written for)."""
    if whoosh_version() not in WRITTEN_FOR:
        return
    temp = getattr(writer, "_tempstorage", None)
    try:
        if temp is not None:
            temp.destroy()
    except Exception:
        pass
