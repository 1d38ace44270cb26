"""What the search pages show beside their results: an excerpt with the searched-for words
marked, and "did you mean" when a search finds little.

Suggestions are always words someone actually wrote: the forward plan's index keeps the
unstemmed words of its text for spelling; for organisations, whose index keeps only stems (a
word list per profile would slow every rebuild), a nearby stem is turned back into the word
used in the profiles that hold it.
"""
import re

from markupsafe import Markup, escape
from whoosh.support.levenshtein import damerau_levenshtein

from portal.search.analysis import STOP, terms, text_analyzer

SNIPPET_CHARS = 240
# Words of context kept before the first match, in characters.
LEAD_CHARS = 60
_ANALYZER = text_analyzer()
_PLAIN_WORDS = re.compile(r"[^\W_]+")
QUERY_WORDS = {"AND", "OR", "NOT", "TO"}
# A word this short has too many neighbours for a useful suggestion.
MIN_SUGGEST_LENGTH = 4
# A word that is in the index is only replaced by a neighbour this many times more common.
COMMONER_BY = 10


# --- Snippets ------------------------------------------------------------------------------------

def _matches(text, wanted):
    """(start, end, term) of every word in `text` whose index term is wanted."""
    return [(t.startchar, t.endchar, t.text) for t in _ANALYZER(text, chars=True)
            if t.text in wanted]


def _best_start(matches, width):
    """Index of the match that starts the window holding the most different terms."""
    best, best_score = 0, -1
    for i, (start, _end, _term) in enumerate(matches):
        inside = {term for s, e, term in matches[i:] if e <= start + width}
        if len(inside) > best_score:
            best, best_score = i, len(inside)
    return best


def _word_start(text, position):
    """Move `position` forward to the start of a word, unless it already is one."""
    if position <= 0:
        return 0
    if text[position - 1].isspace():
        return position
    space = text.find(" ", position)
    return space + 1 if space != -1 else position


def _word_end(text, position):
    if position >= len(text):
        return len(text)
    space = text.rfind(" ", 0, position)
    return space if space > 0 else position


def snippet(text, query, length=SNIPPET_CHARS):
    """A short excerpt of `text` around the words of `query`, each marked with <mark>.

    Everything is HTML-escaped except the marks. Returns None when there is no query or none
    of its words (in any form: "befriend" marks "befriending") appear in the text.
    """
    wanted = set(terms(query or ""))
    text = " ".join((text or "").split())
    if not wanted or not text:
        return None
    matches = _matches(text, wanted)
    if not matches:
        return None
    first = matches[_best_start(matches, length - LEAD_CHARS)][0]
    start = _word_start(text, max(0, first - LEAD_CHARS)) if first > LEAD_CHARS else 0
    end = _word_end(text, start + length)
    end = max(end, min(len(text), first + 1))
    parts, cursor = [], start
    for match_start, match_end, _term in matches:
        if match_start < start or match_end > end:
            continue
        parts.append(escape(text[cursor:match_start]))
        parts.append(Markup("<mark>%s</mark>") % text[match_start:match_end])
        cursor = match_end
    parts.append(escape(text[cursor:end]))
    before = "… " if start > 0 else ""
    after = " …" if end < len(text) else ""
    return Markup(before) + Markup("").join(parts) + Markup(after)


# --- Did you mean --------------------------------------------------------------------------------

def _stem(word):
    found = terms(word)
    return found[0] if len(found) == 1 else None


def _within(reader, field, probes, distance):
    """Terms of `field` within `distance` edits of any of `probes`, sharing the first letter.
    Each segment is asked on its own: only a segment reader looks in a field's spelling words."""
    found = set()
    for leaf, _offset in reader.leaf_readers():
        for probe in probes:
            found.update(leaf.terms_within(field, probe, distance, prefix=1))
    return found


def spelling_candidates(reader, field="text"):
    """Candidates from a field that keeps its unstemmed words for spelling (spelling=True):
    (word, its index term) pairs."""
    def neighbours(word, _stem_of_word, distance):
        return {(w, _stem(w)) for w in _within(reader, field, [word], distance) if w.isalpha()}
    return neighbours


def term_candidates(reader, field="text"):
    """Candidates from the index terms themselves (stems, not words): (None, term) pairs,
    near the word as typed or its stem ("befreinding" -> "befreind" -> "befriend")."""
    def neighbours(word, stem, distance):
        return {(None, term) for term in _within(reader, field, {word, stem}, distance)
                if term.isalpha()}
    return neighbours


def closest_form(texts, term, typed):
    """The word in `texts` that the analyser turns into `term`, as close as possible to what
    was typed; None if there is none."""
    forms = {text[t.startchar:t.endchar].lower() for text in texts if text
             for t in _ANALYZER(text, chars=True) if t.text == term}
    forms = [form for form in forms if form.isalpha()]
    return min(forms, key=lambda form: (damerau_levenshtein(form, typed), form), default=None)


def _edits(word, stem, candidate, term):
    """How far a candidate is from what was typed. A bare index term is a word with its ending
    cut off, so it is also compared with the typed word cut to the same length."""
    if candidate:
        return damerau_levenshtein(word, candidate)
    return min(damerau_levenshtein(stem, term), damerau_levenshtein(word[:len(term)], term))


def _correct(reader, word, neighbours, real_word, text_field):
    """A commoner real word for `word`, or None to keep it: the closest candidate, the
    commonest of equally close ones."""
    if len(word) < MIN_SUGGEST_LENGTH or not word.isalpha() or word in STOP:
        return None
    stem = _stem(word)
    if stem is None:
        return None
    enough = max(1, reader.doc_frequency(text_field, stem) * COMMONER_BY)
    reach = 2 if len(word) >= 6 else 1
    scored = sorted(
        (_edits(word, stem, candidate, term), -frequency, term, candidate)
        for candidate, term in neighbours(word, stem, reach)
        if term and term != stem and candidate != word
        for frequency in [reader.doc_frequency(text_field, term)] if frequency >= enough)
    for _edits_away, _frequency, term, candidate in scored:
        better = candidate or real_word(term, word)
        if better:
            return better
    return None


def suggest(searcher, text, neighbours, real_word=None, text_field="text"):
    """`text` with its misspelt or rare words replaced by close, commoner words found in the
    index; None when nothing would change.

    `neighbours` (spelling_candidates or term_candidates of the reader) finds candidates;
    for bare index terms, `real_word(term, typed)` turns one back into a word people write.
    """
    words = [w for w in _PLAIN_WORDS.findall(str(text or "")[:200])
             if w.upper() not in QUERY_WORDS][:12]
    if not words:
        return None
    reader = searcher.reader()
    changed = False
    corrected = []
    for word in words:
        better = _correct(reader, word.lower(), neighbours, real_word, text_field)
        changed = changed or better is not None
        corrected.append(better or word)
    return " ".join(corrected) if changed else None
