"""Precision, recall, F1 per class, macro-F1 and a confusion matrix."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass
class Report:
    labels: list[str]
    per_class: dict[str, dict[str, float]]
    macro_f1: float
    accuracy: float
    confusion: dict[str, dict[str, int]]
    support: int

    def as_dict(self) -> dict[str, object]:
        return {
            "per_class": self.per_class,
            "macro_f1": self.macro_f1,
            "accuracy": self.accuracy,
            "confusion": self.confusion,
            "support": self.support,
        }


def report(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str] | None = None) -> Report:
    names = list(labels) if labels else sorted(set(gold) | set(pred))
    pairs = Counter(zip(gold, pred, strict=True))
    per_class: dict[str, dict[str, float]] = {}
    for name in names:
        tp = pairs[(name, name)]
        fp = sum(n for (g, p), n in pairs.items() if p == name and g != name)
        fn = sum(n for (g, p), n in pairs.items() if g == name and p != name)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[name] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": tp + fn,
        }
    present = [n for n in names if per_class[n]["support"] > 0]
    macro = sum(per_class[n]["f1"] for n in present) / len(present) if present else 0.0
    correct = sum(n for (g, p), n in pairs.items() if g == p)
    confusion = {g: {p: pairs[(g, p)] for p in names} for g in names}
    return Report(
        names,
        per_class,
        round(macro, 4),
        round(correct / max(len(gold), 1), 4),
        confusion,
        len(gold),
    )


def render(title: str, rep: Report) -> str:
    width = max(len(n) for n in rep.labels) + 2
    lines = [f"{title} (n={rep.support}, accuracy {rep.accuracy:.3f}, macro-F1 {rep.macro_f1:.3f})"]
    lines.append(f"{'':{width}}precision  recall      f1  support")
    for name in rep.labels:
        c = rep.per_class[name]
        lines.append(
            f"{name:{width}}{c['precision']:9.3f}{c['recall']:8.3f}{c['f1']:8.3f}{int(c['support']):9d}"
        )
    lines.append("confusion (rows gold, columns predicted):")
    # Each column as wide as its label ("actionable", "refund_ticketing"), never truncated.
    cols = [max(len(n), 6) + 2 for n in rep.labels]
    lines.append(" " * width + "".join(f"{n:>{w}}" for n, w in zip(rep.labels, cols, strict=True)))
    for g in rep.labels:
        counts = (rep.confusion[g][p] for p in rep.labels)
        lines.append(
            f"{g:{width}}" + "".join(f"{n:>{w}}" for n, w in zip(counts, cols, strict=True))
        )
    return "\n".join(lines)
