"""How text becomes index terms: one analyser for documents and queries alike."""
import re

from whoosh.analysis import STOP_WORDS, SpaceSeparatedTokenizer, StemmingAnalyzer
from whoosh.analysis.tokenizers import default_pattern
from whoosh.lang.porter import stem

# Words that say nothing about what an organisation does: the mask put where a recipient's
# name was, and the boilerplate of grant and contract notices.
EXTRA_STOP_WORDS = frozenset("""
recipient grant grants towards toward cost costs fund funds funding funded award awarded
provide provides providing project projects support supports supporting help helps
organisation organisations charity charities group groups work works working including
also will would can new year years per one two three use used
""".split())
STOP = frozenset(STOP_WORDS) | EXTRA_STOP_WORDS


def text_analyzer():
    """Lower case, stop words out, Porter stems: "befriending" and "befriend" meet."""
    return StemmingAnalyzer(stoplist=STOP, minsize=2)


_ANALYZER = text_analyzer()
_WORD = re.compile(default_pattern.pattern, re.UNICODE)
_STEMS = {}
MAX_CACHED_STEMS = 200_000


def terms(text):
    """The index terms of `text`, in order, repeats kept.

    The same terms `text_analyzer()` gives (same words, stop list, minimum length and Porter
    stems), worked out without building a token object per word: profiles are analysed once
    here and handed to the index already analysed (see `preanalysed()`)."""
    found = []
    for match in _WORD.finditer(text or ""):
        word = match.group().lower()
        if len(word) < 2 or word in STOP:
            continue
        stemmed = _STEMS.get(word)
        if stemmed is None:
            if len(_STEMS) >= MAX_CACHED_STEMS:
                _STEMS.clear()
            stemmed = _STEMS[word] = stem(word)
        found.append(stemmed)
    return found


def preanalysed():
    """The analyser for fields given terms from `terms()`, joined by spaces."""
    return SpaceSeparatedTokenizer()


def surface_forms(text):
    """Index term -> (word, start, end) of its first occurrence in `text` (for explanations)."""
    forms = {}
    for token in _ANALYZER(text or "", chars=True):
        forms.setdefault(token.text, (text[token.startchar:token.endchar], token.startchar,
                                      token.endchar))
    return forms
