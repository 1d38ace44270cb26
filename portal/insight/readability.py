"""How hard an entry's description is to read: the Flesch reading ease score (Rudolf Flesch,
1948: 206.835 - 1.015 x words per sentence - 84.6 x syllables per word; 60 and above is plain
English, below 30 is very hard), with syllables counted by a vowel-group rule that is close
enough to rank sentences."""
import re
from functools import lru_cache
from dataclasses import dataclass

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n{2,}|\n(?=[-•*])")
_WORD = re.compile(r"[A-Za-z]+(?:'[a-z]+)?")
_VOWEL_GROUPS = re.compile(r"[aeiouy]+")
PLAIN = 60
HARD = 30
MIN_WORDS = 12  # a shorter text says too little to score


@dataclass(frozen=True)
class Score:
    ease: float
    words: int
    hardest: str | None  # the sentence that pulls the score down most

    @property
    def verdict(self):
        if self.ease >= PLAIN:
            return "Plain English"
        return "Fairly hard" if self.ease >= HARD else "Very hard"


def syllables(word):
    """An estimate: vowel groups, less a silent final e, at least one."""
    word = word.lower()
    count = len(_VOWEL_GROUPS.findall(word))
    if word.endswith("e") and not word.endswith(("le", "ee")) and count > 1:
        count -= 1
    return max(count, 1)


def sentences(text):
    return [s.strip() for s in _SENTENCE_END.split(text or "") if _WORD.search(s or "")]


def ease(words_count, sentence_count, syllable_count):
    return round(206.835 - 1.015 * words_count / sentence_count
                 - 84.6 * syllable_count / words_count, 1)


def _sentence_ease(sentence):
    words = _WORD.findall(sentence)
    return ease(len(words), 1, sum(syllables(w) for w in words))


@lru_cache(maxsize=20_000)
def score(text):
    """The description's Score, or None when it is too short to judge. Remembered by text, as
    the same descriptions are scored on every dashboard."""
    parts = sentences(text)
    words = [w for part in parts for w in _WORD.findall(part)]
    if len(words) < MIN_WORDS:
        return None
    hardest = min(parts, key=_sentence_ease)
    return Score(ease(len(words), len(parts), sum(syllables(w) for w in words)), len(words),
                 hardest if _sentence_ease(hardest) < HARD else None)
