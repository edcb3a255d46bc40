"""The text rules behind :func:`~octave_frames._review.review`, one small function each.

Everything here works on one string (a subject, an email's text, a greeting line, an
instruction) and knows nothing of frames; :mod:`._review_checks` runs these over every
email. They run on 300,000 emails of ~900 characters, so the costly ones have two
halves: :func:`screen` clears a clean email with one UTF-8 encode, one
``bytes.translate`` pass and a few ``in`` tests (C loops over the bytes), and the exact
regular-expression rules (:func:`placeholders`, :func:`mangled_problems`,
:func:`count_words`) run only on what the screen lets through.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

__all__ = [
    "HTML_TAGS",
    "WordLimit",
    "clean_line",
    "company_core",
    "count_encoded",
    "count_words",
    "domain_stem",
    "greeted_names",
    "greets",
    "html_problem",
    "looks_html",
    "mangled_problems",
    "mentions",
    "name_key",
    "parse_word_limit",
    "placeholders",
    "quote",
    "screen",
    "visible",
]

# ---------------------------------------------------------------------------------------
# HTML

#: Tag names HTML knows; ``<Company>`` is a placeholder, ``<br>`` is not.
HTML_TAGS: Final = frozenset(
    [
        "a",
        "abbr",
        "address",
        "article",
        "aside",
        "b",
        "bdi",
        "bdo",
        "big",
        "blockquote",
        "body",
        "br",
        "caption",
        "center",
        "cite",
        "code",
        "col",
        "colgroup",
        "dd",
        "del",
        "details",
        "dfn",
        "div",
        "dl",
        "dt",
        "em",
        "figcaption",
        "figure",
        "font",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "head",
        "header",
        "hr",
        "html",
        "i",
        "img",
        "input",
        "ins",
        "kbd",
        "label",
        "li",
        "link",
        "main",
        "mark",
        "meta",
        "nav",
        "ol",
        "p",
        "picture",
        "pre",
        "q",
        "s",
        "samp",
        "section",
        "small",
        "source",
        "span",
        "strike",
        "strong",
        "style",
        "sub",
        "summary",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "title",
        "tr",
        "tt",
        "u",
        "ul",
        "var",
        "video",
        "wbr",
    ]
)
# Elements without content: never closed.
_VOID: Final = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    ]
)
# One tag: closing slash, name, attributes, self-closing slash.
_TAG: Final = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)\b[^<>]*?(/?)>")
_TAG_OR_SPACE: Final = re.compile(r"<[^<>]*>")
_HTML_MARKERS: Final = ("<p>", "<br", "</", "<div")
_AFTER_TAG: Final = re.compile(r">\s*[^<\s]")


def looks_html(text: str) -> bool:
    """Whether ``text`` is HTML output (it holds a ``<p>``, ``<br>``, ``<div>`` or closing tag)."""
    return "<" in text and any(marker in text for marker in _HTML_MARKERS)


def _plain(text: str) -> str:
    """The visible text of HTML: tags become spaces, entities characters."""
    return html.unescape(_TAG_OR_SPACE.sub(" ", text))


def html_problem(text: str) -> tuple[str | None, list[str]]:
    """Find unbalanced tags in HTML ``text``, and ``<Words>`` that are no HTML tag.

    Returns:
        ``(problem, unknown)``: the first balance problem as a readable phrase (or None),
        and the unknown ``<...>`` tags in order (placeholders such as ``<Company>``).

    """
    # Screen: every "<" is a closing tag, its opening tag, or a <br>: nothing to report.
    closes = text.count("</")
    if text.count("<") == 2 * closes + text.count("<br"):
        return None, []
    open_tags: list[str] = []
    unknown: list[str] = []
    problem: str | None = None
    for match in _TAG.finditer(text):
        closing, name, self_closing = match.group(1), match.group(2).lower(), match.group(3)
        if name not in HTML_TAGS:
            if not closing:
                unknown.append(match.group(0))
            continue
        if name in _VOID or self_closing:
            continue
        if not closing:
            open_tags.append(name)
        elif name in open_tags:
            while (last := open_tags.pop()) != name:
                problem = problem or f"'<{last}>' is not closed before '</{name}>'"
        else:
            problem = problem or f"'</{name}>' closes no open tag"
    if open_tags and problem is None:
        problem = f"'<{open_tags[0]}>' is never closed"
    return problem, unknown


def visible(text: str | None, *, is_html: bool) -> bool:
    """Whether ``text`` shows anything: not empty, not only spaces or (in HTML) only tags."""
    if text is None or not text.strip():
        return False
    if not is_html or not text.lstrip().startswith("<"):
        return True
    # Text after a tag; found at the first paragraph of any real email.
    return _AFTER_TAG.search(text) is not None


# ---------------------------------------------------------------------------------------
# Placeholders

# One to four words of a merge field's name: "first_name", "First Name", "contact.first".
_FIELD: Final = r"[A-Za-z][A-Za-z0-9]*(?:[ _.\-][A-Za-z][A-Za-z0-9]*){0,3}"
_PLACEHOLDER: Final = re.compile(
    "|".join(
        (
            r"\{\{[^{}\n]{1,80}\}\}",  # {{company}}, {{ contact.first_name }}
            r"\{!?\s*" + _FIELD + r"\s*\}",  # {first_name}, {!Contact.FirstName}
            r"\[\[[^\[\]\n]{1,80}\]\]",  # [[x]]
            r"%%[^%\n]{1,80}%%",  # %%x%%
            r"%[A-Za-z_][A-Za-z0-9_.]{0,40}%",  # %name%; "50% off and 20% more" has spaces
            r"\*\|[A-Za-z0-9_:]{1,40}\|\*",  # Mailchimp's *|FNAME|*
            r"\[\s*" + _FIELD + r"\s*\](?!\()",  # [First Name]; not a markdown link, not [1]
            r"<\s*" + _FIELD + r"\s*>",  # <Company>; HTML tag names are dropped after
            # All-caps merge names (FIRSTNAME, COMPANY_NAME, FNAME); SaaS, AWS, CRM are not.
            r"\b(?:[A-Z]+_)*(?:FIRST|LAST|FULL|COMPANY|ACCOUNT|CONTACT|SENDER|PROSPECT|LEAD"
            r"|CUSTOMER|CLIENT|ORG|F|L)_?NAME\b",
        )
    )
)


def placeholders(text: str, *, is_html: bool) -> list[str]:
    """Template placeholders left in ``text``, in order, each once.

    A literal brace in code (``{ return 1; }``), JSON, ``[1]`` citations, HTML tags,
    ``<3``, ``<ann@acme.com>``, ``50%`` and acronyms (``SaaS``, ``SOC 2``) are not
    placeholders.

    Args:
        text: A subject or an email's text.
        is_html: ``text`` is HTML: its tags are skipped, its entities read (``&lt;x&gt;``).

    Returns:
        The placeholders as written, e.g. ``["{first_name}", "[Company]"]``.

    """
    # Screen: single-character tests are memchr-fast; "NAME" catches the all-caps ones.
    if not (
        "{" in text
        or "[" in text
        or "%" in text
        or "|" in text
        or "NAME" in text
        or ("&" in text if is_html else "<" in text)
    ):
        return []
    if is_html and "&" in text:
        text = html.unescape(text)
    found: list[str] = []
    for match in _PLACEHOLDER.finditer(text):
        token = match.group(0)
        if token.startswith("<") and token[1:-1].strip().split(" ")[0].lower() in HTML_TAGS:
            continue
        if token not in found:
            found.append(token)
    return found


# ---------------------------------------------------------------------------------------
# Mangled characters

# Zero-width characters that only hide in text (ZWJ/ZWNJ are left alone: emoji and
# several scripts need them), C0/C1 controls but tab, newline and CRLF, the replacement
# character of a failed decode, and UTF-8 read as Windows-1252.
_MANGLED: Final = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|\r(?!\n)|[\u200b\u2060\ufeff\u180e]|\ufffd"
    "|\u00e2\u20ac|\u00c3[\u00a0-\u00bf]"
)
_C1_UTF8: Final = re.compile(rb"\xc2[\x80-\x9f]")
_MANGLED_NAMES: Final = {
    "\ufffd": "a replacement character '\\ufffd' (text lost in decoding)",
    "\u200b": "a zero-width space",
    "\u2060": "a zero-width word joiner",
    "\ufeff": "a byte-order mark",
    "\u180e": "a zero-width Mongolian vowel separator",
    "\r": "a lone carriage return",
}


def _byte_classes(placeholder_starts: bytes) -> bytes:
    """A ``bytes.translate`` table over UTF-8 text, for :func:`screen`.

    0 (may be mangled): C0 controls but tab and newline, CR (CRLF is fine, a lone CR
    not: looked at closer), DEL, and the lead bytes of U+1000-U+1FFF (U+180E) and
    U+F000-U+FFFF (BOM, U+FFFD), rare in email text. 1: a byte placeholders start with.
    3: a byte that the rarer multi-byte needles hold (zero-width space E2 80 8B, word
    joiner E2 81 A0, mojibake C3 A2 E2 82 AC and C3 83, C1 controls and no-break space
    C2 xx): when none is there, those need no search. 2: everything else.
    """
    table = bytearray(b"\x02" * 256)
    for b in (0x8B, 0x81, 0xAC, 0x83, 0xC2):
        table[b] = 3
    for b in (*range(0x09), 0x0B, 0x0C, *range(0x0D, 0x20), 0x7F, 0xE1, 0xEF):
        table[b] = 0
    for b in placeholder_starts:
        table[b] = 1
    return bytes(table)


_PLAIN_CLASSES: Final = _byte_classes(b"{[%|<")
_HTML_CLASSES: Final = _byte_classes(b"{[%|")  # "<" is every tag; "&lt;" is looked for


def screen(text: str, *, is_html: bool) -> tuple[bool, bool, bytes, int | None]:
    """Clear a clean email in one encode, one byte-table pass and a few ``find`` calls.

    Args:
        text: An email's text.
        is_html: The text is HTML.

    Returns:
        ``(placeholder, mangled, encoded, bound)``: whether :func:`placeholders` and
        :func:`mangled_problems` can find anything (False is certain, True is "look");
        the text as UTF-8, for :func:`count_encoded`; and a bound its word count cannot
        pass (its separators, tags and entities, plus one; None for text with rarer
        separators), which spares most emails the count.

    """
    encoded = text.encode()
    # One pass maps every byte to its class and drops spaces, tabs and newlines, which
    # counts them.
    classes = encoded.translate(_HTML_CLASSES if is_html else _PLAIN_CLASSES, b" \n\t")
    mangled = classes.find(0) >= 0
    rare = not mangled and len(encoded) != len(text) and classes.find(3) >= 0
    if rare:
        mangled = (
            b"\xe2\x80\x8b" in encoded  # zero-width space
            or b"\xe2\x81\xa0" in encoded  # word joiner
            or b"\xc3\xa2\xe2\x82\xac" in encoded  # "â€": mojibake of quotes and dashes
            or b"\xc3\x83" in encoded  # "Ã": mojibake of é, ü ...
            or _C1_UTF8.search(encoded) is not None
        )
    placeholder = classes.find(1) >= 0 or b"NAME" in encoded or (is_html and b"&lt;" in encoded)
    # Mangled text may hold CR or form feeds, "rare" text no-break spaces: no bound. In
    # HTML a tag or an entity may part two words too.
    bound: int | None = None
    if not (mangled or rare):
        bound = len(encoded) - len(classes) + 1
        if is_html:
            bound += encoded.count(b"<") + encoded.count(b"&")
    return placeholder, mangled, encoded, bound


def clean_line(text: str) -> bool:
    """A quick "nothing to find" of :func:`mangled_problems` for a short line (a subject)."""
    return text.isprintable() and (
        text.isascii() or not ("\ufffd" in text or "\u00c3" in text or "\u00e2\u20ac" in text)
    )


def mangled_problems(text: str) -> list[str]:
    r"""Characters that should not be in a sendable email, as readable phrases.

    Control characters (tab, newline and CRLF line ends are fine), zero-width spaces,
    byte-order marks, ``\ufffd`` and UTF-8 read as Windows-1252 (``â€™``, ``Ã©``).

    Args:
        text: A subject or an email's text.

    Returns:
        One phrase per kind of problem, in order of first appearance; empty when clean.

    """
    problems: list[str] = []
    for match in _MANGLED.finditer(text):
        found = match.group(0)
        if found in _MANGLED_NAMES:
            phrase = _MANGLED_NAMES[found]
        elif len(found) == 2:
            phrase = f"mojibake {found!r} (UTF-8 read as Windows-1252)"
        else:
            phrase = f"a control character {found!r}"
        if phrase not in problems:
            problems.append(phrase)
    return problems


# ---------------------------------------------------------------------------------------
# Word counts and limits


# A word: a run of characters between spaces, no-break spaces, tabs and line breaks
# that holds a letter or a digit (so "—" and "&" are none).
def _word_tables(separators: bytes) -> tuple[bytes, bytes]:
    """The ``bytes.translate`` table and deleted bytes words are counted with.

    Every character becomes one byte: its UTF-8 continuation bytes are deleted, and so is
    every character that cannot make a word (ASCII punctuation and controls, U+0080-
    U+00BF, U+2000-U+2FFF: dashes, quotes, bullets, arrows, symbols, and the emoji
    planes); ``separators`` become a space and what is left, letters and digits of any
    script, a ``w``.
    """
    table = bytearray(b"w" * 256)
    for b in separators:
        table[b] = 0x20
    deleted = bytes(
        b
        for b in range(256)
        if (b < 0x80 and b not in separators and not chr(b).isalnum())
        or 0x80 <= b < 0xC0  # continuation bytes
        or b in (0xC2, 0xE2)
        or b >= 0xF0
    )
    return bytes(table), deleted


_WORD_TABLE, _NOT_WORD = _word_tables(b" \t\n\r\x0b\x0c")
# HTML without attributes or entities: "<" and ">" part words, so each tag is one word
# of its own ("<p>" -> " p ", "</p>" -> " p "), taken off again.
_TAG_WORD_TABLE, _NOT_TAG_WORD = _word_tables(b" \t\n\r\x0b\x0c<>")
_TAG_BYTES: Final = re.compile(rb"<[^<>]*>")


def count_encoded(encoded: bytes, *, is_html: bool = False) -> int:
    """:func:`count_words` of text already encoded as UTF-8 (by :func:`screen`)."""
    if b"\xc2\xa0" in encoded:  # a no-break space separates words too
        encoded = encoded.replace(b"\xc2\xa0", b" ")
    tags = 0
    if not is_html:
        marks = encoded.translate(_WORD_TABLE, _NOT_WORD)
    elif b"=" in encoded or b"<!" in encoded:  # attributes or comments: cut the tags out
        marks = _TAG_BYTES.sub(b" ", encoded).translate(_WORD_TABLE, _NOT_WORD)
    else:
        marks = encoded.translate(_TAG_WORD_TABLE, _NOT_TAG_WORD)
        tags = encoded.count(b"<")
    return marks.count(b" w") + (1 if marks[:1] == b"w" else 0) - tags


def count_words(text: str, *, is_html: bool) -> int:
    """Words as a person counts them: separated by spaces, pure punctuation left out.

    Spaces, no-break spaces, tabs and line breaks separate words; a word holds a letter
    or a digit, so ``co-founder``, ``15-minute``, ``don't``, ``acme.com`` and ``(1)`` are
    one word each and ``—``, ``-``, ``&``, ``•`` and an emoji none. HTML is counted on
    its visible text. A couple of C passes over the bytes.

    Example:
        >>> count_words("Hi Ann — a 15-minute call?", is_html=False)
        5

    """
    if is_html and "&" in text:  # entities: read them first (&nbsp; parts words)
        return count_encoded(_plain(text).encode())
    return count_encoded(text.encode(), is_html=is_html)


@dataclass(frozen=True)
class WordLimit:
    """The most words an instruction allows.

    Attributes:
        words: The highest word count that keeps to the instruction ("under 150 words"
            allows 149).
        phrase: The words of the instruction that set it, as written.

    """

    words: int
    phrase: str


_N: Final = r"(\d{1,4})"
_WORDS: Final = r"\s*(?:-\s*)?words?\b"
_BELOW: Final = r"(?:under|below|fewer\s+than|less\s+than|shorter\s+than|<(?!=))"
_AT_MOST: Final = (
    r"(?:no\s+more\s+than|not\s+more\s+than|no\s+longer\s+than|not\s+longer\s+than|at\s+most"
    r"|max(?:imum)?(?:\s+of)?|up\s+to|within|<=|=<|≤|limit(?:ed)?(?:\s+(?:it|them))?\s+to"
    r"|cap(?:ped)?\s+(?:it\s+)?at|keep\s+(?:it|them|this|each\s+\w+|every\s+\w+|the\s+\w+|\w+)"
    r"\s+(?:to|at))"
)
# (pattern, how the matched number becomes the allowed maximum)
_LIMITS: Final = (
    (re.compile(rf"between\s+{_N}\s+and\s+{_N}{_WORDS}", re.IGNORECASE), 0),
    (re.compile(rf"\b{_N}\s*(?:-|\u2013|\u2014|to)\s*{_N}{_WORDS}", re.IGNORECASE), 0),
    (re.compile(rf"{_BELOW}\s*{_N}{_WORDS}", re.IGNORECASE), -1),
    (re.compile(rf"{_AT_MOST}\s*{_N}{_WORDS}", re.IGNORECASE), 0),
    (
        re.compile(
            rf"\b{_N}{_WORDS}\s*(?:\(?max(?:imum)?\b|or\s+(?:less|fewer)|at\s+most|tops|limit|cap)",
            re.IGNORECASE,
        ),
        0,
    ),
    (re.compile(rf"\b{_N}[- ]word\s+(?:limit|max(?:imum)?|cap|ceiling)", re.IGNORECASE), 0),
    (
        re.compile(
            rf"\bword\s+(?:limit|count|cap|max(?:imum)?)\s*(?:of|is|:|=)?\s*({_BELOW})?\s*{_N}\b",
            re.IGNORECASE,
        ),
        None,
    ),
)
# A limit inside a clause about a part of the email is not the email's limit.
_PART: Final = re.compile(
    r"\b(?:subject|paragraph|sentence|p\.?s\b|bullet|cta|greeting|opening|headline)",
    re.IGNORECASE,
)
_CLAUSE_END: Final = re.compile(r"[.;!?\n](?!\d)")


def parse_word_limit(instruction: str) -> WordLimit | None:
    """Read a limit on an email's length from an instruction.

    Understood: "under 150 words", "no more than 120 words", "max 100 words",
    "100 words max", "at most 80 words", "less than 90 words", "<= 120 words",
    "100-word limit", "keep it to 75 words", "between 50 and 100 words" (the upper
    bound), "word limit: 120". "Under" and "less than" are strict. A limit in a clause
    about the subject, a paragraph, a sentence or the P.S. is not the email's. Of several
    limits the strictest wins.

    Args:
        instruction: One instruction text.

    Returns:
        The limit, or None when the text sets none.

    Example:
        >>> parse_word_limit("Friendly tone. Keep emails under 150 words.")
        WordLimit(words=149, phrase='under 150 words')

    """
    best: WordLimit | None = None
    for pattern, shift in _LIMITS:
        for match in pattern.finditer(instruction):
            start = match.start()
            clause_start = max(
                (m.end() for m in _CLAUSE_END.finditer(instruction, 0, start)), default=0
            )
            if _PART.search(instruction, clause_start, start):
                continue
            numbers = [int(g) for g in match.groups() if g is not None and g.isdigit()]
            if shift is None:  # "word limit (under) N": strict only when it says under
                strict = match.group(1) is not None
                allowed = numbers[-1] - (1 if strict else 0)
            else:
                allowed = max(numbers) + shift
            if allowed > 0 and (best is None or allowed < best.words):
                best = WordLimit(allowed, " ".join(match.group(0).split()))
    return best


# ---------------------------------------------------------------------------------------
# Names


@lru_cache(maxsize=65536)
def name_key(name: str) -> str:
    """A name as compared: case, accents, punctuation dropped (``"José-Luis"``: ``"joseluis"``)."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(c for c in decomposed if c.isalnum() and not unicodedata.combining(c))


