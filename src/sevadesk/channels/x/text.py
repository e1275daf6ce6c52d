"""Fitting a reply into one post: X counts weighted characters (twitter-text rules: CJK
weighs 2, every URL 23), so Python's len() is the wrong measure. The count itself is
`sevadesk.domain.post_text`'s, the desk's one reader of post text."""

from __future__ import annotations

from sevadesk.domain.post_text import MAX_WEIGHTED, fits, weighted_length

__all__ = [
    "MAX_WEIGHTED",
    "fit_reply",
    "fits",
    "shorten_with_link",
    "split_thread",
    "weighted_length",
]


def _words(text: str) -> list[str]:
    return text.split()


def shorten_with_link(body: str, status_url: str) -> str:
    """The longest whole-word prefix of `body` that fits with '… <status_url>' after it."""
    if fits(body):
        return body
    words = _words(body)
    lo, hi = 0, len(words)
    while lo < hi:  # binary search on the number of words kept
        mid = (lo + hi + 1) // 2
        if fits(" ".join(words[:mid]) + "… " + status_url):
            lo = mid
        else:
            hi = mid - 1
    if lo == 0:
        return status_url
    return " ".join(words[:lo]) + "… " + status_url


def split_thread(body: str) -> list[str]:
    """Split into numbered posts ("… (1/3)") that each fit, breaking between words."""
    if fits(body):
        return [body]
    words = _words(body)
    total = 2
    while True:
        parts: list[str] = []
        current: list[str] = []
        for word in words:
            candidate = " ".join([*current, word])
            if current and not fits(f"{candidate} ({len(parts) + 1}/{total})"):
                parts.append(" ".join(current))
                current = [word]
            else:
                current.append(word)
        if current:
            parts.append(" ".join(current))
        if len(parts) <= total:
            return [f"{p} ({i}/{len(parts)})" for i, p in enumerate(parts, 1)]
        total = len(parts)


def fit_reply(body: str, status_url: str, mode: str) -> list[str]:
    """The posts to send for `body`: one when it fits; else shortened to a link to the
    public ticket status (`mode="link"`) or split into a numbered thread (`mode="split"`)."""
    if fits(body):
        return [body]
    if mode == "split":
        return split_thread(body)
    return [shorten_with_link(body, status_url)]
