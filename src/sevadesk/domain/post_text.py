"""What X reads in a post's text: mentions, hashtags, links and the weighted length.

One implementation for the whole desk, written to twitter-text's rules (the reference
library X's own clients use; the conformance suite in ../shared/data/twitter-text-conformance
is run against it in tests/domain/test_post_text.py). Links and the weighted length come from
the kept `twitter-text-parser` package, a port of twitter-text 3; it has no mention or hashtag
extraction, so those are ported here from twitter-text's JavaScript rules: a hashtag is any
run of Unicode letters, marks, decimal digits and a few joiners (so `#स्वच्छभारत` stays whole,
its vowel signs are marks) with at least one letter or mark; a mention may follow "RT"
(`RT@user`), never a letter, digit or `@`. Indices are in code points, as the suite expects.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from twitter_text import extract_urls_with_indices as _urls_with_indices  # type: ignore[import-untyped]
from twitter_text import parse_tweet as _parse_tweet
from twitter_text.config import config as _tt_config  # type: ignore[import-untyped]
from twitter_text.regexp.latin_accent_chars import (  # type: ignore[import-untyped]
    latin_accent_chars as _latin_accent_chars,
)
from twitter_text.regexp.spaces_group import spaces_group as _spaces  # type: ignore[import-untyped]

# X's limit for a post, in weighted characters (twitter-text configuration version 3).
MAX_WEIGHTED = 280

_AT_SIGNS = "@\uff20"
_HASH_SIGNS = "#\uff03"
# Characters a hashtag may hold besides letters, marks and digits (twitter-text's
# hashtagSpecialChars: underscore, zero-width (non-)joiner, Hebrew, Japanese and Tibetan marks).
_HASHTAG_SPECIAL = "_\u200c\u200d\ua67e\u05be\u05f3\u05f4\uff5e\u301c\u309b\u309c\u30a0\u30fb\u3003\u0f0b\u0f0c\u00b7"


@dataclass(frozen=True, slots=True)
class Mention:
    screen_name: str
    start: int
    end: int
    list_slug: str = ""


@dataclass(frozen=True, slots=True)
class Hashtag:
    tag: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Link:
    url: str
    start: int
    end: int


# Where letters, marks and digits can be: planes 0-3, and plane 14's variation selectors
# (marks). Planes 4-13 hold nothing assigned and 15-16 only private use, so they are not scanned.
_SCANNED = (range(0x40000), range(0xE0000, 0xE1000))


def _ranges(accept: frozenset[str]) -> str:
    """A character class body for every code point whose Unicode category is in `accept`."""
    out: list[str] = []
    for block in _SCANNED:
        start = -1
        for cp in [*block, -1]:
            inside = cp >= 0 and unicodedata.category(chr(cp)) in accept
            if inside and start < 0:
                start = cp
            elif not inside and start >= 0:
                end = (cp if cp >= 0 else block.stop) - 1
                out.append(
                    re.escape(chr(start)) + ("" if end == start else "-" + re.escape(chr(end)))
                )
                start = -1
    return "".join(out)


@cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """Built on first use: scanning Unicode's categories takes a tenth of a second."""
    letters_marks = _ranges(frozenset({"Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me"}))
    digits = _ranges(frozenset({"Nd"}))
    alpha = f"[{letters_marks}]"
    alnum = f"[{letters_marks}{digits}{re.escape(_HASHTAG_SPECIAL)}]"
    hashtag = re.compile(
        # Boundary: start, end, an emoji variation selector, or one character that could not
        # continue a hashtag (nor "&", so "&#39;" is no hashtag).
        rf"(?P<before>^|\ufe0e|\ufe0f|$|(?!{alnum}|&).)"
        rf"[{_HASH_SIGNS}](?!\ufe0f|\u20e3)"
        rf"(?P<tag>{alnum}*{alpha}{alnum}*)",
        re.DOTALL,
    )
    accents = _latin_accent_chars.pattern
    mention = re.compile(
        r"(?P<before>^|[^a-zA-Z0-9_!#$%&*@\uff20]|(?:^|[^a-zA-Z0-9_+~.-])(?:rt|RT|rT|Rt):?)"
        rf"[{_AT_SIGNS}](?P<name>[a-zA-Z0-9_]{{1,20}})(?P<list>/[a-zA-Z][a-zA-Z0-9_\-]{{0,24}})?"
    )
    end_mention = re.compile(rf"[{_AT_SIGNS}{accents}]|://")
    reply = re.compile(rf"[{_spaces}]*[{_AT_SIGNS}](?P<name>[a-zA-Z0-9_]{{1,20}})")
    return hashtag, mention, end_mention, reply


_END_HASHTAG = re.compile(rf"[{_HASH_SIGNS}]|://")


def mentions_or_lists_with_indices(text: str) -> list[Mention]:
    """Every `@name` and `@name/list` in `text`, in order."""
    if not text or not any(sign in text for sign in _AT_SIGNS):
        return []
    _, mention, end_mention, _ = _patterns()
    found: list[Mention] = []
    for m in mention.finditer(text):
        if end_mention.match(text, m.end()):
            continue  # "@a@b", "@user://", "@joséx": not a mention
        start = m.start() + len(m["before"])
        slug = m["list"] or ""
        found.append(Mention(m["name"], start, start + 1 + len(m["name"]) + len(slug), slug))
    return found