_SALUTATION: Final = re.compile(
    r"^[\W_]*(?:hi|hello|hey|hiya|heya|howdy|dear|greetings"
    r"|good\s+(?:morning|afternoon|evening|day)|morning|hola|hallo|bonjour|hej|ciao|salut|yo)"
    r"\b[\s,]*",
    re.IGNORECASE,
)
_TOKEN: Final = re.compile(r"[^\W\d_][\w'\u2019.\-]*")
# A name ends at punctuation, a dash, an emoji or the end of the line.
_TERMINATOR: Final = re.compile(r"\s*(?:[^\w\s]|$)")
_SPACES: Final = re.compile(r"\s+")
# Words a greeting addresses that are no person's name.
_GENERIC: Final = frozenset(
    [
        "there",
        "team",
        "all",
        "everyone",
        "everybody",
        "folks",
        "friend",
        "friends",
        "sir",
        "madam",
        "colleague",
        "colleagues",
        "again",
        "both",
        "you",
        "yall",
        "y'all",
        "guys",
        "hiring",
        "partner",
        "partners",
        "ladies",
        "gentlemen",
        "the",
        "and",
        "from",
        "to",
        "future",
        "fellow",
        "neighbour",
        "neighbor",
    ]
)
_TITLES: Final = frozenset(
    ["mr", "mrs", "ms", "miss", "mx", "dr", "prof", "professor", "sir", "dame"]
)


