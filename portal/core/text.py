"""Rules for text people type or send: what may be stored, and what may be shown as a file name.

Kept free of forms and web code so forms, services and the API can share them.
"""
import html
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
# Names Windows keeps for devices, whatever follows the first dot: a download called "CON.pdf"
# or "nul.docx" cannot be saved there.
WINDOWS_DEVICE_RE = re.compile(r"^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])$", re.IGNORECASE)


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
        return _not_a_device(name[:MAX_STEM]) or fallback
    stem = _not_a_device(stem[:MAX_STEM].rstrip(" ."))
    return f"{stem or fallback}.{extension[:MAX_EXTENSION].lower()}"


def _not_a_device(stem):
    """'CON' becomes '_CON', so the name can be saved on Windows."""
    return f"_{stem}" if WINDOWS_DEVICE_RE.match(stem.split(".")[0]) else stem


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


# --- Text from other systems ---------------------------------------------------------------------

# Words that really end in "rn". Notices exported badly lose their line breaks as a bare "rn"
# glued to the word before, so "Lot 1 – North Walesrn Lot 2" must lose its "rn" and "Northern
# Ireland" must not. Endings cover families ("Blackburn", "newborn", "hawthorn", "overturn").
REAL_RN_WORDS = frozenset("""
    acorn adjourn adorn ahern astern auburn auldearn bairn barn bittern born bourn cairn
    capricorn cavern chiltern churn cistern concern corn darn discern earn eastern extern fern
    forewarn forlorn govern hearn hern intern kern lantern learn lectern llansadwrn lorn malvern
    modern morn mourn northern osborn pattern pensarn peppercorn popcorn postern relearn saturn
    scorn severn shorn slattern sojourn southern spurn stern strathearn stubborn subaltern sworn
    taciturn tarn tavern tern torn unicorn unlearn urn warn wern western worn yarn yearn
""".split())
REAL_RN_ENDINGS = ("burn", "born", "thorn", "turn", "horn")
HTML_BREAK_RE = re.compile(r"<\s*(?:br\s*/?|/\s*(?:p|div|h[1-6]|tr|ul|ol|table))\s*>", re.I)
HTML_ITEM_RE = re.compile(r"<\s*li\b[^<>]*>", re.I)
HTML_TAG_RE = re.compile(r"<\s*/?\s*[a-z][a-z0-9]*(?:\s[^<>]*)?/?\s*>|<!--.*?-->", re.I | re.S)
ESCAPED_BREAK_RE = re.compile(r"\\r\\n|\\n|\\r")
# A word (perhaps empty, as in "2025rn" or ".rn") ending in one or more "rn" that are not
# followed by a small letter: "Walesrn Lot", "fully.rnrnThe", "workrnrnSubmit", "Northern Ireland".
RN_END_RE = re.compile(r"(?<![^\W\d_]|['’])((?:[^\W\d_]|['’])*?)((?:rn)+)(?![a-z])")
SPACES_RE = re.compile(r"[ \t\xa0\u2000-\u200a\u202f\u205f\u3000]+")
INVISIBLE_RE = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff]")
LINE_BREAK_RE = re.compile(r"(\r\n|\n)")
PUNCTUATION_ONLY_RE = re.compile(r"^[.,;:]+$")
BLANK_LINES_RE = re.compile(r"(?:\r?\n){3,}")


def clean_imported_text(text, multiline=True):
    """Text from a notice feed or a spreadsheet without the marks of a bad export.

    HTML tags and entities (even doubly escaped ones), written-out escapes ("\\n"), line breaks
    flattened to "rn", stray and repeated spaces and runs of blank lines all go. Real words ending
    in "rn" stay. Line breaks are kept as they were (or become spaces when not `multiline`).
    """
    text = html.unescape(html.unescape(text or ""))
    text = HTML_ITEM_RE.sub("\n- ", HTML_BREAK_RE.sub("\n", text))
    text = HTML_TAG_RE.sub("", text)
    text = ESCAPED_BREAK_RE.sub("\n", text).replace("\\t", " ")
    text = _flattened_breaks(INVISIBLE_RE.sub("", text))
    text = re.sub(r"\r(?!\n)", "\n", text)
    text = CONTROL_RE.sub(lambda m: m.group() if m.group() in "\r\n" else " ", text)
    if not multiline:
        return SPACES_RE.sub(" ", " ".join(text.split())).strip()
    return _tidy_lines(text)


def _flattened_breaks(text):
    return RN_END_RE.sub(_breaks_for, text)


def _breaks_for(match):
    """The word with its flattened line breaks restored: "Walesrn" → "Wales" and a break,
    "patternrn" → "pattern" and a break, "Northern" unchanged."""
    word, breaks = match.group(1) + match.group(2), 0
    glued_to_capital = match.string[match.end():match.end() + 1].isupper()
    # Glued to a capital even a short real word is a break: "tornTenders@..." is "to" + break.
    while word.endswith("rn") and (not _real_rn_word(word) or (
            breaks == 0 and glued_to_capital and len(word) <= 4)):
        word, breaks = word[:-2], breaks + 1
    return word + "\n" * breaks


def _real_rn_word(word):
    lowered = word.lower()
    return lowered in REAL_RN_WORDS or lowered.endswith(REAL_RN_ENDINGS)


def _tidy_lines(text):
    parts = LINE_BREAK_RE.split(text)
    for index in range(0, len(parts), 2):
        line = SPACES_RE.sub(" ", parts[index]).strip()
        parts[index] = "" if PUNCTUATION_ONLY_RE.match(line) else line
    # At most one blank line between paragraphs.
    return BLANK_LINES_RE.sub("\n\n", "".join(parts)).strip()
