"""How text becomes index terms: one analyser for documents and queries alike."""
from whoosh.analysis import STOP_WORDS, StemmingAnalyzer

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


def terms(text):
    """The index terms of `text`, in order, repeats kept."""
    return [token.text for token in _ANALYZER(text or "")]


def surface_forms(text):
    """Index term -> (word, start, end) of its first occurrence in `text` (for explanations)."""
    forms = {}
    for token in _ANALYZER(text or "", chars=True):
        forms.setdefault(token.text, (text[token.startchar:token.endchar], token.startchar,
                                      token.endchar))
    return forms