@lru_cache(maxsize=65536)
def greeted_names(line: str) -> tuple[str, ...] | None:
    """The name a greeting line addresses, as words, or None if it addresses no one by name.

    "Hi Ann," -> ``("Ann",)``; "Dear Dr. Ann Lee" -> ``("Ann", "Lee")``;
    "Dear Ms. Lee" -> ``("", "Lee")`` (a title and a last name: no first name given);
    "Hi there", "Hello team", "Hello, hope you are well" -> None. Names must be
    capitalised (unless the whole line is lower case) and end the greeting (a comma,
    a dash, an exclamation mark, the end of the line).
    """
    salutation = _SALUTATION.match(line)
    words = None if salutation is None else _name_words(line, salutation.end())
    if not words:
        return None
    keys = [w.casefold() for w in words]
    if any(k in _GENERIC for k in keys):
        return None
    if keys[0] in _TITLES:
        return ("", *words[2:]) if len(words) == 2 else tuple(words[1:])
    return tuple(words)


def _name_words(line: str, position: int) -> list[str] | None:
    """The capitalised words from ``position`` to where the greeting's name ends, if it does."""
    lower_case_line = line == line.lower()
    words: list[str] = []
    for _ in range(4):
        token = _TOKEN.match(line, position)
        if token is None or not (lower_case_line or token.group(0)[0].isupper()):
            return None
        words.append(token.group(0).rstrip(".-'\u2019"))
        position = token.end()
        if _TERMINATOR.match(line, position):
            return words
        gap = _SPACES.match(line, position)
        if gap is None:
            return None
        position = gap.end()
    return None


