"""Why a post would go where it goes: triage, places found, and the routing decision."""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sevadesk.domain import post_text
from sevadesk.domain.messages import InboundMessage, RouteDecision, TriageResult
from sevadesk.routing.router import Router
from sevadesk.triage.base import Triager
from sevadesk.triage.places import Location, gazetteer


@dataclass
class Explanation:
    triage: TriageResult
    location: Location
    decision: RouteDecision


def message_for(text: str) -> InboundMessage:
    return InboundMessage(
        channel="x",
        external_id="0",
        author_id="0",
        text=text,
        created_at=datetime.now(UTC),
        mentions=post_text.mentions(text),
        hashtags=post_text.hashtags(text),
    )


def explain(router: Router, triager: Triager, text: str) -> Explanation:
    result = triager.triage_batch([text])[0]
    msg = message_for(text)
    _unit, decision = router.route(msg, result)
    return Explanation(result, gazetteer().resolve(text, result.entities), decision)


class RoutingFileError(ValueError):
    """The labelled routing file cannot be read; the message names the line."""


def evaluate_routing(router: Router, triager: Triager, path: Path) -> tuple[float, int, list[str]]:
    """Accuracy of the unit chosen for each `text` against `expected_unit`; returns
    (accuracy, examples, one line per miss)."""
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or not {"text", "expected_unit"} <= set(reader.fieldnames):
            raise RoutingFileError(f"{path}:1: the header needs 'text' and 'expected_unit'")
        rows = [(n, r["text"], r["expected_unit"].strip()) for n, r in enumerate(reader, start=2)]
    if not rows:
        raise RoutingFileError(f"{path}: no examples")
    known = {u.code for u in router.units.values()}
    for number, _, expected in rows:
        if expected not in known:
            raise RoutingFileError(f"{path}:{number}: unknown unit {expected!r}")
    results = triager.triage_batch([text for _, text, _ in rows])
    misses: list[str] = []
    reasons: Counter[str] = Counter()
    for (number, text, expected), result in zip(rows, results, strict=True):
        _unit, decision = router.route(message_for(text), result)
        reasons[decision.reason] += 1
        if decision.unit_code != expected:
            misses.append(
                f"{path}:{number}: expected {expected}, got {decision.unit_code} ({decision.reason}: {decision.detail})"
            )
    correct = len(rows) - len(misses)
    return correct / len(rows), len(rows), misses
