"""Read a labelled CSV or JSONL file and score the triager on it (`seva eval`)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from sevadesk.triage.base import Triager
from sevadesk.triage.evaluation import render, report

_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f"}


class LabelledFileError(ValueError):
    """The file cannot be read as labelled examples; the message names the line."""


def read_labelled(path: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    if path.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        with path.open(encoding="utf-8") as fh:
            for number, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise LabelledFileError(f"{path}:{number}: not JSON ({exc.msg})") from None
                if not isinstance(row, dict) or not isinstance(row.get("text"), str):
                    raise LabelledFileError(
                        f"{path}:{number}: expected an object with a 'text' string"
                    )
                rows.append(row | {"_line": number})
    else:
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or "text" not in reader.fieldnames:
                raise LabelledFileError(f"{path}:1: the header needs a 'text' column")
            for number, row in enumerate(reader, start=2):
                rows.append(dict(row) | {"_line": number})
    if not rows:
        raise LabelledFileError(f"{path}: no examples")
    return rows


def _flag(value: Any, name: str, where: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise LabelledFileError(f"{where}: {name} must be true/false or 1/0, got {value!r}")


def evaluate_file(path: Path, triager: Triager, addressed: bool = False) -> str:
    """`addressed`: whether a text was sent to the agency itself, for rows whose optional
    `addressed` column or field is empty (see `seva triage`). Every label is read, and a bad
    one reported with its line, before anything is triaged."""
    rows = read_labelled(path)

    def flag(r: dict[str, Any], name: str, default: bool | None) -> bool | None:
        value = r.get(name)
        return default if value in (None, "") else _flag(value, name, f"{path}:{r['_line']}")

    flags = [bool(flag(r, "addressed", addressed)) for r in rows]
    gold = [flag(r, "actionable", None) for r in rows]
    fields = [
        f for f in ("kind", "urgency", "category") if any(r.get(f) not in (None, "") for r in rows)
    ]
    if all(g is None for g in gold) and not fields:
        raise LabelledFileError(f"{path}: no label columns (actionable, kind, urgency or category)")
    results = triager.triage_batch([r["text"] for r in rows], flags)
    # (gold, predicted, language) for the rows labelled actionable or not
    scored = [
        (
            "actionable" if g else "not",
            "actionable" if res.actionable else "not",
            res.language,
        )
        for g, res in zip(gold, results, strict=True)
        if g is not None
    ]
    sections = []
    if scored:
        sections.append(
            render(
                "actionable",
                report([g for g, _, _ in scored], [p for _, p, _ in scored], ["actionable", "not"]),
            )
        )
    for field in fields:
        pairs = [
            (str(r[field]), str(getattr(res, field)))
            for r, res in zip(rows, results, strict=True)
            if r.get(field) not in (None, "")
        ]
        sections.append(render(field, report([g for g, _ in pairs], [p for _, p in pairs])))
    langs: dict[str, list[tuple[str, str]]] = {}
    for g, p, language in scored:
        langs.setdefault(language, []).append((g, p))
    for lang in sorted(langs):
        if lang in ("en", "hi", "hi-Latn"):
            pairs = langs[lang]
            rep = report([g for g, _ in pairs], [p for _, p in pairs], ["actionable", "not"])
            a = rep.per_class["actionable"]
            sections.append(
                f"actionable, language {lang}: P {a['precision']:.3f} R {a['recall']:.3f} F1 {a['f1']:.3f} (n={rep.support})"
            )
    if scored and hasattr(triager, "with_actionable_threshold"):
        sections.append(threshold_table(triager, rows, gold, flags))
    return f"model {triager.version} on {path} ({len(rows)} examples)\n\n" + "\n\n".join(sections)


THRESHOLDS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


def threshold_table(
    triager: Any,
    rows: list[dict[str, Any]],
    gold: list[bool | None],
    flags: list[bool],
    thresholds: tuple[float, ...] = THRESHOLDS,
) -> str:
    """Actionable precision and recall at each line (an organisation's
    `triage.actionable_threshold`), per value of the file's `source` column, if it has one."""
    labelled = [i for i, g in enumerate(gold) if g is not None]
    groups: dict[str, list[int]] = {}
    for i in labelled:
        groups.setdefault(str(rows[i].get("source") or "all"), []).append(i)
    texts = [rows[i]["text"] for i in labelled]
    predicted: dict[float, dict[int, bool]] = {}
    for line in thresholds:
        results = triager.with_actionable_threshold(line).triage_batch(
            texts, [flags[i] for i in labelled]
        )
        predicted[line] = {i: r.actionable for i, r in zip(labelled, results, strict=True)}
    default = getattr(triager, "actionable_threshold", None)
    out = [
        "actionable precision/recall by threshold",
        f"(triage.actionable_threshold in the org file; this model's default {default}):",
        f"{'source':20}" + "".join(f"{t:>12.2f}" for t in thresholds) + "       n",
    ]
    for name, idx in sorted(groups.items()):
        cells = []
        for line in thresholds:
            tp = sum(1 for i in idx if gold[i] and predicted[line][i])
            fp = sum(1 for i in idx if not gold[i] and predicted[line][i])
            fn = sum(1 for i in idx if gold[i] and not predicted[line][i])
            cells.append(f"{tp / max(tp + fp, 1):>7.2f}/{tp / max(tp + fn, 1):.2f}")
        out.append(f"{name:20}" + "".join(cells) + f"{len(idx):>8}")
    return "\n".join(out)
