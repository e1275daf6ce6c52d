"""Filtered-stream rules derived from the organisation: each unit's handles and hashtags.

Rules are packed into as few as fit X's per-rule length limit (512 characters on Basic,
1,024 on Pro), tagged so the desk only ever deletes rules it made. Retweets are excluded:
they cost quota and add no new complaint (the parser folds any that arrive anyway).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, select

from sevadesk.channels.x.client import XClient
from sevadesk.store import tables as t

TAG = "sevadesk"
_SUFFIX = " -is:retweet"


@dataclass(frozen=True, slots=True)
class RuleChange:
    added: list[str]
    deleted: list[str]


def org_terms(conn: Connection) -> list[str]:
    """`@handle` and `#hashtag` for every unit, sorted and without repeats."""
    handles = {f"@{h}" for (h,) in conn.execute(select(t.unit_handles.c.handle))}
    tags = {f"#{h}" for (h,) in conn.execute(select(t.unit_hashtags.c.hashtag))}
    return sorted({term.lower(): term for term in handles | tags}.values(), key=str.lower)


def pack_rules(terms: Iterable[str], max_length: int) -> list[str]:
    """OR-joined groups, each `(a OR b …) -is:retweet` within `max_length` characters."""
    rules: list[str] = []
    current: list[str] = []
    for term in terms:
        candidate = [*current, term]
        if current and len(f"({' OR '.join(candidate)}){_SUFFIX}") > max_length:
            rules.append(f"({' OR '.join(current)}){_SUFFIX}")
            current = [term]
        else:
            current = candidate
    if current:
        rules.append(f"({' OR '.join(current)}){_SUFFIX}")
    return rules


def sync_rules(client: XClient, wanted: list[str]) -> RuleChange:
    """Make the stream's rules tagged `sevadesk` exactly `wanted`; others are left alone."""
    existing = [r for r in client.stream_rules() if r.get("tag") == TAG]
    have = {r["value"]: r["id"] for r in existing if "value" in r and "id" in r}
    add = [v for v in wanted if v not in have]
    delete = [rid for value, rid in have.items() if value not in wanted]
    client.change_rules([{"value": v, "tag": TAG} for v in add], delete)
    return RuleChange(add, [v for v, rid in have.items() if rid in delete])
