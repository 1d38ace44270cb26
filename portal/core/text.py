"""Rules for text people type or send: what may be stored, and what may be shown as a file name.

Kept free of forms and web code so forms, services and the API can share them.
"""
import re
import unicodedata

# C0 controls, DEL and C1 controls. PostgreSQL refuses NUL in text outright, and the rest
# are invisible or reflow what is shown around them.
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
LINE_BREAKS = frozenset("\t\n\r")
# Embeddings, overrides and isolates reorder what follows them, so "gpj.exe" can display
# as "exe.jpg" and one organisation's name can be made to look like another's.
BIDI_CONTROL_RE = re.compile("[\u202a-\u202e\u2066-\u2069]")
# For file names, also the invisible direction marks.
BIDI_MARK_RE = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Characters Windows or macOS refuse in a file name.
UNSAFE_IN_FILENAME_RE = re.compile(r'[<>:"|?*]')
MAX_STEM, MAX_EXTENSION = 140, 10


def has_control_characters(text, allow_line_breaks=False):
    """True if `text` holds a control character; tab, newline and CR only when not allowed."""
    return any(not (allow_line_breaks and char in LINE_BREAKS)
               for char in CONTROL_RE.findall(text or ""))


def has_bidi_controls(text):
    """True if `text` holds a character that overrides or isolates the direction of text."""
    return bool(BIDI_CONTROL_RE.search(text or ""))


def display_filename(name, fallback="file"):
    """The name a user gave a file, safe to store, show and offer as a download name.

    Folders, control characters and direction marks are dropped and characters that
    operating systems refuse become "_", but letters in any script are kept:
    "../../etc/passwd.pdf" becomes "passwd.pdf" and "évidence.pdf" stays "évidence.pdf".
    """
    # NFKC first, so full-width slashes become real ones before folders are split off.
    name = unicodedata.normalize("NFKC", name or "")
    name = re.split(r"[\\/]", name)[-1]
    name = " ".join(name.split())  # tabs and line breaks become single spaces
    name = BIDI_MARK_RE.sub("", CONTROL_RE.sub("", name))
    name = UNSAFE_IN_FILENAME_RE.sub("_", name).strip(" .")
    stem, dot, extension = name.rpartition(".")
    if not dot:
        return name[:MAX_STEM] or fallback
    return f"{stem[:MAX_STEM].rstrip(' .') or fallback}.{extension[:MAX_EXTENSION].lower()}"


def ascii_filename(name, fallback="file"):
    """An ASCII stand-in for `name` for clients that ignore RFC 5987 ("évidence" → "evidence")."""
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = extension, ""
    stem, extension = _ascii(stem).strip(" ._") or fallback, _ascii(extension).strip(" ._")
    return f"{stem}.{extension}" if extension else stem


def _ascii(text):
    # Accents come off ("é" → "e"); a letter with no ASCII form becomes "_".
    decomposed = "".join(c for c in unicodedata.normalize("NFKD", text)
                         if not unicodedata.combining(c))
    return re.sub(r"[^\w .()-]", "_", decomposed, flags=re.ASCII)