def greets(greeted: tuple[str, ...], first_name: str) -> bool:
    """Whether a greeting of ``greeted`` (from :func:`greeted_names`) suits ``first_name``.

    Case, accents and punctuation do not matter; a short form of the name is fine
    ("Alex" for "Alexander", "Anne" for "Anne-Marie", "Mary" for "Mary Jane"), and so is
    the longer form or any part of a name of several parts.
    """
    wanted = name_key(first_name)
    said = name_key(greeted[0])
    if not wanted or not greeted[0]:
        return True
    if said == wanted or name_key("".join(greeted)) == wanted:
        return True
    if (len(said) >= 2 and wanted.startswith(said)) or (
        len(wanted) >= 2 and said.startswith(wanted)
    ):
        return True
    parts = {name_key(p) for p in re.split(r"[\s\-]+", first_name)}
    return said in parts


_LEGAL_FORMS: Final = (
    "inc incorporated llc ltd limited gmbh corp corporation co plc sa ag bv nv sas sarl pty "
    "pte oy ab srl spa kk llp lp group holding holdings"
)
_LEGAL_WORDS: Final = frozenset(_LEGAL_FORMS.split())
_LEGAL: Final = re.compile(
    r"(?:[\s,]+(?:" + "|".join(_LEGAL_FORMS.split()) + r"|s\.a|b\.v|n\.v|l\.l\.c|s\.p\.a)\.?)+$",
    re.IGNORECASE,
)