def mentions_with_indices(text: str) -> list[Mention]:
    """The `@name` mentions in `text` (a list, `@name/list`, is not a mention)."""
    return [m for m in mentions_or_lists_with_indices(text) if not m.list_slug]


def mentions(text: str) -> tuple[str, ...]:
    """The screen names `text` mentions, as written, in order."""
    return tuple(m.screen_name for m in mentions_with_indices(text))


def reply_to(text: str) -> str | None:
    """The screen name a post opens with (`@user …`), the one it replies to; else None."""
    if not text:
        return None
    *_, end_mention, reply = _patterns()
    m = reply.match(text)
    if m is None or end_mention.match(text, m.end()):
        return None
    return m["name"]


# Every link has a domain, a dot between two characters that are neither space nor dot: a
# post without one has no link, and the full pattern (the slow part of reading a post) is
# not run on it.
_MAY_HOLD_LINK = re.compile(r"[^\s.]\.[^\s.]")


def links_with_indices(text: str) -> list[Link]:
    """Every link X would shorten, with or without a scheme (`example.com`, `t.co/abc`)."""
    if not _MAY_HOLD_LINK.search(text):
        return []
    return [Link(u["url"], *u["indices"]) for u in _urls_with_indices(text)]


def links(text: str) -> tuple[str, ...]:
    return tuple(link.url for link in links_with_indices(text))


def hashtags_with_indices(text: str, *, skip_links: bool = True) -> list[Hashtag]:
    """Every hashtag in `text`; one inside a link (`example.com/#anchor`) is not a hashtag."""
    if not text or not any(sign in text for sign in _HASH_SIGNS):
        return []
    hashtag, *_ = _patterns()
    found: list[Hashtag] = []
    for m in hashtag.finditer(text):
        if _END_HASHTAG.match(text, m.end()):
            continue  # "#a#b", "#tag://x"
        start = m.start() + len(m["before"])
        found.append(Hashtag(m["tag"], start, start + 1 + len(m["tag"])))
    if skip_links and found:
        spans = [(link.start, link.end) for link in links_with_indices(text)]
        if spans:
            found = _without_overlaps(found, spans)
    return found


def _without_overlaps(tags: list[Hashtag], spans: list[tuple[int, int]]) -> list[Hashtag]:
    """twitter-text's rule: sorted by start, an entity that begins before the previous kept
    one ends is dropped; only the hashtags are returned."""
    entities: list[tuple[int, int, Hashtag | None]] = sorted(
        [(t.start, t.end, t) for t in tags] + [(s, e, None) for s, e in spans],
        key=lambda x: x[0],
    )
    kept: list[Hashtag] = []
    prev_end = -1
    for start, end, tag in entities:
        if prev_end > start:
            continue
        prev_end = end
        if tag is not None:
            kept.append(tag)
    return kept


def entity_spans(text: str) -> list[tuple[int, int]]:
    """Where the links, mentions (and lists) and hashtags of `text` are, sorted."""
    spans = [(link.start, link.end) for link in links_with_indices(text)]
    links = list(spans)
    tags = hashtags_with_indices(text, skip_links=False)
    if tags:
        spans += [(h.start, h.end) for h in (_without_overlaps(tags, links) if links else tags)]
    spans += [(m.start, m.end) for m in mentions_or_lists_with_indices(text)]
    return sorted(spans)


def without_entities(text: str) -> str:
    """`text` with every link, mention and hashtag blanked out (for word counts that must not
    see them): `#स्वच्छभारत` goes whole, `help@irctc.co.in` is not read as a handle."""
    out: list[str] = []
    last = 0
    for start, end in entity_spans(text):
        if start < last:
            continue
        out += [text[last:start], " "]
        last = end
    out.append(text[last:])
    return "".join(out)


def hashtags(text: str) -> tuple[str, ...]:
    """The hashtags in `text`, without `#`, as written, in order."""
    return tuple(h.tag for h in hashtags_with_indices(text))


@dataclass(frozen=True, slots=True)
class Weighed:
    """twitter-text's parse result: the weighted length and whether the post fits."""

    weighted_length: int
    valid: bool
    permillage: int
    valid_range: tuple[int, int]
    display_range: tuple[int, int]


def weigh(text: str, version: int = 3) -> Weighed:
    """X's count of `text` (configuration `version` 1, 2 or 3; X counts with 3: CJK and
    other scripts past U+10FF weigh 2, a link 23, an emoji sequence 2)."""
    # The package's version 1 and 2 leave out the emoji switch its parser reads: off there.
    options = {"emoji_parsing_enabled": False, **_tt_config[f"version{version}"]}
    r = _parse_tweet(text, options)
    return Weighed(
        int(r.weightedLength),
        bool(r.valid),
        int(r.permillage),
        (int(r.validRangeStart), int(r.validRangeEnd)),
        (int(r.displayRangeStart), int(r.displayRangeEnd)),
    )


def weighted_length(text: str) -> int:
    return weigh(text).weighted_length


def fits(text: str) -> bool:
    """True when X accepts `text` as one post: not empty, no invalid characters, at most 280."""
    return weigh(text).valid
