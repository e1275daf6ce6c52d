"""`seva triage`: JSONL in, JSONL out, in input order, using every core.

Input lines are `{"id": ..., "text": ...}`, optionally with `"addressed": true` for a text
sent to the agency itself (a direct message, a form, a post whose handles an export removed):
the model reads it as a public post that mentions the agency's handle, as the pipeline does
for WhatsApp messages. `addressed` is false by default (a public post says whom it addresses
by its handles); `seva triage --addressed` makes it true for every line that does not say.
Each output line is `{"id", "language", "actionable", "score", "kind", "category", "urgency",
"entities", "masked_text"}`. A line that cannot be read yields `{"id": null, "error": "..."}`
(with the id when it could be read) and the run goes on; so does a line that triage fails on
(a bug), with its error.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from itertools import islice
from typing import Any

import orjson

from sevadesk.domain.messages import TriageResult
from sevadesk.triage.base import Triager, triage_each
from sevadesk.triage.rules import TriageConfig

CHUNK = 2000
_triager: Triager | None = None
_triager_config: TriageConfig | None = None


def result_json(ident: Any, result: TriageResult) -> dict[str, Any]:
    return {
        "id": ident,
        "language": result.language,
        "actionable": result.actionable,
        "score": result.score,
        "kind": result.kind,
        "category": result.category,
        "urgency": result.urgency,
        "entities": [
            {"kind": e.kind, "value": e.value, "start": e.start, "end": e.end}
            for e in result.entities
        ],
        "masked_text": result.masked_text,
    }


def triage_lines(lines: list[bytes], triager: Triager, addressed: bool = False) -> bytes:
    """One chunk: parse, triage the good lines in one batch, keep every line's place.
    `addressed`: the default for lines without an "addressed" field."""
    parsed: list[tuple[Any, str, bool] | dict[str, Any]] = []
    for raw in lines:
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            parsed.append({"id": None, "error": f"not JSON: {exc}"})
            continue
        if not isinstance(obj, dict):
            parsed.append({"id": None, "error": "expected an object with id and text"})
        elif not isinstance(obj.get("text"), str):
            parsed.append({"id": obj.get("id"), "error": "missing or non-string 'text'"})
        elif not isinstance(flag := obj.get("addressed", addressed), bool):
            parsed.append({"id": obj.get("id"), "error": "'addressed' must be true or false"})
        else:
            parsed.append((obj.get("id"), obj["text"], flag))
    good = [p for p in parsed if isinstance(p, tuple)]
    results = iter(
        triage_each(triager, [text for _, text, _ in good], [flag for _, _, flag in good])
    )
    out = []
    for p in parsed:
        if isinstance(p, tuple):
            result = next(results)
            row = (
                {"id": p[0], "error": f"triage failed: {type(result).__name__}: {result}"}
                if isinstance(result, Exception)
                else result_json(p[0], result)
            )
        else:
            row = p
        out.append(orjson.dumps(row))
    return b"\n".join(out) + b"\n" if out else b""


def _init(config: TriageConfig | None) -> None:
    """Build this process's triager, unless it was built before the fork."""
    global _triager, _triager_config
    if _triager is not None and _triager_config == config:
        return
    from sevadesk.triage.default import default_triager

    _triager, _triager_config = default_triager(config), config
    # Load what the first posts would otherwise load (lingua's Hindi and Marathi models).
    _triager.triage_batch(["ट्रेन में पानी नहीं है, कृपया मदद करें", "coach B4 has no water"])


def _work(lines: list[bytes], addressed: bool) -> bytes:
    assert _triager is not None
    return triage_lines(lines, _triager, addressed)


def _chunks(lines: Iterable[bytes]) -> Iterator[list[bytes]]:
    it = (line for line in lines if line.strip())
    while chunk := list(islice(it, CHUNK)):
        yield chunk


def triage_stream(
    lines: Iterable[bytes],
    workers: int | None = None,
    config: TriageConfig | None = None,
    addressed: bool = False,
) -> Iterator[bytes]:
    """Output chunks in input order; `workers=1` runs in this process. `addressed`: the
    default for lines without an "addressed" field (see the module docstring)."""
    workers = workers or os.cpu_count() or 1
    if workers == 1:
        _init(config)
        for chunk in _chunks(lines):
            yield _work(chunk, addressed)
        return
    # The triager and its place reference data (130,000 rows) are built once here and
    # shared by the forked workers, which start at once instead of each loading them.
    # Objects that exist before the fork are never collected in the children, so their
    # pages are not copied by the garbage collector touching them (copy-on-write).
    _init(config)
    gc.freeze()
    with ProcessPoolExecutor(max_workers=workers, initializer=_init, initargs=(config,)) as pool:
        # map() keeps order; a bounded window of chunks keeps memory flat on huge inputs.
        pending: list[Any] = []
        for chunk in _chunks(lines):
            pending.append(pool.submit(_work, chunk, addressed))
            if len(pending) >= workers * 2:
                yield pending.pop(0).result()
        for future in pending:
            yield future.result()