def company_core(name: str) -> str:
    """A company name without its legal form: ``"Acme Corp."`` -> ``"Acme"``."""
    name = name.strip()
    words = name.rsplit(None, 1)
    if len(words) < 2 or words[-1].replace(".", "").lower() not in _LEGAL_WORDS:
        return name
    return _LEGAL.sub("", name).strip(" ,.") or name


_SECOND_LEVEL: Final = frozenset(("co", "com", "org", "net", "ac", "gov", "edu", "ltd", "plc"))
_SCHEME: Final = re.compile(r"^[a-z][a-z0-9+.\-]*://")


def domain_stem(domain: str) -> str | None:
    """The name part of a web domain: ``"https://www.acme.co.uk/x"`` -> ``"acme"``."""
    host = domain.strip().lower()
    if "/" in host or ":" in host or "?" in host or "@" in host:
        host = _SCHEME.sub("", host)
        host = host.split("/", 1)[0].split("?", 1)[0].split("@")[-1].split(":", 1)[0]
    labels = [label for label in host.split(".") if label]
    if labels and labels[0] == "www":
        labels = labels[1:]
    if len(labels) < 2:
        return None
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return labels[-3]
    return labels[-2]


def mentions(text: str, needle: str) -> bool:
    """Whether ``needle`` occurs in ``text`` as a whole word ("Ann" is not in "annual")."""
    start = text.find(needle)
    size = len(needle)
    while start >= 0:
        end = start + size
        if (start == 0 or not text[start - 1].isalnum()) and (
            end == len(text) or not text[end].isalnum()
        ):
            return True
        start = text.find(needle, start + 1)
    return False


def quote(text: str, limit: int = 40) -> str:
    """``text`` quoted for a message: single-line, at most ``limit`` characters."""
    flat = " ".join(text.split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return repr(flat)
